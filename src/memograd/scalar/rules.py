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
    forward: Callable[..., float]
    local: Callable[..., tuple[float, ...]]
    code: tuple[str, tuple[str, ...]] | None = None
    """The same rule as Python expressions in ``x`` (``y``) and ``z`` (the output), for ops simple
    enough to be one expression each (``("x * y", ("y", "x"))``): ``forward``/``local`` are then
    compiled from it, and :class:`memograd.scalar.value.Value` writes it inline into the op's
    method. ``None``: the op has domain checks or branches; its method calls the two functions."""


def _domain(op: str, message: str) -> MemogradValueError:
    return MemogradValueError(f"{op}: {message}")


# names the expressions of ``Rule.code`` may use (the generated methods see the same ones)
EXPRESSION_NAMES: dict[str, object] = {"_tanh": math.tanh}


def _expression_rule(
    op: str, formula: str, derivatives: tuple[str, ...], forward: str, local: tuple[str, ...]
) -> Rule:
    """A row whose forward and local derivatives are single expressions: its two functions are
    compiled from them, so the expressions are the one source of the formulas."""
    args = "x, y" if len(local) == 2 else "x"
    f = eval(f"lambda {args}: {forward}", dict(EXPRESSION_NAMES))  # noqa: S307 - our own text
    d = eval(f"lambda {args}, z: ({', '.join(local)},)", dict(EXPRESSION_NAMES))  # noqa: S307
    return Rule(op, formula, derivatives, f, d, (forward, local))


# --- forward functions: plain floats in, float out; domain errors raised here --------------------


def _f_div(x: float, y: float) -> float:
    if y == 0:
        raise _domain(
            "div", f"division by zero ({x!r} / 0.0); add an epsilon to the denominator or mask it"
        )
    return x / y


def _f_pow(x: float, y: float) -> float:
    if x < 0 and not float(y).is_integer():  # also nan and ±inf exponents
        raise _domain(
            "pow",
            f"negative base {x!r} with non-integer exponent {y!r} has no real value; "
            "use abs(x) ** y or an integer exponent",
        )
    if x == 0 and y < 0:
        raise _domain("pow", f"0.0 ** {y!r} is a division by zero; add an epsilon to the base")
    try:
        z: float = x**y  # a real number here: x >= 0, or an integer y
        return z
    except OverflowError:
        return _INF if (x > 0 or y % 2 == 0) else -_INF


def _f_exp(x: float) -> float:
    try:
        return _exp(x)
    except OverflowError:
        return _INF


def _f_log(x: float) -> float:
    if not x > 0:
        if x != x:  # nan propagates (caught at backward)
            return x
        raise _domain(
            "log", f"argument must be > 0, got {x!r}; clamp it (max(x, eps)) or add an epsilon"
        )
    return math.log(x)


def _f_sqrt(x: float) -> float:
    if x < 0:
        raise _domain("sqrt", f"argument must be >= 0, got {x!r}; use abs(x) or clamp it")
    return math.sqrt(x)


def _f_sigmoid(x: float) -> float:
    # stable on both sides: never exp of a large positive number
    if x >= 0:
        return 1.0 / (1.0 + _exp(-x))
    e = _exp(x)
    return e / (1.0 + e)


def _f_sin(x: float) -> float:
    return math.sin(x) if _isfinite(x) else math.nan


def _f_cos(x: float) -> float:
    return math.cos(x) if _isfinite(x) else math.nan


# --- local derivatives: ∂z/∂input for each input, from the inputs and the output z --------------


def _d_div(x: float, y: float, z: float) -> tuple[float, float]:
    return (1.0 / y, -z / y)


def _d_pow(x: float, y: float, z: float) -> tuple[float, float]:
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


def _d_exp(x: float, z: float) -> tuple[float]:
    return (z,)


def _d_log(x: float, z: float) -> tuple[float]:
    return (1.0 / x,)


def _d_sqrt(x: float, z: float) -> tuple[float]:
    return (0.5 / z if z > 0 else _INF,)


def _d_sigmoid(x: float, z: float) -> tuple[float]:
    return (z * (1.0 - z),)


def _d_sin(x: float, z: float) -> tuple[float]:
    return (math.cos(x),)


def _d_cos(x: float, z: float) -> tuple[float]:
    return (-math.sin(x),)


