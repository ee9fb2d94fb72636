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
    the vector-Jacobian product: an iterable aligned with ``_parents`` holding each parent's share
    of the adjoint (``None`` where a parent gets no gradient).

Engines that make many tiny nodes (the scalar ``Value``) may lay a node out in slots instead, the
*slot layout*: ``_index``, a creation counter (parents have smaller ones); ``_adjoint``, the
node's own entry of the memo table (``None``: no entry); ``_p0``/``_d0`` and ``_p1``/``_d1``, up
to two parents and the local derivatives ∂node/∂parent (``_p1 = None``: one parent); for more
parents ``_p0 = None``, ``_ps`` the tuple of parents and ``_ds`` their local derivatives; a
leaf has ``_p0 = None`` and ``_ps = None``. Then, when no :class:`Trace` watches, the order is
found by sorting (:func:`creation_order`) rather than by a depth-first walk, and
``adjoint[node]`` is kept in ``node._adjoint`` rather than in a dict (:func:`_backward_in_slots`,
the same loop). Such nodes still offer ``_parents`` and ``_pullback`` for the loop with a trace.
Like ``.grad`` itself, those slots are shared state, so two threads must not run backward at once
over graphs that share nodes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
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


def creation_order(root: Any) -> list[Any]:
    """Nodes that ``root`` depends on, sorted by their creation index ``_index`` (``root`` last).

    For engines that number their nodes as they create them, in the slot layout (the scalar
    ``Value``): a node's parents exist before it does, so creation order is a topological order
    too. Finding it costs one pass over the edges (a dict keyed by index) and one sort in C,
    instead of a depth-first walk's per-node iterator bookkeeping."""
    seen = {root._index: root}
    stack = [root]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        p = node._p0
        if p is not None:  # one or two parents
            k = p._index
            if k not in seen:
                seen[k] = p
                push(p)
            p = node._p1
            if p is not None:
                k = p._index
                if k not in seen:
                    seen[k] = p
                    push(p)
        elif node._ps is not None:  # more parents
            for p in node._ps:
                k = p._index
                if k not in seen:
                    seen[k] = p
                    push(p)
    return [seen[k] for k in sorted(seen)]


def _into_grad(node: Any, adjoint: Any) -> None:
    """PyTorch's rule for ``.grad``: an intermediate node's is set to its adjoint (a second
    backward does not double it); a leaf's accumulates until ``zero_grad()``."""
    if node._parents:
        node.grad = adjoint
    else:
        node.grad += adjoint


INTO_GRAD: Callable[[Any, Any], None] = _into_grad
"""The ``visit`` that stores each adjoint in ``node.grad`` by PyTorch's rule (:func:`_into_grad`);
the slot-layout loop writes it out instead of calling it once per node."""


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
    before it is evicted: engines use it to set ``.grad`` (``INTO_GRAD``). ``order`` may pass a
    precomputed topological order (replayed graphs). Returns counts of the work done.

    The fast path, for engines that support it (nodes in the slot layout: the scalar ``Value``)
    and only when no ``trace`` watches: the order is creation order (found by :func:`_reach`,
    :func:`creation_order`'s walk with the table's slots as the visited marks), and the table
    lives in the nodes: ``adjoint[node]`` *is* ``node._adjoint`` (``None``: no entry),
    the same reads, pushes and evictions without hashing (:func:`_backward_in_slots`). Any
    topological order gives the same adjoints, up to the order in which a node's contributions
    are summed. With a ``trace`` (teaching tools) it is always this loop, the dict and
    :func:`topological_order`: what the lesson shows is the table below, step by step."""
    if trace is None and hasattr(root, "_adjoint"):
        return _backward_in_slots(root, seed, visit, order)
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


class _Reached:
    """The entry of a node that the pass has reached but no contribution has yet: the table
    holds it for every node of the graph, so that the walk that finds them needs no set."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "REACHED"


REACHED = _Reached()


