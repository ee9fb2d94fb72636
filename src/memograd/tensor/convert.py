"""From user data to arrays: the dtype rule for new tensors, and clear errors for bad data."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from memograd.errors import MemogradTypeError, MemogradValueError

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


class _Meta:
    """Stand-in for an input whose values backward does not need: only its shape and dtype."""

    __slots__ = ("shape", "dtype", "ndim")

    def __init__(self, array: NDArray[Any]) -> None:
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim


def _as_dtype(dtype: DTypeLike | None) -> np.dtype[Any] | None:
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError as e:
        raise MemogradTypeError(
            f"tensor: unknown dtype {dtype!r}; use 'float32' or 'float64'"
        ) from e


def to_array(data: Any, dtype: DTypeLike | None = None, copy: bool = True) -> NDArray[Any]:
    """The dtype rule for new tensors: numpy arrays keep their dtype, Python floats -> float32."""
    want = _as_dtype(dtype)
    if getattr(data, "_traced", False):  # an array being recorded by compile_step
        traced: NDArray[Any] = data if want is None or want == data.dtype else data.astype(want)
        return traced
    if isinstance(data, np.ndarray):
        arr = data.astype(want, copy=copy) if want is not None else (data.copy() if copy else data)
    else:
        try:
            arr = np.array(data, dtype=want)
        except ValueError as e:
            if "inhomogeneous" not in str(e) and "sequence" not in str(e):
                what = type(data).__name__
                raise MemogradValueError(f"tensor: cannot convert {what}: {e}") from e
            raise MemogradValueError(
                f"tensor: ragged nested lists (rows of different lengths: {_ragged(data)}); "
                "every row must have the same length (pad them, or build one tensor per row)"
            ) from None
        except TypeError as e:
            raise MemogradTypeError(f"tensor: cannot convert {type(data).__name__}: {e}") from e
        if want is None and arr.dtype == _F64 and not isinstance(data, np.floating):
            arr = arr.astype(_F32)
    if arr.dtype.kind not in "fiub":
        raise MemogradTypeError(
            f"tensor: unsupported dtype {arr.dtype} (from {type(data).__name__}); "
            "use numbers, bools or numeric numpy arrays"
        )
    if arr.dtype == np.float16:
        arr = arr.astype(_F32)
    return arr


def _ragged(data: object) -> str:
    """Where nested lists first differ in length: 'data[0] has 2 items, data[1] has 1'."""
    level: list[tuple[str, object]] = [("data", data)]
    while level:
        sizes = [(path, len(x) if isinstance(x, (list, tuple)) else None) for path, x in level]
        first = sizes[0][1]
        for path, n in sizes[1:]:
            if n != first:

                def say(k: int | None) -> str:
                    return "a number" if k is None else f"{k} item(s)"

                return f"{sizes[0][0]} has {say(first)}, {path} has {say(n)}"
        level = [
            (f"{path}[{i}]", x)
            for path, seq in level
            if isinstance(seq, (list, tuple))
            for i, x in enumerate(seq)
        ]
    return "shapes differ"
