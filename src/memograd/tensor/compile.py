"""``compile_step``: record a fixed-shape training step once, replay it as straight-line NumPy.

    step = mg.tensor.compile_step(lambda x, y: mg.tensor.cross_entropy(model(x), y),
                                  model.parameters())
    for xb, yb in batches:
        loss = step(xb, yb)        # forward + backward; every p.grad holds ∂loss/∂p
        optimizer.step()

Why. The eager engine pays Python per op (a Tensor, a table lookup, a graph node), a few
microseconds each: nothing for a 2048-row batch, most of the time for one row or a 2-16-16-1 net.
For a step whose shapes do not change, that work is the same every time, so it is done once.

How. The first call with a given signature (shapes and dtypes of the inputs) runs ``loss_fn`` on
*traced* arrays: stand-ins that compute real values and record every NumPy call made on them.
Forward runs through the usual ops; backward is the usual :func:`memograd.graph.backward` (same
topological order, same adjoint memo table, same VJP formulas of :data:`ops.TABLE`), its numpy
calls recorded too. The recording is then compiled:

* dead code is dropped (e.g. argument checks whose results nothing reads);
* every intermediate gets a buffer allocated once; a buffer is reused by a later value of the
  same shape and dtype once its last reader ran (liveness, as a register allocator), and
  elementwise ops write into a dying input in place;
* views (transposes, reshapes) of buffers are made once at compile time, so ``W.T`` costs nothing;
* the result is one generated Python function of positional ufunc calls with ``out=`` buffers
  (``step.source`` shows it), checked once against the eager engine before it is used.

Costs and limits (say them plainly):

* shapes are fixed per signature: a new batch size compiles again (one program per signature);
  boolean-mask indexing by input-dependent masks (data-dependent shapes) is refused;
* control flow that depends on values is recorded once: a condition on traced values (``if``,
  ``and``/``or`` on an array, the engine's own checks such as cross_entropy's label range)
  becomes a guard, checked at every replay; when it comes out differently the step is run
  eagerly, so a bad label raises the eager engine's error (never a silently wrapped index),
  and a genuine branch on data raises GraphError. Values taken out with ``.item()``/``float()``
  stay frozen, and so do random numbers drawn inside ``loss_fn`` (dropout: the eager check at
  compile time reports the mismatch);
* gradients are *set* on every call (as after ``zero_grad``), not accumulated; ``p.grad`` is a
  Tensor over a buffer the next call overwrites (copy it to keep it);
* memory: the buffers stay allocated between calls (``step.buffer_bytes``), about the peak of one
  eager step, instead of being allocated and freed inside each call;
* parameters are read through ``p.data`` at each call, so in-place optimizer updates and
  ``load_state_dict`` are seen; other tensors ``loss_fn`` closes over are constants (what is
  computed from them alone is folded at record time);
* first-order only, NumPy only (a library that converts arrays with ``np.asarray`` inside
  ``loss_fn`` cannot be traced: a clear GraphError).
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Callable, Iterable
from time import perf_counter as _clock

import numpy as np

from memograd import graph
from memograd.errors import GraphError, MemogradTypeError, MemogradValueError, ShapeError
from memograd.tensor import fused
from memograd.tensor.tensor import Tensor, _root, _wrap, enable_grad

__all__ = ["compile_step", "CompiledStep"]

_REDUCERS = {np.sum: np.add, np.max: np.maximum, np.amax: np.maximum, np.min: np.minimum}
_REDUCERS[np.amin] = np.minimum
_QUERIES = {np.ndim, np.shape, np.size, np.may_share_memory, np.shares_memory, np.result_type}


# ------------------------------------------------------------------------------------ tracing
class _Sym:
    """A traced array: a real value ``v`` (computed as usual) and the slot ``k`` recording it."""

    __slots__ = ("v", "k", "rec")
    _traced = True

    def __init__(self, rec: _Recorder, v: np.ndarray, k: int):
        self.v, self.k, self.rec = v, k, rec

    shape = property(lambda self: self.v.shape)
    dtype = property(lambda self: self.v.dtype)
    ndim = property(lambda self: self.v.ndim)
    size = property(lambda self: self.v.size)
    T = property(lambda self: np.transpose(self))

    def __len__(self):
        return len(self.v)

    def __bool__(self):  # a value-dependent branch: frozen at record time, checked at replay
        return self.rec.guard(self)

    def __float__(self):
        return float(self.v)

    def __int__(self):
        return int(self.v)

    def item(self):
        return self.v.item()

    def __array__(self, *args, **kwargs):
        raise GraphError(
            "compile_step: a traced array was converted to a plain numpy array (np.asarray or "
            "a non-numpy library); this step cannot be compiled, use the eager engine"
        )

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return self.rec.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return self.rec.function(func, args, kwargs)

    def __getitem__(self, key):
        return self.rec.getitem(self, key)

    def __setitem__(self, key, value):
        self.rec.setitem(self, key, value)

    def sum(self, axis=None, dtype=None, keepdims=False):
        return np.sum(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return np.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return np.min(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, keepdims=False):
        return np.mean(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        return np.all(self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False):
        return np.any(self, axis=axis, keepdims=keepdims)

    def __getattr__(self, name):  # only for names the class does not define
        if name.startswith("__"):
            raise AttributeError(name)
        raise _Unsupported(
            f"compile_step: traced arrays have no .{name}() (loss_fn called an ndarray method "
            f"compile_step does not record); use the numpy function (np.{name}(x)) or the eager "
            "engine for this loss_fn"
        )

    def reshape(self, *shape):
        return np.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes):
        return np.transpose(self, axes[0] if len(axes) == 1 else (axes or None))

    def astype(self, dtype, copy=True):
        if not copy and np.dtype(dtype) == self.v.dtype:
            return self
        return self.rec.copy(self, np.dtype(dtype))

    def copy(self):
        return self.rec.copy(self, self.v.dtype)


def _binop(ufunc):
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
_Sym.__neg__ = lambda s: np.negative(s)
_Sym.__abs__ = lambda s: np.absolute(s)
_Sym.__invert__ = lambda s: np.invert(s)
_Sym.__hash__ = object.__hash__


class _Unsupported(GraphError, AttributeError):
    """An ndarray method a traced array does not have (still an AttributeError for getattr)."""


def _identifier(name) -> str:
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

    __slots__ = ("kind", "shape", "dtype", "base", "value", "index")

    def __init__(self, kind, value, base=None, index=None):
        self.kind, self.value, self.base, self.index = kind, value, base, index
        self.shape = getattr(value, "shape", ())
        self.dtype = getattr(value, "dtype", None)


class _Instr:
    """One recorded numpy call. ``op`` in ufunc, reduce, at, call, view, getitem, setitem, copy;
    ``out`` the slot it defines (or None); ``writes`` the slots it mutates."""

    __slots__ = ("op", "fn", "args", "kwargs", "out", "writes")

    def __init__(self, op, fn, args, kwargs, out=None, writes=()):
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


def _collect(obj, found: list) -> None:
    if isinstance(obj, _Sym):
        found.append(obj.k)
    elif isinstance(obj, (tuple, list)):
        for o in obj:
            _collect(o, found)


def _unwrap(obj):
    if isinstance(obj, _Sym):
        return obj.v
    if isinstance(obj, tuple):
        return tuple(_unwrap(o) for o in obj)
    if isinstance(obj, list):
        return [_unwrap(o) for o in obj]
    return obj


class _Recorder:
    def __init__(self):
        self.slots: list[_Slot] = []
        self.instrs: list[_Instr] = []

    def new(self, kind: str, value, base=None, index=None) -> _Sym:
        if not isinstance(value, np.ndarray):
            value = np.asarray(value)
        self.slots.append(_Slot(kind, value, base, index))
        return _Sym(self, value, len(self.slots) - 1)

    def _root(self, k: int) -> int:
        while self.slots[k].kind == "view":
            k = self.slots[k].base
        return k

    def _result(self, value, inputs) -> tuple[str, int | None]:
        """A result that shares memory with a traced input is a view of it; else it is new."""
        for s in inputs:
            if isinstance(s, _Sym) and np.shares_memory(value, s.v):
                return "view", s.k
        return "fresh", None

    def ufunc(self, ufunc, method, inputs, kwargs):
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

    def _constant(self, inputs) -> bool:
        """True if no input depends on the step's inputs or parameters (a constant to fold)."""
        return all(self.slots[s.k].kind == "const" for s in _syms(inputs))

    def _writes(self, k: int) -> list[int]:
        """Writing into slot k writes into every slot it is a view of."""
        out = [k]
        while self.slots[k].kind == "view":
            k = self.slots[k].base
            out.append(k)
        return out

    def function(self, func, args, kwargs):
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

    def getitem(self, sym: _Sym, key):
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

    def setitem(self, sym: _Sym, key, value):
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

    def copy(self, sym: _Sym, dtype) -> _Sym:
        out = self.new("buf", sym.v.astype(dtype))
        self.instrs.append(_Instr("copy", None, (sym,), {}, out.k))
        return out