def _reach(root: Any) -> list[Any]:
    """The nodes ``root`` depends on (slot layout), each given the entry ``REACHED``, sorted by
    creation index: :func:`creation_order` with the table's slots as the visited marks.

    Depth first, and down each node's first parent without the stack: the first parents' chains
    (a running sum, an activation's input) are walked in a plain loop, in the order the nodes
    were made, and only the other parents wait on the stack."""
    root._adjoint = REACHED
    nodes = [root]
    stack = [root]
    add, pop, push = nodes.append, stack.pop, stack.append
    try:
        while stack:
            node = pop()
            while True:
                p = node._p0
                if p is None:  # a leaf, or more parents
                    if node._ps is not None:
                        for p in node._ps:
                            if p._adjoint is None:
                                p._adjoint = REACHED
                                add(p)
                                push(p)
                    break
                q = node._p1
                if q is not None and q._adjoint is None:
                    q._adjoint = REACHED
                    add(q)
                    push(q)
                if p._adjoint is not None:
                    break
                p._adjoint = REACHED
                add(p)
                node = p  # on down the chain
    except BaseException:  # interrupted: leave no marks behind
        for node in nodes:
            node._adjoint = None
        raise
    nodes.sort(key=_creation_index)
    return nodes


_creation_index = attrgetter("_index")


def _backward_in_slots(
    root: Any,
    seed: Any,
    visit: Callable[[Any, Any], None] | None,
    order: list[Any] | None,
) -> BackwardStats:
    """:func:`backward`'s loop for nodes in the slot layout: ``node._adjoint`` is the entry
    ``adjoint[node]`` (``None``: not in this pass; ``REACHED``: in the graph, nothing received
    yet), and the pullback ``adjoint · ∂node/∂parent`` is written out over ``_p0``/``_p1`` (or
    ``_ps``). Line for line the loop above; with ``visit=INTO_GRAD`` the visit is written out
    too (set ``.grad``, or add to a leaf's)."""
    if order is None:
        order = _reach(root)
    else:
        for node in order:
            node._adjoint = REACHED
    into_grad = visit is INTO_GRAD
    root._adjoint = seed
    # the counters are floats: CPython allocates a new int object for every result above 256,
    # a float comes from a free list (one int each per node cost 8% of this loop); exact to 2**53
    skipped = 0
    edges = 0.0
    live = peak = 1.0  # entries in the table: the seed
    try:
        for node in reversed(order):
            a = node._adjoint
            node._adjoint = None  # read once: the entry leaves the table here
            if a is REACHED:
                skipped += 1
                continue  # nothing flows back to this node
            live -= 1.0
            p = node._p0
            if into_grad:
                if p is None and node._ps is None:
                    node.grad += a  # a leaf accumulates
                    continue
                node.grad = a
            elif visit is not None:
                visit(node, a)
            if p is not None:  # one or two parents: share = adjoint · local derivative
                previous = p._adjoint
                if previous is REACHED:
                    p._adjoint = a * node._d0
                    live += 1.0
                    if live > peak:
                        peak = live
                else:
                    p._adjoint = previous + a * node._d0
                p = node._p1
                if p is None:
                    edges += 1.0
                    continue
                edges += 2.0
                previous = p._adjoint
                if previous is REACHED:
                    p._adjoint = a * node._d1
                    live += 1.0
                    if live > peak:
                        peak = live
                else:
                    p._adjoint = previous + a * node._d1
            elif node._ps is not None:  # more parents
                parents = node._ps
                edges += len(parents)
                for p, d in zip(parents, node._ds):
                    previous = p._adjoint
                    if previous is REACHED:
                        p._adjoint = a * d
                        live += 1.0
                        if live > peak:
                            peak = live
                    else:
                        p._adjoint = previous + a * d
    except BaseException:  # interrupted (Ctrl-C, an error in visit): leave no entries behind
        for node in order:
            node._adjoint = None
        raise
    return BackwardStats(nodes=len(order) - skipped, edges=int(edges), peak_entries=int(peak))
