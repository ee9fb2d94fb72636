"""The NumPy tensor engine: ``Tensor``, its primitives, and the functional API.

    import memograd as mg
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)   # float32 by default
    y = (x @ x.T).tanh().sum()
    y.backward()                                     # x.grad, via memograd.graph.backward
    mg.tensor.relu(x), mg.tensor.cross_entropy(logits, labels), mg.grad(f)(x)

``memograd.tensor`` is both this package and, called, the constructor: ``mg.tensor(data,
requires_grad=False, dtype=None)``. Modules: :mod:`.tensor` (Tensor, Node, no_grad, the op
functions), :mod:`.ops` (THE table of primitives and their VJPs, :func:`~.ops.unbroadcast`),
:mod:`.functional` (grad, value_and_grad, vjp), :mod:`.compile` (``compile_step``: a fixed-shape
training step recorded once through the same backward and replayed as straight-line NumPy into
preallocated buffers, for speed on small batches and small nets).
"""

from __future__ import annotations

import sys
import types

from memograd.tensor import ops
from memograd.tensor.compile import CompiledStep, compile_step
from memograd.tensor.functional import grad, value_and_grad, vjp
from memograd.tensor.ops import TABLE, unbroadcast
from memograd.tensor.tensor import (
    Tensor,
    abs,
    add,
    arange,
    bce_with_logits,
    binary_cross_entropy_with_logits,
    broadcast_to,
    cat,
    clip,
    concatenate,
    cross_entropy,
    div,
    enable_grad,
    exp,
    expand,
    full,
    gelu,
    getitem,
    is_grad_enabled,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mse,
    mul,
    neg,
    no_grad,
    ones,
    ones_like,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    squeeze,
    stack,
    sub,
    sum,
    tanh,
    tensor,
    transpose,
    unsqueeze,
    var,
    where,
    zeros,
    zeros_like,
)

__all__ = [
    "compile_step",
    "CompiledStep",
    "Tensor",
    "tensor",
    "ops",
    "TABLE",
    "unbroadcast",
    "grad",
    "value_and_grad",
    "vjp",
    "abs",
    "add",
    "arange",
    "bce_with_logits",
    "binary_cross_entropy_with_logits",
    "broadcast_to",
    "cat",
    "clip",
    "concatenate",
    "cross_entropy",
    "div",
    "enable_grad",
    "exp",
    "expand",
    "full",
    "gelu",
    "getitem",
    "is_grad_enabled",
    "leaky_relu",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mse",
    "mul",
    "neg",
    "no_grad",
    "ones",
    "ones_like",
    "permute",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "softmax",
    "sqrt",
    "squeeze",
    "stack",
    "sub",
    "sum",
    "tanh",
    "transpose",
    "unsqueeze",
    "var",
    "where",
    "zeros",
    "zeros_like",
]


class _CallableModule(types.ModuleType):
    """``mg.tensor`` names both this package and the constructor: calling the package builds a
    tensor, so ``mg.tensor([1.0])`` works whichever of the two Python resolved first."""

    def __call__(self, data, requires_grad: bool = False, dtype=None, name=None) -> Tensor:
        return tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


sys.modules[__name__].__class__ = _CallableModule
