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
from time import perf_counter as _clock

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


_mul, _add, _sub, _div, _sqrt, _copyto = (
    np.multiply,
    np.add,
    np.subtract,
    np.true_divide,
    np.sqrt,
    np.copyto,
)


def _fused_kernels():
    from memograd.tensor import fused

    return fused.kernels()


# below this many values in all, gathering the gradients into one flat vector (one copy) and
# updating it with a dozen calls beats a dozen calls per parameter
_GATHER_BELOW = 1 << 15


class Optimizer:
    """Base class: the parameters, the update counter ``t`` and the state arrays ("slots").

    Subclasses define ``SLOTS`` (names of their state arrays, e.g. ``("m", "v")``) and
    ``_update(p, g, lr, k, st)``: one update of the values ``p`` (in place) from the gradient
    ``g`` at the parameter's k-th step, with ``st[slot]`` arrays shaped like ``p`` and two scratch
    arrays ``st["s0"]``, ``st["s1"]``. Updates are written as ufunc calls into those buffers
    (``out=``), so a step allocates nothing and never touches ``p.grad``.

    Each slot is ONE flat array for all parameters (per-parameter views of it are made once).
    Three ways to run a step, all giving the same bits:

    * flat: when the parameters tile one buffer (``Module.flatten_parameters``) and so do their
      gradients (``compile_step`` with ``optimizer=`` lays them out so), ``_update`` runs once on
      the flat vectors: no copy at all;
    * gathered: small models (fewer than 32768 values) concatenate the gradients (and parameters,
      when not flat) and update once: a dozen calls instead of a dozen per parameter;
    * per parameter: otherwise, in place on each parameter (SGD: two calls per parameter)."""

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
        self._total = total
        small = total < _GATHER_BELOW  # only small models gather into flat copies
        self._gbuf = np.empty(total, self._dtype) if small else None
        self._scratch_arrays: tuple | None = None  # made on the first NumPy update
        # parameters laid out back to back in one buffer (Module.flatten_parameters) are updated
        # through that buffer directly; otherwise they are gathered and copied back
        self._flat = _flat_base(arrays, total) if self._fusable else None
        if self._flat is not None:
            self._pbuf = self._flat
        else:
            self._pbuf = np.empty(total, self._dtype) if small else None
        self._shapes = [a.shape for a in arrays]
        self._views_made: list | None = None
        self._views1d = [{k: v[lo:hi] for k, v in self.state.items()} for lo, hi in self._bounds]
        self.backend = "auto"  # "numpy", "numba" (the fast extra) or "auto" (memograd.tensor.fused)
        self._seconds = 0.0  # time spent in step() so far (auto switches to numba after a while)
        self._seen_grads: list | None = None
        self._gflat: np.ndarray | None = None

    @property
    def _scratch(self) -> tuple:
        """Two flat scratch vectors for the NumPy updates (the numba kernels need none)."""
        if self._scratch_arrays is None:
            self._scratch_arrays = tuple(np.empty(self._total, self._dtype) for _ in range(2))
        return self._scratch_arrays

    @property
    def _flat_st(self) -> dict:
        return {**self.state, "s0": self._scratch[0], "s1": self._scratch[1]}

    @property
    def _views(self) -> list:
        """Per parameter: views of the flat slots and scratch arrays of its own dtype."""
        if self._views_made is None:
            self._views_made = []
            for p, shape, (lo, hi) in zip(self.params, self._shapes, self._bounds):
                dtype = _data(p).dtype
                views = {k: v[lo:hi].reshape(shape) for k, v in self.state.items()}
                for name, s in zip(("s0", "s1"), self._scratch):
                    views[name] = (
                        s[lo:hi].reshape(shape) if dtype == s.dtype else np.empty(shape, dtype)
                    )
                self._views_made.append(views)
        return self._views_made

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
        start = _clock()
        self._step()
        self._seconds += _clock() - start

    def _step(self) -> None:
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
        same = complete and self._fusable and (len(steps) == 1 or steps.min() == steps.max())
        flat = same and self._flat is not None and self._still_flat(arrays)
        gflat = self._flat_grads(grads) if same else None
        fast = self._kernels_on()
        if flat and gflat is not None:  # parameters and gradients both tile one buffer: no copy
            self._apply(fast, self._flat, gflat, lr, int(steps[0]) + 1, self._flat_st)
            steps += 1
        elif same and self._gbuf is not None and not (fast and gflat is None):
            if gflat is None:
                gflat = self._gbuf
                np.concatenate([g.reshape(-1) for g in grads], out=gflat)
            if not flat:
                np.concatenate([a.reshape(-1) for a in arrays], out=self._pbuf)
            self._apply(fast, self._pbuf, gflat, lr, int(steps[0]) + 1, self._flat_st)
            if not flat:
                for a, (lo, hi) in zip(arrays, self._bounds):
                    _copyto(a, self._pbuf[lo:hi].reshape(a.shape))
            steps += 1
        else:
            views, update = self._views, self._update
            for i, g in enumerate(grads):
                if g is not None:
                    steps[i] += 1
                    a = arrays[i]
                    if (
                        fast
                        and a.dtype == g.dtype == self._dtype
                        and a.flags.c_contiguous
                        and g.flags.c_contiguous
                    ):
                        self._kernel(
                            a.reshape(-1), g.reshape(-1), lr, int(steps[i]), self._views1d[i]
                        )
                    else:
                        update(a, g, lr, int(steps[i]), views[i])
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
        if _flat_base(arrays, self._total) is self._flat:
            self._flat_arrays = list(arrays)
            return True
        self._flat_arrays = None
        return False

    def _flat_grads(self, grads: list[np.ndarray]) -> np.ndarray | None:
        """The flat buffer the gradients tile in parameter order (as ``compile_step`` with
        ``optimizer=`` leaves them), or None; the answer for the same arrays is remembered."""
        seen = self._seen_grads
        if (
            seen is not None
            and len(seen) == len(grads)
            and all(a is b for a, b in zip(grads, seen))
        ):
            return self._gflat
        self._seen_grads, self._gflat = list(grads), _flat_base(grads, self._total)
        return self._gflat

    def _kernels_on(self) -> bool:
        """Use the numba kernels (``memograd.tensor.fused``) for this step?"""
        backend = self.backend
        if backend == "numpy" or not self._fusable:
            return False
        from memograd.tensor import fused

        if backend == "numba":
            return fused.available()
        return fused.use(self._seconds)

    def _apply(self, fast: bool, p, g, lr: float, k: int, st: dict) -> None:
        """One update of flat vectors: the numba kernel or the NumPy calls (same bits)."""
        if fast:
            self._kernel(p, g, lr, k, st)
        else:
            self._update(p, g, lr, k, st)

    def _update(self, p: np.ndarray, g: np.ndarray, lr: float, k: int, st: dict) -> None:
        raise NotImplementedError  # pragma: no cover

    def _kernel(self, p: np.ndarray, g: np.ndarray, lr: float, k: int, st: dict) -> None:
        """``_update`` on 1-D contiguous arrays of the state's dtype, as one numba pass."""
        fn = getattr(_fused_kernels(), self.KERNEL)
        fn(p, g, *[st[s] for s in self.KERNEL_SLOTS], *self._scalars(lr, k, p.dtype.type))

    KERNEL = ""  # the name of the numba kernel in memograd.tensor._kernels
    KERNEL_SLOTS: tuple[str, ...] = ()  # the state arrays it takes, in order

    def _scalars(self, lr: float, k: int, dt) -> tuple:
        """The kernel's scalar arguments for update number k at rate lr, in the dtype dt."""
        raise NotImplementedError  # pragma: no cover

    # -- the fused step (compile_step with optimizer=) runs the update inside its own kernel
    def _fused_scalars(self, dt) -> tuple | None:
        """The kernel's scalars for the next update of every parameter, or None when the update
        cannot be fused (clipping needs every gradient first; parameters at different steps)."""
        steps = self.steps
        if self.clip_norm is not None or (len(steps) > 1 and steps.min() != steps.max()):
            return None
        t = self.t + 1
        return self._scalars(self.lr * self.schedule(t), int(steps[0]) + 1, dt)

    def _fused_done(self) -> None:
        """Count the update the fused step made (and tell the Tensor engine the values moved)."""
        self.t += 1
        self.steps += 1
        for p in self.params:
            vc = getattr(p, "_vc", None)
            if vc is not None:
                vc[0] += 1

    def _l2(self, p, g, st):
        """g + λp into scratch s0 (the gradient itself is never changed)."""
        if not self.weight_decay:
            return g
        s0 = st["s0"]
        _mul(p, self.weight_decay, s0)
        _add(g, s0, s0)
        return s0

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
        for k, v in new.items():  # in place: the per-parameter views stay valid
            self.state[k][...] = v
        self.t, self.steps = t, steps
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

    def _update(self, p, g, lr, k, st):
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

    KERNEL, KERNEL_SLOTS = "sgd", ("momentum_buffer",)

    def _scalars(self, lr, k, dt):
        mu, wd, damp = self.momentum, self.weight_decay, self.dampening
        return (dt(lr), dt(wd), dt(mu), dt(1.0 - damp), bool(wd), bool(mu), bool(damp),
                bool(self.nesterov), k == 1)  # fmt: skip


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

    def _decay(self, p, g, lr, st):
        return self._l2(p, g, st)

    def _update(self, p, g, lr, k, st):
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

    KERNEL, KERNEL_SLOTS = "adam", ("m", "v")

    def _scalars(self, lr, k, dt):
        (b1, b2), wd = self.betas, self.weight_decay
        decoupled = isinstance(self, AdamW)
        return (dt(b1), dt(1.0 - b1), dt(b2), dt(1.0 - b2), dt(math.sqrt(1.0 - b2**k)),
                dt(self.eps), dt(lr / (1.0 - b1**k)), dt(1.0 - lr * wd if decoupled else wd),
                bool(wd), decoupled)  # fmt: skip


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): p ← p(1 - lr·λ) first."""

    def __init__(self, parameters, lr: float = 1e-3, betas=(0.9, 0.999), eps=1e-8, **kwargs):
        kwargs.setdefault("weight_decay", 0.01)
        super().__init__(parameters, lr, betas, eps, **kwargs)

    def _decay(self, p, g, lr, st):
        if self.weight_decay:
            _mul(p, 1.0 - lr * self.weight_decay, p)
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

    def _update(self, p, g, lr, k, st):
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

    KERNEL, KERNEL_SLOTS = "rmsprop", ("square_avg", "momentum_buffer")

    def _scalars(self, lr, k, dt):
        a, mu, wd = self.alpha, self.momentum, self.weight_decay
        return (dt(a), dt(1.0 - a), dt(self.eps), dt(lr), dt(mu), dt(wd), bool(wd), bool(mu))


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}


def make_optimizer(name: str, parameters, lr: float, **kwargs) -> Optimizer:
    """An optimizer by name (sgd, adam, adamw, rmsprop)."""
    key = name.lower()
    if key not in OPTIMIZERS:
        raise MemogradValueError(
            f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}"
        )
    return OPTIMIZERS[key](parameters, lr=lr, **kwargs)
