"""The notes' notation, written three ways: plain ASCII names (``w11^1``, ``o21``, ``yhat``),
Unicode for the terminal (``w₁₁¹``, ``ŷ``) and HTML/SVG markup (``w<sub>11</sub><sup>1</sup>``).

A name is ``letters`` + optional ``digits`` (written as a subscript) + optional ``^digits`` (a
superscript, the layer): ``w11^1``, ``b1^2``, ``o11``, ``x2``, ``yhat``, ``L``. Past index 9 the
engines separate the indices with commas (``w10,1^2``, ``o1,10``): the whole ``10,1`` is the
subscript. Anything else is shown as it is.
"""

from __future__ import annotations

import html as _html
import math
import re
from typing import Any, TextIO

_NAME = re.compile(r"^(?P<base>[A-Za-z]+?|yhat)(?P<sub>(?:\d+(?:,\d+)*)?)(?:\^(?P<sup>-?\d+))?$")
_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")  # a comma stays a comma
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_BASES = {"yhat": "ŷ", "sigma": "σ"}
MIN_FONT = 11.0  # no text in a picture is smaller (sub- and superscripts included), in SVG units


def split_name(name: str) -> tuple[str, str, str] | None:
    """``"w11^1" -> ("w", "11", "1")``; ``None`` when the name is not in the notes' notation."""
    m = _NAME.match(name or "")
    if not m:
        return None
    return m["base"], m["sub"] or "", m["sup"] or ""


_TOKEN = re.compile(r"[A-Za-z]+(?:\d+(?:,\d+)*)?(?:\^-?\d+)?")


def _per_token(name: str, one: Any, escape: Any) -> str:
    """An expression such as ``yhat - y``: convert each name in it, escape the rest."""
    out, pos = [], 0
    for m in _TOKEN.finditer(name):
        out.append(escape(name[pos : m.start()]))
        out.append(one(m.group(0)) if split_name(m.group(0)) else escape(m.group(0)))
        pos = m.end()
    out.append(escape(name[pos:]))
    return "".join(out)


def unicode_name(name: str) -> str:
    """``w11^1`` -> ``w₁₁¹``, ``yhat`` -> ``ŷ`` (for the terminal)."""
    parts = split_name(name)
    if parts is None:
        return _per_token(name, unicode_name, str) if name else name
    base, sub, sup = parts
    return _BASES.get(base, base) + sub.translate(_SUB) + sup.translate(_SUP)


def html_name(name: str) -> str:
    """``w11^1`` -> ``w<sub>11</sub><sup>1</sup>`` (escaped, for HTML)."""
    parts = split_name(name)
    if parts is None:
        return _per_token(name, html_name, _html.escape) if name else ""
    base, sub, sup = parts
    out = _html.escape(_BASES.get(base, base))
    if sub:
        out += f"<sub>{sub}</sub>"
    if sup:
        out += f"<sup>{sup}</sup>"
    return out


def svg_name(name: str, size: float = 13.0, tail: str = "") -> str:
    """Markup for inside an SVG ``<text>``: base, then subscript and superscript as ``<tspan>``
    shifted with ``dy`` (browsers agree on ``dy``; ``baseline-shift`` is not portable), then
    ``tail`` (plain text, e.g. ``=0.689``) back on the baseline.

    The way back to the baseline is a ``dy`` on ``tail``'s own ``<tspan>``: a ``dy`` on an empty
    ``<tspan>`` moves nothing in Chromium, and text written after the name stayed raised."""
    parts = split_name(name)
    if parts is None:
        return _svg_tokens(name, size) + _html.escape(tail) if name else _html.escape(tail)
    base, sub, sup = parts
    small = max(round(size * 0.75, 1), MIN_FONT)
    out = _html.escape(_BASES.get(base, base))
    shift = 0.0
    if sub:
        d = round(size * 0.3, 1)
        out += f'<tspan dy="{d}" font-size="{small}">{sub}</tspan>'
        shift += d
    if sup:
        d = round(size * 0.45 + shift, 1)
        # with a subscript, the superscript sits right after it (not stacked): readable and simple
        out += f'<tspan dy="{-d}" font-size="{small}">{sup}</tspan>'
        shift -= d
    if tail:
        back = f' dy="{round(-shift, 1)}"' if shift else ""
        out += f"<tspan{back}>{_html.escape(tail)}</tspan>"
    return out


def _svg_tokens(text: str, size: float) -> str:
    """An expression (``yhat - y``, ``b1^1=-0.159``): each name converted, the text after it
    passed as its ``tail`` so that it returns to the baseline."""
    matches = [m for m in _TOKEN.finditer(text) if split_name(m.group(0))]
    out = _html.escape(text[: matches[0].start()] if matches else text)
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        out += svg_name(m.group(0), size, tail=text[m.end() : end])
    return out


