"""Numba kernels of the optimizer updates: one pass over p, g and the state per update.

The same formulas as :mod:`memograd.optim`, element by element, in the same order of IEEE
operations, with every constant given in the arrays' dtype: the results are bit-identical to the
NumPy path (tested), which makes two to thirteen passes over memory where these make one.
Imported only when the fused backend is used (it imports numba); compiled once per dtype and
cached on disk by numba.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numba
import numpy as np

F = TypeVar("F", bound=Callable[..., Any])
_njit: Callable[..., Callable[[F], F]] = numba.njit  # numba is untyped: keep the signatures
_jit = _njit(cache=True, error_model="numpy", nogil=True)
A = np.ndarray  # arrays (numba types every argument at the call; annotations are for readers)


@_jit
def sgd(
    p: A, g: A, b: A, lr: Any, wd: Any, mu: Any, damp1: Any,
    use_wd: bool, use_mu: bool, use_damp: bool, nesterov: bool, first: bool,
) -> None:  # fmt: skip
    """p -= lr·d with d = g (+ λp), momentum b = μb + (1 - τ)g (b₁ = g), Nesterov g + μb."""
    for i in range(p.size):
        gi = g[i]
        if use_wd:
            gi = gi + p[i] * wd
        if use_mu:
            if first:
                bi = gi
            elif use_damp:
                bi = b[i] * mu + gi * damp1
            else:
                bi = b[i] * mu + gi
            b[i] = bi
            gi = gi + bi * mu if nesterov else bi
        p[i] = p[i] - gi * lr


@_jit
def adam(
    p: A, g: A, m: A, v: A, b1: Any, omb1: Any, b2: Any, omb2: Any, rc2: Any, eps: Any,
    lrc: Any, wd: Any, use_wd: bool, decoupled: bool,
) -> None:  # fmt: skip
    """Adam: m = β₁m + (1-β₁)g, v = β₂v + (1-β₂)g², p -= lrc·m / (√v / rc2 + ε)."""
    for i in range(p.size):
        gi = g[i]
        pi = p[i]
        if use_wd:
            if decoupled:
                pi = pi * wd  # AdamW: wd holds 1 - lr·λ
            else:
                gi = gi + pi * wd
        mi = m[i] * b1 + gi * omb1
        vi = v[i] * b2 + (gi * gi) * omb2
        m[i] = mi
        v[i] = vi
        den = np.sqrt(vi) / rc2 + eps
        p[i] = pi - (mi * lrc) / den


@_jit
def rmsprop(
    p: A, g: A, v: A, b: A, alpha: Any, oma: Any, eps: Any, lr: Any, mu: Any, wd: Any,
    use_wd: bool, use_mu: bool,
) -> None:  # fmt: skip
    """RMSprop: v = αv + (1-α)g², d = g / (√v + ε), b = μb + d, p -= lr·d."""
    for i in range(p.size):
        gi = g[i]
        if use_wd:
            gi = gi + p[i] * wd
        vi = v[i] * alpha + (gi * gi) * oma
        v[i] = vi
        d = gi / (np.sqrt(vi) + eps)
        if use_mu:
            d = b[i] * mu + d
            b[i] = d
        p[i] = p[i] - d * lr


# ------------------------------------------------------------------ matrix products for few rows
@_njit(cache=True, fastmath=True, nogil=True)
def _dot_reduce(x: A, y: A) -> Any:
    """x·y summed in any order (fastmath: several accumulators, vectorized)."""
    acc = x.dtype.type(0)
    for k in range(x.size):
        acc += x[k] * y[k]
    return acc


@_jit
def matmul_rows(a: A, b: A, out: A, r0: int, r1: int) -> None:
    """Rows r0:r1 of out = a @ b, for the small or thin products a fused step loops over (no
    BLAS call): rows of b streamed once per row of a (vectorized over out's row), or, when b's
    columns are contiguous (a transposed matrix, W.T), one dot product per output."""
    kk = a.shape[1]
    n = b.shape[1]
    if kk > 1 and n > 1 and b.strides[0] < b.strides[1]:
        for i in range(r0, r1):
            ai = a[i, :]
            for j in range(n):
                out[i, j] = _dot_reduce(ai, b[:, j])
        return
    for i in range(r0, r1):
        for j in range(n):
            out[i, j] = 0
        for k in range(kk):
            aik = a[i, k]
            for j in range(n):
                out[i, j] += aik * b[k, j]


@_jit
def matmul(a: A, b: A, out: A) -> None:
    """out = a @ b (see ``matmul_rows``)."""
    matmul_rows(a, b, out, 0, a.shape[0])


# ------------------------------------------- every parameter in one call (tuples of 1-D arrays)
@_jit
def sgd_many(ps: Any, gs: Any, bs: Any, *scalars: Any) -> None:
    """``sgd`` on each (p, g, b) of the tuples: one dispatch per step instead of one per
    parameter (at 2-16-16-1 the dispatches were most of the update)."""
    for j in range(len(ps)):
        sgd(ps[j], gs[j], bs[j], *scalars)


@_jit
def adam_many(ps: Any, gs: Any, ms: Any, vs: Any, *scalars: Any) -> None:
    """``adam`` on each (p, g, m, v) of the tuples."""
    for j in range(len(ps)):
        adam(ps[j], gs[j], ms[j], vs[j], *scalars)


@_jit
def rmsprop_many(ps: Any, gs: Any, vs: Any, bs: Any, *scalars: Any) -> None:
    """``rmsprop`` on each (p, g, v, b) of the tuples."""
    for j in range(len(ps)):
        rmsprop(ps[j], gs[j], vs[j], bs[j], *scalars)


# ------------------------------- element-wise chains of the NumPy replay, one pass instead of 2-3
# (bit-identical to the ufunc calls they replace: the same IEEE operations per element, NaN kept
# as np.maximum keeps it; the column sums add rows in order, as np.add.reduce over axis 0 does)
@_jit
def bias_relu(a: A, b: A, out: A) -> None:
    """out = maximum(a + b, 0) for a of shape (n, m) and a bias b of shape (m,)."""
    zero = out.dtype.type(0)
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            v = a[i, j] + b[j]
            out[i, j] = zero if v < zero else v


@_jit
def relu_grad(g: A, h: A, out: A) -> None:
    """out = g * (h > 0) (the ReLU's VJP), all of shape (n, m)."""
    one, zero = out.dtype.type(1), out.dtype.type(0)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            out[i, j] = g[i, j] * (one if h[i, j] > 0 else zero)


@_jit
def relu_grad_sum(g: A, h: A, out: A, total: A) -> None:
    """out = g * (h > 0) and total = out summed over its rows (the bias's gradient)."""
    relu_grad(g, h, out)
    for j in range(out.shape[1]):
        total[j] = out[0, j]
    for i in range(1, out.shape[0]):
        for j in range(out.shape[1]):
            total[j] += out[i, j]


@_jit
def row_max(a: A, out: A) -> None:
    """out[i] = max over a[i, :] (np.maximum.reduce(a, 1)); out is flat, of length n."""
    for i in range(a.shape[0]):
        m = a[i, 0]
        for j in range(1, a.shape[1]):
            v = a[i, j]
            if v > m or v != v:
                m = v if m == m else m
        out[i] = m
