"""memograd.nn.layers: what MLP accepts as its widths, and the error for what it does not."""

import re

import numpy as np
import pytest

import memograd as mg
from memograd.errors import MemogradTypeError, ShapeError


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((2, [4, 1]), "here write MLP([2, 4, 1])"),
        ((3,), "got the int 3"),
        (("23",), "got str '23'"),
        (([2.5, 3],), "every width must be an int, got 2.5"),
        (([2, True],), "every width must be an int, got True"),
    ],
)
def test_mlp_widths_spelled_wrong_get_a_clear_error(args, needle):
    """MLP(2, [4, 1]) is the scalar engine's spelling; mg.nn.MLP names the one it wants."""
    with pytest.raises(MemogradTypeError, match=re.escape(needle)):
        mg.nn.MLP(*args)


def test_mlp_widths_accept_tuples_and_arrays():
    for widths in ((2, 3, 1), np.array([2, 3, 1]), [np.int64(2), 3, 1]):
        model = mg.nn.MLP(widths, seed=0)
        assert [p.shape for p in model.parameters()] == [(2, 3), (3,), (3, 1), (1,)]


def test_linear_names_its_sizes_when_the_input_does_not_fit():
    model = mg.nn.MLP([2, 3, 1], seed=0)
    with pytest.raises(ShapeError, match=re.escape("Linear(2 -> 3): input of shape (4, 5)")):
        model(np.ones((4, 5), dtype=np.float32))
    with pytest.raises(ShapeError, match="takes 2"):
        model(np.float32(1.0))
    assert model(np.ones((4, 2), dtype=np.float32)).shape == (4, 1)


def test_a_replaced_bias_of_the_wrong_shape_is_named_not_blamed_on_the_input():
    """The bias is added inside the layer's shape check (one affine node): an input that fits
    keeps the add's own message, not "input ... has 3 features ... takes 3"."""
    layer = mg.nn.Linear(3, 2)
    layer.bias = mg.nn.Parameter(np.zeros(5, np.float32))
    with pytest.raises(ShapeError, match=re.escape("add: shapes (4, 2) and (5,)")):
        layer(np.ones((4, 3), dtype=np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_with_a_bias_is_one_affine_node_with_the_two_node_gradients(dtype):
    """Linear's forward is ``matmul(x, W) + b`` on a temporary product: one affine node per layer
    (ops_affine), and every gradient equal, bit for bit, to the matmul-then-add graph."""
    import sys

    from memograd import graph

    tensor_module = sys.modules["memograd.tensor.tensor"]
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 3)).astype(dtype)

    def run(fuse):
        saved = tensor_module._fuse_bias
        if not fuse:
            tensor_module._fuse_bias = None
        try:
            model = mg.nn.MLP([3, 4, 2], seed=1, dtype=dtype)
            out = model(mg.tensor(x))
            ops = [n.prim.name for n in graph.topological_order(out._node) if hasattr(n, "prim")]
            (out * out).sum().backward()
        finally:
            tensor_module._fuse_bias = saved
        return ops, [p.grad.numpy() for p in model.parameters()]

    fused_ops, fused = run(True)
    plain_ops, plain = run(False)
    assert fused_ops.count("affine") == 2 and "matmul" not in fused_ops
    assert plain_ops.count("matmul") == 2 and "affine" not in plain_ops
    for a, b in zip(fused, plain, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_linear_without_a_bias_stays_a_matmul():
    layer = mg.nn.Linear(3, 2, bias=False)
    out = layer(mg.tensor(np.ones((4, 3))))
    assert out._node.prim.name == "matmul"