def partial(num: str, den: str, form: str = "html") -> str:
    """∂num/∂den. ``form``: ``html`` (a stacked fraction, styled by the report's ``.frac``),
    ``unicode`` (``∂L/∂w₁₁¹``) or ``latex``."""
    if form == "unicode":
        return f"∂{unicode_name(num)}/∂{unicode_name(den)}"
    if form == "latex":
        return rf"\frac{{\partial {latex_name(num)}}}{{\partial {latex_name(den)}}}"
    return f'<span class="frac"><span>∂{html_name(num)}</span><span>∂{html_name(den)}</span></span>'


def latex_name(name: str) -> str:
    parts = split_name(name)
    if parts is None:
        return name
    base, sub, sup = parts
    base = {"yhat": r"\hat{y}", "sigma": r"\sigma"}.get(base, base)
    return base + (f"_{{{sub}}}" if sub else "") + (f"^{{{sup}}}" if sup else "")


def term(x: float, digits: int = 4) -> str:
    """A number as a term inside a formula: ``fmt``, negatives in parentheses (``(-0.1589)``)."""
    return f"({fmt(x, digits)})" if x < 0 else fmt(x, digits)


def fmt(x: float, digits: int = 4) -> str:
    """A number as the lesson prints it everywhere (terminal, HTML, SVG): ``digits`` significant
    digits, integers with thousands separators, plain ``-``. Tests compare against this."""
    if x is None:
        return ""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x == 0:
        return "0"
    if 10**digits <= abs(x) < 1e15:
        return f"{x:,.0f}"
    if 1e-4 <= abs(x) < 10**digits:
        return f"{x:.{digits}g}"
    return f"{x:.{digits - 1}e}"


# --- one notation per output kind --------------------------------------------------------------
# Terminal text and HTML/SVG: Unicode (w₁₁¹, ŷ, ∂L/∂ŷ, →). JSON: the ASCII names (w11^1, yhat),
# which are the engines' own. ``--ascii`` turns any terminal output into ASCII with
# :func:`ascii_text` (w₁₁¹ -> w11^1, ŷ -> yhat, ∂ -> d, → -> ->).

_ASCII = {
    "ŷ": "yhat",
    "∂": "d",
    "→": "->",
    "←": "<-",
    "↔": "<->",
    "σ": "sigma",
    "Σ": "sum",
    "·": "*",
    "×": "x",
    "÷": "/",
    "−": "-",
    "–": "-",
    "—": "-",
    "≈": "~",
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "√": "sqrt",
    "…": "...",
    "✓": "+",
    "↺": "*",
    "├": "|",
    "│": "|",
    "┤": "|",
    "└": "`",
    "─": "-",
    "┌": "+",
    "┐": "+",
    "┘": "+",
    "┬": "+",
    "┴": "+",
    "┼": "+",
    "▁": "_",
    "▂": ".",
    "▃": "-",
    "▄": "=",
    "▅": "+",
    "▆": "*",
    "▇": "#",
    "█": "#",
    "▏": "|",
    "●": "*",
    "◆": "+",
    "µ": "u",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "ε": "eps",
    "η": "eta",
    "λ": "lambda",
}
_SUB_DIGITS = dict(zip("₀₁₂₃₄₅₆₇₈₉₋", "0123456789-"))
_SUP_DIGITS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-"))


def ascii_text(text: str) -> str:
    """Terminal text in plain ASCII: names back in the notes' ASCII form (``w₁₁¹`` -> ``w11^1``,
    ``(ŷ - y)²`` -> ``(yhat - y)^2``), symbols spelled out (``∂L/∂ŷ`` -> ``dL/dyhat``, ``→`` ->
    ``->``); any other non-ASCII character becomes ``?``."""
    out: list[str] = []
    in_sup = False
    for ch in text:
        if ch in _SUP_DIGITS:
            out.append(("" if in_sup else "^") + _SUP_DIGITS[ch])
            in_sup = True
            continue
        in_sup = False
        if ch.isascii():
            out.append(ch)
        elif ch in _SUB_DIGITS:
            out.append(_SUB_DIGITS[ch])
        else:
            out.append(_ASCII.get(ch, "?"))
    return "".join(out)


class AsciiStream:
    """A text stream that writes :func:`ascii_text` of everything to ``stream``. Its ``encoding``
    is ``ascii``, so rich draws table borders with ASCII characters too."""

    encoding = "ascii"

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(ascii_text(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()
