"""Shape functions with NumPy's signatures, each a composite of rows already in THE table
(getitem, reshape, transpose, broadcast_to, concatenate, take, where), so their gradients, of any
order, are those rows' gradients: no new VJP to get wrong.

    flip, roll, pad (constant, edge, reflect, symmetric, wrap), tile, repeat, split, array_split,
    moveaxis, swapaxes, ravel, atleast_1d/2d/3d, vstack, hstack, dstack, column_stack, tril, triu
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias, cast

import numpy as np
from numpy.typing import ArrayLike

from memograd.errors import MemogradTypeError, MemogradValueError, ShapeError
from memograd.tensor.api import broadcast_to, concatenate, getitem, reshape, transpose, where
from memograd.tensor.ops_index import take
from memograd.tensor.ops_reduce import _check_axis
from memograd.tensor.tensor import Tensor, tensor

Axes: TypeAlias = "int | tuple[int, ...] | None"

__all__ = [
    "flip",
    "roll",
    "pad",
    "tile",
    "repeat",
    "split",
    "array_split",
    "moveaxis",
    "swapaxes",
    "ravel",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "vstack",
    "hstack",
    "dstack",
    "column_stack",
    "tril",
    "triu",
]


def _t(a: Tensor | ArrayLike) -> Tensor:
    return a if type(a) is Tensor else tensor(a)


def _axes(name: str, a: Tensor, axis: Axes) -> tuple[int, ...]:
    """``axis`` (int, tuple or None = all) as non-negative ints, checked."""
    if axis is None:
        return tuple(range(a.ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    _check_axis(name, a, axes)
    return tuple(int(x) % builtins.max(a.ndim, 1) for x in axes)


def _key(ndim: int, axis: int, s: slice) -> tuple[slice, ...]:
    return (slice(None),) * axis + (s,) + (slice(None),) * (ndim - axis - 1)


def flip(a: Tensor | ArrayLike, axis: Axes = None) -> Tensor:
    """Reverse the order along ``axis`` (all axes if None); ∂ = flip of the adjoint."""
    a = _t(a)
    key: list[slice] = [slice(None)] * a.ndim
    for ax in _axes("flip", a, axis):
        key[ax] = slice(None, None, -1)
    return getitem(a, tuple(key)) if a.ndim else a


def roll(a: Tensor | ArrayLike, shift: int | tuple[int, ...], axis: Axes = None) -> Tensor:
    """Shift entries cyclically by ``shift`` along ``axis`` (the flattened tensor if None)."""
    a = _t(a)
    if axis is None:
        return reshape(roll(reshape(a, (-1,)), shift, 0), a.shape)
    shifts = (shift,) if isinstance(shift, (int, np.integer)) else tuple(shift)
    axes = _axes("roll", a, axis)
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    if len(shifts) != len(axes):
        raise ShapeError(f"roll: {len(shifts)} shifts for {len(axes)} axes ({axis!r})")
    for s, ax in zip(shifts, axes):
        n = a.shape[ax]
        if n == 0 or int(s) % n == 0:
            continue
        k = n - int(s) % n
        head = getitem(a, _key(a.ndim, ax, slice(k, None)))
        tail = getitem(a, _key(a.ndim, ax, slice(None, k)))
        a = concatenate([head, tail], axis=ax)
    return a


def _widths(pad_width: ArrayLike, ndim: int) -> list[list[int]]:
    w = np.asarray(pad_width)
    if w.dtype.kind not in "iu" or np.any(w < 0):
        raise MemogradValueError(f"pad: pad_width must be non-negative ints, got {pad_width!r}")
    try:
        pairs: list[list[int]] = np.broadcast_to(w, (ndim, 2)).tolist()
        return pairs
    except ValueError:
        raise ShapeError(
            f"pad: pad_width {pad_width!r} does not fit {ndim} dims; give one (before, after) "
            "pair per axis, one pair, or one int"
        ) from None


_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(
    a: Tensor | ArrayLike,
    pad_width: ArrayLike,
    mode: str = "constant",
    constant_values: ArrayLike = 0,
) -> Tensor:
    """NumPy's pad, modes constant/edge/reflect/symmetric/wrap. Constant padding joins constant
    blocks (the adjoint of the border is dropped); the other modes read existing entries through
    index arrays (``take``), so the adjoint of each copy adds back to its source."""
    a = _t(a)
    if mode not in _MODES:
        raise MemogradValueError(f"pad: mode {mode!r} is not supported; use one of {_MODES}")
    for ax, (before, after) in enumerate(_widths(pad_width, a.ndim)):
        if before == after == 0:
            continue
        n = a.shape[ax]
        if mode == "constant":
            cv = np.broadcast_to(np.asarray(constant_values, dtype=a.dtype), (a.ndim, 2))
            parts: list[Tensor] = []
            for w, value in ((before, cv[ax][0]), (None, None), (after, cv[ax][1])):
                if w is None:
                    parts.append(a)
                elif w:
                    shape = a.shape[:ax] + (w,) + a.shape[ax + 1 :]
                    parts.append(tensor(np.full(shape, value, dtype=a.dtype)))
            a = concatenate(parts, axis=ax)
            continue
        if n == 0:
            raise ShapeError(f"pad: mode {mode!r} cannot pad the empty axis {ax} of {a.shape}")
        idx = np.pad(np.arange(n), (before, after), mode=cast(Any, mode))  # one of _MODES
        a = take(a, idx, axis=ax)
    return a


def tile(a: Tensor | ArrayLike, reps: int | Sequence[int]) -> Tensor:
    """NumPy's tile: repeat the whole tensor ``reps`` times per axis (broadcast + reshape)."""
    a = _t(a)
    given = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    nd = builtins.max(a.ndim, len(given))
    reps = (1,) * (nd - len(given)) + tuple(int(r) for r in given)
    shape = (1,) * (nd - a.ndim) + a.shape
    inter = tuple(x for r, n in zip(reps, shape) for x in (1, n))
    wide = tuple(x for r, n in zip(reps, shape) for x in (r, n))
    out = broadcast_to(reshape(a, inter), wide)
    return reshape(out, tuple(r * n for r, n in zip(reps, shape)))


