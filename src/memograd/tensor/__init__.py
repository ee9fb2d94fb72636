"""The NumPy tensor engine: ``Tensor``, its primitives, and the functional API.

    import memograd as mg
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)   # float32 by default
    y = (x @ x.T).tanh().sum()
    y.backward()                                     # x.grad, via memograd.graph.backward
    mg.tensor.relu(x), mg.tensor.cross_entropy(logits, labels), mg.grad(f)(x)

``memograd.tensor`` is both this package and, called, the constructor: ``mg.tensor(data,
requires_grad=False, dtype=None)``. Modules: :mod:`.tensor` (Tensor, Node, no_grad, the op
functions), :mod:`.ops` (THE table of primitives and their VJPs, :func:`~.ops.unbroadcast`),
:mod:`.functional` (grad, value_and_grad, vjp, jvp, jacfwd, jacrev, jacobian, hessian, hvp),
:mod:`.interop` (numpy functions on Tensors run table rows), :mod:`.compile` (``compile_step``:
a fixed-shape training step recorded once through the same backward and replayed as straight-line
NumPy into
preallocated buffers, for speed on small batches and small nets).
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

from numpy.typing import ArrayLike, DTypeLike

from memograd.tensor import (  # noqa: F401 - interop sets Tensor's numpy hooks
    api,
    conv,
    interop,
    nnf,
    ops,
    ops_affine,
    ops_index,
    ops_linalg,
    ops_math,
    ops_reduce,
    ops_shape,
)
from memograd.tensor.api import (
    arange,
    bce_with_logits,
    broadcast_to,
    cat,
    concatenate,
    expand,
    full,
    getitem,
    matmul,
    mse,
    ones,
    ones_like,
    permute,
    pow,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
    where,
    zeros,
    zeros_like,
)
from memograd.tensor.compile import CompiledStep, compile_step
from memograd.tensor.conv import *  # noqa: F403 - each op family's public names
from memograd.tensor.functional import (
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    value_and_grad,
    vjp,
)
from memograd.tensor.nnf import *  # noqa: F403
from memograd.tensor.ops import TABLE, unbroadcast
from memograd.tensor.ops_affine import *  # noqa: F403
from memograd.tensor.ops_index import *  # noqa: F403
from memograd.tensor.ops_linalg import *  # noqa: F403
from memograd.tensor.ops_math import *  # noqa: F403
from memograd.tensor.ops_reduce import *  # noqa: F403
from memograd.tensor.ops_shape import *  # noqa: F403
from memograd.tensor.tensor import Tensor, enable_grad, is_grad_enabled, no_grad, tensor

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
    "jvp",
    "jacfwd",
    "jacrev",
    "jacobian",
    "hessian",
    "hvp",
    "arange",
    "bce_with_logits",
    "broadcast_to",
    "cat",
    "concatenate",
    "enable_grad",
    "expand",
    "full",
    "getitem",
    "is_grad_enabled",
    "matmul",
    "mse",
    "no_grad",
    "ones",
    "ones_like",
    "permute",
    "pow",
    "reshape",
    "squeeze",
    "stack",
    "transpose",
    "unsqueeze",
    "where",
    "zeros",
    "zeros_like",
]
# the op families (issue 10): each module's own list, so a new op is named in one place
__all__ += ops_math.__all__
__all__ += ops_index.__all__
__all__ += ops_reduce.__all__
__all__ += ops_linalg.__all__
__all__ += ops_affine.__all__
__all__ += ops_shape.__all__
__all__ += conv.__all__
__all__ += nnf.__all__
__all__ += [name for name in api.GENERATED if name not in __all__]  # the table's functions

if TYPE_CHECKING:
    from collections.abc import Callable

    def __getattr__(name: str) -> Callable[..., Tensor]:
        """The functions :mod:`.api` generates from the table's rows at import (relu, sum, exp,
        ...): each takes tensors (or arrays) and constant parameters and returns a Tensor."""
        ...


class _CallableModule(types.ModuleType):
    """``mg.tensor`` names both this package and the constructor: calling the package builds a
    tensor, so ``mg.tensor([1.0])`` works whichever of the two Python resolved first."""

    def __call__(
        self,
        data: ArrayLike,
        requires_grad: bool = False,
        dtype: DTypeLike | None = None,
        name: str | None = None,
    ) -> Tensor:
        return tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


sys.modules[__name__].__class__ = _CallableModule
