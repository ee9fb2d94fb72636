"""The NumPy replay of :mod:`memograd.tensor.compile` with its element-wise chains fused (the
``numpy + numba update`` backend, for steps whose matrix products stay BLAS calls).

A peephole pass over the replay's lines rewrites each chain as one numba pass from
:mod:`memograd.tensor._kernels`: bias + ReLU; ReLU's VJP (+ the bias's gradient, the column
sums); softmax's row maximum: two or three ufunc calls and passes over the activations become
one. A chain is rewritten only when its intermediates (the sum, the mask) have no other reader.
The kernels are bit-identical to the ufuncs they replace (tested), and the caller checks the
first replay against the plain one.

With plain SGD inside the step and ``keep_grads=False``, a weight's gradient product
∂L/∂W = AᵀΔ and its update W ← W - lr·(∂L/∂W + λW) become one BLAS call,
``C ← αAB + βC`` with C = W, α = -lr, β = 1 - lr·λ (:func:`gemm_folds`): the gradient is
never written, read back and swept again by the update (:mod:`memograd.tensor._blas`: NumPy's
own BLAS through ctypes, or SciPy's; NumPy's ``dot`` takes no β).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from memograd.tensor import _blas
from memograd.tensor.fused import kernels

__all__ = ["build_replay", "gemm_folds"]


def _zero(value: Any) -> bool:
    return type(value) in (int, float) and value == 0


def _floats(*slots: Any) -> bool:
    dtypes = {s.dtype for s in slots}
    return len(dtypes) == 1 and next(iter(dtypes)) in (np.dtype(np.float32), np.dtype(np.float64))


class _Peephole:
    """Rewrite runs of the replay's lines (see :func:`build_replay`)."""

    def __init__(self, prog: Any, sym_type: Any):
        self.prog, self.sym_type, self.slots = prog, sym_type, prog.slots

    def sym(self, obj: Any) -> int | None:
        return obj.k if isinstance(obj, self.sym_type) else None

    def ufunc(self, ins: Any, fn: Any, nargs: int) -> bool:
        return bool(
            ins.op == "ufunc" and ins.fn is fn and not ins.kwargs and len(ins.args) == nargs
        )

    def dies(self, k: int, at: int) -> bool:
        """Is slot k a buffer nothing reads after instruction ``at``?"""
        return bool(self.slots[k].kind == "buf" and self.prog.last.get(k) == at)

    def bias_relu(self, a: tuple[int, Any], b: tuple[int, Any]) -> str | None:
        """add(x, bias, t); maximum(t, 0, out=h) with t dead after -> one pass."""
        (_, add), (j, mx) = a, b
        if not (self.ufunc(add, np.add, 2) and self.ufunc(mx, np.maximum, 2)):
            return None
        x, bias, t = self.sym(add.args[0]), self.sym(add.args[1]), add.out
        if x is None or bias is None or t is None or mx.out is None:
            return None
        if self.sym(mx.args[0]) != t or not _zero(mx.args[1]) or not self.dies(t, j):
            return None
        sx, sb, st, sh = (self.slots[k] for k in (x, bias, t, mx.out))
        if not (
            len(sx.shape) == 2 and sb.shape == sx.shape[1:] and st.shape == sh.shape == sx.shape
        ):
            return None
        if not _floats(sx, sb, st, sh):
            return None
        p = self.prog
        return f"_bias_relu({p._name(x)}, {p._name(bias)}, {p._name(mx.out)})"

    def relu_grad(self, a: tuple[int, Any], b: tuple[int, Any], c: Any) -> tuple[str, int] | None:
        """greater(h, 0, m); multiply(g, m, d) with m dead after [; add.reduce(d, 0, out=s)]."""
        (_, gt), (j, mul) = a, b
        if not (self.ufunc(gt, np.greater, 2) and self.ufunc(mul, np.multiply, 2)):
            return None
        h, m, d = self.sym(gt.args[0]), gt.out, mul.out
        if h is None or m is None or d is None or not _zero(gt.args[1]):
            return None
        ops = [self.sym(v) for v in mul.args]
        if ops.count(m) != 1 or None in ops or not self.dies(m, j):
            return None
        g = ops[0] if ops[1] == m else ops[1]
        assert g is not None
        sh, sg, sd = (self.slots[k] for k in (h, g, d))
        if not (len(sg.shape) == 2 and sh.shape == sg.shape == sd.shape and sg.shape[0] > 0):
            return None
        if not _floats(sh, sg, sd):
            return None
        p = self.prog
        args = f"{p._name(g)}, {p._name(h)}, {p._name(d)}"
        if c is not None:
            _, red = c
            opts = dict(red.kwargs)
            axis = opts.pop("axis", None)
            if (
                red.op == "reduce"
                and red.fn is np.add
                and len(red.args) == 1
                and self.sym(red.args[0]) == d
                and axis in (0, (0,), -2, (-2,))
                and opts.get("dtype") is None
                and not opts.get("keepdims", False)
                and set(opts) <= {"dtype", "keepdims"}
                and red.out is not None
                and self.slots[red.out].shape == sg.shape[1:]
                and _floats(sg, self.slots[red.out])
            ):
                return f"_relu_grad_sum({args}, {p._name(red.out)})", 3
        return f"_relu_grad({args})", 2

    def row_max(self, a: tuple[int, Any]) -> str | None:
        """maximum.reduce(x, 1[, keepdims]) of a 2-D float x -> a loop (NumPy is slow over a
        short last axis: 10 classes)."""
        _, red = a
        opts = dict(red.kwargs)
        axis = opts.pop("axis", None)
        if not (red.op == "reduce" and red.fn is np.maximum and len(red.args) == 1):
            return None
        x, out = self.sym(red.args[0]), red.out
        if x is None or out is None or not set(opts) <= {"dtype", "keepdims"}:
            return None
        if opts.get("dtype") is not None:
            return None
        sx, so = self.slots[x], self.slots[out]
        if not (len(sx.shape) == 2 and axis in (1, (1,), -1, (-1,)) and sx.shape[1] > 0):
            return None
        if math.prod(so.shape) != sx.shape[0] or not _floats(sx, so):
            return None
        p = self.prog
        name = p._name(out)
        flat = f"{name}_flat"
        p.ns[flat] = p.ns[name].reshape(-1)
        if not np.shares_memory(p.ns[flat], p.ns[name]):
            return None
        return f"_row_max({p._name(x)}, {flat})"


