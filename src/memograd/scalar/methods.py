"""The op methods of :class:`memograd.scalar.value.Value`, generated at import from the rule table.

Each op's method is written once, from its row of ``RULES``: the row's expressions (``Rule.code``)
inline, or calls of its two functions for ops with domain checks. An op then costs one Python call,
the arithmetic, and one object: the node, its fields stored directly (the hot path of the forward
pass). ``install_methods(Value, ...)`` sets them on the class; ``value.py`` calls it once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from memograd.scalar.rules import EXPRESSION_NAMES, RULES

__all__ = ["install_methods"]

# the rows' functions by op, looked up at each call by the ops without inline expressions (so a
# patched entry, as tests of gradcheck do, takes effect at once); ops with Rule.code inline them
_F = {op: r.forward for op, r in RULES.items()}
_D = {op: r.local for op, r in RULES.items()}

_BINARY_SOURCE = """
def method(self, other):
    if isinstance(other, Value):
        x = self.data
        y = other.data
        {forward}
        v = _alloc(Value)
        v.data = z
        v.grad = 0.0
        v._info = {op!r}
        v._p0 = self
        v._d0 = {d0}
        v._p1 = other
        v._d1 = {d1}
        v._index = next(_counter)
        v._adjoint = None
        return v
    y = other if type(other) is float else _number(other)
    if y is None:
        return NotImplemented
    x = self.data
    {forward}
    v = _alloc(Value)
    v.data = z
    v.grad = 0.0
    v._info = ({op!r}, None, None, 1, y)
    v._p0 = self
    v._d0 = {d0}
    v._p1 = None
    v._index = next(_counter)
    v._adjoint = None
    return v

def reflected(self, other):
    x = other if type(other) is float else _number(other)
    if x is None:
        return NotImplemented
    y = self.data
    {forward}
    v = _alloc(Value)
    v.data = z
    v.grad = 0.0
    v._info = ({op!r}, None, None, 0, x)
    v._p0 = self
    v._d0 = {d1}
    v._p1 = None
    v._index = next(_counter)
    v._adjoint = None
    return v
"""

_UNARY_SOURCE = """
def method(self):
    x = self.data
    {forward}
    v = _alloc(Value)
    v.data = z
    v.grad = 0.0
    v._info = {op!r}
    v._p0 = self
    v._d0 = {d0}
    v._p1 = None
    v._index = next(_counter)
    v._adjoint = None
    return v
"""


def _generated(op: str, source: str, names: dict[str, Any]) -> dict[str, Callable[..., Any]]:
    """The op's method(s), from its row: inline expressions when the row has them, else calls.
    ``names``: what the generated code uses (``Value``, ``_counter``, ``_number``)."""
    rule = RULES[op]
    binary = source is _BINARY_SOURCE
    namespace: dict[str, Any] = {
        **EXPRESSION_NAMES,
        **names,
        "_alloc": object.__new__,
        "_F": _F,
        "_D": _D,
    }
    if rule.code is not None:
        forward, local = rule.code
        text = source.format(op=op, forward=f"z = {forward}", d0=local[0], d1=local[-1])
    else:  # domain checks live in the functions: call them, looked up per call in _F/_D
        args = "x, y" if binary else "x"
        text = source.format(
            op=op,
            forward=f"z = _F[{op!r}]({args}); d = _D[{op!r}]({args}, z)",
            d0="d[0]",
            d1="d[1]" if binary else "d[0]",
        )
    exec(compile(text, f"<memograd.scalar.value: {op}>", "exec"), namespace)
    methods: dict[str, Callable[..., Any]] = {
        k: namespace[k] for k in ("method", "reflected") if k in namespace
    }
    for fn in methods.values():
        fn.__qualname__ = f"Value.{op}"
        fn.__doc__ = f"{rule.formula}; local derivative(s) {', '.join(rule.derivatives)}"
    return methods


_BINARY_NAMES = {"add": "__add__", "sub": "__sub__", "mul": "__mul__", "div": "__truediv__"}
_UNARY_OPS = (
    "neg abs exp log sqrt tanh sigmoid relu sin cos tan sinh cosh arcsin arccos arctan arcsinh "
    "arccosh arctanh log2 log10 log1p expm1 sign"
).split()


def install_methods(
    value: type[Any], number: Callable[[object], float | None], counter: Iterator[int]
) -> dict[str, Callable[..., Any]]:
    """Set one generated method per op on ``value`` (the Value class); returns the unary ones by op.

    ``number(x)``: a float for a number operand, else None; ``next(counter)``: the creation index
    (the builtin ``next`` on the count: a little cheaper per op than a bound ``__next__``)."""
    names = {"Value": value, "_counter": counter, "_number": number}
    unary: dict[str, Callable[..., Any]] = {}
    for op, name in _BINARY_NAMES.items():
        methods = _generated(op, _BINARY_SOURCE, names)
        setattr(value, name, methods["method"])
        setattr(value, "__r" + name[2:], methods["reflected"])
    for op in _UNARY_OPS:
        method = _generated(op, _UNARY_SOURCE, names)["method"]
        unary[op] = method
        setattr(value, op, method)
    value.__neg__ = unary["neg"]
    value.__abs__ = unary["abs"]
    return unary
