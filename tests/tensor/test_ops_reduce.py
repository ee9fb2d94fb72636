"""Reductions and scans (ops_reduce): prod, cumsum, cumprod, argmax/argmin, sort, argsort, topk,
norm, diff, with NumPy's axis/keepdims over hypothesis shapes, against central differences, NumPy
values and PyTorch gradients; the non-differentiable points follow the documented rules."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import memograd as mg

from .helpers import assert_grads_match
from .torch_ref import compare, needs_torch, torch

M = mg.tensor
SETTINGS = settings(max_examples=10, deadline=None)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
nonempty = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def distinct(shape, seed):
    """Distinct values (no ties), away from 0, so sorts and maxima are unambiguous."""
    n = int(np.prod(shape))
    v = np.random.default_rng(seed).permutation(np.linspace(0.5, 2.0, n))
    signs = np.random.default_rng(seed + 1).choice([-1.0, 1.0], size=n)
    return (v * signs).reshape(shape)


@st.composite
def axis_args(draw, shape_strategy=shapes):
    shape = draw(shape_strategy)
    nd = len(shape)
    axis = draw(st.none() | st.integers(-max(nd, 1), max(nd, 1) - 1))
    if nd == 0 and axis is not None:
        axis = draw(st.sampled_from([0, -1]))
    return shape, axis, draw(st.booleans())


@SETTINGS
@given(args=axis_args(), seed=st.integers(0, 999))
def test_prod_over_axes(args, seed):
    shape, axis, keepdims = args
    x = distinct(shape, seed)
    ref = np.prod(x, axis=None if x.ndim == 0 else axis, keepdims=keepdims)
    out = mg.tensor.prod(M(x), axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.numpy(), ref)
    w = np.random.default_rng(seed).normal(size=ref.shape)
    assert_grads_match(lambda t: (t.prod(axis=axis, keepdims=keepdims) * w).sum(), [x])


@pytest.mark.parametrize("zeros", [1, 2, 3])
def test_prod_and_cumprod_are_exact_with_zeros(zeros):
    x = np.array([[2.0, 3.0, 5.0, 7.0], [1.5, -2.0, 0.5, 4.0]])
    x[0, [1, 3, 0][:zeros]] = 0.0
    assert_grads_match(lambda t: (t.prod(axis=1) * np.array([1.0, 2.0])).sum(), [x])
    w = np.arange(8.0).reshape(2, 4) - 3
    assert_grads_match(lambda t: (t.cumprod(axis=1) * w).sum(), [x])
    t = M(x, requires_grad=True)
    t.prod().backward()
    assert np.all(np.isfinite(t.grad.numpy()))
    want = np.zeros_like(x)
    if zeros == 1:  # the one zero gets the product of all the others, the rest 0
        want[0, 1] = np.prod(np.delete(x.reshape(-1), 1))
    np.testing.assert_array_equal(t.grad.numpy(), want)


def test_prod_with_one_zero_gives_the_product_of_the_others():
    t = M(np.array([2.0, 0.0, 5.0]), requires_grad=True)
    t.prod().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 10.0, 0.0])


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@SETTINGS
@given(args=axis_args(), seed=st.integers(0, 999))
def test_scans(name, args, seed):
    shape, axis, _ = args
    x = distinct(shape, seed)
    ref = getattr(np, name)(x, axis=None if x.ndim == 0 else axis)
    out = getattr(mg.tensor, name)(M(x), axis=axis)
    np.testing.assert_allclose(out.numpy(), ref)
    w = np.random.default_rng(seed).normal(size=ref.shape)
    assert_grads_match(lambda t: (getattr(t, name)(axis=axis) * w).sum(), [x])


@SETTINGS
@given(args=axis_args(nonempty), seed=st.integers(0, 999))
def test_argmax_argmin_match_numpy_and_have_no_gradient(args, seed):
    shape, axis, keepdims = args
    x = distinct(shape, seed)
    for name in ("argmax", "argmin"):
        out = getattr(mg.tensor, name)(M(x, requires_grad=True), axis=axis, keepdims=keepdims)
        np.testing.assert_array_equal(out.numpy(), getattr(np, name)(x, axis, keepdims=keepdims))
        assert out.dtype == np.int64 and not out.requires_grad


@SETTINGS
@given(args=axis_args(nonempty), seed=st.integers(0, 999), descending=st.booleans())
def test_sort_and_argsort(args, seed, descending):
    shape, axis, _ = args
    axis = -1 if axis is None else axis
    x = distinct(shape, seed)
    ref = np.sort(x, axis=axis)
    ref = np.flip(ref, axis) if descending else ref
    np.testing.assert_array_equal(mg.tensor.sort(M(x), axis, descending).numpy(), ref)
    order = mg.tensor.argsort(M(x), axis, descending).numpy()
    np.testing.assert_array_equal(np.take_along_axis(x, order, axis), ref)
    w = np.random.default_rng(seed).normal(size=shape)
    assert_grads_match(lambda t: (mg.tensor.sort(t, axis, descending) * w).sum(), [x])


def test_sort_gradient_goes_through_the_permutation_ties_in_order():
    x = M(np.array([3.0, 1.0, 3.0, 2.0]), requires_grad=True)
    y = mg.tensor.sort(x)  # [1, 2, 3, 3]; the tied 3s keep their order (stable)
    (y * M(np.array([10.0, 20.0, 30.0, 40.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [30.0, 10.0, 40.0, 20.0])
    assert mg.tensor.sort(M(np.array([[2.0, 1.0]])), axis=None).shape == (2,)


@SETTINGS
@given(shape=nonempty, seed=st.integers(0, 999), largest=st.booleans(), data=st.data())
def test_topk(shape, seed, largest, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    k = data.draw(st.integers(0, shape[axis]))
    x = distinct(shape, seed)
    values, idx = mg.tensor.topk(M(x), k, axis=axis, largest=largest)
    order = np.argsort(-x if largest else x, axis=axis)
    want = np.take(order, np.arange(k), axis=axis)
    np.testing.assert_array_equal(idx.numpy(), want)
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(x, want, axis))
    w = np.random.default_rng(seed).normal(size=values.shape)
    assert_grads_match(lambda t: (t.topk(k, axis, largest)[0] * w).sum(), [x])


VECTOR_ORDS = [None, 2, 1, 3, 0.5, np.inf, -np.inf]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
@SETTINGS
@given(args=axis_args(nonempty), seed=st.integers(0, 999))
def test_vector_norms(ord, args, seed):
    shape, axis, keepdims = args
    x = distinct(shape, seed)
    if axis is None:
        x, axis = x.reshape(-1), 0
    ref = np.linalg.norm(x, ord, axis, keepdims)
    out = mg.tensor.norm(M(x), ord, axis, keepdims)
    np.testing.assert_allclose(out.numpy(), ref)
    w = np.random.default_rng(seed).normal(size=ref.shape)
    assert_grads_match(lambda t: (t.norm(ord, axis, keepdims) * w).sum(), [x], rtol=1e-4)


@pytest.mark.parametrize("ord", [None, "fro", 1, -1, np.inf, -np.inf])
@pytest.mark.parametrize("keepdims", [False, True])
def test_matrix_norms(ord, keepdims):
    x = distinct((2, 3, 4), 7)
    for axis in [(0, 1), (2, 0), (-1, -2)]:
        ref = np.linalg.norm(x, ord, axis, keepdims)
        np.testing.assert_allclose(mg.tensor.norm(M(x), ord, axis, keepdims).numpy(), ref)
        w = np.random.default_rng(1).normal(size=ref.shape)
        assert_grads_match(lambda t, a=axis, w=w: (t.norm(ord, a, keepdims) * w).sum(), [x])
    np.testing.assert_allclose(mg.tensor.norm(M(x[0]), ord).numpy(), np.linalg.norm(x[0], ord))


def test_norm_zero_order_counts_and_2_norm_has_zero_gradient_at_the_origin():
    x = M(np.zeros(3), requires_grad=True)
    mg.tensor.norm(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)
    assert mg.tensor.norm(M(np.array([0.0, 2.0, -1.0])), 0).item() == 2.0
    assert mg.tensor.norm(M(np.ones((2, 2))), keepdims=True).shape == (1, 1)
    with pytest.raises(mg.MemogradValueError, match="nuc"):
        mg.tensor.norm(M(np.ones((2, 2))), "nuc")
    with pytest.raises(mg.ShapeError):
        mg.tensor.norm(M(np.ones((2, 2, 2))), 1)


@SETTINGS
@given(shape=nonempty, seed=st.integers(0, 999), n=st.integers(0, 3), data=st.data())
def test_diff(shape, seed, n, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = distinct(shape, seed)
    edge = list(shape)
    edge[axis] = 2
    pre = data.draw(st.sampled_from([None, 1.5, "array"]))
    pre = np.random.default_rng(seed).normal(size=edge) if pre == "array" else pre
    app = data.draw(st.sampled_from([None, -0.5]))
    ref = np.diff(
        x, n, axis, **({} if pre is None else {"prepend": pre}), append=app or np._NoValue
    )
    out = mg.tensor.diff(M(x), n, axis, prepend=pre, append=app)
    np.testing.assert_allclose(out.numpy(), ref)
    w = np.random.default_rng(seed).normal(size=ref.shape)
    assert_grads_match(lambda t: (mg.tensor.diff(t, n, axis, pre, app) * w).sum(), [x])


def test_errors_name_the_op_and_the_fix():
    with pytest.raises(mg.ShapeError, match="argmax: empty"):
        mg.tensor.argmax(M(np.zeros((0, 2))))
    with pytest.raises(mg.ShapeError, match="cumsum: axis 2"):
        mg.tensor.cumsum(M(np.zeros((2, 2))), axis=2)
    with pytest.raises(mg.MemogradValueError, match="topk: k=5"):
        mg.tensor.topk(M(np.zeros(3)), 5)
    with pytest.raises(mg.MemogradValueError, match="diff: order"):
        mg.tensor.diff(M(np.zeros(3)), -1)


@needs_torch
def test_against_torch():
    x = distinct((3, 4), 3)
    x[1, 2] = 0.0
    compare(lambda t: t.prod(axis=1), lambda t: t.prod(dim=1), [x])
    compare(lambda t: t.prod(), lambda t: t.prod(), [x])
    compare(lambda t: t.cumprod(axis=1), lambda t: t.cumprod(dim=1), [x])
    compare(lambda t: t.cumsum(axis=0), lambda t: t.cumsum(dim=0), [x])
    compare(lambda t: t.norm(axis=1), lambda t: torch.linalg.vector_norm(t, dim=1), [x])
    compare(lambda t: t.norm(3, axis=0), lambda t: torch.linalg.vector_norm(t, 3, dim=0), [x])
    compare(lambda t: mg.tensor.sort(t, 1)[..., :3], lambda t: t.sort(dim=1).values[..., :3], [x])
    compare(lambda t: t.topk(2, 0)[0], lambda t: t.topk(2, dim=0).values, [x])
    compare(lambda t: mg.tensor.diff(t, 1, 0), lambda t: torch.diff(t, 1, 0), [x])
