"""``Tensor``: a numpy array that remembers how it was computed; ``memograd.graph`` differentiates.

    import memograd as mg
    W = mg.tensor(np.random.randn(784, 10) * 0.01, requires_grad=True, dtype="float32")
    loss = mg.tensor.cross_entropy(x @ W, labels)   # x: (32, 784) tensor, labels: int array
    loss.backward()                                 # W.grad: Tensor of shape (784, 10)
    with mg.no_grad():
        W -= 0.1 * W.grad                           # in-place update, version counter bumped

Each op looks up its row in :data:`memograd.tensor.ops.TABLE` (forward and VJP side by side),
computes the output with numpy and records ``_parents`` (inputs that need a gradient) plus what the
VJP needs. ``backward()`` hands the output to :func:`memograd.graph.backward`, the same memoized
backward the scalar ``Value`` uses: a topological order, then an adjoint table filled in reverse,
each entry read once and evicted.

Semantics (as PyTorch users expect):

* **dtypes.** float32 by default (Python floats and lists), float64 supported, integer and bool
  tensors are data and cannot require grad. The dtype rule: a float tensor keeps its dtype
  against anything that is not a Tensor (Python numbers, numpy scalars *including float64*, numpy
  arrays, lists are cast to it), so ``x32 * np.float64(2)`` stays float32; integer/bool tensors
  meeting a float take that float's dtype (float32 for Python floats); two float Tensors of
  different precision raise :class:`~memograd.MemogradTypeError` (convert one with ``.astype``)
  instead of silently upcasting to float64. An op on integer tensors that yields floats
  (``/``, ``mean``, ``exp``) returns float32.
* **grads.** Leaf ``.grad`` (a Tensor) accumulates across ``backward()`` calls until reset
  (``p.grad = None``). ``backward(grad=None)`` needs a scalar (size-1) output, or ``grad`` of the
  output's shape. Each node's saved arrays are freed once its VJP ran; a second backward through
  the same graph raises :class:`~memograd.GraphError` unless the first used ``retain_graph=True``.
* **in place.** ``+=, -=, *=, /=, x[idx] = v, copy_`` edit the array in place and bump a version
  counter shared with views. On a tensor that requires grad they are allowed only under
  ``mg.no_grad()`` (how optimizers update parameters). A tensor saved for backward and edited in
  place afterwards makes backward raise GraphError, never a silently wrong gradient. Writing
  into ``t.data`` (the raw numpy array) bypasses the counter, as ``.data`` does in PyTorch.
* **errors** name the op and the shapes: ``matmul: shapes (32, 784) and (256, 10) do not align
  (784 != 256)`` (:class:`~memograd.ShapeError`).
* Comparisons (``<, <=, >, >=, ==, !=``) return bool tensors without gradient; because ``==`` is
  elementwise, a Tensor hashes by identity.
* **kinks** (a subgradient, by a fixed rule): ``max``/``min`` over an axis share the adjoint
  equally among tied extrema (``[1, 3, 3].max()`` gives ``[0, 0.5, 0.5]``; PyTorch's full
  reduction does the same, its ``max(dim)`` picks one index); ``maximum``/``minimum`` give each
  side half on a tie; ``relu`` and ``abs`` have derivative 0 at 0; ``clip`` passes the adjoint
  where ``lo <= a <= hi`` (bounds included).
"""

from __future__ import annotations

import builtins
import math
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from memograd import graph
from memograd.errors import GraphError, MemogradTypeError, MemogradValueError, ShapeError
from memograd.tensor.ops import TABLE, Primitive, unbroadcast

__all__ = [
    "Tensor",
    "tensor",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "zeros",
    "ones",
    "zeros_like",
    "ones_like",
    "full",
    "arange",
]

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_FLOATS = (_F32, _F64)


class _Mode:
    """Global autograd switches (``no_grad`` flips ``grad``; ``backward`` sets ``retain``)."""

    grad = True
    retain = False


class no_grad:
    """Context manager (and decorator): ops inside record no graph, and in-place edits of
    tensors that require grad are allowed (how optimizers update parameters). The switch is
    process-wide, not per thread."""

    _enabled = False

    def __init__(self):
        self._previous: list[bool] = []  # a stack: one instance may be entered again inside

    def __enter__(self):
        self._previous.append(_Mode.grad)
        _Mode.grad = self._enabled
        return self

    def __exit__(self, *exc):
        _Mode.grad = self._previous.pop()
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """Context manager: record graphs again inside a ``no_grad`` block."""

    _enabled = True


def is_grad_enabled() -> bool:
    """True unless inside ``mg.no_grad()``."""
    return _Mode.grad


class _Meta:
    """Stand-in for an input whose values backward does not need: only its shape and dtype."""

    __slots__ = ("shape", "dtype", "ndim")

    def __init__(self, array: np.ndarray):
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim


