"""``Value``: a scalar that remembers how it was computed, for the memoized chain rule.

Forward builds a graph. Every op's result is a ``Value`` holding its number (``data``), the nodes it
was computed from (``_parents``) and its *local derivatives* ∂node/∂parent (``_local``), computed
once, at forward time, from the rule table ``RULES`` (:mod:`memograd.scalar.rules`: op name ->
forward formula and local derivative formulas), by one method per op that
:mod:`memograd.scalar.methods` generates from its row. ``backward()`` is NOT written here: it
calls the one shared backward, :func:`memograd.graph.backward` (topological order + adjoint memo
table).

Public API::

    Value(data, name=None)           # data: a real number (int/float/bool/numpy scalar)
    v.data, v.grad, v.name, v.op     # op: "" for a leaf, else a key of RULES ("add", "wsum", ...)
    v.label                          # display name that does NOT make a node neuron-level (z21)
    v.arg                            # op argument: (i, c) constant operand c at position i
                                     # (0: c op v, 1: v op c); wsum: (n weights, m Value inputs)
    v.parents, v.local_grads         # tuples: the nodes v was computed from and ∂v/∂parent
    + - * / ** (numbers or Values on either side; Value ** Value included), unary -, abs()
    v.exp() v.log() v.sqrt() v.tanh() v.sigmoid() v.relu() v.sin() v.cos() v.abs()
    v.tan() v.sinh() v.cosh() v.arcsin() v.arccos() v.arctan() v.arcsinh() v.arccosh()
    v.arctanh() v.log2() v.log10() v.log1p() v.expm1() v.sign()   (sign: zero derivative)
    wsum(weights, inputs, bias=None) # z = Σ w_i·x_i + b as ONE node with 2n+1 parents (a neuron)
    v.backward(grad=1.0)             # fills .grad of every node v depends on
    v.zero_grad()                    # sets .grad = 0 on v and every node it depends on
    v.nodes()                        # the graph in topological order (parents first, v last)

Semantics (as in PyTorch):

* leaf ``.grad`` (a Value with no parents: inputs, weights) *accumulates* across ``backward`` calls
  until ``zero_grad()``; an intermediate node's ``.grad`` is *set* to ∂output/∂node by each
  backward, so a second backward on the same graph does not double intermediate adjoints;
* ``backward`` of a Value that depends on nothing gives it ``grad += 1`` and is otherwise a no-op;
* the graph is free of reference cycles (no closures, no back-pointers: a node only points to its
  parents), so dropping the last reference to a loss frees the whole graph by reference counting,
  with the cyclic garbage collector off;
* any depth works (the shared backward is iterative; a chain of 10**6 ops is fine).

Domain rule (decided once, for every op): an argument outside the real domain of an op raises
:class:`memograd.MemogradValueError` (a ``ValueError``) naming the op and the value, at forward
time, where the bug is: ``log(x)`` needs x > 0, ``sqrt(x)`` needs x >= 0, ``x / y`` needs y != 0,
``x ** c`` with x < 0 needs an integer c, ``0 ** c`` needs c >= 0, ``x ** y`` with a Value
exponent needs x >= 0 (∂(x^y)/∂y = x^y·ln x), ``arcsin``/``arccos`` need |x| <= 1, ``arccosh``
x >= 1, ``arctanh`` |x| < 1, ``log2``/``log10`` x > 0, ``log1p`` x > -1; a number too large
for a float (``Value(10**400)``) is refused too. We do not return nan there, because a nan born in
the middle of a graph silently poisons every gradient. *Overflow* is different: it is not a domain
error, so ``exp(1000)`` or ``10.0 ** 400`` gives ``inf`` as floats do; a non-finite loss is then
caught by ``backward``, which raises :class:`memograd.NonFiniteError` naming the first non-finite
node in topological order (the op where it was born). Non-finite inputs propagate the same way.

Subgradients at kinks, as PyTorch: ``relu'(0) = 0``, ``abs'(0) = 0`` (sign(0) = 0);
``sqrt'(0) = +inf`` (the true one-sided limit).
"""

from __future__ import annotations

import gc
import itertools
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from functools import reduce
from operator import add, mul
from typing import TYPE_CHECKING, Any, cast

from memograd import graph
from memograd.errors import MemogradTypeError, MemogradValueError, NonFiniteError
from memograd.pictures import Drawable
from memograd.scalar.methods import _D, _F, install_methods
from memograd.scalar.rules import RULES, Rule, _domain

