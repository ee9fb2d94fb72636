"""Learning-rate schedules: a factor f(t) of the update number t = 1, 2, ... (lr_t = lr·f(t))."""

from __future__ import annotations

import math
from typing import Any

from memograd.errors import MemogradValueError

__all__ = [
    "Schedule",
    "Constant",
    "StepLR",
    "CosineLR",
    "Warmup",
    "schedule_from_dict",
    "make_schedule",
]


class Schedule:
    """A learning-rate factor as a function of the update number t = 1, 2, ... (lr_t = lr·f(t))."""

    def __call__(self, t: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {"type": type(self).__name__, **vars(self)}


class Constant(Schedule):
    """f(t) = 1."""

    def __call__(self, t: int) -> float:
        return 1.0


class StepLR(Schedule):
    """f(t) = γ^⌊(t-1) / step_size⌋: multiply the rate by γ every ``step_size`` updates."""

    def __init__(self, step_size: int, gamma: float = 0.1):
        if step_size < 1 or not gamma > 0:
            raise MemogradValueError(
                f"StepLR: step_size must be >= 1 and gamma > 0, got {step_size}, {gamma}"
            )
        self.step_size, self.gamma = int(step_size), float(gamma)

    def __call__(self, t: int) -> float:
        return float(self.gamma ** ((max(t, 1) - 1) // self.step_size))


class CosineLR(Schedule):
    """f(t) = m + (1 - m)(1 + cos(π·min(t-1, T)/T)) / 2: from 1 down to m = ``min_factor`` at T."""

    def __init__(self, total_steps: int, min_factor: float = 0.0):
        if total_steps < 1 or not 0.0 <= min_factor <= 1.0:
            raise MemogradValueError(
                f"CosineLR: total_steps must be >= 1 and 0 <= min_factor <= 1, "
                f"got {total_steps}, {min_factor}"
            )
        self.total_steps, self.min_factor = int(total_steps), float(min_factor)

    def __call__(self, t: int) -> float:
        progress = min(max(t - 1, 0), self.total_steps) / self.total_steps
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * progress))


class Warmup(Schedule):
    """Linear warm-up: f(t) = t / W for t <= W, then ``after(t - W)`` (constant 1 by default)."""

    def __init__(self, warmup_steps: int, after: Schedule | None = None):
        if warmup_steps < 0:
            raise MemogradValueError(f"Warmup: warmup_steps must be >= 0, got {warmup_steps}")
        self.warmup_steps = int(warmup_steps)
        self.after = after if after is not None else Constant()

    def __call__(self, t: int) -> float:
        if t <= self.warmup_steps:
            return max(t, 1) / self.warmup_steps
        return self.after(t - self.warmup_steps)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Warmup", "warmup_steps": self.warmup_steps, "after": self.after.to_dict()}


_SCHEDULES: dict[str, type[Schedule]] = {
    "Constant": Constant,
    "StepLR": StepLR,
    "CosineLR": CosineLR,
    "Warmup": Warmup,
}


def schedule_from_dict(d: dict[str, Any] | None) -> Schedule:
    """Rebuild a schedule written by ``Schedule.to_dict``."""
    if d is None:
        return Constant()
    d = dict(d)
    kind = d.pop("type", None)
    if kind not in _SCHEDULES:
        raise MemogradValueError(f"unknown schedule {kind!r}; known: {', '.join(_SCHEDULES)}")
    if kind == "Warmup":
        return Warmup(d["warmup_steps"], schedule_from_dict(d.get("after")))
    return _SCHEDULES[kind](**d)


def make_schedule(
    name: str | None, total_steps: int, warmup_steps: int = 0, *, step_size: int | None = None
) -> Schedule:
    """``"none"``/``"constant"``, ``"step"`` (x0.1 at 1/3 and 2/3 of training by default) or
    ``"cosine"``, optionally after ``warmup_steps`` of linear warm-up."""
    name = (name or "none").lower()
    rest = max(total_steps - warmup_steps, 1)
    if name in ("none", "constant"):
        base: Schedule = Constant()
    elif name == "step":
        base = StepLR(step_size or max(rest // 3, 1), 0.1)
    elif name == "cosine":
        base = CosineLR(rest)
    else:
        raise MemogradValueError(f"unknown schedule {name!r}; choose none, step or cosine")
    return Warmup(warmup_steps, base) if warmup_steps else base
