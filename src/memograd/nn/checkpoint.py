"""Checkpointed models: run a Sequential in segments that forget their insides (``mg.checkpoint``)
and choose the segments that fit a memory budget.

For layers 1..n with input bytes ``in_i`` and saved-activation bytes ``act_i`` (what layer i's ops
keep for backward), a schedule is a split into chunks; every chunk but the last is checkpointed
(it keeps only its input and is recomputed once during backward). Its peak is estimated as::

    end of forward:        Σ_{checkpointed c} in_c + act(last chunk)
    backward of chunk j:   Σ_{c <= j} in_c + act(chunk j)          (the recompute's activations)

Store-everything keeps Σ act_i (no recompute). √n equal chunks keep about 2√n layers' worth for
one extra forward of the checkpointed layers. Under a byte budget, :func:`plan` keeps the longest
stored tail it can (least recompute) and splits the rest into the equal chunks that fit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from memograd import graph
from memograd.errors import MemogradValueError
from memograd.nn.module import Module
from memograd.tensor.checkpoint import checkpoint
from memograd.tensor.memory import MemoryTrace
from memograd.tensor.tensor import Tensor, _root, _wrap, is_grad_enabled

__all__ = ["checkpoint_sequential", "plan", "MemoryPlan", "LayerBytes", "layer_bytes", "estimate"]


class _Chunk(Module):
    """Layers ``start..end-1`` of a Sequential run one after the other (one checkpoint)."""

    def __init__(self, layers: list[Module]) -> None:
        super().__init__()
        for i, m in enumerate(layers):
            setattr(self, str(i), m)

    def forward(self, x: Any) -> Any:
        for m in self.children():
            x = m(x)
        return x


Layers = Module | Iterable[Module]  # a Sequential (its children, in order) or a list of layers
Chunks = Sequence[tuple[int, int]]  # (start, end) of each chunk of layers


def _layers(model: Layers) -> list[Module]:
    layers = list(model.children()) if isinstance(model, Module) else list(model)
    if not layers:
        raise MemogradValueError("checkpoint_sequential: the model has no layers")
    return layers


def _equal(n: int, k: int, start: int = 0) -> list[tuple[int, int]]:
    """``n`` layers from ``start`` in ``k`` contiguous chunks of near-equal length."""
    bounds = [start + round(i * n / k) for i in range(k + 1)]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def checkpoint_sequential(
    model: Layers,
    segments: int | Literal["sqrt"] | None,
    x: Tensor,
    *,
    chunks: Chunks | None = None,
) -> Tensor:
    """``model(x)`` with the layers split into ``segments`` contiguous chunks; every chunk but the
    last is checkpointed (as ``torch.utils.checkpoint.checkpoint_sequential``). ``segments`` may
    be ``"sqrt"`` (√n chunks); ``chunks`` (a list of (start, end)) gives any split."""
    layers = _layers(model)
    n = len(layers)
    if chunks is None:
        if segments == "sqrt":
            segments = max(1, round(math.sqrt(n)))
        if isinstance(segments, bool) or not isinstance(segments, int) or not 1 <= segments <= n:
            raise MemogradValueError(
                f"checkpoint_sequential: segments must be an integer in [1, {n}] (the model has "
                f"{n} layers) or 'sqrt', got {segments!r}"
            )
        chunks = _equal(n, segments)
    for a, b in chunks[:-1]:
        x = checkpoint(_Chunk(layers[a:b]), x)
    a, b = chunks[-1]
    for m in layers[a:b]:
        x = m(x)
    return x


@dataclass(frozen=True)
class LayerBytes:
    """Per layer: input bytes, bytes its ops save besides their input, and whether they save
    their input (``saves_in``) and their output (``saves_out``): the next layer's input is then
    the same buffer, held once."""

    ins: tuple[int, ...]
    acts: tuple[int, ...]
    saves_in: tuple[bool, ...]
    saves_out: tuple[bool, ...]

    def chunk(self, a: int, b: int, input_held: bool) -> int:
        """Bytes layers a..b-1 save when recorded; their input counted unless already held."""
        total = 0
        for i in range(a, b):
            total += self.acts[i]
            shared = i > a and self.saves_out[i - 1]
            if self.saves_in[i] and not shared and not (i == a and input_held):
                total += self.ins[i]
        return total


def layer_bytes(model: Layers, x: Tensor) -> LayerBytes:
    """Measure each layer once on ``x``'s shapes (a dry forward, recorded, then dropped)."""
    from memograd.tensor.memory import _buffer, saved_arrays

    ins: list[int] = []
    acts: list[int] = []
    sin: list[bool] = []
    sout: list[bool] = []
    h = x
    for m in _layers(model):
        leaf = _wrap(h.data)
        leaf.requires_grad = True
        out = m(leaf)
        ins.append(int(h.data.nbytes))
        if out.requires_grad:
            order = graph.topological_order(_root(out))
            acts.append(MemoryTrace(order).saved_start)
            bufs = {id(_buffer(a)) for n in order for a in saved_arrays(n)}
            sin.append(id(_buffer(leaf.data)) in bufs)
            sout.append(id(_buffer(out.data)) in bufs)
        else:
            acts.append(0)
            sin.append(False)
            sout.append(False)
        h = _wrap(out.data)
    return LayerBytes(tuple(ins), tuple(acts), tuple(sin), tuple(sout))