def _as_dtype(dtype) -> np.dtype | None:
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError as e:
        raise MemogradTypeError(
            f"tensor: unknown dtype {dtype!r}; use 'float32' or 'float64'"
        ) from e


def _to_array(data, dtype=None, copy=True) -> np.ndarray:
    """The dtype rule for new tensors: numpy arrays keep their dtype, Python floats -> float32."""
    if isinstance(data, Tensor):
        data = data.data
    want = _as_dtype(dtype)
    if getattr(data, "_traced", False):  # an array being recorded by compile_step
        return data if want is None or want == data.dtype else data.astype(want)
    if isinstance(data, np.ndarray):
        arr = data.astype(want, copy=copy) if want is not None else (data.copy() if copy else data)
    else:
        arr = np.array(data, dtype=want)
        if want is None and arr.dtype == _F64 and not isinstance(data, np.floating):
            arr = arr.astype(_F32)
    if arr.dtype.kind not in "fiub":
        raise MemogradTypeError(
            f"tensor: unsupported dtype {arr.dtype} (from {type(data).__name__}); "
            "use numbers, bools or numeric numpy arrays"
        )
    if arr.dtype == np.float16:
        arr = arr.astype(_F32)
    return arr


class Tensor:
    """An n-dimensional array node of the computation graph.

    ``Tensor(data, requires_grad=False, dtype=None)`` wraps ``data`` without copying a numpy array
    of the right dtype (``mg.tensor`` always copies). Attributes: ``data`` (the numpy array),
    ``grad`` (a Tensor or None), ``requires_grad``, ``shape``, ``ndim``, ``dtype``, ``size``, ``T``.
    """

    __slots__ = ("data", "requires_grad", "grad", "name", "_node", "_vc", "__weakref__")
    data: np.ndarray
    requires_grad: bool
    grad: Any
    name: str | None
    _node: Any
    _vc: Any
    _parents = ()  # a leaf is a graph node without parents (ops' outputs use their Node)
    __array_ufunc__ = None  # numpy defers to Tensor's operators: ndarray + Tensor -> Tensor
    __hash__ = object.__hash__  # == is elementwise, so identity hashing

    def __init__(self, data, requires_grad: bool = False, dtype=None, *, name: str | None = None):
        arr = _to_array(data, dtype, copy=False)
        _init(self, arr)
        self.name = name
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def T(self) -> Tensor:
        """All axes reversed (numpy's ``.T``)."""
        return transpose(self)

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by an op that recorded a graph)."""
        return self._node is None

    @property
    def grad_fn(self) -> str | None:
        """Name of the op that made this tensor (None for leaves)."""
        return None if self._node is None else self._node.prim.name

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Mark a leaf as a parameter whose gradient ``backward`` fills; float tensors only."""
        if flag and self.data.dtype.kind != "f":
            raise MemogradTypeError(
                f"requires_grad: only float tensors can require grad, got dtype {self.data.dtype}; "
                "convert with .astype('float32')"
            )
        if not flag and self._node is not None:
            raise GraphError("requires_grad_: cannot clear it on a non-leaf; use .detach()")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self) -> Tensor:
        """Also keep ``.grad`` for this non-leaf tensor in the next backward."""
        if self._node is not None:
            self._node.retained = weakref.ref(self)
        return self

    # ------------------------------------------------------------------ conversions
    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self):
        """The Python number held by a size-1 tensor."""
        if self.data.size != 1:
            raise MemogradValueError(
                f"item: only a tensor with one element converts to a number, got shape {self.shape}"
            )
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> Tensor:
        """The same data (shared, with the same version counter) outside any graph."""
        t = _wrap(self.data)
        t._vc = self._vc
        return t

    def astype(self, dtype) -> Tensor:
        """Cast; differentiable between float dtypes (the adjoint is cast back)."""
        want = _as_dtype(dtype)
        if want == self.data.dtype:
            return self
        if want.kind == "f" and self.data.dtype.kind == "f":
            return _apply(_ASTYPE, (self,), {"dtype": want})
        return _wrap(self.data.astype(want))

    def float(self) -> Tensor:
        return self.astype(_F32)

    def double(self) -> Tensor:
        return self.astype(_F64)

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)`` is ``t.data`` itself; a new dtype or ``copy=True`` copies, and
        ``copy=False`` with a new dtype is refused (numpy 2's rule)."""
        same = dtype is None or np.dtype(dtype) == self.data.dtype
        if copy is False and not same:
            raise ValueError(f"np.asarray: a {self.data.dtype} tensor as {dtype} needs a copy")
        if copy:
            return self.data.copy() if same else self.data.astype(dtype)
        return self.data if same else self.data.astype(dtype)

    def __dlpack__(self, **kwargs):
        """DLPack export of ``t.data`` without a copy: ``torch.from_dlpack(t)`` shares memory
        (an in-place edit through the other side is not seen by memograd's version counter)."""
        return self.data.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.data.__dlpack_device__()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.data)

    def __len__(self):
        if self.data.ndim == 0:
            raise MemogradTypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", threshold=100)
        extra = []
        if self.data.dtype != _F32 and self.data.dtype not in (np.dtype(np.int64), np.dtype(bool)):
            extra.append(f"dtype={self.data.dtype}")
        if self._node is not None:
            extra.append(f"grad_fn=<{self._node.prim.name}>")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        if self.name:
            extra.append(f"name={self.name!r}")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    def backward(
        self, grad=None, retain_graph: bool = False, trace: graph.Trace | None = None
    ) -> graph.BackwardStats:
        """Fill ``.grad`` of every leaf this tensor depends on with ∂self/∂leaf (accumulating).

        ``grad`` is the seed adjoint (defaults to 1 for a size-1 output). Returns the counts of
        the memoized backward (nodes visited, edges, peak size of the adjoint table)."""
        if not self.requires_grad:
            raise GraphError(
                "backward: this tensor does not require grad (no input had requires_grad=True, "
                "or it was computed under no_grad)"
            )
        if grad is None:
            if self.data.size != 1:
                raise ShapeError(
                    f"backward: output of shape {self.shape} is not a scalar; pass "
                    f"grad= of shape {self.shape} (the adjoint ∂L/∂output), or reduce it first "
                    "(e.g. .sum())"
                )
            seed = np.ones(self.data.shape, self.data.dtype)
        else:
            seed = _to_array(grad, self.data.dtype, copy=False)
            if seed.shape != self.data.shape:
                raise ShapeError(
                    f"backward: grad of shape {seed.shape} does not match the output's shape "
                    f"{self.shape}"
                )
        stored: set = {id(seed)}

        def visit(node, adjoint):
            if type(node) is not Tensor:  # an op's Node: only if its tensor called retain_grad()
                ref = node.retained
                node = ref() if ref is not None else None
                if node is None:
                    return
            if (
                id(adjoint) in stored
                or not adjoint.flags.writeable
                or not adjoint.flags.owndata
                or adjoint.dtype != node.data.dtype
            ):
                adjoint = np.array(adjoint, dtype=node.data.dtype)
            stored.add(id(adjoint))
            if node.grad is None:
                node.grad = _wrap(adjoint)
            else:
                old = node.grad.data
                if old.shape == adjoint.shape and old.flags.writeable:
                    np.add(old, adjoint, out=old)
                    node.grad._vc[0] += 1
                else:
                    node.grad = _wrap(old + adjoint)

        previous = _Mode.retain
        _Mode.retain = retain_graph
        try:
            return graph.backward(_root(self), seed, visit, trace=trace)
        finally:
            _Mode.retain = previous

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``grad = None``)."""
        self.grad = None

    # ------------------------------------------------------------------ in place (no graph)
    def _check_inplace(self, what: str) -> None:
        if _Mode.grad and self.requires_grad:
            raise GraphError(
                f"{what}: in-place edit of a tensor that requires grad (shape {self.shape}); "
                "do it under `with mg.no_grad():` (as optimizers do) or use the out-of-place op"
            )

    def _inplace(self, what: str, ufunc, other) -> Tensor:
        self._check_inplace(what)
        value = other.data if isinstance(other, Tensor) else other
        try:
            ufunc(self.data, value, out=self.data, casting="same_kind")
        except ValueError as e:
            raise ShapeError(
                f"{what}: cannot update shape {self.shape} in place with shape {np.shape(value)}"
            ) from e
        self._vc[0] += 1
        return self

    def __iadd__(self, other):
        return self._inplace("+=", np.add, other)

    def __isub__(self, other):
        return self._inplace("-=", np.subtract, other)

    def __imul__(self, other):
        return self._inplace("*=", np.multiply, other)

    def __itruediv__(self, other):
        return self._inplace("/=", np.divide, other)

    def __setitem__(self, key, value):
        self._check_inplace("setitem")
        self.data[_index(key)] = value.data if isinstance(value, Tensor) else value
        self._vc[0] += 1

    def copy_(self, src) -> Tensor:
        """Overwrite the values in place with ``src`` (broadcast)."""
        self._check_inplace("copy_")
        np.copyto(self.data, src.data if isinstance(src, Tensor) else src, casting="same_kind")
        self._vc[0] += 1
        return self

    def fill_(self, value) -> Tensor:
        self._check_inplace("fill_")
        self.data.fill(value)
        self._vc[0] += 1
        return self

    def zero_(self) -> Tensor:
        return self.fill_(0)

    # ------------------------------------------------------------------ operators
    def __add__(self, o):
        return add(self, o)

    def __radd__(self, o):
        return add(o, self)

    def __sub__(self, o):
        return sub(self, o)

    def __rsub__(self, o):
        return sub(o, self)

    def __mul__(self, o):
        return mul(self, o)

    def __rmul__(self, o):
        return mul(o, self)

    def __truediv__(self, o):
        return div(self, o)

    def __rtruediv__(self, o):
        return div(o, self)

    def __pow__(self, o):
        return pow(self, o)

    def __rpow__(self, o):
        return pow(o, self)

    def __matmul__(self, o):
        return matmul(self, o)

    def __rmatmul__(self, o):
        return matmul(o, self)

    def __neg__(self):
        return neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return abs(self)

    def __getitem__(self, key):
        return getitem(self, key)

    def __lt__(self, o):
        return _compare(np.less, self, o)

    def __le__(self, o):
        return _compare(np.less_equal, self, o)

    def __gt__(self, o):
        return _compare(np.greater, self, o)

    def __ge__(self, o):
        return _compare(np.greater_equal, self, o)

    def __eq__(self, o):  # type: ignore[override]
        return _compare(np.equal, self, o)

    def __ne__(self, o):  # type: ignore[override]
        return _compare(np.not_equal, self, o)

    # ------------------------------------------------------------------ methods mirroring functions
    def exp(self):
        return exp(self)

    def log(self):
        return log(self)

    def sqrt(self):
        return sqrt(self)

    def tanh(self):
        return tanh(self)

    def sigmoid(self):
        return sigmoid(self)

    def relu(self):
        return relu(self)

    def leaky_relu(self, slope: float = 0.01):
        return leaky_relu(self, slope)

    def gelu(self):
        return gelu(self)

    def abs(self):
        return abs(self)

    def clip(self, lo=None, hi=None):
        return clip(self, lo, hi)

    def sum(self, axis=None, keepdims: bool = False):
        return sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        return mean(self, axis, keepdims)

    def max(self, axis=None, keepdims: bool = False):
        return max(self, axis, keepdims)

    def min(self, axis=None, keepdims: bool = False):
        return min(self, axis, keepdims)

    def var(self, axis=None, keepdims: bool = False, ddof: int = 0):
        return var(self, axis, keepdims, ddof)

    def std(self, axis=None, keepdims: bool = False, ddof: int = 0):
        return sqrt(var(self, axis, keepdims, ddof))

    def logsumexp(self, axis=None, keepdims: bool = False):
        return logsumexp(self, axis, keepdims)

    def softmax(self, axis: int = -1):
        return softmax(self, axis)

    def log_softmax(self, axis: int = -1):
        return log_softmax(self, axis)

    def matmul(self, o):
        return matmul(self, o)

    def reshape(self, *shape):
        return reshape(self, shape[0] if len(shape) == 1 and not _is_int(shape[0]) else shape)

    def flatten(self):
        return reshape(self, (-1,))

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and not _is_int(axes[0]) else axes
        return transpose(self, axes or None)

    def permute(self, *axes):
        return self.transpose(*axes)

    def broadcast_to(self, *shape):
        return broadcast_to(self, shape[0] if len(shape) == 1 and not _is_int(shape[0]) else shape)

    expand = broadcast_to

    def squeeze(self, axis=None):
        return squeeze(self, axis)

    def unsqueeze(self, axis: int):
        return unsqueeze(self, axis)


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer))


def _init(t: Tensor, arr: np.ndarray) -> None:
    t.data = arr
    t.requires_grad = False
    t.grad = None
    t.name = None
    t._node = None
    t._vc = [0]


def _root(t: Tensor):
    """The graph node of ``t``: its op's Node, or the tensor itself for a leaf."""
    return t._node if t._node is not None else t


