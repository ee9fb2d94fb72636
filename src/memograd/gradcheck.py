"""``gradcheck``: compare backprop's gradients with central finite differences in float64.

Public API::

    gradcheck(f, inputs, *, eps=1e-6, atol=1e-6, rtol=1e-5, directions=2, seed=0,
              raise_exception=True, elementwise=None) -> GradcheckResult
    numerical_gradient(fun, x, eps=1e-6) -> np.ndarray      # the numeric core
    GradcheckResult: ok, analytic, numeric, max_abs_error, max_rel_error, worst (index),
                     directional (list of (numeric, analytic) pairs), to_dict()

``f`` takes the inputs (scalar engine: numbers or ``Value`` s, passed as ``Value`` s) and returns
a scalar ``Value``. The analytic gradient is one ``backward()``; the numeric one is, for every
input coordinate i, ``(f(x + eps·e_i) - f(x - eps·e_i)) / (2·eps)`` in float64 (error O(eps²)).
Besides the element-wise check, ``directions`` random unit directions u are checked:
``(f(x + eps·u) - f(x - eps·u)) / (2·eps)`` against ``u · grad`` (HIPS autograd's check_grads
idea: one extra evaluation pair that sees every coordinate at once). A coordinate passes when
``|analytic - numeric| <= atol + rtol·|numeric|``. On failure, ``raise_exception=True`` raises
:class:`GradcheckError` (a ``MemogradValueError``) naming the worst input and both numbers.

Extending to other engines (e.g. Tensor). The numeric core works on one flat float64 numpy array,
so an engine only needs an *adapter*, registered in ``ADAPTERS`` (checked in order; the first whose
``accepts(inputs)`` is true is used)::

    class Adapter:
        def accepts(self, inputs) -> bool
        def flatten(self, inputs) -> np.ndarray            # float64 copy of all inputs, flat
        def evaluate(self, f, inputs, flat) -> float        # f at the inputs rebuilt from ``flat``
        def analytic(self, f, inputs, flat) -> np.ndarray   # backward's gradient, flat float64
        def labels(self, inputs) -> list[str]               # a name per coordinate, for messages

and ``ADAPTERS.insert(0, TensorAdapter())``. Nothing else in this module depends on the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memograd.errors import MemogradTypeError, MemogradValueError

__all__ = [
    "gradcheck",
    "numerical_gradient",
    "GradcheckResult",
    "GradcheckError",
    "ADAPTERS",
    "ScalarAdapter",
    "TensorAdapter",
]


class GradcheckError(MemogradValueError):
    """Backprop and finite differences disagree beyond the tolerance."""


@dataclass
class GradcheckResult:
    ok: bool
    analytic: np.ndarray
    numeric: np.ndarray
    max_abs_error: float
    max_rel_error: float
    worst: int
    labels: list[str] = field(default_factory=list)
    directional: list[tuple[float, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "analytic": self.analytic.tolist(),
            "numeric": self.numeric.tolist(),
            "max_abs_error": self.max_abs_error,
            "max_rel_error": self.max_rel_error,
            "worst": self.worst,
            "labels": self.labels,
            "directional": [list(p) for p in self.directional],
        }

    def __bool__(self) -> bool:
        return self.ok


def numerical_gradient(fun: Any, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of ``fun: float64 array -> float`` at ``x``, one coordinate at a time."""
    x = np.array(x, dtype=np.float64)
    g = np.empty_like(x)
    flat, gf = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = float(fun(x))
        flat[i] = old - eps
        down = float(fun(x))
        flat[i] = old
        gf[i] = (up - down) / (2 * eps)
    return g


class ScalarAdapter:
    """Inputs are numbers or scalar ``Value`` s; ``f`` returns a scalar ``Value``."""

    def accepts(self, inputs: Any) -> bool:
        from memograd.scalar.value import Value

        return all(
            isinstance(x, Value | int | float | np.floating | np.integer)
            and not isinstance(x, bool)
            for x in inputs
        )

    def flatten(self, inputs: Any) -> np.ndarray:
        from memograd.scalar.value import Value

        return np.array(
            [x.data if isinstance(x, Value) else float(x) for x in inputs], dtype=np.float64
        )

    def labels(self, inputs: Any) -> list[str]:
        from memograd.scalar.value import Value

        return [
            x.name if isinstance(x, Value) and x.name is not None else f"inputs[{i}]"
            for i, x in enumerate(inputs)
        ]

    def _build(self, inputs: Any, flat: Any) -> Any:
        from memograd.scalar.value import Value

        return [
            Value(float(v), x.name if isinstance(x, Value) else None) for x, v in zip(inputs, flat)
        ]

    def _call(self, f: Any, xs: Any) -> Any:
        from memograd.scalar.value import Value

        out = f(*xs)
        if not isinstance(out, Value):
            raise MemogradTypeError(
                f"gradcheck: f must return a Value, got {type(out).__name__}; "
                "build the result from the Values it receives"
            )
        return out

    def evaluate(self, f: Any, inputs: Any, flat: Any) -> float:
        return float(self._call(f, self._build(inputs, flat)).data)

    def analytic(self, f: Any, inputs: Any, flat: Any) -> np.ndarray:
        xs = self._build(inputs, flat)
        out = self._call(f, xs)
        out.backward()
        return np.array([x.grad for x in xs], dtype=np.float64)


