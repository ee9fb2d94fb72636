"""paths / count_paths / explain / cost: against backprop, finite differences and closed forms."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memograd import MemogradValueError, Value
from memograd.gradcheck import numerical_gradient
from memograd.paths import Explanation, cost, count_paths, explain, find, paths
from memograd.scalar.nn import notes_network


@pytest.fixture(scope="module")
def ex():
    return notes_network(seed=0)


def fd(ex, name):
    p = ex.parameter(name)
    old = p.data

    def fun(x):
        p.data = float(x[0])
        try:
            return notes_network(
                weights=ex.model.weights(), inputs=[x.data for x in ex.inputs], target=ex.targets
            ).loss.data
        finally:
            p.data = old

    return float(numerical_gradient(fun, [old])[0])


def test_notes_network_paths_neuron_view(ex):
    one = paths(ex.loss, "w11^2", view="neuron")
    assert len(one) == 1
    assert one[0].nodes == ("L", "yhat", "o21", "w11^2")
    assert [f.name for f in one[0].factors] == ["∂L/∂ŷ", "∂ŷ/∂o21", "∂o21/∂w11^2"]
    two = paths(ex.loss, "w11^1", view="neuron")
    assert [p.nodes for p in two] == [
        ("L", "yhat", "o21", "o11", "w11^1"),
        ("L", "yhat", "o22", "o11", "w11^1"),
    ]
    f = two[0].factors
    assert f[2].name == "∂o21/∂o11" and f[2].formula == "σ'(z21)·w11^2"
    o21 = find(ex.loss, "o21")
    s = o21.data
    assert f[2].value == pytest.approx(s * (1 - s) * ex.parameter("w11^2").data, rel=1e-14)
    assert f[0].value == pytest.approx(2 * (ex.output.data - ex.targets[0]), rel=1e-14)


@pytest.mark.parametrize("name", ["w11^1", "w21^1", "b2^1", "w11^2", "w22^2", "b1^3"])
@pytest.mark.parametrize("view", ["neuron", "op"])
def test_path_sum_equals_backprop_equals_finite_differences(ex, name, view):
    e = explain(ex.loss, name, view=view)
    ex.model.zero_grad()
    ex.loss.backward()
    bp = ex.parameter(name).grad
    assert e.backprop == bp
    assert abs(e.path_sum - bp) <= 1e-12 * max(1.0, abs(bp))
    assert e.path_sum == pytest.approx(fd(ex, name), rel=1e-6, abs=1e-10)


def test_counts_in_the_notes_network(ex):
    assert len(ex.model.parameters()) == 15
    counts = {n: count_paths(ex.loss, n, view="neuron") for n in ex.model.named_parameters()}
    assert counts["w11^1"] == counts["b2^1"] == 2
    assert counts["w11^2"] == counts["b1^2"] == 1 == counts["w11^3"]
    for n in counts:
        assert count_paths(ex.loss, n, view="op") == counts[n] == len(paths(ex.loss, n))


def test_factored_form_and_memo_hits(ex):
    e = explain(ex.loss, "w11^1")
    assert e.factored == (
        "∂L/∂ŷ [∂ŷ/∂o21 · ∂o21/∂o11 · ∂o11/∂w11^1 + ∂ŷ/∂o22 · ∂o22/∂o11 · ∂o11/∂w11^1]"
    )
    reused = {r.name: r for r in e.reused}
    assert set(reused) == {"∂L/∂ŷ", "∂L/∂o21", "∂L/∂o22", "∂L/∂o11"}
    assert reused["∂L/∂o21"].users == ("w11^2", "w21^2", "b1^2")
    assert reused["∂L/∂o22"].users == ("w12^2", "w22^2", "b2^2")
    assert reused["∂L/∂o11"].users == ()  # new for layer 1: not a memo hit from layer 2
    # naive enumeration recomputes ∂L/∂o21 once per parameter path through o21:
    # o21's own 3 parameters, and one path to each of the 6 layer-1 parameters
    assert reused["∂L/∂o21"].uses == 3 + 6
    # ŷ: its own 3, 2 x 3 in layer 2, and 2 paths to each of the 6 layer-1 parameters
    assert reused["∂L/∂ŷ"].uses == 3 + 6 + 12
    assert reused["∂L/∂o21"].reads == 5  # backprop reads it once per edge (w, w, o, o, b)
    table = {r.name: r.value for r in e.reused}
    ex.model.zero_grad()
    ex.loss.backward()
    assert table["∂L/∂o21"] == find(ex.loss, "o21").grad
    d = e.to_dict()
    assert d["paths"][0]["factors"][0] == "∂L/∂ŷ" and d["backprop"] == e.backprop
    assert isinstance(e, Explanation) and "path sum" in e.text() and "\\frac" in e.latex()


def test_cost_naive_vs_backprop_closed_form():
    # a chain y = x * 1.5 * 1.5 ... (n ops): one path of n factors
    x = Value(1.0, "x")
    y = x
    for _ in range(10):
        y = y * 1.5
    c = cost(y, [x])
    assert c.paths == 1 and c.naive_multiplications == 9 and c.naive_additions == 0
    assert c.backprop_multiplications == c.edges == 10 and c.backprop_additions == 0
    # x_{k+1} = x_k * x_k: 2^k paths of k factors
    z = x
    for _ in range(12):
        z = z * z
    c = cost(z, [x])
    assert c.paths == 2**12 == count_paths(z, x)
    assert c.naive_multiplications == 2**12 * 11 and c.naive_additions == 2**12 - 1
    assert c.backprop_multiplications == 24 and c.backprop_additions == 12
    assert c.ratio > 1000


def test_cost_grows_with_depth_on_real_networks():
    ratios = []
    for depth in (1, 2, 4, 6):
        ex = notes_network(net=(2, *([2] * depth), 1), seed=1)
        c = cost(ex.loss, ex.model.parameters())
        assert c.parameters == len(ex.model.parameters())
        assert count_paths(ex.loss, "w11^1") == 2 ** (depth - 1)
        ratios.append(c.ratio)
    assert ratios == sorted(ratios) and ratios[-1] > 3 * ratios[0]


def test_repeated_parent_counts_two_paths():
    a = Value(1.0, "a")
    b = a + a
    c = b * b
    assert count_paths(c, a) == 4
    ps = paths(c, a)
    assert math.fsum(p.product for p in ps) == 8.0  # d/da (2a)^2 = 8a


def test_errors():
    x = Value(1.0, "x")
    y = (x * 2).exp()
    y.name = "y"
    with pytest.raises(MemogradValueError, match="unknown name 'w'.*valid names: x"):
        paths(y, "w")
    with pytest.raises(MemogradValueError, match="unknown view"):
        paths(y, x, view="layer")
    z = Value(2.0, "z")
    assert paths(y, z) == [] and count_paths(y, z) == 0
    e = explain(y, z)
    assert e.count == 0 and e.path_sum == 0.0 and e.backprop == 0.0
    w = x
    for _ in range(20):
        w = w * w
    with pytest.raises(MemogradValueError, match="exceed max_paths"):
        paths(w, x, max_paths=1000)
    assert count_paths(w, x) == 2**20


# --- random expression graphs --------------------------------------------------------------

UNARY = ["exp", "tanh", "sigmoid", "sin", "cos", "neg", "sq", "softlog"]
BINARY = ["add", "sub", "mul", "div", "pow"]


@st.composite
def programs(draw):
    n_inputs = draw(st.integers(1, 3))
    steps = draw(
        st.lists(
            st.tuples(
                st.sampled_from(UNARY + BINARY),
                st.integers(0, 1000),
                st.integers(0, 1000),
                st.floats(0.5, 1.5),
            ),
            min_size=1,
            max_size=12,
        )
    )
    xs = draw(st.lists(st.floats(0.2, 1.2), min_size=n_inputs, max_size=n_inputs))
    return xs, steps


def run(program, xs):
    _, steps = program
    nodes = list(xs)  # every node can be reused later: shared subexpressions
    for op, i, j, c in steps:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        if op == "exp":
            v = (a * 0.3).exp()
        elif op == "tanh":
            v = a.tanh()
        elif op == "sigmoid":
            v = a.sigmoid()
        elif op == "sin":
            v = a.sin()
        elif op == "cos":
            v = a.cos()
        elif op == "neg":
            v = -a
        elif op == "sq":
            v = a * a
        elif op == "softlog":
            v = (a * a + 1.0).log()
        elif op == "add":
            v = a + b
        elif op == "sub":
            v = c - a + b
        elif op == "mul":
            v = a * b
        elif op == "div":
            v = a / (b * b + 1.0)
        else:
            v = (a * a + 0.5) ** (c * 0.5) if i % 2 else (b * b + 0.5) ** (a.tanh())
        nodes.append(v)
    total = nodes[-1]
    for extra in nodes[-3:-1]:
        total = total + extra * 0.5
    return total


@settings(max_examples=60, deadline=None)
@given(programs())
def test_random_graphs_backprop_path_sum_finite_differences_agree(program):
    xs0 = program[0]
    xs = [Value(v, f"x{i}") for i, v in enumerate(xs0, 1)]
    out = run(program, xs)
    out.backward()
    num = numerical_gradient(lambda arr: run(program, [Value(float(v)) for v in arr]).data, xs0)
    for k, x in enumerate(xs):
        n = count_paths(out, x)
        if n > 5000:
            continue
        ps = paths(out, x)
        assert len(ps) == n
        total = math.fsum(p.product for p in ps)
        scale = max(1.0, abs(x.grad))
        assert abs(total - x.grad) <= 1e-12 * scale * max(1, n)
        assert x.grad == pytest.approx(num[k], rel=1e-5, abs=1e-6)
        e = explain(out, x, view="op")
        assert e.backprop == x.grad and e.count == n


def test_public_names_work_after_importing_the_submodule():
    import subprocess
    import sys

    code = (
        "import memograd.paths, memograd.gradcheck\n"
        "import memograd as mg\n"
        "x = mg.Value(2.0, 'x'); y = x * x\n"
        "assert len(mg.paths(y, x)) == 2 and mg.count_paths(y, 'x') == 2\n"
        "assert mg.explain(y, x).backprop == 4.0\n"
        "assert mg.gradcheck(lambda a: a * a, [3.0]).ok\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_latex_writes_the_notes_names_and_formulas():
    from memograd.paths.tex import _tex_formula

    assert _tex_formula("σ'(z21)·w10,3^2") == "\\sigma'(z_{21}) \\cdot w_{10,3}^{2}"
    assert _tex_formula("2·(ŷ2 - 0.5)") == "2 \\cdot (\\hat{y}_{2} - 0.5)"
    assert _tex_formula("exp(x1)·cos(o12)") == "\\exp(x_{1}) \\cdot \\cos(o_{12})"
    a = Value(3.0, "a")
    lone = explain(a * a, a, view="op").latex()  # two identical paths: nothing to factor out
    assert "\\Bigl[" not in lone and "&= 6 && \\text{path sum}" in lone
    assert "(no path)" in explain(a * 2.0, Value(1.0, "b")).latex()


def test_unnamed_nodes_with_the_same_expression_get_distinct_names():
    x = Value(2.0, "x")
    y = x * x + x * x  # two separate x·x nodes
    ps = paths(y, x, view="op")
    assert len(ps) == 4 and math.fsum(p.product for p in ps) == 8.0 == explain(y, x).backprop
    middles = {p.nodes[1] for p in ps}
    assert len(middles) == 2 and "(x·x)" in middles  # the second one is named mul#k
    reused = explain(y, x, view="op").reused
    assert len(reused) == 2 and {r.value for r in reused} == {1.0}
    assert all(r.reads == 2 for r in reused)  # each x·x node pushes to x twice


# --- cost: closed forms for any MLP, and the work graph.backward really does ----------------


def mlp_cost_closed_form(sizes):
    """Op-level counts for an MLP with one wsum + one activation node per neuron and the loss
    L = (ŷ - y)² (two nodes), written from the network's shape alone.

    edges: a neuron of layer k has 2·n(k-1) + 1 wsum parents and 1 activation edge, + 2 loss
    edges. backprop additions: every node read by c > 1 nodes adds c - 1 contributions (inputs
    and hidden outputs, read by each neuron of the next layer). naive: a parameter of layer k
    has P_k = n(k+1)···n(K) paths of 2 + 2(K - k + 1) factors each."""
    K = len(sizes) - 1
    edges = sum(sizes[k] * (2 * sizes[k - 1] + 2) for k in range(1, K + 1)) + 2
    adds = sum(sizes[k] * (sizes[k + 1] - 1) for k in range(K))
    mul = add = 0
    for k in range(1, K + 1):
        params = sizes[k] * (sizes[k - 1] + 1)
        paths_k = math.prod(sizes[k + 1 :])
        factors = 2 + 2 * (K - k + 1)
        mul += params * paths_k * (factors - 1)
        add += params * (paths_k - 1)
    return edges, adds, mul, add


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.integers(1, 3))
def test_cost_matches_the_closed_form_and_the_real_backward(hidden, n_in):
    from memograd import graph

    sizes = (n_in, *hidden, 1)
    ex = notes_network(net=sizes, seed=0)
    c = cost(ex.loss, ex.model.parameters())
    edges, adds, mul, add = mlp_cost_closed_form(sizes)
    assert (c.edges, c.backprop_multiplications, c.backprop_additions) == (edges, edges, adds)
    assert (c.naive_multiplications, c.naive_additions) == (mul, add)

    class CountAdds(graph.Trace):  # an addition whenever a parent already holds a share
        def __init__(self):
            self.held, self.adds = set(), 0

        def push(self, node, parent, contribution):
            self.adds += id(parent) in self.held
            self.held.add(id(parent))

    trace = CountAdds()
    stats = graph.backward(ex.loss, 1.0, trace=trace)
    assert stats.edges == c.backprop_multiplications and trace.adds == c.backprop_additions


def test_cost_of_the_notes_network_by_hand():
    # 2-2-2-1: 32 edges, x1, x2, o11, o12 each read twice (4 additions); 3 output parameters with
    # paths of 4 factors, 6 layer-2 with 6 factors, 6 layer-1 with two paths of 8 factors
    ex = notes_network()
    c = cost(ex.loss, ex.model.parameters())
    assert (c.backprop_multiplications, c.backprop_additions) == (32, 4)
    assert c.naive_multiplications == 3 * 3 + 6 * 5 + 6 * 2 * 7 and c.naive_additions == 6


@settings(max_examples=40, deadline=None)
@given(programs(), st.lists(st.booleans(), min_size=40, max_size=40))
def test_random_graphs_neuron_view_collapses_unnamed_nodes_without_changing_the_sum(program, named):
    xs = [Value(v, f"x{i}") for i, v in enumerate(program[0], 1)]
    out = run(program, xs)
    inner = [n for n in out.nodes() if n._parents and n is not out]
    for k, (n, keep) in enumerate(zip(inner, named)):
        if keep:
            n.name = f"n{k}"  # a random subset of intermediate nodes becomes neuron-level
    out.backward()
    for x in xs:
        n = count_paths(out, x, view="neuron")
        assert n <= count_paths(out, x, view="op")  # collapsing merges paths, never adds
        if n > 5000:
            continue
        e = explain(out, x, view="neuron")
        assert e.count == n and e.backprop == x.grad
        assert abs(e.path_sum - x.grad) <= 1e-12 * max(1.0, abs(x.grad)) * max(1, n)
        named_nodes = {m.name for m in inner if m.name}
        assert all(set(p.nodes[1:-1]) <= named_nodes for p in e.paths)


def test_factored_form_pulls_out_a_shared_tail_when_there_is_no_shared_head():
    ex = notes_network(net=(3, 2, 2), activation="tanh", seed=0)
    e = explain(ex.loss, "w31^1")
    assert e.shared == (0, 1)
    assert e.factored == "[∂L/∂ŷ1 · ∂ŷ1/∂o11 + ∂L/∂ŷ2 · ∂ŷ2/∂o11] · ∂o11/∂w31^1"
    # the bracket is the adjoint ∂L/∂o11 that backprop stores in its memo table
    bracket = math.fsum(p.factors[0].value * p.factors[1].value for p in e.paths)
    ex.loss.backward()
    assert bracket == pytest.approx(find(ex.loss, "o11").grad, rel=1e-14)
    assert "\\Bigr] \\times \\frac{\\partial o_{11}}{\\partial w_{31}^{1}}" in e.latex()
    # the notes' case keeps its form: only the head ∂L/∂ŷ is pulled out
    assert explain(notes_network().loss, "w11^1").shared == (1, 0)


def test_adjoint_formulas_are_the_sums_over_path_prefixes_written_out_up_to_a_limit():
    from memograd.paths import SHOWN

    e = explain(notes_network().loss, "w11^1")
    o11 = next(r for r in e.reused if r.name == "∂L/∂o11")
    assert o11.formula == "∂L/∂ŷ · ∂ŷ/∂o21 · ∂o21/∂o11 + ∂L/∂ŷ · ∂ŷ/∂o22 · ∂o22/∂o11"
    deep = explain(notes_network(net=(2, 3, 3, 3, 3, 1)).loss, "w11^1")
    assert deep.count == 27 and deep.factored.endswith("(27 terms in all)]")
    o11 = next(r for r in deep.reused if r.name == "∂L/∂o11")
    assert o11.formula.count(" + ") == SHOWN and o11.formula.endswith("(27 terms in all)")
    assert f"… {27 - SHOWN} more paths" in deep.text()


# --- issue 11, Medium 5: every parameter at once, with the graph's tables computed once ---------


def _notes(net, activation="tanh"):
    from memograd.scalar.nn import notes_network

    ex = notes_network(net=net, activation=activation, loss="mse", seed=3)
    return ex.loss, ex.model.named_parameters()


@pytest.mark.parametrize("view", ["neuron", "op"])
def test_explain_all_gives_each_parameter_what_explain_gives_it(view):
    from memograd.paths import PathIndex, explain_all

    loss, params = _notes([2, 3, 2, 1])
    plist = list(params.values())
    together = explain_all(loss, plist, view=view, params=plist)
    index = PathIndex(loss, view=view, params=plist)
    for p, e in zip(plist, together):
        alone = explain(loss, p, view=view, params=plist)
        assert e.to_dict() == alone.to_dict() and e.shared == alone.shared
        assert index.count(p) == count_paths(loss, p, view=view) == e.count
        assert e.difference <= 1e-12 * max(1.0, abs(e.backprop))


def test_explain_all_builds_the_graph_tables_once_not_once_per_parameter(monkeypatch):
    import sys

    from memograd import graph
    from memograd.paths import explain_all

    views = sys.modules["memograd.paths.views"]
    explaining = sys.modules["memograd.paths.explaining"]
    loss, params = _notes([2, 4, 4, 1])
    calls = {"order": 0, "edges": 0}
    order, edges = graph.topological_order, views._view_edges

    def counted_order(*a, **k):
        calls["order"] += 1
        return order(*a, **k)

    def counted_edges(*a, **k):
        calls["edges"] += 1
        return edges(*a, **k)

    monkeypatch.setattr(graph, "topological_order", counted_order)
    monkeypatch.setattr(explaining, "_view_edges", counted_edges)
    out = explain_all(loss, list(params.values()))
    assert len(out) == len(params) == 37
    assert calls["edges"] == 1 and calls["order"] <= 3  # index, cost, backward: not 37 times each


def test_unnamed_nodes_are_explained_as_explain_would_in_a_batch():
    from memograd.paths import explain_all

    x, y = Value(2.0, "x"), Value(3.0, "y")
    z = x * y
    u = z + x * x
    out = u.tanh() * z
    out.name = "L"
    for view in ("neuron", "op"):
        batch = explain_all(out, [x, z, u, y], view=view)
        assert [e.to_dict() for e in batch] == [
            explain(out, w, view=view).to_dict() for w in (x, z, u, y)
        ]
