import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memograd.errors import MemogradValueError, NonFiniteError
from memograd.optim import (
    SGD,
    Adam,
    AdamW,
    CosineLR,
    RMSprop,
    StepLR,
    Warmup,
    clip_grad_norm,
    global_norm,
    make_optimizer,
    make_schedule,
    schedule_from_dict,
)


class P:
    """A parameter as the optimizers see one: ``data`` (changed in place) and ``grad``."""

    def __init__(self, values, grad=None):
        self.data = np.array(values, dtype=np.float64)
        self.grad = None if grad is None else np.array(grad, dtype=np.float64)


# --------------------------------------------------------------- closed forms


def test_plain_sgd_is_p_minus_lr_g_in_place():
    p = P([1.0, -2.0], [0.5, 0.25])
    before = p.data
    SGD([p], lr=0.1).step()
    assert p.data is before  # in place
    assert np.allclose(p.data, [0.95, -2.025])


def test_sgd_momentum_with_a_constant_gradient_matches_the_geometric_series():
    g, lr, mu, steps = 0.3, 0.05, 0.9, 12
    p = P([1.0])
    opt = SGD([p], lr=lr, momentum=mu)
    for _ in range(steps):
        p.grad = np.array([g])
        opt.step()
    # buffer after s steps: g (1 - mu^s) / (1 - mu); the parameter moves by lr times each buffer
    expected = 1.0 - lr * g * sum((1 - mu**s) / (1 - mu) for s in range(1, steps + 1))
    assert p.data[0] == pytest.approx(expected, rel=1e-12)


def test_adam_with_a_constant_gradient_moves_lr_per_step():
    # bias correction makes m_hat = g and v_hat = g^2 exactly, so each step is lr * g / (|g| + eps)
    g, lr, eps, steps = -0.7, 0.01, 1e-8, 25
    p = P([2.0, 3.0])
    opt = Adam([p], lr=lr, eps=eps)
    for _ in range(steps):
        p.grad = np.array([g, 2 * g])
        opt.step()
    assert np.allclose(
        p.data,
        [2.0 - steps * lr * g / (abs(g) + eps), 3.0 - steps * lr * 2 * g / (abs(2 * g) + eps)],
        rtol=1e-10,
    )


def test_adamw_decay_is_decoupled_from_the_gradient():
    lr, wd, steps = 0.1, 0.5, 7
    p = P([4.0, -1.0], [0.0, 0.0])
    opt = AdamW([p], lr=lr, weight_decay=wd)
    for _ in range(steps):
        opt.step()
    assert np.allclose(p.data, np.array([4.0, -1.0]) * (1 - lr * wd) ** steps, rtol=1e-12)
    # Adam's L2 decay goes through the moments instead: with g = 0 the first step is -lr sign(p)
    q = P([4.0, -1.0], [0.0, 0.0])
    Adam([q], lr=lr, weight_decay=wd).step()
    assert np.allclose(q.data, [4.0 - lr, -1.0 + lr], rtol=1e-7)


def test_rmsprop_first_step_closed_form():
    g, lr, alpha = np.array([0.2, -3.0]), 0.01, 0.99
    p = P([0.0, 0.0], g)
    RMSprop([p], lr=lr, alpha=alpha).step()
    # v = (1 - alpha) g^2, so the step is lr g / (sqrt(1 - alpha) |g| + eps)
    assert np.allclose(p.data, -lr * np.sign(g) / math.sqrt(1 - alpha), rtol=1e-6)


# --------------------------------------------------------------- independent references


