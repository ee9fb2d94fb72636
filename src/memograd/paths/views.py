"""The graph as paths see it: a name for every node, the formula of every local derivative, and
the two views (``op``: every node a step; ``neuron``: only named nodes, the op nodes between two
of them collapsed into one factor)."""

from __future__ import annotations

from typing import Any

from memograd import graph
from memograd.errors import MemogradTypeError, MemogradValueError
from memograd.paths.records import VIEWS, display
from memograd.scalar.value import RULES, Value

# short names of activation derivatives, as the notes write them
_PRIME = {"sigmoid": "σ'({x})", "tanh": "tanh'({x})", "relu": "relu'({x})"}


class _Edge:
    __slots__ = ("parent", "value", "formula")

    def __init__(self, parent: Any, value: float, formula: str) -> None:
        self.parent, self.value, self.formula = parent, value, formula


def _fmt(c: float) -> str:
    return f"{c:.4g}"


def _names(order: list[Any]) -> dict[int, str]:
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


def _expression(n: Value, names: dict[int, str]) -> str | None:
    if n.op == "wsum":
        return None
    rule = RULES[n.op]
    parents: tuple[Any, ...] = n._parents
    ps = [display(names[id(p)]) for p in parents]
    if len(rule.derivatives) == 1:
        return rule.formula.format(x=ps[0])
    if len(ps) == 2:
        x, y = ps
    else:
        arg: Any = n.arg  # (position of the constant operand, the constant)
        pos, c = arg
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


def _local_formula(node: Any, i: int, names: dict[int, str]) -> str:
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


def _reaching(order: list[Any], target: Any) -> set[int]:
    """ids of the nodes from which ``target`` can be reached (target included)."""
    reach = {id(target)}
    for n in order:
        if any(id(p) in reach for p in n._parents):
            reach.add(id(n))
    return reach


def _view_edges(
    output: Any, order: list[Any], names: dict[int, str], view: str, keep_ids: set[int]
) -> Any:
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
        stack: list[tuple[Any, float, list[Any], Any]] = [
            (n, 1.0, [], iter(enumerate(zip(n._parents, n._local))))
        ]
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


def _keep(order: list[Any], output: Any, wrt: Any, view: str) -> set[int]:
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
            found: Value = n
            return found
    leaves = [n.name for n in order if n.name is not None and not n._parents]
    others = [n.name for n in order if n.name is not None and n._parents]
    raise MemogradValueError(
        f"unknown name {name!r}; valid names: {', '.join(leaves + others) or '(no named nodes)'}"
    )


def _resolve(output: Any, wrt: Any) -> Value:
    if not isinstance(output, Value):
        raise MemogradTypeError(f"output must be a Value, got {type(output).__name__}")
    if isinstance(wrt, str):
        return find(output, wrt)
    if not isinstance(wrt, Value):
        raise MemogradTypeError(f"wrt must be a Value or a name, got {type(wrt).__name__}")
    return wrt
