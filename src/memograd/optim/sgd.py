"""SGD: g ← g + λp;  b ← μb + (1 - τ)g  (b₁ = g);  d = g + μb (Nesterov) or b;  p ← p - lr·d."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from memograd.errors import MemogradValueError
from memograd.optim.base import Optimizer, State
from memograd.optim.schedules import Schedule

__all__ = ["SGD"]


_PLAIN: list[Any] = []  # memograd.optim._plain, imported on first use (it imports numba)


def _plain() -> Any:
    if not _PLAIN:
        from memograd.optim import _plain as module

        _PLAIN.append(module)
    return _PLAIN[0]


_mul, _add, _sub, _copyto = np.multiply, np.add, np.subtract, np.copyto


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum μ, dampening τ, Nesterov and L2 λ."""

    SLOTS: ClassVar[tuple[str, ...]] = ("momentum_buffer",)
    KERNEL: ClassVar[str] = "sgd"
    KERNEL_SLOTS: ClassVar[tuple[str, ...]] = ("momentum_buffer",)

    def __init__(
        self,
        parameters: Iterable[Any],
        lr: float = 0.01,
        momentum: float = 0.0,
        *,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        schedule: Schedule | None = None,
        clip_norm: float | None = None,
    ):
        super().__init__(
            parameters, lr, weight_decay=weight_decay, schedule=schedule, clip_norm=clip_norm
        )
        if not 0.0 <= momentum < 1.0:
            raise MemogradValueError(f"SGD: momentum must be in [0, 1), got {momentum}")
        if nesterov and (momentum == 0 or dampening != 0):
            raise MemogradValueError("SGD: nesterov needs momentum > 0 and dampening = 0")
        self.momentum, self.dampening, self.nesterov = float(momentum), float(dampening), nesterov
        self._last_plain: tuple[float, Any, Any] | None = None  # lr, dtype, lr in that dtype

    def hyperparameters(self) -> dict[str, Any]:
        return {
            **super().hyperparameters(),
            "momentum": self.momentum,
            "dampening": self.dampening,
            "nesterov": self.nesterov,
        }

    def _update(self, p: np.ndarray, g: np.ndarray, lr: float, k: int, st: State) -> None:
        g = self._l2(p, g, st)
        s1 = st["s1"]
        mu = self.momentum
        if mu:
            b = st["momentum_buffer"]
            if k == 1:
                _copyto(b, g)
            else:
                _mul(b, mu, b)
                if self.dampening:
                    _mul(g, 1.0 - self.dampening, s1)
                    _add(b, s1, b)
                else:
                    _add(b, g, b)
            if self.nesterov:
                _mul(b, mu, s1)
                _add(g, s1, s1)
                g = s1
            else:
                g = b
        _mul(g, lr, s1)  # p -= lr * g: two calls
        _sub(p, s1, p)

    def _call_many(
        self,
        flat_a: tuple[np.ndarray, ...],
        flat_g: tuple[np.ndarray, ...],
        scalars: tuple[Any, ...],
    ) -> bool:
        """Plain SGD (no momentum, no weight decay): :func:`._plain.sgd_plain_many`, the
        values, the gradients and the rate (the general kernel's nine scalars and momentum
        buffers cost ~1 us of numba's argument typing per call); else the general
        ``sgd_many``. Same bits."""
        if self.momentum or self.weight_decay:
            return super()._call_many(flat_a, flat_g, scalars)
        try:
            _plain().sgd_plain_many(flat_a, flat_g, scalars[0])
        except Exception:  # numba's TypingError (raised before anything is written)
            self._no_many = True
            return False
        return True

    def _common_update(
        self, flat_a: tuple[np.ndarray, ...], grads: list[np.ndarray], lr: float
    ) -> bool:
        """Plain SGD (no momentum, no weight decay), the eager engine's usual update: the rate
        is the kernel's one scalar (:func:`._plain.sgd_plain_many` takes the gradients in their
        own shapes). At 2-16-16-1 the update's Python is most of its cost: this path does only
        what the plain update needs (same bits)."""
        if self.momentum or self.weight_decay:
            return super()._common_update(flat_a, grads, lr)
        last = self._last_plain
        if last is None or last[0] != lr or last[1] is not self._dtype:
            last = self._last_plain = (lr, self._dtype, self._dtype.type(lr))
        try:
            _plain().sgd_plain_many(flat_a, tuple(grads), last[2])
        except Exception:  # numba's TypingError (raised before anything is written)
            self._no_many = True
            return False
        return True

    def _scalars_key(self, k: int) -> Any:
        # k enters the scalars below only as k == 1; the hyperparameters may be edited
        return (k == 1, self.momentum, self.weight_decay, self.dampening, self.nesterov)

    def _fold_scalars(self, scalars: tuple[Any, ...]) -> tuple[float, float] | None:
        """Without momentum the update is p ← (1 - lr·λ)·p - lr·g: BLAS's C ← αAB + βC with
        α = -lr, β = 1 - lr·λ when g = AB (compile_step folds it into the product); None with
        momentum (b must be formed first). ``scalars``: what :meth:`_scalars` returned."""
        lr, wd, has_mu = float(scalars[0]), float(scalars[1]), scalars[5]
        return None if has_mu else (-lr, 1.0 - lr * wd)

    def _scalars(self, lr: float, k: int, dt: Any) -> tuple[Any, ...]:
        mu, wd, damp = self.momentum, self.weight_decay, self.dampening
        return (dt(lr), dt(wd), dt(mu), dt(1.0 - damp), bool(wd), bool(mu), bool(damp),
                bool(self.nesterov), k == 1)  # fmt: skip
