"""Tensor semantics: dtypes, grads accumulation, freed graphs, version counters, no_grad, errors."""

import gc
import weakref

import numpy as np
import pytest

import memograd as mg
from memograd import GraphError, MemogradTypeError, MemogradValueError, ShapeError
from memograd.tensor import Tensor


def test_constructor_dtypes_and_attributes():
    x = mg.tensor([[1.0, 2.0, 3.0]])
    assert x.dtype == np.float32 and x.shape == (1, 3) and x.ndim == 2 and x.size == 3
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor([True]).dtype == np.bool_
    assert mg.tensor(np.zeros(2)).dtype == np.float64  # numpy arrays keep their dtype
    assert mg.tensor([1.0], dtype="float64").dtype == np.float64
    assert x.T.shape == (3, 1)
    assert mg.tensor(2.5).item() == 2.5
    assert isinstance(x.numpy(), np.ndarray)
    a = np.ones(3)
    t = mg.tensor(a)
    a[0] = 5
    assert t.numpy()[0] == 1.0  # mg.tensor copies


def test_int_and_bool_tensors_cannot_require_grad():
    with pytest.raises(MemogradTypeError, match="only float tensors"):
        mg.tensor([1, 2], requires_grad=True)


def test_repr_is_readable():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert "grad_fn=<mul>" in repr(x * 2)
    assert "dtype=float64" in repr(mg.tensor([1.0], dtype="float64"))


def test_backward_closed_form_and_accumulation():
    x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0, 6.0])
    (x * x).sum().backward()  # leaf grads accumulate until reset
    np.testing.assert_allclose(x.grad.numpy(), [4.0, -8.0, 12.0])
    x.grad = None
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0, 3.0])


def test_repeated_use_sums_over_paths():
    a = mg.tensor(1.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0


def test_shared_adjoint_is_not_aliased_between_leaves():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.numpy()[0] = 100.0
    assert b.grad.numpy()[0] == 1.0


def test_non_scalar_backward_needs_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    with pytest.raises(ShapeError, match=r"shape \(2,\) is not a scalar"):
        y.backward()
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 30.0])
    with pytest.raises(ShapeError, match="does not match"):
        (x * 3).backward(np.ones(3))


def test_second_backward_raises_unless_retained():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(GraphError, match="already freed"):
        y.backward()


def test_saved_buffers_are_freed_after_backward():
    x = mg.tensor(np.ones(4), requires_grad=True)
    h = x * 2.0
    y = (h * h).sum()  # mul saves h's array
    ref = weakref.ref(h.data)
    del h
    gc.collect()
    assert ref() is not None  # saved for backward
    y.backward()
    node = y._node._parents[0]  # the mul node
    assert node.xs is None and node.freed
    assert ref() is None  # dropped once its VJP ran


def test_backward_without_requires_grad_is_an_error():
    with pytest.raises(GraphError, match="does not require grad"):
        mg.tensor([1.0]).sum().backward()


def test_no_grad_records_nothing_and_allows_parameter_updates():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.no_grad():
        y = w * 2
        w -= 0.5 * y
    assert not y.requires_grad and y.is_leaf
    np.testing.assert_allclose(w.numpy(), [0.0, 0.0])
    assert w.requires_grad and mg.tensor.is_grad_enabled()
    with pytest.raises(GraphError, match="in-place edit of a tensor that requires grad"):
        w += 1

    @mg.no_grad()
    def f(t):
        return t * 2

    assert not f(w).requires_grad


def test_version_counter_catches_in_place_edit_of_saved_tensor():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = (h * h).sum()  # saves h
    with mg.no_grad():
        h *= 3.0
    with pytest.raises(GraphError, match="modified in place"):
        y.backward()


def test_version_counter_is_shared_with_views():
    x = mg.tensor(np.arange(4.0), requires_grad=True)
    h = x * 1.0
    e = h.exp()
    y = e.sum()  # exp saves its output e; edit a view of it
    view = e.reshape(2, 2)
    with mg.no_grad():
        view[0, 0] = 0.0
    with pytest.raises(GraphError, match="output of exp"):
        y.backward()


def test_detach_and_comparisons_have_no_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.numpy() is x.numpy()
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    assert (x == x).numpy().all()
    assert len({x, d}) == 2  # identity hashing although == is elementwise


def test_dtype_rule_keeps_float32():
    x = mg.tensor([1.0, 2.0])
    assert (x * np.float64(2.0)).dtype == np.float32
    assert (x + np.ones(2)).dtype == np.float32
    assert (2.5 * x).dtype == np.float32
    assert (x / 3).dtype == np.float32
    assert (mg.tensor([1, 2]) / 2).dtype == np.float32
    assert (mg.tensor([1, 2]).astype("float64") * 1.5).dtype == np.float64
    with pytest.raises(MemogradTypeError, match="cannot mix float32 and float64"):
        x + mg.tensor([1.0, 2.0], dtype="float64")


def test_grads_keep_float32():
    x = mg.tensor(
        np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32), requires_grad=True
    )
    for f in (
        lambda t: t.max(axis=0).sum(),
        lambda t: mg.tensor.maximum(t, 0.1).sum(),
        lambda t: t.var(axis=1).sum(),
        lambda t: t.gelu().sum(),
    ):
        x.grad = None
        f(x).backward()
        assert x.grad.dtype == np.float32


