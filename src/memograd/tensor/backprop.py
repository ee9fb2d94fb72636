"""``Tensor.backward``'s driver: the seed, ``.grad`` accumulation, and create_graph.

First order: the adjoints are numpy arrays; :func:`memograd.graph.backward` runs the table's VJP
formulas on them (``Node._pullback``) and ``visit`` adds each leaf's adjoint into ``.grad``.

``create_graph=True``: the seed is a Tensor, so every ``Node._pullback`` comes here
(:func:`pullback_graph`): the same formulas get the adjoint, the saved output and the saved
inputs as Tensors whose graph nodes are the node itself and its parents, and every numpy call
they make is recorded through the table (see :mod:`memograd.tensor.interop`). The shares, and
so the ``.grad`` of the leaves, are Tensors with a graph: differentiate them again.

A nan/inf output (or seed) raises :class:`~memograd.NonFiniteError` naming the first op that made
a non-finite value, as the scalar ``Value`` does (a mean over an empty tensor is exempt: nan by
definition, with empty gradients).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from memograd import graph
from memograd.errors import GraphError, NonFiniteError, ShapeError
from memograd.tensor.ops import unbroadcast
from memograd.tensor.tensor import (
    _IDENTITY,
    Node,
    Tensor,
    _as_tensor,
    _Meta,
    _Mode,
    _new,
    _new_node,
    _root,
    _to_array,
    _unlock,
    _wrap,
)

__all__ = ["backward", "pullback_graph"]


def backward(
    t: Tensor,
    grad: Tensor | ArrayLike | None,
    retain_graph: bool | None,
    create_graph: bool,
    trace: graph.Trace | None = None,
) -> graph.BackwardStats:
    """See :meth:`Tensor.backward`."""
    if not t.requires_grad:
        raise GraphError(
            "backward: this tensor does not require grad (no input had requires_grad=True, "
            "or it was computed under no_grad)"
        )
    data = t.data
    if grad is None:
        if data.size != 1:
            raise ShapeError(
                f"backward: output of shape {t.shape} is not a scalar; pass "
                f"grad= of shape {t.shape} (the adjoint ∂L/∂output), or reduce it first "
                "(e.g. .sum())"
            )
        if not math.isfinite(data.item()) and not _over_empty(t):
            raise NonFiniteError(_non_finite_message(t, "the output"))
        seed = np.ones(data.shape, data.dtype)
    else:
        seed = _to_array(grad, data.dtype, copy=False)
        if seed.shape != data.shape:
            raise ShapeError(
                f"backward: grad of shape {seed.shape} does not match the output's shape {t.shape}"
            )
        if not (np.isfinite(data).all() and np.isfinite(seed).all()) and not _over_empty(t):
            what = "the output" if np.isfinite(seed).all() else "the seed grad="
            raise NonFiniteError(_non_finite_message(t, what))
    if create_graph:
        return _backward_graph(t, seed, trace)
    stored: set[int] = {id(seed)}

    def visit(node: Tensor | Node, adjoint: NDArray[Any]) -> None:
        if type(node) is Tensor:  # _receiver written out: one call less per node
            leaf: Tensor | None = node
        else:
            ref = node.retained
            if ref is None:
                return
            leaf = ref()
        if leaf is None:
            return
        flags = adjoint.flags
        dt, want = adjoint.dtype, leaf.data.dtype
        if (
            id(adjoint) in stored
            or not flags.writeable
            or not flags.owndata
            or (dt is not want and dt != want)
        ):
            adjoint = np.array(adjoint, dtype=want)
        stored.add(id(adjoint))
        old_grad = leaf.grad
        if old_grad is None:
            grad = _new(Tensor)  # _wrap(adjoint) written out: once per leaf per backward
            grad.data = adjoint
            grad.requires_grad = False
            grad.grad = grad.name = grad._node = None
            grad._vc = [0]
            leaf.grad = grad
        else:
            old = old_grad.data
            if old.shape == adjoint.shape and old.flags.writeable and not old_grad.requires_grad:
                np.add(old, adjoint, out=old)
                old_grad._vc[0] += 1
            else:
                leaf.grad = _wrap(old + adjoint)

    previous = _Mode.retain
    _Mode.retain = bool(retain_graph)
    try:
        return graph.backward(_root(t), seed, visit, trace=trace)
    finally:
        _Mode.retain = previous


def _receiver(node: Tensor | Node) -> Tensor | None:
    """The tensor whose ``.grad`` a node's adjoint fills: a leaf itself; an op's Node only if
    its tensor called retain_grad() (and is still alive)."""
    if type(node) is Tensor:
        return node
    ref = node.retained
    retained: Tensor | None = ref() if ref is not None else None
    return retained


def pullback_graph(node: Node, g: Tensor) -> list[Tensor | None]:
    """The VJP recorded as Tensor ops (create_graph): the same formulas (or the row's
    ``twice`` ones) get the adjoint, the saved output and the saved inputs as Tensors whose
    graph nodes are this node and its parents, so the shares are differentiable in all of
    them."""
    prim = node.prim
    node._check_saved()
    twice = prim.twice
    if twice is False:
        raise GraphError(
            f"backward(create_graph=True): the op {prim.name} has no twice-differentiable "
            "VJP (its row in memograd.tensor.ops says twice=False); higher derivatives "
            "through it are not supported (use first-order backward, or another op)"
        )
    vjp = prim.vjp if twice is True else twice
    parents = node._parents
    xs: Any
    if prim.saves_x:
        xs = [_on_node(x, p) if p is not None else _wrap(x) for x, p in zip(node.xs, parents)]
    else:
        xs = node.xs
    y = _on_node(node.y, node) if prim.saves_y else None
    params = node.params
    if prim.keeps and twice is True:
        params = {**params, "kept": node.kept}
    shares: list[Tensor | None] = []
    previous = _Mode.grad
    _Mode.grad = True
    _Mode.create += 1
    try:
        every = None if type(vjp) is tuple else vjp(g, y, *xs, **params)
        for i, p in enumerate(parents):
            if p is None:
                shares.append(None)
                continue
            share: Any = every[i] if every is not None else vjp[i](g, y, *xs, **params)
            share = _as_tensor(share)
            x = xs[i]
            if share.shape != x.shape:
                share = unbroadcast(share, x.shape)
            if share.dtype != x.dtype:
                share = share.astype(x.dtype)
            shares.append(share)
    finally:
        _Mode.create -= 1
        _Mode.grad = previous
    if not _Mode.retain:
        node.xs = node.kept = node.y = None
        node.freed = True
        if getattr(node, "locked", None):
            _unlock(node)
    return shares


def _on_node(array: NDArray[Any], node: Tensor | Node) -> Tensor:
    """A Tensor over ``array`` whose graph node is ``node`` (an op's Node, or a leaf Tensor): how
    a create_graph backward hands the saved values to the formulas as differentiable inputs."""
    if type(node) is Tensor:
        if node.data is array:
            return node
        node = _alias_node(node)
    t = _wrap(array)
    t.requires_grad = True
    t._node = node
    return t


def _alias_node(leaf: Tensor) -> Node:
    """An identity node over ``leaf`` (its saved array is no longer ``leaf.data``)."""
    node: Any = _new_node(Node)
    node._parents = (leaf,)
    node.prim = _IDENTITY
    node.params = {}
    node.xs = [_Meta(leaf.data)]
    node.vcs = node.kept = node.y = node.y_vc = node.retained = None
    node.locked = ()
    node.freed = False
    alias: Node = node
    return alias


def _backward_graph(
    root: Tensor, seed: NDArray[Any], trace: graph.Trace | None = None
) -> graph.BackwardStats:
    """``backward(create_graph=True)``: the adjoints are Tensors, recorded as they are computed."""

    def visit(node: Tensor | Node, adjoint: Tensor) -> None:
        leaf = _receiver(node)
        if leaf is None:
            return
        if not adjoint.requires_grad:  # a constant adjoint (the seed, say): a private copy
            adjoint = _wrap(np.array(adjoint.data))
        if adjoint.data.dtype != leaf.data.dtype:
            adjoint = adjoint.astype(leaf.data.dtype)
        leaf.grad = adjoint if leaf.grad is None else leaf.grad + adjoint

    previous = _Mode.retain, _Mode.grad
    _Mode.retain = _Mode.grad = True
    try:
        return graph.backward(_root(root), _wrap(seed), visit, trace=trace)
    finally:
        _Mode.retain, _Mode.grad = previous


def _over_empty(root: Tensor) -> bool:
    """True if the graph holds an empty tensor: a mean over no elements is nan by definition
    (numpy, PyTorch), and the gradient of an empty input is empty, so backward may run."""
    for node in graph.topological_order(_root(root)):
        if type(node) is Tensor:
            if node.data.size == 0:
                return True
        elif node.xs is not None and any(math.prod(x.shape) == 0 for x in node.xs):
            return True
    return False


def _output_of(node: Node) -> Any:  # the output array, or None
    """A node's output values for the error message: saved, or recomputed from saved inputs."""
    if node.y is not None:
        return node.y
    if node.xs is None or any(isinstance(x, _Meta) for x in node.xs):
        return None
    with np.errstate(all="ignore"):
        try:
            out = node.prim.forward(*node.xs, **node.params)
        except Exception:  # noqa: BLE001 - only a message is at stake
            return None
    return out[0] if node.prim.keeps else out


def _non_finite_message(root: Tensor, what: str) -> str:
    """Name the first op (in the forward's order) whose saved output is not finite."""
    head = (
        f"backward: {what} is not finite (shape {root.shape}, "
        f"{np.count_nonzero(~np.isfinite(root.data))} nan/inf values)"
    )
    if what != "the output":
        return f"{head}; pass a finite grad="
    for node in graph.topological_order(_root(root)):
        if type(node) is Tensor:
            values, label = node.data, f"the leaf {node.name or ''} of shape {node.shape}"
        else:
            values, label = _output_of(node), f"the op {node.prim.name}"
        if values is not None:
            arr = np.asarray(values)
            if arr.dtype.kind == "f" and not np.isfinite(arr).all():
                return (
                    f"{head}; the first non-finite value comes from {label}; check that op's "
                    "inputs (overflow, log of 0 or of a negative, a nan input) before backward"
                )
    return f"{head}; check the ops' inputs (overflow, log of 0, a nan input)"
