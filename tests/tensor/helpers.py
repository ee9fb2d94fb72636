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


def mlp_params(sizes, seed, dtype=np.float32):
    """An MLP's leaf parameters ``[W1, b1, W2, b2, ...]``: W ~ N(0, 1/fan_in), b ~ N(0, 0.01).
    ``seed`` is an int or a numpy Generator (whose stream it then advances)."""
    r = np.random.default_rng(seed)
    ps = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        ps.append(mg.tensor(r.normal(size=(a, b)) / np.sqrt(a), requires_grad=True, dtype=dtype))
        ps.append(mg.tensor(r.normal(size=b) * 0.1, requires_grad=True, dtype=dtype))
    return ps


def mlp_forward(ps, x, act="relu"):
    """``x @ W1 + b1 -> act -> ... -> @ Wn + bn`` (no activation after the last layer)."""
    h = x
    for i in range(0, len(ps), 2):
        h = h @ ps[i] + ps[i + 1]
        if i < len(ps) - 2:
            h = getattr(h, act)()
    return h
