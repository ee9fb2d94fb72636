"""What backprop's memoization costs in bytes: the memo table and the saved activations.

A :class:`MemoryTrace` is a ``graph.Trace`` (the memo table's observer): it starts from the bytes
every recorded op saved for its VJP (the arrays the graph keeps alive: activations, and a constant
input batch the first layer keeps; parameters, the leaves that require grad, exist anyway and are
not counted; a buffer shared by several ops counts once) and follows backward event by event::

    push(node, parent)   a new table entry: + its bytes
    store(node)          the entry is read and leaves the table: - its bytes
    evict(node)          the op's saved values are released (no retain_graph): - their bytes

``peak`` is the largest ``memo + saved`` seen, with the recompute peak of checkpointed segments
(:mod:`memograd.tensor.checkpoint`) measured by a nested trace and added where it happens.
``memory_report(loss)`` runs the real backward under such a trace and lists it per layer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np
from numpy.typing import NDArray

from memograd import graph

if TYPE_CHECKING:
    from memograd.tensor.node import Node
    from memograd.tensor.tensor import Tensor

__all__ = ["MemoryTrace", "MemoryReport", "memory_report", "saved_arrays", "current_trace"]

_active: list[MemoryTrace] = []


def current_trace() -> MemoryTrace | None:
    """The trace measuring the backward now running (checkpointed segments report into it)."""
    return _active[-1] if _active else None


@contextlib.contextmanager
def measuring(trace: MemoryTrace) -> Iterator[MemoryTrace]:
    _active.append(trace)
    try:
        yield trace
    finally:
        _active.pop()


def _buffer(a: NDArray[Any]) -> NDArray[Any]:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def saved_arrays(node: Tensor | Node) -> list[NDArray[Any]]:
    """The arrays an op's node keeps for its VJP (inputs, output, kept values; a checkpointed
    segment keeps its inputs)."""
    if not hasattr(node, "prim"):  # a leaf Tensor: its data is the user's, not backprop's
        return []
    out: list[NDArray[Any]] = []
    leaves = getattr(node, "leaves", None)
    if getattr(node.prim, "name", "") == "checkpoint" and leaves is not None:
        return [t.data for t in leaves] if not node.freed else []
    for x in node.xs or ():
        if isinstance(x, np.ndarray):
            out.append(x)
    if isinstance(node.y, np.ndarray):
        out.append(node.y)
    kept = node.kept
    if isinstance(kept, np.ndarray):
        out.append(kept)
    elif isinstance(kept, tuple | list):
        out += [k for k in kept if isinstance(k, np.ndarray)]
    return out


def _is_leaf(node: Tensor | Node) -> TypeGuard[Tensor]:
    """A leaf Tensor (a graph node without an op): its data is the user's, not backprop's."""
    return not hasattr(node, "prim")


def _nbytes(x: object) -> int:
    return int(getattr(x, "nbytes", 8))


class MemoryTrace(graph.Trace):
    """Bytes held by the memo table and by saved activations during one backward pass."""

    def __init__(self, order: list[Tensor | Node]) -> None:
        leaf_buffers = {id(_buffer(n.data)) for n in order if _is_leaf(n)}
        self.holders: dict[int, int] = {}
        self.size: dict[int, int] = {}
        self.node_buffers: dict[int, list[int]] = {}
        self.layer_of: dict[int, int] = {}
        for n in order:
            bufs: list[int] = []
            for a in saved_arrays(n):
                b = _buffer(a)
                if id(b) in leaf_buffers or id(b) in bufs:
                    continue
                bufs.append(id(b))
                self.size[id(b)] = b.nbytes
                self.holders[id(b)] = self.holders.get(id(b), 0) + 1
            self.node_buffers[id(n)] = bufs
        self.saved = self.saved_start = sum(self.size.values())
        self.memo = 0
        self.entries: dict[int, int] = {}
        self.peak = self.peak_memo = 0
        self.peak_saved = self.saved
        self._update()

    def _update(self) -> None:
        now = self.memo + self.saved
        if now > self.peak:
            self.peak = now
        if self.memo > self.peak_memo:
            self.peak_memo = self.memo

    def store(self, node: Tensor | Node, adjoint: object) -> None:
        self.memo -= self.entries.pop(id(node), 0)

    def push(self, node: Tensor | Node, parent: Tensor | Node, contribution: object) -> None:
        if id(parent) not in self.entries:
            self.entries[id(parent)] = _nbytes(contribution)
            self.memo += self.entries[id(parent)]
            self._update()

    def evict(self, node: Tensor | Node) -> None:
        if not getattr(node, "freed", False):
            return  # retain_graph: the saved values stay
        for b in self.node_buffers.get(id(node), ()):
            self.holders[b] -= 1
            if self.holders[b] == 0:
                self.saved -= self.size[b]

    def nested(self, inner: MemoryTrace) -> None:
        """A checkpointed segment's recompute: its own peak, on top of what is held now."""
        total = self.memo + self.saved + inner.peak
        if total > self.peak:
            self.peak = total


@dataclass
class MemoryReport:
    """Bytes of one backward pass: at the start (the forward's saved activations), at peak, and
    per layer (a layer = the ops from one matmul up to the next)."""

    saved_at_start: int
    peak: int
    peak_memo: int
    layers: list[dict[str, Any]] = field(default_factory=list)  # layer, ops, bytes

    def __str__(self) -> str:
        lines = [
            f"{'layer':>5}  {'ops':<40} {'saved for backward':>20}",
        ]
        for row in self.layers:
            ops = ", ".join(row["ops"])
            ops = ops if len(ops) <= 40 else ops[:37] + "..."
            lines.append(f"{row['layer']:>5}  {ops:<40} {_human(row['bytes']):>20}")
        lines += [
            f"saved activations at the end of forward: {_human(self.saved_at_start)}",
            f"memo table at its largest: {_human(self.peak_memo)}",
            f"peak during backward (activations + memo table): {_human(self.peak)}",
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "saved_at_start": self.saved_at_start,
            "peak": self.peak,
            "peak_memo": self.peak_memo,
            "layers": self.layers,
        }


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)  # pragma: no cover


def layers(order: list[Tensor | Node], trace: MemoryTrace) -> list[dict[str, Any]]:
    """Saved bytes grouped by layer: a new layer starts at each matmul (a Linear layer's) or
    affine node (``x @ W + b`` fused, :mod:`.ops_affine`)."""
    rows: list[dict[str, Any]] = []
    k = 0
    for n in order:
        if not hasattr(n, "prim"):
            continue
        name = n.prim.name
        starts = name == "matmul" or name == "affine"
        if starts or not rows:
            k += 1 if starts or not rows else 0
            rows.append({"layer": k, "ops": [], "bytes": 0})
        row = rows[-1]
        row["ops"].append(name)
        row["bytes"] += sum(trace.size[b] for b in trace.node_buffers[id(n)])
    return rows


def memory_report(loss: Tensor, *, show: bool = True, retain_graph: bool = False) -> MemoryReport:
    """Run ``loss.backward()`` (it fills ``.grad`` as usual) measuring the memo table and the
    saved activations; print (``show``) and return the per-layer report."""
    from memograd.tensor.tensor import _root

    order = graph.topological_order(_root(loss))
    trace = MemoryTrace(order)
    rows = layers(order, trace)
    start = trace.saved
    with measuring(trace):
        loss.backward(retain_graph=retain_graph, trace=trace)
    report = MemoryReport(start, trace.peak, trace.peak_memo, rows)
    if show:
        print(report)
    return report
