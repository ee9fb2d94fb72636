"""The op functions of ``mg.tensor`` and the ``Tensor`` methods that only forward to a table row.

Generated from the table: a row of :data:`memograd.tensor.ops.TABLE` that declares
``public="a, /, axis=None, keepdims=False"`` becomes the function ``mg.tensor.<name>`` with that
signature (tensors before ``/``, constant parameters after it), and with ``method=True`` also the
method ``t.<name>(...)``. The generated code converts the inputs by the dtype rule (one input:
``tensor(a)``; two: :func:`~memograd.tensor.tensor._pair`; more: :func:`_many`), checks and
normalises ``axis`` (:func:`_check_axis`), runs the row's ``check`` and records the op with
``_apply``. Rows registered later (op families in their own modules) are generated when they
register. ``source(name)`` shows the generated code.

Below the generator: the functions whose arguments need more than that (``pow`` picks a row by
its exponent, ``where`` takes a mask, ``reshape`` accepts ``-1``, ``getitem`` converts keys,
``concatenate`` takes a list, ``cross_entropy`` checks labels), and the factories.
"""

from __future__ import annotations

import builtins
import math
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from memograd.errors import MemogradTypeError, MemogradValueError, ShapeError
from memograd.tensor import ops
from memograd.tensor.ops import TABLE, Primitive
from memograd.tensor.tensor import _F32, Tensor, _apply, _is_int, _pair, _wrap, tensor

_SOURCES: dict[str, str] = {}
GENERATED: list[str] = []  # names of the generated functions, in table order


# ------------------------------------------------------------------------------ the generator
def _check_axis(name: str, a: Tensor, axis: Any) -> Any:
    """Validate ``axis`` for ``a`` and return it normalised: a list becomes a tuple, and on a 0-d
    tensor ``0``/``-1`` (what NumPy and PyTorch accept there) mean its only element (None)."""
    if axis is None:
        return None
    axes = (axis,) if _is_int(axis) or not isinstance(axis, (tuple, list)) else tuple(axis)
    for ax in axes:
        if not _is_int(ax):
            raise MemogradTypeError(
                f"{name}: axis must be an int or a tuple of ints, got {type(ax).__name__} {ax!r}"
            )
        if not -builtins.max(a.ndim, 1) <= ax < builtins.max(a.ndim, 1):
            raise ShapeError(
                f"{name}: axis {ax} is out of range for shape {a.shape} (valid: "
                f"{-builtins.max(a.ndim, 1)} to {builtins.max(a.ndim, 1) - 1})"
            )
    if len({ax % builtins.max(a.ndim, 1) for ax in axes}) != len(axes):
        raise ShapeError(
            f"{name}: axis {axis} names the same axis twice for shape {a.shape}; list each once"
        )
    if a.ndim == 0:
        return None if axes else ()
    return tuple(axes) if isinstance(axis, list) else axis


def _many(name: str, tensors: Sequence[Any]) -> tuple[Tensor, ...]:
    """Inputs of an op on any number of tensors, by the dtype rule: non-Tensors (numpy arrays of
    any float dtype included) take the Tensors' float dtype; only Tensors of different float
    precision are refused."""
    items = list(tensors)
    if not items:
        raise MemogradValueError(f"{name}: needs at least one tensor")
    floats = {t.data.dtype for t in items if type(t) is Tensor and t.data.dtype.kind == "f"}
    if len(floats) > 1:
        raise MemogradTypeError(
            f"{name}: cannot mix float Tensors of dtypes {sorted(map(str, floats))}; convert "
            "them with .astype(...) to one dtype"
        )
    if not floats:  # no float Tensor: a float among the others decides (float32 for Python's)
        converted = [t if type(t) is Tensor else tensor(t) for t in items]
        floats = {t.data.dtype for t in converted if t.data.dtype.kind == "f"}
        if len(floats) > 1:
            floats = {max(floats, key=lambda d: d.itemsize)}
        items = converted
    if not floats:
        return tuple(t if type(t) is Tensor else tensor(t) for t in items)
    (f,) = floats
    out = []
    for t in items:
        if type(t) is not Tensor:
            t = _wrap(np.asarray(t, dtype=f))
        elif t.data.dtype != f:
            t = _wrap(t.data.astype(f))
        out.append(t)
    return tuple(out)


def _parse(public: str) -> tuple[list[str], list[str], str]:
    """``"a, /, axis=None"`` -> (['a'], ['axis=None'], signature without the ``/``)."""
    parts = [p.strip() for p in public.split(",") if p.strip()]
    if "/" in parts:
        cut = parts.index("/")
        tensors, params = parts[:cut], parts[cut + 1 :]
    else:
        tensors, params = parts, []
    return tensors, params, ", ".join(tensors + params)


