"""gradcheck: passes on correct gradients, catches wrong ones, rejects bad input."""

import math

import numpy as np
import pytest

from memograd import MemogradTypeError, MemogradValueError, Value
from memograd.gradcheck import GradcheckError, gradcheck, numerical_gradient
from memograd.scalar import value as value_module


def test_numerical_gradient_closed_form():
    g = numerical_gradient(lambda x: x[0] ** 3 + math.sin(x[1]), [2.0, 0.5])
    assert g == pytest.approx([12.0, math.cos(0.5)], rel=1e-9)
    m = numerical_gradient(lambda x: float(np.sum(x**2)), np.ones((2, 3)))
    assert m.shape == (2, 3) and np.allclose(m, 2.0)


def test_gradcheck_passes_on_engine_ops():
    def f(a, b, c):
        return (a * b).tanh() + (c**2 + 1).log() * a.sigmoid() - b / (c + 3) + a**b

    r = gradcheck(f, [0.7, 1.3, Value(-0.4, "c")])
    assert r.ok and r.max_abs_error < 1e-7 and r.labels == ["inputs[0]", "inputs[1]", "c"]
    assert len(r.directional) == 2 and r.to_dict()["ok"] is True


def test_gradcheck_catches_a_wrong_rule(monkeypatch):
    rule = value_module._D["sin"]
    monkeypatch.setitem(value_module._D, "sin", lambda x, z: (2 * rule(x, z)[0],))
    with pytest.raises(GradcheckError, match=r"gradient wrt x is .* by backprop but .* central"):
        gradcheck(lambda x: x.sin(), [Value(0.3, "x")])
    r = gradcheck(lambda x: x.sin(), [0.3], raise_exception=False)
    assert not r.ok and r.analytic[0] == pytest.approx(2 * r.numeric[0], rel=1e-6)


def test_gradcheck_bad_input():
    with pytest.raises(MemogradValueError, match="no inputs"):
        gradcheck(lambda: Value(1.0), [])
    with pytest.raises(MemogradTypeError, match="must return a Value"):
        gradcheck(lambda x: 3.0, [1.0])
    with pytest.raises(MemogradTypeError, match="no adapter"):
        gradcheck(lambda x: x, ["a"])
    with pytest.raises(MemogradValueError, match="finite"):
        gradcheck(lambda x: x, [math.inf])
    with pytest.raises(MemogradValueError, match="eps"):
        gradcheck(lambda x: x, [1.0], eps=0)