class Node:
    """One recorded op: its parents' nodes and what its VJP needs, nothing more.

    The output Tensor points to its Node, the Node not to the Tensor (only weakly, after
    ``retain_grad()``): an intermediate array no VJP saved is freed as soon as the user drops it,
    so a forward pass keeps alive about what a hand-written one does."""

    __slots__ = (
        "_parents",
        "prim",
        "params",
        "xs",
        "vcs",
        "versions",
        "kept",
        "y",
        "y_vc",
        "y_version",
        "freed",
        "retained",
        "__weakref__",
    )
    _parents: Any
    prim: Any
    params: Any
    xs: Any
    vcs: Any
    versions: Any
    kept: Any
    y: Any
    y_vc: Any
    y_version: Any
    freed: Any
    retained: Any

    def __repr__(self) -> str:
        return f"<Node {self.prim.name}>"

    def _pullback(self, g: np.ndarray) -> list:
        """VJP of the op: each parent's share of the output adjoint ``g`` (graph protocol)."""
        prim = self.prim
        if self.freed:
            raise GraphError(
                f"backward: the graph through {prim.name} was already freed by an earlier "
                "backward(); pass retain_graph=True to the first backward() to differentiate "
                "twice, or recompute the forward pass"
            )
        xs = self.xs
        vcs = self.vcs
        if vcs is not None:
            for x, vc, v in zip(xs, vcs, self.versions):
                if vc[0] != v:
                    raise GraphError(
                        f"backward: an input of {prim.name} (shape {x.shape}) saved for backward "
                        f"was modified in place (version {v} -> {vc[0]}); edit a copy, or "
                        "make the in-place change before the forward pass"
                    )
        y = self.y
        if self.y_vc is not None and self.y_vc[0] != self.y_version:
            raise GraphError(
                f"backward: the output of {prim.name} (shape {y.shape}) was saved for "
                f"backward and then modified in place (version {self.y_version} -> "
                f"{self.y_vc[0]}); edit a copy instead"
            )
        params = self.params
        if prim.keeps:
            params = {**params, "kept": self.kept}
        parents = self._parents
        vjp = prim.vjp
        every = None if type(vjp) is tuple else vjp(g, y, *xs, **params)  # concatenate, stack
        # one pass: each needed share, made an array of its input's shape and dtype
        broadcasts = prim.broadcasts
        shares = []
        for i, p in enumerate(parents):
            if p is None:
                shares.append(None)
                continue
            if every is not None:
                share = every[i]
            else:
                share = vjp[i](g, y, *xs, **params) if params else vjp[i](g, y, *xs)
            x = xs[i]
            if type(share) is not np.ndarray and not getattr(share, "_traced", False):
                share = np.asarray(share)
            if broadcasts and share.shape != x.shape:
                share = unbroadcast(share, x.shape)
            if share.dtype != x.dtype:
                share = share.astype(x.dtype)
            shares.append(share)
        if not _Mode.retain:
            self.xs = self.kept = self.y = None
            self.freed = True
        return shares


