"""A real browser renders the report: a headless Chromium screenshot must not be blank."""

import pytest

from memograd.viz.plot import Series, line_chart
from memograd.viz.report import figure, write_report
from memograd.viz.svg import Highlight

from .chromium_shot import SKIP_REASON, chromium, pixel_stats, screenshot
from .test_svg import mlp_2221

pytestmark = pytest.mark.skipif(chromium() is None, reason=SKIP_REASON)


def test_report_with_network_and_plot_renders_non_blank(tmp_path):
    nodes, edges = mlp_2221()
    path = {("x1", "o11"), ("o11", "o21"), ("o21", "yhat"), ("yhat", "L")}
    from memograd.viz.svg import graph_svg

    net = graph_svg(nodes, edges, highlights=[Highlight(path, label="path 1")])
    chart = line_chart([Series("calls", [1, 2, 3], [1, 10, 100])], log_y=True)
    report = write_report(
        tmp_path / "r.html", [("net", "The network", figure(net) + figure(chart))]
    )
    stats = pixel_stats(screenshot(report, tmp_path / "r.png", size=(1000, 1200)))
    assert stats["width"] == 1000 and stats["height"] == 1200
    assert stats["nonwhite"] > 0.05, stats  # not a blank page
    assert stats["coloured"] > 0.002, stats  # the header bar and the highlighted path are drawn
