"""THE backward pass, shared by every engine: a topological order plus a memo table of adjoints.

For an output L and every node n that L depends on::

    adjoint[L] = seed                                   (usually 1)
    adjoint[p] = sum over children c of p:  pullback_c(adjoint[c])[p]
               = sum over children c of p:  adjoint[c] * dc/dp       (scalars)

Walking the nodes in reverse topological order, each node's adjoint is complete (every child has
pushed its share: the "both paths" sum of the notes) before it is read. It is read exactly once,
pushed to every parent through the node's local derivatives, and then evicted from the table: each
entry is computed once and reused by all the parents that need it, which is why backprop costs about
one multiply-add per edge instead of one per chain-rule path.

A node is anything with two attributes (the engines' ``Value`` and ``Tensor`` both are):

``_parents``
    a tuple of the nodes it was computed from (``None`` entries are skipped);
``_pullback(adjoint)``
    the vector-Jacobian product: a sequence aligned with ``_parents`` holding each parent's share
    of the adjoint (``None`` where a parent gets no gradient).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class Node(Protocol):
    _parents: tuple[Any, ...]

    def _pullback(self, adjoint: Any) -> Any: ...


@dataclass(frozen=True)
class BackwardStats:
    """What one backward pass did: ``nodes`` adjoints computed (each once), ``edges`` local
    derivatives applied (one multiply-add each), ``peak_entries`` largest size of the memo table."""

    nodes: int
    edges: int
    peak_entries: int


class Trace:
    """Observer of the memo table, for teaching tools: override what you want to see.

    ``store`` is called when a node's adjoint is complete, ``push`` for each parent it is sent to
    (the entry being reused), ``evict`` when the entry leaves the table."""

    def store(self, node: Any, adjoint: Any) -> None:  # pragma: no cover - default does nothing
        pass

    def push(self, node: Any, parent: Any, contribution: Any) -> None:  # pragma: no cover
        pass

    def evict(self, node: Any) -> None:  # pragma: no cover
        pass


def topological_order(
    root: Any, parents: Callable[[Any], tuple[Any, ...]] | None = None
) -> list[Any]:
    """Nodes that ``root`` depends on, parents before children, ``root`` last.

    Iterative depth-first post-order (depth is bounded by memory, not by Python's stack) and
    deterministic: parents are visited in the order the op recorded them; the visited set is only
    queried, never iterated."""
    get = parents if parents is not None else _parents_of
    order: list[Any] = []
    visited = {id(root)}
    stack = [(root, iter(get(root)))]
    push, pop, append, seen = stack.append, stack.pop, order.append, visited.add
    while stack:
        node, it = stack[-1]
        for parent in it:
            if parent is not None and id(parent) not in visited:
                seen(id(parent))
                push((parent, iter(get(parent))))
                break
        else:
            pop()
            append(node)
    return order


def _parents_of(node: Any) -> tuple[Any, ...]:
    parents: tuple[Any, ...] = node._parents
    return parents


def backward(
    root: Any,
    seed: Any,
    visit: Callable[[Any, Any], None] | None = None,
    *,
    order: list[Any] | None = None,
    trace: Trace | None = None,
) -> BackwardStats:
    """Fill the adjoint memo table from ``root`` (seeded with ``seed``) down to the leaves.

    ``visit(node, adjoint)`` is called once per node, when its adjoint ∂root/∂node is complete and
    before it is evicted: engines use it to set ``.grad``. ``order`` may pass a precomputed
    ``topological_order(root)`` (replayed graphs). Returns counts of the work done."""
    if order is None:
        order = topological_order(root)
    adjoint: dict[int, Any] = {id(root): seed}
    nodes = edges = peak = 0
    for node in reversed(order):
        key = id(node)
        a = adjoint.pop(key, None)  # read once: the entry leaves the table here
        if a is None:
            continue  # nothing flows back to this node (all its consumers were non-differentiable)
        nodes += 1
        if visit is not None:
            visit(node, a)
        if trace is not None:
            trace.store(node, a)
        parents = node._parents
        if parents:
            shares = node._pullback(a)
            for parent, share in zip(parents, shares):
                if parent is None or share is None:
                    continue
                edges += 1
                if trace is not None:
                    trace.push(node, parent, share)
                pk = id(parent)
                previous = adjoint.get(pk)
                adjoint[pk] = share if previous is None else previous + share
            if len(adjoint) > peak:
                peak = len(adjoint)
        if trace is not None:
            trace.evict(node)
    return BackwardStats(nodes=nodes, edges=edges, peak_entries=max(peak, 1))