_new_node = Node.__new__


_new = Tensor.__new__


def _wrap(arr: np.ndarray) -> Tensor:
    """A new leaf around ``arr`` (no copy, no checks): the engine's internal constructor."""
    t = _new(Tensor)
    _init(t, arr)
    return t


def tensor(data, requires_grad: bool = False, dtype=None, name: str | None = None) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (float32 for Python floats; numpy arrays keep
    their dtype unless ``dtype`` is given). ``requires_grad=True`` makes it a parameter."""
    t = _wrap(_to_array(data, dtype, copy=True))
    t.name = name
    if requires_grad:
        t.requires_grad_(True)
    return t


# ---------------------------------------------------------------------------------- dispatch
_BROADCAST_HINT = (
    "; numpy broadcasting compares shapes from the last dimension: each pair must be equal or "
    "one of them 1 (reshape an operand, e.g. b.reshape(-1, 1), or add a size-1 axis with "
    "unsqueeze)"
)


def _apply(prim: Primitive, inputs: tuple, params: dict) -> Tensor:
    """Run ``prim`` forward on the inputs' arrays; record the node if a gradient can flow."""
    arrays = [t.data for t in inputs]
    try:
        out = prim.forward(*arrays, **params)
    except ValueError as e:
        shapes = " and ".join(str(a.shape) for a in arrays)
        hint = _BROADCAST_HINT if prim.broadcasts else ""
        raise ShapeError(f"{prim.name}: shapes {shapes} do not fit: {e}{hint}") from None
    if prim.keeps:
        out, kept = out
    if type(out) is not np.ndarray and not getattr(out, "_traced", False):
        out = np.asarray(out)
    if out.dtype == _F64 and all(a.dtype != _F64 for a in arrays):
        out = out.astype(_F32)  # integer inputs -> float32 results
    t = _new(Tensor)
    t.data = out
    t.requires_grad = False
    t.grad = t.name = t._node = None
    t._vc = inputs[0]._vc if prim.view and np.may_share_memory(out, arrays[0]) else [0]
    if _Mode.grad:
        for x in inputs:
            if x.requires_grad:
                break
        else:
            return t
        t.requires_grad = True
        node = _new_node(Node)
        node._parents = tuple(
            [(x if x._node is None else x._node) if x.requires_grad else None for x in inputs]
        )
        node.prim = prim
        node.params = params
        node.kept = kept if prim.keeps else None
        if prim.saves_x:
            node.xs = arrays
            node.vcs = vcs = [x._vc for x in inputs]
            node.versions = [vc[0] for vc in vcs]
        else:
            node.xs = [_Meta(a) for a in arrays]
            node.vcs = None
        if prim.saves_y:
            node.y, node.y_vc, node.y_version = out, t._vc, t._vc[0]
        else:
            node.y = node.y_vc = None
        node.freed = False
        node.retained = None
        t._node = node
    return t


