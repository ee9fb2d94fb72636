import xml.etree.ElementTree as ET

import pytest

from memograd.errors import MemogradValueError
from memograd.scalar.nn import notes_network
from memograd.scalar.value import Value
from memograd.viz.notation import fmt
from memograd.viz.values import model_svg, network_graph, value_graph, value_svg


def test_op_view_has_every_engine_node():
    ex = notes_network()
    ex.loss.backward()
    nodes, edges, _ = value_graph(ex.loss, "op")
    assert len(nodes) == len(ex.loss.nodes())
    assert sum(len(v.parents) for v in ex.loss.nodes()) == len(edges)
    byid = {n.id: n for n in nodes}
    assert byid["w11^1"].grad == ex.parameter("w11^1").grad
    assert byid["z21"].kind == "op" and byid["L"].kind == "loss"


def test_neuron_view_collapses_weighted_sums_as_the_notes_draw():
    ex = notes_network()
    nodes, edges, _ = value_graph(ex.loss, "neuron")
    ids = {n.id for n in nodes}
    assert "z21" not in ids and {"o11", "o21", "yhat", "L", "w11^1"} <= ids
    pairs = {(e.src, e.dst) for e in edges}
    # the two paths of dL/dw11^1 exist in the neuron-level graph
    for pair in [("w11^1", "o11"), ("o11", "o21"), ("o11", "o22"), ("o21", "yhat")]:
        assert pair in pairs
    assert ("o22", "yhat") in pairs and ("yhat", "L") in pairs
    assert ("w11^1", "o21") not in pairs


def test_network_graph_one_edge_per_weight():
    ex = notes_network()
    ex.loss.backward()
    nodes, edges = network_graph(ex.model, ex.loss)
    weights = [e for e in edges if e.label]
    assert len(weights) == 10 and {e.label for e in weights} >= {"w11^1", "w21^3"}
    o11 = next(n for n in nodes if n.id == "o11")
    engine_o11 = next(v for v in ex.loss.nodes() if v.name == "o11")
    assert (o11.data, o11.grad) == (engine_o11.data, engine_o11.grad) and o11.grad != 0
    x1 = next(n for n in nodes if n.id == "x1")
    assert x1.kind == "input" and x1.grad is None  # inputs are leaves: data only


def test_svgs_parse():
    a = Value(2.0, "a")
    b = a * a + a
    b.name = "L"
    b.backward()
    root = ET.fromstring(value_svg(b))
    text = "".join(root.itertext())
    assert "data 6" in text and "grad 5" in text  # d(a^2 + a)/da = 2a + 1 = 5
    ex = notes_network()
    ET.fromstring(model_svg(ex.model, ex.loss))
    with pytest.raises(MemogradValueError, match="too many"):
        value_svg(b, max_nodes=1)
    with pytest.raises(MemogradValueError, match="view"):
        value_graph(b, "nope")


def test_explanation_picture_has_one_edge_per_distinct_factor():
    from memograd.paths import explain
    from memograd.viz.values import explanation_graph, explanation_html, explanation_svg

    ex = notes_network()
    e = explain(ex.loss, "w11^1")
    nodes, edges, groups = explanation_graph(e)
    assert {n.id for n in nodes} == {"L", "yhat", "o21", "o22", "o11", "w11^1"}
    assert len(edges) == 6 and len(groups) == 2
    assert {n.id: n.kind for n in nodes}["w11^1"] == "param"
    values = {(ed.src, ed.dst): ed.value for ed in edges}
    assert values[("o11", "o21")] == e.paths[0].factors[2].value
    root = ET.fromstring(explanation_svg(e))
    assert "path 2: product" in "".join(root.itertext())
    assert "path sum" in explanation_html(e)


def test_repr_svg_for_values_and_models_and_none_when_too_big():
    from memograd.scalar.nn import MLP
    from memograd.viz.values import repr_svg

    ex = notes_network()
    assert ET.fromstring(repr_svg(ex.loss)).tag.endswith("svg")
    assert ET.fromstring(repr_svg(ex.model)).tag.endswith("svg")
    wide = ET.fromstring(repr_svg(MLP(50, [50, 1])))  # any MLP: wide layers elided (issue 13.2)
    assert "inputs: 30 of 50 neurons" in " ".join("".join(wide.itertext()).split())
    big = ex.loss
    for _ in range(500):
        big = big * 1.0
    assert repr_svg(big) is None


