"""Optimizers, learning-rate schedules and gradient clipping; updates in place, no graph built.

Each step reads every parameter's gradient ``g = ∂L/∂p`` (the adjoint backward left in
``p.grad``) and changes ``p.data`` in place with NumPy (never through Tensor ops, so no graph is
recorded). With ``lr_t = lr · schedule(t)`` at update number t = 1, 2, ...:

==========  ===============================================================================
SGD         g ← g + λp;  b ← μb + (1 - τ)g  (b₁ = g);  d = g + μb (Nesterov) or b;  p ← p - lr_t·d
Adam        g ← g + λp;  m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;
            p ← p - lr_t · (m / (1-β₁ᵗ)) / (√(v / (1-β₂ᵗ)) + ε)
AdamW       p ← p (1 - lr_t·λ), then Adam with λ = 0 (decoupled weight decay)
RMSprop     g ← g + λp;  v ← αv + (1-α)g²;  d = g / (√v + ε);  b ← μb + d (if μ);  p ← p - lr_t·d
==========  ===============================================================================

These are PyTorch's conventions (same defaults), so hyper-parameters carry over. The modules:
:mod:`.base` (the step: flat, per parameter, numba), :mod:`.sgd`, :mod:`.adam`, :mod:`.rmsprop`
(the formulas), :mod:`.schedules`, :mod:`.clipping`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from memograd.errors import MemogradValueError
from memograd.optim.adam import Adam, AdamW
from memograd.optim.base import Optimizer
from memograd.optim.clipping import clip_grad_norm, global_norm
from memograd.optim.rmsprop import RMSprop
from memograd.optim.schedules import (
    Constant,
    CosineLR,
    Schedule,
    StepLR,
    Warmup,
    make_schedule,
    schedule_from_dict,
)
from memograd.optim.sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "OPTIMIZERS",
    "make_optimizer",
    "Schedule",
    "Constant",
    "StepLR",
    "CosineLR",
    "Warmup",
    "schedule_from_dict",
    "make_schedule",
    "global_norm",
    "clip_grad_norm",
]

OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSprop,
}


def make_optimizer(name: str, parameters: Iterable[Any], lr: float, **kwargs: Any) -> Optimizer:
    """An optimizer by name (sgd, adam, adamw, rmsprop)."""
    key = name.lower()
    if key not in OPTIMIZERS:
        raise MemogradValueError(
            f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}"
        )
    return OPTIMIZERS[key](parameters, lr=lr, **kwargs)
