import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import memograd as mg
from memograd.errors import MemogradTypeError, MemogradValueError, ShapeError
from memograd.nn import (
    MLP,
    Dropout,
    Linear,
    Module,
    Parameter,
    ReLU,
    Sequential,
    Tanh,
    bce_with_logits,
    cross_entropy,
    hinge,
    init,
    mse,
)
from memograd.optim import SGD, Adam


def test_mlp_of_the_notes_has_15_parameters_and_the_layers_it_says():
    net = MLP([2, 2, 2, 1], activation="sigmoid", seed=0)
    assert net.num_parameters() == 15 == sum((a + 1) * b for a, b in [(2, 2), (2, 2), (2, 1)])
    names = [n for n, _ in net.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    text = repr(net)
    assert "Linear(2 -> 2" in text and "# 6 parameters" in text and "15 parameters in all" in text
    assert text.startswith("MLP(\n  2-2-2-1, activation=sigmoid\n  (0): Linear(2 -> 2")
    assert net.config["widths"] == [2, 2, 2, 1]


def test_same_seed_same_weights_bit_for_bit_and_other_seed_differs():
    a, b, c = MLP([5, 7, 3], seed=3), MLP([5, 7, 3], seed=3), MLP([5, 7, 3], seed=4)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(np.array_equal(sa[k], sb[k]) for k in sa)
    assert not np.array_equal(sa["0.weight"], sc["0.weight"])


def test_linear_is_x_w_plus_b_with_closed_form_gradients():
    rng = np.random.default_rng(0)
    lin = Linear(4, 3, rng=rng, dtype="float64")
    lin.bias.data[:] = rng.normal(size=3)
    x = rng.normal(size=(5, 4))
    out = lin(mg.tensor(x, dtype="float64"))
    assert np.allclose(out.data, x @ lin.weight.data + lin.bias.data)
    out.sum().backward()
    assert np.allclose(lin.weight.grad.data, x.T @ np.ones((5, 3)))
    assert np.allclose(lin.bias.grad.data, np.full(3, 5.0))


def numpy_mlp_grads(Ws, bs, x, y):
    """Hand-written backprop of tanh layers + softmax cross-entropy (independent of the engine)."""
    acts, zs = [x], []
    for k, (W, b) in enumerate(zip(Ws, bs)):
        z = acts[-1] @ W + b
        zs.append(z)
        acts.append(np.tanh(z) if k < len(Ws) - 1 else z)
    logits = acts[-1]
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    n = len(y)
    loss = -np.mean(np.log(p[np.arange(n), y]))
    delta = p.copy()
    delta[np.arange(n), y] -= 1
    delta /= n
    gW, gb = [None] * len(Ws), [None] * len(Ws)
    for k in reversed(range(len(Ws))):
        gW[k] = acts[k].T @ delta
        gb[k] = delta.sum(0)
        if k:
            delta = (delta @ Ws[k].T) * (1 - acts[k] ** 2)
    return loss, gW, gb


def test_mlp_gradients_match_hand_written_backprop_in_float64():
    rng = np.random.default_rng(1)
    net = MLP([6, 5, 4, 3], activation="tanh", seed=1, dtype="float64")
    for p in net.parameters():
        p.data[...] = rng.normal(size=p.shape) * 0.5
    x, y = rng.normal(size=(8, 6)), rng.integers(0, 3, 8)
    loss = cross_entropy(net(mg.tensor(x, dtype="float64")), y)
    loss.backward()
    lins = net.linears()
    ref_loss, gW, gb = numpy_mlp_grads(
        [lin.weight.data for lin in lins], [lin.bias.data for lin in lins], x, y
    )
    assert loss.item() == pytest.approx(ref_loss, rel=1e-12)
    for lin, w, b in zip(lins, gW, gb):
        assert np.allclose(lin.weight.grad.data, w, rtol=1e-10, atol=1e-12)
        assert np.allclose(lin.bias.grad.data, b, rtol=1e-10, atol=1e-12)


def test_state_dict_round_trip_and_mismatch_errors():
    a, b = MLP([3, 4, 2], seed=0), MLP([3, 4, 2], seed=1)
    b.load_state_dict(a.state_dict())
    assert all(
        np.array_equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values())
    )
    state = a.state_dict()
    state["0.weight"] = np.zeros((4, 4), np.float32)
    with pytest.raises(
        ShapeError, match="0.weight has shape \\(4, 4\\), the model's is \\(3, 4\\)"
    ):
        b.load_state_dict(state)
    with pytest.raises(MemogradValueError, match="missing 2.bias"):
        b.load_state_dict({k: v for k, v in a.state_dict().items() if k != "2.bias"})
    with pytest.raises(MemogradValueError, match="unexpected extra"):
        b.load_state_dict({**a.state_dict(), "extra": np.ones(1)})
    bad = a.state_dict()
    bad["0.bias"] = np.full(4, np.nan, np.float32)
    with pytest.raises(MemogradValueError, match="finite"):
        b.load_state_dict(bad)
    # nothing was half-loaded by the failed calls
    assert np.array_equal(b.state_dict()["0.bias"], a.state_dict()["0.bias"])


