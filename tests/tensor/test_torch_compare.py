"""Values and gradients against PyTorch (float64), where torch is installed; skipped otherwise."""

import numpy as np
import pytest

import memograd as mg

torch = pytest.importorskip("torch")
F = torch.nn.functional
rng = np.random.default_rng(5)


def both(mg_f, torch_f, *arrays, atol=1e-10):
    ms = [mg.tensor(a, requires_grad=True, dtype="float64") for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out_m, out_t = mg_f(*ms), torch_f(*ts)
    np.testing.assert_allclose(out_m.numpy(), out_t.detach().numpy(), rtol=1e-10, atol=atol)
    w = rng.normal(size=out_m.shape)
    (out_m * w).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    for m, t in zip(ms, ts):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=atol)


X = rng.normal(size=(4, 5))
CASES = {
    "exp": (lambda a: a.exp(), torch.exp),
    "tanh": (lambda a: a.tanh(), torch.tanh),
    "sigmoid": (lambda a: a.sigmoid(), torch.sigmoid),
    "relu": (lambda a: a.relu(), torch.relu),
    "leaky_relu": (lambda a: a.leaky_relu(0.1), lambda a: F.leaky_relu(a, 0.1)),
    "gelu": (lambda a: a.gelu(), lambda a: F.gelu(a, approximate="tanh")),
    "abs": (lambda a: abs(a), torch.abs),
    "softmax": (lambda a: a.softmax(axis=1), lambda a: torch.softmax(a, 1)),
    "log_softmax": (lambda a: a.log_softmax(axis=0), lambda a: torch.log_softmax(a, 0)),
    "logsumexp": (lambda a: a.logsumexp(axis=1), lambda a: torch.logsumexp(a, 1)),
    "sum": (lambda a: a.sum(axis=0, keepdims=True), lambda a: a.sum(0, keepdim=True)),
    "mean": (lambda a: a.mean(axis=1), lambda a: a.mean(1)),
    "max": (lambda a: a.max(axis=1), lambda a: a.amax(1)),
    "min": (lambda a: a.min(), lambda a: a.amin()),
    "var": (lambda a: a.var(axis=0), lambda a: a.var(0, correction=0)),
    "clip": (lambda a: a.clip(-0.5, 0.5), lambda a: a.clamp(-0.5, 0.5)),
    "pow": (lambda a: abs(a) ** 1.5, lambda a: a.abs() ** 1.5),
    "transpose": (lambda a: a.T.reshape(2, 10), lambda a: a.T.reshape(2, 10)),
    "index": (lambda a: a[[0, 0, 3], 1:4], lambda a: a[[0, 0, 3], 1:4]),
    "mask": (lambda a: a[a.numpy() > 0], lambda a: a[a.detach() > 0]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_unary(name):
    both(*CASES[name], X)


def test_binary_broadcasting_and_matmul():
    a, b = rng.normal(size=(3, 1, 4)), rng.normal(size=(2, 1))
    for op in ("add", "sub", "mul", "div", "maximum", "minimum"):
        mf = getattr(mg.tensor, op)
        tf = {
            "add": torch.add,
            "sub": torch.sub,
            "mul": torch.mul,
            "div": torch.div,
            "maximum": torch.maximum,
            "minimum": torch.minimum,
        }[op]
        both(mf, tf, a, b)
    both(lambda x, y: x @ y, torch.matmul, rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5)))
    both(lambda x, y: x @ y, torch.matmul, rng.normal(size=4), rng.normal(size=(4, 5)))
    both(lambda x, y: x**y, torch.pow, rng.random((3,)) + 0.5, rng.normal(size=(2, 3)))


def test_losses():
    z, y = rng.normal(size=(6, 4)), rng.integers(0, 4, 6)
    both(lambda a: mg.tensor.cross_entropy(a, y), lambda a: F.cross_entropy(a, torch.tensor(y)), z)
    t = rng.random((6, 4))
    both(lambda a, b: mg.tensor.mse(a, b), F.mse_loss, z, t)
    both(
        lambda a, b: mg.tensor.bce_with_logits(a, b),
        F.binary_cross_entropy_with_logits,
        z,
        t,
    )


def test_concat_stack_where():
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    cond = rng.random((2, 3)) > 0.5
    both(
        lambda x, y: mg.tensor.concatenate([x, y], axis=1), lambda x, y: torch.cat([x, y], 1), a, b
    )
    both(lambda x, y: mg.tensor.stack([x, y], axis=0), lambda x, y: torch.stack([x, y], 0), a, b)
    both(
        lambda x, y: mg.tensor.where(cond, x, y),
        lambda x, y: torch.where(torch.tensor(cond), x, y),
        a,
        b,
    )
