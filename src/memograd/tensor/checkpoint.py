"""Checkpointing: forget a segment's insides during forward, recompute them when backward arrives.

Backprop memoizes: every value a local derivative needs is kept from the forward pass until
backward reads it, so memory grows with depth. ``checkpoint(fn, *args)`` trades that memory for
one more forward of ``fn``: it runs ``fn`` without recording (only its inputs are kept) and puts
ONE node in the graph. When ``graph.backward`` reaches that node, the node runs ``fn`` again,
recorded, and backprops the adjoint it was handed through the recomputed segment, with the same
``graph.backward``, down to the segment's inputs and parameters::

    adjoint[inputs], adjoint[params] = backward(recompute fn(inputs), seed = adjoint[output])

Random draws inside ``fn`` (dropout) replay: the states of the numpy generators ``fn`` uses
(``rngs=``, or every Generator attribute of a Module's submodules, plus numpy's global state) are
saved before the first run, restored for the recompute, and set back afterwards, so the recomputed
values, and so the gradients, are the ones the un-checkpointed run gives, bit for bit.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

import numpy as np
from numpy.typing import NDArray

from memograd import graph
from memograd.errors import GraphError, MemogradTypeError
from memograd.tensor.ops import rule
from memograd.tensor.tensor import Node, Tensor, _Meta, _root, _wrap, enable_grad, no_grad

__all__ = ["checkpoint", "CheckpointNode"]


def _run_by_the_node(*xs: object, **params: object) -> NoReturn:
    """The checkpoint row's forward: a segment runs through :func:`checkpoint` and its
    CheckpointNode, never as a row (the row names the node's op and holds no formula)."""
    raise GraphError("checkpoint: a segment runs through checkpoint(fn, *args), not as a table row")


_PRIM = rule("checkpoint", _run_by_the_node)


class CheckpointWarning(UserWarning):
    """checkpoint() was called where it cannot save anything (under no_grad)."""


def _generators(
    fn: Callable[..., Tensor], rngs: Iterable[np.random.Generator] | None
) -> list[np.random.Generator]:
    gens: list[object]
    if rngs is not None:
        gens = list(rngs)
    else:
        gens = []
        modules = getattr(fn, "modules", None)
        if callable(modules):
            for m in modules():
                gens += [v for v in vars(m).values() if isinstance(v, np.random.Generator)]
    seen: set[int] = set()
    out: list[np.random.Generator] = []
    for g in gens:
        if not isinstance(g, np.random.Generator):
            raise MemogradTypeError(
                f"checkpoint: rngs must be numpy Generators, got {type(g).__name__}"
            )
        if id(g) not in seen:
            seen.add(id(g))
            out.append(g)
    return out


_States = tuple[list[Mapping[str, Any]], Any]  # the generators' states, numpy's global state


def _states(gens: list[np.random.Generator]) -> _States:
    return [g.bit_generator.state for g in gens], np.random.get_state()


def _restore(gens: list[np.random.Generator], states: _States) -> None:
    for g, s in zip(gens, states[0]):
        g.bit_generator.state = s
    np.random.set_state(states[1])


def _parameters(
    fn: Callable[..., Tensor], params: Iterable[object] | None, inputs: list[Tensor]
) -> list[Tensor]:
    if params is None:
        get = getattr(fn, "parameters", None)
        params = get() if callable(get) else ()
    ids = {id(t) for t in inputs}
    out: list[Tensor] = []
    seen: set[int] = set()
    for p in params:
        if not isinstance(p, Tensor):
            raise MemogradTypeError(f"checkpoint: params must be Tensors, got {type(p).__name__}")
        if p.requires_grad and id(p) not in ids and id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    return out


class CheckpointNode(Node):
    """The graph node of a checkpointed segment: its parents are the segment's inputs and
    parameters; its pullback recomputes the segment and backprops through it."""

    __slots__ = ("fn", "args", "kwargs", "slots", "gens", "before", "after", "leaves", "plist")
    fn: Any
    args: Any
    kwargs: Any
    slots: Any
    gens: Any
    before: Any
    after: Any
    leaves: Any
    plist: Any

    def __repr__(self) -> str:
        return f"<CheckpointNode {getattr(self.fn, '__name__', type(self.fn).__name__)}>"

    def _pullback(self, g: NDArray[Any] | Tensor) -> list[NDArray[Any] | None]:
        if self.freed:
            raise GraphError(
                "backward: this checkpointed segment was already differentiated and freed; pass "
                "retain_graph=True to the first backward() to differentiate twice"
            )
        args = list(self.args)
        leaves: list[Tensor] = []
        for i, t in self.slots:
            if t._vc[0] != self.versions[len(leaves)]:
                raise GraphError(
                    f"checkpoint: input {i} (shape {t.shape}) was modified in place after the "
                    "forward pass; the segment cannot be recomputed from it (edit a copy)"
                )
            leaf = _wrap(t.data)
            leaf.requires_grad = t.requires_grad
            args[i] = leaf
            leaves.append(leaf)
        _restore(self.gens, self.before)
        try:
            with enable_grad():
                out = self.fn(*args, **self.kwargs)
        finally:
            _restore(self.gens, self.after)
        if not isinstance(out, Tensor):
            raise MemogradTypeError(
                f"checkpoint: the segment returned {type(out).__name__} when recomputed"
            )
        if isinstance(g, Tensor):
            raise GraphError(
                "backward(create_graph=True) through a checkpointed segment is not supported; "
                "differentiate twice without checkpoint(), or checkpoint a first-order step only"
            )
        if out.requires_grad:
            # The recomputed segment's own backward: the same graph.backward and .grad rules as
            # any backward, so parameters inside fn accumulate .grad as usual, and the segment's
            # fresh input leaves receive the adjoints handed back to the outer memo table.
            from memograd.tensor import memory

            outer = memory.current_trace()
            if outer is None:
                out.backward(g)
            else:  # measured: the recompute's own peak, on top of what the outer pass holds
                inner = memory.MemoryTrace(graph.topological_order(_root(out)))
                out.backward(g, trace=inner)
                outer.nested(inner)
        if not _Mode_retain():
            self.args = self.kwargs = None
            self.freed = True
        shares: list[NDArray[Any] | None] = []
        for parent, leaf in zip(self._parents, leaves):
            grad = leaf.grad
            if parent is None or grad is None:
                shares.append(None)
            else:
                shares.append(grad.data)
        return shares


def _Mode_retain() -> bool:  # noqa: N802 - reads the engine's mode flag
    from memograd.tensor.tensor import _Mode

    return bool(_Mode.retain)


def checkpoint(
    fn: Callable[..., Tensor],
    *args: Any,
    params: Iterable[Tensor] | None = None,
    rngs: Iterable[np.random.Generator] | None = None,
    **kwargs: Any,
) -> Tensor:
    """``fn(*args, **kwargs)``, recorded as ONE node that keeps only its inputs and recomputes
    the segment when backward reaches it (one extra forward of ``fn``, its activations freed).

    ``params``: the tensors ``fn`` uses besides its arguments (default: ``fn.parameters()`` when
    ``fn`` is a Module); ``rngs``: the generators ``fn`` draws from (default: a Module's
    Generator attributes), replayed so the recompute draws the same numbers. ``fn`` must return
    one Tensor and must not modify its inputs in place. Under ``no_grad`` nothing is recorded,
    so checkpointing saves nothing: ``fn`` simply runs (with a warning)."""
    from memograd.tensor.tensor import is_grad_enabled

    if not callable(fn):
        raise MemogradTypeError(f"checkpoint: fn must be callable, got {type(fn).__name__}")
    if not is_grad_enabled():
        warnings.warn(
            "checkpoint: called under no_grad, where nothing is recorded; the segment just runs",
            CheckpointWarning,
            stacklevel=2,
        )
        return fn(*args, **kwargs)
    slots = [(i, a) for i, a in enumerate(args) if isinstance(a, Tensor)]
    inputs = [t for _, t in slots]
    plist = _parameters(fn, params, inputs)
    gens = _generators(fn, rngs)
    versions = [t._vc[0] for t in inputs]
    before = _states(gens)
    with no_grad():
        out = fn(*args, **kwargs)
    after = _states(gens)
    if not isinstance(out, Tensor):
        raise MemogradTypeError(
            f"checkpoint: the segment must return one Tensor, got {type(out).__name__}; "
            "checkpoint each output's computation separately, or return a stacked Tensor"
        )
    changed = [i for (i, t), v in zip(slots, versions) if t._vc[0] != v]
    if changed:
        raise GraphError(
            f"checkpoint: the segment modified its input(s) {changed} in place; a checkpointed "
            "segment must be a pure function of its inputs (compute on a copy)"
        )
    if not any(t.requires_grad for t in inputs) and not plist:
        return out  # nothing upstream needs a gradient: no node
    node = Node.__new__(CheckpointNode)
    # parents: the inputs only; parameters inside fn get their .grad from the recompute's
    # backward (as torch.utils.checkpoint does), so the memo table never holds them all at once
    node._parents = tuple(_root(t) if t.requires_grad else None for t in inputs)
    node.prim = _PRIM
    node.params = {}
    node.xs = [_Meta(t.data) for t in inputs]  # what the engine's checks read (shapes only)
    node.vcs = node.kept = node.y = node.y_vc = node.y_version = node.retained = None
    node.freed = False
    node.fn, node.args, node.kwargs = fn, tuple(args), kwargs
    node.slots, node.gens, node.before, node.after = slots, gens, before, after
    node.leaves, node.versions, node.plist = inputs, versions, plist
    out.requires_grad = True
    out._node = node
    return out
