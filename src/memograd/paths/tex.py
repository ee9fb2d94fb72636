"""LaTeX for the notes' names and formulas: ``w10,3^2`` -> ``w_{10,3}^{2}``, σ -> ``\\sigma``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memograd.paths.records import Factor

# the notes' names in a formula or node name: ŷ/yhat2, w11^2 / b1^3 / w10,3^2, o21 / x1 / z31
_NAME = re.compile(r"(?:ŷ|yhat)(\d*)|([wb])(\d+(?:,\d+)?)\^(\d+)|([oxz])(\d+(?:,\d+)?)")
_TEX_WORDS = [
    ("σ", "\\sigma"),
    ("tanh", "\\tanh"),
    ("relu", "\\operatorname{relu}"),
    ("sign", "\\operatorname{sign}"),
    ("exp", "\\exp"),
    ("ln ", "\\ln "),
    ("sin", "\\sin"),
    ("cos", "\\cos"),
    ("√", "\\sqrt"),
    ("²", "^{2}"),
    ("·", " \\cdot "),
    (" if ", "\\text{ if }"),
    (" else ", "\\text{ else }"),
    (" at ", "\\text{ at }"),
    ("#", "\\#"),
]
_TEX_BRACKETS = ("\\Bigl[", "\\Bigr]")


def _tex_names(match: re.Match[str]) -> str:
    yhat, wb, wb_idx, layer, oxz, oxz_idx = match.groups()
    if wb is not None:
        return f"{wb}_{{{wb_idx}}}^{{{layer}}}"
    if oxz is not None:
        return f"{oxz}_{{{oxz_idx}}}"
    return "\\hat{y}" + (f"_{{{yhat}}}" if yhat else "")


def _tex_formula(text: str) -> str:
    """A factor's formula (``σ'(z21)·w11^2``) or node name (``(ŷ - 0.3972)``) as LaTeX."""
    for word, tex in _TEX_WORDS:
        text = text.replace(word, tex)
    return _NAME.sub(_tex_names, text)


def _tex_name(name: str) -> str:
    if name == "L" or _NAME.fullmatch(name):
        return _tex_formula(name)
    return _tex_formula(name) if name.startswith("(") else f"\\mathrm{{{_tex_formula(name)}}}"


def _tex_d(child: str, parent: str) -> str:
    return f"\\frac{{\\partial {_tex_name(child)}}}{{\\partial {_tex_name(parent)}}}"


def _tex_factor(f: Factor) -> str:
    return _tex_d(f.child, f.parent)
