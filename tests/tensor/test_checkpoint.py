"""mg.checkpoint: the same gradients bit for bit, with only the segment's inputs kept."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import memograd as mg
from memograd.errors import GraphError, MemogradTypeError
from memograd.tensor.checkpoint import CheckpointWarning, checkpoint
from memograd.tensor.memory import MemoryTrace, memory_report


def _data(seed=0, n=6, d=5):
    rng = np.random.default_rng(seed)
    return mg.tensor(rng.normal(size=(n, d)).astype(np.float32)), rng.integers(0, 3, n)


def _grads(model):
    return [p.grad.data.copy() for p in model.parameters()]


def test_checkpointed_segment_gives_bit_identical_gradients_and_loss():
    x, y = _data()

    def run(ck):
        m = mg.nn.MLP([5, 8, 8, 3], "tanh", seed=1)
        layers = list(m)
        head = mg.nn.Sequential(*layers[:3])
        h = checkpoint(head, x) if ck else head(x)
        for layer in layers[3:]:
            h = layer(h)
        loss = mg.tensor.cross_entropy(h, y)
        loss.backward()
        return float(loss.data), _grads(m)

    (l0, g0), (l1, g1) = run(False), run(True)
    assert l0 == l1
    assert all(np.array_equal(a, b) for a, b in zip(g0, g1))


def test_dropout_inside_a_segment_replays_the_same_draws_and_later_draws_are_unchanged():
    x, y = _data(1)

    def run(ck):
        m = mg.nn.MLP([5, 16, 16, 3], "relu", dropout=0.4, seed=2)
        drops = [d for d in m.modules() if isinstance(d, mg.nn.Dropout)]
        for d in drops:
            d.rng = np.random.default_rng(9)
        layers = list(m)
        head = mg.nn.Sequential(*layers[:3])
        h = checkpoint(head, x) if ck else head(x)
        for layer in layers[3:]:
            h = layer(h)
        mg.tensor.cross_entropy(h, y).backward()
        return _grads(m), [d.rng.random() for d in drops]  # the next draw after the step

    (g0, after0), (g1, after1) = run(False), run(True)
    assert all(np.array_equal(a, b) for a, b in zip(g0, g1))
    assert after0 == after1


def test_input_gradients_flow_through_the_segment():
    a = mg.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True, dtype="float64")
    b = mg.tensor(np.linspace(0.5, 2, 6).reshape(2, 3), requires_grad=True, dtype="float64")

    def f(u, v):
        return (u * v).tanh() * u

    checkpoint(f, a, b).sum().backward()
    ga, gb = a.grad.data.copy(), b.grad.data.copy()
    a.grad = b.grad = None
    f(a, b).sum().backward()
    assert np.array_equal(ga, a.grad.data) and np.array_equal(gb, b.grad.data)


@settings(max_examples=20, deadline=None)
@given(
    widths=st.lists(st.integers(1, 6), min_size=2, max_size=6),
    segments=st.integers(1, 12),
    seed=st.integers(0, 10_000),
    act=st.sampled_from(["relu", "tanh", "sigmoid"]),
)
def test_checkpoint_sequential_equals_plain_on_random_mlps(widths, segments, seed, act):
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.normal(size=(4, 3)).astype(np.float32))
    t = mg.tensor(rng.normal(size=(4, 2)).astype(np.float32))

    def run(ck):
        m = mg.nn.MLP([3, *widths, 2], act, seed=seed)
        n = len(list(m))
        out = mg.nn.checkpoint_sequential(m, min(segments, n), x) if ck else m(x)
        loss = mg.tensor.mse(out, t)
        loss.backward()
        return float(loss.data), _grads(m)

    (l0, g0), (l1, g1) = run(False), run(True)
    assert l0 == l1
    assert all(np.array_equal(a, b) for a, b in zip(g0, g1))


def test_sqrt_checkpointing_holds_a_fraction_of_the_store_everything_peak():
    x, _ = _data(2, n=32, d=64)
    y = np.arange(32) % 4

    def peak(ck):
        m = mg.nn.MLP([64] + [64] * 36 + [4], "relu", seed=3)
        out = mg.nn.checkpoint_sequential(m, "sqrt", x) if ck else m(x)
        r = memory_report(mg.tensor.cross_entropy(out, y), show=False)
        return r

    plain, ck = peak(False), peak(True)
    assert ck.saved_at_start < plain.saved_at_start / 3
    assert ck.peak < plain.peak / 2.5
    assert "peak during backward" in str(plain)


def test_memory_trace_counts_saved_bytes_of_a_known_graph():
    x = mg.tensor(np.ones((10, 4), dtype=np.float32))
    w = mg.tensor(np.ones((4, 3), dtype=np.float32), requires_grad=True)
    h = (x @ w).tanh()  # matmul keeps x and w (w is a parameter: not counted); tanh its output
    loss = h.sum()
    report = memory_report(loss, show=False)
    assert report.saved_at_start == 10 * 4 * 4 + 10 * 3 * 4  # x and tanh's output, float32
    assert report.peak >= report.saved_at_start
    assert isinstance(MemoryTrace([]).peak, int)


def test_segment_errors_are_clear():
    x = mg.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(MemogradTypeError, match="must return one Tensor"):
        checkpoint(lambda t: (t, t), x)
    with pytest.raises(MemogradTypeError, match="must be callable"):
        checkpoint(3, x)

    def mutate(t):
        t += 1.0
        return t * 2

    y = mg.tensor(np.ones(3))
    with pytest.raises(GraphError, match="modified its input"):
        checkpoint(mutate, y, params=[x])


def test_checkpoint_under_no_grad_warns_and_just_runs():
    x = mg.tensor(np.ones(3), requires_grad=True)
    with mg.no_grad(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = checkpoint(lambda t: t * 3, x)
    assert np.array_equal(out.data, np.full(3, 3.0)) and not out.requires_grad
    assert any(issubclass(w.category, CheckpointWarning) for w in caught)


def test_input_edited_after_forward_is_refused_at_backward():
    x = mg.tensor(np.ones(3), requires_grad=True)
    h = x * 1.0
    out = checkpoint(lambda t: (t * t).sum(), h)
    with mg.no_grad():
        h += 1.0
    with pytest.raises(GraphError, match="modified in place"):
        out.backward()


def test_retain_graph_allows_a_second_backward_with_the_same_result():
    x = mg.tensor(np.array([0.5, -1.0]), requires_grad=True)
    out = checkpoint(lambda t: (t * t * t).sum(), x)
    out.backward(retain_graph=True)
    first = x.grad.data.copy()
    out.backward()
    assert np.array_equal(x.grad.data, 2 * first)
    assert np.allclose(first, 3 * x.data**2)


def test_mg_checkpoint_is_the_callable_module():
    x = mg.tensor(np.array([2.0]), requires_grad=True)
    mg.checkpoint(lambda t: t * t, x).sum().backward()
    assert x.grad.data[0] == 4.0
    from memograd.checkpoint import CheckpointError  # the run-folder module still works

    assert issubclass(CheckpointError, Exception)