@dataclass(frozen=True)
class MemoryPlan:
    """A schedule: ``chunks`` (start, end) of layers, all but the last checkpointed."""

    chunks: tuple[tuple[int, int], ...]
    peak: int  # estimated bytes at peak (saved activations + the memo table's largest entry)
    store_all: int  # the same estimate when everything is stored
    recompute: int  # layers run twice

    @property
    def segments(self) -> int:
        return len(self.chunks)


def estimate(lb: LayerBytes, chunks: Chunks) -> int:
    """The schedule's estimated peak (module docstring), plus one activation for the memo table."""
    held = 0
    peak = 0
    for a, b in chunks[:-1]:
        held += lb.ins[a]
        peak = max(peak, held + lb.chunk(a, b, input_held=True))
    a, b = chunks[-1]
    last = held + lb.chunk(a, b, input_held=False)
    return max(peak, last) + max(lb.ins)


def plan(model: Layers, x: Tensor, budget: float) -> MemoryPlan:
    """The schedule with the least recompute whose estimated peak fits ``budget`` bytes; refuses
    up front, with the smallest budget that would work, when none fits."""
    if isinstance(budget, bool) or not isinstance(budget, int | float) or budget <= 0:
        raise MemogradValueError(
            f"memory budget must be a positive number of bytes, got {budget!r}"
        )
    lb = layer_bytes(model, x)
    n = len(lb.acts)
    store_all = estimate(lb, [(0, n)])
    if store_all <= budget:
        return MemoryPlan(((0, n),), store_all, store_all, 0)
    best: MemoryPlan | None = None
    lo, hi = 1, n - 1  # the stored tail's length: longer = less recompute, more memory
    while lo <= hi:
        tail = (lo + hi) // 2
        found = _fit_prefix(lb, n - tail, budget)
        if found is not None:
            chunks = (*found, (n - tail, n))
            best = MemoryPlan(chunks, estimate(lb, chunks), store_all, n - tail)
            lo = tail + 1
        else:
            hi = tail - 1
    if best is None:
        need = min(estimate(lb, _equal(n, k)) for k in range(1, n + 1))
        raise MemogradValueError(
            f"memory budget {budget:,.0f} bytes is too small for any schedule of this model on "
            f"inputs of shape {x.shape}: the least it can run in is about {need:,} bytes "
            f"(storing everything takes {store_all:,}); raise the budget or use a smaller batch"
        )
    return best


def _fit_prefix(lb: LayerBytes, m: int, budget: float) -> tuple[tuple[int, int], ...] | None:
    """Equal chunks of layers 0..m-1 (checkpointed) that fit with the tail stored, or None."""
    for k in range(1, m + 1):
        chunks = _equal(m, k)
        if estimate(lb, [*chunks, (m, len(lb.acts))]) <= budget:
            return tuple(chunks)
    return None


def budgeted_forward(model: Module, x: Tensor, budget: float) -> Tensor | None:
    """``model(x)`` under a byte budget (``Sequential.memory_budget``): the plan is computed once
    per input shape and dtype, then reused. None when no graph is being recorded (the caller
    then runs the layers plainly)."""
    if not is_grad_enabled():
        return None
    cache: dict[tuple[Any, ...], MemoryPlan] = model.__dict__.setdefault("_memory_plans", {})
    key = (x.shape, str(x.dtype), budget, model.training)
    p = cache.get(key)
    if p is None:
        p = cache[key] = plan(model, x, budget)
    return checkpoint_sequential(model, None, x, chunks=list(p.chunks))
