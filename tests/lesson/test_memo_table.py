import math

from memograd.lesson import memo_table
from memograd.lesson.network import example
from memograd.viz.report import build_report
from memograd.viz.wellformed import check_report


def rows_by_node(data):
    return {r["node"]: r for r in data["rows"]}


def test_every_entry_stored_once_and_equal_to_the_engine_grad():
    data = memo_table.compute({})
    ex = example()
    n_nodes = len(ex.loss.nodes())
    assert data["nodes"] == data["graph_nodes"] == len(data["rows"]) == n_nodes
    assert data["edges"] == sum(len(v.parents) for v in ex.loss.nodes())
    assert data["stored_once"]
    assert data["max_grad_mismatch"] == 0.0
    assert [r["step"] for r in data["rows"]] == list(range(1, n_nodes + 1))


def test_both_paths_sum_and_reuse_counts():
    data = memo_table.compute({})
    r = rows_by_node(data)
    # o11 feeds z21 and z22: its entry is the sum of two contributions (the notes' both paths)
    o11 = r["o11"]
    assert sorted(c["from"] for c in o11["sum_of"]) == ["z21", "z22"]
    assert math.isclose(sum(c["share"] for c in o11["sum_of"]), o11["adjoint"], rel_tol=1e-12)
    assert o11["paths_from_L"] == 2 and r["o21"]["paths_from_L"] == 1
    assert set(data["summed_entries"]) == {"o11", "o12", "x1", "x2"}
    # a weighted sum's adjoint is reused once per parent (2 weights, 2 inputs, 1 bias)
    assert r["z21"]["reuse"] == 5 and r["o21"]["reuse"] == 1
    # read in reverse topological order: an entry is read only after all its consumers
    for row in data["rows"]:
        for c in row["sum_of"]:
            assert r[c["from"]]["step"] < row["step"]
    # 3 + 6 parameters on one path, 6 first-layer parameters on two: 21 path products
    assert data["path_products_naive"] == 21
    assert data["peak_entries"] == max(row["table_after"] for row in data["rows"])


def test_adjoint_of_w11_1_matches_finite_differences():
    data = memo_table.compute({})
    ex = example()
    w = ex.parameter("w11^1")
    h = 1e-6
    w.data += h
    up = ex.forward().data
    w.data -= 2 * h
    down = ex.forward().data
    fd = (up - down) / (2 * h)
    assert math.isclose(rows_by_node(data)["w11^1"]["adjoint"], fd, rel_tol=1e-6)


def test_render_and_html(capsys):
    from memograd.cli import UI

    data = memo_table.compute({})
    memo_table.render(data, UI(no_color=True))
    out = capsys.readouterr().out
    assert "z₂₂ + z₂₁" in out and "ŷ - y" in out
    info = check_report(build_report([(memo_table.KEY, memo_table.TITLE, memo_table.html(data))]))
    assert len(info["svgs"]) == 1
    assert "{" not in info["text"]  # no unformatted template left in names


def test_operation_counts_match_the_cost_model_and_section_3_hits():
    from memograd.lesson import chain_rule

    data = memo_table.compute({})
    cr = chain_rule.compute({})
    cost = cr["cost"]
    # counted by the trace, checked against memograd.paths.cost on the same graph
    assert data["multiplications"] == data["edges"] == cost["backprop_multiplications"]
    assert data["additions"] == cost["backprop_additions"] == 4
    hits = {h["node"]: h["adjoint"] for h in data["section_3_hits"]}
    for pre in cr["two_paths"]["reused_prefixes"]:
        node = pre["term"].split("∂", 2)[2]  # '∂L/∂o21' -> 'o21'
        assert math.isclose(hits[node], pre["value"], rel_tol=1e-12)


def test_the_gaps_in_the_step_numbers_are_explained_and_the_view_is_named(capsys):
    """Issue 13.6: the table numbers rows by backward step; every step it leaves out is listed
    (a leaf), and the text says that the table counts in the op view while section 3 counts in
    the neuron view (∂L/∂ŷ: 1× here, 5 there)."""
    import re

    from memograd.cli import UI

    data = memo_table.compute()
    memo_table.render(data, UI(no_color=True))
    out = " ".join(capsys.readouterr().out.split())
    shown = {r["step"] for r in data["rows"] if r["op"] != "leaf"}
    listed = {
        int(k) for k in re.findall(r"(\d+) [wbx]", out.split("read in between (")[1].split("):")[0])
    }
    assert shown | listed == set(range(1, len(data["rows"]) + 1)) and not shown & listed
    assert "op-level graph" in out and "neuron view" in out
    ydot = next(r for r in data["rows"] if r["node"] == "yhat")
    assert ydot["reuse"] == 1  # op view: ŷ -> z31 only
