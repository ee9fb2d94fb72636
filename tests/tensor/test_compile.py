"""compile_step: the replayed tape gives the eager engine's loss and gradients, step after step."""

import numpy as np
import pytest

import memograd as mg
from memograd import GraphError, MemogradTypeError, MemogradValueError
from memograd.tensor import compile_step

from .helpers import mlp_forward, mlp_params

rng = np.random.default_rng(0)


def eager_grads(loss_fn, ps, *inputs):
    for p in ps:
        p.grad = None
    loss = loss_fn(*[mg.tensor(a) for a in inputs])
    loss.backward()
    return loss.item(), [p.grad.numpy().copy() for p in ps]


LOSSES = {
    "ce": lambda ps: lambda x, y: mg.tensor.cross_entropy(mlp_forward(ps, x), y),
    "mse": lambda ps: lambda x, y: mg.tensor.mse(mlp_forward(ps, x, "tanh"), y),
    "bce": lambda ps: lambda x, y: mg.tensor.bce_with_logits(mlp_forward(ps, x, "sigmoid"), y),
    "mixed": lambda ps: (
        lambda x, y: (
            mg.tensor.log_softmax(mlp_forward(ps, x, "gelu"), axis=1)[np.arange(len(y)), y].mean()
            * -1
            + (ps[0] ** 2).sum() * 1e-3
            + mlp_forward(ps, x).softmax(axis=1).max(axis=1).var()
        )
    ),
}


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("batch", [1, 5])
def test_compiled_matches_eager_over_several_steps(kind, batch):
    sizes = [4, 6, 6, 3] if kind != "mse" else [3, 5, 2]
    ps = mlp_params(sizes, rng, np.float64)
    loss_fn = LOSSES[kind](ps)
    step = compile_step(loss_fn, ps)
    for _ in range(3):
        x = rng.normal(size=(batch, sizes[0]))
        if kind in ("ce", "mixed"):
            y = rng.integers(0, sizes[-1], batch)
        elif kind == "bce":
            y = rng.random((batch, sizes[-1]))
        else:
            y = rng.normal(size=(batch, sizes[-1]))
        want_loss, want = eager_grads(loss_fn, ps, x, y)
        got_loss = step(x, y)
        assert got_loss == pytest.approx(want_loss, rel=1e-12, abs=1e-12)
        for p, w in zip(ps, want):
            np.testing.assert_allclose(p.grad.numpy(), w, rtol=1e-10, atol=1e-12)
        with mg.no_grad():
            for p in ps:
                p -= 0.1 * p.grad  # the next call sees the updated parameters


def test_new_shapes_compile_again_and_buffers_are_reported():
    ps = mlp_params([3, 4, 2], rng)
    step = compile_step(lambda x, y: mg.tensor.cross_entropy(mlp_forward(ps, x), y), ps)
    step(np.ones((5, 3), np.float32), np.zeros(5, np.int64))
    first = step.buffer_bytes
    step(np.ones((2, 3), np.float32), np.zeros(2, np.int64))
    assert step.buffer_bytes > first
    assert "def step(x0, x1):" in step.source
    assert "_dot(" in step.source  # matmuls write into buffers


def test_gradients_are_set_not_accumulated_and_unused_params_get_zeros():
    w = mg.tensor([[1.0], [2.0]], requires_grad=True)
    unused = mg.tensor([5.0], requires_grad=True)
    step = compile_step(lambda x: (x @ w).sum(), [w, unused])
    x = np.array([[1.0, 1.0]], np.float32)
    step(x)
    step(x)
    np.testing.assert_allclose(w.grad.numpy(), [[1.0], [1.0]])
    np.testing.assert_array_equal(unused.grad.numpy(), [0.0])


def test_repeated_label_indices_scatter_add_in_the_tape():
    z = mg.tensor(np.zeros((1, 3)), requires_grad=True, dtype="float64")
    step = compile_step(lambda idx: z[0, idx].sum(), [z])
    step(np.array([2, 2, 0]))
    np.testing.assert_allclose(z.grad.numpy(), [[1.0, 0.0, 2.0]])


def test_untraceable_code_is_reported():
    w = mg.tensor([1.0], requires_grad=True)
    step = compile_step(lambda x: (mg.tensor(np.asarray(x.data) * 2) * w).sum(), [w])
    with pytest.raises(GraphError, match="converted to a plain numpy array"):
        step(np.ones(1, np.float32))
    mask_step = compile_step(lambda x: (x * w)[x > 0].sum(), [w])
    with pytest.raises(GraphError, match="boolean mask"):
        mask_step(np.ones(1, np.float32))
    with pytest.raises(MemogradTypeError, match="requires_grad"):
        compile_step(lambda x: x, [mg.tensor([1.0])])


