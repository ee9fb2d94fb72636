"""The :class:`Optimizer` base: parameters, the update counter, flat state arrays, and the step.

Each step reads every parameter's gradient ``g = ∂L/∂p`` (the adjoint backward left in
``p.grad``) and changes ``p.data`` in place with NumPy (never through Tensor ops, so no graph is
recorded). The update formulas live in the subclasses (:mod:`.sgd`, :mod:`.adam`,
:mod:`.rmsprop`); this module decides how they run:

* flat: when the parameters tile one buffer (``Module.flatten_parameters``) and so do their
  gradients (``compile_step`` with ``optimizer=`` lays them out so), the update runs once on the
  flat vectors: no copy at all;
* per parameter: otherwise, in place on each parameter with its own views of the state (plain
  SGD: two ufunc calls per parameter, as a hand-written ``p -= lr * g`` into a scratch array);
* with numba (the ``fast`` extra, :mod:`memograd.tensor.fused`) each of those is one pass over
  memory instead of two to thirteen; the bits are the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from time import perf_counter as _clock
from typing import Any, ClassVar

import numpy as np

from memograd.errors import MemogradValueError
from memograd.optim.clipping import _data, clip_grad_norm
from memograd.optim.schedules import Constant, Schedule, schedule_from_dict
from memograd.tensor import fused
from memograd.tensor.locks import _LOCKS, writable
from memograd.tensor.tensor import Tensor

__all__ = ["Optimizer"]

State = dict[str, np.ndarray]

_mul, _add = np.multiply, np.add


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


_KERNELS: list[Any] = []  # the numba kernels module, imported on first use (it imports numba)


def _kernels() -> Any:
    if not _KERNELS:
        _KERNELS.append(fused.kernels())
    return _KERNELS[0]


class Optimizer:
    """Base class: the parameters, the update counter ``t`` and the state arrays ("slots").

    Subclasses define ``SLOTS`` (names of their state arrays, e.g. ``("m", "v")``) and
    ``_update(p, g, lr, k, st)``: one update of the values ``p`` (in place) from the gradient
    ``g`` at the parameter's k-th step, with ``st[slot]`` arrays shaped like ``p`` and two scratch
    arrays ``st["s0"]``, ``st["s1"]``. Updates are written as ufunc calls into those buffers
    (``out=``), so a step allocates nothing and never touches ``p.grad``. Each slot is ONE flat
    array for all parameters (per-parameter views of it are made once)."""

    SLOTS: ClassVar[tuple[str, ...]] = ()
    KERNEL: ClassVar[str] = ""  # the name of the numba kernel in memograd.tensor._kernels
    KERNEL_SLOTS: ClassVar[tuple[str, ...]] = ()  # the state arrays it takes, in order

    def __init__(
        self,
        parameters: Iterable[Any],
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
        if not (lr > 0 and np.isfinite(lr)):
            raise MemogradValueError(f"{type(self).__name__}: lr must be > 0, got {lr}")
        if weight_decay < 0:
            raise MemogradValueError(
                f"{type(self).__name__}: weight_decay must be >= 0, got {weight_decay}"
            )
        if clip_norm is not None and not clip_norm > 0:
            raise MemogradValueError(f"{type(self).__name__}: clip_norm must be > 0")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.schedule: Schedule = schedule if schedule is not None else Constant()
        self.clip_norm = clip_norm
        self.t = 0
        dtypes = {a.dtype for a in arrays}
        self._dtype: np.dtype[Any] = dtypes.pop() if len(dtypes) == 1 else np.dtype(np.float64)
        self._fusable = all(a.dtype == self._dtype for a in arrays)
        sizes = [a.size for a in arrays]
        starts = np.cumsum([0, *sizes]).tolist()
        self._bounds: list[tuple[int, int]] = list(zip(starts[:-1], starts[1:]))
        total = int(sum(sizes))
        self._steps = np.zeros(len(arrays), dtype=np.int64)  # see the steps property
        self._lag = 0  # updates of every parameter not yet added into _steps (_step_common)
        self._uniform = True  # every parameter has had the same number of updates
        self.state: State = {s: np.zeros(total, self._dtype) for s in self.SLOTS}
        self._total = total
        self._scratch_arrays: tuple[np.ndarray, np.ndarray] | None = None
        self._flat = _flat_base(arrays, total) if self._fusable else None
        self._flat_arrays: list[np.ndarray] | None = None
        self._shapes = [a.shape for a in arrays]
        self._views_made: list[State] | None = None
        self._states_made: list[tuple[np.ndarray, ...]] | None = None
        self._state_tuples: list[tuple[np.ndarray, ...]] | None = None
        self._no_many = False
        self._views1d = [{k: v[lo:hi] for k, v in self.state.items()} for lo, hi in self._bounds]
        self.backend = "auto"  # "numpy", "numba" (the fast extra) or "auto" (memograd.tensor.fused)
        self._seconds = 0.0  # time spent in step() so far (auto switches to numba after a while)
        self._seen_grads: list[np.ndarray] | None = None
        self._gflat: np.ndarray | None = None
        # the eager fast path (_step_common): every parameter's array, its 1-D view and shape,
        # made once and reused while each parameter keeps its array; and the last scalars
        self._common: (
            tuple[list[np.ndarray], tuple[np.ndarray, ...], list[Any], list[list[int]]] | None
        ) = None
        self._last_scalars: tuple[Any, Any, tuple[Any, ...]] | None = None

    @property
    def _scratch(self) -> tuple[np.ndarray, np.ndarray]:
        """Two flat scratch vectors for the NumPy updates (the numba kernels need none)."""
        if self._scratch_arrays is None:
            self._scratch_arrays = (
                np.empty(self._total, self._dtype),
                np.empty(self._total, self._dtype),
            )
        return self._scratch_arrays

    @property
    def _flat_st(self) -> State:
        return {**self.state, "s0": self._scratch[0], "s1": self._scratch[1]}

    @property
    def _views(self) -> list[State]:
        """Per parameter: views of the flat slots and scratch arrays of its own dtype."""
        if self._views_made is None:
            made = []
            for p, shape, (lo, hi) in zip(self.params, self._shapes, self._bounds):
                dtype = _data(p).dtype
                views = {k: v[lo:hi].reshape(shape) for k, v in self.state.items()}
                for name, s in zip(("s0", "s1"), self._scratch):
                    views[name] = (
                        s[lo:hi].reshape(shape) if dtype == s.dtype else np.empty(shape, dtype)
                    )
                made.append(views)
            self._views_made = made
        return self._views_made

    # -- the public API
    @property
    def steps(self) -> np.ndarray:
        """How many updates each parameter has had (int64, one per parameter)."""
        if self._lag:  # the fast path counts in a Python int (a NumPy += costs 0.5 us)
            self._steps += self._lag
            self._lag = 0
        return self._steps

    @steps.setter
    def steps(self, value: np.ndarray) -> None:
        self._steps, self._lag = value, 0

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
        if _LOCKS:  # arrays saved for backward are read-only: open them for the update
            with writable(*[getattr(p, "data", p) for p in self.params]):
                self._step()
        else:
            self._step()
        self._seconds += _clock() - start

    def _gather(self) -> tuple[list[np.ndarray], list[np.ndarray | None], bool]:
        """Every parameter's array and gradient array (None: no gradient), shapes checked."""
        arrays: list[np.ndarray] = []
        grads: list[np.ndarray | None] = []
        complete = True
        for p in self.params:
            a = p if type(p) is np.ndarray else p.data
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
        return arrays, grads, complete

    def _step(self) -> None:
        if self._step_common():
            return
        if self.clip_norm is not None:
            clip_grad_norm(self.params, self.clip_norm)
        arrays, grads, complete = self._gather()
        self.t += 1
        lr = self.lr * self.schedule(self.t)
        steps = self.steps
        fast = self._kernels_on()
        if complete and self._uniform and self._fusable:
            k = int(steps[0]) + 1
            gflat = self._flat_grads(grads)
            if gflat is not None and self._flat is not None and self._still_flat(arrays):
                # parameters and gradients both tile one buffer: one update, no copy
                self._apply(fast, self._flat, gflat, lr, k, self._flat_st)
                steps += 1
                self._bump()
                return
            self._each(fast, arrays, grads, lr, [k] * len(arrays))
            steps += 1
        else:
            ks = []
            for i, g in enumerate(grads):
                if g is not None:
                    steps[i] += 1
                ks.append(int(steps[i]))
            self._each(fast, arrays, grads, lr, ks)
            self._uniform = bool(steps.min() == steps.max())
        self._bump(grads)

    def _step_common(self) -> bool:
        """The eager engine's usual step, with the least Python per parameter: every Tensor
        parameter has a gradient of its shape and the state's dtype, all at the same step count,
        no clipping, not one flat buffer, numba on. One loop reads each ``.grad``
        (:meth:`_common_grads`), one numba call updates all; the kernel's scalars are reused
        while ``lr`` and the step count's effect do not change. Returns False (having changed
        nothing) when the general path must run; the bits are the general path's (the same
        kernel on the same arrays)."""
        found = self._common_grads()
        if found is None:
            return False
        flat_a, grads, vcs = found
        t = self.t + 1
        if not self._common_update(flat_a, grads, self.lr * self.schedule(t)):
            return False
        self.t = t
        self._lag += 1
        for vc in vcs:  # (a leaf's version counter is made with it and never replaced)
            vc[0] += 1
        return True

    def _common_update(
        self, flat_a: tuple[np.ndarray, ...], grads: list[np.ndarray], lr: float
    ) -> bool:
        """:meth:`_step_common`'s update at rate ``lr``: the kernel's scalars (reused while lr
        and what of the step count they use do not change), then one call; False: nothing
        written, the general path runs."""
        k = int(self._steps[0]) + self._lag + 1  # (every parameter has had k - 1 updates)
        key = self._scalars_key(k)
        last = self._last_scalars
        if last is not None and last[0] == lr and last[1] == key:
            scalars = last[2]
        else:
            scalars = self._scalars(lr, k, self._dtype.type)
            self._last_scalars = (lr, key, scalars)
        return self._call_common(flat_a, grads, scalars)

    def _common_grads(
        self,
    ) -> tuple[tuple[np.ndarray, ...], list[np.ndarray], list[list[int]]] | None:
        """For :meth:`_step_common`: the parameters' 1-D views (made once, while each keeps its
        array), every gradient array in its own shape, and the version counters; None when the
        general path must run (clipping, parameters at different step counts, a missing or
        odd gradient, numba off)."""
        if (
            self.clip_norm is not None
            or not self._uniform
            or self._no_many
            or not self._kernels_on()
        ):
            return None
        common = self._common
        params = self.params
        if common is None:
            if not self._fusable or self._flat is not None:  # (both fixed at construction)
                return None
            if any(type(p) is not Tensor for p in params):
                return None
            arrays = [p.data for p in params]
            if not all(a.flags.c_contiguous for a in arrays):
                return None
            flat = tuple(a.reshape(-1) for a in arrays)
            common = self._common = (arrays, flat, self._shapes, [p._vc for p in params])
        arrays, flat_a, shapes, vcs = common
        want = self._dtype
        grads: list[np.ndarray] = []
        add = grads.append
        for p, a, shape in zip(params, arrays, shapes):
            g = p.grad
            if g is None or p.data is not a:
                self._common = None if g is not None else common
                return None
            if type(g) is not np.ndarray:
                g = g.data
            if g.shape != shape or (g.dtype is not want and g.dtype != want):
                return None  # the general path raises the shape error
            add(g)
        return flat_a, grads, vcs

    def _call_common(
        self, flat_a: tuple[np.ndarray, ...], grads: list[np.ndarray], scalars: tuple[Any, ...]
    ) -> bool:
        """``_call_many`` for :meth:`_step_common`: the gradients come in their own shapes (a
        kernel that reshapes them itself saves a Python call per parameter)."""
        # (a copy when g is not contiguous: it is only read)
        return self._call_many(flat_a, tuple(g.reshape(-1) for g in grads), scalars)

    def _scalars_key(self, k: int) -> Any:
        """What of the step count ``k`` the kernel's scalars depend on (all of it by default)."""
        return k

    def _each(
        self,
        fast: bool,
        arrays: list[np.ndarray],
        grads: list[np.ndarray | None],
        lr: float,
        ks: list[int],
    ) -> None:
        """Update each parameter that has a gradient, in place (per-parameter state views)."""
        if fast:
            if self._each_at_once(arrays, grads, lr, ks):
                return
            kernel = getattr(_kernels(), self.KERNEL)
            states = self._kernel_states()
            dt, want = self._dtype.type, self._dtype
            scalars: dict[int, tuple[Any, ...]] = {}
            for i, g in enumerate(grads):
                if g is None:
                    continue
                a, k = arrays[i], ks[i]
                if (
                    a.dtype != want
                    or g.dtype != want
                    or not (a.flags.c_contiguous and g.flags.c_contiguous)
                ):
                    self._update(a, g, lr, k, self._views[i])
                    continue
                s = scalars.get(k)
                if s is None:
                    s = scalars[k] = self._scalars(lr, k, dt)
                kernel(a.reshape(-1), g.reshape(-1), *states[i], *s)
            return
        update, views = self._update, self._views
        for i, g in enumerate(grads):
            if g is not None:
                update(arrays[i], g, lr, ks[i], views[i])

    def _each_at_once(
        self,
        arrays: list[np.ndarray],
        grads: list[np.ndarray | None],
        lr: float,
        ks: list[int],
    ) -> bool:
        """Every parameter in ONE numba call (``<kernel>_many`` on tuples of 1-D arrays), when
        all have a gradient of the state's dtype and contiguous values, at the same step count;
        False when numba cannot type the tuples (a read-only or unaligned array): per parameter
        then."""
        if self._no_many:
            return False
        want = self._dtype
        flat_a, flat_g = [], []
        for a, g in zip(arrays, grads):
            if g is None or g.dtype != want or not a.flags.c_contiguous:
                return False
            flat_a.append(a.reshape(-1))
            flat_g.append(g.reshape(-1))  # (a copy when g is not contiguous: it is only read)
        k = ks[0]
        if any(x != k for x in ks):
            return False
        return self._call_many(tuple(flat_a), tuple(flat_g), self._scalars(lr, k, want.type))

    def _call_many(
        self,
        flat_a: tuple[np.ndarray, ...],
        flat_g: tuple[np.ndarray, ...],
        scalars: tuple[Any, ...],
    ) -> bool:
        """``<kernel>_many``: every parameter's 1-D values, gradient and state in ONE numba call.
        False (nothing written; never tried again) when numba cannot type the tuples: the
        arrays' types differ within a tuple (e.g. a read-only or unaligned one)."""
        if self._state_tuples is None:
            states = self._kernel_states()
            self._state_tuples = [
                tuple(st[j] for st in states) for j in range(len(self.KERNEL_SLOTS))
            ]
        many = getattr(_kernels(), self.KERNEL + "_many")
        try:
            many(flat_a, flat_g, *self._state_tuples, *scalars)
        except Exception:  # numba's TypingError (raised before anything is written)
            self._no_many = True
            return False
        return True

    def _kernel_states(self) -> list[tuple[np.ndarray, ...]]:
        """Per parameter: the 1-D views of the state arrays its kernel takes, in order."""
        if self._states_made is None:
            slots = self.KERNEL_SLOTS
            self._states_made = [tuple(v[n] for n in slots) for v in self._views1d]
        return self._states_made

    def _bump(self, grads: list[np.ndarray | None] | None = None) -> None:
        """Tell the Tensor engine the updated values moved (its version counters)."""
        for i, p in enumerate(self.params):
            if grads is None or grads[i] is not None:
                vc = getattr(p, "_vc", None)
                if vc is not None:
                    vc[0] += 1

    def _still_flat(self, arrays: list[np.ndarray]) -> bool:
        """Are the parameters still the views of ``self._flat`` seen last time (cheap check)?"""
        seen = self._flat_arrays
        if seen is not None and all(a is b for a, b in zip(arrays, seen)):
            return True
        if _flat_base(arrays, self._total) is self._flat:
            self._flat_arrays = list(arrays)
            return True
        self._flat_arrays = None
        return False

    def _flat_grads(self, grads: list[np.ndarray | None]) -> np.ndarray | None:
        """The flat buffer the gradients tile in parameter order (as ``compile_step`` with
        ``optimizer=`` leaves them), or None; the answer for the same arrays is remembered."""
        seen = self._seen_grads
        if (
            seen is not None
            and len(seen) == len(grads)
            and all(a is b for a, b in zip(grads, seen))
        ):
            return self._gflat
        full = [g for g in grads if g is not None]
        self._seen_grads = full
        self._gflat = _flat_base(full, self._total) if len(full) == len(grads) else None
        return self._gflat

    def _kernels_on(self) -> bool:
        """Use the numba kernels (``memograd.tensor.fused``) for this step?"""
        backend = self.backend
        if backend == "numpy" or not self._fusable:
            return False
        if backend == "numba":
            return fused.available()
        return fused.use(self._seconds)

    def _apply(
        self, fast: bool, p: np.ndarray, g: np.ndarray, lr: float, k: int, st: State
    ) -> None:
        """One update of flat vectors: the numba kernel or the NumPy calls (same bits)."""
        if fast:
            self._kernel(p, g, lr, k, st)
        else:
            self._update(p, g, lr, k, st)

    def _update(self, p: np.ndarray, g: np.ndarray, lr: float, k: int, st: State) -> None:
        raise NotImplementedError  # pragma: no cover

    def _kernel(self, p: np.ndarray, g: np.ndarray, lr: float, k: int, st: State) -> None:
        """``_update`` on 1-D contiguous arrays of the state's dtype, as one numba pass."""
        fn = getattr(_kernels(), self.KERNEL)
        fn(p, g, *[st[s] for s in self.KERNEL_SLOTS], *self._scalars(lr, k, p.dtype.type))

    def _scalars(self, lr: float, k: int, dt: Any) -> tuple[Any, ...]:
        """The kernel's scalar arguments for update number k at rate lr, in the dtype dt."""
        raise NotImplementedError  # pragma: no cover

    # -- the fused step (compile_step with optimizer=) runs the update inside its own kernel
    def _fused_scalars(self, dt: Any) -> tuple[Any, ...] | None:
        """The kernel's scalars for the next update of every parameter, or None when the update
        cannot be fused (clipping needs every gradient first; parameters at different steps)."""
        if self.clip_norm is not None or not self._uniform:
            return None
        t = self.t + 1
        return self._scalars(self.lr * self.schedule(t), int(self.steps[0]) + 1, dt)

    def _fold_scalars(self, scalars: tuple[Any, ...]) -> tuple[float, float] | None:
        """(α, β) when the update is p ← β·p + α·g, so that compile_step may fold it into the
        matrix product that makes g (BLAS's C ← αAB + βC); None when it is not (the default)."""
        return None

    def _fused_done(self) -> None:
        """Count the update the fused step made (and tell the Tensor engine the values moved)."""
        self.t += 1
        self.steps += 1
        self._bump()

    def _l2(self, p: np.ndarray, g: np.ndarray, st: State) -> np.ndarray:
        """g + λp into scratch s0 (the gradient itself is never changed)."""
        if not self.weight_decay:
            return g
        s0 = st["s0"]
        _mul(p, self.weight_decay, s0)
        _add(g, s0, s0)
        return s0

    def hyperparameters(self) -> dict[str, Any]:
        return {"lr": self.lr, "weight_decay": self.weight_decay, "clip_norm": self.clip_norm}

    # -- checkpointing
    def state_dict(self) -> dict[str, Any]:
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

    def load_state_dict(self, state: dict[str, Any]) -> None:
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
        self._uniform = bool(steps.min() == steps.max())
        if "schedule" in state:
            self.schedule = schedule_from_dict(state["schedule"])

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v}" for k, v in self.hyperparameters().items() if v is not None)
        return f"{type(self).__name__}({len(self.params)} parameters, {hp}, t={self.t})"
