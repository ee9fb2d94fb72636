"""Issue 10, section 3: create_graph, nested grad, hessian, hvp, jacobian, jvp, jacfwd, jacrev.

Checked against closed forms, float64 finite differences of the first-order gradient, PyTorch
(torch.func / torch.autograd.functional, when installed) and each other (jacfwd == jacrev on
random MLPs, hypothesis); the cost test counts backward passes on real graphs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import memograd as mg
from memograd.tensor import functional as F

EPS = 1e-6


def fd_jacobian(f, x):
    """Central differences of a vector function f: ndarray -> ndarray (float64)."""
    y0 = np.asarray(f(x))
    jac = np.zeros(y0.shape + x.shape)
    for idx in np.ndindex(x.shape):
        hi, lo = x.copy(), x.copy()
        hi[idx] += EPS
        lo[idx] -= EPS
        jac[(...,) + idx] = (np.asarray(f(hi)) - np.asarray(f(lo))) / (2 * EPS)
    return jac


def values(f):
    """f on Tensors -> f on arrays (no graph)."""

    def g(x):
        with mg.no_grad():
            return f(mg.tensor(x, dtype="float64")).data

    return g


def mlp(widths, seed, act="tanh"):
    """A random MLP x -> y as a function of one float64 tensor (the weights are constants)."""
    rng = np.random.default_rng(seed)
    layers = [
        (rng.normal(size=(a, b)) / np.sqrt(a), rng.normal(size=b) * 0.1)
        for a, b in zip(widths[:-1], widths[1:])
    ]

    def f(x):
        h = x
        for i, (w, b) in enumerate(layers):
            h = h @ mg.tensor(w, dtype="float64") + mg.tensor(b, dtype="float64")
            if i < len(layers) - 1:
                h = getattr(h, act)()
        return h

    return f


# ------------------------------------------------------------------------ create_graph
def test_backward_create_graph_gives_second_derivatives():
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True, dtype="float64")
    (x.tanh() * x).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad  # a Tensor with a graph
    x.grad = None
    g.sum().backward()
    xs = np.array([0.5, -1.0, 2.0])
    t = np.tanh(xs)
    want = 2 * (1 - t * t) - 2 * xs * t * (
        1 - t * t
    )  # (x tanh x)'' = 2 sech² x - 2x tanh x sech² x
    np.testing.assert_allclose(x.grad.data, want, rtol=1e-10)


def test_create_graph_third_derivative():
    x = mg.tensor([1.5], requires_grad=True, dtype="float64")
    (x**4).sum().backward(create_graph=True)
    g1 = x.grad
    x.grad = None
    g1.sum().backward(create_graph=True)
    g2 = x.grad
    x.grad = None
    g2.sum().backward()
    assert x.grad.item() == pytest.approx(24 * 1.5)  # (x⁴)''' = 24x


def test_nested_grad_is_exact_and_has_no_perturbation_confusion():
    cube = mg.grad(mg.grad(lambda x: (x * x * x).sum()))
    assert cube(np.array(1.5)) == pytest.approx(9.0)
    # d/dx [x · d/dy (x y)] = d/dx [x · x] = 2x
    assert mg.grad(lambda x: x * mg.grad(lambda y: x * y)(2.0))(1.0) == pytest.approx(2.0)
    # the classic confusion test: d/dx [x · d/dy (x + y)] = 1
    assert mg.grad(lambda x: x * mg.grad(lambda y: (x + y).sum())(3.0))(5.0) == pytest.approx(1.0)
    # the inner grad returns only its own input's adjoint, even when it is the same value
    inner = mg.grad(lambda x: (x * mg.grad(lambda y: (x * y * y).sum())(x)).sum())
    assert inner(np.array(2.0)) == pytest.approx(3 * 2 * 2.0**2)  # d/dx 2x³ = 6x²


def test_grad_result_is_differentiable_when_f_uses_parameters():
    """A gradient penalty: ||∂D/∂x||² differentiated w.r.t. D's weight (WGAN-GP's pattern)."""
    w = mg.tensor([0.7, -0.4], requires_grad=True, dtype="float64")
    x = np.array([0.3, 1.2])
    gx = mg.grad(lambda v: (v * w).tanh().sum())(x)
    assert isinstance(gx, mg.Tensor) and gx.requires_grad
    (gx * gx).sum().backward()
    want = fd_jacobian(
        lambda wv: np.sum((wv * (1 - np.tanh(x * wv) ** 2)) ** 2),  # gx = w (1 - tanh²(x w))
        w.data,
    )
    np.testing.assert_allclose(w.grad.data, want, rtol=1e-6)


def test_top_level_grad_stays_plain_and_fast():
    g = mg.grad(lambda x: (x * x).sum())(np.array([1.0, 2.0]))
    assert type(g) is np.ndarray
    g = mg.grad(lambda x: (x * x).sum())(mg.tensor([1.0, 2.0]))
    assert isinstance(g, mg.Tensor) and not g.requires_grad


def test_grad_argnums_errors():
    f = lambda x, y: (x * y).sum()  # noqa: E731
    with pytest.raises(mg.MemogradValueError, match="argnums=5.*2 positional"):
        mg.grad(f, argnums=5)(1.0, 2.0)
    with pytest.raises(mg.MemogradTypeError, match="argnums"):
        mg.grad(f, argnums="x")(1.0, 2.0)
    with pytest.raises(mg.MemogradValueError, match="twice"):
        mg.grad(f, argnums=(0, 0))(1.0, 2.0)
    assert mg.grad(f, argnums=-1)(3.0, 2.0) == pytest.approx(3.0)


def test_a_formula_that_drops_the_graph_is_refused(monkeypatch):
    from memograd.tensor.ops import TABLE, Primitive

    bad = Primitive("tanh", np.tanh, (lambda g, y, a: g * (1 - np.asarray(y) ** 2),), "y")
    monkeypatch.setitem(TABLE, "tanh", bad)
    x = mg.tensor([0.3], requires_grad=True, dtype="float64")
    x.tanh().sum().backward()  # first order: fine
    with pytest.raises(mg.GraphError, match="np.asarray"):
        x.tanh().sum().backward(create_graph=True)
    refused = Primitive("tanh", np.tanh, (lambda g, y, a: g * (1 - y * y),), "y", twice=False)
    monkeypatch.setitem(TABLE, "tanh", refused)
    with pytest.raises(mg.GraphError, match="tanh has no twice-differentiable"):
        x.tanh().sum().backward(create_graph=True)


# ------------------------------------------------------------------------ hessian, hvp
def test_hessian_and_hvp_match_finite_differences():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))

    def f(x):
        return ((x @ mg.tensor(a, dtype="float64")).tanh() * x).sum() + (x**3).sum()

    x = rng.normal(size=4)

    def g(v):
        return mg.grad(f)(v)

    h = mg.hessian(f)(x)
    np.testing.assert_allclose(h, fd_jacobian(g, x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(h, h.T, atol=1e-12)
    v = rng.normal(size=4)
    value, hv = mg.hvp(f, (x,), (v,))
    np.testing.assert_allclose(hv, h @ v, rtol=1e-10)
    assert value == pytest.approx(values(f)(x).item())


def test_hessian_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    w = rng.normal(size=(3, 2))
    x = rng.normal(size=3)

    def f_mg(t):
        return (t @ mg.tensor(w, dtype="float64")).sigmoid().log().sum() + (t * t).exp().mean()

    def f_torch(t):
        return torch.log(torch.sigmoid(t @ torch.tensor(w))).sum() + torch.exp(t * t).mean()

    want = torch.autograd.functional.hessian(f_torch, torch.tensor(x)).numpy()
    np.testing.assert_allclose(mg.hessian(f_mg)(x), want, rtol=1e-10, atol=1e-12)
    v = rng.normal(size=3)
    _, hv_t = torch.autograd.functional.hvp(f_torch, torch.tensor(x), torch.tensor(v))
    np.testing.assert_allclose(mg.hvp(f_mg, x, v)[1], hv_t.numpy(), rtol=1e-10)


def test_cross_entropy_hessian_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    z = rng.normal(size=(2, 3))
    labels = np.array([2, 0])
    h = mg.hessian(lambda t: mg.tensor.cross_entropy(t, labels))(z)
    want = torch.autograd.functional.hessian(
        lambda t: torch.nn.functional.cross_entropy(t, torch.tensor(labels)), torch.tensor(z)
    ).numpy()
    np.testing.assert_allclose(h, want, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------------ jacobians, jvp
def test_jacrev_jacfwd_jvp_on_an_mlp_against_finite_differences_and_torch():
    f = mlp([3, 5, 4], seed=3)
    x = np.random.default_rng(4).normal(size=3)
    want = fd_jacobian(values(f), x)
    np.testing.assert_allclose(mg.jacrev(f)(x), want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(mg.jacfwd(f)(x), want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(mg.jacobian(f)(x), want, rtol=1e-6, atol=1e-8)
    t = np.array([1.0, -2.0, 0.5])
    y, jt = mg.jvp(f, (x,), (t,))
    np.testing.assert_allclose(jt, want @ t, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(y, values(f)(x))
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    layers = [
        (rng.normal(size=(a, b)) / np.sqrt(a), rng.normal(size=b) * 0.1)
        for a, b in zip([3, 5], [5, 4])
    ]

    def ft(v):
        h = torch.tanh(v @ torch.tensor(layers[0][0]) + torch.tensor(layers[0][1]))
        return h @ torch.tensor(layers[1][0]) + torch.tensor(layers[1][1])

    _, jt_torch = torch.func.jvp(ft, (torch.tensor(x),), (torch.tensor(t),))
    np.testing.assert_allclose(jt, jt_torch.numpy(), rtol=1e-10)
    np.testing.assert_allclose(mg.jacfwd(f)(x), torch.func.jacfwd(ft)(torch.tensor(x)).numpy())


def test_jacobian_shapes_and_argnums():
    def f(a, b):
        return (a[:, None] * b[None, :]).tanh()  # (2, 3) output

    a, b = np.array([0.1, 0.2]), np.array([0.3, -0.4, 0.5])
    ja, jb = mg.jacrev(f, argnums=(0, 1))(a, b)
    assert ja.shape == (2, 3, 2) and jb.shape == (2, 3, 3)
    fa, fb = mg.jacfwd(f, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(fa, ja, atol=1e-12)
    np.testing.assert_allclose(fb, jb, atol=1e-12)
    t = mg.tensor(a)
    assert isinstance(mg.jacrev(lambda v: v * 2)(t), mg.Tensor)


def test_jvp_errors():
    with pytest.raises(mg.ShapeError, match="tangent 0 has shape"):
        mg.jvp(lambda x: x * 2, (np.ones(3),), (np.ones(2),))
    with pytest.raises(mg.MemogradValueError, match="one tangent per primal"):
        mg.jvp(lambda x: x * 2, (np.ones(3),), (np.ones(3), np.ones(3)))


@settings(max_examples=15, deadline=None)
@given(
    widths=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    seed=st.integers(0, 2**16),
    act=st.sampled_from(["tanh", "sigmoid", "relu"]),
)
def test_jacfwd_equals_jacrev_on_random_mlps(widths, seed, act):
    f = mlp(widths, seed, act)
    x = np.random.default_rng(seed).normal(size=widths[0])
    jr, jf = mg.jacrev(f)(x), mg.jacfwd(f)(x)
    assert jr.shape == (widths[-1], widths[0])
    np.testing.assert_allclose(jf, jr, rtol=1e-10, atol=1e-12)
    if act != "relu":  # away from kinks the finite differences are exact enough
        np.testing.assert_allclose(jr, fd_jacobian(values(f), x), rtol=1e-5, atol=1e-7)


@settings(max_examples=10, deadline=None)
@given(widths=st.lists(st.integers(1, 4), min_size=2, max_size=3), seed=st.integers(0, 2**16))
def test_hvp_equals_hessian_times_vector_on_random_mlps(widths, seed):
    f = mlp(widths, seed)

    def loss(x):
        return (f(x) ** 2).sum()

    rng = np.random.default_rng(seed)
    x, v = rng.normal(size=widths[0]), rng.normal(size=widths[0])
    h = mg.hessian(loss)(x)
    np.testing.assert_allclose(mg.hvp(loss, x, v)[1], h @ v, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(h, fd_jacobian(lambda u: mg.grad(loss)(u), x), rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------------ cost: passes
@pytest.mark.parametrize("widths", [[2, 3, 3, 1], [3, 4, 4, 2], [1, 5, 6]])
def test_forward_mode_one_pass_per_input_reverse_one_per_output(widths):
    f = mlp(widths, seed=5)
    x = np.random.default_rng(5).normal(size=widths[0])
    with F.counting() as rev:
        mg.jacrev(f)(x)
    with F.counting() as fwd:
        mg.jacfwd(f)(x)
    costs = F.mode_costs(widths)
    assert rev.forwards == 1 and fwd.forwards == 1
    assert rev.passes == costs["reverse_passes"] == widths[-1]
    # forward mode: one pass per input over the recorded linear map, +1 pass that records it
    assert fwd.passes == costs["forward_passes"] + 1 == widths[0] + 1
    # every reverse pass sweeps the same graph: the same edges each time
    assert rev.edges % rev.passes == 0


def test_mode_costs_table():
    c = F.mode_costs([784, 256, 256, 10])
    assert c["edges"] == 784 * 256 + 256 * 256 + 256 * 10
    assert c["forward_work"] == 784 * c["edges"] and c["reverse_work"] == 10 * c["edges"]
    assert c["paths"] == 784 * 256 * 256 * 10
    assert c["reverse_work"] < c["forward_work"] < c["naive_work"]
    with pytest.raises(mg.MemogradValueError, match="widths"):
        F.mode_costs([3])