def test_jupyter_reprs_on_the_engine_classes():
    from memograd.scalar.nn import MLP

    v = Value(3.0, "a") * 2.0
    assert ET.fromstring(v._repr_svg_()).tag.endswith("svg")
    assert ET.fromstring(MLP(2, [2, 1])._repr_svg_()).tag.endswith("svg")


def test_jupyter_html_of_an_explanation():
    import memograd as mg

    ex = notes_network()
    e = mg.explain(ex.loss, "w11^1")
    html = e._repr_html_()
    assert html.startswith("<div><svg") and "path sum" in html
    root = ET.fromstring(html)  # well-formed: the SVG and the table parse as one XML tree
    assert len(root.findall(".//{http://www.w3.org/2000/svg}svg")) == 1
    rows = root.findall(".//tr")[1:]
    assert [r.findall("td")[2].text for r in rows] == [fmt(p.product, 6) for p in e.paths]
    # names in the notes' notation, as in the report: o<sub>21</sub>, w<sub>11</sub><sup>1</sup>
    assert "∂o<sub>21</sub>/∂o<sub>11</sub>" in html and "w11^1" not in html.split("</svg>")[1]


def test_edges_on_paths_is_forward_reachability():
    from memograd.viz.svg import Edge
    from memograd.viz.values import edges_on_paths

    edges = [Edge("a", "b"), Edge("b", "d"), Edge("c", "d"), Edge("a", "c"), Edge("x", "c")]
    assert edges_on_paths(edges, "b") == {("b", "d")}
    assert edges_on_paths(edges, "a") == {("a", "b"), ("b", "d"), ("a", "c"), ("c", "d")}


def test_network_picture_shows_each_neurons_bias_and_keeps_rows_aligned():
    ex = notes_network()
    nodes, edges = network_graph(ex.model, ex.loss)
    extra = {n.id: n.extra for n in nodes}
    assert extra["o11"].startswith("b1^1=") and extra["yhat"].startswith("b1^3=")
    assert extra["x1"] == "" and extra["L"] == ""
    root = ET.fromstring(model_svg(ex.model, ex.loss))
    ns = "{http://www.w3.org/2000/svg}"
    cy = {}
    for c in root.iter(ns + "circle"):
        cy.setdefault(round(float(c.get("cx"))), set()).add(float(c.get("cy")))
    rows = sorted({y for ys in cy.values() for y in ys})
    # inputs and neurons share row heights: the top circle of every 2-wide column is level
    tops = {min(ys) for ys in cy.values() if len(ys) == 2}
    assert len(tops) == 1 and len(rows) >= 2


def test_tensor_models_display_as_a_chain_of_layers():
    from memograd.nn import MLP as TensorMLP
    from memograd.viz.values import module_graph

    model = TensorMLP([784, 256, 10])
    nodes, edges = module_graph(model)
    assert [n.note.split()[0] for n in nodes] == ["Linear", "ReLU", "Linear"]
    assert "784 → 256 · 200,960 params" in nodes[0].note and len(edges) == 2
    root = ET.fromstring(model._repr_svg_())
    assert f"{model.num_parameters():,} parameters" in "".join(root.itertext())


def test_op_view_writes_the_losss_subtraction_as_the_memo_table_does():
    """The unnamed node between ŷ and L reads ŷ - y in `memograd graph --view op`, as in the
    demo's memo table (it was a bare '−')."""
    from memograd.lesson import memo_table

    ex = notes_network()
    ex.loss.backward()
    nodes, _, _ = value_graph(ex.loss, "op")
    (sub,) = [n for n in nodes if not n.label and n.note == "ŷ - y"]
    assert sub.data == ex.output.data - ex.targets[0] and sub.grad == 2 * sub.data
    assert "yhat - y" in [r["node"] for r in memo_table.compute({})["rows"]]


def test_the_loss_node_shows_its_formula_not_the_pow_symbol():
    """Issue 13.6: the MSE loss is drawn as (ŷ - y)², not as ``^``."""
    ex = notes_network()
    nodes, _, _ = value_graph(ex.loss, view="op")
    loss = next(n for n in nodes if n.label == "L")
    assert loss.note == "(ŷ - y)²"
    assert not any(n.note == "^" for n in nodes)
