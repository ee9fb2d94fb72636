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

These are PyTorch's conventions (same defaults), so hyper-parameters carry over.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from memograd.errors import MemogradTypeError, MemogradValueError, NonFiniteError

# ----------------------------------------------------------------------------- parameter access


def _data(p) -> np.ndarray:
    """The array a parameter's values live in (updated in place)."""
    data = getattr(p, "data", p)
    if not isinstance(data, np.ndarray):
        raise MemogradTypeError(
            f"optimizer: a parameter must be a Tensor or numpy array, got {type(p).__name__}"
        )
    return data


def _grad(p) -> np.ndarray | None:
    g = getattr(p, "grad", None)
    if g is None or isinstance(g, np.ndarray):
        return g
    return _data(g)


# ----------------------------------------------------------------------------- schedules


class Schedule:
    """A learning-rate factor as a function of the update number t = 1, 2, ... (lr_t = lr·f(t))."""

    def __call__(self, t: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_dict(self) -> dict:
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
        return self.gamma ** ((max(t, 1) - 1) // self.step_size)


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

    def to_dict(self) -> dict:
        return {"type": "Warmup", "warmup_steps": self.warmup_steps, "after": self.after.to_dict()}


_SCHEDULES = {"Constant": Constant, "StepLR": StepLR, "CosineLR": CosineLR, "Warmup": Warmup}


def schedule_from_dict(d: dict | None) -> Schedule:
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


# ----------------------------------------------------------------------------- clipping


def global_norm(parameters: Iterable) -> float:
    """‖g‖ = sqrt(Σ over parameters of Σ g²), the norm of all gradients as one vector."""
    total = 0.0
    for p in parameters:
        g = _grad(p)
        if g is not None:
            flat = g.ravel()
            total += float(np.dot(flat, flat))
    return math.sqrt(total)


def clip_grad_norm(parameters: Iterable, max_norm: float) -> float:
    """Scale every gradient in place by min(1, max_norm / ‖g‖); returns ‖g‖ before clipping."""
    if not max_norm > 0:
        raise MemogradValueError(f"clip_grad_norm: max_norm must be > 0, got {max_norm}")
    params = list(parameters)
    norm = global_norm(params)
    if not math.isfinite(norm):
        raise NonFiniteError(
            f"clip_grad_norm: the gradient norm is {norm}; lower the learning rate, check the data"
        )
    if norm > max_norm:
        scale = max_norm / (norm + 1e-12)
        for p in params:
            g = _grad(p)
            if g is not None:
                g *= scale
    return norm


# ----------------------------------------------------------------------------- optimizers


def _flat_base(arrays: list[np.ndarray], total: int) -> np.ndarray | None:
    """The 1-D buffer that ``arrays`` tile back to back, in order, or None."""
    base = arrays[0].base
    if not isinstance(base, np.ndarray) or base.ndim != 1 or base.size != total:
        return None
    if not base.flags.c_contiguous:
        return None
    address = base.__array_interface__["data"][0]
    step = base.itemsize
    for a in arrays:
        if a.base is not base or not a.flags.c_contiguous:
            return None
        if a.__array_interface__["data"][0] != address:
            return None
        address += a.size * step
    return base


class Optimizer:
    """Base class: the parameters, the update counter ``t`` and the state arrays ("slots").

    Subclasses define ``SLOTS`` (names of their state arrays, e.g. ``("m", "v")``) and
    ``_update(p, g, lr, k, state)``: one update of the values ``p`` (in place) from the gradient
    ``g`` at the parameter's k-th step, with ``state[slot]`` arrays shaped like ``p``.

    Fused path: each slot is ONE flat array for all parameters, so when every parameter has a
    gradient the update runs once on the concatenated vectors (a dozen NumPy calls in all instead
    of a dozen per parameter) and the new values are copied back into each parameter; otherwise
    the same ``_update`` runs per parameter on views of the flat slots. Both give the same bits."""

    SLOTS: tuple[str, ...] = ()

    def __init__(
        self,
        parameters: Iterable,
        lr: float,
        *,
        weight_decay: float = 0.0,
        schedule: Schedule | None = None,
        clip_norm: float | None = None,
    ):
        self.params = list(parameters)
        if not self.params:
            raise MemogradValueError(f"{type(self).__name__}: got an empty parameter list")
        arrays = [_data(p) for p in self.params]
        if not (lr > 0 and math.isfinite(lr)):
            raise MemogradValueError(f"{type(self).__name__}: lr must be > 0, got {lr}")
        if weight_decay < 0:
            raise MemogradValueError(
                f"{type(self).__name__}: weight_decay must be >= 0, got {weight_decay}"
            )
        if clip_norm is not None and not clip_norm > 0:
            raise MemogradValueError(f"{type(self).__name__}: clip_norm must be > 0")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.schedule = schedule if schedule is not None else Constant()
        self.clip_norm = clip_norm
        self.t = 0
        dtypes = {a.dtype for a in arrays}
        self._dtype = dtypes.pop() if len(dtypes) == 1 else np.dtype(np.float64)
        self._fusable = all(a.dtype == self._dtype for a in arrays)
        sizes = [a.size for a in arrays]
        self._bounds = list(zip(np.cumsum([0, *sizes[:-1]]).tolist(), np.cumsum(sizes).tolist()))
        total = int(sum(sizes))
        self.steps = np.zeros(len(arrays), dtype=np.int64)  # updates each parameter has had
        self.state: dict[str, np.ndarray] = {s: np.zeros(total, self._dtype) for s in self.SLOTS}
        self._gbuf = np.empty(total, self._dtype)
        # parameters laid out back to back in one buffer (Module.flatten_parameters) are updated
        # through that buffer directly; otherwise they are gathered and copied back
        self._flat = _flat_base(arrays, total) if self._fusable else None
        self._pbuf = self._flat if self._flat is not None else np.empty(total, self._dtype)

    # -- the public API
    @property
    def current_lr(self) -> float:
        """The rate the next update will use: lr · schedule(t + 1)."""
        return self.lr * self.schedule(self.t + 1)

    def zero_grad(self) -> None:
        """Forget the gradients (set ``p.grad = None``) before the next backward."""
        for p in self.params:
            if getattr(p, "grad", None) is not None:
                p.grad = None

    def step(self) -> None:
        """One update of every parameter that has a gradient, in place."""
        if self.clip_norm is not None:
            clip_grad_norm(self.params, self.clip_norm)
        arrays, grads, complete = [], [], True
        for p in self.params:
            a = p.data if type(p) is not np.ndarray else p
            g = getattr(p, "grad", None)
            if g is None:
                complete = False
            else:
                if type(g) is not np.ndarray:
                    g = _data(g)
                if g.shape != a.shape:
                    raise MemogradValueError(
                        f"{type(self).__name__}: parameter {len(arrays)} has shape {a.shape} "
                        f"but its gradient has shape {g.shape}"
                    )
            arrays.append(a)
            grads.append(g)
        self.t += 1
        lr = self.lr * self.schedule(self.t)
        steps = self.steps
        if self._fusable and complete and (len(steps) == 1 or steps.min() == steps.max()):
            np.concatenate([g.reshape(-1) for g in grads], out=self._gbuf)
            flat = self._flat is not None and self._still_flat(arrays)
            if not flat:
                np.concatenate([a.reshape(-1) for a in arrays], out=self._pbuf)
            self._update(self._pbuf, self._gbuf, lr, int(steps[0]) + 1, self.state)
            if not flat:
                for a, (lo, hi) in zip(arrays, self._bounds):
                    np.copyto(a, self._pbuf[lo:hi].reshape(a.shape))
            steps += 1
        else:
            for i, (a, g) in enumerate(zip(arrays, grads)):
                if g is None:
                    continue
                lo, hi = self._bounds[i]
                views = {k: v[lo:hi].reshape(a.shape) for k, v in self.state.items()}
                steps[i] += 1
                self._update(a, g, lr, int(steps[i]), views)
        for p, g in zip(self.params, grads):
            if g is not None:
                vc = getattr(p, "_vc", None)  # the Tensor engine's version counter: in-place edit
                if vc is not None:
                    vc[0] += 1

    def _still_flat(self, arrays: list[np.ndarray]) -> bool:
        """Are the parameters still the views of ``self._flat`` seen last time (cheap check)?"""
        seen = getattr(self, "_flat_arrays", None)
        if seen is not None and all(a is b for a, b in zip(arrays, seen)):
            return True
        if _flat_base(arrays, len(self._gbuf)) is self._flat:
            self._flat_arrays = list(arrays)
            return True
        self._flat_arrays = None
        return False

    def _update(self, p: np.ndarray, g: np.ndarray, lr: float, k: int, state: dict) -> None:
        raise NotImplementedError  # pragma: no cover

    def hyperparameters(self) -> dict:
        return {"lr": self.lr, "weight_decay": self.weight_decay, "clip_norm": self.clip_norm}

    # -- checkpointing
    def state_dict(self) -> dict:
        """JSON-ready description plus the state arrays: ``{"type", "hyperparameters", "t",
        "steps", "schedule", "slots": {name: [one array per parameter]}}``."""
        slots = {
            k: [
                v[lo:hi].reshape(_data(p).shape).copy()
                for p, (lo, hi) in zip(self.params, self._bounds)
            ]
            for k, v in self.state.items()
        }
        return {
            "type": type(self).__name__,
            "hyperparameters": self.hyperparameters(),
            "t": self.t,
            "steps": self.steps.tolist(),
            "schedule": self.schedule.to_dict(),
            "slots": slots,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore ``state_dict()`` output; checks the type, the slot names and every shape."""
        name = type(self).__name__
        if state.get("type") != name:
            raise MemogradValueError(f"{name}.load_state_dict: state is for {state.get('type')!r}")
        slots = state.get("slots", {})
        if set(slots) != set(self.SLOTS):
            raise MemogradValueError(
                f"{name}.load_state_dict: slots {sorted(slots)}, expected {sorted(self.SLOTS)}"
            )
        new = {k: np.zeros_like(v) for k, v in self.state.items()}
        for slot, arrays in slots.items():
            if len(arrays) != len(self.params):
                raise MemogradValueError(
                    f"{name}.load_state_dict: slot {slot!r} has {len(arrays)} arrays for "
                    f"{len(self.params)} parameters"
                )
            for i, (a, p) in enumerate(zip(arrays, self.params)):
                if np.shape(a) != _data(p).shape:
                    raise MemogradValueError(
                        f"{name}.load_state_dict: slot {slot!r}[{i}] has shape {np.shape(a)}, "
                        f"parameter {i} has {_data(p).shape}"
                    )
                lo, hi = self._bounds[i]
                new[slot][lo:hi] = np.asarray(a).reshape(-1)
        t = int(state.get("t", 0))
        steps = np.asarray(state.get("steps", [t] * len(self.params)), dtype=np.int64)
        if t < 0 or steps.shape != self.steps.shape or (steps < 0).any():
            raise MemogradValueError(
                f"{name}.load_state_dict: t and steps must be >= 0, one step count per parameter"
            )
        self.state, self.t, self.steps = new, t, steps
        if "schedule" in state:
            self.schedule = schedule_from_dict(state["schedule"])

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v}" for k, v in self.hyperparameters().items() if v is not None)
        return f"{type(self).__name__}({len(self.params)} parameters, {hp}, t={self.t})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum μ, dampening τ, Nesterov and L2 λ."""

    SLOTS = ("momentum_buffer",)

    def __init__(
        self,
        parameters,
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

    def hyperparameters(self) -> dict:
        return {
            **super().hyperparameters(),
            "momentum": self.momentum,
            "dampening": self.dampening,
            "nesterov": self.nesterov,
        }

    def _update(self, p, g, lr, k, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            b = state["momentum_buffer"]
            if k == 1:
                b[...] = g
            else:
                b *= self.momentum
                b += (1.0 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        p -= lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction; ``weight_decay`` adds λp to the gradient."""

    SLOTS = ("m", "v")

    def __init__(
        self,
        parameters,
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

    def hyperparameters(self) -> dict:
        return {**super().hyperparameters(), "betas": list(self.betas), "eps": self.eps}

    def _decay(self, p, g, lr):
        return g + self.weight_decay * p if self.weight_decay else g

    def _update(self, p, g, lr, k, state):
        b1, b2 = self.betas
        g = self._decay(p, g, lr)
        m, v = state["m"], state["v"]
        m *= b1
        m += (1.0 - b1) * g
        v *= b2
        v += (1.0 - b2) * (g * g)
        correction1 = 1.0 - b1**k
        root_correction2 = math.sqrt(1.0 - b2**k)
        denom = np.sqrt(v)
        denom /= root_correction2
        denom += self.eps
        p -= (lr / correction1) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): p ← p(1 - lr·λ) first."""

    def __init__(self, parameters, lr: float = 1e-3, betas=(0.9, 0.999), eps=1e-8, **kwargs):
        kwargs.setdefault("weight_decay", 0.01)
        super().__init__(parameters, lr, betas, eps, **kwargs)

    def _decay(self, p, g, lr):
        if self.weight_decay:
            p *= 1.0 - lr * self.weight_decay
        return g


class RMSprop(Optimizer):
    """RMSprop (Hinton): divide the gradient by a running root-mean-square of recent gradients."""

    SLOTS = ("square_avg", "momentum_buffer")

    def __init__(
        self,
        parameters,
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

    def hyperparameters(self) -> dict:
        return {
            **super().hyperparameters(),
            "alpha": self.alpha,
            "eps": self.eps,
            "momentum": self.momentum,
        }

    def _update(self, p, g, lr, k, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        v = state["square_avg"]
        v *= self.alpha
        v += (1.0 - self.alpha) * (g * g)
        d = g / (np.sqrt(v) + self.eps)
        if self.momentum:
            b = state["momentum_buffer"]
            b *= self.momentum
            b += d
            d = b
        p -= lr * d


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}


def make_optimizer(name: str, parameters, lr: float, **kwargs) -> Optimizer:
    """An optimizer by name (sgd, adam, adamw, rmsprop)."""
    key = name.lower()
    if key not in OPTIMIZERS:
        raise MemogradValueError(
            f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}"
        )
    return OPTIMIZERS[key](parameters, lr=lr, **kwargs)