def _doc_of(row: Primitive) -> str:
    """A generated function's docstring: the forward's (a ufunc: numpy's one-line summary)."""
    fwd = row.forward
    if isinstance(fwd, np.ufunc):
        lines = [ln.strip() for ln in (fwd.__doc__ or "").splitlines()]
        summary = next((ln for ln in lines[1:] if ln), "")
        return f"np.{fwd.__name__}, differentiable: {summary}"
    text = (getattr(fwd, "__doc__", None) or "").strip()
    if text and getattr(fwd, "__name__", "") != "<lambda>":
        return text
    return f"The {row.name} op: a row of memograd.tensor.ops.TABLE (forward and VJP)."


def _source(row: Primitive, fname: str) -> str:
    tensors, params, signature = _parse(str(row.public))
    names = [p.split("=")[0].strip().lstrip("*") for p in params]
    doc = row.doc or _doc_of(row)
    lines = [f"def {fname}({signature}):", f"    {doc!r}"]
    if len(tensors) == 1 and tensors[0].startswith("*"):
        var = tensors[0][1:]
        lines.append(f"    {var} = _many({row.name!r}, {var})")
        inputs, first = var, f"{var}[0]"
    elif len(tensors) == 1:
        a = tensors[0]
        lines.append(f"    if type({a}) is not Tensor:\n        {a} = tensor({a})")
        inputs, first = f"({a},)", a
    elif len(tensors) == 2:
        lines.append(f"    {tensors[0]}, {tensors[1]} = _pair({row.name!r}, {', '.join(tensors)})")
        inputs, first = f"({', '.join(tensors)})", tensors[0]
    else:
        lines.append(f"    _xs = _many({row.name!r}, ({', '.join(tensors)},))")
        inputs, first = "_xs", "_xs[0]"
    if "axis" in names:
        lines.append(f"    axis = _check_axis({row.name!r}, {first}, axis)")
    params_dict = "{" + ", ".join(f"{n!r}: {n}" for n in names) + "}"
    if row.check is not None:
        lines.append(f"    _row.check(*[_t.data for _t in {inputs}], **{params_dict})")
    # the row is looked up at each call: the table stays the one truth (tests may swap a row)
    lines.append(f"    return _apply(TABLE[{row.name!r}], {inputs}, {params_dict})")
    return "\n".join(lines) + "\n"


def install(row: Primitive) -> None:
    """Generate the function (and method) of a row that declares ``public=``."""
    if row.public is None:
        return
    package = sys.modules.get("memograd.tensor")
    for fname in (row.name, *row.aliases):
        src = _source(row, fname)
        namespace = {
            "_row": row,
            "TABLE": TABLE,
            "Tensor": Tensor,
            "tensor": tensor,
            "_pair": _pair,
            "_many": _many,
            "_check_axis": _check_axis,
            "_apply": _apply,
        }
        exec(compile(src, f"<memograd.tensor.api: {row.name}>", "exec"), namespace)  # noqa: S102
        fn = namespace[fname]
        fn.__module__ = "memograd.tensor"
        setattr(fn, "row", row)  # noqa: B010 - the row a generated function runs
        _SOURCES[fname] = src
        globals()[fname] = fn
        if fname not in GENERATED:
            GENERATED.append(fname)
        if package is not None:
            setattr(package, fname, fn)
        if row.method:
            setattr(Tensor, fname, fn)


def source(name: str) -> str:
    """The generated Python of ``mg.tensor.<name>``."""
    return _SOURCES[name]


# ------------------------------------------------------------------------------ custom functions
def _reduction(name: str, a: Any, axis: Any, keepdims: bool, **extra: Any) -> Tensor:
    """A reduction row by name (numpy interop's ``np.sum(t)`` & co. come here)."""
    if type(a) is not Tensor:
        a = tensor(a)
    axis = _check_axis(name, a, axis)
    return _apply(TABLE[name], (a,), {"axis": axis, "keepdims": keepdims, **extra})


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 - mirrors numpy/torch naming
    """a ** b: a number exponent is a constant (``pow_const``), a tensor exponent is
    differentiated too (∂/∂b = a^b log a)."""
    if type(a) is Tensor and type(b) is not Tensor and np.ndim(b) == 0:
        if a.data.dtype.kind != "f":
            a = a.astype(_F32)
        return _apply(TABLE["pow_const"], (a,), {"c": b.item() if isinstance(b, np.generic) else b})
    a, b = _pair("pow", a, b)
    if a.data.dtype.kind != "f":
        a, b = a.astype(_F32), b.astype(_F32)
    return _apply(TABLE["pow"], (a, b), {})


