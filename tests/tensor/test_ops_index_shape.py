"""Indexing (take, index_add, gather, scatter_add, take_along_axis, masked_fill, one_hot) and
shape functions (flip, roll, pad, tile, repeat, split, moveaxis, swapaxes, ravel, atleast_*,
*stack, tril, triu): values against NumPy, gradients against central differences and torch."""

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
nonempty = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def weights_for(out, seed=7):
    return rand(*out.shape, seed=seed)


@SETTINGS
@given(shape=nonempty, seed=st.integers(0, 99), data=st.data())
def test_take_repeats_add_up(shape, seed, data):
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    n = int(np.prod(shape)) if axis is None else shape[axis]
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), max_size=5)), dtype=int)
    idx = idx.reshape(data.draw(st.sampled_from([(-1,), (1, -1)])))
    x = rand(*shape, seed=seed)
    ref = np.take(x, idx, axis=axis)
    np.testing.assert_array_equal(mg.tensor.take(M(x), idx, axis).numpy(), ref)
    w = rand(*ref.shape, seed=seed + 1)
    assert_grads_match(lambda t: (mg.tensor.take(t, idx, axis) * w).sum(), [x])


def test_index_add_and_scatter_add_are_the_adjoints_of_take_and_gather():
    a, src = rand(3, 4), rand(3, 5, seed=1)
    idx = np.array([0, 2, 2, 3, 0])
    out = mg.tensor.index_add(M(a), 1, idx, M(src))
    ref = a.copy()
    np.add.at(ref, (slice(None), idx), src)
    np.testing.assert_allclose(out.numpy(), ref)
    w = rand(3, 4, seed=2)
    assert_grads_match(lambda s, t: (mg.tensor.index_add(s, 1, idx, t) * w).sum(), [a, src])
    gidx = np.array([[0, 2], [1, 1], [3, 3]])
    got = mg.tensor.gather(M(a), 1, gidx)
    np.testing.assert_array_equal(got.numpy(), np.take_along_axis(a, gidx, 1))
    assert_grads_match(lambda t: (t.gather(1, gidx) * rand(3, 2)).sum(), [a])
    s2 = rand(3, 2, seed=3)
    assert_grads_match(lambda s, t: (mg.tensor.scatter_add(s, 1, gidx, t) * w).sum(), [a, s2])
    # repeated positions add up: index 1 twice in row 1
    expect = a.copy()
    np.add.at(expect, (np.arange(3)[:, None], gidx), s2)
    np.testing.assert_allclose(mg.tensor.scatter_add(M(a), 1, gidx, M(s2)).numpy(), expect)


@needs_torch
def test_gather_scatter_index_add_against_torch():
    a, src = rand(3, 4), rand(2, 3, seed=1)
    gidx = np.array([[0, 2, 1], [2, 2, 0]])
    ti = torch.tensor(gidx)
    compare(lambda t: mg.tensor.gather(t, 0, gidx), lambda t: torch.gather(t, 0, ti), [a])
    compare(
        lambda s, t: mg.tensor.scatter_add(s, 0, gidx, t),
        lambda s, t: torch.scatter_add(s, 0, ti, t),
        [a, src],
    )
    idx = np.array([1, 1, 0])
    compare(
        lambda s, t: mg.tensor.index_add(s, 1, idx, t),
        lambda s, t: torch.index_add(s, 1, torch.tensor(idx), t),
        [a, rand(3, 3, seed=2)],
    )


@SETTINGS
@given(shape=nonempty, seed=st.integers(0, 99), data=st.data())
def test_take_along_axis_broadcasts_like_numpy(shape, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    ishape = [data.draw(st.sampled_from([1, n])) for n in shape]
    ishape[axis] = data.draw(st.integers(0, 4))
    idx = np.random.default_rng(seed).integers(0, shape[axis], size=ishape)
    x = rand(*shape, seed=seed)
    ref = np.take_along_axis(x, idx, axis)
    np.testing.assert_array_equal(mg.tensor.take_along_axis(M(x), idx, axis).numpy(), ref)
    w = rand(*ref.shape, seed=seed + 1)
    assert_grads_match(lambda t: (mg.tensor.take_along_axis(t, idx, axis) * w).sum(), [x])


def test_masked_fill_and_one_hot():
    x = rand(2, 3)
    mask = np.array([True, False, True])
    out = mg.tensor.masked_fill(M(x), mask, -1.0)
    np.testing.assert_array_equal(out.numpy(), np.where(mask, -1.0, x))
    t = M(x, requires_grad=True)
    t.masked_fill(mask, 0.0).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.broadcast_to(~mask, (2, 3)).astype(float))
    oh = mg.tensor.one_hot(np.array([[2, 0], [1, 1]]), 4)
    assert oh.shape == (2, 2, 4) and oh.dtype == np.int64
    np.testing.assert_array_equal(oh.numpy().argmax(-1), [[2, 0], [1, 1]])
    assert mg.tensor.one_hot(M(np.array([0, 3]))).shape == (2, 4)


