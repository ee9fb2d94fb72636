import json

from memograd import fibonacci as F
from memograd.cli import UI, main
from memograd.lesson import memoization, sections
from memograd.viz.report import build_report
from memograd.viz.wellformed import check_report


def reference(n, a=1, b=1):
    seq = [a, b]
    while len(seq) <= n:
        seq.append(seq[-1] + seq[-2])
    return seq[n]


def test_is_the_first_section_of_the_demo():
    assert sections()[0] is memoization
    assert memoization.KEY == "memoization" and memoization.TITLE


def test_numbers_are_the_notes_and_are_consistent():
    data = memoization.compute({"quick": True})
    json.dumps(data)  # JSON-ready
    assert data["definition"].startswith("Memoization is an optimization technique")
    assert data["base"] == [1, 1]
    nc = data["notes_call"]
    assert nc["value"] == 63_245_986 == reference(38)
    assert (nc["calls"], nc["hits"], nc["misses"]) == (75, 38, 37)
    assert nc["dict_size_after"] == 39  # d holds G(0) .. G(38)
    comp = data["comparison"]
    n = comp["n"]
    assert comp["quick"] and n <= 20
    runs = comp["runs"]
    assert {r["value"] for r in runs.values()} == {reference(n)}
    assert runs["naive"]["calls"] == 2 * reference(n + 1, 0, 1) - 1
    assert runs["dict"]["calls"] == runs["memo"]["calls"] == 2 * n - 1
    assert runs["dict"]["hits"] == n and runs["memo"]["hits"] == n - 2
    n38 = data["naive_38"]
    assert n38["calls_predicted"] == 126_491_971 and n38["memo_calls_counted"] == 75
    assert n38["memo_value"] == 63_245_986
    trees = data["trees"]
    assert trees["naive"]["calls"] == F.naive_calls(trees["n"]) == len(trees["naive"]["lines"])
    assert trees["memo"]["calls"] == 2 * trees["n"] - 1
    assert trees["naive"]["repeats"] == trees["naive"]["calls"] - (trees["n"] + 1)
    plot = data["plot"]
    assert all(c == F.naive_calls(k) for k, c in plot["measured"] + plot["predicted"])
    assert plot["predicted"][-1] == [38, 126_491_971]


def test_naive_n_targets_about_a_second():
    per_call = F.naive_seconds_per_call()
    n = memoization._naive_n_for(1.0)
    # the chosen n is the one whose predicted time is nearest one second
    for other in (n - 1, n + 1):
        assert abs(F.naive_calls(n) * per_call - 1) <= abs(F.naive_calls(other) * per_call - 1)


def test_render_and_html(capsys):
    data = memoization.compute({"quick": True})
    memoization.render(data, UI(no_color=True))
    out = capsys.readouterr().out
    assert "63,245,986" in out and "126,491,971" in out and "predicted" in out
    assert "d = {0: 1, 1: 1}" in out and "↺ repeat" in out and "✓ hit" in out
    frag = memoization.html(data)
    info = check_report(build_report([(memoization.KEY, memoization.TITLE, frag)]))
    assert len(info["svgs"]) == 1  # the plot, inline
    text = info["text"]
    assert "63,245,986" in text and "126,491,971" in text and "predicted" in text
    assert text.count("↺ repeat") == data["trees"]["naive"]["repeats"]
    assert text.count("✓ hit") == data["trees"]["memo"]["hits"]


def test_html_survives_a_plot_failure(monkeypatch):
    data = memoization.compute({"quick": True})

    def broken(_):
        raise RuntimeError("no plotting today")

    monkeypatch.setattr(memoization, "_plot_svg", broken)
    frag = memoization.html(data)
    assert "plot unavailable" in frag and "63,245,986" in frag


def test_inside_the_demo_json(capsys):
    assert main(["demo", "--quick", "--json", "--only", "memoization"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["memoization"]["notes_call"]["value"] == 63_245_986