def test_errors_name_op_and_shapes():
    with pytest.raises(
        ShapeError, match=r"matmul: shapes \(32, 784\) and \(256, 10\) do not align \(784 != 256\)"
    ):
        mg.tensor(np.zeros((32, 784))) @ mg.tensor(np.zeros((256, 10)))
    with pytest.raises(ShapeError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        mg.tensor(np.zeros((2, 3))) + mg.tensor(np.zeros(4))
    with pytest.raises(ShapeError, match="reshape: cannot reshape"):
        mg.tensor(np.zeros(6)).reshape(4, 2)
    with pytest.raises(ShapeError, match="axis 2 is out of range"):
        mg.tensor(np.zeros((2, 2))).sum(axis=2)
    with pytest.raises(MemogradValueError, match=r"labels must lie in \[0, 3\)"):
        mg.tensor.cross_entropy(mg.tensor(np.zeros((2, 3))), [0, 3])
    with pytest.raises(MemogradValueError, match="item"):
        mg.tensor([1.0, 2.0]).item()


def test_numpy_defers_to_tensor_operators():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, Tensor) and y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])


def test_graph_is_freed_without_the_cycle_collector():
    gc.disable()
    try:
        x = mg.tensor(np.ones(3), requires_grad=True)
        y = ((x * 2).exp() + x).sum()
        ref = weakref.ref(y._node._parents[0])
        y.backward()
        del y
        assert ref() is None
    finally:
        gc.enable()


def test_deep_chain_backward_has_no_recursion_limit():
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y + 0.0
    y.backward()
    assert x.grad.item() == 1.0


def test_mg_tensor_is_both_package_and_constructor():
    assert mg.tensor.Tensor is Tensor
    assert isinstance(mg.tensor([1.0]), Tensor)
    from memograd.tensor import tensor

    assert isinstance(tensor(1.0), Tensor)


def test_intermediates_no_vjp_saved_are_freed_during_forward():
    x = mg.tensor(np.ones((2, 3)))
    W = mg.tensor(np.ones((3, 4)), requires_grad=True)
    b = mg.tensor(np.ones(4), requires_grad=True)
    z = x @ W  # matmul saves x and W, not its output
    a = z + b  # add saves nothing; relu saves its output
    h = a.relu()
    refs = {"z": weakref.ref(z.data), "a": weakref.ref(a.data), "h": weakref.ref(h.data)}
    loss = h.sum()
    del z, a, h
    assert refs["z"]() is None and refs["a"]() is None  # the graph does not keep them
    assert refs["h"]() is not None  # relu's VJP needs it
    loss.backward()
    np.testing.assert_allclose(W.grad.numpy(), np.full((3, 4), 2.0))


def test_retain_grad_on_an_intermediate():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = (x * 3).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.numpy())
    np.testing.assert_allclose(x.grad.numpy(), 18 * x.numpy())


def test_one_no_grad_instance_entered_twice_restores_each_level():
    ng = mg.no_grad()
    with ng:
        with ng:
            assert not mg.tensor.is_grad_enabled()
        assert not mg.tensor.is_grad_enabled()
    assert mg.tensor.is_grad_enabled()  # it stayed off when one instance kept one saved state
    with pytest.raises(RuntimeError):
        with mg.no_grad():
            with mg.tensor.enable_grad():
                assert mg.tensor.is_grad_enabled()
                raise RuntimeError("boom")
    assert mg.tensor.is_grad_enabled()


@pytest.mark.parametrize(
    "labels, error, words",
    [
        ([0, 3], MemogradValueError, ["[0, 3)", "1 of 2 outside", "(2, 3)", "class indices"]),
        ([0, -1], MemogradValueError, ["from -1 to 0", "remap"]),
        ([0.0, 1.0], MemogradTypeError, ["float64", "astype(int)"]),
        # one-hot / probability targets of the logits' shape are supported (tests/tensor/test_nnf)
        ([[0], [1]], ShapeError, ["(2, 1)", "(2, 3)", "reshape(-1)"]),
        ([0, 1, 2], ShapeError, ["(3,)", "expected integer labels of shape (2,)"]),
    ],
)
def test_cross_entropy_bad_labels_say_what_and_how_to_fix(labels, error, words):
    logits = mg.tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(error, match="cross_entropy") as info:
        mg.tensor.cross_entropy(logits, labels)
    for w in words:
        assert w in str(info.value)


def test_duplicate_or_non_int_axes_are_clear_errors():
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ShapeError, match=r"max: axis \(0, -2\) names the same axis twice"):
        x.max(axis=(0, -2))
    with pytest.raises(MemogradTypeError, match="sum: axis must be an int"):
        x.sum(axis=1.0)
    np.testing.assert_allclose(x.sum(axis=(-1, 0)).numpy(), 6.0)


def test_repr_of_results_and_float64():
    y = mg.tensor([1.0, 2.0], requires_grad=True) * 2
    assert repr(y) == "tensor([2., 4.], grad_fn=<mul>)"
    d = mg.tensor([1.0], dtype="float64", requires_grad=True)
    assert repr(d) == "tensor([1.], dtype=float64, requires_grad=True)"
    assert "..." in repr(mg.tensor(np.zeros((200, 200))))  # summarised, not 40000 numbers


def test_broadcast_errors_say_the_rule_and_a_fix():
    with pytest.raises(ShapeError, match=r"add: shapes \(3, 4\) and \(5,\) do not fit") as info:
        mg.tensor(np.zeros((3, 4))) + mg.tensor(np.zeros(5))
    assert "equal or one of them 1" in str(info.value)
    with pytest.raises(ShapeError, match="greater: shapes"):
        _ = mg.tensor(np.zeros((3, 4))) > np.zeros(5)