def test_label_checks_are_guards_at_replay_not_wrapped_indices():
    ps = mlp_params([3, 4, 3], rng)
    step = compile_step(lambda x, y: mg.tensor.cross_entropy(mlp_forward(ps, x), y), ps)
    x = rng.normal(size=(2, 3)).astype(np.float32)
    step(x, np.array([0, 2]))
    grads = [p.grad.numpy().copy() for p in ps]
    # a negative label would index from the end and an out-of-range one fail inside numpy:
    # the replay notices and the eager engine names the problem
    with pytest.raises(MemogradValueError, match=r"labels must lie in \[0, 3\)"):
        step(x, np.array([0, -1]))
    with pytest.raises(MemogradValueError, match="got values from 0 to 3"):
        step(x, np.array([3, 0]))
    step(x, np.array([0, 2]))  # good labels replay as before
    for p, g in zip(ps, grads):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-6)


def test_a_branch_on_data_is_refused_at_replay_not_replayed_wrongly():
    w = mg.tensor([2.0], requires_grad=True)

    def loss_fn(x):
        y = x * w
        return (y * y).sum() if x.data.sum() > 0 else y.sum()  # a branch on the values

    step = compile_step(loss_fn, [w])
    assert step(np.ones(1, np.float32)) == 4.0
    with pytest.raises(GraphError, match="another branch"):
        step(-np.ones(1, np.float32))


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=12, deadline=None)
@given(
    widths=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    batch=st.integers(1, 4),
    act=st.sampled_from(["relu", "tanh", "sigmoid", "gelu", "leaky_relu", "abs"]),
    loss=st.sampled_from(["ce", "mse", "bce"]),
    seed=st.integers(0, 2**16),
)
def test_compiled_equals_eager_on_random_networks(widths, batch, act, loss, seed):
    r = np.random.default_rng(seed)
    ps = []
    for a, b in zip(widths[:-1], widths[1:]):
        ps.append(mg.tensor(r.normal(size=(a, b)), requires_grad=True, dtype="float64"))
        ps.append(mg.tensor(r.normal(size=(1, b)), requires_grad=True, dtype="float64"))
    x = r.normal(size=(batch, widths[0]))
    if loss == "ce":
        y = r.integers(0, widths[-1], batch)
    else:
        y = r.random((batch, widths[-1]))
    lossf = {"ce": mg.tensor.cross_entropy, "mse": mg.tensor.mse, "bce": mg.tensor.bce_with_logits}

    def loss_fn(x, y):
        return lossf[loss](mlp_forward(ps, x, act), y)

    want_loss, want = eager_grads(loss_fn, ps, x, y)
    step = compile_step(loss_fn, ps)
    assert step(x, y) == pytest.approx(want_loss, rel=1e-12, abs=1e-12)
    for p, w in zip(ps, want):
        np.testing.assert_allclose(p.grad.numpy(), w, rtol=1e-10, atol=1e-12)


def test_float32_step_has_no_float64_buffer():
    ps = mlp_params([6, 5, 4], rng, np.float32)
    step = compile_step(lambda x, y: mg.tensor.cross_entropy(mlp_forward(ps, x), y), ps)
    step(rng.normal(size=(3, 6)).astype(np.float32), np.array([0, 3, 1]))
    arrays = [v for v in step._last.fn.__globals__.values() if isinstance(v, np.ndarray)]
    assert arrays and all(a.dtype != np.float64 for a in arrays)
    assert all(p.grad.dtype == np.float32 for p in ps)


def test_all_and_any_inside_loss_fn_become_guards():
    w = mg.tensor([2.0], requires_grad=True)

    def loss_fn(x):
        if not np.isfinite(x.data).all() or (x.data > 1e6).any():
            raise mg.MemogradValueError("loss_fn: inputs must be finite and at most 1e6")
        return (x * w).sum()

    step = compile_step(loss_fn, [w])
    assert step(np.ones(2, np.float32)) == 4.0
    np.testing.assert_allclose(w.grad.numpy(), [2.0])
    with pytest.raises(mg.MemogradValueError, match="must be finite"):  # the eager error
        step(np.array([1.0, np.nan], np.float32))
    with pytest.raises(mg.MemogradValueError, match="at most 1e6"):
        step(np.array([1.0, 1e7], np.float32))
    assert step(np.full(2, 0.5, np.float32)) == 2.0  # good inputs replay as recorded


def test_an_ndarray_method_the_tracer_lacks_is_a_clear_error():
    w = mg.tensor([1.0], requires_grad=True)
    step = compile_step(lambda x: (x * w).sum() + float(x.data.cumsum()[0]), [w])
    with pytest.raises(GraphError, match=r"no \.cumsum\(\).*np\.cumsum"):
        step(np.ones(1, np.float32))
    from memograd.tensor.compile import _Sym

    assert _Sym._traced and not hasattr(object.__new__(_Sym), "no_such_thing")


@pytest.mark.parametrize("name", ["out=None); import os; (", "1x", "class", ""])
def test_keyword_names_must_be_identifiers_before_they_reach_the_source(name):
    from memograd.tensor import compile as C

    rec = C._Recorder()
    x = rec.new("input", np.ones(2), index=0)
    out = rec.new("buf", np.ones(2))
    rec.instrs.append(C._Instr("call", np.positive, (x,), {name: 1}, out.k))
    with pytest.raises(GraphError, match="not a Python identifier"):
        C._Program(rec, [out.k], 1, 0)
    assert C._identifier("axis") == "axis"
