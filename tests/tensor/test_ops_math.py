"""The elementwise rows of ops_math: every unary and binary op over hypothesis shapes (0-size and
1-size dims, broadcasting both ways) against float64 central differences and against PyTorch."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import memograd as mg
from memograd.tensor import TABLE

from .helpers import assert_grads_match
from .torch_ref import compare, needs_torch, torch

M = mg.tensor
SETTINGS = settings(max_examples=8, deadline=None)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
pairs = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3
)


def draw(shape, low, high, seed, avoid=()):
    x = np.random.default_rng(seed).uniform(low, high, size=shape)
    for p in avoid:  # keep central differences away from jumps and kinks
        close = np.abs(x - p) < 0.05
        x[close] = p + 0.1
    return x


def torch_fn(name):
    alias = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh"}
    alias |= {"arccosh": "acosh", "arctanh": "atanh", "arctan2": "atan2"}
    return None if torch is None else getattr(torch, alias.get(name, name))


# name -> (domain low, high, points to keep away from)
UNARY = {
    "sin": (-3, 3, ()),
    "cos": (-3, 3, ()),
    "tan": (-1.2, 1.2, ()),
    "arcsin": (-0.9, 0.9, ()),
    "arccos": (-0.9, 0.9, ()),
    "arctan": (-3, 3, ()),
    "sinh": (-2, 2, ()),
    "cosh": (-2, 2, ()),
    "arcsinh": (-3, 3, ()),
    "arccosh": (1.1, 3, ()),
    "arctanh": (-0.9, 0.9, ()),
    "log1p": (-0.9, 3, ()),
    "expm1": (-2, 2, ()),
    "log2": (0.1, 3, ()),
    "log10": (0.1, 3, ()),
    "exp2": (-2, 2, ()),
    "erf": (-2, 2, ()),
    "deg2rad": (-200, 200, ()),
    "rad2deg": (-3, 3, ()),
    "nan_to_num": (-2, 2, ()),
    "sinc": (-2.5, 2.5, (-2, -1, 1, 2)),
}
STEPS = {"sign": (0.0,), "floor": (-2, -1, 0, 1, 2), "ceil": (-2, -1, 0, 1, 2)}
STEPS["round"] = (-1.5, -0.5, 0.5, 1.5)
BINARY = {  # name -> (a range, b range)
    "logaddexp": ((-3, 3), (-3, 3)),
    "arctan2": ((-2, 2), (0.3, 2)),
    "hypot": ((0.2, 2), (-2, -0.2)),
    "remainder": ((-3, 3), (0.7, 1.3)),
    "fmax": ((-2, 2), (-2, 2)),
    "fmin": ((-2, 2), (-2, 2)),
}


def test_every_row_of_the_family_is_in_the_table_and_tested():
    assert set(UNARY) | set(STEPS) | set(BINARY) <= set(TABLE)
    from memograd.tensor import ops_math

    assert set(ops_math.__all__) == set(UNARY) | set(STEPS) | set(BINARY)


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_unary_against_central_differences(name, shape, seed):
    low, high, avoid = UNARY[name]
    x = draw(shape, low, high, seed, avoid)
    w = np.random.default_rng(seed + 1).normal(size=shape)
    fn = getattr(mg.tensor, name)
    assert_grads_match(lambda t: (fn(t) * w).sum(), [x], rtol=1e-4, atol=1e-6)
    ref = np.vectorize(math.erf, otypes=[float])(x) if name == "erf" else getattr(np, name)(x)
    np.testing.assert_allclose(fn(M(x)).numpy(), ref, rtol=1e-12, atol=1e-15)


@needs_torch
@pytest.mark.parametrize("name", sorted(UNARY) + sorted(STEPS))
@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_unary_against_torch(name, shape, seed):
    low, high, avoid = UNARY.get(name, (-3, 3, STEPS.get(name, ())))
    x = draw(shape, low, high, seed, avoid)
    compare(getattr(mg.tensor, name), torch_fn(name), [x])


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(pair=pairs, seed=st.integers(0, 2**16))
def test_binary_broadcasting_against_central_differences(name, pair, seed):
    (alo, ahi), (blo, bhi) = BINARY[name]
    sa, sb = pair.input_shapes
    a, b = draw(sa, alo, ahi, seed), draw(sb, blo, bhi, seed + 1)
    if name == "remainder":  # keep a/b away from the integers where the remainder jumps
        b = np.abs(b)
        q = a / b
        a = np.where(np.abs(q - np.round(q)) < 0.1, a + 0.3 * b, a)
    fn = getattr(mg.tensor, name)
    w = np.random.default_rng(seed + 2).normal(size=pair.result_shape)
    assert_grads_match(lambda s, t: (fn(s, t) * w).sum(), [a, b], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fn(M(a), M(b)).numpy(), getattr(np, name)(a, b), rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(pair=pairs, seed=st.integers(0, 2**16))
def test_binary_against_torch(name, pair, seed):
    (alo, ahi), (blo, bhi) = BINARY[name]
    sa, sb = pair.input_shapes
    a, b = draw(sa, alo, ahi, seed), draw(sb, blo, bhi, seed + 1)
    compare(getattr(mg.tensor, name), torch_fn(name), [a, b])


@pytest.mark.parametrize("name", sorted(STEPS))
def test_piecewise_constant_ops_have_zero_gradient_even_at_their_jumps(name):
    x = M(np.array([-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.5]), requires_grad=True)
    y = getattr(mg.tensor, name)(x)
    (y * 3.0).sum().backward()
    assert np.array_equal(x.grad.numpy(), np.zeros(7))
    np.testing.assert_array_equal(y.numpy(), getattr(np, name)(x.numpy()))


def test_round_decimals_and_methods():
    x = M([1.2345, -2.5551], dtype="float64")
    np.testing.assert_array_equal(x.round(2).numpy(), np.round(x.numpy(), 2))
    np.testing.assert_allclose(x.sin().numpy(), np.sin(x.numpy()))
    np.testing.assert_allclose(x.hypot(1.0).numpy(), np.hypot(x.numpy(), 1.0))
    with pytest.raises(mg.MemogradTypeError, match="decimals"):
        mg.tensor.round(x, 1.5)


def test_special_points_follow_the_documented_limits():
    x = M(np.array([0.0, 1.0]), requires_grad=True)
    mg.tensor.sinc(x).sum().backward()  # sinc'(0) = 0, sinc'(1) = cos(π)/1 - 0 = -1
    np.testing.assert_allclose(x.grad.numpy(), [0.0, -1.0], atol=1e-15)
    z = M(np.array([np.nan, np.inf, -np.inf, 2.0]), requires_grad=True)
    y = mg.tensor.nan_to_num(z, nan=0.5, posinf=9.0, neginf=-9.0)
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), [0.5, 9.0, -9.0, 2.0])
    np.testing.assert_array_equal(z.grad.numpy(), [0.0, 0.0, 0.0, 1.0])
    a = M(np.array([np.nan, 1.0, 2.0]), requires_grad=True)
    b = M(np.array([1.0, np.nan, 2.0]), requires_grad=True)
    mg.tensor.fmax(a, b).sum().backward()  # nan is ignored; a tie halves
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 1.0, 0.5])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 0.0, 0.5])


def test_float32_stays_float32_and_integers_become_float32():
    for name, (low, high, _) in UNARY.items():
        x = M([low + (high - low) / 3, high - (high - low) / 3])
        assert getattr(mg.tensor, name)(x).dtype == np.float32, name
    x = M([0.5, 1.5])
    assert mg.tensor.sin(M(np.array([1, 2]))).dtype == np.float32
    assert mg.tensor.floor(M(np.array([1, 2]))).dtype == np.int64
    assert mg.tensor.logaddexp(x, np.float64(2.0)).dtype == np.float32


def test_the_family_list_names_exactly_the_rows_each_module_registers():
    import importlib

    from memograd.tensor.ops import TABLE as table

    from .families import FAMILY_ROWS

    for module, rows in FAMILY_ROWS.items():
        mod = importlib.import_module(f"memograd.tensor.{module}")
        mine = {n for n, p in table.items() if p.forward.__module__ == mod.__name__}
        mine |= {n for n in rows if getattr(table[n].forward, "__module__", "") == "numpy"}
        assert rows <= set(table), rows - set(table)
        assert {n for n in mine if n not in rows} == set(), module
