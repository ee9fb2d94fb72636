"""Chain-rule paths: the naive twin of backprop, to show what memoization saves.

∂L/∂w is a sum over every path L -> ... -> w in the graph of the product of the local derivatives
along the path. Backprop (``memograd.graph.backward``) gets the same number by memoizing the
adjoints ∂L/∂n; this module enumerates the paths explicitly, counts them, factors them and counts
the work both ways.

Public API::

    paths(output, wrt, view="op", max_paths=100_000) -> list[Path]
    count_paths(output, wrt, view="op") -> int              # dynamic programming, no enumeration
    explain(output, wrt, view="neuron", params=None) -> Explanation
        # params: the parameters for memo hits and cost (default: named leaves except x1, x2..)
    cost(output, params=None) -> Cost                       # naive enumeration vs memoized backprop
    adjoints(output) -> dict[id(node), float]               # ∂output/∂node by the shared backward
    find(output, name) -> Value                             # a node of the graph by name

``wrt`` is a ``Value`` or the name of one in the graph (``"w11^1"``); an unknown name raises
``MemogradValueError`` listing the valid names.

Views. ``"op"``: every node of the graph is a path step, each factor a local derivative of one
op (``∂sigmoid/∂wsum``). ``"neuron"``: only *named* nodes are steps (inputs x1, parameters w11^1,
neuron outputs o11, ŷ, L, plus ``output`` and ``wrt``); the unnamed op nodes in between (weighted
sums, activations, loss arithmetic) are collapsed into one factor whose value is the product of
their local derivatives (a sum when several op paths join the same two named nodes), so a path
reads as in the notes: ∂L/∂ŷ · ∂ŷ/∂o21 · ∂o21/∂o11 · ∂o11/∂w11^1, with
``∂o21/∂o11 = σ'(z21)·w11^2``. Both views give the same path sum.

Data (dataclasses, each with ``to_dict()`` for JSON):

``Factor(name, value, formula, child, parent)``
    one local derivative: ``name`` "∂o21/∂o11", ``formula`` "σ'(z21)·w11^2".
``Path(factors, nodes)``
    ``.product``, ``.nodes`` ("L", "yhat", "o21", "o11", "w11^1"), ``.text()``.
``ReusedTerm(name, value, formula, users, uses, reads)``
    an adjoint ∂L/∂n on the paths of ``wrt`` that backprop stores once in its memo table:
    ``users`` the parameters nearer the output whose gradients already needed it (the memo hit:
    "used in ∂L/∂w11^2, we don't need to calculate again"), ``uses`` how many parameter paths
    (over all parameters) start with it, i.e. how often naive enumeration recomputes it, and
    ``reads`` how often backprop reads it (once per outgoing edge).
``Explanation``
    ``output, wrt, view, paths, count, path_sum, backprop, difference, factored,
    factored_values, reused, cost``; ``text()``, ``latex()``, ``to_dict()``.
``Cost``
    counted on the real op-level graph: ``naive_multiplications``/``naive_additions`` to get every
    parameter's gradient by enumerating its paths separately (a path of m factors costs m - 1
    multiplications; P paths cost P - 1 additions), versus ``backprop_multiplications`` (one per
    edge: adjoint × local derivative) and ``backprop_additions`` (one per extra contribution
    summed into an adjoint); ``ratio`` = naive / backprop operations.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field

from memograd import graph
from memograd.errors import MemogradTypeError, MemogradValueError
from memograd.scalar.value import RULES, Value

__all__ = [
    "Factor",
    "Path",
    "ReusedTerm",
    "Cost",
    "Explanation",
    "paths",
    "count_paths",
    "explain",
    "cost",
    "adjoints",
    "find",
    "display",
]

VIEWS = ("op", "neuron")
# written-out sums (factored form, text, LaTeX, an adjoint's prefix formula) show this many terms
# and then "+ … (N terms in all)": a deep network has tens of thousands of paths; .paths has all
SHOWN = 16
MAX_PATHS = 100_000  # paths() and explain() refuse to list more (count_paths counts any number)

# short names of activation derivatives, as the notes write them
_PRIME = {"sigmoid": "σ'({x})", "tanh": "tanh'({x})", "relu": "relu'({x})"}


def display(name: str) -> str:
    """``yhat`` -> ``ŷ`` (``yhat2`` -> ``ŷ2``); other names unchanged."""
    if name.startswith("yhat"):
        return "ŷ" + name[4:]
    return name


# --- data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Factor:
    """One factor of a path: ∂child/∂parent, its value and how it is computed."""

    name: str
    value: float
    formula: str
    child: str
    parent: str

    def to_dict(self) -> dict:
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

    def to_dict(self) -> dict:
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

    def to_dict(self) -> dict:
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

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(naive=self.naive, backprop=self.backprop, ratio=self.ratio)
        return d


@dataclass
class Explanation:
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

    def to_dict(self) -> dict:
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


def _tex_names(match: re.Match) -> str:
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


# --- the views ---------------------------------------------------------------------------------


class _Edge:
    __slots__ = ("parent", "value", "formula")

    def __init__(self, parent, value: float, formula: str):
        self.parent, self.value, self.formula = parent, value, formula


def _fmt(c: float) -> str:
    return f"{c:.4g}"


def _names(order: list) -> dict[int, str]:
    """A display name for every node: its name, its label, else a short expression of its
    operands (``(ŷ - 0.3972)``), else op#k (k: its index in topological order). An unnamed node
    whose expression another node already shows (``x·x`` computed twice) gets op#k, so that a
    path's node names tell its nodes apart."""
    out: dict[int, str] = {}
    taken: set[str] = set()
    for k, n in enumerate(order):
        if n.name is not None:
            name = n.name
        elif n.label is not None:
            name = n.label
        else:
            expr = _fmt(n.data) if not n._parents else _expression(n, out)
            ok = expr is not None and len(expr) <= 24 and expr not in taken
            name = expr if ok else f"{n.op or 'const'}#{k}"
        out[id(n)] = name
        taken.add(name)
    return out