def matmul(a: Any, b: Any) -> Tensor:
    """a @ b with numpy's rules: 1-D operands are promoted, leading (batch) dims broadcast."""
    if type(a) is Tensor and type(b) is Tensor:  # the common case: two matrices of one dtype
        da, db = a.data, b.data
        if da.ndim == 2 and db.ndim == 2 and da.shape[1] == db.shape[0] and da.dtype == db.dtype:
            return _apply(TABLE["matmul"], (a, b), {})
    a, b = _pair("matmul", a, b)
    sa, sb = a.data.shape, b.data.shape
    if not sa or not sb:
        raise ShapeError(f"matmul: shapes {sa} and {sb}: operands must have at least one dimension")
    ka, kb = sa[-1], sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ShapeError(f"matmul: shapes {sa} and {sb} do not align ({ka} != {kb})")
    return _apply(TABLE["matmul"], (a, b), {})


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """a where cond else b (cond: bool array or tensor, no gradient)."""
    cond = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
    a, b = _pair("where", a, b)
    return _apply(TABLE["where"], (a, b), {"cond": cond.astype(bool, copy=False)})


def reshape(a: Any, shape: Any) -> Tensor:
    """Same values, new shape (one entry may be -1)."""
    if type(a) is not Tensor:
        a = tensor(a)
    shape = (shape,) if _is_int(shape) else tuple(int(s) for s in shape)
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1 or (
        -1 not in shape and known != a.size or -1 in shape and (known == 0 or a.size % known)
    ):
        raise ShapeError(f"reshape: cannot reshape shape {a.shape} ({a.size} values) into {shape}")
    return _apply(TABLE["reshape"], (a,), {"shape": shape})


def transpose(a: Any, axes: Any = None) -> Tensor:
    """Permute axes (reverse them if ``axes`` is None)."""
    if type(a) is not Tensor:
        a = tensor(a)
    if axes is not None:
        axes = tuple(int(x) % builtins.max(a.ndim, 1) for x in axes)
        if sorted(axes) != list(range(a.ndim)):
            raise ShapeError(f"transpose: axes {axes} are not a permutation for shape {a.shape}")
    return _apply(TABLE["transpose"], (a,), {"axes": axes})


permute = transpose


def broadcast_to(a: Any, shape: Any) -> Tensor:
    """Repeat size-1 (or missing leading) dims to ``shape``, as numpy; a view."""
    if type(a) is not Tensor:
        a = tensor(a)
    return _apply(TABLE["broadcast_to"], (a,), {"shape": tuple(shape)})


expand = broadcast_to


def squeeze(a: Any, axis: Any = None) -> Tensor:
    """Drop size-1 axes (or only ``axis``)."""
    if type(a) is not Tensor:
        a = tensor(a)
    axis = _check_axis("squeeze", a, axis)
    if axis is not None:
        for ax in (axis,) if _is_int(axis) else axis:
            if a.shape[ax] != 1:
                raise ShapeError(
                    f"squeeze: axis {ax} of shape {a.shape} has size {a.shape[ax]}, not 1"
                )
    return _apply(TABLE["squeeze"], (a,), {"axis": axis})


def unsqueeze(a: Any, axis: int) -> Tensor:
    """Insert a size-1 axis at ``axis``."""
    if type(a) is not Tensor:
        a = tensor(a)
    if not -a.ndim - 1 <= axis <= a.ndim:
        raise ShapeError(f"unsqueeze: axis {axis} is out of range for shape {a.shape}")
    return _apply(TABLE["unsqueeze"], (a,), {"axis": axis})


def _index(key: Any) -> Any:
    """Index keys: tensors become their arrays (int or bool), lists become arrays (an empty list
    is an empty integer index, as in NumPy)."""
    if isinstance(key, tuple):
        return tuple(_index(k) for k in key)
    if isinstance(key, Tensor):
        key = key.data
    elif isinstance(key, list):
        key = np.asarray(key) if key else np.zeros(0, np.intp)
    if isinstance(key, np.ndarray) and key.dtype.kind not in "iub":
        raise MemogradTypeError(f"getitem: index arrays must be integer or bool, got {key.dtype}")
    return key


def getitem(a: Tensor, key: Any) -> Tensor:
    """a[key] with slices, integers, integer arrays, boolean masks; repeated indices add up."""
    return _apply(TABLE["getitem"], (a,), {"key": _index(key)})


def concatenate(tensors: Iterable[Any], axis: int | None = 0) -> Tensor:
    """Join along an existing axis (``axis=None`` flattens the inputs first, as NumPy)."""
    ts = _many("concatenate", list(tensors))
    if axis is None:
        ts = tuple(reshape(t, (-1,)) for t in ts)
        axis = 0
    return _apply(TABLE["concatenate"], ts, {"axis": axis})


cat = concatenate