def reference(kind, hp, p0, grads):
    """Element by element, in plain Python floats, the update rules as the papers write them."""
    out = []
    for j, x in enumerate(p0):
        m = v = b = 0.0
        for t, gs in enumerate(grads, start=1):
            g = gs[j]
            wd = hp.get("weight_decay", 0.0)
            if kind == "sgd":
                g += wd * x
                mu = hp.get("momentum", 0.0)
                if mu:
                    b = g if t == 1 else mu * b + g
                    g = g + mu * b if hp.get("nesterov") else b
                x -= hp["lr"] * g
            elif kind in ("adam", "adamw"):
                if kind == "adamw":
                    x *= 1 - hp["lr"] * wd
                else:
                    g += wd * x
                m = 0.9 * m + 0.1 * g
                v = 0.999 * v + 0.001 * g * g
                mhat, vhat = m / (1 - 0.9**t), v / (1 - 0.999**t)
                x -= hp["lr"] * mhat / (math.sqrt(vhat) + 1e-8)
            elif kind == "rmsprop":
                g += wd * x
                v = 0.99 * v + 0.01 * g * g
                d = g / (math.sqrt(v) + 1e-8)
                mu = hp.get("momentum", 0.0)
                if mu:
                    b = mu * b + d
                    d = b
                x -= hp["lr"] * d
        out.append(x)
    return np.array(out)


CASES = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.05, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("adam", {"lr": 0.01}),
    ("adam", {"lr": 0.01, "weight_decay": 0.2}),
    ("adamw", {"lr": 0.01, "weight_decay": 0.3}),
    ("rmsprop", {"lr": 0.01}),
    ("rmsprop", {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.05}),
]


@settings(max_examples=20, deadline=None)
@given(
    case=st.sampled_from(CASES),
    data=st.lists(
        st.lists(st.floats(-5, 5, allow_nan=False), min_size=3, max_size=3),
        min_size=2,
        max_size=8,
    ),
)
def test_updates_match_an_independent_scalar_reference(case, data):
    kind, hp = case
    p0, grads = data[0], data[1:]
    p = P(p0)
    opt = make_optimizer(kind, [p], **hp)
    for g in grads:
        p.grad = np.array(g)
        opt.step()
        opt.zero_grad()
        assert p.grad is None
    assert np.allclose(p.data, reference(kind, hp, p0, grads), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind, hp", CASES)
def test_every_optimizer_minimises_a_quadratic(kind, hp):
    target = np.array([1.0, -2.0, 0.5])
    p = P(np.zeros(3))
    opt = make_optimizer(kind, [p], **{**hp, "weight_decay": 0.0})
    for _ in range(3000):
        p.grad = 2 * (p.data - target)
        opt.step()
    assert np.allclose(p.data, target, atol=0.05)


def test_float32_parameters_stay_float32_and_skip_missing_grads():
    a = P([1.0, 2.0])
    a.data = a.data.astype(np.float32)
    a.grad = np.ones(2, np.float32)
    b = P([5.0])
    Adam([a, b]).step()
    assert a.data.dtype == np.float32 and b.data.tolist() == [5.0]


def test_state_dict_resumes_the_exact_trajectory():
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(10, 4))
    for cls in (SGD, Adam, AdamW, RMSprop):
        kw = {"momentum": 0.9} if cls in (SGD, RMSprop) else {}
        whole = P(np.ones(4))
        opt = cls([whole], lr=0.01, schedule=make_schedule("cosine", 10, 2), **kw)
        for g in grads:
            whole.grad = g
            opt.step()
        first = P(np.ones(4))
        opt1 = cls([first], lr=0.01, schedule=make_schedule("cosine", 10, 2), **kw)
        for g in grads[:6]:
            first.grad = g
            opt1.step()
        state = opt1.state_dict()
        second = P(first.data.copy())
        opt2 = cls([second], lr=0.01, **kw)
        opt2.load_state_dict(state)
        assert opt2.t == 6
        for g in grads[6:]:
            second.grad = g
            opt2.step()
        assert np.array_equal(second.data, whole.data), cls.__name__


def test_load_state_dict_checks_type_slots_and_shapes():
    opt = Adam([P(np.ones(3))])
    with pytest.raises(MemogradValueError, match="state is for 'SGD'"):
        opt.load_state_dict(SGD([P(np.ones(3))]).state_dict())
    bad = Adam([P(np.ones(4))])
    bad.params[0].grad = np.ones(4)
    bad.step()
    with pytest.raises(MemogradValueError, match="shape \\(4,\\), parameter 0 has \\(3,\\)"):
        opt.load_state_dict(bad.state_dict())


