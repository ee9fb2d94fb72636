"""The graph node of an op (:class:`Node`) and :func:`_apply`, which runs a table row forward and
records the node when a gradient can flow.

A Node keeps its parents' nodes and what its VJP needs, nothing more: the output Tensor points to
its Node, the Node not to the Tensor (only weakly, after ``retain_grad()``), so an intermediate
no VJP saved is freed as soon as the user drops it. ``Node._pullback`` is the graph protocol of
:mod:`memograd.graph`: first order on numpy arrays here, create_graph in :mod:`.backprop`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from memograd.errors import GraphError, ShapeError
from memograd.tensor.convert import _F32, _F64, _Meta
from memograd.tensor.locks import _lock, _unlock
from memograd.tensor.mode import _Mode
from memograd.tensor.ops import Primitive, unbroadcast
from memograd.tensor.tensor import Tensor, _new

__all__ = ["Node"]


class Node:
    """One recorded op: its parents' nodes and what its VJP needs, nothing more.

    The output Tensor points to its Node, the Node not to the Tensor (only weakly, after
    ``retain_grad()``): an intermediate array no VJP saved is freed as soon as the user drops it,
    so a forward pass keeps alive about what a hand-written one does."""

    __slots__ = (
        "_parents",
        "prim",
        "params",
        "xs",
        "vcs",
        "versions",
        "kept",
        "y",
        "y_vc",
        "y_version",
        "freed",
        "retained",
        "locked",
        "__weakref__",
    )
    # the slots' types, for mypy (annotations only: no class attributes beside __slots__)
    _parents: Any
    prim: Any
    params: Any
    xs: Any
    vcs: Any
    versions: Any
    kept: Any
    y: Any
    y_vc: Any
    y_version: Any
    freed: Any
    retained: Any
    locked: Any

    def __repr__(self) -> str:
        return f"<Node {self.prim.name}>"

    def _pullback(self, g: np.ndarray) -> list[Any]:
        """VJP of the op: each parent's share of the output adjoint ``g`` (graph protocol).
        A Tensor adjoint means a create_graph backward: see :meth:`_pullback_graph`."""
        if type(g) is Tensor:  # a create_graph backward
            from memograd.tensor import backprop

            return backprop.pullback_graph(self, g)
        prim = self.prim
        vcs = self.vcs
        if self.freed or (self.y_vc is not None and self.y_vc[0] != self.y_version):
            self._check_saved()  # raises
        if vcs is not None:
            for vc, v in zip(vcs, self.versions):
                if vc[0] != v:
                    self._check_saved()  # raises
        xs = self.xs
        y = self.y
        params = self.params
        if prim.keeps:
            params = {**params, "kept": self.kept}
        vjp = prim.vjp
        every = None if type(vjp) is tuple else vjp(g, y, *xs, **params)  # concatenate, stack
        # one pass: each needed share, made an array of its input's shape and dtype
        broadcasts = prim.broadcasts
        shares: list[Any] = []
        i = 0
        for p in self._parents:
            if p is None:
                shares.append(None)
                i += 1
                continue
            if every is not None:
                share = every[i]
            else:
                share = vjp[i](g, y, *xs, **params) if params else vjp[i](g, y, *xs)
            x = xs[i]
            i += 1
            if type(share) is not np.ndarray and not getattr(share, "_traced", False):
                share = np.asarray(share)
            if broadcasts and share.shape != x.shape:
                share = unbroadcast(share, x.shape)
            dt = share.dtype
            if dt is not x.dtype and dt != x.dtype:  # (`is` first: dtypes are mostly shared)
                share = share.astype(x.dtype)
            shares.append(share)
        if not _Mode.retain:
            self.xs = self.kept = self.y = None
            self.freed = True
            if self.locked:
                _unlock(self)
        return shares

    def _check_saved(self) -> None:
        """Refuse a freed graph and saved values edited in place since the forward pass."""
        prim = self.prim
        if self.freed:
            raise GraphError(
                f"backward: the graph through {prim.name} was already freed by an earlier "
                "backward(); pass retain_graph=True to the first backward() to differentiate "
                "twice, or recompute the forward pass"
            )
        xs = self.xs
        vcs = self.vcs
        if vcs is not None:
            for x, vc, v in zip(xs, vcs, self.versions):
                if vc[0] != v:
                    raise GraphError(
                        f"backward: an input of {prim.name} (shape {x.shape}) saved for backward "
                        f"was modified in place (version {v} -> {vc[0]}); edit a copy, or "
                        "make the in-place change before the forward pass"
                    )
        y = self.y
        if self.y_vc is not None and self.y_vc[0] != self.y_version:
            raise GraphError(
                f"backward: the output of {prim.name} (shape {y.shape}) was saved for "
                f"backward and then modified in place (version {self.y_version} -> "
                f"{self.y_vc[0]}); edit a copy instead"
            )


class _LockingNode(Node):
    """A Node that locked leaves' arrays (see :mod:`.locks`): dropped without backward, it makes
    them writable again. The others have no ``__del__`` (a Python finalizer on every node cost
    ~0.4 us per op)."""

    __slots__ = ()

    def __del__(self) -> None:
        if getattr(self, "locked", None):  # a graph dropped without backward: writable again
            _unlock(self)


_new_node = Node.__new__


_BROADCAST_HINT = (
    "; numpy broadcasting compares shapes from the last dimension: each pair must be equal or "
    "one of them 1 (reshape an operand, e.g. b.reshape(-1, 1), or add a size-1 axis with "
    "unsqueeze)"
)


def _apply(prim: Primitive, inputs: tuple[Tensor, ...], params: dict[str, Any]) -> Tensor:
    """Run ``prim`` forward on the inputs' arrays; record the node if a gradient can flow.

    Written for the per-op cost (2-3 us of Python per op is most of an eager step on small
    arrays): one pass over the inputs finds the parents, and one more (only for a row that
    saves its inputs) the version counters and the leaves' arrays to lock."""
    arrays = [t.data for t in inputs]
    try:
        out = prim.forward(*arrays, **params) if params else prim.forward(*arrays)
    except ValueError as e:
        shapes = " and ".join(str(a.shape) for a in arrays)
        hint = _BROADCAST_HINT if prim.broadcasts else ""
        raise ShapeError(f"{prim.name}: shapes {shapes} do not fit: {e}{hint}") from None
    if prim.keeps:
        out, kept = out
    else:
        kept = None
    if type(out) is not np.ndarray and not getattr(out, "_traced", False):
        out = np.asarray(out)
    dt = out.dtype
    if dt is not _F32 and dt == _F64 and all(a.dtype.kind != "f" for a in arrays):
        out = out.astype(_F32)  # integer inputs -> float32 results
    t = _new(Tensor)
    t.data = out
    t.grad = t.name = t._node = None
    t._vc = vc = inputs[0]._vc if prim.view and np.may_share_memory(out, arrays[0]) else [0]
    if not _Mode.grad:
        t.requires_grad = False
        return t
    parents = [(x if x._node is None else x._node) if x.requires_grad else None for x in inputs]
    for p in parents:
        if p is not None:
            break
    else:  # no input requires grad
        t.requires_grad = False
        return t
    t.requires_grad = True
    if prim.saves_x:
        # leaves' arrays (parameters, data) are read-only while saved; intermediates rely
        # on the version counter alone (locking every saved array cost ~10% on small nets)
        locked: Any = [
            a
            for a, x in zip(arrays, inputs)
            if x._node is None and type(a) is np.ndarray and _lock(a)
        ]
        node = _new_node(_LockingNode if locked else Node)
        node.locked = locked  # first: a node that locked is finalized (unlocked) whatever comes
        node.xs = arrays
        node.vcs = vcs = [x._vc for x in inputs]
        node.versions = [c[0] for c in vcs]
    else:
        node = _new_node(Node)
        node.locked = ()
        node.xs = [_Meta(a) for a in arrays]
        node.vcs = None
    node._parents = tuple(parents)
    node.prim = prim
    node.params = params
    node.kept = kept
    if prim.saves_y:
        node.y, node.y_vc, node.y_version = out, vc, vc[0]
    else:
        node.y = node.y_vc = None
    node.freed = False
    node.retained = None
    t._node = node
    return t
