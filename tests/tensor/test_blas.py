"""``memograd.tensor._blas.gemm``: C ← αAB + βC in place, against NumPy arithmetic, for every
layout of the operands (row-major, column-major, strided slices BLAS cannot take), through
NumPy's own BLAS and through SciPy's."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memograd.tensor import _blas


def _variants():
    found = {"default": _blas.gemm}
    try:
        from scipy.linalg import blas
    except ImportError:
        return found
    found["scipy"] = lambda dt: _blas._with_scipy(
        blas.sgemm if np.dtype(dt) == np.float32 else blas.dgemm
    )
    return found


def _layout(a, how):
    if how == "C":
        return np.ascontiguousarray(a)
    if how == "F":
        return np.asfortranarray(a)
    wide = np.zeros((a.shape[0], 2 * a.shape[1]), a.dtype)  # every other column: a stride of 2
    wide[:, ::2] = a
    return wide[:, ::2]


@pytest.mark.parametrize("lib", sorted(_variants()))
@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(0, 6),
    k=st.integers(0, 6),
    n=st.integers(0, 6),
    la=st.sampled_from("CFS"),
    lb=st.sampled_from("CFS"),
    dtype=st.sampled_from([np.float32, np.float64]),
    alpha=st.floats(-2, 2),
    beta=st.floats(-2, 2),
    seed=st.integers(0, 2**16),
)
def test_gemm_equals_numpy_arithmetic(lib, m, k, n, la, lb, dtype, alpha, beta, seed):
    fn = _variants()[lib](dtype)
    if fn is None:
        pytest.skip("no BLAS gemm with beta on this machine (neither NumPy's nor SciPy's)")
    r = np.random.default_rng(seed)
    a = _layout(r.normal(size=(m, k)).astype(dtype), la)
    b = _layout(r.normal(size=(k, n)).astype(dtype), lb)
    c = r.normal(size=(m, n)).astype(dtype)
    want = alpha * (a.astype(np.float64) @ b.astype(np.float64)) + beta * c.astype(np.float64)
    before = c.ctypes.data
    fn(alpha, a, b, beta, c)
    assert c.ctypes.data == before  # in place
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(c, want, rtol=tol, atol=tol * 10)


def test_gemm_refuses_other_dtypes():
    assert _blas.gemm(np.int64) is None and _blas.gemm(np.complex128) is None
