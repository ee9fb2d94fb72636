"""Indexing rows of THE table: gathers and their adjoints, the scatter-adds.

A gather reads entries at integer positions; its VJP adds the adjoint back at those positions
(repeated positions add up). The scatter-add is itself a row, whose VJP is the gather again, so
the pair is closed under differentiation:

    take(a, idx, axis)    <-> index_add(zeros, axis, idx, g)     (numpy take / torch index_add)
    gather(a, axis, idx)  <-> scatter_add(zeros, axis, idx, g)   (torch gather / scatter_add)

``take_along_axis`` (NumPy's broadcasting gather), ``masked_fill`` and ``one_hot`` build on
them.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from memograd.errors import MemogradTypeError, MemogradValueError, ShapeError
from memograd.tensor.api import broadcast_to, reshape, where

# ops.call runs a row inside a formula (recorded under create_graph); see ops' module doc
from memograd.tensor.ops import TABLE, Operand, call, register, rule  # call: a row in a formula
from memograd.tensor.tensor import Tensor, _apply, _pair, _wrap, tensor

__all__ = [
    "take",
    "index_add",
    "gather",
    "scatter_add",
    "take_along_axis",
    "masked_fill",
    "one_hot",
]


def _at(axis: int, index: NDArray[np.integer[Any]]) -> Any:  # an index key: (:, ..., index)
    """The key that puts ``index`` at position ``axis``: ``a[_at(1, i)] == a[:, i]``."""
    return (slice(None),) * axis + (index,)


def _grid(index: NDArray[np.integer[Any]], axis: int) -> tuple[NDArray[Any], ...]:
    """torch's gather key: ``out[i, j] = a[index[i, j], j]`` for axis 0 (other axes by position)."""
    nd = index.ndim
    key: list[NDArray[Any]] = []
    for d in range(nd):
        if d == axis:
            key.append(index)
        else:
            shape = [1] * nd
            shape[d] = index.shape[d]
            key.append(np.arange(index.shape[d]).reshape(shape))
    return tuple(key)


def _take(a: Operand, index: NDArray[np.integer[Any]], axis: int = 0) -> Operand:
    return np.take(a, index, axis=axis)


def _index_add(
    a: Operand, src: Operand, axis: int = 0, index: NDArray[np.integer[Any]] | None = None
) -> Operand:
    """out = a, then out[..., index[k], ...] += src[..., k, ...] (np.add.at: repeats add up)."""
    out = np.array(a, dtype=np.result_type(a, src), copy=True)
    assert index is not None  # the op's parameter, always given
    np.add.at(out, _at(axis, index), src)
    return out


def _gather(a: Operand, axis: int = 0, index: NDArray[np.integer[Any]] | None = None) -> Operand:
    assert index is not None
    return a[_grid(index, axis)]


def _scatter_add(
    a: Operand, src: Operand, axis: int = 0, index: NDArray[np.integer[Any]] | None = None
) -> Operand:
    assert index is not None
    out = np.array(a, dtype=np.result_type(a, src), copy=True)
    np.add.at(out, _grid(index, axis), src)
    return out


def _zeros(x: Operand, g: Operand) -> NDArray[Any]:
    return np.zeros(x.shape, dtype=g.dtype)


# Each formula: (g = ∂L/∂y, y = output, inputs..., **params) -> share of that input.
# fmt: off
register(
    rule("take", _take,
         lambda g, y, a, index, axis: call("index_add", _zeros(a, g), g, axis=axis, index=index)),
    rule("index_add", _index_add,
         lambda g, y, a, src, axis, index: g,
         lambda g, y, a, src, axis, index: call("take", g, index=index, axis=axis)),
    rule("gather", _gather,
         lambda g, y, a, axis, index: call("scatter_add", _zeros(a, g), g, axis=axis, index=index)),
    rule("scatter_add", _scatter_add,
         lambda g, y, a, src, axis, index: g,
         lambda g, y, a, src, axis, index: call("gather", g, axis=axis, index=index)),
)
# fmt: on


def _tensors(*xs: Tensor | ArrayLike) -> list[Tensor]:
    """The dtype rule for several operands: Tensors stay as they are; anything else (NumPy arrays,
    lists, numbers) takes the float dtype of the Tensor operands (float32 for a float64 array
    beside a float32 tensor), or its own dtype when no Tensor is a float one."""
    floats = [x.dtype for x in xs if isinstance(x, Tensor) and x.dtype.kind == "f"]
    want = floats[0] if floats else None
    out: list[Tensor] = []
    for x in xs:
        if type(x) is Tensor:
            out.append(x)
        elif want is not None and np.asarray(x).dtype.kind in "fiub":
            out.append(tensor(x, dtype=want))
        else:
            out.append(tensor(x))
    return out


