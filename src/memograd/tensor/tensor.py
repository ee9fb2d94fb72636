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

import weakref

import numpy as np

from memograd import graph
from memograd.errors import (
    GraphError,
    MemogradTypeError,
    MemogradValueError,
    ShapeError,
)
from memograd.tensor.ops import TABLE, Primitive, unbroadcast

__all__ = [
    "Tensor",
    "tensor",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
]

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_FLOATS = (_F32, _F64)


class _Mode:
    """Global autograd switches (``no_grad`` flips ``grad``; ``backward`` sets ``retain``;
    ``create`` counts the create_graph backward passes running, during which formulas must not
    turn a Tensor that requires grad into a plain number or array)."""

    grad = True
    retain = False
    create = 0


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
        try:
            arr = np.array(data, dtype=want)
        except ValueError as e:
            if "inhomogeneous" not in str(e) and "sequence" not in str(e):
                what = type(data).__name__
                raise MemogradValueError(f"tensor: cannot convert {what}: {e}") from e
            raise MemogradValueError(
                f"tensor: ragged nested lists (rows of different lengths: {_ragged(data)}); "
                "every row must have the same length (pad them, or build one tensor per row)"
            ) from None
        except TypeError as e:
            raise MemogradTypeError(f"tensor: cannot convert {type(data).__name__}: {e}") from e
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


def _ragged(data) -> str:
    """Where nested lists first differ in length: 'data[0] has 2 items, data[1] has 1'."""
    level = [("data", data)]
    while level:
        sizes = [(path, len(x) if isinstance(x, (list, tuple)) else None) for path, x in level]
        first = sizes[0][1]
        for path, n in sizes[1:]:
            if n != first:

                def say(k):
                    return "a number" if k is None else f"{k} item(s)"

                return f"{sizes[0][0]} has {say(first)}, {path} has {say(n)}"
        level = [
            (f"{path}[{i}]", x)
            for path, seq in level
            if isinstance(seq, (list, tuple))
            for i, x in enumerate(seq)
        ]
    return "shapes differ"