class _Diverged(Exception):
    """Raised by a replay whose inputs fail a condition that held at record time."""


class _Pick:
    """Piece ``i`` of a function that returns several arrays (``np.split``)."""

    def __init__(self, func, i: int):
        self.func, self.i = func, i

    def __call__(self, *args, **kwargs):
        return self.func(*args, **kwargs)[self.i]


def _syms(obj):
    found: list = []

    def walk(o):
        if isinstance(o, _Sym):
            found.append(o)
        elif isinstance(o, (tuple, list)):
            for x in o:
                walk(x)

    walk(obj)
    return found


# ---------------------------------------------------------------------------------- compiling
class _Program:
    """Turn a recording into the source of one Python function and its namespace."""

    def __init__(
        self,
        rec: _Recorder,
        outputs: list[int],
        n_inputs: int,
        n_params: int,
        flat: list[int] | None = None,
    ):
        self.rec, self.slots = rec, rec.slots
        self.ns: dict = {"np": np, "_copyto": np.copyto, "_dot": np.dot, "_Diverged": _Diverged}
        self.names: dict[int, str] = {}
        self.buffers: list[np.ndarray] = []
        self.lines: list[str] = []
        # what the fused backend translates: ("ins", instruction) or ("view", name, expression)
        self.steps: list[tuple] = []
        instrs = self._live(rec.instrs, outputs)
        self._allocate(instrs, set(outputs))
        self._relocate([self.names[k] for k in flat] if flat else [])
        self.outputs = [self.names[k] for k in outputs]
        args = ", ".join(f"x{i}" for i in range(n_inputs))
        head = [f"def step({args}):"]
        head += [f"    p{i} = P[{i}].data" for i in range(n_params)]
        self.source = "\n".join(head + ["    " + line for line in self.lines] + ["    return"])

    # -- dead code elimination
    def _live(self, instrs: list[_Instr], outputs: list[int]) -> list[_Instr]:
        needed = set(outputs)
        kept = []
        for ins in reversed(instrs):
            defines = [ins.out] if ins.out is not None else []
            if (
                ins.op == "guard"
                or any(k in needed for k in defines)
                or any(k in needed for k in ins.writes)
            ):
                kept.append(ins)
                needed.update(ins.reads())
                needed.update(ins.writes)
                for k in ins.reads():  # reading a view reads its base
                    needed.update(self.rec._writes(k))
        kept.reverse()
        return kept

    # -- names and buffers
    def _const(self, value) -> str:
        if value is None or isinstance(value, (bool, int, str)) or value is Ellipsis:
            return repr(value)
        if isinstance(value, float) and math.isfinite(value):
            return repr(value)
        if isinstance(value, tuple):
            return "(" + "".join(self._src(v) + ", " for v in value) + ")"
        if isinstance(value, list):
            return "[" + ", ".join(self._src(v) for v in value) + "]"
        if isinstance(value, slice):
            return (
                f"slice({self._src(value.start)}, {self._src(value.stop)}, {self._src(value.step)})"
            )
        name = f"c{len(self.ns)}"
        self.ns[name] = value
        return name

    def _src(self, obj) -> str:
        if isinstance(obj, _Sym):
            return self._name(obj.k)
        return self._const(obj)

    def _name(self, k: int) -> str:
        name = self.names.get(k)
        if name is None:
            slot = self.slots[k]
            if slot.kind == "input":
                name = f"x{slot.index}"
            elif slot.kind == "param":
                name = f"p{slot.index}"
            else:  # a constant (the seed, arrays made by formulas without traced inputs)
                name = self._const(slot.value)
            self.names[k] = name
        return name

    def _fn(self, fn) -> str:
        name = f"f{len(self.ns)}"
        self.ns[name] = fn
        return name

    def _allocate(self, instrs: list[_Instr], outputs: set[int]) -> None:
        rec = self.rec
        last: dict[int, int] = {}
        for i, ins in enumerate(instrs):
            for k in ins.reads() + list(ins.writes):
                for r in rec._writes(k):  # a use of a view is a use of its bases
                    last[r] = i
        for k in outputs:
            for r in rec._writes(k):
                last[r] = len(instrs)
        pool: dict[tuple, list] = {}
        owner: dict[int, np.ndarray] = {}  # buf slot -> its buffer
        once: dict[int, bool] = {}  # view slots computed once at compile time
        for i, ins in enumerate(instrs):
            k = ins.out
            dying = [
                r
                for r in dict.fromkeys(ins.reads())
                if self.slots[r].kind == "buf" and last.get(r) == i and r not in outputs
            ]
            if k is not None and self.slots[k].kind == "buf":
                slot = self.slots[k]
                key = (slot.shape, slot.dtype.str)
                buf = None
                if ins.op == "ufunc" and ins.kwargs == {}:  # elementwise: may overwrite an input
                    reads = ins.reads()
                    for r in dying:
                        if (
                            owner.get(r) is not None
                            and (self.slots[r].shape, self.slots[r].dtype.str) == key
                            and reads.count(r) >= 1
                            and all(rec._root(x) != r for x in reads if x != r)
                        ):
                            buf = owner[r]
                            dying.remove(r)
                            break
                if buf is None:
                    free = pool.get(key)
                    buf = free.pop() if free else self._new_buffer(slot)
                owner[k] = buf
                name = f"b{k}"
                self.ns[name] = buf
                self.names[k] = name
            for r in dying:
                if r in owner:
                    pool.setdefault((self.slots[r].shape, self.slots[r].dtype.str), []).append(
                        owner[r]
                    )
            self._emit(ins, owner, once)

    def _new_buffer(self, slot: _Slot) -> np.ndarray:
        buf = np.empty(slot.shape, slot.dtype)
        self.buffers.append(buf)
        return buf

    def _relocate(self, flat: list[str]) -> None:
        """Move every buffer into one arena per dtype (64-byte aligned slices), so that a fused
        kernel takes a few arenas instead of dozens of arrays; views made once are made again.
        The buffers named in ``flat`` (the gradients, for an optimizer) go back to back, in that
        order, into an arena of their own, ``grads``: one flat vector the update reads."""
        moved: dict[int, np.ndarray] = {}
        self.arenas: dict[str, np.ndarray] = {}
        self.offsets: dict[int, tuple[str, int]] = {}
        self.grad_offsets: list[int] | None = None
        chosen = [self.ns[name] for name in flat]
        if (
            chosen
            and len({id(b) for b in chosen}) == len(chosen)
            and len({b.dtype for b in chosen}) == 1
        ):
            grads = np.empty(sum(b.size for b in chosen), chosen[0].dtype)
            self.arenas["grads"], self.grad_offsets, start = grads, [], 0
            for b in chosen:
                new = grads[start : start + b.size].reshape(b.shape)
                moved[id(b)] = new
                self.offsets[id(new)] = ("grads", start)
                self.grad_offsets.append(start)
                start += b.size
        groups: dict[str, list[np.ndarray]] = {}
        for b in self.buffers:
            if id(b) not in moved:
                groups.setdefault(b.dtype.str, []).append(b)
        for key, bufs in groups.items():
            dtype = np.dtype(key)
            per_line = max(64 // dtype.itemsize, 1)
            starts, total = [], 0
            for b in bufs:
                starts.append(total)
                total += -(-max(b.size, 1) // per_line) * per_line
            raw = np.empty(total * dtype.itemsize + 64, np.uint8)
            skip = (-raw.ctypes.data) % 64
            arena = raw[skip : skip + total * dtype.itemsize].view(dtype)
            self.arenas[key] = arena
            for b, start in zip(bufs, starts):
                new = arena[start : start + b.size].reshape(b.shape)
                moved[id(b)] = new
                self.offsets[id(new)] = (key, start)
        for name, value in list(self.ns.items()):
            if isinstance(value, np.ndarray) and id(value) in moved:
                self.ns[name] = moved[id(value)]
        self.buffers = [moved[id(b)] for b in self.buffers]
        for step in self.steps:
            if step[0] == "view":
                self.ns[step[1]] = eval(step[2], self.ns)  # noqa: S307 - our own expression

    def _emit(self, ins: _Instr, owner: dict, once: dict) -> None:
        if ins.op not in ("view", "call", "getitem"):
            self.steps.append(("ins", ins))
        args = ", ".join(self._src(a) for a in ins.args)
        kwargs = "".join(f", {_identifier(k)}={self._src(v)}" for k, v in ins.kwargs.items())
        out = self.names.get(ins.out) if ins.out is not None else None
        if ins.op == "ufunc":
            target = out if out is not None else self._name(ins.writes[0])
            if ins.kwargs or ins.fn in (np.maximum, np.minimum):  # no positional out for these
                self.lines.append(f"{self._fn(ins.fn)}({args}{kwargs}, out={target})")
            else:
                self.lines.append(f"{self._fn(ins.fn)}({args}, {target})")
        elif ins.op == "dot":
            self.lines.append(f"_dot({args}, {out})")
        elif ins.op == "guard":
            test = "not " if ins.kwargs["expect"] else ""
            self.lines.append(f"if {test}{args}: raise _Diverged")
        elif ins.op == "reduce":
            opts = dict(ins.kwargs)
            axis = self._src(opts.pop("axis", None))
            dtype = self._src(opts.pop("dtype", None))
            keep = self._src(opts.pop("keepdims", False))
            extra = "".join(f", {_identifier(k)}={self._src(v)}" for k, v in opts.items())
            self.lines.append(
                f"{self._fn(ins.fn)}.reduce({args}, {axis}, {dtype}, {out}, {keep}{extra})"
            )
        elif ins.op == "at":
            self.lines.append(f"{self._fn(ins.fn)}.at({args}{kwargs})")
        elif ins.op == "copy":
            self.lines.append(f"_copyto({out}, {args}, casting='unsafe')")
        elif ins.op == "setitem":
            target, key, value = ins.args
            self.lines.append(f"{self._src(target)}[{self._src(key)}] = {self._src(value)}")
        elif ins.op in ("view", "call", "getitem"):
            if ins.op == "getitem":
                expr = f"{self._src(ins.args[0])}[{self._src(ins.args[1])}]"
            elif (
                ins.fn is np.transpose
                and not ins.kwargs
                and (len(ins.args) == 1 or ins.args[1] is None)
            ):
                expr = f"{self._src(ins.args[0])}.T"
            else:
                expr = f"{self._fn(ins.fn)}({args}{kwargs})"
            slot = self.slots[ins.out]
            base_root = self.rec._root(ins.out)
            if slot.kind == "view" and self.slots[base_root].kind == "buf" and base_root in owner:
                value = eval(expr, self.ns)  # noqa: S307 - our own generated expression
                if np.shares_memory(value, owner[base_root]):
                    name = f"v{ins.out}"
                    self.ns[name] = value
                    self.names[ins.out] = name
                    self.steps.append(("view", name, expr))
                    return
            name = f"s{ins.out}"
            self.names[ins.out] = name
            self.lines.append(f"{name} = {expr}")
            self.steps.append(("ins", ins))
        else:  # pragma: no cover
            raise GraphError(f"compile_step: unknown instruction {ins.op}")


# ------------------------------------------------------------------------------------ the API
class CompiledStep:
    """A recorded loss + backward (+ optimizer update), replayed per input signature. See the
    module docstring."""

    def __init__(
        self,
        loss_fn: Callable,
        params: Iterable[Tensor],
        check: bool = True,
        optimizer=None,
        backend: str = "auto",
    ):
        self.loss_fn = loss_fn
        self.params = list(params)
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise MemogradTypeError(
                    f"compile_step: parameter {i} must be a Tensor with requires_grad=True"
                )
        if backend not in ("auto", "numpy", "numba"):
            raise MemogradValueError(
                f"compile_step: backend must be 'auto', 'numpy' or 'numba', got {backend!r}"
            )
        if backend == "numba" and not fused.available():
            raise MemogradValueError(
                "compile_step: backend='numba' needs numba: pip install 'memograd[fast]' "
                "(or use backend='auto', which runs NumPy without it)"
            )
        if optimizer is not None:
            theirs = getattr(optimizer, "params", None)
            if (
                theirs is None
                or len(theirs) != len(self.params)
                or any(a is not b for a, b in zip(theirs, self.params))
            ):
                raise MemogradValueError(
                    "compile_step: optimizer= must update exactly the step's parameters, in the "
                    "same order (make it with the same list: SGD(params), compile_step(f, params,"
                    " optimizer=...))"
                )
        self.check = check
        self.optimizer = optimizer
        self.backend_choice = backend
        self._cache: dict[tuple, _Compiled] = {}
        self._last: _Compiled | None = None

    def __call__(self, *inputs) -> float:
        last = self._last
        if last is not None and last.accepts(inputs):  # the common case: same plain arrays
            arrays = inputs
        else:
            arrays = [np.asarray(x.data if type(x) is Tensor else x) for x in inputs]
            key = tuple((a.shape, a.dtype.str) for a in arrays)
            last = self._cache.get(key)
            if last is None:
                last = self._cache[key] = _Compiled(self, arrays)
            self._last = last
        try:
            last.run(*arrays)
        except _Diverged:
            self._diverged(arrays)
        return float(last.loss)

    @property
    def backend(self) -> str:
        """What the most recent signature runs: ``numpy`` (one ufunc call per op) or ``numba``
        (one fused kernel); ``backend_reason`` says why when numba was wanted but not used."""
        return "numpy" if self._last is None else self._last.backend

    @property
    def backend_reason(self) -> str:
        return "" if self._last is None else self._last.reason

    def _diverged(self, arrays) -> None:
        """A guard failed: run ``loss_fn`` eagerly, which raises the engine's own error for these
        inputs (a label out of range, say); if it does not, the step branches on values."""
        with enable_grad():
            self.loss_fn(*[_wrap(a) for a in arrays])
        raise GraphError(
            "compile_step: these inputs take another branch of loss_fn than the recorded ones "
            "(a condition on values came out differently); compile_step replays one path: use "
            "the eager engine for this loss_fn"
        )

    @property
    def source(self) -> str:
        """The generated Python of the most recent signature."""
        return "" if self._last is None else self._last.source

    @property
    def buffer_bytes(self) -> int:
        """Bytes held between calls by the buffers of every compiled signature."""
        return sum(c.buffer_bytes for c in self._cache.values())

    def __repr__(self) -> str:
        return (
            f"CompiledStep({len(self.params)} parameters, {len(self._cache)} signature(s), "
            f"{self.buffer_bytes} buffer bytes)"
        )


class _Compiled:
    def __init__(self, owner: CompiledStep, arrays: list[np.ndarray]):
        params = owner.params
        self.signature = [(a.shape, a.dtype) for a in arrays]
        rec = _Recorder()
        saved = [p.data for p in params]
        try:
            for i, p in enumerate(params):
                p.data = rec.new("param", saved[i], index=i)
            xs = [_wrap(rec.new("input", a, index=j)) for j, a in enumerate(arrays)]
            with enable_grad():
                loss = owner.loss_fn(*xs)
            if not isinstance(loss, Tensor) or loss.size != 1:
                raise ShapeError(
                    "compile_step: loss_fn must return a size-1 Tensor, got "
                    f"{getattr(loss, 'shape', type(loss).__name__)}"
                )
            if not loss.requires_grad:
                raise GraphError("compile_step: the loss does not depend on any parameter")
            wanted = {id(p): i for i, p in enumerate(params)}
            adjoints: list = [None] * len(params)

            def visit(node, adjoint):
                i = wanted.get(id(node))
                if i is not None:
                    adjoints[i] = adjoint

            seed = rec.new("const", np.ones(loss.shape, loss.dtype))
            graph.backward(_root(loss), seed, visit)
            loss_sym = loss.data
        finally:
            for p, d in zip(params, saved):
                p.data = d
        outputs = [loss_sym.k]
        for i, a in enumerate(adjoints):
            if a is None:  # the loss does not reach this parameter: its gradient is zero
                a = rec.new("const", np.zeros(params[i].shape, params[i].dtype))
            if not isinstance(a, _Sym):
                a = rec.new("const", np.asarray(a, params[i].dtype))
            outputs.append(a.k)
        # every output gets a buffer of its own that nothing else reuses (or a view made once of
        # such a buffer)
        final = []
        for k in outputs:
            root = rec._root(k)
            if rec.slots[k].kind == "view" and rec.slots[root].kind == "buf" and k not in final:
                final.append(k)
                continue
            if rec.slots[k].kind != "buf" or k in final:
                sym = _Sym(rec, rec.slots[k].value, k)
                k = rec.copy(sym, rec.slots[k].dtype).k
            final.append(k)
        opt = owner.optimizer
        prog = _Program(rec, final, len(arrays), len(params), final[1:] if opt else None)
        self.prog, self.n_inputs = prog, len(arrays)
        self.source = prog.source
        self.buffer_bytes = sum(b.nbytes for b in prog.buffers)
        ns = prog.ns
        ns["P"] = params
        exec(compile(prog.source, "<memograd.compile_step>", "exec"), ns)  # noqa: S102
        self.fn = ns["step"]
        self.loss = ns[prog.outputs[0]]
        self.grads = [_wrap(ns[name]) for name in prog.outputs[1:]]
        self.param_grads = list(zip(params, self.grads))
        self.owner, self.seconds, self.backend, self.reason = owner, 0.0, "numpy", ""
        self.run = self._run_numpy
        if owner.check:
            self._check(owner, arrays)
        if owner.backend_choice == "numba" or (
            owner.backend_choice == "auto" and fused.mode() == "on" and fused.available()
        ):
            self._go_fused(arrays)

    # -- the replays
    def _run_numpy(self, *arrays) -> None:
        start = _clock()
        self.fn(*arrays)
        for p, g in self.param_grads:
            p.grad = g
        opt = self.owner.optimizer
        if opt is not None:
            opt.step()
        self.seconds += _clock() - start
        if self.seconds >= fused.HOT_SECONDS and self.owner.backend_choice == "auto":
            self.seconds = -math.inf  # decided once per signature
            if fused.use(fused.HOT_SECONDS):
                self._go_fused(arrays)

    def _go_fused(self, arrays) -> None:
        """Translate to one numba kernel and use it from now on; keep NumPy if it fails."""
        self.seconds = -math.inf  # tried once per signature
        opt = self.owner.optimizer
        if opt is not None and (getattr(opt, "backend", "auto") == "numpy" or not opt.KERNEL):
            opt = None  # the kernel computes the gradients; opt.step() updates with NumPy
        try:
            kernel, source, arenas = fused.build(
                self.prog,
                self.n_inputs,
                len(self.owner.params),
                _Sym,
                opt,
                force=self.owner.backend_choice == "numba",
            )
            run = self._fused_runner(kernel, arenas, opt)
            self._check_fused(run, arrays)
        except Exception as err:  # noqa: BLE001 - any numba failure means: keep NumPy
            self.reason = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            if self.owner.backend_choice == "numba" and not isinstance(err, fused.Unsupported):
                raise GraphError(
                    f"compile_step: the numba kernel could not be built ({self.reason})"
                ) from err
            return
        self.kernel_source, self.run, self.backend = source, run, "numba"

    def _fused_runner(self, kernel, arenas, opt):
        """A Python function calling the kernel with plain positional arguments."""
        params = self.owner.params
        n_in = self.n_inputs
        xs = ", ".join(f"x{i}" for i in range(n_in))
        ps = ", ".join(f"P{i}.data" for i in range(len(params)))
        ns = {f"P{i}": p for i, p in enumerate(params)}
        ns.update({f"A{i}": a for i, a in enumerate(arenas)})
        ns.update(K=kernel, _Diverged=_Diverged, PG=self.param_grads, O=self.owner.optimizer)
        call = f"K({xs}{', ' if xs else ''}{ps}, {', '.join(f'A{i}' for i in range(len(arenas)))}"
        lines = [f"def run({xs}):"]
        if opt is None:
            lines.append(f"    if {call}): raise _Diverged")
            lines.append("    for p, g in PG: p.grad = g")
            if self.owner.optimizer is not None:
                lines.append("    O.step()")
        else:
            dt = np.dtype(opt._dtype).type
            ns.update(DT=dt, S0=opt._scalars(1.0, 1, dt))
            ns.update({f"ST{i}": opt.state[name] for i, name in enumerate(opt.KERNEL_SLOTS)})
            sts = "".join(f", ST{i}" for i in range(len(opt.KERNEL_SLOTS)))
            lines += [
                "    S = O._fused_scalars(DT)",
                f"    if {call}{sts}, S0 if S is None else S, S is not None): raise _Diverged",
                "    for p, g in PG: p.grad = g",
                "    if S is None: O.step()",
                "    else: O._fused_done()",
            ]
        source = "\n".join(lines) + "\n"
        exec(compile(source, "<memograd.compile_step runner>", "exec"), ns)  # noqa: S102
        return ns["run"]

    def _check_fused(self, run, arrays) -> None:
        """Compile the kernel and compare its loss and gradients with the NumPy replay's."""
        self.fn(*arrays)
        want = [np.array(self.loss)] + [g.data.copy() for g in self.grads]
        opt = self.owner.optimizer
        saved = [p.data.copy() for p in self.owner.params]
        state = None if opt is None else opt.state_dict()
        try:
            run(*arrays)
            got = [np.array(self.loss)] + [g.data for g in self.grads]
        finally:  # the check must not count as a training step
            for p, d in zip(self.owner.params, saved):
                np.copyto(p.data, d)
            if state is not None:
                opt.load_state_dict(state)
        for i, (a, b) in enumerate(zip(got, want)):
            tol = 1e-4 if a.dtype == np.float32 else 1e-9
            scale = float(np.max(np.abs(b), initial=1.0))
            if not np.allclose(a, b, rtol=tol, atol=tol * scale):
                what = "loss" if i == 0 else f"gradient of parameter {i - 1}"
                raise fused.Unsupported(f"the kernel disagrees with the NumPy replay on {what}")

    def accepts(self, arrays) -> bool:
        sig = self.signature
        if len(arrays) != len(sig):
            return False
        for a, (shape, dtype) in zip(arrays, sig):
            if type(a) is not np.ndarray or a.shape != shape or a.dtype != dtype:
                return False
        return True

    def _check(self, owner: CompiledStep, arrays) -> None:
        """Replay once and compare with the eager engine on the same inputs."""
        self.fn(*arrays)
        params = owner.params
        wanted = {id(p) for p in params}
        grads: dict = {}

        def visit(node, adjoint):
            if id(node) in wanted:
                grads[id(node)] = np.array(adjoint)

        with enable_grad():
            loss = owner.loss_fn(*[_wrap(a) for a in arrays])
            graph.backward(_root(loss), np.ones(loss.shape, loss.dtype), visit)
        tol = 1e-4 if loss.dtype == np.float32 else 1e-9
        pairs = [("loss", np.asarray(self.loss), loss.data)]
        pairs += [
            (f"grad of parameter {i}", g.data, grads.get(id(p), np.zeros(p.shape, p.dtype)))
            for i, (p, g) in enumerate(zip(params, self.grads))
        ]
        for what, got, want in pairs:
            scale = float(np.max(np.abs(want), initial=1.0))
            if got.shape != want.shape or not np.allclose(got, want, rtol=tol, atol=tol * scale):
                raise GraphError(
                    f"compile_step: the compiled step disagrees with the eager engine on {what} "
                    f"(max difference {np.max(np.abs(got - want), initial=0):.3g}); "
                    "loss_fn is not deterministic for fixed inputs (a random draw such as "
                    "dropout in training mode, or state changed between calls); call model.eval()"
                    " or use the eager engine for this loss_fn"
                )


def compile_step(
    loss_fn: Callable,
    params: Iterable[Tensor],
    *,
    check: bool = True,
    optimizer=None,
    backend: str = "auto",
) -> CompiledStep:
    """Compile ``loss_fn(*inputs) -> scalar Tensor`` and its backward w.r.t. ``params``.

    Returns a callable ``step(*inputs) -> float`` (the loss) that leaves ∂loss/∂p in every
    ``p.grad``. ``check=True`` compares the first replay of each signature with the eager engine.
    """
    return CompiledStep(loss_fn, params, check, optimizer, backend)
