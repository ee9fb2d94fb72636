"""NumPy interop: numpy functions called on Tensors run the table's rows (HIPS autograd's habit).

    np.exp(t), np.sum(t, axis=0), np.concatenate([t, u]), np.where(t > 0, t, 0)  # graph kept
    np.sin(t)        # a ufunc no row implements: MemogradTypeError naming what to use instead

``Tensor.__array_ufunc__`` and ``Tensor.__array_function__`` look the numpy callable up in
:data:`memograd.tensor.ops.NUMPY` (rows declare ``numpy=``) and in the few adapters below
(numpy's signature mapped onto the row's parameters). What carries no gradient is computed on the
values: comparisons, ``np.isfinite``, ``np.sign``/``np.floor`` (piecewise constant: derivative 0),
shape queries, ``np.zeros_like``. Anything else raises one clear error when a Tensor that requires
grad is involved (never a silent drop of the graph); on tensors without grad it runs on their
values, as numpy always did.

The same dispatch is what makes the VJP formulas twice-differentiable: under
``backward(create_graph=True)`` they receive Tensors, and their numpy calls land here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

import numpy as np

from memograd.errors import GraphError, MemogradTypeError
from memograd.tensor import api as A
from memograd.tensor.ops import NUMPY
from memograd.tensor.tensor import Tensor, _binary, _Mode, _unary, _wrap
from memograd.tensor.tensor import tensor as _tensor

# The arguments numpy hands to __array_ufunc__ / __array_function__ are whatever the caller
# passed (Tensors, arrays, numbers, nested lists): typed Any below. api's table functions
# (mul, clip, ...) are generated at import, so they are reached through this name.
_generated: Any = A

__all__: list[str] = []

# Ufuncs whose result carries no gradient (bool/int results, or piecewise constant: zero gradient).
_CONSTANT_UFUNCS = {
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_xor, np.logical_not, np.isfinite, np.isnan,
    np.isinf, np.signbit, np.sign, np.floor, np.ceil, np.trunc, np.rint, np.bitwise_and,
    np.bitwise_or, np.bitwise_xor, np.invert,
}  # fmt: skip
_REDUCE_ROWS = {np.add: "sum", np.maximum: "max", np.minimum: "min"}


def _any_grad(objs: Iterable[object]) -> bool:
    for o in objs:
        if type(o) is Tensor:
            if o.requires_grad:
                return True
        elif isinstance(o, (list, tuple)) and _any_grad(o):
            return True
    return False


def _values(obj: Any) -> Any:
    """``obj`` with every Tensor replaced by its array (in lists and tuples too)."""
    if type(obj) is Tensor:
        return obj.data
    if isinstance(obj, (list, tuple)):
        return type(obj)(_values(o) for o in obj)
    return obj


def _refuse(what: str, instead: str) -> None:
    if _Mode.create:  # inside a create_graph backward: the formula of a row is at fault
        raise GraphError(
            f"backward(create_graph=True): a VJP formula called {what} on a Tensor that "
            "requires grad; it cannot be recorded, so this row is not twice-differentiable "
            "(write it with table ops / ops.call, or mark it twice=False)"
        )
    raise MemogradTypeError(
        f"{what} on a Tensor that requires grad: memograd has no differentiable version, and "
        f"converting would silently drop the graph; {instead}"
    )


def _hint(name: str) -> str:
    mg_name = name if hasattr(A, name) or name in _table_names() else None
    if mg_name:
        return f"use mg.tensor.{mg_name}(...) or the Tensor method"
    return (
        "compose it from mg.tensor ops, or apply it to t.detach().numpy() for a value without "
        "gradient"
    )


def _table_names() -> dict[str, Any]:
    from memograd.tensor.ops import TABLE

    return TABLE


def array_ufunc(self: Tensor, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    """``Tensor.__array_ufunc__``: a ufunc on Tensors runs the row that implements it."""
    out = kwargs.pop("out", None)
    if out is not None and _Mode.create:  # inside a VJP formula
        if _any_grad(inputs):
            _refuse(f"np.{ufunc.__name__}(..., out=...)", "")
        if not any(type(o) is Tensor for o in out):  # constants into an array: plain numpy
            return getattr(ufunc, method)(*_values(inputs), out=out, **kwargs)
    if out is not None:
        raise MemogradTypeError(
            f"np.{ufunc.__name__}(..., out=...) with a Tensor: tensors are not written by numpy "
            "in place; use the result (t = np.f(t)) or the Tensor in-place operators under "
            "mg.no_grad()"
        )
    if method == "__call__":
        row = NUMPY.get(ufunc)
        if row is not None and not kwargs:
            if ufunc.nin == 1:
                return _unary(row.name, inputs[0])
            if ufunc is np.matmul:
                return A.matmul(*inputs)
            return _binary(row.name, *inputs)
        if ufunc in _CONSTANT_UFUNCS or not _any_grad(inputs):
            result = ufunc(*_values(inputs), **kwargs)
            return _wrap(np.asarray(result)) if not isinstance(result, tuple) else result
        _refuse(f"np.{ufunc.__name__}", _hint(ufunc.__name__))
    if method == "reduce" and ufunc in _REDUCE_ROWS:
        (a,) = inputs
        axis = kwargs.pop("axis", 0)
        keepdims = kwargs.pop("keepdims", False)
        kwargs.pop("dtype", None)
        initial = kwargs.pop("initial", None)
        if kwargs:
            _refuse(f"np.{ufunc.__name__}.reduce with {sorted(kwargs)}", "drop those arguments")
        a = a if type(a) is Tensor else _tensor(a)
        if initial is not None and ufunc is not np.add and a.size == 0:
            return _wrap(ufunc.reduce(a.data, axis=axis, keepdims=keepdims, initial=initial))
        return A._reduction(_REDUCE_ROWS[ufunc], a, axis, keepdims)
    if not _any_grad(inputs):
        result = getattr(ufunc, method)(*_values(inputs), **kwargs)
        return None if result is None else _wrap(np.asarray(result))
    _refuse(f"np.{ufunc.__name__}.{method}", "use mg.tensor ops (sum, max, min, index_add)")


# -------------------------------------------------------------------------- numpy functions
def _reduction(name: str) -> Callable[..., Tensor]:
    def handler(
        a: Any,
        axis: Any = None,
        dtype: Any = None,
        out: Any = None,
        keepdims: bool = False,
        **kw: Any,
    ) -> Tensor:
        _no_out(name, out)
        if name in ("var", "std"):
            return A._reduction(name, _t(a), axis, keepdims, ddof=kw.pop("ddof", 0))
        return A._reduction(name, _t(a), axis, keepdims)

    return handler


def _no_out(name: str, out: object) -> None:
    if out is not None:
        raise MemogradTypeError(f"np.{name}(..., out=...) with a Tensor is not supported")


def _t(a: Any) -> Tensor:
    return a if type(a) is Tensor else _tensor(a)


def _split(a: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    a = _t(a)
    n = a.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        step = n // int(indices_or_sections)
        cuts = list(range(step, n, step))[: int(indices_or_sections) - 1]
    else:
        cuts = [int(i) for i in indices_or_sections]
    bounds = [0, *cuts, n]
    pieces: list[Tensor] = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        key = (slice(None),) * (axis % a.ndim) + (slice(lo, hi),)
        pieces.append(A.getitem(a, key))
    return pieces


def _take(array: Any, indices: Any, axis: int | None = None) -> Tensor:
    a = _t(array)
    if axis is None:
        return A.getitem(A.reshape(a, (-1,)), indices)
    key = (slice(None),) * (axis % a.ndim) + (indices,)
    return A.getitem(a, key)


def _swapaxes(array: Any, axis1: int, axis2: int) -> Tensor:
    a = _t(array)
    axes = list(range(a.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return A.transpose(a, tuple(axes))


def _moveaxis_perm(ndim: int, source: int, destination: int) -> tuple[int, ...]:
    order = [n for n in range(ndim) if n != source % ndim]
    order.insert(destination % ndim, source % ndim)
    return tuple(order)


def _expand_dims(array: Any, axis: int | tuple[int, ...] | list[int]) -> Tensor:
    a = _t(array)
    if isinstance(axis, (tuple, list)):
        return A.reshape(a, np.expand_dims(np.empty(a.shape, bool), axis).shape)
    return A.unsqueeze(a, axis)


def _constant(func: Callable[..., Any]) -> Callable[..., Any]:
    def handler(*args: Any, **kwargs: Any) -> Any:
        return func(*_values(args), **{k: _values(v) for k, v in kwargs.items()})

    return handler


def _dot(x: Any, y: Any, out: Any = None) -> Tensor:
    _no_out("dot", out)
    a, b = _t(x), _t(y)
    if a.ndim == 0 or b.ndim == 0:
        return cast(Tensor, _generated.mul(a, b))
    if b.ndim > 2:
        _refuse("np.dot of an operand with more than 2 dims", "use np.matmul / mg.tensor.matmul")
    return A.matmul(a, b)


def _concatenate(arrays: Any, axis: int | None = 0, out: Any = None, **kw: Any) -> Tensor:
    _no_out("concatenate", out)
    return A.concatenate(arrays, axis=axis)


def _stack(arrays: Any, axis: int = 0, out: Any = None, **kw: Any) -> Tensor:
    _no_out("stack", out)
    return A.stack(arrays, axis=axis)


def _where(cond: Any, a: Any = None, b: Any = None) -> Any:
    if a is None or (type(a) is not Tensor and type(b) is not Tensor):
        return np.where(*_values((cond,) if a is None else (cond, a, b)))  # constants only
    return A.where(cond, a, b)


def _clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, **kw: Any) -> Tensor:
    _no_out("clip", out)
    return cast(Tensor, _generated.clip(a, kw.get("min", a_min), kw.get("max", a_max)))


def _copy(a: Any, *args: Any, **kwargs: Any) -> Tensor:
    """np.copy: a new node with the same values (ops never edit their inputs in place)."""
    return _binary("add", _t(a), 0)  # _t(a) + 0


FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.sum: _reduction("sum"),
    np.mean: _reduction("mean"),
    np.max: _reduction("max"),
    np.amax: _reduction("max"),
    np.min: _reduction("min"),
    np.amin: _reduction("min"),
    np.var: _reduction("var"),
    np.std: _reduction("std"),
    np.reshape: lambda a, shape=None, order="C", **kw: A.reshape(_t(a), kw.get("newshape", shape)),
    np.transpose: lambda a, axes=None: A.transpose(_t(a), axes),
    np.swapaxes: _swapaxes,
    np.moveaxis: lambda a, source, destination: A.transpose(
        _t(a), _moveaxis_perm(np.ndim(_values(a)), source, destination)
    ),
    np.expand_dims: _expand_dims,
    np.squeeze: lambda a, axis=None: A.squeeze(_t(a), axis),
    np.broadcast_to: lambda a, shape, subok=False: A.broadcast_to(_t(a), shape),
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.split: _split,
    np.take: _take,
    np.where: _where,
    np.clip: _clip,
    np.dot: _dot,
    np.matmul: lambda a, b, **kw: A.matmul(a, b),
    np.copy: _copy,
    np.ravel: lambda a, order="C": A.reshape(_t(a), (-1,)),
    np.sort: lambda a, axis=-1, kind=None, order=None, **kw: _sort(a, axis),
}


def _sort(array: Any, axis: int | None) -> Tensor:
    """np.sort keeps the graph: the values move, their adjoints move back (mg.tensor.sort);
    axis=None sorts the flattened array, as numpy does."""
    from memograd.tensor.ops_reduce import sort

    a = _t(array)
    return sort(A.reshape(a, (-1,)), -1) if axis is None else sort(a, axis)


for _f in (
    np.shape, np.ndim, np.size, np.result_type, np.may_share_memory, np.shares_memory,
    np.zeros_like, np.ones_like, np.empty_like, np.full_like, np.isclose, np.allclose,
    np.array_equal, np.argmax, np.argmin, np.argsort, np.nonzero, np.count_nonzero, np.any,
    np.all, np.isfinite, np.broadcast_shapes, np.array_equiv,
):  # fmt: skip
    FUNCTIONS[_f] = _constant(_f)


def _accepted(fn: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments ``fn`` takes (numpy-only tuning knobs such as einsum's
    ``optimize`` are dropped: they do not change the values)."""
    import inspect

    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in params}


def array_function(
    self: Tensor,
    func: Callable[..., Any],
    types: Iterable[type],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """``Tensor.__array_function__``: a numpy function on Tensors runs the matching op."""
    handler = FUNCTIONS.get(func)
    if handler is not None:
        return handler(*args, **kwargs)
    row = NUMPY.get(func)
    import memograd.tensor as package

    if row is not None and row.public is not None:
        return getattr(package, row.name)(*args, **kwargs)
    same = getattr(package, func.__name__, None)  # a table op with NumPy's name and signature
    if callable(same) and func.__name__ in _table_names():
        return same(*args, **_accepted(same, kwargs))
    if not _any_grad(args) and not _any_grad(tuple(kwargs.values())):
        return func(*_values(args), **{k: _values(v) for k, v in kwargs.items()})
    if _Mode.create:
        raise GraphError(
            f"backward(create_graph=True): a VJP formula called np.{func.__name__} on a Tensor; "
            "it has no differentiable version here (see memograd.tensor.interop)"
        )
    _refuse(f"np.{func.__name__}", _hint(func.__name__))


setattr(Tensor, "__array_ufunc__", array_ufunc)  # noqa: B010
setattr(Tensor, "__array_function__", array_function)  # noqa: B010
