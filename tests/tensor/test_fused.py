"""The fused backend (numba): one kernel per recorded step, the same numbers as the NumPy replay.

Every numba test skips with the reason when numba (the ``fast`` extra) is not installed; the
NumPy path is tested without it everywhere else.
"""

import numpy as np
import pytest

import memograd as mg
from memograd import MemogradValueError
from memograd.optim import SGD, Adam
from memograd.tensor import compile_step, fused

from .helpers import mlp_forward, mlp_params

numba_only = pytest.mark.skipif(
    not fused.available(), reason="numba is not installed (pip install 'memograd[fast]')"
)


def run(backend, make_opt, loss, dtype, steps=4, sizes=(3, 5, 4, 3), batch=6):
    ps = mlp_params(list(sizes), 0, dtype)
    opt = make_opt(ps)
    if loss == "ce":
        fn = lambda x, y: mg.tensor.cross_entropy(mlp_forward(ps, x), y)  # noqa: E731
    else:
        fn = lambda x, y: mg.tensor.mse(mlp_forward(ps, x, "tanh"), y)  # noqa: E731
    step = compile_step(fn, ps, optimizer=opt, backend=backend)
    r = np.random.default_rng(1)
    losses = []
    for _ in range(steps):
        x = r.normal(size=(batch, sizes[0])).astype(dtype)
        if loss == "ce":
            y = r.integers(0, sizes[-1], batch)
        else:
            y = r.normal(size=(batch, sizes[-1])).astype(dtype)
        losses.append(step(x, y))
    return step, losses, [p.data.copy() for p in ps], [p.grad.numpy().copy() for p in ps], opt


OPTS = {
    "sgd": lambda ps: SGD(ps, lr=0.1),
    "momentum": lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda ps: Adam(ps, lr=0.01),
}


@numba_only
@pytest.mark.parametrize(
    "opt, loss, dtype",
    [("sgd", "ce", np.float64), ("momentum", "mse", np.float32), ("adam", "ce", np.float32)],
)
def test_fused_step_follows_the_numpy_replay_step_after_step(opt, loss, dtype):
    runs = {b: run(b, OPTS[opt], loss, dtype) for b in ("numpy", "numba")}
    step, losses, params, grads, o = runs["numba"]
    assert step.backend == "numba", step.backend_reason
    source = step._last.kernel_source
    assert source.count("_update(") == 6  # the optimizer runs inside the kernel, once per p
    _, losses0, params0, grads0, o0 = runs["numpy"]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(losses, losses0, rtol=tol)
    for a, b in zip(params + grads, params0 + grads0):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert o.t == o0.t == 4 and o.steps.tolist() == o0.steps.tolist()


@numba_only
@pytest.mark.parametrize("opt", ["sgd", "momentum", "adam", "clipped"])
def test_big_products_keep_the_replay_and_update_in_one_numba_call(opt, monkeypatch):
    """A step whose products are too big to loop over (here: every product) stays the NumPy
    replay, and the optimizer's update runs as one numba call; it follows the NumPy-only step
    (clipping needs every gradient first: opt.step() then, counted once)."""
    from memograd.tensor import fused

    monkeypatch.setattr(fused, "LOOP_PRODUCT", 0)
    old = fused.set_mode("on")
    make = OPTS.get(opt, lambda ps: Adam(ps, lr=0.01, clip_norm=0.1))
    try:
        step, losses, params, grads, o = run("auto", make, "mse", np.float32)
    finally:
        fused.set_mode(old)
    assert step.backend == "numpy + numba update", step.backend_reason
    assert "_update(" in step._last.kernel_source
    _, losses0, params0, grads0, o0 = run("numpy", make, "mse", np.float32)
    np.testing.assert_allclose(losses, losses0, rtol=1e-5)
    for a, b in zip(params + grads, params0 + grads0):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert o.t == o0.t == 4 and o.steps.tolist() == o0.steps.tolist() == [4] * 6


@numba_only
def test_labels_out_of_range_still_raise_the_eager_error():
    ps = mlp_params([3, 4, 3], 2)
    step = compile_step(
        lambda x, y: mg.tensor.cross_entropy(mlp_forward(ps, x), y), ps, optimizer=SGD(ps, lr=0.1),
        backend="numba",
    )  # fmt: skip
    x = np.ones((2, 3), np.float32)
    step(x, np.array([0, 2]))
    assert step.backend == "numba"
    before = [p.data.copy() for p in ps]
    with pytest.raises(MemogradValueError, match="labels must lie"):
        step(x, np.array([0, 3]))
    assert all(np.array_equal(p.data, b) for p, b in zip(ps, before))  # no update happened


@numba_only
def test_what_the_translation_cannot_do_keeps_the_numpy_replay_and_says_why():
    z = mg.tensor(np.zeros((1, 3)), requires_grad=True, dtype="float64")
    step = compile_step(lambda idx: z[0, idx].sum(), [z], backend="numba")
    step(np.array([2, 2, 0]))
    assert step.backend == "numpy" and step.backend_reason.startswith("Unsupported")
    np.testing.assert_allclose(z.grad.numpy(), [[1.0, 0.0, 2.0]])


@numba_only
def test_mode_on_makes_auto_use_numba_at_once(monkeypatch):
    old = fused.set_mode("on")
    try:
        ps = mlp_params([2, 3, 1], 3)
        step = compile_step(lambda x, y: mg.tensor.mse(mlp_forward(ps, x), y), ps)
        step(np.ones((4, 2), np.float32), np.ones((4, 1), np.float32))
        assert step.backend == "numba"
    finally:
        fused.set_mode(old)