def _expression(n, names: dict[int, str]) -> str | None:
    if n.op == "wsum":
        return None
    rule = RULES[n.op]
    ps = [display(names[id(p)]) for p in n._parents]
    if len(rule.derivatives) == 1:
        return rule.formula.format(x=ps[0])
    if len(ps) == 2:
        x, y = ps
    else:
        pos, c = n.arg
        x, y = (_fmt(c), ps[0]) if pos == 0 else (ps[0], _fmt(c))
    return "(" + rule.formula.format(x=x, y=y) + ")"


def _bare(expr: str) -> str:
    """``(a - b)`` -> ``a - b`` when the outer parentheses enclose the whole expression."""
    if expr.startswith("(") and expr.endswith(")"):
        depth = 0
        for k, ch in enumerate(expr):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and k < len(expr) - 1:
                return expr
        return expr[1:-1]
    return expr


def _local_formula(node, i: int, names: dict[int, str]) -> str:
    """The local derivative ∂node/∂parents[i] written with the operands' names."""
    op = node.op
    parents = node._parents
    if op == "wsum":
        n, m = node.arg
        if i < n:  # a weight: ∂z/∂w_i = x_i
            return display(names[id(parents[n + i])]) if m == n else _fmt(node._local[i])
        if i < n + m:  # an input: ∂z/∂x_i = w_i
            return display(names[id(parents[i - n])]) if m == n else _fmt(node._local[i])
        return "1"
    if op in _PRIME:
        return _PRIME[op].format(x=_bare(display(names[id(parents[0])])))
    rule = RULES[op]
    if len(rule.derivatives) == 1:
        return rule.derivatives[0].format(x=_bare(display(names[id(parents[0])])))
    if len(parents) == 2:
        x, y = names[id(parents[0])], names[id(parents[1])]
        j = i
    else:
        pos, c = node.arg
        if pos == 0:
            x, y, j = _fmt(c), names[id(parents[0])], 1
        else:
            x, y, j = names[id(parents[0])], _fmt(c), 0
            if op == "pow":  # c·x^(c-1) with the exponent worked out
                e = c - 1
                if e == 0:
                    return _fmt(c)
                power = display(x) if e == 1 else f"{display(x)}^{_fmt(e)}"
                return power if c == 1 else f"{_fmt(c)}·{power}"
    return rule.derivatives[j].format(x=display(x), y=display(y))


