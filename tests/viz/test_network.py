"""Issue 13.2: a picture of any network that reads. The rule: labels on every edge up to 24
weights; past that, weights as lines coloured by sign and thickened by |w|, values on hover
(``<title>``); layers wider than 20 neurons show their first and last 10, and the caption says
what was left out."""

import re
import xml.etree.ElementTree as ET

import pytest

from memograd.scalar.nn import MLP, notes_network
from memograd.viz.network import (
    LABELLED_WEIGHTS,
    MAX_DRAWN,
    NEGATIVE,
    POSITIVE,
    drawn_indices,
    network_svg,
    weight_count,
)

NS = "{http://www.w3.org/2000/svg}"


def example(net):
    ex = notes_network(net=net, seed=0)
    ex.loss.backward()
    return ex


def texts(root):
    return ["".join(t.itertext()) for t in root.iter(NS + "text")]


@pytest.mark.parametrize("net", [(2, 2, 2, 1), (2, 3, 1), (3, 4, 2)])
def test_small_nets_keep_a_label_on_every_edge(net):
    assert weight_count(net) <= LABELLED_WEIGHTS
    ex = example(net)
    root = ET.fromstring(network_svg(ex.model, ex.loss))
    shown = texts(root)
    from memograd.viz.notation import fmt

    for name, p in ex.model.named_parameters().items():
        if name.startswith("w"):
            assert fmt(p.data, 3) in shown, name  # the value line of its edge label
    plates = [r for r in root.iter(NS + "rect") if r.get("rx") == "3"]
    assert len(plates) == weight_count(net)


@pytest.mark.parametrize("net", [(2, 4, 4, 1), (2, 16, 16, 1)])
def test_past_the_density_weights_are_lines_by_sign_and_size(net):
    ex = example(net)
    root = ET.fromstring(network_svg(ex.model, ex.loss))
    params = ex.model.named_parameters()
    lines = {}
    for line in root.iter(NS + "line"):
        title = line.find(NS + "title")
        if title is not None and " = " in title.text:
            lines[title.text.split(" = ")[0]] = line
    weights = {n: p for n, p in params.items() if n.startswith("w")}
    assert len(lines) == len(weights) == weight_count(net)
    from memograd.viz.notation import unicode_name

    biggest = max(abs(p.data) for p in weights.values())
    for name, p in weights.items():
        line = lines[unicode_name(name)]
        assert line.get("stroke") == (POSITIVE if p.data >= 0 else NEGATIVE)
        expected = 0.5 + 3.0 * abs(p.data) / biggest
        assert float(line.get("stroke-width")) == pytest.approx(expected, abs=0.006)
        tip = line.find(NS + "title").text
        assert f"{p.data:.6g}" in tip and f"grad {p.grad:.6g}" in tip
    assert not [r for r in root.iter(NS + "rect") if r.get("rx") == "3"]  # no edge labels
    caption = " ".join(texts(root))
    assert f"{sum(n * (m + 1) for m, n in zip(net, net[1:])):,} parameters" in caption


def test_wide_layers_are_elided_and_the_caption_says_so():
    ex = example((2, 32, 32, 1))
    root = ET.fromstring(network_svg(ex.model, ex.loss))
    circles = list(root.iter(NS + "circle"))
    assert len(circles) == 2 + MAX_DRAWN + MAX_DRAWN + 1 + 1
    shown = texts(root)
    assert shown.count("⋮ 12 more") == 2
    caption = " ".join(shown)
    assert "layer 1: 12 of 32 neurons" in caption and "layer 2: 12 of 32 neurons" in caption
    weighted = [x for x in root.iter(NS + "line") if x.find(NS + "title") is not None]
    assert len(weighted) == 2 * 20 + 20 * 20 + 20
    assert "460 of 1,120 weights shown" in caption
    assert drawn_indices(32) == [*range(10), None, *range(22, 32)]
    assert drawn_indices(20) == list(range(20))


