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


def test_a_figure_scales_to_its_container_never_scrolls():
    """Issue 13.3: no min-width, no scroll box; the SVG has a viewBox and max-width: 100%."""
    import xml.etree.ElementTree as ET

    nodes, edges = mlp_2221()
    fig = ET.fromstring(figure(graph_svg(nodes, edges), "cap"))
    assert fig.find("div") is None  # no scroll container
    drawn = fig.find("{http://www.w3.org/2000/svg}svg")
    assert drawn.get("viewBox").split()[2] == drawn.get("width")
    assert "max-width: 100%" in drawn.get("style") and "min-width" not in drawn.get("style")