def _simplify(parts: list[str]) -> str:
    parts = [p for p in parts if p != "1"]
    if not parts:
        return "1"
    neg = sum(1 for p in parts if p == "-1")
    parts = [p for p in parts if p != "-1"]
    body = "·".join(parts) if parts else "1"
    return ("-" + body if parts else "-1") if neg % 2 else body


def _reaching(order: list, target) -> set[int]:
    """ids of the nodes from which ``target`` can be reached (target included)."""
    reach = {id(target)}
    for n in order:
        if any(id(p) in reach for p in n._parents):
            reach.add(id(n))
    return reach


def _view_edges(output, order: list, names: dict[int, str], view: str, keep_ids: set[int]):
    """node id -> list of _Edge (to parents in the chosen view), for nodes reachable from output.

    Op view: the graph's own edges. Neuron view: edges between kept nodes, each the sum over the
    op paths between them (through unkept nodes only) of the product of local derivatives."""
    edges: dict[int, list[_Edge]] = {}
    if view == "op":
        for n in order:
            edges[id(n)] = [
                _Edge(p, d, _local_formula(n, i, names))
                for i, (p, d) in enumerate(zip(n._parents, n._local))
            ]
        return edges
    for n in order:
        if id(n) not in keep_ids:
            continue
        merged: dict[int, _Edge] = {}
        ordered: list[int] = []
        formulas: dict[int, list[str]] = {}
        # iterative depth-first walk (in the parents' recorded order) through the unkept region
        stack = [(n, 1.0, [], iter(enumerate(zip(n._parents, n._local))))]
        while stack:
            m, value, parts, it = stack[-1]
            for i, (p, d) in it:
                f = [*parts, _local_formula(m, i, names)]
                if id(p) in keep_ids:
                    key = id(p)
                    if key in merged:
                        merged[key].value += value * d
                        formulas[key].append(_simplify(f))
                    else:
                        merged[key] = _Edge(p, value * d, "")
                        formulas[key] = [_simplify(f)]
                        ordered.append(key)
                else:
                    stack.append((p, value * d, f, iter(enumerate(zip(p._parents, p._local)))))
                    break
            else:
                stack.pop()
        out = []
        for key in ordered:
            e = merged[key]
            fs = formulas[key]
            e.formula = fs[0] if len(fs) == 1 else "(" + " + ".join(fs) + ")"
            out.append(e)
        edges[id(n)] = out
    return edges


def _keep(order: list, output, wrt, view: str) -> set[int]:
    if view == "op":
        return {id(n) for n in order}
    return {id(n) for n in order if n.name is not None} | {id(output), id(wrt)}


def _check_view(view: str) -> None:
    if view not in VIEWS:
        raise MemogradValueError(f"unknown view {view!r}; choose 'neuron' or 'op'")


def find(output: Value, name: str) -> Value:
    """The node named ``name`` in the graph of ``output`` (the first in topological order)."""
    order = graph.topological_order(output)
    for n in order:
        if n.name == name:
            return n
    leaves = [n.name for n in order if n.name is not None and not n._parents]
    others = [n.name for n in order if n.name is not None and n._parents]
    raise MemogradValueError(
        f"unknown name {name!r}; valid names: {', '.join(leaves + others) or '(no named nodes)'}"
    )


