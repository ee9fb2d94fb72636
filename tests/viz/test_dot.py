import shutil

import pytest

from memograd.viz.dot import GraphvizMissingError, graphviz_available, render, to_dot
from memograd.viz.svg import Edge, Highlight, Node


def small():
    nodes = [Node("w", "w11^1", data=0.5, grad=-0.25, kind="param"), Node("x", "x1", data=2.0)]
    nodes.append(Node("z", note="*", data=1.0, grad=-0.5))
    edges = [Edge("w", "z"), Edge("x", "z")]
    return nodes, edges


def test_dot_text_has_records_with_data_and_grad():
    nodes, edges = small()
    text = to_dot(nodes, edges, highlights=[Highlight({("w", "z")}, color="red")])
    assert text.startswith("digraph memograd {") and text.rstrip().endswith("}")
    assert "rankdir=LR" in text
    assert '"w" [label="{ w₁₁¹ | data 0.5 | grad -0.25 }"' in text
    assert '"w" -> "z" [color="red", penwidth=2.5];' in text
    assert '"x" -> "z";' in text


def test_record_special_characters_are_escaped():
    text = to_dot([Node("a", note="{<|>}")], [])
    assert r"\{\<\|\>\}" in text


@pytest.mark.skipif(not graphviz_available(), reason="Graphviz 'dot' is not installed")
def test_render_with_graphviz():
    nodes, edges = small()
    assert "<svg" in render(to_dot(nodes, edges))


def test_render_without_graphviz_says_so(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(GraphvizMissingError, match="not installed.*without --engine graphviz"):
        render("digraph g {}")