def gemm_folds(prog: Any, sym_type: Any) -> dict[int, int]:
    """The replay's weight-gradient products that may update their weight in place: line
    index -> parameter index. A product ``_dot(A, B, out)`` qualifies when ``out`` is parameter
    i's gradient output and nothing reads it later, the parameter is a 2-D float matrix of the
    product's dtype that no later line reads (the update must come after its last use), and
    neither operand is (a view of) the parameter."""
    rec, slots = prog.rec, prog.slots
    grad_of = {name: i for i, name in enumerate(prog.outputs[1:])}
    param_slot = {s.index: k for k, s in enumerate(slots) if s.kind == "param"}
    last_read: dict[int, int] = {}
    for idx, ins in prog.line_ins:
        for r in ins.reads():
            root = rec._root(r)
            last_read[root] = max(last_read.get(root, -1), idx)
    folds: dict[int, int] = {}
    for j, (idx, ins) in enumerate(prog.line_ins):
        if ins.op != "dot" or ins.kwargs or len(ins.args) != 2 or ins.out is None:
            continue
        i = grad_of.get(prog.names.get(ins.out, ""))
        pk = param_slot.get(i) if i is not None else None
        if i is None or pk is None or i in folds.values():
            continue
        operands = [a.k for a in ins.args if isinstance(a, sym_type)]
        if len(operands) != 2 or pk in (rec._root(k) for k in operands):
            continue
        sp, so = slots[pk], slots[ins.out]
        if not (len(sp.shape) == 2 and sp.shape == so.shape and _floats(sp, so)):
            continue
        if any(slots[k].dtype != sp.dtype or len(slots[k].shape) != 2 for k in operands):
            continue
        if last_read.get(pk, -1) > idx or last_read.get(ins.out, -1) > idx:
            continue
        folds[j] = i
    return folds


def _fold_line(prog: Any, ins: Any, i: int) -> str:
    a, b = ins.args  # gradient = a @ b
    bits = 32 if prog.slots[a.k].dtype == np.float32 else 64
    return f"_gemm{bits}(_alpha, {prog._name(a.k)}, {prog._name(b.k)}, _beta, p{i})"


def build_replay(
    prog: Any, sym_type: Any, folds: dict[int, int] | None = None
) -> tuple[Any, str, int]:
    """The NumPy replay with its element-wise chains as numba calls (one pass each instead of
    two or three ufunc calls and passes): bias + ReLU, ReLU's VJP (+ the bias's gradient, the
    column sums), the row maximum of softmax. Returns the function, its source and how many
    chains were fused (0: nothing to gain, the caller keeps the plain replay). The kernels are
    bit-identical to the ufuncs they replace (tested); the caller checks the replay once.

    ``folds`` (from :func:`gemm_folds`): those lines update their weight in place instead of
    writing its gradient, and the function takes two more arguments, α = -lr and β = 1 - lr·λ.
    """
    k = kernels()
    folds = folds or {}
    peep = _Peephole(prog, sym_type)
    pairs = list(zip(prog.lines, prog.line_ins))
    body: list[str] = []
    n, fused_count = 0, 0
    while n < len(pairs):
        if n in folds:
            body.append(_fold_line(prog, pairs[n][1][1], folds[n]))
            n, fused_count = n + 1, fused_count + 1
            continue
        here = pairs[n][1]
        nxt = pairs[n + 1][1] if n + 1 < len(pairs) else None
        third = pairs[n + 2][1] if n + 2 < len(pairs) else None
        if nxt is not None and nxt[0] == here[0] + 1:
            line = peep.bias_relu(here, nxt)
            if line is not None:
                body.append(line)
                n, fused_count = n + 2, fused_count + 1
                continue
            found = peep.relu_grad(
                here, nxt, third if third is not None and third[0] == nxt[0] + 1 else None
            )
            if found is not None:
                body.append(found[0])
                n, fused_count = n + found[1], fused_count + 1
                continue
        line = peep.row_max(here)
        if line is not None:
            body.append(line)
            n, fused_count = n + 1, fused_count + 1
            continue
        body.append(pairs[n][0])
        n += 1
    head = prog.head
    if folds:
        first = head.split("\n", 1)[0]
        extra = "_alpha, _beta" if first.endswith("():") else ", _alpha, _beta"
        head = head.replace(first, first[:-2] + extra + "):", 1)
    source = head + "".join("\n    " + line for line in body) + "\n    return"
    ns = dict(prog.ns)
    if folds:
        g32, g64 = _blas.gemm(np.float32), _blas.gemm(np.float64)
        if g32 is None or g64 is None:
            raise ImportError("no BLAS gemm with beta (NumPy's OpenBLAS or SciPy) to fold into")
        ns.update(_gemm32=g32, _gemm64=g64)
    ns.update(
        _bias_relu=k.bias_relu,
        _relu_grad=k.relu_grad,
        _relu_grad_sum=k.relu_grad_sum,
        _row_max=k.row_max,
    )
    exec(compile(source, "<memograd.compile_step fused replay>", "exec"), ns)  # noqa: S102
    return ns["step"], source, fused_count
