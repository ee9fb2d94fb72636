"""The affine op x W + b (memograd.tensor.ops_affine): its gradients against float64 finite
differences and PyTorch, and the fusion of ``x @ W + b`` written with operators: one node, the
same numbers as two, and never when anything else could see the product."""

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.tensor.helpers import assert_grads_match
from tests.tensor.torch_ref import compare, needs_torch, torch

import memograd as mg
from memograd import graph
from memograd.tensor import ops_affine

tensor_module = sys.modules["memograd.tensor.tensor"]  # (mg.tensor.tensor is the function)


def _ops(t):
    return [n.prim.name for n in graph.topological_order(t._node) if hasattr(n, "prim")]


@pytest.fixture
def unfused():
    """``x @ W + b`` recorded as matmul then add, as before the fusion existed."""
    saved = tensor_module._fuse_bias
    tensor_module._fuse_bias = None
    yield
    tensor_module._fuse_bias = saved


@pytest.mark.parametrize(
    "shapes",
    [((5, 3), (3, 4), (4,)), ((3,), (3, 2), (2,)), ((2, 5, 3), (3, 4), (4,)), ((4, 3), (3, 2), ())],
)
def test_affine_gradients_match_finite_differences(shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s) for s in shapes]
    w = rng.normal(size=np.broadcast_shapes(np.matmul(arrays[0], arrays[1]).shape, shapes[2]))
    assert_grads_match(lambda x, W, b: (mg.tensor.affine(x, W, b) * w).sum(), arrays)


@needs_torch
def test_affine_matches_torch_addmm():
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=(6, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)]
    compare(mg.tensor.affine, lambda x, W, b: torch.addmm(b, x, W), arrays)


def test_x_at_w_plus_b_is_one_affine_node_with_the_numbers_of_two(unfused):
    rng = np.random.default_rng(2)
    arrays = [rng.normal(size=s).astype(np.float32) for s in ((8, 5), (5, 4), (4,), (4, 3), (3,))]

    def run():
        x, W1, b1, W2, b2 = (mg.tensor(a, requires_grad=True) for a in arrays)
        out = ((x @ W1 + b1).relu() @ W2 + b2).tanh().sum()
        out.backward()
        return _ops(out), out.item(), [t.grad.data for t in (x, W1, b1, W2, b2)]

    ops_two, value_two, grads_two = run()
    tensor_module._fuse_bias = ops_affine.fuse_bias
    ops_one, value_one, grads_one = run()
    assert ops_two == ["matmul", "add", "relu", "matmul", "add", "tanh", "sum"]
    if ops_affine.FUSE_BIAS:
        assert ops_one == ["affine", "relu", "affine", "tanh", "sum"]
    assert value_one == value_two
    for a, b in zip(grads_one, grads_two):
        assert a.dtype == np.float32 and np.array_equal(a, b)  # bit for bit


@pytest.mark.skipif(not ops_affine.FUSE_BIAS, reason="fusion needs CPython before 3.14")
def test_a_product_anything_else_holds_is_never_fused():
    rng = np.random.default_rng(3)
    x = mg.tensor(rng.normal(size=(4, 3)))
    W = mg.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    b = mg.tensor(rng.normal(size=2), requires_grad=True)
    z = x @ W  # named: the user may read it later
    before = z.data.copy()
    assert (z + b).grad_fn == "add" and np.array_equal(z.data, before)
    kept = []
    assert (_keep(x @ W, kept) + b).grad_fn == "add"  # held in a list
    assert np.array_equal(kept[0].data, before)
    assert ((x @ W).retain_grad() + b).grad_fn == "add"  # retain_grad: its .grad is wanted
    assert (x @ W + b.data).grad_fn == "add"  # an array, not a Tensor: the usual rules
    assert (x @ W + mg.tensor(np.ones((3, 4, 2)))).grad_fn == "add"  # bigger than the product
    with mg.no_grad():
        assert (x @ W + b).grad_fn is None  # no graph, nothing to fuse
    y = x @ W + b
    assert y.grad_fn == "affine" and np.allclose(y.data, before + b.data)


def _keep(t, kept):
    kept.append(t)
    return t