class Tensor:
    """An n-dimensional array node of the computation graph.

    ``Tensor(data, requires_grad=False, dtype=None)`` wraps ``data`` without copying a numpy array
    of the right dtype (``mg.tensor`` always copies). Attributes: ``data`` (the numpy array),
    ``grad`` (a Tensor or None), ``requires_grad``, ``shape``, ``ndim``, ``dtype``, ``size``, ``T``.
    """

    __slots__ = ("data", "requires_grad", "grad", "name", "_node", "_vc", "__weakref__")
    _parents = ()  # a leaf is a graph node without parents (ops' outputs use their Node)
    __hash__ = object.__hash__  # == is elementwise, so identity hashing
    # __array_ufunc__ / __array_function__ (numpy calls on Tensors run table rows) are set by
    # memograd.tensor.interop

    @staticmethod
    def _apply_row(name: str, xs: tuple, params: dict) -> Tensor:
        """``ops.call`` on Tensors: run row ``name`` recorded (inside create_graph formulas)."""
        return _apply(TABLE[name], tuple(_as_tensor(x) for x in xs), params)

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
        if _Mode.create and self.requires_grad:
            _dropped("item()/float()")
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

    def astype(self, dtype, copy: bool = True) -> Tensor:
        """Cast; differentiable between float dtypes (the adjoint is cast back). The same dtype
        returns the tensor itself (tensors are not edited in place by ops, so no copy is due)."""
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
        if _Mode.create and self.requires_grad:
            _dropped("np.asarray")
        return self.data if dtype is None else self.data.astype(dtype)

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
        self,
        grad=None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        trace: graph.Trace | None = None,
    ) -> graph.BackwardStats:
        """Fill ``.grad`` of every leaf this tensor depends on with ∂self/∂leaf (accumulating).

        ``grad`` is the seed adjoint (defaults to 1 for a size-1 output). ``create_graph=True``
        records the backward pass itself (the VJP formulas run on Tensors through the same
        table), so each ``.grad`` is a Tensor with a graph that can be differentiated again
        (second derivatives); it implies ``retain_graph``. A nan/inf output raises
        :class:`~memograd.NonFiniteError` naming the first op that made a non-finite value.
        ``trace`` observes the memo table (:class:`memograd.graph.Trace`). Returns the counts of
        the memoized backward (nodes, edges, peak size of the table)."""
        from memograd.tensor import backprop

        return backprop.backward(self, grad, retain_graph, create_graph, trace)

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
            with _Writable(self.data):
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
        with _Writable(self.data):
            self.data[_index(key)] = value.data if isinstance(value, Tensor) else value
        self._vc[0] += 1

    def copy_(self, src) -> Tensor:
        """Overwrite the values in place with ``src`` (broadcast)."""
        self._check_inplace("copy_")
        with _Writable(self.data):
            np.copyto(self.data, src.data if isinstance(src, Tensor) else src, casting="same_kind")
        self._vc[0] += 1
        return self

    def fill_(self, value) -> Tensor:
        self._check_inplace("fill_")
        with _Writable(self.data):
            self.data.fill(value)
        self._vc[0] += 1
        return self

    def zero_(self) -> Tensor:
        return self.fill_(0)

    # ------------------------------------------------------------------ operators
    # (``**``, ``@``, ``[]``, ``.T`` and the shape methods are set by memograd.tensor.api, with
    # the methods generated from the table's rows)
    def __add__(self, o):
        return _binary("add", self, o)

    def __radd__(self, o):
        return _binary("add", o, self)

    def __sub__(self, o):
        return _binary("sub", self, o)

    def __rsub__(self, o):
        return _binary("sub", o, self)

    def __mul__(self, o):
        return _binary("mul", self, o)

    def __rmul__(self, o):
        return _binary("mul", o, self)

    def __truediv__(self, o):
        return _binary("div", self, o)

    def __rtruediv__(self, o):
        return _binary("div", o, self)

    def __neg__(self):
        return _apply(TABLE["neg"], (self,), {})

    def __pos__(self):
        return self

    def __abs__(self):
        return _apply(TABLE["abs"], (self,), {})

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

    # logical operators on bool (or int) tensors: values without gradient
    def __and__(self, o):
        return _compare(np.bitwise_and, self, o)

    __rand__ = __and__

    def __or__(self, o):
        return _compare(np.bitwise_or, self, o)

    __ror__ = __or__

    def __xor__(self, o):
        return _compare(np.bitwise_xor, self, o)

    __rxor__ = __xor__

    def __invert__(self):
        return _wrap(np.invert(self.data))


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


def _dropped(what: str):
    raise GraphError(
        f"backward(create_graph=True): a VJP formula called {what} on a Tensor that requires "
        "grad, which would drop the graph and give a wrong higher derivative; write the formula "
        "with numpy calls on its arguments (see memograd.tensor.ops), or mark its row twice=False"
    )


def _as_tensor(x) -> Tensor:
    return x if type(x) is Tensor else _wrap(np.asarray(x))


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
        "locked",
        "__weakref__",
    )

    def __repr__(self) -> str:
        return f"<Node {self.prim.name}>"

    def _pullback(self, g: np.ndarray) -> list:
        """VJP of the op: each parent's share of the output adjoint ``g`` (graph protocol).
        A Tensor adjoint means a create_graph backward: see :meth:`_pullback_graph`."""
        if type(g) is Tensor:  # a create_graph backward
            from memograd.tensor import backprop

            return backprop.pullback_graph(self, g)
        prim = self.prim
        self._check_saved()
        xs = self.xs
        y = self.y
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
            if getattr(self, "locked", None):
                _unlock(self)
        return shares

    def __del__(self):
        if getattr(self, "locked", None):  # a graph dropped without backward: writable again
            _unlock(self)

    def _check_saved(self) -> None:
        """Refuse a freed graph and saved values edited in place since the forward pass."""
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


