"""Elementwise math rows of THE table (:mod:`memograd.tensor.ops`): trigonometric, hyperbolic,
logarithmic, rounding and two-argument functions, with NumPy's names, broadcasting and dtypes.

Each row: the forward (a NumPy ufunc) and, per input, its share of the adjoint ``g = ∂L/∂y``
written with NumPy functions of ``(g, y, *xs)``, e.g. ``∂ sin a/∂a = cos a``. Rounding functions
(sign, floor, ceil, round) are piecewise constant: their derivative is 0 everywhere it exists, and
memograd gives 0 at the jumps too (as PyTorch and HIPS autograd do).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from memograd.tensor.ops import Operand, _max_split, register, rule
from memograd.tensor.tensor import Tensor, _binary, _unary

__all__ = [
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "log1p",
    "expm1",
    "log2",
    "log10",
    "exp2",
    "sign",
    "floor",
    "ceil",
    "round",
    "erf",
    "logaddexp",
    "arctan2",
    "hypot",
    "remainder",
    "fmax",
    "fmin",
    "nan_to_num",
    "deg2rad",
    "rad2deg",
    "sinc",
]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _zero(g: Operand, y: Operand, a: Operand, **params: Any) -> Operand:
    """Piecewise-constant functions: derivative 0 (also at their jumps, by convention)."""
    return g * 0


def _erf(a: Operand) -> Operand:
    """erf a = 2/√π ∫₀ᵃ e^{-t²} dt (SciPy's when installed, else math.erf per element)."""
    try:
        from scipy.special import erf
    except ImportError:  # pragma: no cover - scipy ships with scikit-learn
        erf = np.vectorize(math.erf, otypes=[np.float64])
    return np.asarray(erf(a)).astype(np.result_type(a, np.float32), copy=False)


def _sinc_vjp(g: Operand, y: Operand, a: Operand) -> Operand:
    """sinc a = sin(πa)/(πa): ∂/∂a = (cos(πa) - sinc a)/a, and 0 at a = 0 (the even limit)."""
    zero = a == 0
    safe = np.where(zero, 1, a)
    return g * np.where(zero, 0, (np.cos(np.pi * a) - y) / safe)


def _fmax_split(a: Operand, b: Operand) -> Operand:
    """fmax ignores nan: the adjoint goes to a where a > b or b is nan (a not nan); ties halve."""
    na, nb = np.isnan(a), np.isnan(b)
    return _max_split(a, b) + (nb & ~na)


def _nan_to_num(
    a: Operand, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Operand:
    return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)


# Each formula: (g = ∂L/∂y, y = output, inputs...) -> share of that input.
# fmt: off
register(
    # trigonometric
    rule("sin", np.sin,         lambda g, y, a: g * np.cos(a),                           saves="x"),
    rule("cos", np.cos,         lambda g, y, a: -g * np.sin(a),                          saves="x"),
    rule("tan", np.tan,         lambda g, y, a: g * (1 + y * y),                         saves="y"),
    rule("arcsin", np.arcsin,   lambda g, y, a: g / np.sqrt(1 - a * a),                  saves="x"),
    rule("arccos", np.arccos,   lambda g, y, a: -g / np.sqrt(1 - a * a),                 saves="x"),
    rule("arctan", np.arctan,   lambda g, y, a: g / (1 + a * a),                         saves="x"),
    # hyperbolic
    rule("sinh", np.sinh,       lambda g, y, a: g * np.cosh(a),                          saves="x"),
    rule("cosh", np.cosh,       lambda g, y, a: g * np.sinh(a),                          saves="x"),
    rule("arcsinh", np.arcsinh, lambda g, y, a: g / np.sqrt(a * a + 1),                  saves="x"),
    rule("arccosh", np.arccosh, lambda g, y, a: g / np.sqrt((a - 1) * (a + 1)),          saves="x"),
    rule("arctanh", np.arctanh, lambda g, y, a: g / (1 - a * a),                         saves="x"),
    # exponentials and logarithms
    rule("log1p", np.log1p,     lambda g, y, a: g / (1 + a),                             saves="x"),
    rule("expm1", np.expm1,     lambda g, y, a: g * (y + 1),                             saves="y"),
    rule("log2", np.log2,       lambda g, y, a: g / (a * _LN2),                          saves="x"),
    rule("log10", np.log10,     lambda g, y, a: g / (a * _LN10),                         saves="x"),
    rule("exp2", np.exp2,       lambda g, y, a: g * (y * _LN2),                          saves="y"),
    rule("erf", _erf,           lambda g, y, a: g * (_TWO_OVER_SQRT_PI * np.exp(-a * a)),
                                                                                         saves="x"),
    # piecewise constant: zero gradient
    rule("sign", np.sign,       _zero),
    rule("floor", np.floor,     _zero),
    rule("ceil", np.ceil,       _zero),
    rule("round", lambda a, decimals=0: np.round(a, decimals), _zero),
    # linear rescalings and cleanup
    rule("deg2rad", np.deg2rad, lambda g, y, a: g * (np.pi / 180)),
    rule("rad2deg", np.rad2deg, lambda g, y, a: g * (180 / np.pi)),
    rule("nan_to_num", _nan_to_num,
                                lambda g, y, a, **k: g * np.isfinite(a),                 saves="x"),
    rule("sinc", np.sinc,       _sinc_vjp,                                              saves="xy"),
    # two arguments (numpy broadcasting; shares are reduced by unbroadcast)
    rule("logaddexp", np.logaddexp,
                                lambda g, y, a, b: g * np.exp(a - y),
                                lambda g, y, a, b: g * np.exp(b - y),
                                                             saves="xy", broadcasts=True),
    rule("arctan2", np.arctan2, lambda g, y, a, b: g * b / (a * a + b * b),
                                lambda g, y, a, b: -g * a / (a * a + b * b),
                                                             saves="x", broadcasts=True),
    rule("hypot", np.hypot,     lambda g, y, a, b: g * a / y,
                                lambda g, y, a, b: g * b / y,
                                                             saves="xy", broadcasts=True),
    rule("remainder", np.remainder,
                                lambda g, y, a, b: g,
                                lambda g, y, a, b: -g * np.floor(a / b),
                                                             saves="x", broadcasts=True),
    rule("fmax", np.fmax,       lambda g, y, a, b: g * _fmax_split(a, b),
                                lambda g, y, a, b: g * _fmax_split(b, a),
                                                             saves="x", broadcasts=True),
    rule("fmin", np.fmin,       lambda g, y, a, b: g * _fmax_split(b, a),
                                lambda g, y, a, b: g * _fmax_split(a, b),
                                                             saves="x", broadcasts=True),
)
# fmt: on


def sin(a: Tensor | ArrayLike) -> Tensor:
    """sin a; ∂ = cos a."""
    return _unary("sin", a)


def cos(a: Tensor | ArrayLike) -> Tensor:
    """cos a; ∂ = -sin a."""
    return _unary("cos", a)


def tan(a: Tensor | ArrayLike) -> Tensor:
    """tan a; ∂ = 1 + tan² a."""
    return _unary("tan", a)


def arcsin(a: Tensor | ArrayLike) -> Tensor:
    """arcsin a (|a| <= 1); ∂ = 1/√(1 - a²) (inf at ±1)."""
    return _unary("arcsin", a)


def arccos(a: Tensor | ArrayLike) -> Tensor:
    """arccos a (|a| <= 1); ∂ = -1/√(1 - a²)."""
    return _unary("arccos", a)


def arctan(a: Tensor | ArrayLike) -> Tensor:
    """arctan a; ∂ = 1/(1 + a²)."""
    return _unary("arctan", a)


def sinh(a: Tensor | ArrayLike) -> Tensor:
    """sinh a; ∂ = cosh a."""
    return _unary("sinh", a)


def cosh(a: Tensor | ArrayLike) -> Tensor:
    """cosh a; ∂ = sinh a."""
    return _unary("cosh", a)


def arcsinh(a: Tensor | ArrayLike) -> Tensor:
    """arcsinh a; ∂ = 1/√(a² + 1)."""
    return _unary("arcsinh", a)


def arccosh(a: Tensor | ArrayLike) -> Tensor:
    """arccosh a (a >= 1); ∂ = 1/√(a² - 1)."""
    return _unary("arccosh", a)


def arctanh(a: Tensor | ArrayLike) -> Tensor:
    """arctanh a (|a| < 1); ∂ = 1/(1 - a²)."""
    return _unary("arctanh", a)


def log1p(a: Tensor | ArrayLike) -> Tensor:
    """log(1 + a), exact for small a; ∂ = 1/(1 + a)."""
    return _unary("log1p", a)


def expm1(a: Tensor | ArrayLike) -> Tensor:
    """e^a - 1, exact for small a; ∂ = e^a."""
    return _unary("expm1", a)


def log2(a: Tensor | ArrayLike) -> Tensor:
    """log₂ a; ∂ = 1/(a ln 2)."""
    return _unary("log2", a)


def log10(a: Tensor | ArrayLike) -> Tensor:
    """log₁₀ a; ∂ = 1/(a ln 10)."""
    return _unary("log10", a)


def exp2(a: Tensor | ArrayLike) -> Tensor:
    """2^a; ∂ = 2^a ln 2."""
    return _unary("exp2", a)


def erf(a: Tensor | ArrayLike) -> Tensor:
    """The error function; ∂ = 2/√π e^{-a²}."""
    return _unary("erf", a)


def sign(a: Tensor | ArrayLike) -> Tensor:
    """-1, 0 or 1; zero gradient."""
    return _unary("sign", a)


def floor(a: Tensor | ArrayLike) -> Tensor:
    """Largest integer <= a; zero gradient."""
    return _unary("floor", a)


def ceil(a: Tensor | ArrayLike) -> Tensor:
    """Smallest integer >= a; zero gradient."""
    return _unary("ceil", a)


def round(a: Tensor | ArrayLike, decimals: int = 0) -> Tensor:  # noqa: A001 - numpy's name
    """Round half to even to ``decimals`` digits (numpy's rule); zero gradient."""
    if not isinstance(decimals, (int, np.integer)):
        from memograd.errors import MemogradTypeError

        raise MemogradTypeError(f"round: decimals must be an int, got {decimals!r}")
    return _unary("round", a, decimals=int(decimals))


def deg2rad(a: Tensor | ArrayLike) -> Tensor:
    """a · π/180."""
    return _unary("deg2rad", a)


def rad2deg(a: Tensor | ArrayLike) -> Tensor:
    """a · 180/π."""
    return _unary("rad2deg", a)


def nan_to_num(
    a: Tensor | ArrayLike,
    nan: float = 0.0,
    posinf: float | None = None,
    neginf: float | None = None,
) -> Tensor:
    """nan -> ``nan``, ±inf -> ``posinf``/``neginf`` (the dtype's extremes by default); the
    adjoint passes where a was finite (replaced entries are constants)."""
    return _unary("nan_to_num", a, nan=nan, posinf=posinf, neginf=neginf)


def sinc(a: Tensor | ArrayLike) -> Tensor:
    """sin(πa)/(πa), 1 at 0 (numpy's normalized sinc); ∂ = (cos πa - sinc a)/a, 0 at 0."""
    return _unary("sinc", a)


def logaddexp(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """log(e^a + e^b), stable; ∂/∂a = e^{a - y}, ∂/∂b = e^{b - y}."""
    return _binary("logaddexp", a, b)


def arctan2(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """The angle of the point (b, a) (numpy's arctan2(y, x)); ∂/∂a = b/(a²+b²),
    ∂/∂b = -a/(a²+b²) (nan at the origin)."""
    return _binary("arctan2", a, b)


def hypot(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """√(a² + b²) without overflow; ∂/∂a = a/y, ∂/∂b = b/y (nan at the origin)."""
    return _binary("hypot", a, b)


def remainder(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """a mod b with the sign of b (numpy's remainder, Python's %): a - floor(a/b)·b;
    ∂/∂a = 1, ∂/∂b = -floor(a/b) (away from the jumps)."""
    return _binary("remainder", a, b)


def fmax(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """Elementwise max ignoring nan; the adjoint goes to the larger (non-nan) side, ties halve."""
    return _binary("fmax", a, b)


def fmin(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """Elementwise min ignoring nan; the adjoint goes to the smaller (non-nan) side."""
    return _binary("fmin", a, b)


# Tensor methods, as on NumPy arrays and torch tensors (``x.sin()``, ``a.hypot(b)``)
for _name in __all__:
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, globals()[_name])
