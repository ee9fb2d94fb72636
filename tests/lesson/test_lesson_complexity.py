from memograd.lesson import complexity
from memograd.viz.report import build_report
from memograd.viz.wellformed import check_report


def test_counts_follow_the_closed_forms_for_width_2():
    data = complexity.compute({"quick": True})
    rows = data["rows"]
    assert [r["depth"] for r in rows] == list(range(1, 11))
    for r in rows:
        d = r["depth"]
        assert r["parameters"] == 6 * d + 3  # 2d neurons of (2+1) = 3, plus the output's 3
        assert r["paths_to_w11^1"] == 2 ** (d - 1)  # two choices per layer after the first
        assert r["backprop_multiplications"] == r["edges"]  # one multiply per edge
        assert r["naive"] > r["backprop"] or d == 1
    # memoized backprop: linear in edges; enumeration: ratio doubles with each layer
    assert data["backprop_ops_per_edge"][1] < 1.2
    ratios = [r["ratio"] for r in rows]
    assert all(b > 1.8 * a for a, b in zip(ratios[3:], ratios[4:]))


def test_enumerated_paths_sum_to_backprop_where_timed():
    data = complexity.compute({"quick": True})
    timed = [r for r in data["rows"] if r["enumerate_seconds"] is not None]
    assert len(timed) >= 4
    for r in timed:
        assert r["max_difference"] < 1e-12


def test_html_has_two_charts_and_the_numbers():
    data = complexity.compute({"quick": True})
    info = check_report(build_report([(complexity.KEY, complexity.TITLE, complexity.html(data))]))
    assert len(info["svgs"]) == 2
    assert "135,105" in info["text"]  # naive ops at depth 10, as in the table