def _as_tensor(a: Tensor | ArrayLike) -> Tensor:
    return a if type(a) is Tensor else tensor(a)


def _indices(
    name: str, index: Tensor | ArrayLike, size: int | None = None
) -> NDArray[np.integer[Any]]:
    """Integer index array (from a Tensor, list or array), checked against ``size`` if given."""
    idx = index.data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        if idx.size == 0:
            idx = idx.astype(np.intp)
        else:
            raise MemogradTypeError(
                f"{name}: indices must be integers, got dtype {idx.dtype} (shape {idx.shape}); "
                "convert them with .astype(int)"
            )
    if size is not None and idx.size:
        lo, hi = int(np.min(idx)), int(np.max(idx))
        if lo < -size or hi >= size:
            raise MemogradValueError(
                f"{name}: index {lo if lo < -size else hi} is out of range for an axis of size "
                f"{size} (valid: {-size}..{size - 1})"
            )
    return idx


def _axis(name: str, axis: object, ndim: int) -> int:
    if not isinstance(axis, (int, np.integer)):
        raise MemogradTypeError(f"{name}: axis must be an int, got {axis!r}")
    if not -builtins.max(ndim, 1) <= axis < builtins.max(ndim, 1):
        raise ShapeError(f"{name}: axis {axis} is out of range for a {ndim}-d tensor")
    return int(axis) % builtins.max(ndim, 1)


def take(a: Tensor | ArrayLike, indices: Tensor | ArrayLike, axis: int | None = None) -> Tensor:
    """NumPy's take: entries of ``a`` at ``indices`` along ``axis`` (of the flattened ``a`` if
    None); output shape ``a.shape[:axis] + indices.shape + a.shape[axis+1:]``. The VJP adds the
    adjoint back at the indices (repeats add up): ``index_add``."""
    t = _as_tensor(a)
    if axis is None:
        t, axis = reshape(t, (-1,)), 0
    if t.ndim == 0:
        raise ShapeError("take: a 0-d tensor has no axis to take from; reshape it to (1,)")
    axis = _axis("take", axis, t.ndim)
    idx = _indices("take", indices, t.shape[axis])
    return _apply(TABLE["take"], (t,), {"index": idx, "axis": axis})


def index_add(
    a: Tensor | ArrayLike, axis: int, index: Tensor | ArrayLike, source: Tensor | ArrayLike
) -> Tensor:
    """torch's ``index_add``: a copy of ``a`` with ``source[..., k, ...]`` added at
    ``a[..., index[k], ...]`` along ``axis`` (repeats add up). ``source`` has the shape of
    ``take(a, index, axis)``. Differentiable in ``a`` (∂ = 1) and ``source`` (∂ = take(g))."""
    a, src = _pair("index_add", a, source)
    axis = _axis("index_add", axis, a.ndim)
    idx = _indices("index_add", index, a.shape[axis])
    want = a.shape[:axis] + idx.shape + a.shape[axis + 1 :]
    if src.shape != want:
        raise ShapeError(
            f"index_add: source of shape {src.shape} does not match a {a.shape} with index "
            f"{idx.shape} along axis {axis}; expected {want} (the shape of take(a, index, axis))"
        )
    return _apply(TABLE["index_add"], (a, src), {"axis": axis, "index": idx})


def _check_gather(
    name: str, a: Tensor, axis: int, idx: NDArray[Any], other: Tensor | None = None
) -> None:
    if idx.ndim != a.ndim:
        raise ShapeError(
            f"{name}: index of shape {idx.shape} must have as many dims as the tensor {a.shape}"
        )
    for d, (n, m) in enumerate(zip(idx.shape, a.shape)):
        if d != axis and n > m:
            raise ShapeError(
                f"{name}: index of shape {idx.shape} is larger than the tensor {a.shape} "
                f"along axis {d} ({n} > {m}); only axis {axis} may be longer"
            )
    if other is not None and other.shape != idx.shape:
        raise ShapeError(
            f"{name}: source of shape {other.shape} must have the index's shape {idx.shape}"
        )


