"""compile_step with ``keep_grads=False``: plain SGD's update folded into the weight gradients'
matrix products (``fused_replay.gemm_folds``; one BLAS call C ← αAB + βC per weight), checked
against the step that keeps its gradients and against NumPy arithmetic."""

import numpy as np
import pytest

import memograd as mg
from memograd import MemogradValueError
from memograd.optim import SGD
from memograd.tensor import compile_step, fused

from .helpers import mlp_forward, mlp_params
from .test_fused import numba_only


def train(keep, make_opt, dtype=np.float32, steps=5, sizes=(7, 6, 5, 3), batch=8, slice_x=False):
    """``steps`` steps of a ReLU MLP with cross-entropy; every product is a BLAS call."""
    ps = mlp_params(list(sizes), 3, dtype)
    opt = make_opt(ps)
    step = compile_step(
        lambda x, y: mg.tensor.cross_entropy(mlp_forward(ps, x), y),
        ps,
        optimizer=opt,
        keep_grads=keep,
    )
    r = np.random.default_rng(5)
    losses = []
    for _ in range(steps):
        x = r.normal(size=(batch, 2 * sizes[0] if slice_x else sizes[0])).astype(dtype)
        if slice_x:  # a strided input: BLAS cannot take x.T as it is
            x = x[:, ::2]
        losses.append(step(x, r.integers(0, sizes[-1], batch)))
    return step, losses, ps, opt


@pytest.fixture
def blas_products(monkeypatch):
    monkeypatch.setattr(fused, "LOOP_PRODUCT", 0)  # every product stays a BLAS call
    old = fused.set_mode("on")
    yield
    fused.set_mode(old)


@numba_only
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("wd", [0.0, 0.05])
@pytest.mark.parametrize("slice_x", [False, True])
def test_folded_sgd_follows_the_step_that_keeps_its_gradients(dtype, wd, slice_x, blas_products):
    """Same losses and parameters step after step; the weights' gradients are not kept (None),
    the biases' are; the step counter moves once per step."""
    make = lambda ps: SGD(ps, lr=0.2, weight_decay=wd)  # noqa: E731
    kept = train(True, make, dtype, slice_x=slice_x)
    folded = train(False, make, dtype, slice_x=slice_x)
    step = folded[0]
    assert step.backend == "numpy + numba update (SGD folded into BLAS)", step.backend_reason
    assert kept[0].backend == "numpy + numba update"
    assert step._last.kernel_source.count("_gemm") == 3  # one product per weight matrix
    tol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(folded[1], kept[1], rtol=tol)
    for a, b in zip(folded[2], kept[2]):
        np.testing.assert_allclose(a.data, b.data, rtol=tol, atol=tol)
    weights, biases = folded[2][0::2], folded[2][1::2]
    assert all(w.grad is None for w in weights)
    for b, b_kept in zip(biases, kept[2][1::2]):
        np.testing.assert_allclose(b.grad.numpy(), b_kept.grad.numpy(), rtol=tol, atol=tol)
    assert folded[3].t == kept[3].t == 5


@numba_only
def test_a_gradient_buffer_shared_with_an_intermediate_is_still_folded(blas_products):
    """Batch 5 on 7-6-5-3: the logits (5x3) and the last weight's gradient (5x3) have one shape,
    so the program gives them one buffer; the folded product no longer writes it, and the
    first-replay check compares the updated weight, not that buffer."""
    make = lambda ps: SGD(ps, lr=0.2)  # noqa: E731
    folded = train(False, make, batch=5)
    kept = train(True, make, batch=5)
    assert folded[0].backend == "numpy + numba update (SGD folded into BLAS)", folded[
        0
    ].backend_reason
    for a, b in zip(folded[2], kept[2]):
        np.testing.assert_allclose(a.data, b.data, rtol=2e-5, atol=2e-5)


@numba_only
def test_momentum_is_not_folded_and_keeps_every_gradient(blas_products):
    """b ← μb + g needs g first: with momentum nothing is folded; the step is the kept one."""
    make = lambda ps: SGD(ps, lr=0.1, momentum=0.9)  # noqa: E731
    step, losses, ps, _ = train(False, make)
    kept = train(True, make)
    assert step.backend == "numpy + numba update"
    assert all(p.grad is not None for p in ps)
    np.testing.assert_allclose(losses, kept[1], rtol=1e-6)


@numba_only
def test_momentum_switched_on_later_stops_folding_from_that_step(blas_products):
    """The fold is decided per step from the optimizer's scalars: momentum set after
    compilation makes the next steps the kept ones (every gradient written)."""
    make = lambda ps: SGD(ps, lr=0.1)  # noqa: E731
    step, _, ps, opt = train(False, make, steps=2)
    assert ps[0].grad is None
    opt.momentum = 0.5
    step(np.ones((8, 7), np.float32), np.zeros(8, np.int64))
    assert all(p.grad is not None for p in ps)


@numba_only
def test_a_weight_used_twice_is_not_folded(blas_products):
    """W used in two products: its gradient is a sum, not one product; it is kept and updated
    by the optimizer, the result equal to keep_grads=True."""

    def run(keep):
        ps = mlp_params([4, 4, 2], 1, np.float32)
        w, b, v, c = ps
        opt = SGD(ps, lr=0.1)
        step = compile_step(
            lambda x, y: mg.tensor.mse(((x @ w + b).relu() @ w + b).relu() @ v + c, y),
            ps,
            optimizer=opt,
            keep_grads=keep,
        )
        r = np.random.default_rng(2)
        x, y = r.normal(size=(5, 4)).astype(np.float32), r.normal(size=(5, 2)).astype(np.float32)
        return step, [step(x, y) for _ in range(3)], ps

    step, losses, ps = run(False)
    _, kept_losses, kept = run(True)
    assert ps[0].grad is not None and ps[2].grad is None  # w: a sum of two products; v: folded
    np.testing.assert_allclose(losses, kept_losses, rtol=1e-6)
    for a, b in zip(ps, kept):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-5, atol=1e-6)


def test_keep_grads_false_needs_an_optimizer():
    ps = mlp_params([2, 2], 0)
    with pytest.raises(MemogradValueError, match="keep_grads=False needs optimizer="):
        compile_step(lambda x: (x @ ps[0]).sum(), ps, keep_grads=False)
