"""The affine op ``y = x W + b`` as ONE node of the graph (PyTorch's ``addmm``): the bias goes
into the fresh product (no second array), and backward visits one node where ``x @ W + b``
made two.

VJP (the rows of ``matmul`` and ``add`` side by side, so the shares are the same numbers):
``∂L/∂x = g Wᵀ``, ``∂L/∂W = xᵀ g``, ``∂L/∂b = g`` summed over the axes b was broadcast along
(:func:`~memograd.tensor.ops.unbroadcast`, ``Σ_rows g`` for a bias vector).

Two ways in: ``mg.tensor.affine(x, W, b)``, and ``x @ W + b`` written with operators: when
``Tensor.__add__`` sees that its left operand is the fresh result of a matmul that nothing else
refers to (a temporary of the expression: CPython's reference count says so, as NumPy's own
temporary elision does), it turns that product's node into this op (:func:`fuse_bias`).
Nothing else can see the difference: the product was about to be dropped, and the gradients are
the same numbers. Only on plain NumPy arrays outside create_graph formulas: ``compile_step``'s
tracing (traced arrays) and higher-order graphs record ``matmul`` and ``add`` as before, so the
recorded programs do not change. :class:`memograd.nn.Linear` writes ``matmul(x, W) + b`` as
such a temporary: a layer with a bias is one affine node in the eager graph.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from memograd.errors import ShapeError
from memograd.tensor.api import _many
from memograd.tensor.mode import _Mode
from memograd.tensor.ops import TABLE, Operand, _matmul_vjp, _mm, register, rule
from memograd.tensor.tensor import Tensor, _apply, _new

__all__ = ["affine"]

# The reference count that marks a temporary is CPython's, and 3.14 lets the interpreter's stack
# borrow references (a named variable could then read as a temporary; NumPy asks the C API
# instead, which Python code cannot): no fusion there, ``x @ W + b`` stays two nodes.
FUSE_BIAS = sys.implementation.name == "cpython" and sys.version_info < (3, 14)


def _affine(x: Operand, w: Operand, b: Operand) -> Operand:
    """x W + b. The product is a fresh array: a bias of its dtype that broadcasts into its
    shape is added in place (one array and one pass fewer than ``x @ W`` then ``+ b``)."""
    y = _mm(x, w)
    if (
        type(y) is np.ndarray
        and type(b) is np.ndarray
        and b.dtype == y.dtype
        and b.ndim <= y.ndim
        and y.shape[y.ndim - b.ndim :] == b.shape
    ):
        return np.add(y, b, out=y)
    return y + b


def _example(rng: np.random.Generator) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return (rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(2,))), {}


register(
    rule(
        "affine",
        _affine,
        lambda g, y, x, w, b: _matmul_vjp(g, x, w, 0),
        lambda g, y, x, w, b: _matmul_vjp(g, x, w, 1),
        lambda g, y, x, w, b: g,  # reduced to b's shape by unbroadcast (broadcasts=True)
        saves="x",
        broadcasts=True,
        example=_example,
    )
)


def affine(x: Any, w: Any, b: Any) -> Tensor:
    """x W + b in one op (PyTorch's addmm): ∂x = g Wᵀ, ∂W = xᵀ g,
    ∂b = Σ g over the axes b is broadcast along. NumPy's matmul rules for x and W."""
    if type(x) is Tensor and type(w) is Tensor and type(b) is Tensor:
        dx, dw = x.data, w.data
        if (
            dx.ndim == 2
            and dw.ndim == 2
            and dx.shape[1] == dw.shape[0]
            and dw.dtype == dx.dtype
            and b.data.dtype == dx.dtype
        ):  # the common case: two matrices and a bias of one dtype
            return _apply(TABLE["affine"], (x, w, b), {})
    xs = _many("affine", (x, w, b))
    sa, sb = xs[0].data.shape, xs[1].data.shape
    if not sa or not sb:
        raise ShapeError(f"affine: shapes {sa} and {sb}: x and W must have at least one dimension")
    ka, kb = sa[-1], sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ShapeError(f"affine: shapes {sa} and {sb} do not align ({ka} != {kb})")
    return _apply(TABLE["affine"], xs, {})


def fuse_bias(product: Tensor, bias: Tensor) -> Tensor | None:
    """``product + bias`` as one affine node, when ``product`` is a temporary made by ``matmul``
    on NumPy arrays (``Tensor.__add__`` has checked that only the expression refers to it) and
    ``bias`` broadcasts into it with its dtype: the sum goes into the product's array, and the
    product's node becomes the affine node of the result. None: add as usual.

    The node keeps what the matmul saved (x and W, their version counters and locks) and the
    bias's array for the create_graph formulas; the bias is neither locked nor version-checked
    (backward reads only its shape, as ``add`` did)."""
    node = product._node
    y = product.data
    b = bias.data
    if (
        node is None
        or node.prim is not TABLE["matmul"]
        or node.retained is not None
        or _Mode.create
        or type(y) is not np.ndarray
        or type(b) is not np.ndarray
        or b.dtype != y.dtype
        or b.ndim > y.ndim
        or y.shape[y.ndim - b.ndim :] != b.shape
        or sys.getrefcount(y) > 3  # the product's slot, the local y, the call's argument
        or sys.getrefcount(node) > 3  # the same three: no other node has it as a parent
    ):
        return None
    np.add(y, b, out=y)
    node.prim = TABLE["affine"]
    pb = (bias if bias._node is None else bias._node) if bias.requires_grad else None
    node._parents = (*node._parents, pb)
    node.xs = [*node.xs, b]
    t = _new(Tensor)
    t.data = y
    t.grad = t.name = None
    t._vc = [0]
    t.requires_grad = True
    t._node = node
    return t


# Tensor.__add__ calls it (memograd.tensor.tensor cannot import this module: it imports that one)
sys.modules[Tensor.__module__]._fuse_bias = fuse_bias if FUSE_BIAS else None  # type: ignore[attr-defined]