_new_node = Node.__new__

# Arrays saved for backward are read-only until their last saving node is freed (by backward)
# or dropped: a write through ``t.data`` then fails instead of silently changing the gradient.
# id(array) -> [array, number of live nodes that locked it].
_LOCKS: dict[int, list] = {}


def _lock(a: np.ndarray) -> bool:
    entry = _LOCKS.get(id(a))
    if entry is not None:
        entry[1] += 1
        return True
    if not a.flags.writeable:
        return False  # read-only already (a broadcast view, a user's frozen array): not ours
    a.setflags(write=False)
    _LOCKS[id(a)] = [a, 1]
    return True


def _unlock(node: Node) -> None:
    for a in node.locked:
        entry = _LOCKS.get(id(a))
        if entry is not None:
            entry[1] -= 1
            if entry[1] == 0:
                del _LOCKS[id(a)]
                try:
                    a.setflags(write=True)
                except ValueError:  # a view whose base is still locked by another node
                    _LOCKS[id(a)] = [a, 0]  # unlocked with its base (see writable)
    node.locked = ()


def writable(*arrays) -> _Writable:
    """Context for code that updates arrays saved for backward in place AND bumps the tensors'
    version counters (optimizers, ``load_state_dict``): inside it those arrays accept writes; a
    backward through the stale graph still raises GraphError (the counter changed)."""
    return _Writable(*arrays)


class _Writable:
    """Context for the Tensor's own in-place edits (optimizers, ``+=`` under no_grad): a locked
    array is written (the version counter records it, and backward refuses the stale graph)."""

    __slots__ = ("arrays", "opened")

    def __init__(self, *arrays):
        self.arrays, self.opened = arrays, []

    def __enter__(self):
        if not _LOCKS:
            return self
        for a in self.arrays:
            chain = []
            while type(a) is np.ndarray:  # a view of a locked base needs the base open too
                chain.append(a)
                a = a.base
            if not any(id(b) in _LOCKS for b in chain):
                continue  # not locked by memograd (a user's read-only array stays so)
            for b in reversed(chain):  # the base first: a view opens only after its base
                if not b.flags.writeable:
                    b.flags.writeable = True
                    self.opened.append(b)
        return self

    def __exit__(self, *exc):
        for b in reversed(self.opened):  # views first, then their bases
            entry = _LOCKS.get(id(b))
            if entry is None or entry[1] > 0:
                b.flags.writeable = False  # locked, or a view made read-only by its base
            else:
                del _LOCKS[id(b)]
        self.opened = []
        return False


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
    if out.dtype == _F64 and all(a.dtype.kind != "f" for a in arrays):
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
        locked = ()
        if prim.saves_x:
            node.xs = arrays
            node.vcs = vcs = [x._vc for x in inputs]
            node.versions = [vc[0] for vc in vcs]
            # leaves' arrays (parameters, data) are read-only while saved; intermediates rely
            # on the version counter alone (locking every saved array cost ~10% on small nets)
            locked = [
                a
                for a, x in zip(arrays, inputs)
                if x._node is None and type(a) is np.ndarray and _lock(a)
            ]
        else:
            node.xs = [_Meta(a) for a in arrays]
            node.vcs = None
        if prim.saves_y:
            node.y, node.y_vc, node.y_version = out, t._vc, t._vc[0]
        else:
            node.y = node.y_vc = None
        node.locked = locked
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


_IDENTITY = Primitive("identity", lambda a: a, (lambda g, y, a: g,), "")


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


def __getattr__(name: str):
    """The op functions moved to :mod:`memograd.tensor.api` (generated from the table); old
    imports (``from memograd.tensor.tensor import mse``) keep working."""
    from memograd.tensor import api

    try:
        return getattr(api, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
