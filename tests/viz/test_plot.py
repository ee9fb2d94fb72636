import xml.etree.ElementTree as ET

import pytest

from memograd.errors import MemogradValueError
from memograd.viz.plot import Series, line_chart, nice_ticks

NS = "{http://www.w3.org/2000/svg}"


def test_log_chart_has_power_of_ten_ticks_and_both_series():
    s = [
        Series("paths", [1, 2, 3, 4], [2, 8, 32, 128]),
        Series("edges", [1, 2, 3, 4], [10, 14, 18, 22], dashed=True),
    ]
    root = ET.fromstring(line_chart(s, title="t", xlabel="depth", ylabel="cost", log_y=True))
    text = "".join(root.itertext())
    for tick in ("1", "10", "100", "1,000"):
        assert tick in text
    assert "paths" in text and "edges" in text
    assert len(root.findall(f".//{NS}circle")) == 8
    assert any(p.get("stroke-dasharray") for p in root.iter(NS + "path"))


def test_points_are_monotone_in_screen_space():
    root = ET.fromstring(line_chart([Series("a", [0, 1, 2], [1, 10, 100])], log_y=True))
    cs = root.findall(f".//{NS}circle")
    xs = [float(c.get("cx")) for c in cs]
    ys = [float(c.get("cy")) for c in cs]
    assert xs == sorted(xs) and ys == sorted(ys, reverse=True)  # SVG y grows downwards
    # equal steps on a log axis: 1 -> 10 -> 100 are equally spaced
    assert abs((ys[0] - ys[1]) - (ys[1] - ys[2])) < 0.2


def test_bad_input_is_a_clear_error():
    with pytest.raises(MemogradValueError, match="log axis"):
        line_chart([Series("a", [0, 1], [0, 1])], log_y=True)
    with pytest.raises(MemogradValueError, match="2 x values and 1 y"):
        line_chart([Series("a", [0, 1], [1])])
    with pytest.raises(MemogradValueError, match="no points"):
        line_chart([])


def test_nice_ticks_cover_the_range_in_round_steps():
    t = nice_ticks(0.3, 9.6)
    assert t[0] <= 0.3 and t[-1] >= 9.6
    steps = {round(b - a, 9) for a, b in zip(t, t[1:])}
    assert len(steps) == 1 and steps.pop() in (1, 2, 5)