# --- issue 10's functions: trigonometric, hyperbolic, their inverses, logs, sign -----------------
# Each forward keeps the module's rules: nan in -> nan out (caught at backward), overflow -> ±inf,
# an argument outside the real domain -> MemogradValueError naming the op, the value and the fix.


def _nan_or_domain(op: str, x: float, domain: str, fix: str) -> float:
    if x != x:
        return x
    raise _domain(op, f"argument must be {domain}, got {x!r}; {fix}")


def _overflowing(f: Callable[[float], float], x: float, odd: bool = False) -> float:
    """f(x), or ±inf where it overflows (the sign of x for an odd f, else +inf)."""
    try:
        return f(x)
    except OverflowError:
        return math.copysign(_INF, x) if odd else _INF


def _f_tan(x: float) -> float:
    return math.tan(x) if _isfinite(x) else math.nan


def _f_sinh(x: float) -> float:
    return _overflowing(math.sinh, x, odd=True)


def _f_cosh(x: float) -> float:
    return _overflowing(math.cosh, x)


def _f_arcsin(x: float) -> float:
    if not -1.0 <= x <= 1.0:
        return _nan_or_domain("arcsin", x, "in [-1, 1]", "clamp it to [-1, 1]")
    return math.asin(x)


def _f_arccos(x: float) -> float:
    if not -1.0 <= x <= 1.0:
        return _nan_or_domain("arccos", x, "in [-1, 1]", "clamp it to [-1, 1]")
    return math.acos(x)


def _f_arctan(x: float) -> float:
    return math.atan(x)


def _f_arcsinh(x: float) -> float:
    return math.asinh(x)


def _f_arccosh(x: float) -> float:
    if not x >= 1.0:
        return _nan_or_domain("arccosh", x, ">= 1", "clamp it (max(x, 1))")
    return math.acosh(x)


def _f_arctanh(x: float) -> float:
    if not -1.0 < x < 1.0:
        return _nan_or_domain(
            "arctanh", x, "in (-1, 1) (±1 is ±inf)", "clamp it to [-1 + eps, 1 - eps]"
        )
    return math.atanh(x)


def _f_log2(x: float) -> float:
    if not x > 0:
        return _nan_or_domain("log2", x, "> 0", "clamp it (max(x, eps)) or add an epsilon")
    return math.log2(x)


def _f_log10(x: float) -> float:
    if not x > 0:
        return _nan_or_domain("log10", x, "> 0", "clamp it (max(x, eps)) or add an epsilon")
    return math.log10(x)


def _f_log1p(x: float) -> float:
    if not x > -1.0:
        return _nan_or_domain("log1p", x, "> -1", "clamp it (max(x, -1 + eps))")
    return math.log1p(x)


def _f_expm1(x: float) -> float:
    return _overflowing(math.expm1, x)


def _f_sign(x: float) -> float:
    return 1.0 if x > 0 else (-1.0 if x < 0 else (0.0 if x == 0 else x))  # nan stays nan


def _d_tan(x: float, z: float) -> tuple[float]:
    return (1.0 + z * z,)


def _d_sinh(x: float, z: float) -> tuple[float]:
    return (_f_cosh(x),)


def _d_cosh(x: float, z: float) -> tuple[float]:
    return (_f_sinh(x),)


def _d_arcsin(x: float, z: float) -> tuple[float]:
    r = 1.0 - x * x
    return (1.0 / math.sqrt(r) if r > 0 else _INF,)


def _d_arccos(x: float, z: float) -> tuple[float]:
    r = 1.0 - x * x
    return (-1.0 / math.sqrt(r) if r > 0 else -_INF,)


def _d_arctan(x: float, z: float) -> tuple[float]:
    return (1.0 / (1.0 + x * x),)


def _d_arcsinh(x: float, z: float) -> tuple[float]:
    return (1.0 / math.hypot(x, 1.0),)


def _d_arccosh(x: float, z: float) -> tuple[float]:
    r = (x - 1.0) * (x + 1.0)
    return (1.0 / math.sqrt(r) if r > 0 else _INF,)


def _d_arctanh(x: float, z: float) -> tuple[float]:
    return (1.0 / ((1.0 - x) * (1.0 + x)),)


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _d_log2(x: float, z: float) -> tuple[float]:
    return (1.0 / (x * _LN2),)


def _d_log10(x: float, z: float) -> tuple[float]:
    return (1.0 / (x * _LN10),)