def test_bad_hyperparameters():
    with pytest.raises(MemogradValueError, match="lr must be > 0"):
        SGD([P([1.0])], lr=-1)
    with pytest.raises(MemogradValueError, match="nesterov needs momentum"):
        SGD([P([1.0])], nesterov=True)
    with pytest.raises(MemogradValueError, match="empty parameter list"):
        Adam([])
    with pytest.raises(MemogradValueError, match="unknown optimizer 'lbfgs'"):
        make_optimizer("lbfgs", [P([1.0])], lr=0.1)
    p = P([1.0], [1.0, 2.0])
    with pytest.raises(MemogradValueError, match="gradient has shape \\(2,\\)"):
        SGD([p]).step()


# --------------------------------------------------------------- schedules and clipping


def test_schedules():
    step = StepLR(3, 0.5)
    assert [step(t) for t in range(1, 8)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    cos = CosineLR(10, min_factor=0.1)
    assert cos(1) == 1.0 and cos(11) == pytest.approx(0.1) and cos(6) == pytest.approx(0.55)
    warm = Warmup(4, CosineLR(10))
    assert [warm(t) for t in range(1, 5)] == [0.25, 0.5, 0.75, 1.0]
    assert warm(5) == 1.0 and warm(15) == pytest.approx(0.0)
    again = schedule_from_dict(warm.to_dict())
    assert [again(t) for t in range(1, 20)] == [warm(t) for t in range(1, 20)]
    p = P([0.0], [1.0])
    opt = SGD([p], lr=1.0, schedule=StepLR(1, 0.5))
    lrs = []
    for _ in range(3):
        lrs.append(opt.current_lr)
        p.grad = np.array([1.0])
        opt.step()
    assert lrs == [1.0, 0.5, 0.25] and p.data[0] == -1.75


def test_clip_grad_norm_scales_to_the_max_norm_keeping_direction():
    a, b = P(np.zeros(2), [3.0, 0.0]), P(np.zeros(1), [4.0])
    assert global_norm([a, b]) == 5.0
    assert clip_grad_norm([a, b], 1.0) == 5.0
    assert global_norm([a, b]) == pytest.approx(1.0)
    assert np.allclose(a.grad, [0.6, 0.0]) and np.allclose(b.grad, [0.8])
    assert clip_grad_norm([a, b], 10.0) == pytest.approx(1.0)
    assert np.allclose(b.grad, [0.8])  # below the threshold nothing changes
    with pytest.raises(NonFiniteError, match="gradient norm is nan"):
        clip_grad_norm([P([0.0], [float("nan")])], 1.0)
    p = P([0.0], [10.0])
    SGD([p], lr=1.0, clip_norm=2.0).step()
    assert p.data[0] == pytest.approx(-2.0)


def run_updates(kind, hp, shapes, grads, dtype=np.float32, attrs=None, grad=None):
    """Parameters of ones of ``shapes`` (``dtype``), one optimizer ``kind(**hp)`` with ``attrs``
    set on it, one step per set of ``grads`` (``grad(i, g)`` makes parameter i's array);
    returns the final values and the optimizer."""
    params = [P(np.ones(s)) for s in shapes]
    for p in params:
        p.data = p.data.astype(dtype)
    opt = make_optimizer(kind, params, **hp)
    for name, value in (attrs or {}).items():
        setattr(opt, name, value)
    for gs in grads:
        for i, (p, g) in enumerate(zip(params, gs)):
            p.grad = g if grad is None else grad(i, g)
        opt.step()
    return [p.data.copy() for p in params], opt


@pytest.mark.parametrize("kind, hp", CASES)
def test_fused_flat_update_gives_the_same_bits_as_the_per_parameter_one(kind, hp):
    rng = np.random.default_rng(1)
    shapes = [(3, 4), (4,), (4, 2), ()]
    grads = [[rng.normal(size=s).astype(np.float32) for s in shapes] for _ in range(5)]
    runs = []
    for fused in (True, False):
        values, _ = run_updates(kind, hp, shapes, grads, attrs={"_fusable": fused})
        runs.append(values)
    assert all(np.array_equal(a, b) for a, b in zip(*runs))


def test_a_parameter_without_gradient_is_left_alone_and_keeps_its_own_step_count():
    a, b = P([1.0], [1.0]), P([2.0])
    opt = Adam([a, b], lr=0.1)
    opt.step()
    assert b.data.tolist() == [2.0] and opt.steps.tolist() == [1, 0]
    a.grad, b.grad = np.array([1.0]), np.array([-1.0])
    opt.step()
    # b's first step has full bias correction: exactly -lr * sign(g)
    assert b.data[0] == pytest.approx(2.1) and a.data[0] == pytest.approx(0.8)


def test_tensor_parameters_update_in_place_without_building_a_graph():
    import memograd as mg
    from memograd.errors import GraphError

    w = mg.tensor(np.array([1.0, -2.0], np.float32), requires_grad=True)
    data = w.data
    (w * w).sum().backward()
    opt = Adam([w], lr=0.1)
    opt.step()
    assert w.data is data and w.is_leaf and w.grad_fn is None  # same array, still a leaf
    assert np.allclose(w.data, [0.9, -1.9])
    # a graph recorded before the update saw the old values: backward through it must refuse
    stale = (w * w).sum()
    w.grad = mg.tensor(np.ones(2, np.float32))
    opt.step()
    with pytest.raises(GraphError):
        stale.backward()


@pytest.mark.parametrize("kind, hp", CASES)
@pytest.mark.parametrize("size", [3, 40000])  # gathered (small) and per-parameter (large) paths
def test_a_step_never_changes_the_gradients_it_reads(kind, hp, size):
    rng = np.random.default_rng(2)
    params = [P(rng.normal(size=size)), P(rng.normal(size=(2, 3)))]
    grads = [rng.normal(size=p.data.shape) for p in params]
    opt = make_optimizer(kind, params, **hp)
    for _ in range(2):
        for p, g in zip(params, grads):
            p.grad = g.copy()
        opt.step()
        for p, g in zip(params, grads):
            assert np.array_equal(p.grad, g)


@pytest.mark.skipif(
    not __import__("memograd.tensor.fused", fromlist=["x"]).available(),
    reason="numba is not installed (pip install 'memograd[fast]')",
)
@pytest.mark.parametrize("kind, hp", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_kernels_give_the_numpy_updates_bit_for_bit(kind, hp, dtype):
    rng = np.random.default_rng(3)
    shapes = [(40000,), (4, 2), ()]  # per parameter (large) and gathered into one (small)
    grads = [[rng.normal(size=s).astype(dtype) for s in shapes] for _ in range(4)]
    runs = []
    for backend in ("numpy", "numba"):
        values, _ = run_updates(kind, hp, shapes, grads, dtype, attrs={"backend": backend})
        runs.append(values)
    for a, b in zip(*runs):
        assert a.dtype == dtype and np.array_equal(a, b)


@pytest.mark.skipif(
    not __import__("memograd.tensor.fused", fromlist=["x"]).available(),
    reason="numba is not installed (pip install 'memograd[fast]')",
)
@pytest.mark.parametrize("kind, hp", CASES)
def test_a_read_only_gradient_falls_back_to_one_kernel_call_per_parameter(kind, hp):
    """numba updates all parameters in one call on tuples of arrays; a read-only gradient among
    writable ones has another numba type (no tuple), so the update runs per parameter: the same
    bits either way. Plain SGD's kernel (``memograd.optim._plain``) unrolls its tuple of
    gradients, which may mix types: it keeps the one call."""
    rng = np.random.default_rng(4)
    shapes = [(5, 3), (3,), ()]
    grads = [[rng.normal(size=s).astype(np.float32) for s in shapes] for _ in range(3)]
    runs = []
    for backend, frozen in (("numpy", False), ("numba", False), ("numba", True)):

        def grad(i, g, frozen=frozen):
            g = g.copy()
            g.setflags(write=not (frozen and i == 0))  # one read-only among writable
            return g

        values, opt = run_updates(kind, hp, shapes, grads, attrs={"backend": backend}, grad=grad)
        plain = kind == "sgd" and not hp.get("momentum") and not hp.get("weight_decay")
        assert opt._no_many == (frozen and not plain)
        runs.append(values)
    for run in runs[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(run, runs[0]))


@pytest.mark.skipif(
    not __import__("memograd.tensor.fused", fromlist=["x"]).available(),
    reason="numba is not installed (pip install 'memograd[fast]')",
)
@pytest.mark.parametrize("kind, hp", CASES)
def test_tensor_parameters_take_the_common_path_with_the_numpy_bits(kind, hp):
    """Tensor parameters with every gradient set take the eager fast path (one loop, one numba
    call, scalars reused); a missing gradient, a hyperparameter edited between steps, a new
    array assigned to a parameter and a schedule all give the NumPy backend's bits, and every
    updated parameter's version counter moves once per step."""
    import memograd as mg

    rng = np.random.default_rng(5)
    shapes = [(6, 3), (3,), (3, 1)]
    grads = [[rng.normal(size=s).astype(np.float32) for s in shapes] for _ in range(6)]
    runs = []
    for backend in ("numpy", "numba"):
        params = [mg.tensor(np.ones(s, np.float32), requires_grad=True) for s in shapes]
        sched = mg.optim.StepLR(step_size=2, gamma=0.5)
        opt = make_optimizer(kind, params, schedule=sched, **hp)
        opt.backend = backend
        versions = []
        for step, gs in enumerate(grads):
            for i, (p, g) in enumerate(zip(params, gs)):
                p.grad = None if (step == 2 and i == 1) else mg.tensor(g)
            if step == 3 and hasattr(opt, "momentum"):
                opt.momentum = 0.5 * opt.momentum
            if step == 3 and hasattr(opt, "betas"):  # Adam's scalars are cached per key
                opt.betas = (0.8, opt.betas[1])
            if step == 5 and hasattr(opt, "betas"):
                opt.eps = 1e-3
            if step == 4:
                params[0].data = params[0].data.copy()
            before = [p._vc[0] for p in params]
            opt.step()
            versions.append([p._vc[0] - v for p, v in zip(params, before)])
        assert versions[2] == [1, 0, 1] and all(v == [1, 1, 1] for v in versions[3:])
        runs.append([p.data.copy() for p in params])
    for a, b in zip(*runs):
        assert a.dtype == np.float32 and np.array_equal(a, b)


@pytest.mark.skipif(
    not __import__("memograd.tensor.fused", fromlist=["x"]).available(),
    reason="numba is not installed (pip install 'memograd[fast]')",
)
def test_plain_sgd_takes_gradients_of_any_layout_in_one_call_with_the_numpy_bits():
    """Plain SGD's eager path hands the gradients to one numba call in their own shapes: a
    transposed view, a read-only array and a 0-d one give the NumPy backend's bits, and the
    step counts (kept in a Python int on that path) read the same through ``steps`` and
    ``state_dict``."""
    import memograd as mg

    rng = np.random.default_rng(6)
    shapes = [(4, 3), (3,), ()]

    def grads_of(i):
        gw = rng.normal(size=(3, 4)).astype(np.float32).T  # not contiguous
        gb = rng.normal(size=3).astype(np.float32)
        gb.setflags(write=False)
        return [gw, gb, np.float32(rng.normal()) * np.ones((), np.float32)]

    steps = [grads_of(i) for i in range(4)]
    runs = []
    for backend in ("numpy", "numba"):
        params = [mg.tensor(np.ones(s, np.float32), requires_grad=True) for s in shapes]
        opt = SGD(params, lr=0.25)
        opt.backend = backend
        for gs in steps:
            for p, g in zip(params, gs):
                p.grad = mg.Tensor(g)
            opt.step()
        assert opt.steps.tolist() == [4, 4, 4] and opt.state_dict()["steps"] == [4, 4, 4]
        assert opt.t == 4 and not opt._no_many
        runs.append([p.data.copy() for p in params])
    for a, b in zip(*runs):
        assert a.dtype == np.float32 and np.array_equal(a, b)
    # and the numbers are p - lr·Σg, to float32 rounding
    total = [sum(gs[i].astype(np.float64) for gs in steps) for i in range(3)]
    for p, t in zip(runs[1], total):
        assert np.allclose(p, 1 - 0.25 * t, atol=1e-6)