def _const(x, like: Tensor) -> Tensor:
    """A non-Tensor operand: takes ``like``'s float dtype (the dtype rule, see module doc)."""
    kind = like.data.dtype.kind
    if kind == "f":
        return _wrap(np.asarray(x.data if isinstance(x, Tensor) else x, dtype=like.data.dtype))
    arr = np.asarray(x)
    if arr.dtype.kind == "f" and arr.dtype != _F32 and not isinstance(x, np.ndarray):
        arr = arr.astype(_F32)
    if arr.dtype.kind not in "fiub":
        raise MemogradTypeError(f"unsupported operand of type {type(x).__name__}")
    return _wrap(arr)


def _pair(name: str, a, b) -> tuple[Tensor, Tensor]:
    if type(a) is not Tensor:
        if type(b) is not Tensor:
            b = tensor(b)
        a = _const(a, b)
    elif type(b) is not Tensor:
        b = _const(b, a)
    da, db = a.data.dtype, b.data.dtype
    if da != db:
        fa, fb = da.kind == "f", db.kind == "f"
        if fa and fb:
            raise MemogradTypeError(
                f"{name}: cannot mix {da} and {db} tensors (shapes {a.shape} and {b.shape}); "
                f"convert one with .astype('{da}') or .astype('{db}')"
            )
        if fa:
            b = _wrap(b.data.astype(da))
        elif fb:
            a = _wrap(a.data.astype(db))
    return a, b


