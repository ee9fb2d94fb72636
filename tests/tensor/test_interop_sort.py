"""np.sort and np.unique on a Tensor that requires grad never drop the graph silently."""

import numpy as np
import pytest

import memograd as mg
from memograd.errors import MemogradError


def test_np_sort_keeps_the_graph_and_routes_adjoints_back():
    x = mg.tensor(np.array([3.0, 1.0, 2.0]), requires_grad=True)
    y = np.sort(x)
    assert isinstance(y, mg.Tensor) and y.requires_grad
    assert np.array_equal(y.data, [1.0, 2.0, 3.0])
    (y * mg.tensor(np.array([10.0, 20.0, 30.0]))).sum().backward()
    assert np.array_equal(x.grad.data, [30.0, 10.0, 20.0])  # each value's own weight
    flat = np.sort(mg.tensor(np.array([[2.0, 1.0], [0.0, 3.0]]), requires_grad=True), axis=None)
    assert np.array_equal(flat.data, [0.0, 1.0, 2.0, 3.0])


def test_np_unique_on_a_differentiable_tensor_is_refused():
    x = mg.tensor(np.array([1.0, 1.0, 2.0]), requires_grad=True)
    with pytest.raises(MemogradError):
        np.unique(x)
    assert np.array_equal(np.unique(mg.tensor(np.array([2.0, 1.0, 2.0]))), [1.0, 2.0])
