"""Issue 10, section 1: the eight classes of wrong results and crashes, each fixed as a class.

Every test here failed before the fix (the number is the issue's); references are closed forms,
float64 central differences and PyTorch (when installed)."""

from __future__ import annotations

import numpy as np
import pytest

import memograd as mg

from .helpers import assert_grads_match


def _torch():
    return pytest.importorskip("torch")


def grad_of(f, x):
    t = mg.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    f(t).backward()
    return t.grad.data


# 1. x ** 0 at 0, a ** b at (0, 0): the derivative of a constant is 0, never nan
def test_pow_zero_exponent_at_zero_has_zero_gradient():
    np.testing.assert_array_equal(grad_of(lambda x: (x**0).sum(), [0.0, 1.0]), [0.0, 0.0])
    a = mg.tensor([0.0, 2.0], requires_grad=True, dtype="float64")
    b = mg.tensor([0.0, 0.0], requires_grad=True, dtype="float64")
    (a**b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.0])
    np.testing.assert_array_equal(b.grad.data, [0.0, np.log(2.0)])  # ∂/∂b = a^b log a; 0 at a=0
    assert mg.Value(0.0) ** 0  # the scalar engine agrees (its gradient was already 0)


def test_pow_second_derivative_stays_finite_at_zero():
    """The untaken branch of the safe where stays finite, so create_graph gives 0, not nan."""
    a = mg.tensor([0.0, 1.5], requires_grad=True, dtype="float64")
    b = mg.tensor([0.0, 0.0], dtype="float64")
    (a**b).sum().backward(create_graph=True)
    g = a.grad
    a.grad = None
    g.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.0])
    assert mg.hessian(lambda x: (x**0.0).sum())(np.array([0.0, 2.0])).tolist() == [[0, 0], [0, 0]]


def test_pow_matches_torch_at_zero():
    torch = _torch()
    a = torch.tensor([0.0, 0.0, 2.0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([0.0, 2.0, 0.0], dtype=torch.float64, requires_grad=True)
    (a**b).sum().backward()
    ma = mg.tensor([0.0, 0.0, 2.0], requires_grad=True, dtype="float64")
    mb = mg.tensor([0.0, 2.0, 0.0], requires_grad=True, dtype="float64")
    (ma**mb).sum().backward()
    np.testing.assert_allclose(ma.grad.data, a.grad.numpy())
    np.testing.assert_allclose(mb.grad.data, b.grad.numpy())


# 2. std over one element or axis=(): 0, not nan (PyTorch, autograd, MyGrad agree)
@pytest.mark.parametrize("axis", [0, (), (0,)])
def test_std_of_one_element_has_zero_gradient(axis):
    a = mg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    a.std(axis=axis).sum().backward()
    np.testing.assert_array_equal(a.grad.data, np.zeros((1, 3)))


def test_std_gradient_matches_finite_differences_and_torch():
    x = np.random.default_rng(0).normal(size=(3, 4))
    assert_grads_match(lambda t: t.std(axis=1).sum(), [x])
    assert_grads_match(lambda t: t.std(axis=0, ddof=1).sum(), [x])
    torch = _torch()
    tx = torch.tensor(x, requires_grad=True)
    tx.std(dim=1, unbiased=False).sum().backward()
    np.testing.assert_allclose(grad_of(lambda t: t.std(axis=1).sum(), x), tx.grad.numpy())


# 3. nested derivatives: tests/tensor/test_higher_order.py (the issue's two examples first)
def test_nested_grad_examples_of_the_issue():
    assert mg.grad(mg.grad(lambda x: (x * x * x).sum()))(np.array(1.5)) == pytest.approx(9.0)
    assert mg.grad(lambda x: x * mg.grad(lambda y: x * y)(2.0))(1.0) == pytest.approx(2.0)


# 4. astype / double to float64
def test_astype_float64_from_float32():
    t = mg.tensor(np.ones(3), dtype="float32")
    assert t.astype("float64").dtype == np.float64
    assert t.double().dtype == np.float64
    assert t.astype("float64").float().dtype == np.float32
    w = mg.tensor(np.ones(3), dtype="float32", requires_grad=True)
    (w.double() * 2).sum().backward()
    assert w.grad.dtype == np.float32  # the adjoint is cast back
    np.testing.assert_array_equal(w.grad.data, [2, 2, 2])


# 5. concatenate / stack follow the dtype rule for NumPy operands
@pytest.mark.parametrize("join", [mg.tensor.concatenate, mg.tensor.stack])
def test_join_with_numpy_float64_array_takes_the_tensor_dtype(join):
    t = mg.tensor(np.ones(3), dtype="float32", requires_grad=True)
    out = join([t, np.arange(3.0)])  # float64 numpy array
    assert out.dtype == np.float32
    out.sum().backward()
    np.testing.assert_array_equal(t.grad.data, np.ones(3))
    with pytest.raises(mg.MemogradTypeError, match="astype"):
        join([t, mg.tensor(np.ones(3), dtype="float64")])  # two float Tensors: still refused


# 6. concatenate(axis=None) flattens forward and differentiates backward
def test_concatenate_axis_none():
    a = mg.tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    b = mg.tensor(np.arange(3.0), requires_grad=True)
    out = mg.tensor.concatenate([a, b], axis=None)
    np.testing.assert_array_equal(out.data, np.concatenate([a.data, b.data], axis=None))
    (out * mg.tensor(np.arange(7.0))).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [[0, 1], [2, 3]])
    np.testing.assert_array_equal(b.grad.data, [4, 5, 6])


# 7. axis=-1 (and 0) on 0-d tensors, as NumPy and PyTorch
@pytest.mark.parametrize(
    "op", ["sum", "mean", "max", "min", "var", "std", "softmax", "log_softmax", "logsumexp"]
)
@pytest.mark.parametrize("axis", [0, -1])
def test_axis_on_0d_tensors(op, axis):
    x = mg.tensor(2.5, requires_grad=True, dtype="float64")
    out = getattr(x, op)(axis=axis)
    want = {"var": 0.0, "std": 0.0, "softmax": 1.0, "log_softmax": 0.0}.get(op, 2.5)
    assert out.shape == () and out.item() == pytest.approx(want)
    out.backward()
    assert x.grad.shape == ()
    with pytest.raises(mg.ShapeError, match="out of range"):
        getattr(x, op)(axis=1)


def test_squeeze_0d():
    x = mg.tensor(2.0)
    assert x.squeeze(0).shape == () and x.squeeze(-1).shape == ()
    with pytest.raises(mg.ShapeError, match="out of range"):
        x.squeeze(1)  # was a raw IndexError


# 8. a[[]]: an empty integer index, as NumPy
def test_empty_index_list():
    a = mg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    out = a[[]]
    assert out.shape == np.arange(6.0).reshape(3, 2)[[]].shape == (0, 2)
    (out.sum() + a.sum()).backward()
    np.testing.assert_array_equal(a.grad.data, np.ones((3, 2)))
    with pytest.raises(mg.MemogradTypeError, match="integer or bool"):
        a[[0.5]]
