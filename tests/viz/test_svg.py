import xml.etree.ElementTree as ET

import pytest

from memograd.errors import MemogradValueError
from memograd.viz.svg import Edge, Highlight, Node, assign_layers, graph_svg, layout

NS = "{http://www.w3.org/2000/svg}"


def mlp_2221():
    """The notes' network as plain nodes and edges (weights as labelled edges)."""
    nodes = [Node("x1", "x1", 0, 0.5, kind="input"), Node("x2", "x2", 0, -1.0, kind="input")]
    nodes += [Node(f"o{k}{j}", f"o{k}{j}", k, 0.1 * j, -0.01 * j) for k in (1, 2) for j in (1, 2)]
    nodes += [Node("yhat", "yhat", 3, 0.6, 0.2, "output"), Node("L", "L", 4, 0.04, 1.0, "loss")]
    edges = [Edge(f"x{i}", f"o1{j}", f"w{i}{j}^1", 0.25) for i in (1, 2) for j in (1, 2)]
    edges += [Edge(f"o1{i}", f"o2{j}", f"w{i}{j}^2", -0.5) for i in (1, 2) for j in (1, 2)]
    edges += [Edge(f"o2{i}", "yhat", f"w{i}1^3", 0.75) for i in (1, 2)]
    edges.append(Edge("yhat", "L"))
    return nodes, edges


def test_svg_is_xml_with_every_node_and_edge():
    nodes, edges = mlp_2221()
    svg = graph_svg(nodes, edges, title="2-2-2-1")
    root = ET.fromstring(svg)
    assert root.tag == NS + "svg"
    assert len(root.findall(f".//{NS}circle")) == len(nodes)
    assert len(root.findall(f".//{NS}path[@marker-end]")) == len(edges)
    text = "".join(root.itertext())
    # under each neuron its value and ∂ its gradient, one a line; names in the notes' notation
    lines = ["".join(t.itertext()) for t in root.iter(NS + "text")]
    assert "0.2" in lines and "∂ -0.02" in lines  # o22
    assert "ŷ" in text and "-0.5" in lines
    # hover: every node's <title> holds its name, data and grad at full precision
    titles = [t.text for g in root.iter(NS + "g") for t in g.findall(NS + "title")]
    assert "o₂₂ · data 0.2 · grad -0.02" in titles


def test_highlighted_edge_in_two_groups_is_drawn_once_per_group():
    nodes, edges = mlp_2221()
    p1 = {("x1", "o11"), ("o11", "o21"), ("o21", "yhat"), ("yhat", "L")}
    p2 = {("x1", "o11"), ("o11", "o22"), ("o22", "yhat"), ("yhat", "L")}
    hs = [Highlight(p1, label="via o21", color="#ff0000"), Highlight(p2, label="via o22")]
    root = ET.fromstring(graph_svg(nodes, edges, highlights=hs))
    paths = root.findall(f".//{NS}path[@marker-end]")
    red = [p for p in paths if p.get("stroke") == "#ff0000"]
    blue = [p for p in paths if p.get("stroke") == hs[1].color]
    assert len(red) == 4 and len(blue) == 4
    # shared edges (x1->o11, yhat->L) get two parallel strokes; the others one grey stroke
    assert len(paths) == len(edges) - 6 + 8
    assert "via o21" in "".join(root.itertext())


def test_layering_longest_path_and_sources_next_to_consumers():
    nodes = [Node(i) for i in ("a", "b", "c", "w", "d")]
    edges = [Edge("a", "b"), Edge("b", "c"), Edge("c", "d"), Edge("w", "d"), Edge("a", "d")]
    layer = assign_layers(nodes, edges)
    assert layer == {"a": 0, "b": 1, "c": 2, "d": 3, "w": 2}


def test_layout_is_deterministic_and_inside_the_canvas():
    nodes, edges = mlp_2221()
    for n in nodes:
        n.layer = None
    a = layout(nodes, edges, style="record")
    b = layout(nodes, edges, style="record")
    assert a.pos == b.pos
    for i, (x, y) in a.pos.items():
        w, h = a.size[i]
        assert 0 <= x - w / 2 and x + w / 2 <= a.width
        assert 0 <= y - h / 2 and y + h / 2 <= a.height
    # left to right: every edge goes to a later column
    for e in edges:
        assert a.pos[e.src][0] < a.pos[e.dst][0]


def test_record_style_shows_data_and_grad_cells():
    nodes, edges = mlp_2221()
    root = ET.fromstring(graph_svg(nodes, edges, style="record"))
    text = "".join(root.itertext())
    assert "data 0.6" in text and "grad 0.2" in text


def test_cycle_and_unknown_node_are_clear_errors():
    with pytest.raises(MemogradValueError, match="cycle"):
        graph_svg([Node("a"), Node("b")], [Edge("a", "b"), Edge("b", "a")])
    with pytest.raises(MemogradValueError, match="'zz'"):
        graph_svg([Node("a")], [Edge("a", "zz")])
    with pytest.raises(MemogradValueError, match="style"):
        graph_svg([Node("a")], [], style="nope")


def test_text_is_escaped():
    svg = graph_svg([Node("a", "<&>")], [], title="a < b & c")
    root = ET.fromstring(svg)
    assert "<&>" in "".join(root.itertext())


def test_every_edge_label_sits_on_a_white_plate_drawn_after_the_edges():
    """The edge would otherwise run through the label (between w's subscript and superscript)."""
    nodes, edges = mlp_2221()
    p1 = {("x1", "o11"), ("o11", "o21")}
    root = ET.fromstring(graph_svg(nodes, edges, highlights=[Highlight(p1, label="p")]))
    group = root.find(f"{NS}g")
    children = list(group)
    plates = [
        i
        for i, el in enumerate(children)
        if el.tag == NS + "rect" and el.get("fill") == "#ffffff" and el.get("rx") == "3"
    ]
    assert len(plates) == sum(1 for e in edges if e.label)
    last_edge = max(i for i, el in enumerate(children) if el.tag == NS + "path")
    for i in plates:
        plate, name, value = children[i : i + 3]
        assert i > last_edge  # on top of every edge, highlighted ones included
        x, y = float(plate.get("x")), float(plate.get("y"))
        w, h = float(plate.get("width")), float(plate.get("height"))
        for text in (name, value):  # the weight's name over its value, both on the plate
            assert text.tag == NS + "text"
            assert abs(x + w / 2 - float(text.get("x"))) < 0.2
            assert y < float(text.get("y")) <= y + h
        assert "".join(value.itertext()) in ("0.25", "-0.5", "0.75")
        assert w >= 6.5 * len("-0.5")


def test_a_wide_picture_keeps_its_title_and_legend_in_the_part_seen_first():
    """A picture wider than the report's column scrolls sideways at its own size: its title and
    every legend entry start within the first FIT px, where the box opens."""
    import xml.etree.ElementTree as ET

    from memograd.scalar.nn import notes_network
    from memograd.viz.svg import FIT
    from memograd.viz.values import path_highlights, value_graph

    ex = notes_network()
    ex.loss.backward()
    nodes, edges, _ = value_graph(ex.loss, view="op")
    labels = {n.id: n.label for n in nodes}
    svg = graph_svg(
        nodes,
        edges,
        style="record",
        title="a title",
        highlights=path_highlights(edges, "w11^1", "L", labels),
    )
    root = ET.fromstring(svg)
    assert float(root.get("width")) > FIT
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t for t in root.iter(ns + "text") if (t.text or "").startswith(("a title", "path "))]
    assert len(texts) == 3  # the title and two paths
    assert all(float(t.get("x")) < FIT for t in texts)
