"""``compile_step``: record a fixed-shape training step once, replay it as straight-line NumPy.

    step = mg.tensor.compile_step(lambda x, y: mg.tensor.cross_entropy(model(x), y),
                                  model.parameters())
    for xb, yb in batches:
        loss = step(xb, yb)        # forward + backward; every p.grad holds ∂loss/∂p
        optimizer.step()

Why. The eager engine pays Python per op (a Tensor, a table lookup, a graph node), a few
microseconds each: nothing for a 2048-row batch, most of the time for one row or a 2-16-16-1 net.
For a step whose shapes do not change, that work is the same every time, so it is done once.

How. The first call with a given signature (shapes and dtypes of the inputs) runs ``loss_fn`` on
*traced* arrays: stand-ins that compute real values and record every NumPy call made on them.
Forward runs through the usual ops; backward is the usual :func:`memograd.graph.backward` (same
topological order, same adjoint memo table, same VJP formulas of :data:`ops.TABLE`), its numpy
calls recorded too. The recording is then compiled:

* dead code is dropped (e.g. argument checks whose results nothing reads);
* every intermediate gets a buffer allocated once; a buffer is reused by a later value of the
  same shape and dtype once its last reader ran (liveness, as a register allocator), and
  elementwise ops write into a dying input in place;
* views (transposes, reshapes) of buffers are made once at compile time, so ``W.T`` costs nothing;
* the result is one generated Python function of positional ufunc calls with ``out=`` buffers
  (``step.source`` shows it), checked once against the eager engine before it is used.

Costs and limits (say them plainly):

* shapes are fixed per signature: a new batch size compiles again (one program per signature);
  boolean-mask indexing by input-dependent masks (data-dependent shapes) is refused;
* control flow that depends on values is recorded once: a condition on traced values (``if``,
  ``and``/``or`` on an array, the engine's own checks such as cross_entropy's label range)
  becomes a guard, checked at every replay; when it comes out differently the step is run
  eagerly, so a bad label raises the eager engine's error (never a silently wrapped index),
  and a genuine branch on data raises GraphError. Values taken out with ``.item()``/``float()``
  stay frozen, and so do random numbers drawn inside ``loss_fn`` (dropout: the eager check at
  compile time reports the mismatch);
* gradients are *set* on every call (as after ``zero_grad``), not accumulated; ``p.grad`` is a
  Tensor over a buffer the next call overwrites (copy it to keep it). With ``optimizer=`` plain
  SGD and ``keep_grads=False``, a weight whose gradient is one matrix product AᵀΔ is updated by
  that product itself (BLAS's C ← αAB + βC: W ← (1 - lr·λ)W - lr·AᵀΔ) and its ``p.grad`` is None;
* memory: the buffers stay allocated between calls (``step.buffer_bytes``), about the peak of one
  eager step, instead of being allocated and freed inside each call;
* parameters are read through ``p.data`` at each call, so in-place optimizer updates and
  ``load_state_dict`` are seen; other tensors ``loss_fn`` closes over are constants (what is
  computed from them alone is folded at record time);
* first-order only, NumPy only (a library that converts arrays with ``np.asarray`` inside
  ``loss_fn`` cannot be traced: a clear GraphError).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from time import perf_counter as _clock
from typing import Any, NamedTuple

import numpy as np

from memograd import graph
from memograd.errors import (
    GraphError,
    MemogradTypeError,
    MemogradValueError,
    ShapeError,
)
from memograd.tensor import fused, fused_replay
from memograd.tensor._program import _Program
from memograd.tensor._trace import (  # noqa: F401 - re-exported for tests and tools
    _Diverged,
    _identifier,
    _Instr,
    _Recorder,
    _Sym,
    _Unsupported,
)
from memograd.tensor.tensor import Tensor, _root, _wrap, enable_grad

__all__ = ["compile_step", "CompiledStep"]

_enable_grad: Callable[[], Any] = enable_grad  # (mode.py is not typed yet)
Signature = tuple[tuple[tuple[int, ...], str], ...]


# ------------------------------------------------------------------------------------ the API
class CompiledStep:
    """A recorded loss + backward (+ optimizer update), replayed per input signature. See the
    module docstring."""

    def __init__(
        self,
        loss_fn: Callable[..., Any],
        params: Iterable[Tensor],
        check: bool = True,
        optimizer: Any = None,
        backend: str = "auto",
        keep_grads: bool = True,
    ):
        self.loss_fn = loss_fn
        self.keep_grads = bool(keep_grads)
        if not keep_grads and optimizer is None:
            raise MemogradValueError(
                "compile_step: keep_grads=False needs optimizer= (without an update inside the "
                "step the gradients are its only result)"
            )
        self.params = list(params)
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise MemogradTypeError(
                    f"compile_step: parameter {i} must be a Tensor with requires_grad=True"
                )
        if backend not in ("auto", "numpy", "numba"):
            raise MemogradValueError(
                f"compile_step: backend must be 'auto', 'numpy' or 'numba', got {backend!r}"
            )
        if backend == "numba" and not fused.available():
            raise MemogradValueError(
                "compile_step: backend='numba' needs numba: pip install 'memograd[fast]' "
                "(or use backend='auto', which runs NumPy without it)"
            )
        if optimizer is not None:
            theirs = getattr(optimizer, "params", None)
            if (
                theirs is None
                or len(theirs) != len(self.params)
                or any(a is not b for a, b in zip(theirs, self.params))
            ):
                raise MemogradValueError(
                    "compile_step: optimizer= must update exactly the step's parameters, in the "
                    "same order (make it with the same list: SGD(params), compile_step(f, params,"
                    " optimizer=...))"
                )
        self.check = check
        self.optimizer = optimizer
        self.backend_choice = backend
        self._cache: dict[Signature, _Compiled] = {}
        self._last: _Compiled | None = None

    def __call__(self, *inputs: Any) -> float:
        last = self._last
        arrays: Sequence[Any]
        if last is not None and last.accepts(inputs):  # the common case: same plain arrays
            arrays = inputs
        else:
            arrays = [np.asarray(x.data if type(x) is Tensor else x) for x in inputs]
            key = tuple((a.shape, a.dtype.str) for a in arrays)
            last = self._cache.get(key)
            if last is None:
                last = self._cache[key] = _Compiled(self, arrays)
            self._last = last
        try:
            last.run(*arrays)
        except _Diverged:
            self._diverged(arrays)
        return float(last.loss)

    @property
    def backend(self) -> str:
        """What the most recent signature runs: ``numpy`` (one ufunc call per op), ``numba``
        (one fused kernel) or ``numpy + numba update`` (the NumPy replay, whose matrix products
        are BLAS calls, then the optimizer's update as one numba call); ``backend_reason`` says
        why when the whole step was wanted as one kernel but is not."""
        return "numpy" if self._last is None else self._last.backend

    @property
    def backend_reason(self) -> str:
        return "" if self._last is None else self._last.reason

    def _diverged(self, arrays: Sequence[np.ndarray]) -> None:
        """A guard failed: run ``loss_fn`` eagerly, which raises the engine's own error for these
        inputs (a label out of range, say); if it does not, the step branches on values."""
        with _enable_grad():
            self.loss_fn(*[_wrap(a) for a in arrays])
        raise GraphError(
            "compile_step: these inputs take another branch of loss_fn than the recorded ones "
            "(a condition on values came out differently); compile_step replays one path: use "
            "the eager engine for this loss_fn"
        )

    @property
    def source(self) -> str:
        """The generated Python of the most recent signature."""
        return "" if self._last is None else self._last.source

    @property
    def buffer_bytes(self) -> int:
        """Bytes held between calls by the buffers of every compiled signature."""
        return sum(c.buffer_bytes for c in self._cache.values())

    def __repr__(self) -> str:
        return (
            f"CompiledStep({len(self.params)} parameters, {len(self._cache)} signature(s), "
            f"{self.buffer_bytes} buffer bytes)"
        )


class _Fold(NamedTuple):
    """compile_step's update folded into the weights' gradient products (``keep_grads=False``)."""

    replay: Callable[..., None]  # the replay, taking α and β after the inputs
    update: Any  # the numba update of the parameters not folded
    params: list[int]  # the folded parameters' indices
    source: str


class _Compiled:
    def __init__(self, owner: CompiledStep, arrays: Sequence[np.ndarray]):
        params = owner.params
        self.signature = [(a.shape, a.dtype) for a in arrays]
        rec = _Recorder()
        saved = [p.data for p in params]
        try:
            for i, p in enumerate(params):
                p.data = rec.new("param", saved[i], index=i)  # type: ignore[assignment]
            xs = [_wrap(rec.new("input", a, index=j)) for j, a in enumerate(arrays)]  # type: ignore[arg-type]
            with _enable_grad():
                loss = owner.loss_fn(*xs)
            if not isinstance(loss, Tensor) or loss.size != 1:
                raise ShapeError(
                    "compile_step: loss_fn must return a size-1 Tensor, got "
                    f"{getattr(loss, 'shape', type(loss).__name__)}"
                )
            if not loss.requires_grad:
                raise GraphError("compile_step: the loss does not depend on any parameter")
            wanted = {id(p): i for i, p in enumerate(params)}
            adjoints: list[Any] = [None] * len(params)

            def visit(node: Any, adjoint: Any) -> None:
                i = wanted.get(id(node))
                if i is not None:
                    adjoints[i] = adjoint

            seed = rec.new("const", np.ones(loss.shape, loss.dtype))
            graph.backward(_root(loss), seed, visit)
            loss_sym: Any = loss.data
        finally:
            for p, d in zip(params, saved):
                p.data = d
        outputs = [loss_sym.k]
        for i, a in enumerate(adjoints):
            if a is None:  # the loss does not reach this parameter: its gradient is zero
                a = rec.new("const", np.zeros(params[i].shape, params[i].dtype))
            if not isinstance(a, _Sym):
                a = rec.new("const", np.asarray(a, params[i].dtype))
            outputs.append(a.k)
        # every output gets a buffer of its own that nothing else reuses (or a view made once of
        # such a buffer)
        final: list[int] = []
        for k in outputs:
            root = rec._root(k)
            if rec.slots[k].kind == "view" and rec.slots[root].kind == "buf" and k not in final:
                final.append(k)
                continue
            if rec.slots[k].kind != "buf" or k in final:
                sym = _Sym(rec, rec.slots[k].value, k)
                k = rec.copy(sym, rec.slots[k].dtype).k
            final.append(k)
        opt = owner.optimizer
        prog = _Program(rec, final, len(arrays), len(params), final[1:] if opt else None)
        self.prog, self.n_inputs = prog, len(arrays)
        self.source = prog.source
        self.kernel_source = ""
        self.buffer_bytes = sum(b.nbytes for b in prog.buffers)
        ns = prog.ns
        ns["P"] = params
        exec(compile(prog.source, "<memograd.compile_step>", "exec"), ns)  # noqa: S102
        self.fn: Callable[..., None] = ns["step"]
        self.loss: np.ndarray = ns[prog.outputs[0]]
        self.grads = [_wrap(ns[name]) for name in prog.outputs[1:]]
        self.param_grads = list(zip(params, self.grads))
        self.owner, self.seconds, self.backend, self.reason = owner, 0.0, "numpy", ""
        self.run: Callable[..., None] = self._run_numpy
        if owner.check:
            self._check(owner, arrays)
        if owner.backend_choice == "numba" or (
            owner.backend_choice == "auto" and fused.mode() == "on" and fused.available()
        ):
            self._go_fused(arrays)

    # -- the replays
    def _run_numpy(self, *arrays: np.ndarray) -> None:
        start = _clock()
        self.fn(*arrays)
        for p, g in self.param_grads:
            p.grad = g
        opt = self.owner.optimizer
        if opt is not None:
            opt.step()
        self.seconds += _clock() - start
        if self.seconds >= fused.HOT_SECONDS and self.owner.backend_choice == "auto":
            self.seconds = -math.inf  # decided once per signature
            if fused.use(fused.HOT_SECONDS):
                self._go_fused(arrays)

    def _kernel_optimizer(self) -> Any:
        """The optimizer whose update a numba kernel may run (None: ``opt.step()`` with NumPy)."""
        opt = self.owner.optimizer
        if opt is None or getattr(opt, "backend", "auto") == "numpy" or not opt.KERNEL:
            return None
        return opt

    def _go_fused(self, arrays: Sequence[np.ndarray]) -> None:
        """Translate to one numba kernel and use it from now on; when the step cannot be one
        kernel (matrix products too big to loop over: the replay runs them at BLAS speed), keep
        the NumPy replay and run only the optimizer's update as one numba call; keep NumPy if
        both fail."""
        self.seconds = -math.inf  # tried once per signature
        opt = self._kernel_optimizer()
        try:
            kernel, source, arenas = fused.build(
                self.prog,
                self.n_inputs,
                len(self.owner.params),
                _Sym,
                opt,
                force=self.owner.backend_choice == "numba",
            )
            run = self._fused_runner(kernel, arenas, opt)
            self._check_fused(run, arrays)
        except Exception as err:
            self.reason = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            if self.owner.backend_choice == "numba" and not isinstance(err, fused.Unsupported):
                raise GraphError(
                    f"compile_step: the numba kernel could not be built ({self.reason})"
                ) from err
            self._go_update(arrays, opt)
            return
        self.kernel_source, self.run, self.backend = source, run, "numba"

    def _go_update(self, arrays: Sequence[np.ndarray], opt: Any) -> None:
        """The NumPy replay, then the optimizer's update of every parameter in one numba call;
        with ``keep_grads=False`` and an update BLAS can do (plain SGD), the weights' updates
        folded into their gradient products (:func:`fused_replay.gemm_folds`)."""
        if opt is None:
            return
        n = len(self.owner.params)
        try:
            update, source = fused.build_update(self.prog, n, opt)
            replay, replay_source, chains = fused_replay.build_replay(self.prog, _Sym)
            folded = self._folded(opt, n)
            run = self._update_runner(update, opt, replay if chains else self.fn, folded)
            self._check_fused(run, arrays, folded.params if folded is not None else ())
        except Exception as err:  # the NumPy replay stays
            self.reason += f"; update kernel: {type(err).__name__}: {err}"
            return
        if chains:
            source = f"{replay_source}\n\n{source}"
        backend = "numpy + numba update"
        if folded is not None:
            source = f"{source}\n\n# with the update folded into the products:\n{folded.source}"
            backend += " (SGD folded into BLAS)"
        self.kernel_source, self.run, self.backend = source, run, backend

    def _folded(self, opt: Any, n_params: int) -> _Fold | None:
        """The replay with the weights' updates folded into their gradient products and the
        update of the other parameters (None: the gradients are to be kept, the optimizer's
        update cannot be folded, nothing qualifies, or no BLAS gemm with β was found)."""
        if self.owner.keep_grads or opt._fold_scalars(opt._scalars(1.0, 1, float)) is None:
            return None
        folds = fused_replay.gemm_folds(self.prog, _Sym)
        if not folds:
            return None
        try:
            replay, source, _ = fused_replay.build_replay(self.prog, _Sym, folds)
        except ImportError:  # neither NumPy's BLAS nor SciPy's: the gradients are written
            return None
        skip = frozenset(folds.values())
        rest, rest_source = fused.build_update(self.prog, n_params, opt, skip)
        return _Fold(replay, rest, sorted(skip), f"{source}\n\n{rest_source}")

    def _namespace(self, opt: Any) -> dict[str, Any]:
        params = self.owner.params
        ns: dict[str, Any] = {f"P{i}": p for i, p in enumerate(params)}
        ns.update(_Diverged=_Diverged, PG=self.param_grads, O=self.owner.optimizer)
        if opt is not None:
            dt = np.dtype(opt._dtype).type
            ns.update(DT=dt, S0=opt._scalars(1.0, 1, dt))
            ns.update({f"ST{i}": opt.state[name] for i, name in enumerate(opt.KERNEL_SLOTS)})
        return ns

    def _fused_runner(self, kernel: Any, arenas: list[np.ndarray], opt: Any) -> Callable[..., None]:
        """A Python function calling the kernel with plain positional arguments."""
        params = self.owner.params
        xs = ", ".join(f"x{i}" for i in range(self.n_inputs))
        ps = ", ".join(f"P{i}.data" for i in range(len(params)))
        ns = self._namespace(opt)
        ns.update({f"A{i}": a for i, a in enumerate(arenas)})
        ns["K"] = kernel
        call = f"K({xs}{', ' if xs else ''}{ps}, {', '.join(f'A{i}' for i in range(len(arenas)))}"
        lines = [f"def run({xs}):"]
        if opt is None:
            lines.append(f"    if {call}): raise _Diverged")
            lines.append("    for p, g in PG: p.grad = g")
            if self.owner.optimizer is not None:
                lines.append("    O.step()")
        else:
            sts = "".join(f", ST{i}" for i in range(len(opt.KERNEL_SLOTS)))
            lines += [
                "    S = O._fused_scalars(DT)",
                f"    if {call}{sts}, S0 if S is None else S, S is not None): raise _Diverged",
                "    for p, g in PG: p.grad = g",
                "    if S is None: O.step()",
                "    else: O._fused_done()",
            ]
        return self._define(lines, ns)

    def _update_runner(
        self,
        update: Any,
        opt: Any,
        replay: Callable[..., None],
        folded: _Fold | None = None,
    ) -> Callable[..., None]:
        """The NumPy replay (``replay``: its element-wise chains fused by
        ``fused_replay.build_replay``), then one call of the update kernel (``opt.step()`` when
        the update cannot run there: clipping, parameters at different step counts). With
        ``folded``, a step whose update can be folded (no momentum this step) runs the folded
        replay and updates only the other parameters; the folded ones get ``p.grad = None``."""
        params = self.owner.params
        xs = ", ".join(f"x{i}" for i in range(self.n_inputs))
        ps = ", ".join(f"P{i}.data" for i in range(len(params)))
        sts = "".join(f", ST{i}" for i in range(len(opt.KERNEL_SLOTS)))
        ns = self._namespace(opt)
        ns.update(F=replay, U=update, G=self.prog.arenas["grads"])
        lines = [f"def run({xs}):"]
        if folded is not None:
            skip = set(folded.params)
            ns.update(
                FF=folded.replay,
                UR=folded.update,
                PG_KEEP=[pg for i, pg in enumerate(self.param_grads) if i not in skip],
                P_FOLDED=[params[i] for i in folded.params],
            )
            lines += [
                "    S = O._fused_scalars(DT)",
                "    AB = None if S is None else O._fold_scalars(S)",
                "    if AB is not None:",
                f"        FF({xs}{', ' if xs else ''}AB[0], AB[1])",
                "        for p, g in PG_KEEP: p.grad = g",
                "        for p in P_FOLDED: p.grad = None",
                f"        UR({ps}, G{sts}, S)",
                "        O._fused_done()",
                "        return",
            ]
        lines += [
            f"    F({xs})",
            "    for p, g in PG: p.grad = g",
            "    S = O._fused_scalars(DT)",
            "    if S is None: O.step()",
            "    else:",
            f"        U({ps}, G{sts}, S)",
            "        O._fused_done()",
        ]
        return self._define(lines, ns)

    @staticmethod
    def _define(lines: list[str], ns: dict[str, Any]) -> Callable[..., None]:
        source = "\n".join(lines) + "\n"
        exec(compile(source, "<memograd.compile_step runner>", "exec"), ns)  # noqa: S102
        run: Callable[..., None] = ns["run"]
        return run

    def _check_fused(
        self,
        run: Callable[..., None],
        arrays: Sequence[np.ndarray],
        folded: Sequence[int] = (),
    ) -> None:
        """Compile the kernel and compare its loss, gradients and (with an optimizer) updated
        parameters with the NumPy replay's, from the same state; neither counts as a step. The
        gradients of the ``folded`` parameters are not written (their buffers may hold other
        values): their updated values are compared instead."""
        opt = self.owner.optimizer
        params = self.owner.params
        saved = [p.data.copy() for p in params]
        state = None if opt is None else opt.state_dict()

        def restore() -> None:
            for p, d in zip(params, saved):
                np.copyto(p.data, d)
            if state is not None:
                opt.load_state_dict(state)

        def outcome() -> list[np.ndarray]:
            done = [np.array(self.loss)] + [g.data.copy() for g in self.grads]
            return done + ([p.data.copy() for p in params] if opt is not None else [])

        try:
            self.fn(*arrays)
            for p, g in self.param_grads:
                p.grad = g
            if opt is not None:
                opt.step()
            want = outcome()
            restore()
            run(*arrays)
            got = outcome()
        finally:  # the check must not count as a training step
            restore()
        n = len(self.grads)
        for i, (a, b) in enumerate(zip(got, want)):
            if 1 <= i <= n and i - 1 in folded:
                continue
            tol = 1e-4 if a.dtype == np.float32 else 1e-9
            scale = float(np.max(np.abs(b), initial=1.0))
            if not np.allclose(a, b, rtol=tol, atol=tol * scale):
                what = (
                    "loss"
                    if i == 0
                    else f"gradient of parameter {i - 1}"
                    if i <= n
                    else f"updated parameter {i - 1 - n}"
                )
                raise fused.Unsupported(f"the kernel disagrees with the NumPy replay on {what}")

    def accepts(self, arrays: Sequence[Any]) -> bool:
        sig = self.signature
        if len(arrays) != len(sig):
            return False
        for a, (shape, dtype) in zip(arrays, sig):
            if type(a) is not np.ndarray or a.shape != shape or a.dtype != dtype:
                return False
        return True

    def _check(self, owner: CompiledStep, arrays: Sequence[np.ndarray]) -> None:
        """Replay once and compare with the eager engine on the same inputs."""
        self.fn(*arrays)
        params = owner.params
        wanted = {id(p) for p in params}
        grads: dict[int, np.ndarray] = {}

        def visit(node: Any, adjoint: Any) -> None:
            if id(node) in wanted:
                grads[id(node)] = np.array(adjoint)

        with _enable_grad():
            loss = owner.loss_fn(*[_wrap(a) for a in arrays])
            graph.backward(_root(loss), np.ones(loss.shape, loss.dtype), visit)
        tol = 1e-4 if loss.dtype == np.float32 else 1e-9
        pairs = [("loss", np.asarray(self.loss), loss.data)]
        pairs += [
            (
                f"grad of parameter {i}",
                g.data,
                grads.get(id(p), np.zeros(p.shape, p.dtype)),
            )
            for i, (p, g) in enumerate(zip(params, self.grads))
        ]
        for what, got, want in pairs:
            scale = float(np.max(np.abs(want), initial=1.0))
            if got.shape != want.shape or not np.allclose(got, want, rtol=tol, atol=tol * scale):
                raise GraphError(
                    f"compile_step: the compiled step disagrees with the eager engine on {what} "
                    f"(max difference {np.max(np.abs(got - want), initial=0):.3g}); "
                    "loss_fn is not deterministic for fixed inputs (a random draw such as "
                    "dropout in training mode, or state changed between calls); call model.eval()"
                    " or use the eager engine for this loss_fn"
                )


def compile_step(
    loss_fn: Callable[..., Any],
    params: Iterable[Tensor],
    *,
    check: bool = True,
    optimizer: Any = None,
    backend: str = "auto",
    keep_grads: bool = True,
) -> CompiledStep:
    """Compile ``loss_fn(*inputs) -> scalar Tensor`` and its backward w.r.t. ``params``.

    Returns a callable ``step(*inputs) -> float`` (the loss) that leaves ∂loss/∂p in every
    ``p.grad``; with ``optimizer=`` (made on the same parameter list) the step also runs the
    optimizer's update. ``check=True`` compares the first replay of each signature with the
    eager engine. ``keep_grads=False`` (with ``optimizer=``) lets the step skip writing a
    gradient it only needs for the update: with plain SGD (no momentum) and the fused backend,
    W ← W - lr·(AᵀΔ + λW) is one BLAS call, and such a weight's ``p.grad`` is None after the step.
    """
    return CompiledStep(loss_fn, params, check, optimizer, backend, keep_grads)