def gather(a: Tensor | ArrayLike, axis: int, index: Tensor | ArrayLike) -> Tensor:
    """torch's gather: ``out[i][j] = a[index[i][j]][j]`` for axis 0 (index no larger than ``a``
    off ``axis``; no broadcasting). The VJP is ``scatter_add`` of the adjoint."""
    a = _as_tensor(a)
    axis = _axis("gather", axis, a.ndim)
    idx = _indices("gather", index, a.shape[axis] if a.ndim else 1)
    _check_gather("gather", a, axis, idx)
    return _apply(TABLE["gather"], (a,), {"axis": axis, "index": idx})


def scatter_add(
    a: Tensor | ArrayLike, axis: int, index: Tensor | ArrayLike, src: Tensor | ArrayLike
) -> Tensor:
    """torch's scatter_add: a copy of ``a`` with ``out[index[i][j]][j] += src[i][j]`` (axis 0);
    ``src`` has the index's shape. ∂/∂a = 1, ∂/∂src = gather(g, axis, index)."""
    a, s = _pair("scatter_add", a, src)
    axis = _axis("scatter_add", axis, a.ndim)
    idx = _indices("scatter_add", index, a.shape[axis] if a.ndim else 1)
    _check_gather("scatter_add", a, axis, idx, s)
    return _apply(TABLE["scatter_add"], (a, s), {"axis": axis, "index": idx})


def take_along_axis(a: Tensor | ArrayLike, indices: Tensor | ArrayLike, axis: int | None) -> Tensor:
    """NumPy's take_along_axis: ``indices`` (same ndim as ``a``) pick entries along ``axis``; the
    other axes broadcast against ``a``. ``axis=None`` works on the flattened ``a``. Built on
    ``gather`` (the VJP scatter-adds)."""
    a = _as_tensor(a)
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
        if idx.ndim != 1:
            raise ShapeError(
                f"take_along_axis: with axis=None the indices must be 1-d, got {idx.shape}"
            )
    axis = _axis("take_along_axis", axis, a.ndim)
    idx = _indices("take_along_axis", idx, a.shape[axis] if a.ndim else 1)
    if idx.ndim != a.ndim:
        raise ShapeError(
            f"take_along_axis: indices of shape {idx.shape} need as many dims as a {a.shape}"
        )
    sa, si = list(a.shape), list(idx.shape)
    sa[axis] = si[axis] = 1
    try:
        common = np.broadcast_shapes(tuple(sa), tuple(si))
    except ValueError:
        raise ShapeError(
            f"take_along_axis: indices {idx.shape} and a {a.shape} do not broadcast off axis {axis}"
        ) from None
    want_a = common[:axis] + (a.shape[axis],) + common[axis + 1 :]
    want_i = common[:axis] + (idx.shape[axis],) + common[axis + 1 :]
    if a.shape != want_a:
        a = broadcast_to(a, want_a)
    if idx.shape != want_i:
        idx = np.broadcast_to(idx, want_i)
    return _apply(TABLE["gather"], (a,), {"axis": axis, "index": idx})


def masked_fill(
    a: Tensor | ArrayLike, mask: Tensor | ArrayLike, value: Tensor | ArrayLike
) -> Tensor:
    """``value`` where ``mask`` is true, else ``a`` (mask broadcasts); the adjoint of ``a`` is
    zero at the filled entries. ``value``: a number or a differentiable 0-d tensor."""
    a = _as_tensor(a)
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != bool:
        raise MemogradTypeError(f"masked_fill: mask must be bool, got dtype {m.dtype}")
    try:
        np.broadcast_shapes(m.shape, a.shape)
    except ValueError:
        raise ShapeError(
            f"masked_fill: mask of shape {m.shape} does not broadcast to {a.shape}"
        ) from None
    return where(m, value, a)


def one_hot(labels: Tensor | ArrayLike, num_classes: int = -1) -> Tensor:
    """Integer labels of shape S -> int64 tensor of shape S + (num_classes,) with a 1 at each
    label (torch's one_hot; ``num_classes=-1``: max label + 1). No gradient."""
    y = _indices("one_hot", labels)
    if num_classes == -1:
        num_classes = int(np.max(y)) + 1 if y.size else 0
    if y.size and (np.min(y) < 0 or np.max(y) >= num_classes):
        raise MemogradValueError(
            f"one_hot: labels must lie in [0, {num_classes}), got values from {np.min(y)} to "
            f"{np.max(y)}; pass num_classes= larger than the largest label"
        )
    return _wrap((y[..., None] == np.arange(num_classes)).astype(np.int64))


# Tensor methods, as on torch tensors (``x.gather(1, idx)``, ``x.masked_fill(m, 0)``)
for _name in ("take", "index_add", "gather", "scatter_add", "masked_fill"):
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, globals()[_name])
