import pytest

from memograd.errors import MemogradValueError
from memograd.viz.report import build_report, figure, formula, note, png_figure, table
from memograd.viz.svg import graph_svg
from memograd.viz.wellformed import check_report

from .test_svg import mlp_2221


def test_report_is_well_formed_and_self_contained(tmp_path):
    nodes, edges = mlp_2221()
    body = (
        figure(graph_svg(nodes, edges), "the <b>network</b>")
        + table(["n", "calls"], [[1, 1], [38, 126491971]], caption="calls & hits")
        + note("memo")
        + formula("a")
        + png_figure(b"\x89PNG fake", "alt")
    )
    text = build_report([("net", "The network", body), ("Other <title>", "<p>x</p>")])
    info = check_report(text)
    assert len(info["svgs"]) == 1
    assert info["tags"]["section"] == 2 and info["tags"]["table"] == 1
    # table of contents links to each section's id
    assert 'href="#net"' in text and 'id="net"' in text and 'id="other-title"' in text
    assert "Other &lt;title&gt;" in text  # headings are escaped
    assert "126491971" in info["text"]
    assert "data:image/png;base64," in text


def test_strict_xml_parse_of_the_whole_document():
    import xml.etree.ElementTree as ET

    nodes, edges = mlp_2221()
    text = build_report([("net", "Net", figure(graph_svg(nodes, edges)) + table(["a"], [[1]]))])
    ET.fromstring(text.split("\n", 1)[1])  # everything after the doctype is XML


@pytest.mark.parametrize(
    "bad, message",
    [
        ("<div><p>unclosed</div>", "closes <p>"),
        ('<img src="https://cdn.example/x.png"/>', "external"),
        ("<script>alert(1)</script>", "script"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><g></svg>', "not well-formed"),
    ],
)
def test_checker_catches_broken_reports(bad, message):
    with pytest.raises(MemogradValueError, match=message):
        check_report(build_report([("x", "X", bad)]))


def test_a_wide_figure_shrinks_only_so_far_then_scrolls():
    import xml.etree.ElementTree as ET

    from memograd.viz.report import MIN_SCALE

    nodes, edges = mlp_2221()
    svg = graph_svg(nodes, edges)
    fig = ET.fromstring(figure(svg, "cap"))
    box = fig.find("div")
    assert box.get("class") == "scroll"
    (drawn,) = list(box)
    width = float(drawn.get("width"))
    assert drawn.get("style") == f"min-width: {width * MIN_SCALE:.0f}px"
    # an SVG that brings its own style is left as it is (no duplicate attribute)
    styled = '<svg xmlns="http://www.w3.org/2000/svg" width="900" style="x"><g/></svg>'
    ET.fromstring(figure(styled))
