"""The scalar engine (Value, scalar.nn.MLP) and the tensor engine agree on the same small MLP, loss
and gradients, to 1e-10 in float64; and both agree with a hand-written NumPy backprop."""

import numpy as np
import pytest

import memograd as mg
from memograd.scalar.nn import MLP

ACTS = {
    "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "relu": lambda z: np.maximum(z, 0),
}


def weights_of(mlp):
    """Per layer: W (nin, nout) with W[i, j] = w_{i+1, j+1}^k and b (nout,)."""
    out = []
    for layer in mlp.layers:
        W = np.array([[w.data for w in n.w] for n in layer.neurons]).T
        b = np.array([n.b.data for n in layer.neurons])
        out.append((W, b))
    return out


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_same_mlp_same_loss_and_gradients(activation):
    mlp = MLP(3, [4, 4, 2], activation=activation, seed=7)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))

    # scalar engine: L = mean over samples and outputs of (o - y)^2
    terms = []
    for x, y in zip(X, Y):
        outs = mlp(list(x))
        terms += [(o - float(t)) ** 2 for o, t in zip(outs, y)]
    L = terms[0]
    for t in terms[1:]:
        L = L + t
    L = L / len(terms)
    mlp.zero_grad()
    L.backward()

    # tensor engine on the same weights
    params = []
    for W, b in weights_of(mlp):
        params += [mg.tensor(W, True, "float64"), mg.tensor(b, True, "float64")]
    h = mg.tensor(X)
    for k in range(0, len(params), 2):
        h = h @ params[k] + params[k + 1]
        if k < len(params) - 2:
            h = getattr(h, activation)()
    Lt = mg.tensor.mse(h, Y)
    Lt.backward()

    assert Lt.item() == pytest.approx(L.data, abs=1e-10)
    for layer, (W, b) in zip(mlp.layers, zip(params[0::2], params[1::2])):
        gW = np.array([[w.grad for w in n.w] for n in layer.neurons]).T
        gb = np.array([n.b.grad for n in layer.neurons])
        np.testing.assert_allclose(W.grad.numpy(), gW, rtol=0, atol=1e-10)
        np.testing.assert_allclose(b.grad.numpy(), gb, rtol=0, atol=1e-10)

    # and a hand-written NumPy backprop of the same network
    act = ACTS[activation]
    hs, zs = [X], []
    for k, (Wk, bk) in enumerate(weights_of(mlp)):
        z = hs[-1] @ Wk + bk
        zs.append(z)
        hs.append(act(z) if k < len(mlp.layers) - 1 else z)
    g = 2 * (hs[-1] - Y) / Y.size
    for k in range(len(mlp.layers) - 1, -1, -1):
        Wk = weights_of(mlp)[k][0]
        np.testing.assert_allclose(params[2 * k].grad.numpy(), hs[k].T @ g, atol=1e-10)
        np.testing.assert_allclose(params[2 * k + 1].grad.numpy(), g.sum(0), atol=1e-10)
        if k:
            g = g @ Wk.T
            a = hs[k]
            g = g * {"tanh": 1 - a**2, "sigmoid": a * (1 - a), "relu": (a > 0) * 1.0}[activation]
