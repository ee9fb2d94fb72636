import re

import pytest

from memograd.viz.notation import fmt, html_name, latex_name, partial, split_name, unicode_name


@pytest.mark.parametrize(
    "name, parts, uni, html",
    [
        ("w11^1", ("w", "11", "1"), "w₁₁¹", "w<sub>11</sub><sup>1</sup>"),
        ("b1^2", ("b", "1", "2"), "b₁²", "b<sub>1</sub><sup>2</sup>"),
        ("o21", ("o", "21", ""), "o₂₁", "o<sub>21</sub>"),
        ("yhat", ("yhat", "", ""), "ŷ", "ŷ"),
        ("L", ("L", "", ""), "L", "L"),
    ],
)
def test_notes_notation(name, parts, uni, html):
    assert split_name(name) == parts
    assert unicode_name(name) == uni
    assert html_name(name) == html


def test_other_names_are_shown_as_they_are():
    assert split_name("a+b") is None
    assert unicode_name("a+b") == "a+b"
    assert html_name("<z>") == "&lt;z&gt;"


def test_partial_forms():
    assert partial("L", "w11^1", "unicode") == "∂L/∂w₁₁¹"
    assert partial("yhat", "o21", "latex") == r"\frac{\partial \hat{y}}{\partial o_{21}}"
    assert latex_name("w12^2") == "w_{12}^{2}"
    assert "frac" in partial("L", "o11")


def test_fmt():
    assert fmt(63245986) == "63,245,986"
    assert fmt(0.123456) == "0.1235"
    assert fmt(-0.0001234) == "-0.0001234"
    assert fmt(1.5e-7) == "1.500e-07"
    assert fmt(0.0) == "0" and fmt(None) == ""
    assert fmt(123456.7) == "123,457"


def test_term_puts_negative_numbers_in_parentheses():
    from memograd.viz.notation import fmt, term

    assert term(-0.15885683833831) == "(-0.1589)" and term(0.5159) == fmt(0.5159) == "0.5159"
    assert term(-0.00538722908864124, 6) == "(-0.00538723)"


def test_svg_text_after_a_name_returns_to_the_baseline_on_its_own_tspan():
    """A dy on an empty <tspan> moves nothing in Chromium: the text after w₁₁¹ stayed raised."""
    import xml.etree.ElementTree as ET

    from memograd.viz.notation import svg_name

    for markup, tail in (
        (svg_name("w11^1", 11, tail="=0.689"), "=0.689"),
        (svg_name("b1^1=-0.159", 10.5), "=-0.159"),
        (svg_name("z21 + w11^2=1", 12), "w112=1"),
    ):
        text = ET.fromstring(f'<text xmlns="http://www.w3.org/2000/svg">{markup}</text>')
        spans = list(text)
        assert all(s.text for s in spans), markup  # no empty tspan carrying a dy
        assert "".join(text.itertext()).endswith(tail)
        # the shifts add up to zero by the last tspan, which holds the text after the name
        assert abs(sum(float(s.get("dy", 0)) for s in spans)) < 1e-9, markup


@pytest.mark.parametrize(
    "name, uni, html, latex",
    [
        ("w10,1^2", "w₁₀,₁²", "w<sub>10,1</sub><sup>2</sup>", "w_{10,1}^{2}"),
        ("o1,10", "o₁,₁₀", "o<sub>1,10</sub>", "o_{1,10}"),
        ("w16,16^2", "w₁₆,₁₆²", "w<sub>16,16</sub><sup>2</sup>", "w_{16,16}^{2}"),
        ("b12^2", "b₁₂²", "b<sub>12</sub><sup>2</sup>", "b_{12}^{2}"),
    ],
)
def test_indices_of_ten_or_more_render_as_one_subscript(name, uni, html, latex):
    assert unicode_name(name) == uni
    assert html_name(name) == html
    assert latex_name(name) == latex


def test_every_name_the_engines_produce_renders_without_raw_markers():
    """Issue 13.1: no name of a 12-16-12-1 network (indices past 9 in every position) shows a raw
    ``^`` or a digit on the baseline in any of the three forms."""
    from memograd.scalar.nn import MLP, notes_network

    ex = notes_network(net=(12, 16, 12, 1), seed=0)
    names = [*ex.model.named_parameters()]
    names += [n.name for layer in MLP(12, [16, 12, 1]).layers for n in layer.neurons]
    names += [f"x{i}" for i in range(1, 13)] + ["L", "yhat"]
    for name in names:
        assert split_name(name) is not None, name
        uni = unicode_name(name)
        assert "^" not in uni and not any(c.isdigit() and c.isascii() for c in uni), (name, uni)
        html = html_name(name)
        assert "^" not in html and not re.search(r"(^|>)[^<]*\d", html.split("<", 1)[0]), html
        assert "^" not in re.sub(r"\^\{", "", latex_name(name)), latex_name(name)


@pytest.mark.parametrize("name", ["w11^1", "b2^3", "o21", "x1", "yhat", "L", "w10,1^2", "o1,10"])
def test_ascii_text_is_the_inverse_of_unicode_name(name):
    """``--ascii`` gives back the engines' ASCII names from the terminal's Unicode."""
    from memograd.viz.notation import ascii_text

    assert ascii_text(unicode_name(name)) == name


def test_ascii_text_spells_out_symbols():
    from memograd.viz.notation import ascii_text

    assert ascii_text("∂L/∂ŷ · ∂ŷ/∂o₂₁ → (ŷ − y)² ×5") == "dL/dyhat * dyhat/do21 -> (yhat - y)^2 x5"
    assert ascii_text("naïve").isascii()
    assert ascii_text("├── fib(1) ↺ repeat") == "|-- fib(1) * repeat"  # one character each
