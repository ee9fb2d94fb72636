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


def test_rows_are_the_complexity_commands_rows():
    """One source for the counts: the section adds timings to `memograd complexity`'s rows."""
    from memograd.cli.complexity import measure

    data = complexity.compute({"quick": True})
    timing = ("enumerate_seconds", "backprop_seconds", "max_difference")
    counted = [{k: v for k, v in r.items() if k not in timing} for r in data["rows"]]
    assert counted == measure(2, list(range(1, 11)))


def test_terminal_table_fits_80_columns_without_cutting_a_number():
    import io

    from memograd.cli import UI

    data = complexity.compute({"quick": True})
    buf = io.StringIO()
    ui = UI(no_color=True, stdout=buf)
    ui.console.width = 80
    complexity.render(data, ui)
    out = buf.getvalue()
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    for r in data["rows"]:
        assert complexity.ratio_text(r["ratio"]) in out
        if r["enumerate_seconds"] is not None:
            assert f"{r['enumerate_seconds'] * 1e3:.1f}" in out
