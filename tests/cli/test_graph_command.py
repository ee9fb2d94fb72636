"""``memograd graph``: own SVG, DOT text, HTML page; Graphviz only when installed."""

import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from memograd.cli import main
from memograd.scalar.nn import notes_network
from memograd.viz.notation import fmt
from memograd.viz.wellformed import check_report

NS = "{http://www.w3.org/2000/svg}"


def engine_grads():
    ex = notes_network(seed=0)
    ex.loss.backward()
    return ex


def test_default_is_our_own_svg_with_data_and_grad(capsys):
    assert main(["graph"]) == 0
    root = ET.fromstring(capsys.readouterr().out)
    assert root.tag == NS + "svg"
    text = "".join(root.itertext())
    ex = engine_grads()
    for name in ("w11^1", "w21^3", "b1^2"):
        p = ex.parameter(name)
        assert f"data {fmt(p.data)}" in text and f"grad {fmt(p.grad)}" in text
    # neuron view: 15 parameters + 2 inputs + 5 neurons + L = 23 boxes, no weighted-sum nodes
    assert len(root.findall(f".//{NS}rect[@rx='5']")) == 23


def test_op_view_has_every_engine_node(capsys):
    assert main(["graph", "--view", "op"]) == 0
    root = ET.fromstring(capsys.readouterr().out)
    ex = engine_grads()
    assert len(root.findall(f".//{NS}rect[@rx='5']")) == len(ex.loss.nodes()) == 29
    # weighted sums appear as nodes: z then the subscript 21 in a tspan
    labels = ["".join(t.itertext()) for t in root.iter(NS + "text")]
    assert "z21" in labels and "o21" in labels