def test_index_errors_name_the_op_and_the_fix():
    x = M(rand(2, 3))
    with pytest.raises(mg.MemogradValueError, match=r"take: index 3 is out of range .* size 3"):
        mg.tensor.take(x, [3], axis=1)
    with pytest.raises(mg.MemogradTypeError, match=r"gather: indices must be integers"):
        mg.tensor.gather(x, 0, np.zeros((1, 3)))
    with pytest.raises(mg.ShapeError, match="index_add: source of shape"):
        mg.tensor.index_add(x, 0, [0], M(rand(2, 3)))
    with pytest.raises(mg.ShapeError, match="gather: index of shape"):
        mg.tensor.gather(x, 0, np.zeros((1, 4), int))
    with pytest.raises(mg.MemogradValueError, match="one_hot: labels must lie in"):
        mg.tensor.one_hot([0, 5], 3)
    with pytest.raises(mg.MemogradTypeError, match="masked_fill: mask must be bool"):
        mg.tensor.masked_fill(x, np.ones(3), 0.0)
    assert mg.tensor.take(x, [], axis=1).shape == (2, 0)  # an empty index list is fine


# ---------------------------------------------------------------------------------- shape
SHAPE_CASES = {
    "flip": (lambda t: mg.tensor.flip(t, 0), lambda a: np.flip(a, 0)),
    "flip-all": (lambda t: mg.tensor.flip(t), lambda a: np.flip(a)),
    "roll": (lambda t: mg.tensor.roll(t, 2, 1), lambda a: np.roll(a, 2, 1)),
    "roll-neg-multi": (lambda t: t.roll((-1, 4), (0, -1)), lambda a: np.roll(a, (-1, 4), (0, -1))),
    "roll-flat": (lambda t: mg.tensor.roll(t, 5), lambda a: np.roll(a, 5)),
    "tile": (lambda t: mg.tensor.tile(t, (2, 1, 3)), lambda a: np.tile(a, (2, 1, 3))),
    "tile-int": (lambda t: mg.tensor.tile(t, 2), lambda a: np.tile(a, 2)),
    "repeat": (lambda t: mg.tensor.repeat(t, 2, axis=1), lambda a: np.repeat(a, 2, axis=1)),
    "repeat-flat": (lambda t: mg.tensor.repeat(t, 3), lambda a: np.repeat(a, 3)),
    "repeat-array": (lambda t: t.repeat([0, 2, 1], axis=-1), lambda a: np.repeat(a, [0, 2, 1], -1)),
    "moveaxis": (lambda t: mg.tensor.moveaxis(t, 0, -1), lambda a: np.moveaxis(a, 0, -1)),
    "moveaxis-2": (
        lambda t: mg.tensor.moveaxis(t, (0, 2), (2, 0)),
        lambda a: np.moveaxis(a, (0, 2), (2, 0)),
    ),
    "swapaxes": (lambda t: t.swapaxes(0, 2), lambda a: np.swapaxes(a, 0, 2)),
    "ravel": (lambda t: t.ravel(), lambda a: np.ravel(a)),
    "tril": (lambda t: mg.tensor.tril(t, -1), lambda a: np.tril(a, -1)),
    "triu": (lambda t: t.triu(1), lambda a: np.triu(a, 1)),
    "atleast_3d": (lambda t: mg.tensor.atleast_3d(t[0, 0]), lambda a: np.atleast_3d(a[0, 0])),
    "vstack": (lambda t: mg.tensor.vstack([t[0], t[1, 0]]), lambda a: np.vstack([a[0], a[1, 0]])),
    "hstack": (lambda t: mg.tensor.hstack([t[0], t[1]]), lambda a: np.hstack([a[0], a[1]])),
    "dstack": (lambda t: mg.tensor.dstack([t[0], t[1]]), lambda a: np.dstack([a[0], a[1]])),
    "column_stack": (
        lambda t: mg.tensor.column_stack([t[0, 0], t[1]]),
        lambda a: np.column_stack([a[0, 0], a[1]]),
    ),
}
PAD_CASES = [(1, "constant"), (((1, 0), (0, 2), (2, 1)), "edge"), (2, "reflect")]
PAD_CASES += [(((0, 3), (1, 1), (0, 0)), "symmetric"), ((1, 2), "wrap")]


