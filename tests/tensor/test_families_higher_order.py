"""Second derivatives through the op families' functions (rows and composites), at the points where
a formula is easiest to get wrong (zeros in products, ties avoided, masks, padding), against
central differences of the first-order gradient: ``backward(create_graph=True)`` then a second
backward gives H·v. Every row of the table is also checked by tests/tensor/test_table.py."""

import inspect

import numpy as np
import pytest

import memograd as mg

F = mg.tensor
EPS = 1e-6
pytestmark = pytest.mark.skipif(
    "create_graph" not in inspect.signature(mg.Tensor.backward).parameters,
    reason="backward(create_graph=True) not available",
)


def rand(*shape, seed=0, low=-1.5, high=1.5):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def with_zeros(*shape, count=1):
    x = rand(*shape, seed=1, low=0.5, high=1.5)
    x.reshape(-1)[[1, 6][:count]] = 0.0
    return x


def distinct(*shape):
    n = int(np.prod(shape))
    return (np.random.default_rng(2).permutation(n) / n - 0.45).reshape(shape) * 3


W34 = rand(3, 4, seed=5)
KERNEL = rand(2, 1, 2, 2, seed=6)
CASES = {
    "prod one zero": (lambda t: F.prod(t, axis=1), with_zeros(3, 4)),
    "prod two zeros": (lambda t: F.prod(t), with_zeros(3, 4, count=2)),
    "prod keepdims": (lambda t: F.prod(t, axis=(0, 1), keepdims=True), with_zeros(3, 4)),
    "cumprod one zero": (lambda t: F.cumprod(t, axis=1), with_zeros(3, 4)),
    "cumprod no zero": (lambda t: F.cumprod(t, axis=0), rand(3, 4, low=0.5)),
    "cumsum": (lambda t: F.cumsum(t, axis=-1), rand(3, 4)),
    "sort": (lambda t: F.sort(t, axis=0), distinct(3, 4)),
    "topk": (lambda t: F.topk(t, 2)[0], distinct(3, 4)),
    "norm 2": (lambda t: F.norm(t, axis=1), rand(3, 4)),
    "norm 3": (lambda t: F.norm(t, 3, axis=0), rand(3, 4)),
    "norm fro": (lambda t: F.norm(t, "fro"), rand(3, 4)),
    "diff": (lambda t: F.diff(t, 2, axis=1, prepend=0.5), rand(3, 4)),
    "einsum diagonal": (lambda t: F.einsum("ii->i", t), rand(3, 3)),
    "einsum sum": (lambda t: F.einsum("ij,jk->k", t, W34), rand(2, 3)),
    "kron": (lambda t: F.kron(t, W34[:2, :2]), rand(2, 3)),
    "tensordot": (lambda t: F.tensordot(t, t, ([0], [0])), rand(3, 4)),
    "trace offset": (lambda t: F.trace(t, 1) * t, rand(3, 4)),
    "pad reflect": (lambda t: F.pad(t, ((1, 2), (2, 1)), "reflect"), rand(3, 4)),
    "roll tile repeat": (
        lambda t: F.repeat(F.tile(F.roll(t, 1, 0), (1, 2)), 2, axis=0),
        rand(3, 4),
    ),
    "tril": (lambda t: F.tril(t, -1) + F.triu(t * t), rand(3, 4)),
    "take repeats": (lambda t: F.take(t, [0, 2, 2], axis=1), rand(3, 4)),
    "take_along_axis": (lambda t: F.take_along_axis(t, np.array([[0, 3, 3]]), 1), rand(3, 4)),
    "index_add": (lambda t: F.index_add(t, 1, [0, 0], t[:, :2] * t[:, 1:3]), rand(3, 4)),
    "scatter_add": (
        lambda t: F.scatter_add(t, 0, np.array([[0, 0, 2, 1]]), t[:1] ** 2),
        rand(3, 4),
    ),
    "masked_fill": (lambda t: F.masked_fill(t, W34 > 0, 0.5), rand(3, 4)),
    "softplus": (lambda t: F.softplus(t, 2.0), rand(3, 4)),
    "elu selu": (lambda t: F.elu(t) + F.selu(t), rand(3, 4)),
    "gelu exact": (lambda t: F.gelu(t, "none"), rand(3, 4)),
    "mish silu": (lambda t: F.mish(t) * F.silu(t), rand(3, 4)),
    "logsigmoid softsign": (lambda t: F.logsigmoid(t) + F.softsign(t), rand(3, 4)),
    "glu": (lambda t: F.glu(t), rand(3, 4)),
    "nll_loss weight": (lambda t: F.nll_loss(t, [0, 3, 1], weight=np.arange(1.0, 5)), rand(3, 4)),
    "binary_cross_entropy": (lambda t: F.binary_cross_entropy(F.sigmoid(t), W34 > 0), rand(3, 4)),
    "cross_entropy probs smoothing": (
        lambda t: F.cross_entropy(t, np.full((3, 4), 0.25), label_smoothing=0.1),
        rand(3, 4),
    ),
    "cross_entropy weight ignore": (
        lambda t: F.cross_entropy(t, [1, -100, 3], weight=np.arange(1.0, 5), label_smoothing=0.2),
        rand(3, 4),
    ),
    "bce_with_logits pos_weight": (
        lambda t: F.binary_cross_entropy_with_logits(t, W34 > 0, pos_weight=np.arange(1.0, 5)),
        rand(3, 4),
    ),
    "layer_norm": (lambda t: F.layer_norm(t, 4, W34[0], W34[1]), rand(3, 4)),
    "attention causal": (
        lambda t: F.scaled_dot_product_attention(t, t, t, is_causal=True),
        rand(3, 4),
    ),
    "conv2d": (
        lambda t: F.conv2d(t.reshape(1, 2, 2, 3), KERNEL, stride=(1, 2), padding=1, groups=2),
        rand(3, 4),
    ),
    "conv1d dilation": (
        lambda t: F.conv1d(t.reshape(1, 3, 4), KERNEL[:, :, 0, :].repeat(3, 1)),
        rand(3, 4),
    ),
    "max_pool2d": (lambda t: F.max_pool2d(t.reshape(1, 1, 3, 4), 2, 1), distinct(3, 4)),
    "avg_pool2d": (lambda t: F.avg_pool2d(t.reshape(1, 1, 3, 4), 3, 1, 1, False), rand(3, 4)),
}


def first_grad(fn, x, w):
    t = mg.tensor(x, requires_grad=True)
    out = fn(t)
    (out * out * w).sum().backward()
    return t.grad.numpy()


@pytest.mark.parametrize("name", sorted(CASES))
def test_hessian_vector_products_match_differences_of_gradients(name):
    fn, x = CASES[name]
    w = np.random.default_rng(7).normal(size=fn(mg.tensor(x)).shape)
    v = np.random.default_rng(8).normal(size=x.shape)
    t = mg.tensor(x, requires_grad=True)
    out = fn(t)
    (out * out * w).sum().backward(create_graph=True)
    g = t.grad
    t.grad = None
    (g * v).sum().backward()
    want = (first_grad(fn, x + EPS * v, w) - first_grad(fn, x - EPS * v, w)) / (2 * EPS)
    np.testing.assert_allclose(t.grad.numpy(), want, rtol=1e-4, atol=1e-6)