__all__ = ["Value", "RULES", "Rule", "wsum"]

_isfinite = math.isfinite
_NUMBER = (int, float)


def _as_float(data: object, what: str = "Value") -> float:
    if isinstance(data, Value):
        raise MemogradTypeError(f"{what}: data is already a Value ({data!r}); pass data.data")
    if isinstance(data, bool | int | float):
        try:
            return float(data)
        except OverflowError:
            raise _too_large(data, what) from None
    try:
        import numpy as np

        if isinstance(data, np.generic | np.ndarray) and np.ndim(data) == 0:
            return float(data)
    except ImportError:  # pragma: no cover
        pass
    raise MemogradTypeError(
        f"{what}: data must be a real number, got {type(data).__name__} {data!r}"
    )


_counter = itertools.count()  # creation index: parents always come before children
_next_index = _counter.__next__


class Value(Drawable):  # to_svg/save: drawn by viz (memograd.pictures)
    """A scalar node: ``data``, ``grad`` (∂output/∂self after backward), ``name``, and how it
    was made (``op``, ``parents``, ``local_grads`` = ∂self/∂parent, recorded at forward time).

    How a node stores its graph edges (the layout :mod:`memograd.graph`'s fast path reads):
    ``_p0``/``_d0`` the first parent and ∂self/∂parent, ``_p1``/``_d1`` the second (``None``:
    one parent); a node with more parents (``wsum``) has ``_p0 = None``, its parents in the tuple
    ``_ps`` and their local derivatives in ``_ds``; a leaf has ``_p0 = None`` and ``_ps = None``.
    No tuple per op: each op allocates exactly one object, the node, which is also the only
    object per op the cyclic garbage collector has to track. What only teaching tools read is one
    slot, ``_info``: the op's name (``"mul"``; ``""`` for a leaf) while the node has no name, label
    or argument, else the tuple ``(op, name, label, *arg)`` (``v * 2.0``: ``("mul", None, None, 1,
    2.0)``, one tuple); ``op``, ``name``, ``label`` and ``arg`` are properties over it. Fewer slots
    per node: fewer stores per op, a smaller object (128 bytes, not 160) and fewer references for
    the collector to visit and for ``del`` to clear.
    Every slot a reader may ask for (``grad`` too) is stored by every op, and the class defines no
    ``__getattr__``: a class with one
    makes CPython 3.11 read every attribute of its instances by the generic, unspecialized path
    (no ``LOAD_ATTR_SLOT``), which made the backward pass 1.7x slower."""

    __slots__ = (
        "data",
        "grad",
        "_info",
        "_p0",
        "_d0",
        "_p1",
        "_d1",
        "_ps",
        "_ds",
        "_index",
        "_adjoint",
        "__weakref__",
    )

    data: float
    grad: float
    _info: str | tuple[Any, ...]
    _p0: Value | None
    _d0: float
    _p1: Value | None
    _d1: float
    _ps: tuple[Value, ...] | None
    _ds: tuple[float, ...]
    _index: int
    _adjoint: float | None

    def __init__(self, data: object, name: str | None = None):
        self.data = data if type(data) is float else _as_float(data)
        if name is not None and not isinstance(name, str):
            raise MemogradTypeError(f"Value: name must be a str or None, got {name!r}")
        self.grad = 0.0
        self._info = "" if name is None else ("", name, None)
        self._p0 = self._p1 = None
        self._ps = None
        self._index = _next_index()
        self._adjoint = None

    # --- what teaching tools read: op, name, label, arg (one slot, _info) ------------------------

    @property
    def op(self) -> str:
        """The op that made this node (a key of ``RULES``), ``""`` for a leaf."""
        info = self._info
        return info if type(info) is str else info[0]

    @property
    def name(self) -> str | None:
        """The node's name in the notes (``w11^1``, ``L``), or None."""
        info = self._info
        return None if type(info) is str else info[1]

    @name.setter
    def name(self, name: str | None) -> None:
        self._set_info(self.op, name, self.label, self.arg)

    @property
    def label(self) -> str | None:
        """A display name that does not make the node neuron-level (``z21``), or None."""
        info = self._info
        return None if type(info) is str else info[2]

    @label.setter
    def label(self, label: str | None) -> None:
        self._set_info(self.op, self.name, label, self.arg)

    @property
    def arg(self) -> Any:
        """The op's argument: ``(i, c)`` for a constant operand c at position i (0: ``c op v``,
        1: ``v op c``); ``(n weights, m Value inputs)`` for wsum; else None."""
        info = self._info
        return None if type(info) is str or len(info) == 3 else info[3:]

    @arg.setter
    def arg(self, arg: tuple[Any, ...] | None) -> None:
        if arg is not None and (type(arg) is not tuple or not arg):
            raise MemogradTypeError(f"Value.arg must be None or a non-empty tuple, got {arg!r}")
        self._set_info(self.op, self.name, self.label, arg)

    def _set_info(
        self, op: str, name: str | None, label: str | None, arg: tuple[Any, ...] | None
    ) -> None:
        if arg is not None:
            self._info = (op, name, label, *arg)
        elif name is None and label is None:
            self._info = op
        else:
            self._info = (op, name, label)

    # --- graph protocol for memograd.graph's general path and the teaching tools ---------------

    @property
    def _parents(self) -> tuple[Value, ...]:
        p = self._p0
        if p is None:
            ps = self._ps
            return () if ps is None else ps
        q = self._p1
        return (p,) if q is None else (p, q)

    @property
    def _local(self) -> tuple[float, ...]:
        if self._p0 is None:
            return () if self._ps is None else self._ds
        return (self._d0,) if self._p1 is None else (self._d0, self._d1)

    def _pullback(self, adjoint: float) -> Iterable[float]:
        """∂L/∂parent share = adjoint · ∂self/∂parent, for each parent (lazily, in C)."""
        return map(adjoint.__mul__, self._local)

    @property
    def parents(self) -> tuple[Value, ...]:
        return self._parents

    @property
    def local_grads(self) -> tuple[float, ...]:
        return self._local

    @property
    def is_leaf(self) -> bool:
        return self._p0 is None and self._ps is None

    def __repr__(self) -> str:
        name = f", name={self.name!r}" if self.name is not None else ""
        op = f", op={self.op!r}" if self.op else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{name}{op})"

    # --- arithmetic and functions: one generated method per op, from the rule table ---------
    # (installed below the class by memograd.scalar.methods; declared here for type checkers)

    if TYPE_CHECKING:

        def __add__(self, other: Value | float) -> Value: ...
        def __radd__(self, other: float) -> Value: ...
        def __sub__(self, other: Value | float) -> Value: ...
        def __rsub__(self, other: float) -> Value: ...
        def __mul__(self, other: Value | float) -> Value: ...
        def __rmul__(self, other: float) -> Value: ...
        def __truediv__(self, other: Value | float) -> Value: ...
        def __rtruediv__(self, other: float) -> Value: ...
        def __neg__(self) -> Value: ...
        def __abs__(self) -> Value: ...
        def abs(self) -> Value: ...
        def exp(self) -> Value: ...
        def log(self) -> Value: ...
        def sqrt(self) -> Value: ...
        def tanh(self) -> Value: ...
        def sigmoid(self) -> Value: ...
        def relu(self) -> Value: ...
        def sin(self) -> Value: ...
        def cos(self) -> Value: ...
        def tan(self) -> Value: ...
        def sinh(self) -> Value: ...
        def cosh(self) -> Value: ...
        def arcsin(self) -> Value: ...
        def arccos(self) -> Value: ...
        def arctan(self) -> Value: ...
        def arcsinh(self) -> Value: ...
        def arccosh(self) -> Value: ...
        def arctanh(self) -> Value: ...
        def log2(self) -> Value: ...
        def log10(self) -> Value: ...
        def log1p(self) -> Value: ...
        def expm1(self) -> Value: ...
        def sign(self) -> Value: ...  # sign(x) in {-1, 0, 1}; derivative 0 (0 at the jump)

    def __pow__(self, other: Value | float) -> Value:  # pow checks its base's sign first
        return _binary("pow", self, other)

    def __rpow__(self, other: float) -> Value:
        return _binary("pow", other, self)

    def __pos__(self) -> Value:
        return self

    # comparisons compare data (no gradient); equality stays identity so Values are hashable nodes
    def __lt__(self, other: Value | float) -> bool:
        return self.data < _data(other)

    def __le__(self, other: Value | float) -> bool:
        return self.data <= _data(other)

    def __gt__(self, other: Value | float) -> bool:
        return self.data > _data(other)

    def __ge__(self, other: Value | float) -> bool:
        return self.data >= _data(other)

    __hash__ = object.__hash__

    def __float__(self) -> float:
        return self.data

    # --- backward -------------------------------------------------------------------------------

    def nodes(self) -> list[Value]:
        """Every node this Value depends on, parents before children, ``self`` last."""
        return graph.topological_order(self)

    def backward(self, grad: float = 1.0) -> graph.BackwardStats:
        """∂self/∂node for every node, by the shared memoized backward (``memograd.graph``).

        Leaves accumulate (``+=``); intermediate nodes are set. Raises NonFiniteError if
        ``self.data`` is nan/inf, naming the first non-finite node.

        The cyclic garbage collector is paused during the pass (and restored after): backward
        allocates only acyclic temporaries (the order, the memo table), so scanning them would be
        wasted work (about a third of the time of a 10**6-node backward)."""
        seed = _as_float(grad, "backward grad")
        if not (_isfinite(self.data) and _isfinite(seed)):
            order = graph.topological_order(self)
            raise NonFiniteError(_non_finite_message(self, seed, order))
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return graph.backward(self, seed, graph.INTO_GRAD)
        finally:
            if was_enabled:
                gc.enable()

    def zero_grad(self) -> None:
        """Set ``.grad = 0`` on this Value and every node it depends on."""
        for node in graph.creation_order(self):
            node.grad = 0.0

    # --- display --------------------------------------------------------------------------------

    @property
    def display(self) -> str:
        """How teaching tools write this node: its name, else its label, else its op."""
        if self.name is not None:
            return self.name
        if self.label is not None:
            return self.label
        return self.op or "const"


