"""The data of a path explanation (Factor, Path, ReusedTerm, Cost, Explanation) and its text:
``text()``, ``latex()``, ``to_dict()``; written-out sums shorten past ``SHOWN`` terms."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from memograd.paths.tex import _TEX_BRACKETS, _tex_d, _tex_factor, _tex_formula
from memograd.pictures import Drawable

VIEWS = ("op", "neuron")
# written-out sums (factored form, text, LaTeX, an adjoint's prefix formula) show this many terms
# and then "+ … (N terms in all)": a deep network has tens of thousands of paths; .paths has all
SHOWN = 16
MAX_PATHS = 100_000  # paths() and explain() refuse to list more (count_paths counts any number)


def display(name: str) -> str:
    """``yhat`` -> ``ŷ`` (``yhat2`` -> ``ŷ2``); other names unchanged."""
    if name.startswith("yhat"):
        return "ŷ" + name[4:]
    return name


@dataclass(frozen=True)
class Factor:
    """One factor of a path: ∂child/∂parent, its value and how it is computed."""

    name: str
    value: float
    formula: str
    child: str
    parent: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Path:
    """A chain-rule path from the output to ``wrt``: its factors, in order from the output."""

    factors: tuple[Factor, ...]
    nodes: tuple[str, ...]

    @property
    def product(self) -> float:
        p = 1.0
        for f in self.factors:
            p *= f.value
        return p

    def text(self) -> str:
        return " · ".join(f.name for f in self.factors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": list(self.nodes),
            "factors": [f.name for f in self.factors],
            "formulas": [f.formula for f in self.factors],
            "values": [f.value for f in self.factors],
            "product": self.product,
        }


@dataclass(frozen=True)
class ReusedTerm:
    """An adjoint ∂L/∂n met on the paths of ``wrt``, stored once in backprop's memo table."""

    name: str
    value: float
    formula: str
    users: tuple[str, ...]
    uses: int
    reads: int

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["users"] = list(self.users)
        return d


@dataclass(frozen=True)
class Cost:
    """Work to get every parameter's gradient: naive path enumeration vs memoized backprop."""

    parameters: int
    nodes: int
    edges: int
    paths: int
    naive_multiplications: int
    naive_additions: int
    backprop_multiplications: int
    backprop_additions: int

    @property
    def naive(self) -> int:
        return self.naive_multiplications + self.naive_additions

    @property
    def backprop(self) -> int:
        return self.backprop_multiplications + self.backprop_additions

    @property
    def ratio(self) -> float:
        return self.naive / self.backprop if self.backprop else math.nan

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(naive=self.naive, backprop=self.backprop, ratio=self.ratio)
        return d


