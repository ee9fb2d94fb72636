"""From a ``compile_step`` recording to code: dead-code elimination, buffers, the source.

:class:`_Program` keeps the instructions the outputs need, gives every intermediate a buffer
allocated once (reused, as a register allocator does, once its last reader ran; element-wise ops
write into a dying input in place), makes views of buffers once, moves all buffers into one arena
per dtype (the fused backend's kernel takes the arenas) and writes one Python function of
positional ufunc calls with ``out=`` buffers. ``steps`` is what :mod:`memograd.tensor.fused`
translates.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from memograd.errors import GraphError
from memograd.tensor._trace import (
    _Diverged,
    _identifier,
    _Instr,
    _Recorder,
    _Slot,
    _Sym,
)


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
        self.ns: dict[str, Any] = {
            "np": np,
            "_copyto": np.copyto,
            "_dot": np.dot,
            "_Diverged": _Diverged,
        }
        self.names: dict[int, str] = {}
        self.buffers: list[np.ndarray] = []
        self.lines: list[str] = []
        # per line of ``lines``: the index of its instruction and the instruction (the fused
        # element-wise rewrite reads them), and per buffer slot the index of its last reader
        self.line_ins: list[tuple[int, _Instr]] = []
        self.last: dict[int, int] = {}
        # what the fused backend translates: ("ins", instruction) or ("view", name, expression)
        self.steps: list[tuple[Any, ...]] = []
        instrs = self._live(rec.instrs, outputs)
        self._allocate(instrs, set(outputs))
        self._relocate([self.names[k] for k in flat] if flat else [])
        self.outputs = [self.names[k] for k in outputs]
        args = ", ".join(f"x{i}" for i in range(n_inputs))
        head = [f"def step({args}):"]
        head += [f"    p{i} = P[{i}].data" for i in range(n_params)]
        self.head = "\n".join(head)
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
    def _const(self, value: Any) -> str:
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

    def _src(self, obj: Any) -> str:
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

    def _fn(self, fn: Any) -> str:
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
        self.last = last
        pool: dict[tuple[Any, ...], list[np.ndarray]] = {}
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
            before = len(self.lines)
            self._emit(ins, owner, once)
            self.line_ins += [(i, ins)] * (len(self.lines) - before)

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
                self.ns[step[1]] = eval(step[2], self.ns)

    def _emit(self, ins: _Instr, owner: dict[int, np.ndarray], once: dict[int, bool]) -> None:
        if ins.op not in ("view", "call", "getitem"):
            self.steps.append(("ins", ins))
        args = ", ".join(self._src(a) for a in ins.args)
        kwargs = "".join(f", {_identifier(k)}={self._src(v)}" for k, v in ins.kwargs.items())
        out = self.names.get(ins.out) if ins.out is not None else None
        if ins.op == "ufunc":
            target = out if out is not None else self._name(ins.writes[0])
            if ins.kwargs or ins.fn in (
                np.maximum,
                np.minimum,
            ):  # no positional out for these
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
            k = ins.out
            assert k is not None  # view, call and getitem define a value
            slot = self.slots[k]
            base_root = self.rec._root(k)
            if slot.kind == "view" and self.slots[base_root].kind == "buf" and base_root in owner:
                value = eval(expr, self.ns)
                if np.shares_memory(value, owner[base_root]):
                    name = f"v{k}"
                    self.ns[name] = value
                    self.names[k] = name
                    self.steps.append(("view", name, expr))
                    return
            name = f"s{k}"
            self.names[k] = name
            self.lines.append(f"{name} = {expr}")
            self.steps.append(("ins", ins))
        else:  # pragma: no cover
            raise GraphError(f"compile_step: unknown instruction {ins.op}")
