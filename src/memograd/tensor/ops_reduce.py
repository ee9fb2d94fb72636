"""Reductions and scans of THE table: prod, cumsum, cumprod, the 2-norm, with NumPy's ``axis``
and ``keepdims``; argmax/argmin, sort, argsort, topk, norm (any order) and diff built on them.

Non-differentiable points, by a fixed rule: ``argmax``/``argmin``/``argsort`` return integer
tensors (no gradient); ``sort`` and ``topk`` send the adjoint back through the permutation they
chose (ties keep their original order, as a stable sort); ``prod`` and ``cumprod`` are exact with
zeros (the product of the other entries, never 0/0); ``norm`` has gradient 0 at the origin.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from typing import Any, TypeAlias, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from memograd.errors import MemogradTypeError, MemogradValueError, ShapeError
from memograd.tensor.api import concatenate, getitem, reshape, squeeze
from memograd.tensor.ops import TABLE, Axis, Operand, _expand, call, register, rule
from memograd.tensor.ops import _norm_axes as _axes_of
from memograd.tensor.ops_index import take_along_axis
from memograd.tensor.tensor import Tensor, _apply, _binary, _wrap, abs, max, min, sum, tensor

__all__ = [
    "prod",
    "cumsum",
    "cumprod",
    "argmax",
    "argmin",
    "sort",
    "argsort",
    "topk",
    "norm",
    "diff",
]


def _prod_vjp(
    g: Operand, y: Operand, a: Operand, axis: Axis = None, keepdims: bool = False
) -> Operand:
    """∂ Πa/∂a_i = Π_{k≠i} a_k, exact with zeros. On arrays by counting zeros: with none it is
    y/a_i; with one only that entry gets the product of the others; with two or more every share
    is 0. Under create_graph (Tensors) as prefix · suffix products, whose own derivatives are
    right at zeros too (the zero-count shortcut is not: Π_{k≠i} a_k = 0 still depends on the
    zero entry)."""
    if not isinstance(a, np.ndarray):
        return _expand(g, a.shape, axis, keepdims) * _others_product(a, axis)
    zero = a == 0
    safe = np.where(zero, 1, a)
    nonzero_prod = np.prod(safe, axis=axis, keepdims=True)
    zeros = np.sum(zero, axis=axis, keepdims=True)
    alone = np.where((zeros == 1) & zero, nonzero_prod, 0)
    others = np.where(zeros == 0, nonzero_prod / safe, alone)
    return _expand(g, a.shape, axis, keepdims) * others


def _others_product(a: Operand, axis: Axis) -> Operand:
    """Π_{k≠i} a_k over the reduced axes, without division: the running products before and
    after each entry (cumprod rows), multiplied."""
    nd = a.ndim
    axes = tuple(range(nd)) if axis is None else _axes_of(axis, nd)
    rest = [d for d in range(nd) if d not in axes]
    perm = rest + list(axes)
    t = np.transpose(a, perm)
    lead = t.shape[: len(rest)]
    n = math.prod(t.shape[len(rest) :])
    if n == 0:
        return a * 0
    flat = np.reshape(t, lead + (n,))
    ones = np.ones(lead + (1,), dtype=a.dtype)
    before = call("cumprod", np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    rev = flat[..., ::-1]
    after = call("cumprod", np.concatenate([ones, rev[..., :-1]], axis=-1), axis=-1)[..., ::-1]
    return np.transpose(np.reshape(before * after, t.shape), tuple(np.argsort(perm)))


def _rev_cumsum(x: Operand, axis: int) -> Operand:
    """Σ_{j >= i} x_j along ``axis`` (the adjoint of a cumulative sum): flip, cumsum, flip on
    arrays; Σ x - cumsum x + x with table ops under create_graph."""
    if isinstance(x, np.ndarray):
        return np.flip(np.cumsum(np.flip(x, axis), axis), axis)
    return np.add.reduce(x, axis=axis, keepdims=True) - call("cumsum", x, axis=axis) + x


def _cumprod_vjp(g: Operand, y: Operand, a: Operand, axis: int) -> Operand:
    """∂L/∂a_i = Σ_{j>=i} g_j Π_{k<=j, k≠i} a_k. Without zeros that is revcumsum(g y)/a_i; with
    zeros the products are formed directly (n² work along ``axis``, exact)."""
    if not np.any(a == 0):
        return _rev_cumsum(g * y, axis) / a
    am, gm = np.moveaxis(a, axis, -1), np.moveaxis(g, axis, -1)
    n = am.shape[-1]
    after = np.triu(np.ones((n, n), dtype=bool), 1)  # j > i: a_j takes part in Π_{i<k<=j}
    between = np.cumprod(np.where(after, am[..., None, :], 1), axis=-1)  # [i, j] = Π_{i<k<=j} a_k
    before = np.cumprod(np.concatenate([np.ones_like(am[..., :1]), am[..., :-1]], -1), -1)
    upper = np.triu(np.ones((n, n), dtype=bool))  # j >= i
    share = before * np.sum(np.where(upper, gm[..., None, :] * between, 0), axis=-1)
    return np.moveaxis(share, -1, axis)


def _norm2(a: Operand, axis: Axis = None, keepdims: bool = False) -> Operand:
    return np.sqrt(np.sum(a * a, axis=axis, keepdims=keepdims))


def _norm2_vjp(
    g: Operand, y: Operand, a: Operand, axis: Axis = None, keepdims: bool = False
) -> Operand:
    """∂‖a‖/∂a = a/‖a‖, and 0 at a = 0 (the subgradient PyTorch uses)."""
    yk = _expand(y, a.shape, axis, keepdims)
    return _expand(g, a.shape, axis, keepdims) * np.where(yk == 0, 0, a / np.where(yk == 0, 1, yk))


# Each formula: (g = ∂L/∂y, y = output, inputs..., **params) -> share of that input.
# fmt: off
register(
    rule("prod", lambda a, axis=None, keepdims=False: np.prod(a, axis=axis, keepdims=keepdims),
                                  _prod_vjp,                                         saves="x"),
    rule("cumsum", lambda a, axis: np.cumsum(a, axis=axis),
                                  lambda g, y, a, axis: _rev_cumsum(g, axis)),
    rule("cumprod", lambda a, axis: np.cumprod(a, axis=axis),
                                  _cumprod_vjp,                                      saves="xy"),
    rule("norm2", _norm2,         _norm2_vjp,                                        saves="xy"),
)
# fmt: on


def _check_axis(name: str, a: Tensor, axis: object) -> None:
    """An int or tuple of distinct ints in [-n, n) for n = max(ndim, 1) (a 0-d tensor takes
    axis 0 and -1, as NumPy's reductions and PyTorch do)."""
    if axis is None:
        return
    axes = (axis,) if not isinstance(axis, (tuple, list)) else tuple(axis)
    n = builtins.max(a.ndim, 1)
    for ax in axes:
        if not isinstance(ax, (int, np.integer)):
            raise MemogradTypeError(f"{name}: axis must be an int or a tuple of ints, got {ax!r}")
        if not -n <= ax < n:
            raise ShapeError(
                f"{name}: axis {ax} is out of range for shape {a.shape} (valid: {-n}..{n - 1})"
            )
    if len({int(ax) % n for ax in axes}) != len(axes):
        raise ShapeError(f"{name}: axis {axis} names the same axis twice for shape {a.shape}")


def _as_tensor(a: Tensor | ArrayLike) -> Tensor:
    return a if type(a) is Tensor else tensor(a)


def _one_axis(name: str, a: Tensor, axis: object) -> int:
    if not isinstance(axis, (int, np.integer)):
        raise MemogradTypeError(f"{name}: axis must be an int or None, got {axis!r}")
    _check_axis(name, a, axis)
    return int(axis) % builtins.max(a.ndim, 1)


def prod(
    a: Tensor | ArrayLike, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Tensor:
    """Π over ``axis`` (all if None); the gradient is exact with zeros (no 0/0)."""
    a = _as_tensor(a)
    _check_axis("prod", a, axis)
    axis = tuple(axis) if isinstance(axis, list) else axis
    if a.ndim == 0:
        axis = None
    return _apply(TABLE["prod"], (a,), {"axis": axis, "keepdims": keepdims})


def _scan(name: str, a: Tensor | ArrayLike, axis: int | None) -> Tensor:
    a = _as_tensor(a)
    if axis is None or a.ndim == 0:
        a, axis = reshape(a, (-1,)), 0
    return _apply(TABLE[name], (a,), {"axis": _one_axis(name, a, axis)})


def cumsum(a: Tensor | ArrayLike, axis: int | None = None) -> Tensor:
    """Running sum along ``axis`` (of the flattened ``a`` if None); ∂ = reversed running sum."""
    return _scan("cumsum", a, axis)


def cumprod(a: Tensor | ArrayLike, axis: int | None = None) -> Tensor:
    """Running product along ``axis`` (flattened if None); the gradient is exact with zeros."""
    return _scan("cumprod", a, axis)


def _arg(
    name: str,
    fn: Callable[..., Any],
    a: Tensor | ArrayLike,
    axis: int | None,
    keepdims: bool,
) -> Tensor:
    a = _as_tensor(a)
    if a.size == 0:
        raise ShapeError(f"{name}: empty tensor of shape {a.shape} has no {name[3:]}imum")
    if axis is not None:
        axis = _one_axis(name, a, axis)
        if a.ndim == 0:
            axis = None
    return _wrap(np.asarray(fn(a.data, axis=axis, keepdims=keepdims)))


def argmax(a: Tensor | ArrayLike, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the largest entry (of the flattened ``a`` if ``axis`` is None); an int64 tensor,
    no gradient."""
    return _arg("argmax", np.argmax, a, axis, keepdims)


def argmin(a: Tensor | ArrayLike, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the smallest entry; an int64 tensor, no gradient."""
    return _arg("argmin", np.argmin, a, axis, keepdims)


def _order(a: Tensor, axis: int, descending: bool) -> NDArray[np.intp]:
    """A stable argsort (ties keep their order), largest first when ``descending``."""
    data = a.data
    if descending:  # stable among ties: sort the reversed array ascending, map back
        if data.dtype.kind == "f" or data.dtype.kind == "i":
            return np.argsort(-data, axis=axis, kind="stable")
        return np.argsort(np.logical_not(data), axis=axis, kind="stable")
    return np.argsort(data, axis=axis, kind="stable")


def argsort(a: Tensor | ArrayLike, axis: int | None = -1, descending: bool = False) -> Tensor:
    """Indices that sort ``a`` along ``axis`` (stable; flattened if None); no gradient."""
    a = _as_tensor(a)
    if axis is None or a.ndim == 0:
        a, axis = reshape(a, (-1,)), 0
    return _wrap(_order(a, _one_axis("argsort", a, axis), descending))


def sort(a: Tensor | ArrayLike, axis: int | None = -1, descending: bool = False) -> Tensor:
    """Sorted along ``axis`` (flattened if None); the adjoint goes back through the permutation
    (ties in their original order)."""
    a = _as_tensor(a)
    if axis is None or a.ndim == 0:
        a, axis = reshape(a, (-1,)), 0
    axis = _one_axis("sort", a, axis)
    return take_along_axis(a, _order(a, axis, descending), axis)


def topk(  # noqa: A002 - sorted is torch's name
    a: Tensor | ArrayLike, k: int, axis: int = -1, largest: bool = True, sorted: bool = True
) -> tuple[Tensor, Tensor]:
    """The ``k`` largest (or smallest) entries along ``axis`` and their indices, as torch.topk:
    ``(values, indices)``, values largest first. The adjoint reaches the chosen entries only."""
    a = _as_tensor(a)
    if a.ndim == 0:
        a = reshape(a, (1,))
    axis = _one_axis("topk", a, axis)
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= a.shape[axis]:
        raise MemogradValueError(
            f"topk: k={k!r} must be an int in [0, {a.shape[axis]}] for axis {axis} of shape "
            f"{a.shape}"
        )
    order = _order(a, axis, largest)
    idx = np.take(order, np.arange(int(k)), axis=axis)
    return take_along_axis(a, idx, axis), _wrap(idx)


def _norm_axes(a: Tensor, axis: int | tuple[int, ...]) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    _check_axis("norm", a, axes)
    return tuple(int(x) % a.ndim for x in axes)


Ord: TypeAlias = "float | str | None"  # a vector p, inf, or a matrix norm's name ('fro')


def norm(  # noqa: A002 - numpy's name
    x: Tensor | ArrayLike,
    ord: Ord = None,
    axis: int | tuple[int, ...] | None = None,
    keepdims: bool = False,
) -> Tensor:
    """``np.linalg.norm``: vector norms over one axis (ord None/2, 1, inf, -inf, 0, any p) and
    matrix norms over two ('fro', 1, -1, inf, -inf); ``axis=None`` means the whole vector or
    matrix (the 2-norm of the flattened tensor when ord is None). The 2-norm has gradient 0 at 0.
    Spectral and nuclear norms (ord 2, -2, 'nuc' on matrices) need an SVD and are not supported."""
    x = _as_tensor(x)
    if axis is None:
        if ord is None:
            out = _apply(TABLE["norm2"], (x,), {"axis": None, "keepdims": False})
            return _keep(out, x, keepdims)
        if x.ndim not in (1, 2):
            raise ShapeError(
                f"norm: ord={ord!r} with axis=None needs a 1-d or 2-d tensor, got {x.shape}; "
                "pass axis="
            )
        axis = tuple(range(x.ndim))
    axes = _norm_axes(x, axis)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ShapeError(f"norm: axis {axis} names {len(axes)} axes; give one (vector) or two (matrix)")


def _keep(out: Tensor, x: Tensor, keepdims: bool) -> Tensor:
    return reshape(out, (1,) * x.ndim) if keepdims else out


def _vector_norm(x: Tensor, ord: Ord, axis: int, keepdims: bool) -> Tensor:
    if ord is None or ord == 2:
        return _apply(TABLE["norm2"], (x,), {"axis": axis, "keepdims": keepdims})
    if isinstance(ord, str):
        raise MemogradValueError(
            f"norm: ord={ord!r} is a matrix norm; a vector norm needs a number"
        )
    if ord == np.inf:
        return cast(Tensor, max(abs(x), axis=axis, keepdims=keepdims))
    if ord == -np.inf:
        return cast(Tensor, min(abs(x), axis=axis, keepdims=keepdims))
    if ord == 0:  # the count of nonzeros: piecewise constant, no gradient
        return _wrap(np.sum(x.data != 0, axis=axis, keepdims=keepdims).astype(x.dtype))
    if ord == 1:
        return cast(Tensor, sum(abs(x), axis=axis, keepdims=keepdims))
    return cast(Tensor, sum(abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord))


def _matrix_norm(x: Tensor, ord: Ord, axes: tuple[int, ...], keepdims: bool) -> Tensor:
    rows, cols = axes
    if ord is None or ord == "fro":
        return _apply(TABLE["norm2"], (x,), {"axis": axes, "keepdims": keepdims})
    if ord in (1, -1):  # max/min over columns of the column sums of |x|
        inner, outer = rows, cols
    elif ord in (np.inf, -np.inf):  # over rows of the row sums
        inner, outer = cols, rows
    else:
        raise MemogradValueError(
            f"norm: matrix ord={ord!r} is not supported (2, -2 and 'nuc' need singular values); "
            "use 'fro', 1, -1, inf or -inf"
        )
    sums = sum(abs(x), axis=inner, keepdims=True)
    pick = max if ord in (1, np.inf) else min
    out: Tensor = pick(sums, axis=outer, keepdims=True)
    return out if keepdims else squeeze(out, axis=axes)


def _slice(axis: int, ndim: int, s: slice) -> tuple[slice, ...]:
    return (slice(None),) * axis + (s,) + (slice(None),) * (ndim - axis - 1)


def _edge(v: Tensor | ArrayLike, a: Tensor, axis: int) -> Tensor:
    """``prepend``/``append`` of diff: a number (or 0-d) fills one slice along ``axis``."""
    t = v if isinstance(v, Tensor) else tensor(np.asarray(v, dtype=a.dtype))
    if t.ndim == 0:
        shape = list(a.shape)
        shape[axis] = 1
        t = cast(Tensor, t.broadcast_to(tuple(shape)))
    return t


def diff(
    a: Tensor | ArrayLike,
    n: int = 1,
    axis: int = -1,
    prepend: Tensor | ArrayLike | None = None,
    append: Tensor | ArrayLike | None = None,
) -> Tensor:
    """n-th discrete difference along ``axis``: ``a[1:] - a[:-1]`` applied ``n`` times, after
    joining ``prepend``/``append`` (numbers broadcast to one slice; tensors are differentiated)."""
    a = _as_tensor(a)
    if a.ndim == 0:
        raise ShapeError("diff: needs at least a 1-d tensor, got a 0-d one")
    axis = _one_axis("diff", a, axis)
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise MemogradValueError(f"diff: order n must be a non-negative int, got {n!r}")
    if n == 0:  # NumPy returns the input as it is (prepend/append ignored)
        return a
    parts = [_edge(prepend, a, axis)] if prepend is not None else []
    parts.append(a)
    if append is not None:
        parts.append(_edge(append, a, axis))
    if len(parts) > 1:
        a = concatenate(parts, axis=axis)
    for _ in range(int(n)):
        m = a.shape[axis]
        if m == 0:
            break
        a = _binary(  # a[1:] - a[:-1] along axis
            "sub",
            getitem(a, _slice(axis, a.ndim, slice(1, None))),
            getitem(a, _slice(axis, a.ndim, slice(None, m - 1))),
        )
    return a


for _name in ("prod", "cumsum", "cumprod", "argmax", "argmin", "sort", "argsort", "norm", "diff"):
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, globals()[_name])
Tensor.topk = topk  # type: ignore[attr-defined]
