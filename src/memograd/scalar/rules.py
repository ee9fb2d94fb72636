"""The scalar engine's derivative rules as data: op name -> forward formula and local derivatives.

Each row of ``RULES`` is a :class:`Rule`: ``forward(*xs) -> z`` computes the op on plain floats
(raising :class:`memograd.MemogradValueError` naming the op and the value for an argument outside
its real domain), and ``local(*xs, z) -> (∂z/∂x_1, ...)`` its local derivatives, computed once,
at forward time, by :class:`memograd.scalar.value.Value`. ``formula``/``derivatives`` are the
same rule written for teaching tools. Adding an op is adding a row here (and its test).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from memograd.errors import MemogradValueError

__all__ = ["RULES", "Rule"]

_INF = math.inf
_exp = math.exp
_isfinite = math.isfinite


@dataclass(frozen=True)
class Rule:
    """One op: ``forward(*xs) -> z`` and ``local(*xs, z) -> (∂z/∂x_1, ...)``.

    ``formula`` shows the forward and ``derivatives`` each local derivative, with ``{x}``/``{y}``
    placeholders for the operands (``RULES["mul"].derivatives == ("{y}", "{x}")``): teaching
    tools fill them in (``memograd.paths`` writes factors such as ``σ'(z21)·w11^2`` with them)."""

    op: str
    formula: str
    derivatives: tuple[str, ...]
    forward: Callable
    local: Callable


def _domain(op: str, message: str) -> MemogradValueError:
    return MemogradValueError(f"{op}: {message}")


# --- forward functions: plain floats in, float out; domain errors raised here --------------------


def _f_add(x, y):
    return x + y


def _f_sub(x, y):
    return x - y


def _f_mul(x, y):
    return x * y


def _f_div(x, y):
    if y == 0:
        raise _domain(
            "div", f"division by zero ({x!r} / 0.0); add an epsilon to the denominator or mask it"
        )
    return x / y


def _f_pow(x, y):
    if x < 0 and not float(y).is_integer():  # also nan and ±inf exponents
        raise _domain(
            "pow",
            f"negative base {x!r} with non-integer exponent {y!r} has no real value; "
            "use abs(x) ** y or an integer exponent",
        )
    if x == 0 and y < 0:
        raise _domain("pow", f"0.0 ** {y!r} is a division by zero; add an epsilon to the base")
    try:
        return x**y
    except OverflowError:
        return _INF if (x > 0 or y % 2 == 0) else -_INF


def _f_neg(x):
    return -x


def _f_exp(x):
    try:
        return _exp(x)
    except OverflowError:
        return _INF


def _f_log(x):
    if not x > 0:
        if x != x:  # nan propagates (caught at backward)
            return x
        raise _domain(
            "log", f"argument must be > 0, got {x!r}; clamp it (max(x, eps)) or add an epsilon"
        )
    return math.log(x)


def _f_sqrt(x):
    if x < 0:
        raise _domain("sqrt", f"argument must be >= 0, got {x!r}; use abs(x) or clamp it")
    return math.sqrt(x)


def _f_tanh(x):
    return math.tanh(x)


def _f_sigmoid(x):
    # stable on both sides: never exp of a large positive number
    if x >= 0:
        return 1.0 / (1.0 + _exp(-x))
    e = _exp(x)
    return e / (1.0 + e)


def _f_relu(x):
    return 0.0 if x <= 0 else x  # nan stays nan (nan <= 0 is False)


def _f_sin(x):
    return math.sin(x) if _isfinite(x) else math.nan


def _f_cos(x):
    return math.cos(x) if _isfinite(x) else math.nan


def _f_abs(x):
    return abs(x)


# --- local derivatives: ∂z/∂input for each input, from the inputs and the output z --------------


def _d_add(x, y, z):
    return (1.0, 1.0)


def _d_sub(x, y, z):
    return (1.0, -1.0)


def _d_mul(x, y, z):
    return (y, x)


def _d_div(x, y, z):
    return (1.0 / y, -z / y)


def _d_pow(x, y, z):
    # ∂z/∂x = y·x^(y-1) (written z·y/x when x != 0); ∂z/∂y = z·ln x (0 at x = 0, the limit)
    if x == 0:
        if y == 1:
            dx = 1.0
        elif y == 0:
            dx = 0.0
        else:
            dx = 0.0 if y > 1 else _INF
        dy = 0.0
    else:
        try:
            dx = y * x ** (y - 1)
        except OverflowError:
            dx = _INF
        dy = z * math.log(x) if x > 0 else math.nan
    return (dx, dy)


def _d_neg(x, z):
    return (-1.0,)


def _d_exp(x, z):
    return (z,)


def _d_log(x, z):
    return (1.0 / x,)


def _d_sqrt(x, z):
    return (0.5 / z if z > 0 else _INF,)


def _d_tanh(x, z):
    return (1.0 - z * z,)


def _d_sigmoid(x, z):
    return (z * (1.0 - z),)


def _d_relu(x, z):
    return (1.0 if x > 0 else 0.0,)


def _d_sin(x, z):
    return (math.cos(x),)


def _d_cos(x, z):
    return (-math.sin(x),)


def _d_abs(x, z):
    return (1.0 if x > 0 else (-1.0 if x < 0 else 0.0),)


def _f_wsum(*_):  # pragma: no cover - wsum is built by wsum(), listed for its formulas
    raise NotImplementedError


RULES: dict[str, Rule] = {
    r.op: r
    for r in (
        Rule("add", "{x} + {y}", ("1", "1"), _f_add, _d_add),
        Rule("sub", "{x} - {y}", ("1", "-1"), _f_sub, _d_sub),
        Rule("mul", "{x}·{y}", ("{y}", "{x}"), _f_mul, _d_mul),
        Rule("div", "{x}/{y}", ("1/{y}", "-{x}/{y}²"), _f_div, _d_div),
        Rule("pow", "{x}^{y}", ("{y}·{x}^({y}-1)", "{x}^{y}·ln {x}"), _f_pow, _d_pow),
        Rule("neg", "-{x}", ("-1",), _f_neg, _d_neg),
        Rule("exp", "exp({x})", ("exp({x})",), _f_exp, _d_exp),
        Rule("log", "ln({x})", ("1/{x}",), _f_log, _d_log),
        Rule("sqrt", "√{x}", ("1/(2√{x})",), _f_sqrt, _d_sqrt),
        Rule("tanh", "tanh({x})", ("1 - tanh²({x})",), _f_tanh, _d_tanh),
        Rule("sigmoid", "σ({x})", ("σ({x})·(1 - σ({x}))",), _f_sigmoid, _d_sigmoid),
        Rule("relu", "relu({x})", ("1 if {x} > 0 else 0",), _f_relu, _d_relu),
        Rule("sin", "sin({x})", ("cos({x})",), _f_sin, _d_sin),
        Rule("cos", "cos({x})", ("-sin({x})",), _f_cos, _d_cos),
        Rule("abs", "|{x}|", ("sign({x}) (0 at 0)",), _f_abs, _d_abs),
        Rule("wsum", "Σ w_i·x_i + b", ("x_i", "w_i", "1"), _f_wsum, _f_wsum),
    )
}