def _d_log1p(x: float, z: float) -> tuple[float]:
    return (1.0 / (1.0 + x),)


def _d_expm1(x: float, z: float) -> tuple[float]:
    return (z + 1.0,)


def _d_sign(x: float, z: float) -> tuple[float]:
    return (0.0,)


def _f_wsum(*_: float) -> float:  # pragma: no cover - wsum() builds wsum; listed for its formulas
    raise NotImplementedError


def _d_wsum(*_: float) -> tuple[float, ...]:  # pragma: no cover - as _f_wsum
    raise NotImplementedError


RULES: dict[str, Rule] = {
    r.op: r
    for r in (
        _expression_rule("add", "{x} + {y}", ("1", "1"), "x + y", ("1.0", "1.0")),
        _expression_rule("sub", "{x} - {y}", ("1", "-1"), "x - y", ("1.0", "-1.0")),
        _expression_rule("mul", "{x}·{y}", ("{y}", "{x}"), "x * y", ("y", "x")),
        Rule("div", "{x}/{y}", ("1/{y}", "-{x}/{y}²"), _f_div, _d_div),
        Rule("pow", "{x}^{y}", ("{y}·{x}^({y}-1)", "{x}^{y}·ln {x}"), _f_pow, _d_pow),
        _expression_rule("neg", "-{x}", ("-1",), "-x", ("-1.0",)),
        Rule("exp", "exp({x})", ("exp({x})",), _f_exp, _d_exp),
        Rule("log", "ln({x})", ("1/{x}",), _f_log, _d_log),
        Rule("sqrt", "√{x}", ("1/(2√{x})",), _f_sqrt, _d_sqrt),
        _expression_rule("tanh", "tanh({x})", ("1 - tanh²({x})",), "_tanh(x)", ("1.0 - z * z",)),
        Rule("sigmoid", "σ({x})", ("σ({x})·(1 - σ({x}))",), _f_sigmoid, _d_sigmoid),
        _expression_rule(  # nan stays nan (nan <= 0 is False)
            "relu",
            "relu({x})",
            ("1 if {x} > 0 else 0",),
            "0.0 if x <= 0 else x",
            ("1.0 if x > 0 else 0.0",),
        ),
        Rule("sin", "sin({x})", ("cos({x})",), _f_sin, _d_sin),
        Rule("cos", "cos({x})", ("-sin({x})",), _f_cos, _d_cos),
        _expression_rule(
            "abs",
            "|{x}|",
            ("sign({x}) (0 at 0)",),
            "abs(x)",
            ("1.0 if x > 0 else (-1.0 if x < 0 else 0.0)",),
        ),
        Rule("tan", "tan({x})", ("1 + tan²({x})",), _f_tan, _d_tan),
        Rule("sinh", "sinh({x})", ("cosh({x})",), _f_sinh, _d_sinh),
        Rule("cosh", "cosh({x})", ("sinh({x})",), _f_cosh, _d_cosh),
        Rule("arcsin", "arcsin({x})", ("1/√(1 - {x}²)",), _f_arcsin, _d_arcsin),
        Rule("arccos", "arccos({x})", ("-1/√(1 - {x}²)",), _f_arccos, _d_arccos),
        Rule("arctan", "arctan({x})", ("1/(1 + {x}²)",), _f_arctan, _d_arctan),
        Rule("arcsinh", "arcsinh({x})", ("1/√({x}² + 1)",), _f_arcsinh, _d_arcsinh),
        Rule("arccosh", "arccosh({x})", ("1/√({x}² - 1)",), _f_arccosh, _d_arccosh),
        Rule("arctanh", "arctanh({x})", ("1/(1 - {x}²)",), _f_arctanh, _d_arctanh),
        Rule("log2", "log2({x})", ("1/({x}·ln 2)",), _f_log2, _d_log2),
        Rule("log10", "log10({x})", ("1/({x}·ln 10)",), _f_log10, _d_log10),
        Rule("log1p", "ln(1 + {x})", ("1/(1 + {x})",), _f_log1p, _d_log1p),
        Rule("expm1", "exp({x}) - 1", ("exp({x})",), _f_expm1, _d_expm1),
        Rule("sign", "sign({x})", ("0",), _f_sign, _d_sign),
        Rule("wsum", "Σ w_i·x_i + b", ("x_i", "w_i", "1"), _f_wsum, _d_wsum),
    )
}
