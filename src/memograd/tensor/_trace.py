"""Tracing for ``compile_step``: arrays that compute real values and record every NumPy call.

A :class:`_Sym` stands in for an ndarray inside ``loss_fn`` and the shared backward; NumPy's
dispatch protocols (``__array_ufunc__``, ``__array_function__``) send each call to the
:class:`_Recorder`, which computes the value as usual and appends an :class:`_Instr` (the call,
its operands as slots, the slot it defines and the ones it writes). Values that do not depend on
the inputs or parameters are folded into constants; a ``bool`` of a traced value becomes a
guard the replay re-checks. :mod:`memograd.tensor._program` turns the recording into code.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import Any

import numpy as np

from memograd.errors import GraphError

_REDUCERS = {
    np.sum: np.add,
    np.max: np.maximum,
    np.amax: np.maximum,
    np.min: np.minimum,
}
_REDUCERS[np.amin] = np.minimum
_QUERIES = {
    np.ndim,
    np.shape,
    np.size,
    np.may_share_memory,
    np.shares_memory,
    np.result_type,
}


# ------------------------------------------------------------------------------------ tracing
class _Sym:
    """A traced array: a real value ``v`` (computed as usual) and the slot ``k`` recording it."""

    __slots__ = ("k", "rec", "v")
    _traced = True

    def __init__(self, rec: _Recorder, v: np.ndarray, k: int) -> None:
        self.v, self.k, self.rec = v, k, rec

    @property
    def shape(self) -> tuple[int, ...]:
        return self.v.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.v.dtype

    @property
    def ndim(self) -> int:
        return self.v.ndim

    @property
    def size(self) -> int:
        return self.v.size

    @property
    def T(self) -> Any:  # noqa: N802 - numpy's name
        return np.transpose(self)

    def __len__(self) -> int:
        return len(self.v)

    def __bool__(self) -> bool:  # a value-dependent branch: frozen at record time, checked
        return self.rec.guard(self)

    def __float__(self) -> float:
        return float(self.v)

    def __int__(self) -> int:
        return int(self.v)

    def item(self) -> Any:
        return self.v.item()

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise GraphError(
            "compile_step: a traced array was converted to a plain numpy array (np.asarray or "
            "a non-numpy library); this step cannot be compiled, use the eager engine"
        )

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return self.rec.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return self.rec.function(func, args, kwargs)

    def __getitem__(self, key: Any) -> _Sym:
        return self.rec.getitem(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.rec.setitem(self, key, value)

    def sum(self, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Any:
        return np.sum(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Any:
        return np.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Any:
        return np.min(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Any:
        return np.mean(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def all(self, axis: Any = None, keepdims: bool = False) -> Any:
        return np.all(self, axis=axis, keepdims=keepdims)

    def any(self, axis: Any = None, keepdims: bool = False) -> Any:
        return np.any(self, axis=axis, keepdims=keepdims)

    def __getattr__(self, name: str) -> Any:  # only for names the class does not define
        if name.startswith("__"):
            raise AttributeError(name)
        raise _Unsupported(
            f"compile_step: traced arrays have no .{name}() (loss_fn called an ndarray method "
            f"compile_step does not record); use the numpy function (np.{name}(x)) or the eager "
            "engine for this loss_fn"
        )

    def reshape(self, *shape: Any) -> Any:
        return np.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Any:
        return np.transpose(self, axes[0] if len(axes) == 1 else (axes or None))

    def astype(self, dtype: Any, copy: bool = True) -> _Sym:
        if not copy and np.dtype(dtype) == self.v.dtype:
            return self
        return self.rec.copy(self, np.dtype(dtype))

    def copy(self) -> _Sym:
        return self.rec.copy(self, self.v.dtype)


def _binop(ufunc: Any) -> tuple[Callable[..., Any], ...]:
    return (
        lambda s, o: ufunc(s, o),
        lambda s, o: ufunc(o, s),
        lambda s, o: ufunc(s, o, out=(s,)),
    )


for _name, _uf in [
    ("add", np.add),
    ("sub", np.subtract),
    ("mul", np.multiply),
    ("truediv", np.divide),
    ("pow", np.power),
    ("matmul", np.matmul),
    ("and", np.bitwise_and),
    ("or", np.bitwise_or),
]:
    _f, _r, _i = _binop(_uf)
    setattr(_Sym, f"__{_name}__", _f)
    setattr(_Sym, f"__r{_name}__", _r)
    setattr(_Sym, f"__i{_name}__", _i)
for _name, _uf in [
    ("lt", np.less),
    ("le", np.less_equal),
    ("gt", np.greater),
    ("ge", np.greater_equal),
    ("eq", np.equal),
    ("ne", np.not_equal),
]:
    setattr(_Sym, f"__{_name}__", _binop(_uf)[0])
setattr(_Sym, "__neg__", lambda s: np.negative(s))  # noqa: B010
setattr(_Sym, "__abs__", lambda s: np.absolute(s))  # noqa: B010
setattr(_Sym, "__invert__", lambda s: np.invert(s))  # noqa: B010
setattr(_Sym, "__hash__", object.__hash__)  # noqa: B010


class _Unsupported(GraphError, AttributeError):
    """An ndarray method a traced array does not have (still an AttributeError for getattr)."""


def _identifier(name: Any) -> str:
    """A keyword-argument name pasted into the generated source: a plain identifier only."""
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise GraphError(
            f"compile_step: keyword argument name {name!r} is not a Python identifier; "
            "compile_step only records calls with plain keyword names"
        )
    return name


class _Slot:
    """What a recorded value is: ``kind`` in input, param, const, buf (computed into a buffer),
    fresh (a new array per call), view (of ``base``)."""

    __slots__ = ("base", "dtype", "index", "kind", "shape", "value")

    def __init__(
        self, kind: str, value: Any, base: int | None = None, index: int | None = None
    ) -> None:
        self.kind, self.value, self.base, self.index = kind, value, base, index
        self.shape = getattr(value, "shape", ())
        self.dtype: Any = getattr(value, "dtype", None)


class _Instr:
    """One recorded numpy call. ``op`` in ufunc, reduce, at, call, view, getitem, setitem, copy;
    ``out`` the slot it defines (or None); ``writes`` the slots it mutates."""

    __slots__ = ("args", "fn", "kwargs", "op", "out", "writes")

    def __init__(
        self,
        op: str,
        fn: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        out: int | None = None,
        writes: Any = (),
    ) -> None:
        self.op, self.fn, self.args, self.kwargs, self.out, self.writes = (
            op,
            fn,
            args,
            kwargs,
            out,
            tuple(writes),
        )

    def reads(self) -> list[int]:
        found: list[int] = []
        _collect(self.args, found)
        _collect(tuple(self.kwargs.values()), found)
        return found


def _collect(obj: Any, found: list[int]) -> None:
    if isinstance(obj, _Sym):
        found.append(obj.k)
    elif isinstance(obj, (tuple, list)):
        for o in obj:
            _collect(o, found)


def _unwrap(obj: Any) -> Any:
    if isinstance(obj, _Sym):
        return obj.v
    if isinstance(obj, tuple):
        return tuple(_unwrap(o) for o in obj)
    if isinstance(obj, list):
        return [_unwrap(o) for o in obj]
    return obj


class _Recorder:
    def __init__(self) -> None:
        self.slots: list[_Slot] = []
        self.instrs: list[_Instr] = []

    def new(self, kind: str, value: Any, base: int | None = None, index: int | None = None) -> _Sym:
        if not isinstance(value, np.ndarray):
            value = np.asarray(value)
        self.slots.append(_Slot(kind, value, base, index))
        return _Sym(self, value, len(self.slots) - 1)

    def _root(self, k: int) -> int:
        while self.slots[k].kind == "view":
            k = self._base(k)
        return k

    def _base(self, k: int) -> int:
        base = self.slots[k].base
        assert base is not None  # a view always records its base
        return base

    def _result(self, value: Any, inputs: Any) -> tuple[str, int | None]:
        """A result that shares memory with a traced input is a view of it; else it is new."""
        for s in inputs:
            if isinstance(s, _Sym) and np.shares_memory(value, s.v):
                return "view", s.k
        return "fresh", None

    def ufunc(self, ufunc: Any, method: str, inputs: Any, kwargs: dict[str, Any]) -> Any:
        out = kwargs.pop("out", None)
        values = [_unwrap(x) for x in inputs]
        if method == "__call__":
            if ufunc.nout != 1:
                raise GraphError(f"compile_step: ufunc {ufunc.__name__} has several outputs")
            if out is not None:
                (target,) = out
                if not isinstance(target, _Sym):
                    raise GraphError("compile_step: out= must be a traced array")
                ufunc(*values, out=target.v, **kwargs)
                k = target.k
                self.instrs.append(
                    _Instr("ufunc", ufunc, tuple(inputs), kwargs, None, self._writes(k))
                )
                return target
            value = ufunc(*values, **kwargs)
            if self._constant(inputs):
                return self.new("const", value)  # folded at record time
            sym = self.new("buf", value)
            self.instrs.append(_Instr("ufunc", ufunc, tuple(inputs), kwargs, sym.k))
            return sym
        if method == "reduce":
            if out is not None:
                raise GraphError("compile_step: reduce with out= is not supported")
            value = ufunc.reduce(*values, **kwargs)
            sym = self.new("buf", value)
            self.instrs.append(_Instr("reduce", ufunc, tuple(inputs), kwargs, sym.k))
            return sym
        if method == "at":
            ufunc.at(*values, **kwargs)
            target = inputs[0]
            self.instrs.append(
                _Instr("at", ufunc, tuple(inputs), kwargs, None, self._writes(target.k))
            )
            return None
        raise GraphError(f"compile_step: {ufunc.__name__}.{method} is not supported")

    def _constant(self, inputs: Any) -> bool:
        """True if no input depends on the step's inputs or parameters (a constant to fold)."""
        return all(self.slots[s.k].kind == "const" for s in _syms(inputs))

    def _writes(self, k: int) -> list[int]:
        """Writing into slot k writes into every slot it is a view of."""
        out = [k]
        while self.slots[k].kind == "view":
            k = self._base(k)
            out.append(k)
        return out

    def function(self, func: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        values, kw = _unwrap(args), {k: _unwrap(v) for k, v in kwargs.items()}
        if func in _QUERIES:
            return func(*values, **kw)
        if func is np.dot and not kwargs and all(isinstance(a, _Sym) for a in args):
            value = np.dot(*values)  # np.dot(a, b, out) writes into a buffer
            sym = self.new("buf", value)
            self.instrs.append(_Instr("dot", func, tuple(args), {}, sym.k))
            return sym
        if func is np.mean and kwargs.get("out") is None and isinstance(args[0], _Sym):
            options = {k: v for k, v in kwargs.items() if v is not None and k != "out"}
            options.setdefault("axis", None)
            total = self.ufunc(np.add, "reduce", (args[0],), options)
            count = args[0].v.size // max(total.v.size, 1) if args[0].v.size else 0
            return self.ufunc(np.true_divide, "__call__", (total, count), {})  # as numpy's mean
        reducer = _REDUCERS.get(func)
        if reducer is not None and kwargs.get("out") is None and isinstance(args[0], _Sym):
            options = {k: v for k, v in kwargs.items() if v is not None and k != "out"}
            options.setdefault("axis", None)
            return self.ufunc(reducer, "reduce", (args[0],), options)
        value = func(*values, **kw)
        if isinstance(value, (list, tuple)):
            raise GraphError(f"compile_step: {func.__name__} returns several arrays; not supported")
        if not isinstance(value, np.ndarray | np.generic):
            return value
        kind, base = self._result(value, _syms(args))
        sym = self.new(kind, value, base)
        self.instrs.append(
            _Instr(kind if kind == "view" else "call", func, tuple(args), kwargs, sym.k)
        )
        return sym

    def getitem(self, sym: _Sym, key: Any) -> _Sym:
        if any(k.dtype == bool for k in _syms(key)):
            raise GraphError(
                "compile_step: indexing with a boolean mask computed from the inputs gives "
                "shapes that change from call to call; use mg.tensor.where(mask, x, 0) or the "
                "eager engine"
            )
        value = sym.v[_unwrap(key)]
        kind, base = self._result(value, [sym])
        out = self.new(kind, value, base)
        self.instrs.append(_Instr("getitem", None, (sym, key), {}, out.k))
        return out

    def setitem(self, sym: _Sym, key: Any, value: Any) -> None:
        sym.v[_unwrap(key)] = _unwrap(value)
        self.instrs.append(
            _Instr("setitem", None, (sym, key, value), {}, None, self._writes(sym.k))
        )

    def guard(self, sym: _Sym) -> bool:
        """``bool`` of a traced value (an argument check, a branch on data): the replay checks
        that it comes out the same, so other inputs cannot silently take the recorded path."""
        value = bool(sym.v)
        if self.slots[sym.k].kind != "const":
            self.instrs.append(_Instr("guard", None, (sym,), {"expect": value}))
        return value

    def copy(self, sym: _Sym, dtype: Any) -> _Sym:
        out = self.new("buf", sym.v.astype(dtype))
        self.instrs.append(_Instr("copy", None, (sym,), {}, out.k))
        return out


class _Diverged(Exception):
    """Raised by a replay whose inputs fail a condition that held at record time."""


class _Pick:
    """Piece ``i`` of a function that returns several arrays (``np.split``)."""

    def __init__(self, func: Any, i: int) -> None:
        self.func, self.i = func, i

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)[self.i]


def _syms(obj: Any) -> list[_Sym]:
    found: list[_Sym] = []

    def walk(o: Any) -> None:
        if isinstance(o, _Sym):
            found.append(o)
        elif isinstance(o, (tuple, list)):
            for x in o:
                walk(x)

    walk(obj)
    return found