def repeat(a: Tensor | ArrayLike, repeats: ArrayLike, axis: int | None = None) -> Tensor:
    """NumPy's repeat: each entry ``repeats`` times along ``axis`` (flattened if None); an array of
    repeats gives each entry its own count."""
    a = _t(a)
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    (axis,) = _axes("repeat", a, axis)
    r = np.asarray(repeats)
    if r.dtype.kind not in "iu" or np.any(r < 0):
        raise MemogradValueError(f"repeat: repeats must be non-negative ints, got {repeats!r}")
    if r.ndim == 0:
        n = a.shape[axis]
        expanded = reshape(a, a.shape[: axis + 1] + (1,) + a.shape[axis + 1 :])
        wide = a.shape[: axis + 1] + (int(r),) + a.shape[axis + 1 :]
        out = broadcast_to(expanded, wide)
        return reshape(out, a.shape[:axis] + (n * int(r),) + a.shape[axis + 1 :])
    if r.shape != (a.shape[axis],):
        raise ShapeError(
            f"repeat: {r.shape[0] if r.ndim == 1 else r.shape} repeats for axis {axis} of "
            f"size {a.shape[axis]}"
        )
    return take(a, np.repeat(np.arange(a.shape[axis]), r), axis=axis)


def array_split(
    a: Tensor | ArrayLike, indices_or_sections: int | Sequence[int], axis: int = 0
) -> list[Tensor]:
    """NumPy's array_split: ``n`` near-equal pieces (the first ones one longer), or pieces cut at
    the given indices."""
    a = _t(a)
    (axis,) = _axes("array_split", a, axis)
    n = a.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0:
            raise MemogradValueError(f"split: number of sections must be > 0, got {k}")
        q, r = divmod(n, k)
        cuts: list[int] = np.cumsum([q + 1] * r + [q] * (k - r))[:-1].tolist()
    else:
        cuts = [int(i) for i in indices_or_sections]
    bounds = [0] + cuts + [n]
    return [getitem(a, _key(a.ndim, axis, slice(s, e))) for s, e in zip(bounds, bounds[1:])]


def split(
    a: Tensor | ArrayLike, indices_or_sections: int | Sequence[int], axis: int = 0
) -> list[Tensor]:
    """NumPy's split: like array_split, but ``n`` sections must divide the axis evenly."""
    a = _t(a)
    (ax,) = _axes("split", a, axis)
    if isinstance(indices_or_sections, (int, np.integer)) and (
        indices_or_sections <= 0 or a.shape[ax] % indices_or_sections
    ):
        raise ShapeError(
            f"split: axis {ax} of shape {a.shape} does not split into {indices_or_sections} "
            "equal sections; use array_split for unequal ones"
        )
    return array_split(a, indices_or_sections, ax)