def _binary(name: str, a, b, **params) -> Tensor:
    a, b = _pair(name, a, b)
    return _apply(TABLE[name], (a, b), params)


def _unary(name: str, a, **params) -> Tensor:
    if type(a) is not Tensor:
        a = tensor(a)
    return _apply(TABLE[name], (a,), params)


def _compare(ufunc, a, b) -> Tensor:
    a, b = _pair(ufunc.__name__, a, b)
    try:
        return _wrap(ufunc(a.data, b.data))
    except ValueError as e:
        raise ShapeError(
            f"{ufunc.__name__}: shapes {a.shape} and {b.shape} do not fit: {e}{_BROADCAST_HINT}"
        ) from None


# A cast between float dtypes; the adjoint is cast back (kept out of the public table's list).
_ASTYPE = Primitive(
    "astype",
    lambda a, dtype: a.astype(dtype),
    (lambda g, y, a, dtype: g.astype(a.dtype),),
    "",
)


# ---------------------------------------------------------------------------------- functions
def add(a, b) -> Tensor:
    """a + b (broadcasting)."""
    return _binary("add", a, b)


def sub(a, b) -> Tensor:
    """a - b."""
    return _binary("sub", a, b)


def mul(a, b) -> Tensor:
    """a * b (elementwise)."""
    return _binary("mul", a, b)


def div(a, b) -> Tensor:
    """a / b."""
    return _binary("div", a, b)


def neg(a) -> Tensor:
    """-a."""
    return _unary("neg", a)


def pow(a, b) -> Tensor:  # noqa: A001 - mirrors numpy/torch naming
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


def matmul(a, b) -> Tensor:
    """a @ b with numpy's rules: 1-D operands are promoted, leading (batch) dims broadcast."""
    a, b = _pair("matmul", a, b)
    sa, sb = a.data.shape, b.data.shape
    if not sa or not sb:
        raise ShapeError(f"matmul: shapes {sa} and {sb}: operands must have at least one dimension")
    ka, kb = sa[-1], sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ShapeError(f"matmul: shapes {sa} and {sb} do not align ({ka} != {kb})")
    return _apply(TABLE["matmul"], (a, b), {})


def exp(a) -> Tensor:
    """e^a."""
    return _unary("exp", a)


def log(a) -> Tensor:
    """Natural logarithm (a <= 0 gives -inf/nan, as numpy)."""
    return _unary("log", a)


def sqrt(a) -> Tensor:
    """√a."""
    return _unary("sqrt", a)


def tanh(a) -> Tensor:
    """tanh a; ∂ = 1 - tanh²."""
    return _unary("tanh", a)


def sigmoid(a) -> Tensor:
    """σ(a) = 1/(1+e^-a), stable; ∂ = σ(1-σ)."""
    return _unary("sigmoid", a)


def relu(a) -> Tensor:
    """max(a, 0); subgradient 0 at 0."""
    return _unary("relu", a)


def leaky_relu(a, slope: float = 0.01) -> Tensor:
    """a if a > 0 else slope·a."""
    return _unary("leaky_relu", a, slope=slope)


def gelu(a) -> Tensor:
    """GELU, tanh approximation: a/2 (1 + tanh(√(2/π)(a + 0.044715 a³)))."""
    return _unary("gelu", a)


def abs(a) -> Tensor:  # noqa: A001
    """|a|; subgradient 0 at 0."""
    return _unary("abs", a)


def maximum(a, b) -> Tensor:
    """Elementwise max; on ties each side gets half the adjoint."""
    return _binary("maximum", a, b)


