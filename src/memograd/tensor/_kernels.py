"""Numba kernels of the optimizer updates: one pass over p, g and the state per update.

The same formulas as :mod:`memograd.optim`, element by element, in the same order of IEEE
operations, with every constant given in the arrays' dtype: the results are bit-identical to the
NumPy path (tested), which makes two to thirteen passes over memory where these make one.
Imported only when the fused backend is used (it imports numba); compiled once per dtype and
cached on disk by numba.
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, error_model="numpy", nogil=True)


@_jit
def sgd(p, g, b, lr, wd, mu, damp1, use_wd, use_mu, use_damp, nesterov, first):
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
def adam(p, g, m, v, b1, omb1, b2, omb2, rc2, eps, lrc, wd, use_wd, decoupled):
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
def rmsprop(p, g, v, b, alpha, oma, eps, lr, mu, wd, use_wd, use_mu):
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
@numba.njit(cache=True, fastmath=True, nogil=True)
def _dot_reduce(x, y):
    """x·y summed in any order (fastmath: several accumulators, vectorized)."""
    acc = x.dtype.type(0)
    for k in range(x.size):
        acc += x[k] * y[k]
    return acc


@_jit
def matmul_rows(a, b, out, r0, r1):
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
def matmul(a, b, out):
    """out = a @ b (see ``matmul_rows``)."""
    matmul_rows(a, b, out, 0, a.shape[0])
