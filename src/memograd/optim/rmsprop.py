"""RMSprop: g ← g + λp;  v ← αv + (1-α)g²;  d = g / (√v + ε);  b ← μb + d (if μ);  p ← p - lr·d."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from memograd.errors import MemogradValueError
from memograd.optim.base import Optimizer, State
from memograd.optim.schedules import Schedule

__all__ = ["RMSprop"]

_mul, _add, _sub, _div, _sqrt = np.multiply, np.add, np.subtract, np.true_divide, np.sqrt


class RMSprop(Optimizer):
    """RMSprop (Hinton): divide the gradient by a running root-mean-square of recent gradients."""

    SLOTS: ClassVar[tuple[str, ...]] = ("square_avg", "momentum_buffer")
    KERNEL: ClassVar[str] = "rmsprop"
    KERNEL_SLOTS: ClassVar[tuple[str, ...]] = ("square_avg", "momentum_buffer")

    def __init__(
        self,
        parameters: Iterable[Any],
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        *,
        weight_decay: float = 0.0,
        schedule: Schedule | None = None,
        clip_norm: float | None = None,
    ):
        super().__init__(
            parameters, lr, weight_decay=weight_decay, schedule=schedule, clip_norm=clip_norm
        )
        if not 0.0 <= alpha < 1.0 or not eps > 0 or not 0.0 <= momentum < 1.0:
            raise MemogradValueError("RMSprop: alpha and momentum in [0, 1) and eps > 0 needed")
        self.alpha, self.eps, self.momentum = float(alpha), float(eps), float(momentum)

    def hyperparameters(self) -> dict[str, Any]:
        return {
            **super().hyperparameters(),
            "alpha": self.alpha,
            "eps": self.eps,
            "momentum": self.momentum,
        }

    def _update(self, p: np.ndarray, g: np.ndarray, lr: float, k: int, st: State) -> None:
        g = self._l2(p, g, st)
        v, s1 = st["square_avg"], st["s1"]
        _mul(v, self.alpha, v)  # v = α v + (1 - α) g²
        _mul(g, g, s1)
        _mul(s1, 1.0 - self.alpha, s1)
        _add(v, s1, v)
        _sqrt(v, s1)  # d = g / (√v + eps)
        _add(s1, self.eps, s1)
        _div(g, s1, s1)
        d = s1
        if self.momentum:
            b = st["momentum_buffer"]
            _mul(b, self.momentum, b)
            _add(b, d, b)
            d = b
        _mul(d, lr, s1)
        _sub(p, s1, p)

    def _scalars(self, lr: float, k: int, dt: Any) -> tuple[Any, ...]:
        a, mu, wd = self.alpha, self.momentum, self.weight_decay
        return (dt(a), dt(1.0 - a), dt(self.eps), dt(lr), dt(mu), dt(wd), bool(wd), bool(mu))
