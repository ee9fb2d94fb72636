"""``Value``: a scalar that remembers how it was computed, for the memoized chain rule.

Forward builds a graph. Every op's result is a ``Value`` holding its number (``data``), the nodes it
was computed from (``_parents``) and its *local derivatives* ∂node/∂parent (``_local``), computed
once, at forward time, from the rule table ``RULES`` below (op name -> forward formula and local
derivative formulas). ``backward()`` is NOT written here: it calls the one shared backward,
:func:`memograd.graph.backward` (topological order + adjoint memo table).

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
from collections.abc import Iterable

from memograd import graph
from memograd.errors import MemogradTypeError, MemogradValueError, NonFiniteError
from memograd.scalar.rules import RULES, Rule, _domain

__all__ = ["Value", "RULES", "Rule", "wsum"]

_isfinite = math.isfinite


# hot-path lookups (the table stays the single source of the formulas)
_F = {op: r.forward for op, r in RULES.items()}
_D = {op: r.local for op, r in RULES.items()}
_NUMBER = (int, float)


def _as_float(data, what: str = "Value") -> float:
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


# --- one generated method per op (the hot path of the forward pass) ------------------------------
# Each op's method is made once for its row of RULES: an op costs one Python call into the method,
# the row's two functions (looked up in the table at each call, so a patched row takes effect) and
# one node allocation; no generic dispatch.

_next_index = itertools.count().__next__  # creation index: parents always come before children
# add/sub/neg have constant local derivatives: share their one-element tuples (less memory)
_SHARED_LOCAL = {1.0: (1.0,), -1.0: (-1.0,)}


def _unary_method(op: str):
    F, D = _F, _D  # looked up per call: patching a row of the table takes effect at once

    def method(self):
        x = self.data
        z = F[op](x)
        return _new(z, op, (self,), D[op](x, z))

    method.__name__ = method.__qualname__ = op
    rule = RULES[op]
    method.__doc__ = f"{rule.formula}; local derivative {rule.derivatives[0]}".replace("{x}", "x")
    return method


def _binary_methods(op: str):
    """``self op other`` and the reflected ``other op self`` (other a Value or a number)."""
    F, D = _F, _D
    shared = _SHARED_LOCAL.get

    def method(self, other):
        if isinstance(other, Value):
            x, y = self.data, other.data
            z = F[op](x, y)
            return _new(z, op, (self, other), D[op](x, y, z))
        y = _number(other)
        if y is None:
            return NotImplemented
        x = self.data
        z = F[op](x, y)
        dx = D[op](x, y, z)[0]
        return _new(z, op, (self,), shared(dx) or (dx,), (1, y))

    def reflected(self, other):
        x = _number(other)
        if x is None:
            return NotImplemented
        y = self.data
        z = F[op](x, y)
        dy = D[op](x, y, z)[1]
        return _new(z, op, (self,), shared(dy) or (dy,), (0, x))

    return method, reflected


class Value:
    """A scalar node: ``data``, ``grad`` (∂output/∂self after backward), ``name``, and how it
    was made (``op``, ``parents``, ``local_grads`` = ∂self/∂parent, recorded at forward time)."""

    __slots__ = (
        "data",
        "grad",
        "name",
        "label",
        "op",
        "arg",
        "_parents",
        "_local",
        "_index",
        "_adjoint",
        "__weakref__",
    )

    def __init__(self, data, name: str | None = None):
        self.data = data if type(data) is float else _as_float(data)
        if name is not None and not isinstance(name, str):
            raise MemogradTypeError(f"Value: name must be a str or None, got {name!r}")
        self.grad = 0.0
        self.name = name
        self.label = None
        self.op = ""
        self.arg = None
        self._parents = ()
        self._local = ()
        self._index = _next_index()
        self._adjoint = None

    # --- graph protocol for memograd.graph ---------------------------------------------------

    def _pullback(self, adjoint):
        """∂L/∂parent share = adjoint · ∂self/∂parent, for each parent (lazily, in C)."""
        return map(adjoint.__mul__, self._local)

    @property
    def parents(self) -> tuple:
        return self._parents

    @property
    def local_grads(self) -> tuple:
        return self._local

    @property
    def is_leaf(self) -> bool:
        return not self._parents

    def __repr__(self) -> str:
        name = f", name={self.name!r}" if self.name is not None else ""
        op = f", op={self.op!r}" if self.op else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{name}{op})"

    # --- arithmetic and functions: one generated method per op, from the rule table ---------

    __add__, __radd__ = _binary_methods("add")
    __sub__, __rsub__ = _binary_methods("sub")
    __mul__, __rmul__ = _binary_methods("mul")
    __truediv__, __rtruediv__ = _binary_methods("div")

    def __pow__(self, other):  # the general path: pow checks its base's sign first
        return _binary("pow", self, other)

    def __rpow__(self, other):
        return _binary("pow", other, self)

    def __pos__(self):
        return self

    __neg__ = _unary_method("neg")
    __abs__ = abs = _unary_method("abs")
    exp = _unary_method("exp")
    log = _unary_method("log")
    sqrt = _unary_method("sqrt")
    tanh = _unary_method("tanh")
    sigmoid = _unary_method("sigmoid")
    relu = _unary_method("relu")
    sin = _unary_method("sin")
    cos = _unary_method("cos")
    tan = _unary_method("tan")
    sinh = _unary_method("sinh")
    cosh = _unary_method("cosh")
    arcsin = _unary_method("arcsin")
    arccos = _unary_method("arccos")
    arctan = _unary_method("arctan")
    arcsinh = _unary_method("arcsinh")
    arccosh = _unary_method("arccosh")
    arctanh = _unary_method("arctanh")
    log2 = _unary_method("log2")
    log10 = _unary_method("log10")
    log1p = _unary_method("log1p")
    expm1 = _unary_method("expm1")
    sign = _unary_method("sign")  # sign(x) in {-1, 0, 1}; derivative 0 everywhere (0 at the jump)

    # comparisons compare data (no gradient); equality stays identity so Values are hashable nodes
    def __lt__(self, other):
        return self.data < _data(other)

    def __le__(self, other):
        return self.data <= _data(other)

    def __gt__(self, other):
        return self.data > _data(other)

    def __ge__(self, other):
        return self.data >= _data(other)

    __hash__ = object.__hash__

    def __float__(self) -> float:
        return self.data

    # --- backward -------------------------------------------------------------------------------

    def nodes(self) -> list:
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
            return graph.backward(self, seed, _store_grad)
        finally:
            if was_enabled:
                gc.enable()

    def zero_grad(self) -> None:
        """Set ``.grad = 0`` on this Value and every node it depends on."""
        for node in graph.topological_order(self):
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


def _store_grad(node, adjoint) -> None:
    if node._parents:
        node.grad = adjoint  # intermediate: set (a second backward does not double it)
    else:
        node.grad += adjoint  # leaf: accumulate until zero_grad()


def _describe(node) -> str:
    what = repr(node.name) if node.name is not None else (node.label or "an unnamed node")
    op = f"op {node.op}" if node.op else "a leaf"
    parents = ", ".join(f"{p.display}={p.data!r}" for p in node._parents)
    inputs = f" of ({parents})" if parents else ""
    return f"{what} ({op}{inputs}) = {node.data!r}"


def _non_finite_message(root, seed, order) -> str:
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


def _data(x):
    return x.data if isinstance(x, Value) else x


def _new(data: float, op: str, parents: tuple, local: tuple, arg=None) -> Value:
    v = Value.__new__(Value)
    v.data = data
    v.grad = 0.0
    v.name = None
    v.label = None
    v.op = op
    v.arg = arg
    v._parents = parents
    v._local = local
    v._index = _next_index()
    v._adjoint = None
    return v


def _binary(op: str, a, b):
    a_is = isinstance(a, Value)
    b_is = isinstance(b, Value)
    if a_is and b_is:
        x, y = a.data, b.data
        if op == "pow" and x < 0:
            raise _negative_base_value_exponent(x)
        z = _F[op](x, y)
        return _new(z, op, (a, b), _D[op](x, y, z))
    if a_is:
        y = _number(b)
        if y is None:
            return NotImplemented
        x = a.data
        z = _F[op](x, y)
        return _new(z, op, (a,), (_D[op](x, y, z)[0],), (1, y))
    x = _number(a)
    if x is None:
        return NotImplemented
    if op == "pow" and x < 0:  # c ** v: ∂/∂v needs ln c too
        raise _negative_base_value_exponent(x)
    y = b.data
    z = _F[op](x, y)
    return _new(z, op, (b,), (_D[op](x, y, z)[1],), (0, x))


def _negative_base_value_exponent(x: float) -> MemogradValueError:
    return _domain(
        "pow",
        f"negative base {x!r} with a Value exponent: ∂(x^y)/∂y = x^y·ln x is undefined for x < 0; "
        "pass the exponent as a plain number if it is a constant",
    )


def _too_large(data: int, what: str) -> MemogradValueError:
    return MemogradValueError(
        f"{what}: an integer of about 10^{int(abs(data).bit_length() * 0.30103)} is too large for "
        "a float (max about 1.8e308); scale it down, or work with its logarithm (math.log "
        "accepts big integers)"
    )


def _number(x):
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
    x = a.data
    z = _F[op](x)
    return _new(z, op, (a,), _D[op](x, z))


def wsum(weights: Iterable[Value], inputs: Iterable, bias: Value | float | None = None) -> Value:
    """z = Σ_i w_i·x_i + b as ONE node (a neuron's weighted sum).

    Parents are ``(w_1..w_n, x_1..x_n, b)`` with local derivatives ``(x_1..x_n, w_1..w_n, 1)``;
    plain-number inputs or bias are constants (not parents). One node instead of 2n: faster, and
    the neuron-level view reads z -> o directly."""
    ws = weights if isinstance(weights, list | tuple) else list(weights)
    xs = inputs if isinstance(inputs, list | tuple) else list(inputs)
    if len(ws) != len(xs):
        raise MemogradValueError(
            f"wsum: {len(ws)} weights but {len(xs)} inputs; give one weight per input"
        )
    parents: list = []
    local: list = []
    z = 0.0
    consts_in: list = []
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
    return _new(z, "wsum", tuple(parents), tuple(local), (len(ws), len(parents) - len(ws) - nb))
