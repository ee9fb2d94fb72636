"""The plain SGD update of every parameter in one numba call: p ← p - lr·g.

:func:`memograd.tensor._kernels.sgd_many` does the same with momentum, dampening, Nesterov and
weight decay behind nine scalar arguments and a tuple of momentum buffers: numba types each
argument at every call (~70 ns an argument), which at 2-16-16-1 (six parameters of at most 256
values) was about half of the call. Plain SGD (no momentum, no weight decay, PyTorch's default)
takes the parameters' 1-D views, the gradients in their own shapes (any layout: each is
reshaped here, so the caller makes no view per parameter per step) and the rate. Same IEEE
operations as the general kernel and the NumPy path (``p - g·lr``, rounded once each): the same
bits (tested). Imported only when the numba kernels are used (it imports numba); compiled once
per signature and cached on disk by numba.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numba
import numpy as np

F = TypeVar("F", bound=Callable[..., Any])
_njit: Callable[..., Callable[[F], F]] = numba.njit  # numba is untyped: keep the signatures
_unroll: Callable[[Any], Any] = numba.literal_unroll


@_njit(cache=True, error_model="numpy", nogil=True)
def sgd_plain_many(ps: Any, gs: Any, lr: Any) -> None:
    """p -= lr·g for each p of ``ps`` (1-D, contiguous) and g of ``gs`` (same size, any shape
    and layout: the tuple may mix them), lr in their dtype."""
    j = 0
    for g in _unroll(gs):
        p = ps[j]
        h = np.ascontiguousarray(g).reshape(-1)
        for i in range(p.size):
            p[i] = p[i] - h[i] * lr
        j += 1
