"""Float64 finite differences, independent of the engine under test (used until and beside
mg.gradcheck)."""

from __future__ import annotations

import numpy as np

import memograd as mg


def numeric_grads(f, arrays, eps=1e-6):
    """Central differences of scalar f(*tensors) w.r.t. every entry of every float64 array."""
    grads = []
    for k, a in enumerate(arrays):
        g = np.zeros_like(a)
        flat = g.reshape(-1)
        for i in range(a.size):
            plus = [x.copy() for x in arrays]
            minus = [x.copy() for x in arrays]
            plus[k].reshape(-1)[i] += eps
            minus[k].reshape(-1)[i] -= eps
            fp = f(*[mg.tensor(x) for x in plus]).item()
            fm = f(*[mg.tensor(x) for x in minus]).item()
            flat[i] = (fp - fm) / (2 * eps)
        grads.append(g)
    return grads


def engine_grads(f, arrays):
    ts = [mg.tensor(a, requires_grad=True) for a in arrays]
    out = f(*ts)
    out.backward()
    return [np.zeros_like(a) if t.grad is None else t.grad.numpy() for t, a in zip(ts, arrays)]


def assert_grads_match(f, arrays, rtol=1e-5, atol=1e-7):
    """Engine gradients of scalar f pass mg.gradcheck: float64 central differences, element-wise
    and along random directions."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    result = mg.gradcheck(f, arrays, rtol=rtol, atol=atol, elementwise=True)
    assert result.ok