def _resolve(output, wrt) -> Value:
    if not isinstance(output, Value):
        raise MemogradTypeError(f"output must be a Value, got {type(output).__name__}")
    if isinstance(wrt, str):
        return find(output, wrt)
    if not isinstance(wrt, Value):
        raise MemogradTypeError(f"wrt must be a Value or a name, got {type(wrt).__name__}")
    return wrt


# --- paths and counting -------------------------------------------------------------------------


def _prepare(output, wrt, view):
    _check_view(view)
    wrt = _resolve(output, wrt)
    order = graph.topological_order(output)
    names = _names(order)
    reach = _reaching(order, wrt)
    keep = _keep(order, output, wrt, view)
    edges = _view_edges(output, order, names, view, keep) if id(wrt) in reach else {}
    return wrt, order, names, reach, keep, edges


def _count(output, wrt, order, reach, keep, edges) -> int:
    if id(wrt) not in reach:
        return 0
    count = {id(output): 1}
    for n in reversed(order):
        c = count.get(id(n))
        if not c or id(n) not in keep or n is wrt:
            continue
        for e in edges[id(n)]:
            k = id(e.parent)
            if k in reach:
                count[k] = count.get(k, 0) + c
    return count.get(id(wrt), 0)


def count_paths(output: Value, wrt, view: str = "op") -> int:
    """Number of chain-rule paths from ``output`` to ``wrt`` by dynamic programming over the
    topological order (count[parent] += count[child] per edge): exact, no enumeration."""
    wrt, order, _names_, reach, keep, edges = _prepare(output, wrt, view)
    return _count(output, wrt, order, reach, keep, edges)


def paths(output: Value, wrt, view: str = "op", max_paths: int = MAX_PATHS) -> list[Path]:
    """Every chain-rule path from ``output`` to ``wrt``: a list of :class:`Path`, each the list of
    local-derivative factors along it; Σ path.product == ∂output/∂wrt. Raises if there are more
    than ``max_paths`` (use :func:`count_paths` to count them)."""
    wrt, order, names, reach, keep, edges = _prepare(output, wrt, view)
    return _enumerate(output, wrt, order, names, reach, keep, edges, max_paths)


def _enumerate(output, wrt, order, names, reach, keep, edges, max_paths) -> list[Path]:
    n_paths = _count(output, wrt, order, reach, keep, edges)
    if n_paths > max_paths:
        raise MemogradValueError(
            f"paths: {n_paths} paths from {names[id(output)]} to {names[id(wrt)]} exceed "
            f"max_paths={max_paths}; count them with count_paths() or raise max_paths"
        )
    result: list[Path] = []
    if n_paths == 0:
        return result
    # iterative depth-first enumeration: stack of (node, factors so far)
    stack: list[tuple] = [(output, ())]
    while stack:
        node, factors = stack.pop()
        if node is wrt:
            nodes = (names[id(output)], *(f.parent for f in factors))
            result.append(Path(factors=factors, nodes=nodes))
            continue
        child = names[id(node)]
        for e in reversed(edges[id(node)]):
            if id(e.parent) not in reach:
                continue
            parent = names[id(e.parent)]
            f = Factor(
                name=f"∂{display(child)}/∂{display(parent)}",
                value=e.value,
                formula=e.formula,
                child=child,
                parent=parent,
            )
            stack.append((e.parent, (*factors, f)))
    return result


def adjoints(output: Value) -> dict[int, float]:
    """∂output/∂node for every node (keyed by ``id(node)``), by the shared memoized backward,
    without touching any ``.grad``."""
    table: dict[int, float] = {}

    def store(node, a):
        table[id(node)] = a

    graph.backward(output, 1.0, store)
    return table


# --- cost ---------------------------------------------------------------------------------------


