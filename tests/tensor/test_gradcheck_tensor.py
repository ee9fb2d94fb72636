"""mg.gradcheck on tensors: agrees with an independent finite-difference helper, catches a wrong
VJP, checks large inputs along random directions only."""

import numpy as np
import pytest

import memograd as mg
from memograd.gradcheck import GradcheckError
from memograd.tensor import TABLE
from memograd.tensor.ops import Primitive

from .helpers import numeric_grads

rng = np.random.default_rng(3)


def test_numeric_part_matches_independent_helper():
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(3,))

    def f(x, y):
        return ((x * y).tanh() @ y).sum()

    result = mg.gradcheck(f, [a, b])
    want = np.concatenate([g.reshape(-1) for g in numeric_grads(f, [a, b])])
    np.testing.assert_allclose(result.numeric, want, rtol=1e-8, atol=1e-10)
    assert result.ok and len(result.labels) == 9 and result.labels[0] == "inputs[0][0, 0]"


def test_a_wrong_vjp_is_caught(monkeypatch):
    good = TABLE["tanh"]
    wrong = Primitive("tanh", np.tanh, (lambda g, y, a: g * (1 - y),), "y")  # forgot the square
    monkeypatch.setitem(TABLE, "tanh", wrong)
    with pytest.raises(GradcheckError, match=r"inputs\[0\]"):
        mg.gradcheck(lambda x: x.tanh().sum(), [rng.normal(size=4)])
    monkeypatch.setitem(TABLE, "tanh", good)
    assert mg.gradcheck(lambda x: x.tanh().sum(), [rng.normal(size=4)]).ok


def test_large_inputs_use_random_directions_only():
    x = rng.normal(size=(40, 40))
    result = mg.gradcheck(lambda t: (t * t).sum(), [mg.tensor(x)])
    assert result.ok and np.isnan(result.numeric).all() and len(result.directional) == 2
    for num, ana in result.directional:
        assert num == pytest.approx(ana, rel=1e-6)


def test_non_scalar_output_is_reported():
    with pytest.raises(mg.MemogradTypeError, match="size-1 Tensor"):
        mg.gradcheck(lambda t: t * 2, [np.ones(3)])