def test_load_state_dict_bumps_versions_so_stale_graphs_fail():
    net = MLP([2, 3, 1], seed=0)
    loss = net(mg.tensor(np.ones((2, 2)))).sum()
    net.load_state_dict(MLP([2, 3, 1], seed=1).state_dict())
    with pytest.raises(mg.GraphError):
        loss.backward()


def test_flatten_parameters_keeps_values_and_shares_one_buffer():
    net = MLP([3, 4, 2], seed=0)  # MLP flattens at construction
    flat = net.parameters()[0].data.base
    assert flat is not None and flat.size == net.num_parameters()
    assert all(p.data.base is flat for p in net.parameters())
    before = np.concatenate([p.data.ravel() for p in net.parameters()])
    assert np.array_equal(before, flat)
    opt = Adam(net.parameters(), lr=0.01)
    assert opt._flat is flat
    # the flat fast path and the gather/scatter path give the same bits
    other = Sequential(Linear(3, 4, rng=0), ReLU(), Linear(4, 2, activation="identity", rng=0))
    other.load_state_dict(
        dict(zip([n for n, _ in other.named_parameters()], net.state_dict().values()))
    )
    opt2 = Adam(other.parameters(), lr=0.01)
    assert opt2._flat is None
    x, y = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32), np.arange(6) % 2
    for model, o in ((net, opt), (other, opt2)):
        for _ in range(3):
            o.zero_grad()
            cross_entropy(model(mg.tensor(x)), y).backward()
            o.step()
    assert all(np.array_equal(p.data, q.data) for p, q in zip(net.parameters(), other.parameters()))


def test_training_steps_are_reproducible_bit_for_bit():
    def run():
        net = MLP([4, 8, 3], dropout=0.2, seed=5)
        net.set_rng(np.random.default_rng(9))
        opt = SGD(net.parameters(), lr=0.1, momentum=0.9)
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(16, 4)).astype(np.float32), rng.integers(0, 3, 16)
        for _ in range(5):
            opt.zero_grad()
            cross_entropy(net(mg.tensor(x)), y).backward()
            opt.step()
        return net.state_dict()

    a, b = run(), run()
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_dropout_masks_scales_and_is_identity_in_eval():
    d = Dropout(0.25, rng=0)
    x = mg.tensor(np.ones((200, 50)), requires_grad=True)
    out = d(x)
    kept = out.data != 0
    assert abs(kept.mean() - 0.75) < 0.02
    assert np.allclose(out.data[kept], 1 / 0.75)
    out.sum().backward()
    assert np.array_equal(x.grad.data, kept / 0.75)
    d.eval()
    assert d(x) is x
    with pytest.raises(MemogradValueError, match="p must be in"):
        Dropout(1.0)


def test_train_eval_modes_reach_every_submodule():
    net = MLP([2, 3, 3, 1], dropout=0.5, seed=0)
    net.eval()
    assert all(not m.training for m in net.modules())
    x = mg.tensor(np.ones((4, 2)))
    assert np.array_equal(net(x).data, net(x).data)
    net.train()
    assert all(m.training for m in net.modules())


def test_custom_module_registers_parameters_and_children_in_order():
    class Net(Module):
        def __init__(self):
            super().__init__()
            self.scale = Parameter([2.0])
            self.body = Sequential(Linear(2, 2, rng=0), Tanh())
            self.not_a_param = mg.tensor([1.0])

        def forward(self, x):
            return self.body(x) * self.scale

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["scale", "body.0.weight", "body.0.bias"]
    assert net.num_parameters() == 1 + 6
    net(mg.tensor(np.ones((3, 2)))).sum().backward()
    assert net.scale.grad is not None
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    with pytest.raises(MemogradTypeError, match="item 0 is a int"):
        Sequential(3)


def test_bad_widths_and_names():
    with pytest.raises(MemogradValueError, match="widths"):
        MLP([3])
    with pytest.raises(MemogradValueError, match="unknown activation 'swish'"):
        MLP([3, 2], activation="swish")
    with pytest.raises(MemogradValueError, match="unknown init 'magic'"):
        Linear(2, 2, init="magic")


# ------------------------------------------------------------------------ init