def cost(output: Value, params=None) -> Cost:
    """Multiplications and additions to get ∂output/∂p for every parameter p (default: every
    leaf of the graph), counted on the real op-level graph by dynamic programming:

    naive (each parameter's paths enumerated separately): a path with m factors costs m - 1
    multiplications, P paths cost P - 1 additions; backprop: one multiplication per edge
    (adjoint × local derivative) and one addition per extra contribution to an adjoint."""
    order = graph.topological_order(output)
    if params is None:
        params = [n for n in order if not n._parents]
    count = {id(output): 1}  # number of paths output -> node
    length = {id(output): 0}  # total number of factors over those paths
    contributions: dict[int, int] = {}
    edges = 0
    for n in reversed(order):
        c = count.get(id(n), 0)
        s = length.get(id(n), 0)
        for p in n._parents:
            edges += 1
            k = id(p)
            count[k] = count.get(k, 0) + c
            length[k] = length.get(k, 0) + s + c
            contributions[k] = contributions.get(k, 0) + 1
    naive_mul = naive_add = total = 0
    for p in params:
        c = count.get(id(p), 0)
        if c:
            total += c
            naive_mul += length[id(p)] - c
            naive_add += c - 1
    return Cost(
        parameters=len(params),
        nodes=len(order),
        edges=edges,
        paths=total,
        naive_multiplications=naive_mul,
        naive_additions=naive_add,
        backprop_multiplications=edges,
        backprop_additions=sum(k - 1 for k in contributions.values()),
    )


def default_params(order: list) -> list:
    """The parameters when none are given: named leaves, except inputs named x1, x2, ..."""
    return [
        n
        for n in order
        if not n._parents
        and n.name is not None
        and not (n.name[:1] == "x" and n.name[1:].replace(",", "").isdigit())
    ]


# --- explain ------------------------------------------------------------------------------------


def _common_prefix(seqs: list[tuple]) -> int:
    if not seqs:
        return 0
    k = 0
    while all(len(s) > k for s in seqs) and all(s[k] == seqs[0][k] for s in seqs):
        k += 1
    return k


def _sum_of(terms, total: int | None = None) -> str:
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


def _shared_ends(path_list: list[Path]) -> tuple[int, int]:
    """(head, tail): how many leading factors every path shares, pulled out in front of the
    bracket as the notes do (∂L/∂ŷ [...]); only when there is no such head, how many trailing
    factors they share, pulled out behind it ([∂L/∂ŷ1·∂ŷ1/∂o11 + ...] · ∂o11/∂w31^1: the bracket
    is then the adjoint ∂L/∂o11 that backprop stores). (0, 0) for one path, or identical ones."""
    if len(path_list) < 2:
        return 0, 0
    names = [tuple(f.name for f in p.factors) for p in path_list]
    if len(set(names)) == 1:  # x + x: nothing to factor
        return 0, 0
    head = _common_prefix(names)
    if head:
        return head, 0
    return 0, _common_prefix([n[::-1] for n in names])


def _factored_form(
    path_list: list[Path], ends: tuple[int, int], term, times: str, brackets=("[", "]")
) -> str:
    """``head [rest_1 + rest_2 + ...] tail`` with the shared leading/trailing factors (``ends``)
    outside the bracket, each factor written by ``term(factor)`` and joined by ``times``; a plain
    sum of products when nothing is shared."""
    if not path_list:
        return "0"
    head, tail = ends

    def product(factors) -> str:
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


