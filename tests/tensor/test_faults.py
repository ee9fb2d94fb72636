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


def test_writing_through_data_while_saved_is_refused_not_a_wrong_gradient():
    """Issue 11: b.data[0] = ... after the forward pass gave a silently wrong gradient."""
    b = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (b * b).sum()  # mul saves b
    with pytest.raises(ValueError, match="read-only"):
        b.data[0] = 5.0
    loss.backward()
    np.testing.assert_array_equal(b.grad.data, [2.0, 4.0])  # the true gradient
    b.data[0] = 5.0  # backward freed the graph: writable again
    assert b.data[0] == 5.0
    (b * b).sum()  # a graph dropped without backward unlocks too
    b.data[1] = 7.0
    # the engine's own in-place paths (optimizers, no_grad edits) still work, and are caught by
    # the version counter if a stale graph is differentiated later
    loss = (b * b).sum()
    with mg.no_grad():
        b -= 1.0
    with pytest.raises(mg.GraphError, match="modified in place"):
        loss.backward()


def test_optimizer_and_load_state_dict_write_saved_parameters():
    model = mg.nn.MLP([2, 3, 1]) if hasattr(mg.nn, "MLP") else None
    if model is None:  # pragma: no cover
        pytest.skip("no mg.nn.MLP")
    x = mg.tensor(np.ones((4, 2)))
    stale = model(x).sum()  # a graph kept alive, never differentiated
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    loss = model(x).sum()
    loss.backward()
    opt.step()  # writes parameters saved by the stale graph: allowed (the counter records it)
    model.load_state_dict(model.state_dict())
    with pytest.raises(mg.GraphError, match="modified in place"):
        stale.backward()