def minimum(a, b) -> Tensor:
    """Elementwise min; on ties each side gets half the adjoint."""
    return _binary("minimum", a, b)


def clip(a, lo=None, hi=None) -> Tensor:
    """Limit values to [lo, hi]; the adjoint passes where lo <= a <= hi."""
    return _unary("clip", a, lo=lo, hi=hi)


def where(cond, a, b) -> Tensor:
    """a where cond else b (cond: bool array or tensor, no gradient)."""
    cond = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
    a, b = _pair("where", a, b)
    return _apply(TABLE["where"], (a, b), {"cond": cond.astype(bool, copy=False)})


def _check_axis(name: str, a: Tensor, axis) -> None:
    if axis is None:
        return
    axes = (axis,) if _is_int(axis) or not isinstance(axis, (tuple, list)) else tuple(axis)
    for ax in axes:
        if not _is_int(ax):
            raise MemogradTypeError(
                f"{name}: axis must be an int or a tuple of ints, got {type(ax).__name__} {ax!r}"
            )
        if not -a.ndim <= ax < builtins.max(a.ndim, 1):
            raise ShapeError(f"{name}: axis {ax} is out of range for shape {a.shape}")
    if len({ax % builtins.max(a.ndim, 1) for ax in axes}) != len(axes):
        raise ShapeError(
            f"{name}: axis {axis} names the same axis twice for shape {a.shape}; list each once"
        )


def _reduction(name: str, a, axis, keepdims, **extra) -> Tensor:
    if type(a) is not Tensor:
        a = tensor(a)
    _check_axis(name, a, axis)
    if isinstance(axis, list):
        axis = tuple(axis)
    return _apply(TABLE[name], (a,), {"axis": axis, "keepdims": keepdims, **extra})


