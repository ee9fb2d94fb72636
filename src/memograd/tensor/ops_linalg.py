"""Linear algebra: one ``einsum`` row of THE table, and dot, inner, outer, tensordot, trace,
diagonal, diag and kron written as einsums (so their gradients are einsums too).

The einsum VJP. For ``y = einsum('s0,s1,...->o', x0, x1, ...)`` the adjoint of operand k is
again an einsum: ``∂L/∂xk = einsum('o,s0,..(without sk)..->sk', g, x0, ...)``. Three cases need
one more operand: a letter only ``xk`` has (summed away inside ``xk``, e.g. ``'ij->i'``) gets a
vector of ones, a letter repeated in ``sk`` (a diagonal, ``'ii->i'``) gets an identity matrix
joining a fresh letter, and a size-1 axis that broadcast against a longer one is summed and
kept as size 1.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from memograd.errors import MemogradTypeError, ShapeError
from memograd.tensor.api import _many, getitem, reshape
from memograd.tensor.ops import TABLE, Operand, call, register, rule
from memograd.tensor.ops_index import _tensors
from memograd.tensor.tensor import Tensor, _apply, _binary, sum, tensor

__all__ = [
    "einsum",
    "dot",
    "inner",
    "outer",
    "tensordot",
    "trace",
    "diagonal",
    "diag",
    "kron",
]

_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def _parse(subscripts: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str, dict[str, int]]:
    """Explicit form of ``subscripts``: one letter string per operand (ellipses spelled out as
    letters, right-aligned as NumPy broadcasts them), the output letters, each letter's size."""
    if not isinstance(subscripts, str):
        raise MemogradTypeError(
            f"einsum: subscripts must be a string like 'ij,jk->ik', got {subscripts!r}"
        )
    spec = subscripts.replace(" ", "")
    ins, arrow, out = spec.partition("->")
    subs = ins.split(",")
    if len(subs) != len(shapes):
        raise ShapeError(
            f"einsum: {subscripts!r} names {len(subs)} operands, got {len(shapes)} "
            f"(shapes {', '.join(map(str, shapes))})"
        )
    for s in subs + [out]:
        if any(c not in _LETTERS for c in s.replace("...", "")) or s.count("...") > 1:
            raise MemogradTypeError(
                f"einsum: {subscripts!r}: subscripts are letters a-z, A-Z and at most one '...' "
                "per operand"
            )
    used = set(spec) & set(_LETTERS)
    free = [c for c in _LETTERS if c not in used]
    n_ell = 0
    for s, shape in zip(subs, shapes):
        named = len(s.replace("...", ""))
        if ("..." in s and named > len(shape)) or ("..." not in s and named != len(shape)):
            raise ShapeError(
                f"einsum: operand with subscripts {s!r} has shape {shape} "
                f"({len(shape)} dims, {named} letters)"
            )
        if "..." in s:
            n_ell = max(n_ell, len(shape) - named)
    ell = "".join(free[:n_ell])
    explicit = []
    for s, shape in zip(subs, shapes):
        k = len(shape) - len(s.replace("...", ""))
        explicit.append(s.replace("...", ell[n_ell - k :] if k else ""))
    if arrow:
        if "..." not in out and n_ell and any("..." in s for s in subs):
            raise ShapeError(
                f"einsum: {subscripts!r}: the operands' '...' axes need a '...' in the output"
            )
        out = out.replace("...", ell)
    else:
        once = sorted(
            c for c in set("".join(s.replace("...", "") for s in subs)) if ins.count(c) == 1
        )
        out = ell + "".join(once)
    sizes: dict[str, int] = {}
    for s, shape in zip(explicit, shapes):
        for c, n in zip(s, shape):
            m = sizes.get(c, 1)
            if n != 1 and m != 1 and n != m:
                raise ShapeError(
                    f"einsum: {subscripts!r}: letter {c!r} has sizes {m} and {n} "
                    f"(shapes {', '.join(map(str, shapes))})"
                )
            sizes[c] = max(m, n) if n != 0 and m != 0 else 0
    for c in out:
        if c not in sizes or out.count(c) > 1:
            raise ShapeError(
                f"einsum: {subscripts!r}: output letter {c!r} must appear once in the output "
                "and in some operand"
            )
    return explicit, out, sizes