def explain(output: Value, wrt, view: str = "neuron", params=None) -> Explanation:
    """∂output/∂wrt both ways: every path with its factors and product, their sum, the backprop
    value and the difference, the factored form, and the memo-table terms it reuses.

    ``params`` (default: every named leaf) are the parameters for the memo-hit and cost
    accounting."""
    wrt, order, names, reach, keep, edges = _prepare(output, wrt, view)
    path_list = _enumerate(output, wrt, order, names, reach, keep, edges, MAX_PATHS)
    path_sum = math.fsum(p.product for p in path_list)
    table = adjoints(output)
    bp = table.get(id(wrt), 0.0)
    out_name, wrt_name = names[id(output)], names.get(id(wrt), wrt.display)
    shared = _shared_ends(path_list)
    factored = _factored_form(path_list, shared, lambda f: f.name, " · ")
    factored_values = _factored_form(path_list, shared, lambda f: f"({f.value:.6g})", " · ")
    if params is None:
        params = default_params(order)
    reused = _reused(output, wrt, order, names, reach, keep, edges, table, params, path_list)
    return Explanation(
        output=out_name,
        wrt=wrt_name,
        view=view,
        paths=path_list,
        count=len(path_list),
        path_sum=path_sum,
        backprop=bp,
        difference=abs(path_sum - bp),
        factored=factored,
        factored_values=factored_values,
        shared=shared,
        reused=reused,
        cost=cost(output, params),
    )


def _distance(output, order, keep, edges) -> dict[int, int]:
    """Shortest number of view steps from the output to every kept node."""
    dist = {id(output): 0}
    for n in reversed(order):
        d = dist.get(id(n))
        if d is None or id(n) not in keep:
            continue
        for e in edges.get(id(n), ()):
            k = id(e.parent)
            if k not in dist or dist[k] > d + 1:
                dist[k] = d + 1
    return dist


def _reused(output, wrt, order, names, reach, keep, edges, table, params, path_list):
    on_paths: list[int] = []
    node_of = {}
    # intermediate nodes of the paths, in order of first appearance, then sorted by distance
    by_name = {names[id(n)]: n for n in order}
    for p in path_list:
        for nm in p.nodes[1:-1]:
            n = by_name[nm]
            if id(n) not in node_of:
                node_of[id(n)] = n
                on_paths.append(id(n))
    if not on_paths:
        return []
    dist = _distance(output, order, keep, edges)
    on_paths.sort(key=lambda k: dist[k])  # from the output down (stable: then path order)
    from_output = _descendant_counts(output, order, keep, edges)  # view paths L -> node
    wrt_dist = dist.get(id(wrt), 0)
    # paths from each kept node to each parameter (view graph), for "uses"
    out = []
    for k in on_paths:
        n = node_of[k]
        reach_n = _descendant_counts(n, order, keep, edges)
        near = [
            (dist[id(q)], i, q)
            for i, q in enumerate(params)
            if q is not wrt and id(q) in reach_n and dist.get(id(q), 1 << 30) < wrt_dist
        ]
        users = tuple(names[id(q)] for _, _, q in sorted(near, key=lambda t: t[:2]))
        uses = sum(reach_n.get(id(q), 0) for q in params)
        prefix = _prefix_formula(path_list, names[k], from_output.get(k, 0))
        out.append(
            ReusedTerm(
                name=f"∂{display(names[id(output)])}/∂{display(names[k])}",
                value=table.get(k, 0.0),
                formula=prefix,
                users=users,
                uses=uses,
                reads=len(edges.get(k, ())),
            )
        )
    return out


def _descendant_counts(start, order, keep, edges) -> dict[int, int]:
    """Number of view paths from ``start`` to every node below it."""
    count = {id(start): 1}
    for n in reversed(order):
        c = count.get(id(n))
        if not c or id(n) not in keep:
            continue
        for e in edges.get(id(n), ()):
            k = id(e.parent)
            count[k] = count.get(k, 0) + c
    return count


def _prefix_formula(path_list: list[Path], node_name: str, total: int) -> str:
    """The adjoint ∂L/∂n as a sum over the distinct path prefixes that end at n (``total`` of
    them: the paths from L to n), written out up to SHOWN terms."""
    seen: dict[str, None] = {}
    for p in path_list:
        if node_name in p.nodes:
            i = p.nodes.index(node_name)
            seen.setdefault(" · ".join(f.name for f in p.factors[:i]))
            if len(seen) >= min(SHOWN, total):
                break
    return _sum_of(seen, total=max(total, len(seen)))