class TensorAdapter:
    """Inputs are ``Tensor`` s or numpy arrays (any shapes); ``f`` returns a size-1 ``Tensor``.

    Every input is rebuilt as a float64 leaf, so ``f`` is checked in float64 (tensors it closes
    over must be float64 too: the tensor engine refuses float32/float64 mixes)."""

    def accepts(self, inputs: Any) -> bool:
        from memograd.tensor.tensor import Tensor

        return any(isinstance(x, Tensor | np.ndarray) for x in inputs) and all(
            isinstance(x, Tensor | np.ndarray | int | float | np.floating) for x in inputs
        )

    def _arrays(self, inputs: Any) -> list[np.ndarray]:
        from memograd.tensor.tensor import Tensor

        return [np.asarray(x.data if isinstance(x, Tensor) else x, np.float64) for x in inputs]

    def flatten(self, inputs: Any) -> np.ndarray:
        arrays = self._arrays(inputs)
        return np.concatenate([a.reshape(-1) for a in arrays]) if arrays else np.zeros(0)

    def labels(self, inputs: Any) -> list[str]:
        out = []
        for k, a in enumerate(self._arrays(inputs)):
            out += [f"inputs[{k}][{', '.join(map(str, i))}]" for i in np.ndindex(a.shape)]
        return out

    def _build(self, inputs: Any, flat: Any) -> Any:
        from memograd.tensor.tensor import tensor

        xs, at = [], 0
        for a in self._arrays(inputs):
            xs.append(tensor(flat[at : at + a.size].reshape(a.shape), True, np.float64))
            at += a.size
        return xs

    def _call(self, f: Any, xs: Any) -> Any:
        from memograd.tensor.tensor import Tensor

        out = f(*xs)
        if not isinstance(out, Tensor) or out.size != 1:
            raise MemogradTypeError(
                "gradcheck: f must return a size-1 Tensor, got "
                f"{getattr(out, 'shape', type(out).__name__)}; reduce it (e.g. .sum())"
            )
        return out

    def evaluate(self, f: Any, inputs: Any, flat: Any) -> float:
        return float(self._call(f, self._build(inputs, flat)).item())

    def analytic(self, f: Any, inputs: Any, flat: Any) -> np.ndarray:
        xs = self._build(inputs, flat)
        out = self._call(f, xs)
        if out.requires_grad:
            out.backward()
        grads = [np.zeros(x.shape) if x.grad is None else x.grad.numpy() for x in xs]
        return np.concatenate([g.reshape(-1) for g in grads]) if grads else np.zeros(0)


ADAPTERS: list[Any] = [TensorAdapter(), ScalarAdapter()]


def gradcheck(
    f: Any,
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    directions: int = 2,
    seed: int = 0,
    raise_exception: bool = True,
    elementwise: bool | None = None,
) -> GradcheckResult:
    """Check ``f``'s backprop gradient at ``inputs`` against central differences (float64).

    ``elementwise`` (default: when there are at most 256 input coordinates) also checks every
    coordinate; otherwise only the random directions are checked (``numeric`` is then nan)."""
    inputs = list(inputs) if isinstance(inputs, list | tuple) else [inputs]
    if not inputs:
        raise MemogradValueError("gradcheck: no inputs to check; pass at least one number")
    if not (eps > 0 and math.isfinite(eps)):
        raise MemogradValueError(f"gradcheck: eps must be a positive number, got {eps!r}")
    adapter = next((a for a in ADAPTERS if a.accepts(inputs)), None)
    if adapter is None:
        kinds = ", ".join(sorted({type(x).__name__ for x in inputs}))
        raise MemogradTypeError(f"gradcheck: no adapter accepts inputs of type(s) {kinds}")
    x0 = adapter.flatten(inputs)
    if not np.all(np.isfinite(x0)):
        raise MemogradValueError("gradcheck: inputs must be finite")
    labels = adapter.labels(inputs)

    def fun(x: float) -> Any:
        return adapter.evaluate(f, inputs, x)

    analytic = adapter.analytic(f, inputs, x0)
    if elementwise is None:
        elementwise = x0.size <= 256
    numeric = numerical_gradient(fun, x0, eps) if elementwise else np.full(x0.shape, np.nan)
    err = np.abs(analytic - numeric) if elementwise else np.zeros(x0.shape)
    bound = atol + rtol * np.abs(np.nan_to_num(numeric))
    rel = err / np.maximum(np.abs(np.nan_to_num(numeric)), 1e-300)
    ok = bool(np.all(err <= bound)) and bool(np.all(np.isfinite(analytic)))
    worst = int(np.argmax(err - bound)) if err.size else 0
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(directions):
        u = rng.standard_normal(x0.shape)
        u /= np.linalg.norm(u) or 1.0
        num = (fun(x0 + eps * u) - fun(x0 - eps * u)) / (2 * eps)
        ana = float(np.dot(u.reshape(-1), analytic.reshape(-1)))
        pairs.append((float(num), ana))
        if abs(num - ana) > atol + rtol * abs(num):
            ok = False
    result = GradcheckResult(
        ok=ok,
        analytic=analytic,
        numeric=numeric,
        max_abs_error=float(err.max()) if err.size else 0.0,
        max_rel_error=float(rel.max()) if rel.size else 0.0,
        worst=worst,
        labels=labels,
        directional=pairs,
    )
    if not ok and raise_exception:
        i = worst
        raise GradcheckError(
            f"gradcheck: gradient wrt {labels[i] if i < len(labels) else i} is "
            f"{analytic.reshape(-1)[i]!r} by backprop but {numeric.reshape(-1)[i]!r} by central "
            f"differences (|error| {err.reshape(-1)[i]:.3g} > atol {atol} + rtol {rtol}·|num|); "
            f"directional checks (numeric, backprop): {pairs}"
        )
    return result
