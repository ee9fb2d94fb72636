"""nn functions (nnf, conv): activations, losses, layer_norm, attention, convolutions and pooling
against torch.nn.functional (float64 values and gradients) and float64 central differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import memograd as mg

from .helpers import assert_grads_match
from .torch_ref import compare, needs_torch, torch

M = mg.tensor
F = mg.tensor
TF = None if torch is None else torch.nn.functional
SETTINGS = settings(max_examples=8, deadline=None)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)


def rand(*shape, seed=0, low=-3.0, high=3.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


ACTIVATIONS = {  # name -> (memograd, torch, kinks to avoid)
    "softplus": (lambda t: F.softplus(t), lambda t: TF.softplus(t), ()),
    "softplus-beta": (
        lambda t: F.softplus(t, 2.0, 3.0),
        lambda t: TF.softplus(t, 2.0, 3.0),
        (1.5,),
    ),
    "silu": (F.silu, lambda t: TF.silu(t), ()),
    "elu": (lambda t: F.elu(t, 0.7), lambda t: TF.elu(t, 0.7), (0.0,)),
    "selu": (F.selu, lambda t: TF.selu(t), (0.0,)),
    "gelu-none": (lambda t: F.gelu(t, "none"), lambda t: TF.gelu(t), ()),
    "gelu-tanh": (lambda t: F.gelu(t), lambda t: TF.gelu(t, approximate="tanh"), ()),
    "mish": (F.mish, lambda t: TF.mish(t), ()),
    "logsigmoid": (F.logsigmoid, lambda t: TF.logsigmoid(t), ()),
    "hardtanh": (
        lambda t: F.hardtanh(t, -0.5, 2.0),
        lambda t: TF.hardtanh(t, -0.5, 2.0),
        (-0.5, 2),
    ),
    "relu6": (F.relu6, lambda t: TF.relu6(t), (0.0,)),
    "softsign": (F.softsign, lambda t: TF.softsign(t), ()),
    "erf": (F.erf, lambda t: torch.erf(t), ()),
}


def away(x, points):
    for p in points:
        close = np.abs(x - p) < 0.05
        x[close] = p + 0.1
    return x


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@SETTINGS
@given(shape=shapes, seed=st.integers(0, 999))
def test_activations_against_central_differences(name, shape, seed):
    fn, _, kinks = ACTIVATIONS[name]
    x = away(rand(*shape, seed=seed), kinks)
    w = rand(*shape, seed=seed + 1)
    assert_grads_match(lambda t: (fn(t) * w).sum(), [x], rtol=1e-4, atol=1e-6)


@needs_torch
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_against_torch(name):
    fn, ref, _ = ACTIVATIONS[name]
    x = np.concatenate([rand(20, seed=3, low=-30, high=30), [-6.0, -1.0, 0.0, 2.0, 6.0, 25.0]])
    compare(fn, ref, [x])


def test_activation_gradients_at_their_special_points_match_torch_rules():
    x = M(np.array([0.0]), requires_grad=True)
    F.softplus(x).backward()
    assert x.grad.item() == 0.5  # σ(0), not the 0 of a kinked decomposition
    for fn, want in [(F.elu, 1.0), (F.relu6, 0.0), (lambda t: F.hardtanh(t, 0.0, 1.0), 0.0)]:
        x = M(np.array([0.0]), requires_grad=True)
        fn(x).backward()
        assert x.grad.item() == want
    big = M(np.array([800.0, -800.0]), requires_grad=True)
    (F.elu(big) + F.logsigmoid(big) + F.softplus(big)).sum().backward()
    assert np.all(np.isfinite(big.grad.numpy()))


@needs_torch
def test_glu_and_methods():
    x = rand(3, 4, seed=2)
    compare(lambda t: F.glu(t), lambda t: TF.glu(t), [x])
    compare(lambda t: F.glu(t, 0), lambda t: TF.glu(t, 0), [rand(4, 3)])
    np.testing.assert_allclose(M(x).silu().numpy(), F.silu(M(x)).numpy())
    with pytest.raises(mg.ShapeError, match="glu: axis -1 of shape"):
        F.glu(M(rand(2, 3)))


# ---------------------------------------------------------------------------------- losses
@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(reduction, weighted):
    logp = np.log(np.random.default_rng(0).dirichlet(np.ones(4), size=5))
    y = np.array([0, 3, 3, -100, 1])
    w = np.array([0.5, 1.0, 2.0, 1.5]) if weighted else None
    compare(
        lambda t: F.nll_loss(t, y, reduction, weight=w),
        lambda t: TF.nll_loss(
            t, torch.tensor(y), None if w is None else torch.tensor(w), reduction=reduction
        ),
        [logp],
    )
    x3 = rand(2, 4, 3)  # (N, C, d)
    y3 = np.array([[0, 1, 3], [2, 2, 0]])
    compare(
        lambda t: F.nll_loss(t, y3, reduction, weight=w),
        lambda t: TF.nll_loss(
            t, torch.tensor(y3), None if w is None else torch.tensor(w), reduction=reduction
        ),
        [x3],
    )


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_on_probabilities(reduction):
    p = np.concatenate([rand(6, seed=1, low=0.01, high=0.99), [0.0, 1.0]])
    t = np.concatenate([rand(6, seed=2, low=0, high=1), [0.3, 0.6]])
    w = rand(8, seed=3, low=0.5, high=2)
    compare(  # p and t differentiated inside (0, 1)
        lambda a, b: F.binary_cross_entropy(a, b, reduction, weight=w[:6]),
        lambda a, b: TF.binary_cross_entropy(a, b, torch.tensor(w[:6]), reduction=reduction),
        [p[:6], t[:6]],
    )
    compare(  # at p = 0 and 1 the logs are clamped at -100 (values and ∂/∂p as torch)
        lambda a: F.binary_cross_entropy(a, t, reduction, weight=w),
        lambda a: TF.binary_cross_entropy(a, torch.tensor(t), torch.tensor(w), reduction=reduction),
        [p],
    )
    tt = M(t, requires_grad=True)  # ∂/∂t is the clamped log(1-p) - log p (torch: ±inf)
    F.binary_cross_entropy(M(p), tt, reduction="sum").backward()
    np.testing.assert_allclose(tt.grad.numpy()[6:], [100.0, -100.0])
    assert_grads_match(lambda a, b: F.binary_cross_entropy(a, b), [p[:6], t[:6]])
    with pytest.raises(mg.MemogradValueError, match="probabilities in"):
        F.binary_cross_entropy(M([1.5]), M([1.0]))


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_variants(reduction, smoothing, weighted):
    z = rand(5, 4, seed=4)
    y = np.array([0, 3, -100, 2, 1])
    w = np.array([0.5, 1.0, 2.0, 1.5]) if weighted else None
    tw = None if w is None else torch.tensor(w)
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    compare(
        lambda t: F.cross_entropy(t, y, weight=w, **kw),
        lambda t: TF.cross_entropy(t, torch.tensor(y), tw, **kw),
        [z],
    )
    q = np.random.default_rng(5).dirichlet(np.ones(4), size=5)  # probability targets
    compare(
        lambda t, s: F.cross_entropy(t, s, weight=w, **kw),
        lambda t, s: TF.cross_entropy(t, s, tw, **kw),
        [z, q],
    )
    z3, y3 = rand(2, 4, 3, seed=6), np.array([[0, 1, 3], [2, 2, 0]])
    compare(
        lambda t: F.cross_entropy(t, y3, weight=w, **kw),
        lambda t: TF.cross_entropy(t, torch.tensor(y3), tw, **kw),
        [z3],
    )


def test_cross_entropy_common_case_is_the_fused_row():
    z = M(rand(3, 4), requires_grad=True)
    assert F.cross_entropy(z, np.array([0, 1, 2])).grad_fn == "cross_entropy"
    with pytest.raises(mg.MemogradValueError, match="labels must lie in"):
        F.cross_entropy(z, np.array([0, 1, 7]))


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_pos_weight_and_weight(reduction):
    x, t = rand(4, 3, seed=7, low=-6, high=6), rand(4, 3, seed=8, low=0, high=1)
    pw, w = np.array([0.5, 2.0, 3.0]), rand(4, 3, seed=9, low=0.5, high=2)
    compare(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction, weight=w, pos_weight=pw),
        lambda a, b: TF.binary_cross_entropy_with_logits(
            a, b, torch.tensor(w), reduction=reduction, pos_weight=torch.tensor(pw)
        ),
        [x, t],
    )
    compare(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction, pos_weight=pw),
        lambda a, b: TF.binary_cross_entropy_with_logits(
            a, b, reduction=reduction, pos_weight=torch.tensor(pw)
        ),
        [x, t],
    )


# ---------------------------------------------------------------- layer_norm, attention
@needs_torch
def test_layer_norm():
    x = rand(2, 3, 4, seed=10)
    w, b = rand(3, 4, seed=11), rand(3, 4, seed=12)
    compare(
        lambda t, u, v: F.layer_norm(t, (3, 4), u, v),
        lambda t, u, v: TF.layer_norm(t, (3, 4), u, v),
        [x, w, b],
    )
    compare(lambda t: F.layer_norm(t, 4), lambda t: TF.layer_norm(t, (4,)), [x])
    assert_grads_match(lambda t: (F.layer_norm(t, 4) * rand(2, 3, 4, seed=1)).sum(), [x])
    with pytest.raises(mg.ShapeError, match="trailing dims"):
        F.layer_norm(M(x), (3,))


@needs_torch
@pytest.mark.parametrize("mask", [None, "bool", "float", "causal"])
def test_scaled_dot_product_attention(mask):
    q, k, v = rand(2, 3, 4, seed=13), rand(2, 5, 4, seed=14), rand(2, 5, 2, seed=15)
    m = None
    if mask == "bool":
        m = np.random.default_rng(0).random((3, 5)) > 0.3
        m[:, 0] = True
    elif mask == "float":
        m = rand(3, 5, seed=16)
    causal = mask == "causal"
    if causal:
        k, v = k[:, :3], v[:, :3]
    compare(
        lambda a, b, c: F.scaled_dot_product_attention(a, b, c, m, is_causal=causal),
        lambda a, b, c: TF.scaled_dot_product_attention(
            a, b, c, None if m is None else torch.tensor(m), is_causal=causal
        ),
        [q, k, v],
    )
    compare(
        lambda a, b, c: F.scaled_dot_product_attention(a, b, c, scale=0.3),
        lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, scale=0.3),
        [q, k, v],
    )
    with pytest.raises(mg.MemogradValueError, match="dropout_p must be 0"):
        F.scaled_dot_product_attention(M(q), M(k), M(v), dropout_p=0.1)


# ---------------------------------------------------------------- convolution and pooling
CONV2D = [
    {},
    {"stride": 2},
    {"padding": 1, "dilation": 2},
    {"stride": (2, 1), "padding": (1, 0), "groups": 2},
    {"padding": "same"},
    {"padding": "valid", "dilation": (2, 1)},
]


@needs_torch
@pytest.mark.parametrize("kw", CONV2D, ids=[str(k) for k in CONV2D])
@pytest.mark.filterwarnings("ignore:Using padding=.same.")
def test_conv2d_against_torch(kw):
    x = rand(2, 4, 7, 6, seed=17)
    w = rand(6, 4 // kw.get("groups", 1), 3, 2, seed=18)
    b = rand(6, seed=19)
    compare(
        lambda s, t, u: F.conv2d(s, t, u, **kw),
        lambda s, t, u: TF.conv2d(s, t, u, **kw),
        [x, w, b],
        rtol=1e-10,
    )


def test_conv2d_and_pools_against_central_differences():
    x, w = rand(1, 2, 5, 5, seed=20), rand(2, 1, 2, 3, seed=21)
    fn = lambda s, t: (F.conv2d(s, t, stride=2, padding=1, dilation=(1, 2), groups=2) ** 2).sum()  # noqa: E731
    assert_grads_match(fn, [x, w])
    xd = np.random.default_rng(2).permutation(50).reshape(1, 2, 5, 5) / 7.0  # no ties
    assert_grads_match(lambda t: (F.max_pool2d(t, 3, 2, 1) ** 2).sum(), [xd])
    assert_grads_match(
        lambda t: (F.avg_pool2d(t, 3, 2, 1, count_include_pad=False) ** 2).sum(), [x]
    )


@needs_torch
def test_pools_and_conv1d_against_torch():
    x = np.random.default_rng(3).permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) / 10.0
    for kw in [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1}]:
        compare(
            lambda t, kw=kw: F.max_pool2d(t, **kw), lambda t, kw=kw: TF.max_pool2d(t, **kw), [x]
        )
        compare(
            lambda t, kw=kw: F.avg_pool2d(t, **kw), lambda t, kw=kw: TF.avg_pool2d(t, **kw), [x]
        )
    compare(
        lambda t: F.max_pool2d(t, (3, 2), dilation=(1, 2)),
        lambda t: TF.max_pool2d(t, (3, 2), dilation=(1, 2)),
        [x],
    )
    compare(
        lambda t: F.avg_pool2d(t, 3, 1, 1, count_include_pad=False),
        lambda t: TF.avg_pool2d(t, 3, 1, 1, count_include_pad=False),
        [x],
    )
    x1, w1, b1 = rand(2, 3, 9, seed=22), rand(4, 3, 3, seed=23), rand(4, seed=24)
    compare(
        lambda s, t, u: F.conv1d(s, t, u, stride=2, padding=2, dilation=2),
        lambda s, t, u: TF.conv1d(s, t, u, stride=2, padding=2, dilation=2),
        [x1, w1, b1],
        rtol=1e-10,
    )
    compare(lambda t: F.max_pool1d(t, 2), lambda t: TF.max_pool1d(t, 2), [x1])
    compare(lambda t: F.avg_pool1d(t, 3, 2, 1), lambda t: TF.avg_pool1d(t, 3, 2, 1), [x1])
    compare(lambda s, t: F.conv2d(s, t), lambda s, t: TF.conv2d(s, t), [x[0], rand(2, 3, 2, 2)])


def test_conv_errors_name_shapes_and_fix():
    x = M(rand(1, 3, 4, 4))
    with pytest.raises(mg.ShapeError, match="conv2d: input .* has 3 channels"):
        F.conv2d(x, M(rand(2, 2, 3, 3)))
    with pytest.raises(mg.ShapeError, match="larger than the padded input"):
        F.conv2d(x, M(rand(2, 3, 5, 5)))
    with pytest.raises(mg.MemogradValueError, match="padding='same' needs stride 1"):
        F.conv2d(x, M(rand(2, 3, 3, 3)), stride=2, padding="same")
    with pytest.raises(mg.MemogradValueError, match="ceil_mode"):
        F.max_pool2d(x, 2, ceil_mode=True)
    with pytest.raises(mg.MemogradValueError, match="at most half the kernel"):
        F.max_pool2d(x, 2, padding=2)


def test_one_hot_probability_targets_equal_integer_labels():
    z = rand(4, 3, seed=25)
    y = np.array([2, 0, 1, 1])
    a, b = M(z, requires_grad=True), M(z, requires_grad=True)
    F.cross_entropy(a, y).backward()
    F.cross_entropy(b, np.eye(3)[y]).backward()
    np.testing.assert_allclose(
        F.cross_entropy(M(z), np.eye(3)[y]).item(), F.cross_entropy(M(z), y).item()
    )
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())
    with pytest.raises(mg.MemogradTypeError, match=r"astype\(int\)"):
        F.cross_entropy(M(z), np.zeros(4))


def test_float32_stays_float32_through_every_family_with_numpy_float64_operands():
    """The dtype rule: NumPy arrays (float64 here) beside a float32 tensor take float32."""
    r = np.random.default_rng(0)
    x = mg.tensor(r.normal(size=(2, 3, 6, 6)), dtype="float32", requires_grad=True)
    outs = {
        "conv2d": F.conv2d(x, r.normal(size=(4, 3, 3, 3)), r.normal(size=4), padding=1),
        "conv1d": F.conv1d(x[:, :, 0], r.normal(size=(4, 3, 3))),
        "maxpool": F.max_pool2d(x, 2),
        "avgpool": F.avg_pool2d(x, 3, 1, 1, count_include_pad=False),
        "layer_norm": F.layer_norm(x, 6, r.normal(size=6), r.normal(size=6)),
        "sdpa": F.scaled_dot_product_attention(x, r.normal(size=(2, 3, 6, 6)), x),
        "ce": F.cross_entropy(x[:, :, 0, 0], [0, 1], label_smoothing=0.1),
        "ce_prob": F.cross_entropy(x[:, :, 0, 0], np.full((2, 3), 1 / 3)),
        "nll": F.nll_loss(x[:, :, 0, 0], [0, 1], weight=np.ones(3)),
        "bce": F.binary_cross_entropy(F.sigmoid(x), np.full(x.shape, 0.3)),
        "bcel": F.binary_cross_entropy_with_logits(
            x, np.full(x.shape, 0.3), pos_weight=np.full(6, 2.0)
        ),
        "einsum": F.einsum("nchw,hw->nc", x, r.normal(size=(6, 6))),
        "dot": F.dot(x, r.normal(size=(6, 2))),
        "outer": F.outer(x[0, 0, 0], r.normal(size=3)),
        "kron": F.kron(x[0, 0], r.normal(size=(2, 2))),
        "pad": F.pad(x, 1, constant_values=2.0),
        "diag": F.diag(x[0, 0, 0]),
        "norm": F.norm(x, 3, axis=1),
        "prod": F.prod(x, axis=1),
        "cumprod": F.cumprod(x, axis=1),
        "sort": F.sort(x),
        "gelu": F.gelu(x, "none"),
        "softplus": F.softplus(x),
        "elu": F.elu(x),
        "hypot": F.hypot(x, np.float64(2)),
        "erf": F.erf(x),
        "index_add": F.index_add(x, 1, [0, 0], np.ones((2, 2, 6, 6))),
        "masked": F.masked_fill(x, x.data > 0, np.float64(1.5)),
        "diff": F.diff(x, prepend=np.float64(1.0)),
        "tril": F.tril(x),
        "take": F.take(x, [1], axis=2),
    }
    assert {k: str(v.dtype) for k, v in outs.items() if v.dtype != np.float32} == {}
    sum(o.sum() for o in outs.values()).backward()
    assert x.grad.dtype == np.float32 and np.all(np.isfinite(x.grad.numpy()))