def test_compile_step_records_the_same_program_with_and_without_the_fusion(unfused):
    """compile_step traces on its own arrays (not NumPy's): ``x @ W + b`` does not fuse there,
    so the recorded program is the one recorded before the fusion existed."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(16, 2)).astype(np.float32)
    y = rng.normal(size=(16, 1)).astype(np.float32)
    w0, b0 = rng.normal(size=(2, 8)).astype(np.float32), np.zeros(8, np.float32)
    sources = []
    for fuse in (None, ops_affine.fuse_bias):
        tensor_module._fuse_bias = fuse
        model = mg.nn.Sequential(mg.nn.Linear(2, 8, rng=0), mg.nn.ReLU(), mg.nn.Linear(8, 1, rng=1))
        W1, b1 = mg.tensor(w0, requires_grad=True), mg.tensor(b0, requires_grad=True)

        def loss_a(a, t, model=model):
            return mg.tensor.mse(model(a), t)

        def loss_b(a, t, W1=W1, b1=b1):
            return (a @ W1 + b1).relu().sum()

        step_a = mg.tensor.compile_step(loss_a, model.parameters())
        step_b = mg.tensor.compile_step(loss_b, [W1, b1])
        step_a(x, y)
        step_b(x, y)
        sources.append((step_a.source, step_b.source))
    assert sources[0] == sources[1]


def test_second_derivatives_through_a_fused_affine_node():
    """create_graph runs the affine row's formulas on Tensors: the Hessian-vector product of
    Σ tanh(x W + b)² in W matches central differences of the gradient (float64)."""
    rng = np.random.default_rng(6)
    x = mg.tensor(rng.normal(size=(4, 3)))
    W0, b0, v = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(3, 2))

    def grad_at(Wa):
        W = mg.tensor(Wa, requires_grad=True)
        ((x @ W + mg.tensor(b0)).tanh() ** 2).sum().backward()
        return W.grad.data

    W = mg.tensor(W0, requires_grad=True)
    b = mg.tensor(b0, requires_grad=True)
    out = ((x @ W + b).tanh() ** 2).sum()
    if ops_affine.FUSE_BIAS:
        assert _ops(out)[0] == "affine"
    out.backward(create_graph=True)
    gW = W.grad
    W.grad = b.grad = None
    (gW * mg.tensor(v)).sum().backward()
    eps = 1e-6
    fd = (grad_at(W0 + eps * v) - grad_at(W0 - eps * v)) / (2 * eps)
    np.testing.assert_allclose(W.grad.data, fd, rtol=1e-5, atol=1e-7)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 6),
    k=st.integers(1, 5),
    m=st.integers(1, 5),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_fused_and_unfused_agree_bit_for_bit(n, k, m, seed, dtype):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=s).astype(dtype) for s in ((n, k), (k, m), (m,))]
    runs = []
    saved = tensor_module._fuse_bias
    try:
        for fuse in (None, saved):
            tensor_module._fuse_bias = fuse
            x, W, b = (mg.tensor(a, requires_grad=True) for a in arrays)
            out = (x @ W + b).sigmoid().sum()
            out.backward()
            runs.append([out.item()] + [t.grad.data for t in (x, W, b)])
    finally:
        tensor_module._fuse_bias = saved
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1:], runs[1][1:]):
        assert a.dtype == dtype and np.array_equal(a, b)


def test_affine_refuses_shapes_that_do_not_align():
    from memograd.errors import ShapeError

    with pytest.raises(ShapeError, match=r"affine: shapes \(\) and \(2, 3\)"):
        mg.tensor.affine(np.float32(1.0), np.ones((2, 3), np.float32), np.ones(3, np.float32))
    with pytest.raises(ShapeError, match=r"do not align \(4 != 2\)"):
        mg.tensor.affine(np.ones((5, 4)), np.ones((2, 3)), np.ones(3))
    with pytest.raises(ShapeError, match="affine: shapes"):  # a bias that does not broadcast
        mg.tensor.affine(np.ones((5, 2)), np.ones((2, 3)), np.ones(4))


def test_memory_report_starts_a_layer_at_each_affine_node():
    from memograd.tensor.memory import memory_report

    rng = np.random.default_rng(7)
    x = mg.tensor(rng.normal(size=(6, 4)).astype(np.float32))
    W1, W2 = (
        mg.tensor(rng.normal(size=s).astype(np.float32), requires_grad=True)
        for s in ((4, 3), (3, 2))
    )
    b1, b2 = (mg.tensor(np.zeros(n, np.float32), requires_grad=True) for n in (3, 2))
    loss = ((x @ W1 + b1).relu() @ W2 + b2).sum()
    rows = memory_report(loss, show=False).layers
    first = "affine" if ops_affine.FUSE_BIAS else "matmul"
    assert [r["ops"][0] for r in rows] == [first, first] and [r["layer"] for r in rows] == [1, 2]