def _describe(node: Value) -> str:
    what = repr(node.name) if node.name is not None else (node.label or "an unnamed node")
    op = f"op {node.op}" if node.op else "a leaf"
    parents = ", ".join(f"{p.display}={p.data!r}" for p in node._parents)
    inputs = f" of ({parents})" if parents else ""
    return f"{what} ({op}{inputs}) = {node.data!r}"


def _non_finite_message(root: Value, seed: float, order: list[Value]) -> str:
    if not _isfinite(seed):
        return f"backward: the seed gradient is {seed!r}; it must be finite"
    for node in order:
        if not _isfinite(node.data):
            return (
                f"backward: the output {root.display} = {root.data!r} is not finite; the first "
                f"non-finite node is {_describe(node)}; check that op's inputs (overflow, "
                "a nan input) before calling backward"
            )
    return f"backward: the output {root.display} = {root.data!r} is not finite"  # pragma: no cover


def _data(x: Value | float) -> float:
    return x.data if isinstance(x, Value) else x


def _new(data: float, op: str, parents: tuple[Value, ...], local: tuple[float, ...]) -> Value:
    """A node made by ``op`` (the general path: pow, wsum); the generated methods inline this."""
    v: Value = object.__new__(Value)
    v.data = data
    v.grad = 0.0
    v._info = op
    if 0 < len(parents) <= 2:
        v._p0 = parents[0]
        v._d0 = local[0]
        v._p1 = parents[1] if len(parents) == 2 else None
        v._d1 = local[-1]
    else:  # no parent at all (a wsum of constants) is a leaf: _ps None
        v._p0 = None
        if parents:
            v._ps = parents
            v._ds = local
        else:
            v._ps = None
    v._index = _next_index()
    v._adjoint = None
    return v