def moveaxis(
    a: Tensor | ArrayLike, source: int | tuple[int, ...], destination: int | tuple[int, ...]
) -> Tensor:
    """Move axes to new positions, the others keep their order (a transpose)."""
    a = _t(a)
    src = _axes("moveaxis", a, source)
    dst = _axes("moveaxis", a, destination)
    if len(src) != len(dst):
        raise ShapeError(f"moveaxis: {len(src)} source axes but {len(dst)} destinations")
    order = [n for n in range(a.ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, tuple(order))


def swapaxes(a: Tensor | ArrayLike, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes (a transpose)."""
    a = _t(a)
    i, j = _axes("swapaxes", a, (axis1,)) + _axes("swapaxes", a, (axis2,))
    order = list(range(a.ndim))
    order[i], order[j] = j, i
    return transpose(a, tuple(order))


def ravel(a: Tensor | ArrayLike) -> Tensor:
    """The flattened tensor (a reshape to (-1,))."""
    return reshape(_t(a), (-1,))


def _atleast(a: Tensor | ArrayLike, nd: int) -> Tensor:
    a = _t(a)
    if a.ndim >= nd:
        return a
    if nd == 3 and a.ndim == 1:
        return reshape(a, (1, a.shape[0], 1))
    if nd == 3 and a.ndim == 2:
        return reshape(a, a.shape + (1,))
    return reshape(a, (1,) * (nd - a.ndim) + a.shape)


def atleast_1d(*arys: Tensor | ArrayLike) -> Tensor | list[Tensor]:
    """Each input with at least 1 dim (0-d -> (1,)); one tensor or a list, as NumPy."""
    out = [_atleast(a, 1) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys: Tensor | ArrayLike) -> Tensor | list[Tensor]:
    """Each input with at least 2 dims: (n,) -> (1, n)."""
    out = [_atleast(a, 2) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys: Tensor | ArrayLike) -> Tensor | list[Tensor]:
    """Each input with at least 3 dims: (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    out = [_atleast(a, 3) for a in arys]
    return out[0] if len(out) == 1 else out


def _list(name: str, tup: object) -> list[Any]:
    if isinstance(tup, Tensor) or not isinstance(tup, Iterable):
        raise MemogradTypeError(f"{name}: expects a sequence of tensors, got {type(tup).__name__}")
    return list(tup)


def vstack(tup: Sequence[Tensor | ArrayLike]) -> Tensor:
    """Stack along the first axis after atleast_2d ((n,) rows become (1, n))."""
    return concatenate([_atleast(a, 2) for a in _list("vstack", tup)], axis=0)


def hstack(tup: Sequence[Tensor | ArrayLike]) -> Tensor:
    """Stack along the second axis (the first for 1-d inputs)."""
    ts = [_atleast(a, 1) for a in _list("hstack", tup)]
    return concatenate(ts, axis=0 if ts and ts[0].ndim == 1 else 1)


def dstack(tup: Sequence[Tensor | ArrayLike]) -> Tensor:
    """Stack along the third axis after atleast_3d."""
    return concatenate([_atleast(a, 3) for a in _list("dstack", tup)], axis=2)


def column_stack(tup: Sequence[Tensor | ArrayLike]) -> Tensor:
    """1-d inputs become columns, 2-d inputs are joined as they are, along axis 1."""
    ts = [_t(a) for a in _list("column_stack", tup)]
    ts = [reshape(t, (-1, 1)) if t.ndim < 2 else t for t in ts]
    return concatenate(ts, axis=1)


def _tri(name: str, a: Tensor | ArrayLike, k: int, lower: bool) -> Tensor:
    a = _t(a)
    if a.ndim < 2:
        raise ShapeError(f"{name}: needs at least 2 dims (it works on the last two), got {a.shape}")
    n, m = a.shape[-2:]
    keep = np.tri(n, m, k, dtype=bool) if lower else ~np.tri(n, m, k - 1, dtype=bool)
    return where(keep, a, 0)


def tril(a: Tensor | ArrayLike, k: int = 0) -> Tensor:
    """Lower triangle of the last two axes (entries above the k-th diagonal set to 0)."""
    return _tri("tril", a, k, True)


def triu(a: Tensor | ArrayLike, k: int = 0) -> Tensor:
    """Upper triangle of the last two axes (entries below the k-th diagonal set to 0)."""
    return _tri("triu", a, k, False)


for _name in ("flip", "roll", "repeat", "ravel", "swapaxes", "moveaxis", "tile", "tril", "triu"):
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, globals()[_name])