def test_backend_and_optimizer_arguments_are_checked(monkeypatch):
    ps = mlp_params([2, 3, 1], 4)
    fn = lambda x, y: mg.tensor.mse(mlp_forward(ps, x), y)  # noqa: E731
    with pytest.raises(MemogradValueError, match="backend must be"):
        compile_step(fn, ps, backend="cuda")
    with pytest.raises(MemogradValueError, match="exactly the step's parameters"):
        compile_step(fn, ps, optimizer=SGD(ps[:2], lr=0.1))
    monkeypatch.setattr(fused, "_available", False)
    with pytest.raises(MemogradValueError, match=r"memograd\[fast\]"):
        compile_step(fn, ps, backend="numba")
    with pytest.raises(MemogradValueError, match="mode must be"):
        fused.set_mode("sometimes")


def test_numpy_step_with_optimizer_equals_eager_backward_then_step():
    """Without numba: compile_step(optimizer=) is the replay, then optimizer.step()."""
    got, want = mlp_params([3, 4, 2], 5, np.float64), mlp_params([3, 4, 2], 5, np.float64)
    opt_a, opt_b = Adam(got, lr=0.05), Adam(want, lr=0.05)
    step = compile_step(
        lambda x, y: mg.tensor.cross_entropy(mlp_forward(got, x), y), got, optimizer=opt_a,
        backend="numpy",
    )  # fmt: skip
    r = np.random.default_rng(6)
    for _ in range(3):
        x, y = r.normal(size=(5, 3)), r.integers(0, 2, 5)
        value = step(x, y)
        opt_b.zero_grad()
        loss = mg.tensor.cross_entropy(mlp_forward(want, mg.tensor(x)), y)
        loss.backward()
        opt_b.step()
        assert value == pytest.approx(loss.item(), rel=1e-12)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-14)
    # the gradients were laid out back to back: the optimizer updated them without a copy
    assert opt_a._gflat is not None and opt_a._gflat.size == sum(p.size for p in got)
    assert step.backend == "numpy"


def test_program_without_numba_translates_nothing_in_auto(monkeypatch):
    monkeypatch.setattr(fused, "_available", False)
    ps = mlp_params([2, 3, 1], 7)
    opt = SGD(ps, lr=0.1)
    step = compile_step(lambda x, y: mg.tensor.mse(mlp_forward(ps, x), y), ps, optimizer=opt)
    losses = [step(np.ones((4, 2), np.float32), np.ones((4, 1), np.float32)) for _ in range(3)]
    assert step.backend == "numpy" and not fused.use(1e9) and opt.t == 3
    assert losses[2] < losses[1] < losses[0]  # the updates happened


@numba_only
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", ["ce", "mse"])  # mse: run() uses tanh, no chain to fuse
def test_replay_with_fused_chains_is_bit_identical_to_the_numpy_replay(loss, dtype, monkeypatch):
    """Products too big to loop over (all of them here): the NumPy replay runs, its ReLU chains
    (bias + ReLU, ReLU's VJP + the bias's gradient) and softmax's row maximum as numba kernels;
    losses, gradients and updated parameters equal the NumPy-only step's bit for bit."""
    monkeypatch.setattr(fused, "LOOP_PRODUCT", 0)
    old = fused.set_mode("on")
    try:
        step, losses, params, grads, _ = run(
            "auto", OPTS["sgd"], loss, dtype, sizes=(4, 7, 6, 3), batch=9
        )
    finally:
        fused.set_mode(old)
    assert step.backend == "numpy + numba update", step.backend_reason
    source = step._last.kernel_source
    relu = 2 if loss == "ce" else 0
    assert source.count("_bias_relu(") == relu and source.count("_relu_grad_sum(") == relu
    assert source.count("_row_max(") == (loss == "ce")
    _, losses0, params0, grads0, _ = run(
        "numpy", OPTS["sgd"], loss, dtype, sizes=(4, 7, 6, 3), batch=9
    )
    assert losses == losses0
    for a, b in zip(params + grads, params0 + grads0):
        np.testing.assert_array_equal(a, b)


@numba_only
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_element_wise_kernels_equal_the_ufuncs_they_replace(dtype):
    """NaN, infinities and signed zeros included: the same IEEE operations per element."""
    k = fused.kernels()
    r = np.random.default_rng(8)
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30], dtype)
    a = r.normal(size=(11, 7)).astype(dtype)
    a.reshape(-1)[: special.size] = special
    b = r.normal(size=7).astype(dtype)
    g = r.normal(size=(11, 7)).astype(dtype)
    g.reshape(-1)[-special.size :] = special
    out = np.empty_like(a)
    k.bias_relu(a, b, out)
    with np.errstate(invalid="ignore", over="ignore"):
        np.testing.assert_array_equal(out, np.maximum(a + b, 0))
    with np.errstate(invalid="ignore", over="ignore"):
        want = g * (a > 0)
    k.relu_grad(g, a, out)
    np.testing.assert_array_equal(out, want)
    total = np.empty(7, dtype)
    k.relu_grad_sum(g, a, out, total)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(total, np.add.reduce(want, 0))
    rows = np.empty(11, dtype)
    k.row_max(a, rows)
    np.testing.assert_array_equal(rows, np.maximum.reduce(a, 1))