def _binary(op: str, a: Value | float, b: Value | float) -> Value:
    f, d = _F[op], _D[op]
    if isinstance(a, Value):
        if isinstance(b, Value):
            x, y = a.data, b.data
            if op == "pow" and x < 0:
                raise _negative_base_value_exponent(x)
            z = f(x, y)
            return _new(z, op, (a, b), d(x, y, z))
        y_ = _number(b)
        if y_ is None:
            return NotImplemented  # type: ignore[no-any-return]
        x = a.data
        z = f(x, y_)
        v = _new(z, op, (a,), (d(x, y_, z)[0],))
        v.arg = (1, y_)
        return v
    x_ = _number(a)
    if x_ is None or not isinstance(b, Value):
        return NotImplemented  # type: ignore[no-any-return]
    if op == "pow" and x_ < 0:  # c ** v: ∂/∂v needs ln c too
        raise _negative_base_value_exponent(x_)
    y = b.data
    z = f(x_, y)
    v = _new(z, op, (b,), (d(x_, y, z)[1],))
    v.arg = (0, x_)
    return v


def _negative_base_value_exponent(x: float) -> MemogradValueError:
    return _domain(
        "pow",
        f"negative base {x!r} with a Value exponent: ∂(x^y)/∂y = x^y·ln x is undefined for x < 0; "
        "pass the exponent as a plain number if it is a constant",
    )


