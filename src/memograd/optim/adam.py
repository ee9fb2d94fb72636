"""Adam and AdamW.

Adam:  g ← g + λp;  m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;
       p ← p - lr · (m / (1-β₁ᵗ)) / (√(v / (1-β₂ᵗ)) + ε)
AdamW: p ← p (1 - lr·λ), then Adam with λ = 0 (decoupled weight decay).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from memograd.errors import MemogradValueError
from memograd.optim.base import Optimizer, State
from memograd.optim.schedules import Schedule

__all__ = ["Adam", "AdamW"]

_mul, _add, _sub, _div, _sqrt = np.multiply, np.add, np.subtract, np.true_divide, np.sqrt


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction; ``weight_decay`` adds λp to the gradient."""

    SLOTS: ClassVar[tuple[str, ...]] = ("m", "v")
    KERNEL: ClassVar[str] = "adam"
    KERNEL_SLOTS: ClassVar[tuple[str, ...]] = ("m", "v")
    DECOUPLED: ClassVar[bool] = False

    def __init__(
        self,
        parameters: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.0,
        schedule: Schedule | None = None,
        clip_norm: float | None = None,
    ):
        super().__init__(
            parameters, lr, weight_decay=weight_decay, schedule=schedule, clip_norm=clip_norm
        )
        b1, b2 = betas
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0) or not eps > 0:
            raise MemogradValueError(f"{type(self).__name__}: betas in [0, 1) and eps > 0 needed")
        self.betas, self.eps = (float(b1), float(b2)), float(eps)
        # the kernel's scalars that do not depend on the step count k, with their key
        self._fixed: tuple[Any, tuple[Any, ...], Any, tuple[Any, ...]] | None = None

    def hyperparameters(self) -> dict[str, Any]:
        return {**super().hyperparameters(), "betas": list(self.betas), "eps": self.eps}

    def _decay(self, p: np.ndarray, g: np.ndarray, lr: float, st: State) -> np.ndarray:
        return self._l2(p, g, st)

    def _update(self, p: np.ndarray, g: np.ndarray, lr: float, k: int, st: State) -> None:
        b1, b2 = self.betas
        g = self._decay(p, g, lr, st)
        m, v, s0, s1 = st["m"], st["v"], st["s0"], st["s1"]
        _mul(m, b1, m)  # m = b1 m + (1 - b1) g
        _mul(g, 1.0 - b1, s1)
        _add(m, s1, m)
        _mul(v, b2, v)  # v = b2 v + (1 - b2) g²
        _mul(g, g, s1)
        _mul(s1, 1.0 - b2, s1)
        _add(v, s1, v)
        _sqrt(v, s1)  # denominator √v / √(1 - b2^k) + eps
        _div(s1, math.sqrt(1.0 - b2**k), s1)
        _add(s1, self.eps, s1)
        _mul(m, lr / (1.0 - b1**k), s0)  # p -= (lr / (1 - b1^k)) m / denominator
        _div(s0, s1, s0)
        _sub(p, s0, p)

    def _scalars(self, lr: float, k: int, dt: Any) -> tuple[Any, ...]:
        (b1, b2), wd = self.betas, self.weight_decay
        key = (dt, b1, b2, self.eps, wd, lr)
        fixed = self._fixed
        if fixed is None or fixed[0] != key:  # what does not move with k, made once per key
            decoupled = self.DECOUPLED
            fixed = self._fixed = (key, (dt(b1), dt(1.0 - b1), dt(b2), dt(1.0 - b2)),
                                   dt(self.eps), (dt(1.0 - lr * wd if decoupled else wd),
                                                  bool(wd), decoupled))  # fmt: skip
        return (*fixed[1], dt(math.sqrt(1.0 - b2**k)), fixed[2], dt(lr / (1.0 - b1**k)),
                *fixed[3])  # fmt: skip


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): p ← p(1 - lr·λ) first."""

    DECOUPLED: ClassVar[bool] = True

    def __init__(
        self,
        parameters: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        **kwargs: Any,
    ):
        kwargs.setdefault("weight_decay", 0.01)
        super().__init__(parameters, lr, betas, eps, **kwargs)

    def _decay(self, p: np.ndarray, g: np.ndarray, lr: float, st: State) -> np.ndarray:
        if self.weight_decay:
            _mul(p, 1.0 - lr * self.weight_decay, p)
        return g
