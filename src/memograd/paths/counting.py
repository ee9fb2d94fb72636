"""Enumerating and counting chain-rule paths, backprop's adjoints, and the cost of both ways."""

from __future__ import annotations

from typing import Any

from memograd import graph
from memograd.errors import MemogradValueError
from memograd.paths.records import MAX_PATHS, Cost, Factor, Path, display
from memograd.paths.views import _check_view, _keep, _names, _reaching, _resolve, _view_edges
from memograd.scalar.value import Value


def _prepare(output: Any, wrt: Any, view: str) -> Any:
    _check_view(view)
    wrt = _resolve(output, wrt)
    order = graph.topological_order(output)
    names = _names(order)
    reach = _reaching(order, wrt)
    keep = _keep(order, output, wrt, view)
    edges = _view_edges(output, order, names, view, keep) if id(wrt) in reach else {}
    return wrt, order, names, reach, keep, edges


def _count(output: Any, wrt: Any, order: Any, reach: Any, keep: Any, edges: Any) -> int:
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


def count_paths(output: Value, wrt: Any, view: str = "op") -> int:
    """Number of chain-rule paths from ``output`` to ``wrt`` by dynamic programming over the
    topological order (count[parent] += count[child] per edge): exact, no enumeration."""
    wrt, order, _names_, reach, keep, edges = _prepare(output, wrt, view)
    return _count(output, wrt, order, reach, keep, edges)


def paths(output: Value, wrt: Any, view: str = "op", max_paths: int = MAX_PATHS) -> list[Path]:
    """Every chain-rule path from ``output`` to ``wrt``: a list of :class:`Path`, each the list of
    local-derivative factors along it; Σ path.product == ∂output/∂wrt. Raises if there are more
    than ``max_paths`` (use :func:`count_paths` to count them)."""
    wrt, order, names, reach, keep, edges = _prepare(output, wrt, view)
    found: list[Path] = _enumerate(output, wrt, order, names, reach, keep, edges, max_paths)
    return found


def _enumerate(
    output: Any,
    wrt: Any,
    order: Any,
    names: Any,
    reach: Any,
    keep: Any,
    edges: Any,
    max_paths: Any,
    n_paths: Any = None,
) -> Any:
    """The paths output -> wrt through ``reach`` (the nodes that lead to wrt), depth first in
    the edges' recorded order; ``n_paths``: their number, when the caller has it."""
    if n_paths is None:
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
    stack: list[tuple[Any, ...]] = [(output, ())]
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

    def store(node: Any, a: Any) -> None:
        table[id(node)] = a

    graph.backward(output, 1.0, store)
    return table


# --- cost ---------------------------------------------------------------------------------------


def cost(output: Value, params: Any = None) -> Cost:
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


def default_params(order: list[Any]) -> list[Any]:
    """The parameters when none are given: named leaves, except inputs named x1, x2, ..."""
    return [
        n
        for n in order
        if not n._parents
        and n.name is not None
        and not (n.name[:1] == "x" and n.name[1:].replace(",", "").isdigit())
    ]
