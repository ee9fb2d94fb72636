"""Interop without copies: np.asarray(t) and DLPack (torch.from_dlpack) share a tensor's memory."""

from __future__ import annotations

import numpy as np
import pytest

import memograd as mg


def test_asarray_is_the_tensors_own_array_unless_a_copy_is_asked():
    t = mg.tensor(np.arange(6.0).reshape(2, 3), dtype="float32")
    a = np.asarray(t)
    assert a is t.data
    a[0, 0] = 7.0
    assert t.data[0, 0] == 7.0
    assert not np.shares_memory(np.array(t), t.data)  # np.array copies by default
    assert not np.shares_memory(np.asarray(t, dtype=np.float64), t.data)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.asarray(t, dtype=np.float32) is t.data  # same dtype: no copy
    with pytest.raises(ValueError):
        np.asarray(t, dtype=np.float64, copy=False)  # a new dtype cannot be had without a copy


torch = pytest.importorskip("torch", reason="needs the interop extra (torch==2.13.0)")


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_torch_from_dlpack_shares_memory_with_the_tensor(dtype):
    t = mg.tensor(np.arange(12).reshape(3, 4).astype(dtype))
    for shared in (torch.from_dlpack(t), torch.from_dlpack(t.data)):
        assert shared.data_ptr() == t.data.ctypes.data
        assert tuple(shared.shape) == t.shape and str(shared.dtype) == f"torch.{dtype}"
    shared = torch.from_dlpack(t)
    shared[1, 2] = 99
    assert t.data[1, 2] == 99  # one buffer: a write on either side is seen by the other
    t.data[0, 0] = -5
    assert shared[0, 0].item() == -5
    assert t.__dlpack_device__() == (1, 0)  # kDLCPU, device 0


def test_a_parameter_and_a_strided_view_cross_without_a_copy():
    model = mg.nn.MLP([3, 4, 2], seed=0)
    w = model.state_dict()["0.weight"]
    weight = next(p for n, p in model.named_parameters() if n == "0.weight")
    shared = torch.from_dlpack(weight)
    assert np.array_equal(shared.numpy(), w)
    assert shared.data_ptr() == weight.data.ctypes.data
    transposed = mg.tensor(weight.data.T)  # a non-contiguous view: strides travel with it
    assert torch.equal(torch.from_dlpack(transposed), torch.from_numpy(np.ascontiguousarray(w.T)))