def test_dot_text_always_works(capsys, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no Graphviz needed for text
    assert main(["graph", "--format", "dot", "--net", "2,3,1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("digraph memograd {")
    # 2-3-1: 9 + 4 parameters, 2 inputs, 3 + 1 neurons, L
    assert out.count("[label=") == 13 + 2 + 4 + 1
    # params -> neurons (3·3 + 4), inputs -> layer 1 (2·3), layer 1 -> yhat (3), yhat -> L (1)
    assert out.count(" -> ") == 9 + 4 + 6 + 3 + 1


def test_graphviz_missing_is_said_clearly(capsys, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["graph", "--engine", "graphviz"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'dot' program is not installed" in err
    assert "without --engine graphviz" in err
    # and the default, memograd's own layout, still works with no Graphviz at all
    assert main(["graph", "--format", "svg"]) == 0
    ET.fromstring(capsys.readouterr().out)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_graphviz_render_when_installed(capsys):
    assert main(["graph", "--engine", "graphviz"]) == 0
    ET.fromstring(capsys.readouterr().out)


def test_html_page_is_self_contained(tmp_path, capsys):
    out = tmp_path / "g.html"
    assert main(["graph", "--format", "html", "--out", str(out)]) == 0
    assert "written to" in capsys.readouterr().out
    info = check_report(out.read_text(encoding="utf-8"))
    assert len(info["svgs"]) == 1
    ex = engine_grads()
    assert fmt(ex.parameter("w11^1").grad) in info["text"]


@pytest.mark.parametrize("net", ["2", "2,0,1", "a,b"])
def test_bad_net_is_a_usage_error(net, capsys):
    assert main(["graph", "--net", net]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("memograd graph: error:")


def test_too_big_for_our_layout_points_to_dot(capsys):
    assert main(["graph", "--net", "30,30,30", "--view", "op"]) == 2
    assert "--format dot" in capsys.readouterr().err


@pytest.mark.parametrize("view, per_path, shared", [("neuron", 4, 2), ("op", 8, 5)])
def test_wrt_highlights_every_path_of_w11_1_one_colour_each(view, per_path, shared, capsys):
    """Issue 13.4: each path its own colour (as the report draws them), named in the legend."""
    assert main(["graph", "--view", view, "--wrt", "w11^1"]) == 0
    root = ET.fromstring(capsys.readouterr().out)
    first = [p for p in root.iter(NS + "path") if p.get("stroke") == "#d9480f"]
    second = [p for p in root.iter(NS + "path") if p.get("stroke") == "#1c7ed6"]
    # neuron view: w11^1->o11->o21->yhat->L and w11^1->o11->o22->yhat->L (2 edges shared);
    # op view: w->z11->o11->z21->o21->z31->yhat->(yhat-y)->L and the same via z22, o22
    # (5 shared). A shared edge is drawn once per path, as parallel strokes.
    assert len(first) == len(second) == per_path
    plain = [p for p in root.iter(NS + "path") if p.get("stroke") == "#adb5bd"]
    drawn_edges = len(plain) + 2 * per_path - shared
    assert drawn_edges == len(root.findall(f".//{NS}path[@marker-end]")) - shared
    legend = "".join(root.itertext())
    assert re.search(r"path 1: via (z₂₁, )?o₂₁\n", legend), legend[-80:]
    assert re.search(r"path 2: via (z₂₂, )?o₂₂\n", legend)


def test_wrt_in_dot_and_unknown_name(capsys):
    assert main(["graph", "--format", "dot", "--wrt", "o11"]) == 0
    out = capsys.readouterr().out
    # two paths from o11: o11->o21->yhat->L and o11->o22->yhat->L, one colour each; the edges
    # they share (yhat->L) carry both colours
    assert out.count('color="#d9480f", penwidth=2.5') == 1 + 2  # the node and 2 own edges
    assert out.count('color="#1c7ed6", penwidth=2.5') == 2
    assert out.count('color="#d9480f:#1c7ed6", penwidth=2.5') == 1
    assert main(["graph", "--wrt", "w99^9"]) == 2
    err = capsys.readouterr().err
    assert "no node named 'w99^9'" in err and "w11^1" in err


def test_empty_out_and_empty_wrt_are_usage_errors_not_stdout(capsys):
    """Issue 11: `graph --out ''` wrote to stdout and `--wrt ''` highlighted nothing, exit 0."""
    assert main(["graph", "--out", ""]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "--out: empty file name" in captured.err
    assert main(["graph", "--wrt", ""]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "--wrt: empty name" in captured.err


@pytest.mark.parametrize("net", ["1000000,1", "2,99999999999999999999,1"])
def test_huge_net_is_refused_before_it_is_built(net, capsys):
    """Issue 11: `graph --net 1000000,1 --format dot` built a million-parameter graph first."""
    from memograd.cli.graph import predicted_nodes

    assert main(["graph", "--net", net, "--format", "dot"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nodes" in err and "limit 20,000" in err
    sizes = tuple(int(n) for n in net.split(","))
    assert f"{predicted_nodes(sizes, 'neuron'):,}" in err


@pytest.mark.parametrize("net", ["2,2,2,1", "2,3,1", "3,4,2"])
@pytest.mark.parametrize("view", ["neuron", "op"])
def test_predicted_node_count_is_the_built_graphs(net, view):
    from memograd.cli.graph import build, predicted_nodes

    nodes, _, ex = build(net, view)
    assert predicted_nodes(ex.model.sizes, view) == len(nodes)


class _Terminal:
    def __init__(self):
        self.written = []

    def isatty(self):
        return True

    def write(self, text):
        self.written.append(text)

    def flush(self):
        pass


def test_no_svg_xml_poured_onto_a_terminal(monkeypatch, capsys):
    """Issue 13.9: `memograd graph` on a terminal with no --out refuses; DOT text is fine."""
    import memograd.cli as cli

    term = _Terminal()
    real_ui = cli.UI
    monkeypatch.setattr(
        cli, "UI", lambda no_color=False, **kw: real_ui(no_color, stdout=term, **kw)
    )
    assert main(["graph"]) == 2
    assert "--out FILE" in capsys.readouterr().err and not "".join(term.written)
    assert main(["graph", "--format", "dot"]) == 0
    assert "".join(term.written).startswith("digraph")


def test_html_page_footer_names_the_graph_command(tmp_path, capsys):
    out = tmp_path / "g.html"
    assert main(["graph", "--format", "html", "--out", str(out)]) == 0
    text = out.read_text()
    assert "Generated by <code>memograd graph</code>" in text and "memograd demo" not in text


def test_huge_dot_text_on_a_terminal_asks_for_out(monkeypatch, capsys, tmp_path):
    """Issue 13.9: huge outputs ask for --out; into a file or a pipe they are written."""
    import memograd.cli as cli

    term = _Terminal()
    real_ui = cli.UI
    monkeypatch.setattr(
        cli, "UI", lambda no_color=False, **kw: real_ui(no_color, stdout=term, **kw)
    )
    assert main(["graph", "--net", "2,16,16,1", "--format", "dot"]) == 2
    err = capsys.readouterr().err
    assert "373 nodes" in err and "--out FILE" in err and not "".join(term.written)
    out = tmp_path / "g.dot"
    assert main(["graph", "--net", "2,16,16,1", "--format", "dot", "--out", str(out)]) == 0
    assert out.read_text().startswith("digraph")