def test_jupyter_repr_draws_any_mlp():
    from memograd.viz.values import repr_svg

    svg = repr_svg(MLP(2, [16, 16, 1]))
    assert svg is not None and ET.fromstring(svg).get("viewBox")


def test_path_highlights_one_colour_per_path_with_a_legend():
    """Issue 13.4: each chain-rule path its own colour, named in the legend; too many paths are
    one group whose legend says how many."""
    from memograd.viz.svg import Edge
    from memograd.viz.values import MAX_PATH_COLORS, path_highlights

    edges = [Edge("w", "o11"), Edge("o11", "o21"), Edge("o11", "o22")]
    edges += [Edge("o21", "y"), Edge("o22", "y"), Edge("y", "L")]
    hs = path_highlights(edges, "w", "L")
    assert [h.label for h in hs] == ["path 1: via o₂₁", "path 2: via o₂₂"]
    assert len({h.color for h in hs}) == 2
    assert hs[0].edges == {("w", "o11"), ("o11", "o21"), ("o21", "y"), ("y", "L")}
    # a fan of 13 parallel routes: one group
    fan = [Edge("a", f"m{k}") for k in range(MAX_PATH_COLORS + 1)]
    fan += [Edge(f"m{k}", "L") for k in range(MAX_PATH_COLORS + 1)]
    (one,) = path_highlights(fan, "a", "L")
    assert one.label.startswith(f"all {MAX_PATH_COLORS + 1} chain-rule paths")
    assert len(one.edges) == len(fan)


def test_graph_command_colours_each_path_and_draws_big_nets_as_the_network(tmp_path, capsys):
    from memograd.cli import main

    assert main(["graph", "--wrt", "w11^1", "--out", str(tmp_path / "a.svg")]) == 0
    root = ET.fromstring((tmp_path / "a.svg").read_text())
    shown = " ".join(texts(root))
    assert "path 1: via o₂₁" in shown and "path 2: via o₂₂" in shown
    assert (
        main(["graph", "--net", "2,16,16,1", "--wrt", "w11^1", "--out", str(tmp_path / "b.svg")])
        == 0
    )
    root = ET.fromstring((tmp_path / "b.svg").read_text())
    shown = " ".join(texts(root))
    assert "all 16 chain-rule paths from L to w₁₁¹" in shown
    assert re.search(r"337 parameters", shown)


def test_the_readme_shows_a_2_16_16_1_network_that_reads():
    """Issue 13 'done when': the README's picture of MLP(2, [16, 16, 1]) is the dense drawing
    (every weight a line with its value on hover, no labels piled up), made by the command the
    README names."""
    from pathlib import Path

    root_dir = Path(__file__).resolve().parents[2]
    readme = (root_dir / "README.md").read_text(encoding="utf-8")
    assert "](docs/network-2-16-16-1.svg)" in readme
    assert "memograd graph --net 2,16,16,1 --out docs/network-2-16-16-1.svg" in readme
    root = ET.fromstring((root_dir / "docs" / "network-2-16-16-1.svg").read_text())
    weights = [x for x in root.iter(NS + "line") if x.find(NS + "title") is not None]
    assert len(weights) == weight_count((2, 16, 16, 1)) == 304
    assert not [r for r in root.iter(NS + "rect") if r.get("rx") == "3"]  # no edge labels
    assert int(root.get("width")) <= 700 and root.get("viewBox")


def test_the_readme_picture_is_what_the_readme_command_draws_today(tmp_path, capsys):
    """The committed picture is the command's output, byte for byte: a change to the drawing
    fails here until `memograd graph --net 2,16,16,1 --out docs/network-2-16-16-1.svg` is rerun."""
    from pathlib import Path

    from memograd.cli import main

    committed = Path(__file__).resolve().parents[2] / "docs" / "network-2-16-16-1.svg"
    assert main(["graph", "--net", "2,16,16,1", "--out", str(tmp_path / "n.svg")]) == 0
    assert (tmp_path / "n.svg").read_bytes() == committed.read_bytes()