@pytest.mark.parametrize(
    "name, fan_in, fan_out, uniform, std",
    [
        ("xavier_uniform", 300, 200, True, math.sqrt(2 / 500)),
        ("xavier_normal", 300, 200, False, math.sqrt(2 / 500)),
        ("kaiming_uniform", 300, 200, True, math.sqrt(2 / 300)),
        ("kaiming_normal", 300, 200, False, math.sqrt(2 / 300)),
    ],
)
def test_init_statistics(name, fan_in, fan_out, uniform, std):
    gain = 1.0 if name.startswith("xavier") else math.sqrt(2)
    w = getattr(init, name)((fan_in, fan_out), rng=0, gain=gain, dtype="float64")
    assert w.shape == (fan_in, fan_out)
    assert abs(w.std() / std - 1) < 0.02 and abs(w.mean()) < 0.01 * std * 10
    if uniform:
        assert np.abs(w).max() <= std * math.sqrt(3) + 1e-12
    assert np.array_equal(
        w, getattr(init, name)((fan_in, fan_out), rng=0, gain=gain, dtype="float64")
    )


def test_bias_init_zeros_or_glorot_uniform():
    assert not MLP([3, 5, 2], seed=0).linears()[0].bias.data.any()
    lin = MLP([30, 50, 2], bias_init="uniform", seed=0).linears()[0]
    a = math.sqrt(6 / 80)
    assert np.abs(lin.bias.data).max() <= a and np.abs(lin.bias.data).std() > a / 4
    with pytest.raises(MemogradValueError, match="bias_init"):
        Linear(2, 2, bias_init="ones")


def test_gains():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(MemogradTypeError):
        init.as_generator("seed")


# ------------------------------------------------------------------------ losses


def finite_diff(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def test_cross_entropy_and_bce_match_numpy_formulas():
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(7, 4)), rng.integers(0, 4, 7)
    lse = np.log(np.exp(z).sum(1))
    assert cross_entropy(mg.tensor(z, dtype="float64"), y).item() == pytest.approx(
        np.mean(lse - z[np.arange(7), y]), rel=1e-12
    )
    s, t = rng.normal(size=(7, 1)) * 5, rng.integers(0, 2, 7)
    ref = np.mean(np.log1p(np.exp(-s[:, 0])) + (1 - t) * s[:, 0])
    assert bce_with_logits(mg.tensor(s, dtype="float64"), t).item() == pytest.approx(ref, rel=1e-10)


def test_mse_refuses_silent_broadcasting_and_fits_a_column():
    pred = mg.tensor(np.array([[1.0], [2.0], [4.0]]), dtype="float64")
    assert mse(pred, np.array([1.0, 1.0, 1.0])).item() == pytest.approx((0 + 1 + 9) / 3)
    with pytest.raises(ShapeError, match="\\(3, 1\\) and target of shape \\(2,\\)"):
        mse(pred, np.array([1.0, 2.0]))


def hinge_reference(z, y):
    if z.shape[1] == 1:
        s = 2 * y - 1
        return np.mean(np.maximum(0, 1 - s * z[:, 0]))
    total = 0.0
    for i in range(len(y)):
        for j in range(z.shape[1]):
            if j != y[i]:
                total += max(0.0, 1 + z[i, j] - z[i, y[i]])
    return total / len(y)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_hinge_value_and_gradient(k):
    rng = np.random.default_rng(k)
    z, y = rng.normal(size=(9, k)), rng.integers(0, max(k, 2), 9)
    zt = mg.tensor(z, dtype="float64", requires_grad=True)
    loss = hinge(zt, y)
    assert loss.item() == pytest.approx(hinge_reference(z, y), rel=1e-12)
    loss.backward()
    assert np.allclose(
        zt.grad.data, finite_diff(lambda a: hinge_reference(a, y), z.copy()), atol=1e-6
    )


def test_labels_must_be_integers():
    with pytest.raises(MemogradTypeError, match="labels must be integers"):
        hinge(mg.tensor(np.zeros((2, 3))), np.array([0.5, 1.0]))


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_parameters_are_named_parameters_in_order_with_shared_and_frozen_ones(data):
    """parameters() (plain loops) lists exactly named_parameters()'s tensors, in its order: a
    parameter shared by two modules once, a frozen one (requires_grad=False) and a non-leaf
    not at all, nested modules depth first."""
    pool = [Parameter(np.ones(2)) for _ in range(4)]

    def build(depth):
        m = Module()
        for i in range(data.draw(st.integers(0, 3))):
            kind = data.draw(st.sampled_from(["param", "frozen", "computed", "child", "other"]))
            if kind == "param":
                value = data.draw(st.sampled_from(pool))
            elif kind == "frozen":
                value = mg.tensor(np.ones(2))
            elif kind == "computed":
                value = pool[0] * 2.0
            elif kind == "child" and depth < 3:
                value = build(depth + 1)
            else:
                value = 3
            setattr(m, f"a{i}", value)
        return m

    root = build(0)
    assert [id(p) for p in root.parameters()] == [id(p) for _, p in root.named_parameters()]