def stack(tensors: Iterable[Any], axis: int = 0) -> Tensor:
    """Join along a new axis."""
    ts = _many("stack", list(tensors))
    return _apply(TABLE["stack"], ts, {"axis": axis})


def cross_entropy(logits: Any, labels: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy with integer labels, fused and stable:
    L = mean_i [logsumexp(z_i) - z_i[label_i]], ∂L/∂z = (softmax(z) - onehot)/n."""
    if type(logits) is not Tensor:
        logits = tensor(logits)
    y = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if y.dtype.kind not in "iu":
        hint = (
            "one-hot or probability targets of the logits' shape are not supported: pass "
            "labels.argmax(axis=1)"
            if y.ndim == 2
            else "convert them with labels.astype(int) (class indices 0..C-1)"
        )
        raise MemogradTypeError(
            f"cross_entropy: labels must be integers, got dtype {y.dtype} (shape {y.shape}, "
            f"logits {logits.shape}); {hint}"
        )
    _check_reduction("cross_entropy", reduction)
    ops._check_labels(logits.data, y)
    return _apply(TABLE["cross_entropy"], (logits,), {"labels": y, "reduction": reduction})


def mse(pred: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error mean((pred - target)²)."""
    _check_reduction("mse", reduction)
    a, b = _pair("mse", pred, target)
    return _apply(TABLE["mse"], (a, b), {"reduction": reduction})


def binary_cross_entropy_with_logits(logits: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Stable BCE on logits: mean(max(x,0) - x t + log(1 + e^-|x|)); ∂/∂x = (σ(x) - t)/n."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    a, b = _pair("binary_cross_entropy_with_logits", logits, target)
    return _apply(TABLE["bce_with_logits"], (a, b), {"reduction": reduction})


bce_with_logits = binary_cross_entropy_with_logits


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise MemogradValueError(
            f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
        )


# ---------------------------------------------------------------------------------- factories
def zeros(*shape: Any, dtype: Any = "float32", requires_grad: bool = False) -> Tensor:
    shape = shape[0] if len(shape) == 1 and not _is_int(shape[0]) else shape
    return tensor(np.zeros(shape, dtype=dtype), requires_grad=requires_grad)


def ones(*shape: Any, dtype: Any = "float32", requires_grad: bool = False) -> Tensor:
    shape = shape[0] if len(shape) == 1 and not _is_int(shape[0]) else shape
    return tensor(np.ones(shape, dtype=dtype), requires_grad=requires_grad)


def full(shape: Any, value: Any, dtype: Any = "float32", requires_grad: bool = False) -> Tensor:
    return tensor(np.full(shape, value, dtype=dtype), requires_grad=requires_grad)


def zeros_like(a: Any, requires_grad: bool = False) -> Tensor:
    return tensor(
        np.zeros_like(a.data if isinstance(a, Tensor) else a), requires_grad=requires_grad
    )


def ones_like(a: Any, requires_grad: bool = False) -> Tensor:
    return tensor(np.ones_like(a.data if isinstance(a, Tensor) else a), requires_grad=requires_grad)


def arange(*args: Any, dtype: Any = None) -> Tensor:
    return tensor(np.arange(*args, dtype=dtype))


# ------------------------------------------------------------------------------ Tensor methods
def _shape_args(args: tuple[Any, ...]) -> Any:
    return args[0] if len(args) == 1 and not _is_int(args[0]) else args


def _reshape_method(self: Tensor, *shape: Any) -> Tensor:
    """t.reshape(2, 3) or t.reshape((2, 3))."""
    return reshape(self, _shape_args(shape))


def _transpose_method(self: Tensor, *axes: Any) -> Tensor:
    """t.transpose() reverses the axes; t.transpose(1, 0, 2) or t.transpose((1, 0, 2))."""
    axes = _shape_args(axes)
    return transpose(self, axes or None)


_METHODS = {
    "__pow__": lambda self, o: pow(self, o),
    "__rpow__": lambda self, o: pow(o, self),
    "__matmul__": matmul,
    "__rmatmul__": lambda self, o: matmul(o, self),
    "__getitem__": getitem,
    "T": property(lambda self: transpose(self), doc="All axes reversed (numpy's ``.T``)."),
    "matmul": matmul,
    "reshape": _reshape_method,
    "flatten": lambda self: reshape(self, (-1,)),
    "transpose": _transpose_method,
    "permute": _transpose_method,
    "broadcast_to": lambda self, *shape: broadcast_to(self, _shape_args(shape)),
    "expand": lambda self, *shape: broadcast_to(self, _shape_args(shape)),
    "squeeze": squeeze,
    "unsqueeze": unsqueeze,
}
for _name, _method in _METHODS.items():
    setattr(Tensor, _name, _method)

for _row in list(TABLE.values()):
    install(_row)
ops.on_register(install)