def sum(a, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Σ over ``axis`` (all axes if None)."""
    return _reduction("sum", a, axis, keepdims)


def mean(a, axis=None, keepdims: bool = False) -> Tensor:
    """Average over ``axis``."""
    return _reduction("mean", a, axis, keepdims)


def max(a, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Largest value over ``axis``; the adjoint goes to the maxima (shared on ties)."""
    if type(a) is Tensor and a.size == 0:
        raise ShapeError(f"max: empty tensor of shape {a.shape} has no maximum")
    return _reduction("max", a, axis, keepdims)


def min(a, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Smallest value over ``axis``."""
    if type(a) is Tensor and a.size == 0:
        raise ShapeError(f"min: empty tensor of shape {a.shape} has no minimum")
    return _reduction("min", a, axis, keepdims)


def var(a, axis=None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance Σ(a - mean)²/(n - ddof)."""
    return _reduction("var", a, axis, keepdims, ddof=ddof)


def logsumexp(a, axis=None, keepdims: bool = False) -> Tensor:
    """log Σ e^a over ``axis``, stable (shifted by the max)."""
    return _reduction("logsumexp", a, axis, keepdims)


def softmax(a, axis: int = -1) -> Tensor:
    """e^a / Σ e^a along ``axis`` (stable)."""
    if type(a) is not Tensor:
        a = tensor(a)
    _check_axis("softmax", a, axis)
    return _apply(TABLE["softmax"], (a,), {"axis": axis})


def log_softmax(a, axis: int = -1) -> Tensor:
    """a - logsumexp(a) along ``axis`` (stable)."""
    if type(a) is not Tensor:
        a = tensor(a)
    _check_axis("log_softmax", a, axis)
    return _apply(TABLE["log_softmax"], (a,), {"axis": axis})


def reshape(a, shape) -> Tensor:
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


def transpose(a, axes=None) -> Tensor:
    """Permute axes (reverse them if ``axes`` is None)."""
    if type(a) is not Tensor:
        a = tensor(a)
    if axes is not None:
        axes = tuple(int(x) % a.ndim for x in axes)
        if sorted(axes) != list(range(a.ndim)):
            raise ShapeError(f"transpose: axes {axes} are not a permutation for shape {a.shape}")
    return _apply(TABLE["transpose"], (a,), {"axes": axes})


permute = transpose


def broadcast_to(a, shape) -> Tensor:
    """Repeat size-1 (or missing leading) dims to ``shape``, as numpy; a view."""
    if type(a) is not Tensor:
        a = tensor(a)
    return _apply(TABLE["broadcast_to"], (a,), {"shape": tuple(shape)})


expand = broadcast_to


def squeeze(a, axis=None) -> Tensor:
    """Drop size-1 axes (or only ``axis``)."""
    if type(a) is not Tensor:
        a = tensor(a)
    _check_axis("squeeze", a, axis)
    if axis is not None:
        for ax in (axis,) if _is_int(axis) else axis:
            if a.shape[ax] != 1:
                raise ShapeError(
                    f"squeeze: axis {ax} of shape {a.shape} has size {a.shape[ax]}, not 1"
                )
    return _apply(TABLE["squeeze"], (a,), {"axis": axis})


def unsqueeze(a, axis: int) -> Tensor:
    """Insert a size-1 axis at ``axis``."""
    if type(a) is not Tensor:
        a = tensor(a)
    if not -a.ndim - 1 <= axis <= a.ndim:
        raise ShapeError(f"unsqueeze: axis {axis} is out of range for shape {a.shape}")
    return _apply(TABLE["unsqueeze"], (a,), {"axis": axis})


def _index(key):
    """Index keys: tensors become their arrays (int or bool), lists become arrays."""
    if isinstance(key, tuple):
        return tuple(_index(k) for k in key)
    if isinstance(key, Tensor):
        key = key.data
    elif isinstance(key, list):
        key = np.asarray(key)
    if isinstance(key, np.ndarray) and key.dtype.kind not in "iub":
        raise MemogradTypeError(f"getitem: index arrays must be integer or bool, got {key.dtype}")
    return key


def getitem(a: Tensor, key) -> Tensor:
    """a[key] with slices, integers, integer arrays, boolean masks; repeated indices add up."""
    return _apply(TABLE["getitem"], (a,), {"key": _index(key)})


def _many(name: str, tensors: Sequence) -> tuple:
    ts = [t if type(t) is Tensor else tensor(t) for t in tensors]
    if not ts:
        raise MemogradValueError(f"{name}: needs at least one tensor")
    floats = {t.data.dtype for t in ts if t.data.dtype.kind == "f"}
    if len(floats) > 1:
        raise MemogradTypeError(f"{name}: cannot mix dtypes {sorted(map(str, floats))}")
    if floats:
        (f,) = floats
        ts = [t if t.data.dtype == f else _wrap(t.data.astype(f)) for t in ts]
    return tuple(ts)


def concatenate(tensors: Iterable, axis: int = 0) -> Tensor:
    """Join along an existing axis."""
    ts = _many("concatenate", list(tensors))
    return _apply(TABLE["concatenate"], ts, {"axis": axis})


cat = concatenate


def stack(tensors: Iterable, axis: int = 0) -> Tensor:
    """Join along a new axis."""
    ts = _many("stack", list(tensors))
    return _apply(TABLE["stack"], ts, {"axis": axis})


def cross_entropy(logits, labels, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy with integer labels, fused and stable:
    L = mean_i [logsumexp(z_i) - z_i[label_i]], ∂L/∂z = (softmax(z) - onehot)/n."""
    from memograd.tensor.ops import _check_labels

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
    _check_labels(logits.data, y)
    return _apply(TABLE["cross_entropy"], (logits,), {"labels": y, "reduction": reduction})


def mse(pred, target, reduction: str = "mean") -> Tensor:
    """Mean squared error mean((pred - target)²)."""
    _check_reduction("mse", reduction)
    a, b = _pair("mse", pred, target)
    return _apply(TABLE["mse"], (a, b), {"reduction": reduction})


def binary_cross_entropy_with_logits(logits, target, reduction: str = "mean") -> Tensor:
    """Stable BCE on logits: mean(max(x,0) - x t + log(1 + e^-|x|)); ∂/∂x = (σ(x) - t)/n."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    a, b = _pair("binary_cross_entropy_with_logits", logits, target)
    return _apply(TABLE["bce_with_logits"], (a, b), {"reduction": reduction})


bce_with_logits = binary_cross_entropy_with_logits


def _check_reduction(name, reduction):
    if reduction not in ("mean", "sum", "none"):
        raise MemogradValueError(
            f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
        )


# ---------------------------------------------------------------------------------- factories
def zeros(*shape, dtype="float32", requires_grad: bool = False) -> Tensor:
    shape = shape[0] if len(shape) == 1 and not _is_int(shape[0]) else shape
    return tensor(np.zeros(shape, dtype=dtype), requires_grad=requires_grad)


def ones(*shape, dtype="float32", requires_grad: bool = False) -> Tensor:
    shape = shape[0] if len(shape) == 1 and not _is_int(shape[0]) else shape
    return tensor(np.ones(shape, dtype=dtype), requires_grad=requires_grad)


def full(shape, value, dtype="float32", requires_grad: bool = False) -> Tensor:
    return tensor(np.full(shape, value, dtype=dtype), requires_grad=requires_grad)


def zeros_like(a, requires_grad: bool = False) -> Tensor:
    return tensor(
        np.zeros_like(a.data if isinstance(a, Tensor) else a), requires_grad=requires_grad
    )


def ones_like(a, requires_grad: bool = False) -> Tensor:
    return tensor(np.ones_like(a.data if isinstance(a, Tensor) else a), requires_grad=requires_grad)


def arange(*args, dtype=None) -> Tensor:
    return tensor(np.arange(*args, dtype=dtype))
