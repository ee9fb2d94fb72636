"""mg.grad, mg.value_and_grad, mg.vjp against closed forms."""

import numpy as np
import pytest

import memograd as mg
from memograd import MemogradTypeError, ShapeError


def test_grad_of_closed_form():
    f = lambda x: (x**3).sum()  # noqa: E731
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(mg.grad(f)(x), 3 * x**2)
    assert isinstance(mg.grad(f)(x), np.ndarray)
    t = mg.tensor(x)
    assert isinstance(mg.grad(f)(t), mg.Tensor)


def test_argnums_tuple_and_value():
    def f(a, b):
        return (a * b).sum() + (a**2).sum()

    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    value, (ga, gb) = mg.value_and_grad(f, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(value, (a * b).sum() + (a**2).sum())
    np.testing.assert_allclose(ga, b + 2 * a)
    np.testing.assert_allclose(gb, a)
    np.testing.assert_allclose(mg.grad(f, argnums=1)(a, b), a)


def test_grad_leaves_parameter_grads_alone():
    w = mg.tensor([2.0], requires_grad=True, dtype="float64")
    g = mg.grad(lambda x: (x * w).sum())(np.array([3.0]))
    np.testing.assert_allclose(g, [2.0])
    assert w.grad is None


def test_unused_input_gets_zero_gradient():
    g = mg.grad(lambda x, y: (x * 2).sum(), argnums=1)(mg.tensor(np.ones(2)), np.ones(3))
    np.testing.assert_array_equal(g, np.zeros(3))


def test_vjp_matches_jacobian_and_can_be_called_twice():
    A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    y, f_vjp = mg.vjp(lambda x: mg.tensor(A) @ x.tanh(), np.array([0.1, -0.3]))
    x = np.array([0.1, -0.3])
    J = A * (1 - np.tanh(x) ** 2)  # ∂y/∂x
    for ybar in (np.array([1.0, 0.0, 0.0]), np.array([0.5, -1.0, 2.0])):
        (gx,) = f_vjp(ybar)
        np.testing.assert_allclose(gx, ybar @ J)
    np.testing.assert_allclose(y, A @ np.tanh(x))
    with pytest.raises(ShapeError, match="cotangent"):
        f_vjp(np.ones(2))


def test_errors():
    with pytest.raises(ShapeError, match="must return a scalar"):
        mg.grad(lambda x: x * 2)(np.ones(2))
    with pytest.raises(MemogradTypeError, match="must return a Tensor"):
        mg.grad(lambda x: 1.0)(np.ones(2))
    with pytest.raises(MemogradTypeError, match="only float tensors"):
        mg.grad(lambda x: x.sum())(mg.tensor([1, 2]))


@pytest.mark.parametrize("name", ["grad", "value_and_grad", "jacrev", "jacfwd", "hessian"])
def test_transforms_refuse_what_is_not_a_function(name):
    with pytest.raises(MemogradTypeError, match=rf"{name}: f must be a function .* got int 3"):
        getattr(mg, name)(3)


@pytest.mark.parametrize("name", ["jvp", "hvp"])
def test_pushforwards_refuse_what_is_not_a_function(name):
    with pytest.raises(MemogradTypeError, match=rf"{name}: f must be a function"):
        getattr(mg, name)("f", (1.0,), (1.0,))
    with pytest.raises(MemogradTypeError, match=r"vjp: f must be a function"):
        mg.vjp(None, 1.0)