@pytest.mark.parametrize("name", sorted(SHAPE_CASES))
def test_shape_functions(name):
    op, ref_op = SHAPE_CASES[name]
    x = rand(2, 3, 3)
    np.testing.assert_array_equal(op(M(x)).numpy(), ref_op(x))
    w = weights_for(ref_op(x))
    assert_grads_match(lambda t: (op(t) * w).sum(), [x])


@pytest.mark.parametrize("width,mode", PAD_CASES)
def test_pad_modes(width, mode):
    x = rand(2, 3, 4)
    kw = {"constant_values": 1.5} if mode == "constant" else {}
    ref = np.pad(x, width, mode=mode, **kw)
    out = mg.tensor.pad(M(x), width, mode=mode, **kw)
    np.testing.assert_array_equal(out.numpy(), ref)
    w = weights_for(ref)
    assert_grads_match(lambda t: (mg.tensor.pad(t, width, mode=mode, **kw) * w).sum(), [x])


@SETTINGS
@given(shape=shapes, seed=st.integers(0, 99), data=st.data())
def test_flip_roll_tile_over_random_shapes(shape, seed, data):
    x = rand(*shape, seed=seed)
    shift = data.draw(st.integers(-4, 4))
    reps = tuple(data.draw(st.lists(st.integers(0, 2), max_size=3)))
    for op, ref in [
        (lambda t: mg.tensor.flip(t), np.flip),
        (lambda t: mg.tensor.roll(t, shift), lambda a: np.roll(a, shift)),
        (lambda t: mg.tensor.tile(t, reps), lambda a: np.tile(a, reps)),
    ]:
        np.testing.assert_array_equal(op(M(x)).numpy(), ref(x))
        w = weights_for(ref(x), seed)
        assert_grads_match(lambda t, op=op, w=w: (op(t) * w).sum(), [x])


def test_split_and_array_split():
    x = rand(7, 2)
    pieces = mg.tensor.array_split(M(x), 3)
    for got, want in zip(pieces, np.array_split(x, 3)):
        np.testing.assert_array_equal(got.numpy(), want)
    for got, want in zip(mg.tensor.split(M(x), [2, 5], axis=0), np.split(x, [2, 5])):
        np.testing.assert_array_equal(got.numpy(), want)
    assert [p.shape for p in mg.tensor.split(M(x), 2, axis=1)] == [(7, 1), (7, 1)]
    assert_grads_match(lambda t: (mg.tensor.split(t, [2, 5])[1] ** 2).sum(), [x])
    with pytest.raises(mg.ShapeError, match="does not split into 3 equal sections"):
        mg.tensor.split(M(x), 3)


def test_atleast_forms():
    assert mg.tensor.atleast_1d(M(2.0)).shape == (1,)
    assert mg.tensor.atleast_2d(M([1.0, 2.0])).shape == (1, 2)
    assert [t.shape for t in mg.tensor.atleast_3d(M([1.0]), M(np.ones((2, 2))))] == [
        (1, 1, 1),
        (2, 2, 1),
    ]


def test_shape_errors():
    x = M(rand(2, 3))
    with pytest.raises(mg.MemogradValueError, match="pad: mode 'mean'"):
        mg.tensor.pad(x, 1, mode="mean")
    with pytest.raises(mg.ShapeError, match="pad: pad_width"):
        mg.tensor.pad(x, ((1, 1), (1, 1), (1, 1)))
    with pytest.raises(mg.ShapeError, match="tril: needs at least 2 dims"):
        mg.tensor.tril(M([1.0]))
    with pytest.raises(mg.ShapeError, match="repeat: 2 repeats for axis 1 of size 3"):
        mg.tensor.repeat(x, [1, 2], axis=1)
    with pytest.raises(mg.ShapeError, match="swapaxes: axis 2"):
        mg.tensor.swapaxes(x, 0, 2)


@needs_torch
def test_shape_against_torch():
    x = rand(2, 3, 4)
    compare(lambda t: mg.tensor.flip(t, (0, 2)), lambda t: torch.flip(t, (0, 2)), [x])
    compare(lambda t: mg.tensor.roll(t, 1, 2), lambda t: torch.roll(t, 1, 2), [x])
    compare(
        lambda t: mg.tensor.pad(t, ((0, 0), (0, 0), (2, 1)), "reflect"),
        lambda t: torch.nn.functional.pad(t, (2, 1), mode="reflect"),
        [x],
    )
    compare(lambda t: mg.tensor.tile(t, (1, 2, 1)), lambda t: t.repeat(1, 2, 1), [x])
    compare(lambda t: mg.tensor.triu(t), torch.triu, [x])
