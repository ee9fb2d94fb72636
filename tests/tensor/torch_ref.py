"""PyTorch (float64) as an independent implementation: values and gradients of the same function.
Tests using it skip when torch is absent."""

from __future__ import annotations

import numpy as np
import pytest

import memograd as mg

try:
    import torch
except ImportError:  # pragma: no cover - torch is in the interop extra
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the interop extra) not installed")


def compare(mg_fn, torch_fn, arrays, rtol=1e-7, atol=1e-9, grads=True):
    """mg_fn(*tensors) and torch_fn(*torch tensors) agree in value and (if grads) in the
    gradient of Σ w·out for one fixed random w (float64)."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    ts = [mg.tensor(a, requires_grad=grads) for a in arrays]
    out = mg_fn(*ts)
    rs = [torch.tensor(a, requires_grad=grads) for a in arrays]
    ref = torch_fn(*rs)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=atol)
    if not grads or not out.requires_grad:
        return
    w = np.random.default_rng(1).normal(size=out.shape)
    (out * w).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    for t, r in zip(ts, rs):
        want = np.zeros(r.shape) if r.grad is None else r.grad.numpy()
        got = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(got, want, rtol=rtol * 10, atol=atol * 10)
