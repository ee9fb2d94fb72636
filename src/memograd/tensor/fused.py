"""The optional fused backend (numba, the ``fast`` extra): a whole recorded step in ONE call.

At small sizes a training step's cost is Python, not arithmetic: the NumPy replay of
:mod:`memograd.tensor.compile` makes one ufunc call per recorded op (~0.5-1 µs each), the
optimizer a dozen more per parameter. This module translates the same recorded program (same
instructions, same buffers, same order) into the source of one numba function, so a step is
one call:

* every buffer lives in one arena per dtype (``_Program._relocate``), so the kernel takes the
  inputs, the parameters and a few arenas, and slices its buffers out of them;
* element-wise ufuncs stay ufunc calls with an output argument (numba compiles them to loops);
  reductions become explicit loops (numba has no ``ufunc.reduce``); matrix products call BLAS
  (``np.dot``) or, for few rows, a loop that streams the weight matrix once;
* guards return 1 (the caller raises, and the step is run eagerly, as in the NumPy replay);
* anything the translation does not know raises :class:`Unsupported`, and the step keeps the
  NumPy replay (``CompiledStep.backend`` says which one runs, ``backend_reason`` why).

When the products are too big to loop over, the NumPy replay stays (its products are BLAS
calls), its update is one numba call (:func:`build_update`) and its element-wise chains are
rewritten as one numba pass each (:mod:`memograd.tensor.fused_replay`: bias + ReLU, ReLU's VJP
+ the bias's gradient, softmax's row maximum; two or three ufunc calls and passes over the
activations each).

Numerics: element-wise results are bit-identical to NumPy's (IEEE operations in the same order,
Python constants cast to the array's dtype as NumPy does); sums are sequential where NumPy sums
pairwise, so reductions and matrix products can differ in the last bits (the first replay is
checked against the eager engine, as for the NumPy replay).

Whether numba is used: ``MEMOGRAD_NUMBA=off`` never, ``on`` whenever it is installed, ``auto``
(the default) only for work that has run long enough to pay for compiling (``HOT_SECONDS``).
:func:`set_mode` changes it at run time (tests do).
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import numpy as np

from memograd.errors import MemogradValueError

__all__ = ["Unsupported", "available", "mode", "set_mode", "use", "HOT_SECONDS"]

# ``auto`` compiles a kernel once a compiled step's replays (or an optimizer's steps) have taken
# this many seconds in all: numba takes ~1-3 s of CPU to compile a step (more on a loaded
# machine), which the 2-4x it saves pays back only in long runs
HOT_SECONDS = 10.0
# a matrix product with at most this many multiply-adds is a loop in the kernel (no BLAS call;
# memory-bound thin products such as a one-row batch up to 4x this); a bigger one calls BLAS,
# and then ``auto`` keeps the NumPy replay: its Python overhead is small next to BLAS time, and
# numba takes ~1 s to compile each np.dot
LOOP_PRODUCT = 1 << 18
_MODES = ("off", "on", "auto")
_mode = os.environ.get("MEMOGRAD_NUMBA", "auto").strip().lower() or "auto"
_available: bool | None = None


class Unsupported(Exception):
    """The recorded program has something the fused translation does not handle."""


def available() -> bool:
    """Is numba installed? (Checked once, without importing it.)"""
    global _available
    if _available is None:
        _available = importlib.util.find_spec("numba") is not None
    return _available


def mode() -> str:
    """``off``, ``on`` or ``auto`` (``MEMOGRAD_NUMBA``; ``auto`` when unset or unknown)."""
    return _mode if _mode in _MODES else "auto"


def set_mode(value: str) -> str:
    """Set the mode (``off``, ``on``, ``auto``); returns the previous one."""
    global _mode
    value = str(value).lower()
    if value not in _MODES:
        raise MemogradValueError(f"fused mode must be one of {', '.join(_MODES)}, got {value!r}")
    old, _mode = mode(), value
    return old


def use(seconds: float) -> bool:
    """Should work that has taken ``seconds`` so far run fused from now on?"""
    m = mode()
    return available() and (m == "on" or (m == "auto" and seconds >= HOT_SECONDS))


def kernels() -> Any:
    """The optimizer kernels (compiled on first use, cached on disk by numba)."""
    from memograd.tensor import _kernels

    return _kernels


# --------------------------------------------------------------------------- the translation
_REDUCE_INIT = {np.add: "0", np.maximum: "-np.inf", np.minimum: "np.inf"}


def _combine(fn: Any, acc: str, v: str) -> str:
    if fn is np.add:
        return f"{acc} + {v}"
    if fn is np.maximum:  # NaN propagates, as numpy's maximum
        return f"{acc} if ({acc} >= {v} or {acc} != {acc}) else {v}"
    return f"{acc} if ({acc} <= {v} or {acc} != {acc}) else {v}"


# element-wise formulas ({0}, {1}: the operands); the rest of numpy's ufuncs stay ufunc calls
_SCALAR = {
    np.add: "{0} + {1}",
    np.subtract: "{0} - {1}",
    np.multiply: "{0} * {1}",
    np.true_divide: "{0} / {1}",
    np.power: "{0} ** {1}",
    np.maximum: "({0} if ({0} >= {1} or {0} != {0}) else {1})",
    np.minimum: "({0} if ({0} <= {1} or {0} != {0}) else {1})",
    np.greater: "{0} > {1}",
    np.greater_equal: "{0} >= {1}",
    np.less: "{0} < {1}",
    np.less_equal: "{0} <= {1}",
    np.equal: "{0} == {1}",
    np.not_equal: "{0} != {1}",
    np.negative: "-{0}",
    np.absolute: "abs({0})",
    np.exp: "np.exp({0})",
    np.log: "np.log({0})",
    np.tanh: "np.tanh({0})",
    np.sqrt: "np.sqrt({0})",
    np.log1p: "np.log1p({0})",
    np.expm1: "np.expm1({0})",
    np.sign: "np.sign({0})",
    np.square: "{0} * {0}",
}


def _int_vector(slot: Any) -> bool:
    return (
        slot is not None
        and slot.dtype is not None
        and slot.dtype.kind in "iu"
        and len(slot.shape) == 1
    )


class _Translator:
    """Write the numba source of a ``_Program`` (see the module docstring)."""

    def __init__(
        self, prog: Any, n_inputs: int, n_params: int, sym_type: Any, update: Any = None
    ) -> None:
        self.prog, self.slots, self.Sym = prog, prog.slots, sym_type
        self.ns: dict[str, Any] = {}  # the kernel's own globals (functions, typed constants)
        self.local: set[str] = set()  # buffers and views: locals of the kernel, never globals
        self.lines: list[str] = []
        self.big: list[str] = []  # matrix products left to BLAS (np.dot)
        self.scalars: set[str] = set()  # names that are numba scalars (NumPy: 0-d arrays)
        self.arena_names = {key: f"A{i}" for i, key in enumerate(prog.arenas)}
        self.args = [f"x{i}" for i in range(n_inputs)] + [f"p{i}" for i in range(n_params)]
        self.args += list(self.arena_names.values())
        self.tmp = 0
        self._buffers()
        for step in prog.steps:
            if step[0] == "view":
                self.lines.append(f"{step[1]} = {step[2]}")
            else:
                self._instr(step[1])
        if update is not None:
            self._update(update, n_params)
        for name, value in prog.ns.items():  # constants the translation named, too
            if name not in self.local and not (isinstance(value, np.ndarray) and name[0] == "v"):
                self.ns.setdefault(name, value)
        body = "\n".join("    " + line for text in self.lines for line in text.split("\n"))
        self.source = f"def kernel({', '.join(self.args)}):\n{body}\n    return 0\n"

    def _update(self, opt: Any, n_params: int) -> None:
        """The optimizer's update of every parameter, by its numba kernel, when ``upd``: one
        pass over each parameter after the backward (the gradients are in the ``grads`` arena).

        (Updating a weight row by row right after each gradient row is made, while the row is in
        cache, was tried: per-row calls made the step at batch 1 1.6x slower, not faster.)"""
        offsets = self.prog.grad_offsets
        if offsets is None:
            raise Unsupported("the gradients do not share one dtype")
        slots = [f"ST{i}" for i in range(len(opt.KERNEL_SLOTS))]
        self.args += [*slots, "S", "upd"]
        self.ns["_update"] = getattr(kernels(), opt.KERNEL)
        grads = self.arena_names["grads"]
        self.lines.append("if upd:")
        for i, (start, (lo, hi)) in enumerate(zip(offsets, opt._bounds)):
            n = hi - lo
            states = "".join(f"{st}[{lo}:{hi}], " for st in slots)
            self.lines.append(
                f"    _update(p{i}.reshape(({n},)), {grads}[{start}:{start + n}], {states}*S)"
            )

    # -- names
    def _buffers(self) -> None:
        prog = self.prog
        for name, value in prog.ns.items():
            if isinstance(value, np.ndarray) and id(value) in prog.offsets and name[0] == "b":
                key, start = prog.offsets[id(value)]
                arena = self.arena_names[key]
                self.lines.append(
                    f"{name} = {arena}[{start}:{start + value.size}].reshape({value.shape!r})"
                )
                self.local.add(name)  # a buffer is a local of the kernel, never a frozen global

    def _src(self, obj: Any) -> str:
        return str(self.prog._src(obj))

    def _slot(self, obj: Any) -> Any:
        return self.slots[obj.k] if isinstance(obj, self.Sym) else None

    def _fn(self, fn: Any) -> str:
        for name, value in self.ns.items():
            if value is fn and name.startswith("_g"):
                return name
        name = f"_g{len(self.ns)}"
        self.ns[name] = fn
        return name

    def _scalar(self, value: Any, like: Any) -> str:
        """A Python number operand, cast to the array's dtype as NumPy's weak scalars are."""
        if like is not None and like.dtype is not None and like.dtype.kind == "f":
            name = f"_k{len(self.ns)}"
            self.ns[name] = like.dtype.type(value)
            return name
        return repr(value)

    def _arg(self, a: Any, like: Any) -> str:
        if isinstance(a, self.Sym):
            return self._src(a)
        if isinstance(a, (bool, int, float)) and not isinstance(a, np.ndarray):
            return self._scalar(a, like)
        return self._src(a)

    def _out(self, ins: Any) -> str:
        if ins.out is not None:
            return str(self.prog.names[ins.out])
        return self._src_k(ins.writes[0])

    def _src_k(self, k: int) -> str:
        return str(self.prog._name(k))

    def _var(self) -> str:
        self.tmp += 1
        return f"_t{self.tmp}"

    # -- instructions
    def _instr(self, ins: Any) -> None:
        op = ins.op
        if op == "ufunc":
            if ins.kwargs:
                raise Unsupported(f"{ins.fn.__name__} with keyword arguments {sorted(ins.kwargs)}")
            self._elementwise(ins)
        elif op == "dot":
            self._dot(ins)
        elif op == "reduce":
            self._reduce(ins)
        elif op == "guard":
            name = self._src(ins.args[0])
            value = name if name in self.scalars else f"{name}.item()"
            test = "not " if ins.kwargs["expect"] else ""
            self.lines.append(f"if {test}{value}:")
            self.lines.append("    return 1")
        elif op == "copy":
            out, src = self._out(ins), self._src(ins.args[0])
            shape = self.slots[ins.out].shape
            if not shape:
                self.lines.append(f"{out}[()] = {src}[()]")
            else:
                ix = self._var()
                self.lines.append(f"for {ix} in np.ndindex({shape!r}):")
                self.lines.append(f"    {out}[{ix}] = {src}[{ix}]")
        elif op == "at":
            self._at(ins)
        elif op == "setitem":
            self._setitem(ins)
        elif op in ("view", "call", "getitem"):
            self._define(ins)
        else:  # pragma: no cover
            raise Unsupported(f"instruction {op}")

    def _elementwise(self, ins: Any) -> None:
        """``ufunc(a, b, out)`` as a loop nest over out's (fixed) shape, broadcasting by index;
        a ufunc without a scalar formula here stays a ufunc call (numba's own loop)."""
        like = next((self._slot(a) for a in ins.args if isinstance(a, self.Sym)), None)
        out = self._out(ins)
        formula = _SCALAR.get(ins.fn)
        if formula is None or len(ins.args) != ins.fn.nin:
            args = ", ".join(self._arg(a, like) for a in ins.args)
            self.lines.append(f"{self._fn(ins.fn)}({args}, {out})")
            return
        shape = self.slots[ins.out].shape if ins.out is not None else self._shape(ins.writes[0])
        ix = [self._var() for _ in shape]
        operands = []
        for a in ins.args:
            if not isinstance(a, self.Sym):
                operands.append(self._arg(a, like))
                continue
            name = self._src(a)
            if name in self.scalars:
                operands.append(name)
                continue
            ashape = self._slot(a).shape
            lead = len(shape) - len(ashape)
            index = [
                "0" if n == 1 and shape[lead + j] != 1 else ix[lead + j]
                for j, n in enumerate(ashape)
            ]
            operands.append(f"{name}[{', '.join(index)}]" if index else f"{name}[()]")
        expr = formula.format(*operands)
        for depth, (i, n) in enumerate(zip(ix, shape)):
            self.lines.append("    " * depth + f"for {i} in range({n}):")
        target = f"{out}[{', '.join(ix)}]" if ix else f"{out}[()]"
        self.lines.append("    " * len(shape) + f"{target} = {expr}")

    def _shape(self, k: int) -> tuple[int, ...]:
        shape: tuple[int, ...] = self.slots[k].shape
        return shape

    def _dot(self, ins: Any) -> None:
        a, b = ins.args
        sa, sb = self._slot(a), self._slot(b)
        if sa is None or sb is None or len(sa.shape) != 2 or len(sb.shape) != 2:
            raise Unsupported("np.dot of other than two matrices")
        out = self._out(ins)
        (m, k), n = sa.shape, sb.shape[1]
        if m * k * n <= LOOP_PRODUCT or min(m, k, n) == 1 and m * k * n <= 4 * LOOP_PRODUCT:
            self.ns["_matmul"] = kernels().matmul
            self.lines.append(f"_matmul({self._src(a)}, {self._src(b)}, {out})")
        else:
            self.big.append(f"{m}x{k} @ {k}x{n}")
            self.lines.append(f"np.dot({self._src(a)}, {self._src(b)}, {out})")

    def _reduce(self, ins: Any) -> None:
        fn = ins.fn
        if fn not in _REDUCE_INIT:
            raise Unsupported(f"{fn.__name__}.reduce")
        (a,) = ins.args
        opts = dict(ins.kwargs)
        if opts.pop("dtype", None) is not None or set(opts) - {"axis", "keepdims"}:
            raise Unsupported("reduce with dtype= or other options")
        shape = self._slot(a).shape
        if not shape:
            raise Unsupported("reduce of a 0-d array")
        axis = opts.get("axis", None)
        axes = tuple(range(len(shape))) if axis is None else axis
        axes = tuple(ax % len(shape) for ax in (axes if isinstance(axes, tuple) else (axes,)))
        kshape = tuple(1 if i in axes else n for i, n in enumerate(shape))
        out, src = self._out(ins), self._src(a)
        o = self._var()
        self.lines.append(f"{o} = {out}.reshape({kshape!r})")
        self.lines.append(f"{o}[...] = {_REDUCE_INIT[fn]}")
        ix = [self._var() for _ in shape]
        for depth, (i, n) in enumerate(zip(ix, shape)):
            self.lines.append("    " * depth + f"for {i} in range({n}):")
        pad = "    " * len(shape)
        at = ", ".join("0" if d in axes else i for d, i in enumerate(ix))
        acc, item = f"{o}[{at}]", f"{src}[{', '.join(ix)}]"
        self.lines.append(f"{pad}{acc} = {_combine(fn, acc, item)}")

    def _pair(self, key: Any) -> tuple[str, str, int] | None:
        """The two integer index vectors of ``a[rows, cols]``, or None."""
        if isinstance(key, tuple) and len(key) == 2:
            s0, s1 = (self._slot(k) if isinstance(k, self.Sym) else None for k in key)
            v0: Any = s0 if s0 is not None else _as_slot(key[0])
            v1: Any = s1 if s1 is not None else _as_slot(key[1])
            if _int_vector(v0) and _int_vector(v1) and v0.shape == v1.shape:
                return self._src(key[0]), self._src(key[1]), v0.shape[0]
        return None

    def _at(self, ins: Any) -> None:
        target, key, values = ins.args
        pair = self._pair(key)
        if ins.fn is not np.add or pair is None or len(self._slot(target).shape) != 2:
            raise Unsupported(f"{ins.fn.__name__}.at other than np.add.at(a, (rows, cols), v)")
        r, c, n = pair
        i = self._var()
        vs = self._slot(values) if isinstance(values, self.Sym) else None
        value = f"{self._src(values)}[{i}]" if vs is not None and vs.shape == (n,) else None
        if value is None:
            if vs is not None and vs.shape != ():
                raise Unsupported("np.add.at with values of another shape")
            value = f"{self._src(values)}[()]" if vs is not None else self._arg(values, None)
        self.lines.append(f"for {i} in range({n}):")
        self.lines.append(f"    {self._src(target)}[{r}[{i}], {c}[{i}]] += {value}")

    def _setitem(self, ins: Any) -> None:
        target, key, value = ins.args
        pair = self._pair(key)
        if pair is None:
            self.lines.append(f"{self._src(target)}[{self._src(key)}] = {self._src(value)}")
            return
        r, c, n = pair
        vs = self._slot(value) if isinstance(value, self.Sym) else None
        if vs is None or vs.shape != (n,):
            raise Unsupported("a[rows, cols] = v with v not one value per index")
        i = self._var()
        self.lines.append(f"for {i} in range({n}):")
        self.lines.append(f"    {self._src(target)}[{r}[{i}], {c}[{i}]] = {self._src(value)}[{i}]")

    def _define(self, ins: Any) -> None:
        name = self.prog.names[ins.out]
        slot = self.slots[ins.out]
        if ins.op == "getitem":
            a, key = ins.args
            pair = self._pair(key)
            if pair is not None:
                r, c, n = pair
                i = self._var()
                dtype = self._fn(slot.dtype.type)
                self.lines.append(f"{name} = np.empty({n}, {dtype})")
                self.lines.append(f"for {i} in range({n}):")
                self.lines.append(f"    {name}[{i}] = {self._src(a)}[{r}[{i}], {c}[{i}]]")
                return
            self.lines.append(f"{name} = {self._src(a)}[{self._src(key)}]")
            return
        if ins.fn is np.vdot:
            a, b = ins.args
            acc, i = self._var(), self._var()
            kind = self._fn(slot.dtype.type)
            self.lines.append(f"{acc} = {kind}(0)")
            self.lines.append(f"for {i} in np.ndindex({self._slot(a).shape!r}):")
            self.lines.append(f"    {acc} += {self._src(a)}[{i}] * {self._src(b)}[{i}]")
            self.lines.append(f"{name} = {acc}")
            self.scalars.add(name)
            return
        if ins.fn is np.transpose and (len(ins.args) == 1 or ins.args[1] is None):
            self.lines.append(f"{name} = {self._src(ins.args[0])}.T")
            return
        if ins.kwargs:
            raise Unsupported(f"{getattr(ins.fn, '__name__', ins.fn)} with keyword arguments")
        args = ", ".join(self._src(a) for a in ins.args)
        self.lines.append(f"{name} = {self._fn(ins.fn)}({args})")


class _SlotLike:
    def __init__(self, value: np.ndarray) -> None:
        self.shape, self.dtype = value.shape, value.dtype


def _as_slot(value: Any) -> _SlotLike | None:
    return _SlotLike(value) if isinstance(value, np.ndarray) else None


def build(
    prog: Any,
    n_inputs: int,
    n_params: int,
    sym_type: Any,
    update: Any = None,
    force: bool = False,
) -> tuple[Any, str, list[np.ndarray]]:
    """The jitted kernel of a ``_Program`` and its source (raises :class:`Unsupported`); with
    ``update`` (an Optimizer) the kernel also takes its state arrays, the scalars ``S`` and a
    flag ``upd``, and ends with the optimizer's update."""
    import numba

    t = _Translator(prog, n_inputs, n_params, sym_type, update)
    if t.big and not force:
        raise Unsupported(
            f"matrix products too big to loop over ({', '.join(t.big)}): the NumPy replay runs "
            "them at BLAS speed"
        )
    ns = t.ns
    ns["np"] = np
    exec(compile(t.source, "<memograd.fused>", "exec"), ns)  # noqa: S102 - our own source
    kernel = numba.njit(cache=False, error_model="numpy")(ns["kernel"])
    arenas = list(prog.arenas.values())
    return kernel, t.source, arenas


def build_update(
    prog: Any, n_params: int, opt: Any, skip: frozenset[int] = frozenset()
) -> tuple[Any, str]:
    """One numba function updating every parameter from the ``grads`` arena of a ``_Program``
    (for a step whose matrix products stay BLAS calls in the NumPy replay): called with the
    parameters, the arena, the optimizer's state arrays and its scalars, one dispatch per step
    instead of a dozen ufunc calls per parameter. The parameters in ``skip`` are left alone
    (their update was folded into their gradient's matrix product)."""
    import numba

    offsets = prog.grad_offsets
    if offsets is None or not opt.KERNEL:
        raise Unsupported("no flat gradient arena or no optimizer kernel")
    slots = [f"ST{i}" for i in range(len(opt.KERNEL_SLOTS))]
    params = [f"p{i}" for i in range(n_params)]
    lines = [f"def update({', '.join([*params, 'G', *slots, 'S'])}):"]
    for i, (start, (lo, hi)) in enumerate(zip(offsets, opt._bounds)):
        if i in skip:
            continue
        n = hi - lo
        states = "".join(f"{st}[{lo}:{hi}], " for st in slots)
        lines.append(f"    _update(p{i}.reshape(({n},)), G[{start}:{start + n}], {states}*S)")
    if len(lines) == 1:
        lines.append("    return")
    source = "\n".join(lines) + "\n"
    ns: dict[str, Any] = {"_update": getattr(kernels(), opt.KERNEL)}
    exec(compile(source, "<memograd.fused update>", "exec"), ns)  # noqa: S102 - our own source
    return numba.njit(cache=False, error_model="numpy")(ns["update"]), source