def _einsum(*xs: Operand, spec: str) -> Operand:
    return np.einsum(spec, *xs, optimize=len(xs) > 1)


class _Shares:
    """The operands' adjoints, each computed only when backward asks for it."""

    def __init__(self, fn: Callable[[int], Operand]) -> None:
        self.fn = fn

    def __getitem__(self, k: int) -> Operand:
        return self.fn(k)


def _einsum_vjp(g: Operand, y: Operand, *xs: Operand, spec: str) -> _Shares:
    ins, out = spec.split("->")
    subs = ins.split(",")
    sizes: dict[str, int] = {}
    for s, x in zip(subs, xs):
        for c, n in zip(s, x.shape):
            sizes[c] = n if sizes.get(c, 1) == 1 else sizes[c]
    free = [c for c in _LETTERS if c not in spec]

    def share(k: int) -> Operand:
        sk, xk = subs[k], xs[k]
        operands, letters = [g], [out]
        for j, (s, x) in enumerate(zip(subs, xs)):
            if j != k:
                operands.append(x)
                letters.append(s)
        elsewhere = set(out) | set("".join(letters[1:]))
        target, seen, fresh = [], set(), iter(free)
        for c, n in zip(sk, xk.shape):
            if n == 1 and sizes[c] != 1:  # broadcast: sum it, keep size 1 (reshape below)
                continue
            if c in seen:  # a repeated letter: a diagonal of xk, through an identity matrix
                d = next(fresh)
                operands.append(np.eye(n, dtype=g.dtype))
                letters.append(c + d)
                target.append(d)
                continue
            seen.add(c)
            if c not in elsewhere:  # summed inside xk only: ∂ of the sum is a vector of ones
                operands.append(np.ones(n, dtype=g.dtype))
                letters.append(c)
                elsewhere.add(c)
            target.append(c)
        s = call("einsum", *operands, spec=",".join(letters) + "->" + "".join(target))
        return np.reshape(s, xk.shape)

    return _Shares(share)


register(rule("einsum", _einsum, all=_einsum_vjp, saves="x"))


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """NumPy's einsum (explicit or implicit output, repeated letters for diagonals, '...',
    size-1 broadcasting); each operand's gradient is another einsum (see the module doc)."""
    xs = _many("einsum", _tensors(*operands))
    subs, out, _ = _parse(subscripts, [x.shape for x in xs])
    return _apply(TABLE["einsum"], xs, {"spec": ",".join(subs) + "->" + out})


def _t(a: Tensor | ArrayLike) -> Tensor:
    return a if type(a) is Tensor else tensor(a)


def tensordot(
    a: Tensor | ArrayLike,
    b: Tensor | ArrayLike,
    axes: int | tuple[int | Sequence[int], int | Sequence[int]] = 2,
) -> Tensor:
    """NumPy's tensordot: sum over the last ``axes`` axes of ``a`` and the first of ``b`` (an int),
    or over the paired axes ``(axes_a, axes_b)``."""
    a, b = _tensors(a, b)
    pa: list[Any]
    pb: list[Any]
    if isinstance(axes, (int, np.integer)):
        if not 0 <= axes <= min(a.ndim, b.ndim):
            raise ShapeError(f"tensordot: axes={axes} for shapes {a.shape} and {b.shape}")
        pa, pb = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        given_a, given_b = axes
        pa = [given_a] if isinstance(given_a, (int, np.integer)) else list(given_a)
        pb = [given_b] if isinstance(given_b, (int, np.integer)) else list(given_b)
        if len(pa) != len(pb):
            raise ShapeError(f"tensordot: axes {axes} pair {len(pa)} with {len(pb)} axes")
    try:
        pa = [int(i) % a.ndim if a.ndim else int(i) for i in pa]
        pb = [int(i) % b.ndim if b.ndim else int(i) for i in pb]
    except ZeroDivisionError:
        raise ShapeError(f"tensordot: axes {axes} for shapes {a.shape} and {b.shape}") from None
    for i, j in zip(pa, pb):
        if a.shape[i] != b.shape[j]:
            raise ShapeError(
                f"tensordot: shapes {a.shape} and {b.shape} do not align on axes {i} and {j} "
                f"({a.shape[i]} != {b.shape[j]})"
            )
    la = _LETTERS[: a.ndim]
    letters_b = list(_LETTERS[a.ndim : a.ndim + b.ndim])
    for i, j in zip(pa, pb):
        letters_b[j] = la[i]
    lb = "".join(letters_b)
    out = "".join(c for i, c in enumerate(la) if i not in pa) + "".join(
        c for j, c in enumerate(lb) if j not in pb
    )
    return einsum(f"{la},{lb}->{out}", a, b)


