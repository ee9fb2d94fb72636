"""C ← αAB + βC in place: BLAS's gemm with β, which NumPy's ``dot`` does not expose.

compile_step folds plain SGD's update into a weight's gradient product with it (see
:mod:`memograd.tensor.fused_replay`). The call goes to the BLAS NumPy itself uses when its
``cblas_?gemm`` can be found (NumPy's wheels bundle OpenBLAS as ``libscipy_openblas64_``), so the
folded product runs at ``np.dot``'s speed; else to SciPy's ``sgemm``/``dgemm`` (another build
of OpenBLAS: measured 0-12% slower than NumPy's on this project's shapes); else there is no
folding. :func:`gemm` returns the function, or None.
"""

from __future__ import annotations

import ctypes
import glob
import os
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["gemm"]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
Gemm = Callable[[float, np.ndarray, np.ndarray, float, np.ndarray], None]
_found: dict[str, Gemm | None] = {}


def _layout(x: np.ndarray) -> tuple[int, int] | None:
    """(transpose flag, leading dimension) of a 2-D array for row-major cblas, or None when
    neither of its axes has unit stride."""
    size = x.itemsize
    rows, cols = x.shape
    if x.strides[1] == size or cols == 1:
        ld = x.strides[0] // size if rows > 1 else cols
        return (_NO_TRANS, ld) if ld >= max(1, cols) and x.strides[0] % size == 0 else None
    if x.strides[0] == size or rows == 1:
        ld = x.strides[1] // size if cols > 1 else rows
        return (_TRANS, ld) if ld >= max(1, rows) and x.strides[1] % size == 0 else None
    return None


def _numpy_cblas(dtype: np.dtype[Any]) -> Any:
    """NumPy's bundled OpenBLAS ``cblas_?gemm`` (64-bit integers), or None."""
    root = os.path.dirname(os.path.dirname(np.__file__))
    letter = "s" if dtype == np.float32 else "d"
    for path in glob.glob(os.path.join(root, "numpy.libs", "libscipy_openblas64_*")) + glob.glob(
        os.path.join(os.path.dirname(np.__file__), ".dylibs", "libscipy_openblas64_*")
    ):
        try:
            fn = getattr(ctypes.CDLL(path), f"scipy_cblas_{letter}gemm64_")
        except (OSError, AttributeError):
            continue
        real = ctypes.c_float if dtype == np.float32 else ctypes.c_double
        i64, ptr, i32 = ctypes.c_int64, ctypes.c_void_p, ctypes.c_int
        fn.argtypes = [i32, i32, i32, i64, i64, i64, real, ptr, i64, ptr, i64, real, ptr, i64]
        fn.restype = None
        return fn
    return None


def _with_cblas(fn: Any) -> Gemm:
    def gemm_into(alpha: float, a: np.ndarray, b: np.ndarray, beta: float, c: np.ndarray) -> None:
        la, lb = _layout(a), _layout(b)
        if la is None or lb is None or not c.flags.c_contiguous or c.size == 0:
            _by_numpy(alpha, a, b, beta, c)
            return
        (m, k), n = a.shape, b.shape[1]
        fn(_ROW_MAJOR, la[0], lb[0], m, n, k, alpha, a.ctypes.data, la[1], b.ctypes.data,
           lb[1], beta, c.ctypes.data, max(1, n))  # fmt: skip

    return gemm_into


def _with_scipy(fn: Any) -> Gemm:
    def gemm_into(alpha: float, a: np.ndarray, b: np.ndarray, beta: float, c: np.ndarray) -> None:
        # column-major: cᵀ ← α·bᵀ·aᵀ + β·cᵀ, each operand passed as stored (no copy); SciPy
        # refuses empty operands
        if not c.flags.c_contiguous or a.size == 0 or b.size == 0 or c.size == 0:
            _by_numpy(alpha, a, b, beta, c)
            return
        bt, tb = (b.T, 0) if b.flags.c_contiguous else (b, 1)
        at, ta = (a.T, 0) if a.flags.c_contiguous else (a, 1)
        ct = c.T
        r = fn(alpha, bt, at, beta, ct, tb, ta, 1)
        if r is not ct:  # SciPy copied c (it does not for a C-ordered c): write it back
            np.copyto(ct, r)

    return gemm_into


def _by_numpy(alpha: float, a: np.ndarray, b: np.ndarray, beta: float, c: np.ndarray) -> None:
    """The same update in NumPy (operands BLAS cannot take as they are)."""
    c *= c.dtype.type(beta)
    c += c.dtype.type(alpha) * np.dot(a, b)


def gemm(dtype: Any) -> Gemm | None:
    """``gemm_into(α, A, B, β, C)``: C ← αAB + βC in place, for float32 or float64 arrays;
    None when neither NumPy's BLAS nor SciPy's can be called (then nothing is folded)."""
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        return None
    if dt.str not in _found:
        found: Gemm | None = None
        cblas = _numpy_cblas(dt)
        if cblas is not None:
            found = _with_cblas(cblas)
        else:
            try:
                from scipy.linalg import blas
            except ImportError:
                pass
            else:
                found = _with_scipy(blas.sgemm if dt == np.float32 else blas.dgemm)
        _found[dt.str] = found
    return _found[dt.str]
