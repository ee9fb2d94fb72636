"""NumPy functions applied to Tensors keep the graph or raise one clear error (issue 10, sec. 2)."""

from __future__ import annotations

import numpy as np
import pytest

import memograd as mg
from memograd.tensor.ops import TABLE, register, rule


def leaf(values):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_numpy_functions_keep_the_graph():
    t, u = leaf([1.0, 2.0]), leaf([3.0])
    total = np.sum(np.exp(t)) + np.mean(np.concatenate([t, u])) + np.max(np.stack([t, t]))
    assert isinstance(total, mg.Tensor) and total.requires_grad
    total.backward()
    np.testing.assert_allclose(t.grad.data, np.exp([1.0, 2.0]) + 1 / 3 + [0.0, 1.0])
    np.testing.assert_allclose(u.grad.data, [1 / 3])


@pytest.mark.parametrize(
    "fn, expect",
    [
        (lambda t: np.sum(t, axis=0, keepdims=True), lambda a: a.sum(axis=0, keepdims=True)),
        (lambda t: np.add.reduce(t, axis=1), lambda a: np.add.reduce(a, axis=1)),
        (lambda t: np.reshape(t, (3, 2)), lambda a: a.reshape(3, 2)),
        (lambda t: np.transpose(t), lambda a: a.T),
        (lambda t: np.where(t > 2, t, 0.0), lambda a: np.where(a > 2, a, 0.0)),
        (lambda t: np.clip(t, 2, 4), lambda a: np.clip(a, 2, 4)),
        (lambda t: np.dot(t, np.ones((3, 2))), lambda a: a @ np.ones((3, 2))),
        (lambda t: np.maximum(t, 3.0), lambda a: np.maximum(a, 3.0)),
        (lambda t: np.swapaxes(t, 0, 1), lambda a: np.swapaxes(a, 0, 1)),
        (lambda t: np.expand_dims(t, 0), lambda a: a[None]),
        (lambda t: np.split(t, 3, axis=1)[1], lambda a: a[:, 1:2]),
        (lambda t: np.ravel(t), lambda a: a.ravel()),
        (lambda t: np.std(t, axis=1), lambda a: a.std(axis=1)),
        (lambda t: np.ones((2, 3)) * t + t, lambda a: 2 * a),  # ndarray (op) Tensor
    ],
)
def test_numpy_call_matches_numpy_and_differentiates(fn, expect):
    a = np.arange(6.0).reshape(2, 3) + 0.5
    t = leaf(a)
    out = fn(t)
    assert isinstance(out, mg.Tensor)
    np.testing.assert_allclose(out.data, expect(a))
    out.sum().backward()
    fd = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        hi, lo = a.copy(), a.copy()
        hi[idx] += 1e-6
        lo[idx] -= 1e-6
        fd[idx] = (expect(hi).sum() - expect(lo).sum()) / 2e-6
    np.testing.assert_allclose(t.grad.data, fd, rtol=1e-5, atol=1e-6)


def test_no_gradient_results_are_values():
    t = leaf([1.0, -2.0, 3.0])
    assert np.argmax(t) == 2 and np.allclose(t, [1, -2, 3])
    s = np.sign(t)  # piecewise constant: a row of its own (zero gradient) or a plain value
    assert (s.data == [1, -1, 1]).all()
    if s.requires_grad:
        s.sum().backward()
        assert not t.grad.data.any()
    assert np.isfinite(t).data.all() and np.shape(t) == (3,) and np.ndim(t) == 1
    assert np.asarray(t).tolist() == [1.0, -2.0, 3.0]  # an explicit conversion stays allowed


def test_unknown_numpy_function_is_refused_with_the_mg_name():
    t = leaf([0.5, 0.7])
    with pytest.raises(mg.MemogradTypeError, match="np.median.*silently drop the graph"):
        np.median(t)
    with pytest.raises(mg.MemogradTypeError, match="out="):
        np.exp(t, out=np.empty(2))
    # without a gradient to lose, numpy runs on the values (as before)
    assert np.median(mg.tensor([1.0, 3.0, 2.0])) == 2.0


def test_unknown_ufunc_names_the_mg_equivalent():
    t = leaf([0.5])
    with pytest.raises(mg.MemogradTypeError, match="np.cbrt"):
        np.cbrt(t)
    if "sin" in TABLE:  # rows of the op families dispatch by their ufunc forward
        out = np.sin(t)
        out.sum().backward()
        np.testing.assert_allclose(t.grad.data, np.cos([0.5]))


@pytest.fixture
def cleanup():
    """Unregister the test's row afterwards (TABLE, numpy dispatch, mg.tensor, Tensor)."""
    import memograd.tensor as package
    from memograd.tensor import api, ops

    yield "test_interop_cube"
    name = "test_interop_cube"
    row = TABLE.pop(name, None)
    for f, r in list(ops.NUMPY.items()):
        if r is row:
            del ops.NUMPY[f]
    for where in (package, api, mg.Tensor):
        if hasattr(where, name):
            delattr(where, name)
    api.GENERATED[:] = [n for n in api.GENERATED if n != name]


def test_a_registered_row_with_numpy_dispatches_and_is_generated(cleanup):
    name = cleanup
    if name not in TABLE:
        register(
            rule(
                name,
                lambda a: a**3,
                lambda g, y, a: 3 * g * a * a,
                saves="x",
                public="a, /",
                method=True,
                numpy=np.cbrt,  # any ufunc: here it stands for "the numpy function of this row"
                example=lambda r: ((r.normal(size=(2, 3)),), {}),
            )
        )
    t = leaf([2.0])
    assert getattr(mg.tensor, name)(t).item() == 8.0  # mg.tensor.<name>, generated
    assert getattr(t, name)().item() == 8.0  # the Tensor method, generated
    out = np.cbrt(t)  # numpy dispatch to the row
    out.backward()
    assert t.grad.item() == 12.0
    from memograd.tensor import api

    assert f"TABLE[{name!r}]" in api.source(name)