@dataclass
class Explanation(Drawable):  # to_svg/save: drawn by viz (memograd.pictures)
    """Everything about ∂output/∂wrt, both ways. ``text()``, ``latex()``, ``to_dict()``."""

    output: str
    wrt: str
    view: str
    paths: list[Path]
    count: int
    path_sum: float
    backprop: float
    difference: float
    factored: str
    factored_values: str
    reused: list[ReusedTerm] = field(default_factory=list)
    cost: Cost | None = None
    # leading and trailing factors common to every path, pulled out of the factored form's bracket
    shared: tuple[int, int] = (0, 0)

    @property
    def target(self) -> str:
        """``∂L/∂w11^1``"""
        return f"∂{display(self.output)}/∂{display(self.wrt)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": self.output,
            "wrt": self.wrt,
            "view": self.view,
            "gradient": self.target,
            "count": self.count,
            "paths": [p.to_dict() for p in self.paths],
            "path_sum": self.path_sum,
            "backprop": self.backprop,
            "difference": self.difference,
            "factored": self.factored,
            "factored_values": self.factored_values,
            "reused": [r.to_dict() for r in self.reused],
            "cost": self.cost.to_dict() if self.cost is not None else None,
        }

    def text(self) -> str:
        lines = [f"{self.target}: {self.count} path(s) ({self.view} view)"]
        for i, p in enumerate(self.paths[:SHOWN], 1):
            lines.append(f"  path {i}: {' -> '.join(map(display, p.nodes))}")
            lines.append(f"    {p.text()}")
            for f in p.factors:
                lines.append(f"      {f.name} = {f.formula} = {f.value:.12g}")
            lines.append(f"    product = {p.product:.12g}")
        if self.count > SHOWN:
            lines.append(f"  … {self.count - SHOWN:,} more paths (all in .paths, summed below)")
        lines.append(f"  path sum   = {self.path_sum:.17g}")
        lines.append(f"  backprop   = {self.backprop:.17g}")
        lines.append(f"  difference = {self.difference:.3g}")
        lines.append(f"  factored: {self.target} = {self.factored}")
        lines.append(f"          = {self.factored_values}")
        if self.reused:
            lines.append("  memo table (adjoints stored once by backprop, reused here):")
            for r in self.reused:
                hit = f"already there from {', '.join(map(display, r.users))}" if r.users else ""
                lines.append(
                    f"    {r.name} = {r.value:.12g}  [{r.formula}]  {hit}; naive enumeration "
                    f"recomputes it {r.uses} times, backprop reads it {r.reads} times"
                )
        return "\n".join(lines)

    def latex(self) -> str:
        """The notes' formulas with the numbers filled in: the factored path sum
        (∂L/∂w11^1 = ∂L/∂ŷ [∂ŷ/∂o21 × ∂o21/∂o11 × ∂o11/∂w11^1 + ...]), the same with every factor's
        value, the path products, the path sum and backprop's value (one ``align*`` block), then
        every local derivative with its formula and value (a second one)."""
        t = _tex_d(self.output, self.wrt)
        if not self.paths:
            return f"\\begin{{align*}}\n{t} &= 0 \\quad\\text{{(no path)}}\n\\end{{align*}}"
        symbols = _factored_form(self.paths, self.shared, _tex_factor, " \\times ", _TEX_BRACKETS)
        numbers = _factored_form(
            self.paths, self.shared, lambda f: f"({f.value:.6g})", " \\times ", _TEX_BRACKETS
        )
        rows = [f"{t} &= {symbols}", f"  &= {numbers}"]
        if len(self.paths) > 1:
            rows.append("  &= " + _sum_of(f"({p.product:.6g})" for p in self.paths))
        rows.append(f"  &= {self.path_sum:.12g} && \\text{{path sum}}")
        rows.append(f"  &= {self.backprop:.12g} && \\text{{backprop (memoized)}}")
        out = ["\\begin{align*}", " \\\\\n".join(rows), "\\end{align*}"]
        seen: dict[str, Factor] = {}
        for p in self.paths:
            for f in p.factors:
                seen.setdefault(f.name, f)
        factors = [
            f"{_tex_factor(f)} &= {_tex_formula(f.formula)} = {f.value:.6g}"
            if f.formula != f"{f.value:g}"
            else f"{_tex_factor(f)} &= {f.value:.6g}"
            for f in seen.values()
        ]
        out += ["\\begin{align*}", " \\\\\n".join(factors), "\\end{align*}"]
        return "\n".join(out)


def _sum_of(terms: Any, total: int | None = None) -> str:
    """``a + b + …``: the first SHOWN terms, then ``+ … (N terms in all)`` if there are more
    (``total``: how many there are, when ``terms`` does not hold them all)."""
    shown: list[str] = []
    count = 0
    for term in terms:
        count += 1
        if count <= SHOWN:
            shown.append(term)
    total = count if total is None else total
    more = f" + … ({total:,} terms in all)" if total > len(shown) else ""
    return " + ".join(shown) + more


def _factored_form(
    path_list: list[Path], ends: tuple[int, int], term: Any, times: str, brackets: Any = ("[", "]")
) -> str:
    """``head [rest_1 + rest_2 + ...] tail`` with the shared leading/trailing factors (``ends``)
    outside the bracket, each factor written by ``term(factor)`` and joined by ``times``; a plain
    sum of products when nothing is shared."""
    if not path_list:
        return "0"
    head, tail = ends

    def product(factors: Any) -> str:
        return times.join(term(f) for f in factors) if factors else "1"

    first = path_list[0].factors
    inner = _sum_of(product(p.factors[head : len(p.factors) - tail]) for p in path_list)
    if not head and not tail:
        return inner
    out = f"{brackets[0]}{inner}{brackets[1]}"
    if head:
        out = f"{product(first[:head])} {out}"
    if tail:
        out = f"{out}{times}{product(first[len(first) - tail :])}"
    return out