def dot(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """NumPy's dot: a product with a 0-d operand, the inner product of 1-d vectors, the matrix
    product of 2-d, and in general a sum over the last axis of ``a`` and the second-to-last of
    ``b`` (the last if 1-d)."""
    a, b = _tensors(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return _binary("mul", a, b)  # a * b (Tensor.__mul__)
    return tensordot(a, b, axes=([a.ndim - 1], [max(b.ndim - 2, 0)]))


def inner(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """NumPy's inner: Σ over the last axes of both (a product with a 0-d operand)."""
    a, b = _tensors(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return _binary("mul", a, b)  # a * b (Tensor.__mul__)
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 1]))


def outer(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """Outer product of the flattened operands: ``out[i, j] = a[i] b[j]``."""
    a, b = _tensors(a, b)
    return einsum("i,j->ij", reshape(a, (-1,)), reshape(b, (-1,)))


def diagonal(a: Tensor | ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """NumPy's diagonal: entries ``a[..., i, i + offset]`` of the axes ``axis1``, ``axis2``,
    moved to the last axis (a new array, not a view)."""
    a = _t(a)
    if a.ndim < 2:
        raise ShapeError(f"diagonal: needs at least 2 dims, got shape {a.shape}")
    i, j = axis1 % a.ndim, axis2 % a.ndim
    if i == j:
        raise ShapeError(f"diagonal: axis1 and axis2 name the same axis {i} of shape {a.shape}")
    n, m = a.shape[i], a.shape[j]
    lo_i, lo_j = (0, offset) if offset >= 0 else (-offset, 0)
    k = max(0, min(n - lo_i, m - lo_j))
    key = [slice(None)] * a.ndim
    key[i], key[j] = slice(lo_i, lo_i + k), slice(lo_j, lo_j + k)
    if (lo_i, lo_j, k) != (0, 0, n) or n != m:
        a = getitem(a, tuple(key))
    letters = list(_LETTERS[: a.ndim])
    letters[j] = letters[i]
    rest = "".join(c for d, c in enumerate(letters) if d not in (i, j))
    return einsum("".join(letters) + "->" + rest + letters[i], a)


def trace(a: Tensor | ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Σ of the diagonal (NumPy's trace: over ``axis1``, ``axis2``; other axes remain)."""
    total: Tensor = sum(diagonal(a, offset, axis1, axis2), axis=-1)  # the table's sum row
    return total


def diag(v: Tensor | ArrayLike, k: int = 0) -> Tensor:
    """NumPy's diag: a 1-d ``v`` becomes the k-th diagonal of a square matrix; a 2-d ``v`` gives
    its k-th diagonal."""
    v = _t(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ShapeError(f"diag: input must be 1-d or 2-d, got shape {v.shape}")
    n = v.shape[0] + abs(k)
    placed = np.zeros((v.shape[0], n, n), dtype=v.dtype if v.dtype.kind == "f" else np.float32)
    r = np.arange(v.shape[0])
    placed[r, r + max(-k, 0), r + max(k, 0)] = 1  # one-hot position of each v[i]
    return einsum("i,ijk->jk", v, placed)


def kron(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """Kronecker product (NumPy's kron: the shorter shape is padded with leading 1s; block
    ``(i, j)`` of the result is ``a[i, j] · b``)."""
    a, b = _tensors(a, b)
    nd = max(a.ndim, b.ndim)
    a = reshape(a, (1,) * (nd - a.ndim) + a.shape)
    b = reshape(b, (1,) * (nd - b.ndim) + b.shape)
    la, lb = _LETTERS[:nd], _LETTERS[nd : 2 * nd]
    out = einsum(f"{la},{lb}->" + "".join(x + y for x, y in zip(la, lb)), a, b)
    return reshape(out, tuple(m * n for m, n in zip(a.shape, b.shape)))


for _name in ("dot", "inner", "outer", "tensordot", "trace", "diagonal", "kron"):
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, globals()[_name])