def _too_large(data: float, what: str) -> MemogradValueError:
    digits = int(int(abs(data)).bit_length() * 0.30103)
    return MemogradValueError(
        f"{what}: an integer of about 10^{digits} is too large for "
        "a float (max about 1.8e308); scale it down, or work with its logarithm (math.log "
        "accepts big integers)"
    )


def _number(x: object) -> float | None:
    """A plain float for a number operand (int, float, numpy scalar), else None."""
    if type(x) is float:
        return x
    if isinstance(x, _NUMBER):
        try:
            return float(x)
        except OverflowError:
            raise _too_large(x, "Value operand") from None
    try:
        return _as_float(x)
    except MemogradTypeError:
        return None


def _unary(op: str, a: Value) -> Value:
    """``a.op()`` by the op's name (``_unary("tanh", z)``)."""
    return _UNARY[op](a)


def wsum(
    weights: Iterable[Value], inputs: Iterable[Value | float], bias: Value | float | None = None
) -> Value:
    """z = Σ_i w_i·x_i + b as ONE node (a neuron's weighted sum).

    Parents are ``(w_1..w_n, x_1..x_n, b)`` with local derivatives ``(x_1..x_n, w_1..w_n, 1)``;
    plain-number inputs or bias are constants (not parents). One node instead of 2n: faster, and
    the neuron-level view reads z -> o directly."""
    ws = weights if isinstance(weights, list | tuple) else list(weights)
    xs = inputs if isinstance(inputs, list | tuple) else list(inputs)
    if type(bias) is Value and ws and len(ws) == len(xs) and {*map(type, (*ws, *xs))} == _VALUE:
        values = cast("Sequence[Value]", xs)
        return _wsum_values(ws, values, [x.data for x in values], bias)
    if len(ws) != len(xs):
        raise MemogradValueError(
            f"wsum: {len(ws)} weights but {len(xs)} inputs; give one weight per input"
        )
    parents: list[Value] = []
    local: list[float] = []
    z = 0.0
    consts_in: list[Value | None] = []
    for w, x in zip(ws, xs):
        if not isinstance(w, Value):
            raise MemogradTypeError(f"wsum: weights must be Values, got {type(w).__name__}")
        if isinstance(x, Value):
            xd = x.data
            consts_in.append(x)
        else:
            xd = float(x)
            consts_in.append(None)
        wd = w.data
        z += wd * xd
        parents.append(w)
        local.append(xd)
    for w, x in zip(ws, consts_in):
        if x is not None:
            parents.append(x)
            local.append(w.data)
    nb = 0
    if bias is not None:
        if isinstance(bias, Value):
            nb = 1
            z += bias.data
            parents.append(bias)
            local.append(1.0)
        else:
            z += float(bias)
    v = _new(z, "wsum", tuple(parents), tuple(local))
    v.arg = (len(ws), len(parents) - len(ws) - nb)
    return v


_VALUE = {Value}

if sys.version_info < (3, 12):
    _sum: Callable[[Iterable[float]], float] = sum  # floats added left to right from 0.0, in C
else:  # 3.12's sum() of floats compensates rounding: keep the plain left-to-right additions

    def _sum(terms: Iterable[float]) -> float:
        """Σ terms added left to right from 0.0 (as ``z = 0.0; z += t``)."""
        total: float = reduce(add, terms, 0.0)
        return total


def _wsum_values(
    ws: Sequence[Value], xs: Sequence[Any], xd: list[float], bias: Value, info: Any = None
) -> Value:
    """:func:`wsum` of n >= 1 Value weights, n Value inputs and a Value bias, the inputs' data
    ``xd`` given (a layer reads them once for all its neurons): the operands are read, multiplied
    and summed in C (``sum(map(mul, ...))``), the same node and the same additions as the general
    loop.
    ``info``: the node's ``_info`` if not the default ``("wsum", None, None, n, n)``."""
    wd = [w.data for w in ws]  # faster than map(attrgetter): the slot read is specialized
    v: Value = object.__new__(Value)
    v.data = _sum(map(mul, wd, xd)) + bias.data
    v.grad = 0.0
    v._info = ("wsum", None, None, len(ws), len(ws)) if info is None else info
    v._p0 = None
    v._ps = (*ws, *xs, bias)
    v._ds = (*xd, *wd, 1.0)
    v._index = _next_index()
    v._adjoint = None
    return v


# the op methods, generated from the rule table (memograd.scalar.methods); the unary ones by op
_UNARY: dict[str, Callable[[Value], Value]] = install_methods(Value, _number, _counter)
