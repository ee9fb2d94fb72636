"""Issue 11 (tensor items): nothing silently wrong, clear errors instead of raw ones."""

from __future__ import annotations

import numpy as np
import pytest

import memograd as mg


def test_backward_from_a_nan_loss_raises_like_value():
    w = mg.tensor([1.0, -1.0], requires_grad=True)
    loss = (w.log() * 2).sum()  # log(-1) = nan
    with pytest.raises(mg.NonFiniteError, match="not finite.*first non-finite value.*log"):
        loss.backward()
    assert w.grad is None  # nothing was written
    with pytest.raises(mg.NonFiniteError):
        (mg.Value(float("nan")) * 2).backward()  # the scalar engine: the same class of error
    inf = (mg.tensor([1000.0], requires_grad=True).exp() * 1).sum()
    with pytest.raises(mg.NonFiniteError, match="not finite"):
        inf.backward()


def test_backward_with_a_nan_seed_or_output_and_grad_raises():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(mg.NonFiniteError, match="seed"):
        (x * 2).backward(grad=[1.0, float("nan")])
    with pytest.raises(mg.NonFiniteError, match="the output"):
        (x / 0).backward(grad=[1.0, 1.0])


def test_mean_of_empty_is_nan_but_backward_runs():
    """A mean over no elements is nan by definition; the gradient of the empty input is empty."""
    e = mg.tensor(np.zeros((0, 3)), requires_grad=True)
    out = e.mean()
    assert np.isnan(out.item())
    out.backward()
    assert e.grad.shape == (0, 3)


@pytest.mark.parametrize(
    "data, where",
    [
        ([[1, 2], [3]], "data[0] has 2 item(s), data[1] has 1 item(s)"),
        ([[[1.0, 2.0]], [[1.0]]], "data[0][0] has 2 item(s), data[1][0] has 1 item(s)"),
        ([1.0, [2.0]], "data[0] has a number, data[1] has 1 item(s)"),
    ],
)
def test_ragged_nested_lists_are_refused_clearly(data, where):
    with pytest.raises(mg.MemogradValueError, match="ragged") as info:
        mg.tensor(data)
    assert where in str(info.value)


def test_unconvertible_data_is_a_memograd_error():
    with pytest.raises(mg.MemogradError):
        mg.tensor({"a": 1})
