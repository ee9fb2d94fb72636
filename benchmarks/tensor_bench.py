"""Tensor engine benchmark: one MLP training step (forward + backward + SGD update), float32.

Configurations: 784-256-256-10 with softmax cross-entropy at batch 1, 32, 256, 2048, and 2-16-16-1
with MSE at batch 32; ReLU hidden layers. Engines, in one run, on the same initial weights and
data:

* ``numpy floor``: a hand-written NumPy forward/backward/update of the same step as a careful
  person writes it for fixed shapes: every result in a buffer allocated once (positional ``out=``),
  ``ufunc.reduce`` rather than the ``np.sum``/``np.mean`` wrappers, in-place bias add and ReLU,
  fused softmax-cross-entropy gradient, ``np.dot`` rather than ``@`` (numpy's matmul skips BLAS
  for ``x.T @ g`` at batch 1: 10x slower), transposed views made once;
* ``numpy plain``: the same step written plainly (a fresh array per result, ``np.sum``,
  ``np.mean``, keyword ``out=``), for scale: what buffer reuse and direct ufunc calls buy;
* ``sgemm only``: just the step's eight matrix products (``np.dot`` into buffers): the process's
  sgemm rate for these shapes, to check the big-batch steps against;
* ``compile_step SGD`` / ``compile_step Adam``: ``mg.tensor.compile_step(loss_fn, params,
  optimizer=opt)``, forward + backward + the optimizer's update in one call; with numba installed
  (the ``fast`` extra; the script sets ``memograd.tensor.fused`` to ``on``) small steps run as one
  fused kernel and the update as one numba pass, big-batch steps as the NumPy replay;
* ``compile_step SGD (NumPy only)``: the same without numba (backend ``numpy``);
* ``compile_step + in-place update``: the replay, then the floor's own two-ufunc update;
* ``memograd eager``: the Tensor engine op by op (``loss.backward()``), ``mg.optim.SGD``;
* ``update: ...``: the update alone: two in-place ufunc calls per parameter (the floor's) against
  ``mg.optim.SGD``/``Adam`` ``.step()`` on Tensor parameters whose ``.grad`` is set (two sets
  of gradients alternated in both, as each backward makes new ones);
* ``jax jit``: forward, ``value_and_grad`` and the SGD update in one ``jax.jit`` function;
* PyTorch (CPU, ``torch.set_num_threads(1)``, ``p.add_(p.grad, alpha=-lr)``), MyGrad and HIPS
  autograd when installed.

The whole process is pinned to one core (``os.sched_setaffinity``, before JAX and PyTorch start
their threads; ``--cpu``), BLAS threads fixed to 1 with threadpoolctl. Timing: median and
minimum over ``--rounds`` rounds of the mean step time of a block of steps (sized to
``--block`` seconds, 20 ms by default), engines interleaved in a shuffled order each round,
after warm-up; the clock is the process's CPU time (``--clock cpu``, the default: on a shared
core, time other processes take is not counted) or wall time (``--clock wall``).
Memory: tracemalloc peak of one step above what was allocated before it (NumPy
reports its buffers to tracemalloc); for compile_step and the floor plus their persistent
buffers; PyTorch and JAX allocate in C++ (not traced): n/a.

    python benchmarks/tensor_bench.py [--rounds 15] [--out benchmarks/results/tensor.md]
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata as md
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc

import numpy as np

import memograd as mg
from _common import cpu_model, publish  # also puts the checkout's src/ on sys.path

CONFIGS = [
    ("784-256-256-10 CE", [784, 256, 256, 10], "ce", 1),
    ("784-256-256-10 CE", [784, 256, 256, 10], "ce", 32),
    ("784-256-256-10 CE", [784, 256, 256, 10], "ce", 256),
    ("784-256-256-10 CE", [784, 256, 256, 10], "ce", 2048),
    ("2-16-16-1 MSE", [2, 16, 16, 1], "mse", 32),
]
LR = 0.01
LR32 = np.float32(LR)


def init(sizes, seed=0):
    """He-initialised float32 weights and zero biases: [W1, b1, W2, b2, ...]."""
    rng = np.random.default_rng(seed)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(np.float32))
        params.append(np.zeros(b, np.float32))
    return params


def data(sizes, loss, batch, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    if loss == "ce":
        y = rng.integers(0, sizes[-1], batch)
    else:
        y = rng.standard_normal((batch, sizes[-1])).astype(np.float32)
    return x, y


# ----------------------------------------------------------------------------- the engines
def _layers(params, x):
    """What both NumPy steps start from: weights, biases, layer count, batch size, row indices,
    the learning rate and 1/n as float32."""
    Ws, bs = params[0::2], params[1::2]
    return Ws, bs, len(Ws), len(x), np.arange(len(x)), np.float32(LR), np.float32(1.0 / len(x))


def numpy_floor(params, x, y, loss):
    """The floor: what a careful NumPy programmer writes for a fixed-shape step. Every result
    goes into a buffer allocated once (``out=``, positional), reductions call ``ufunc.reduce``
    directly (``np.sum`` and ``np.mean`` are Python wrappers costing 1-3 us on small arrays),
    transposes are views made once, ``np.dot`` rather than ``@``, the loss value computed once."""
    Ws, bs, L, n, rows, lr, inv_n = _layers(params, x)
    f32 = np.float32
    zs = [np.empty((n, W.shape[1]), f32) for W in Ws]  # pre-activations, ReLU'd in place
    masks = [np.empty(z.shape, bool) for z in zs[:-1]]
    gWs = [np.empty_like(W) for W in Ws]
    gbs = [np.empty_like(b) for b in bs]
    gins = [None] + [np.empty((n, W.shape[0]), f32) for W in Ws[1:]]  # adjoint of layer input
    WT = [W.T for W in Ws]  # views: stay valid, the update is in place
    hT = [x.T] + [z.T for z in zs]
    m, s = np.empty((n, 1), f32), np.empty((n, 1), f32)
    e = np.empty(zs[-1].shape, f32)
    dot, add, sub, mul, div = np.dot, np.add, np.subtract, np.multiply, np.true_divide
    maximum, greater, exp = np.maximum, np.greater, np.exp
    add_reduce, max_reduce = np.add.reduce, np.maximum.reduce
    two_n = f32(2.0 / e.size)

    def step():
        h = x
        for i in range(L):
            z = zs[i]
            dot(h, Ws[i], z)
            add(z, bs[i], z)
            if i < L - 1:
                maximum(z, 0, out=z)
            h = z
        g = e
        if loss == "ce":
            max_reduce(z, 1, None, m, True)
            sub(z, m, e)
            exp(e, e)
            add_reduce(e, 1, None, s, True)
            value = (np.log(s[:, 0]) + m[:, 0] - z[rows, y]).sum() * inv_n
            div(e, s, e)
            e[rows, y] -= 1
            mul(e, inv_n, e)
        else:
            sub(z, y, e)
            value = np.vdot(e, e) / e.size
            mul(e, two_n, e)
        for i in range(L - 1, -1, -1):
            dot(hT[i], g, gWs[i])
            add_reduce(g, 0, None, gbs[i])
            if i:
                gi, mask = gins[i], masks[i - 1]
                dot(g, WT[i], gi)
                greater(zs[i - 1], 0, mask)
                mul(gi, mask, gi)
                g = gi
        for i in range(L):
            gW, gb = gWs[i], gbs[i]
            mul(gW, lr, gW)
            sub(Ws[i], gW, Ws[i])
            mul(gb, lr, gb)
            sub(bs[i], gb, bs[i])
        return value

    step.extra_bytes = lambda: sum(a.nbytes for a in (*zs, *masks, *gWs, *gbs, *gins[1:], m, s, e))
    return step


def numpy_plain(params, x, y, loss):
    """The same step written plainly: a fresh array per result, ``np.sum``/``np.mean``/``.max``
    (their Python wrappers cost ~1-3 us each on small arrays), keyword ``out=``."""
    Ws, bs, L, n, rows, lr, inv_n = _layers(params, x)

    def step():
        hs = [x]
        h = x
        for i in range(L):
            z = np.dot(h, Ws[i])
            z += bs[i]
            if i < L - 1:
                np.maximum(z, 0, out=z)
            hs.append(z)
            h = z
        if loss == "ce":
            m = z.max(axis=1, keepdims=True)
            e = z - m
            np.exp(e, out=e)
            s = e.sum(axis=1, keepdims=True)
            value = np.mean(np.log(s[:, 0]) + m[:, 0] - z[rows, y])
            g = e
            g /= s
            g[rows, y] -= 1
            g *= inv_n
        else:
            g = z - y
            value = np.mean(g * g)
            g *= np.float32(2.0 / g.size)
        grads = []
        for i in range(L - 1, -1, -1):
            grads.append((np.dot(hs[i].T, g), g.sum(axis=0)))
            if i:
                g = np.dot(g, Ws[i].T)
                g *= hs[i] > 0
        for i, (gW, gb) in zip(range(L - 1, -1, -1), grads):
            gW *= lr
            Ws[i] -= gW
            gb *= lr
            bs[i] -= gb
        return value

    return step


def _mg_model(params, loss):
    T = [mg.tensor(p, requires_grad=True) for p in params]
    L = len(T) // 2

    def loss_fn(x, y):
        h = x
        for i in range(L):
            h = h @ T[2 * i] + T[2 * i + 1]
            if i < L - 1:
                h = h.relu()
        if loss == "ce":
            return mg.tensor.cross_entropy(h, y)
        return mg.tensor.mse(h, y)

    return T, loss_fn


def sgd_update(pairs) -> None:
    """The SGD update every NumPy-based engine shares, as the floor writes it: p -= lr * g in
    place, two ufunc calls per parameter (``pairs``: (value array, gradient array))."""
    mul, sub, lr = np.multiply, np.subtract, LR32
    for a, g in pairs:
        mul(g, lr, g)
        sub(a, g, a)


def _sgd(T):
    sgd_update([(p.data, p.grad.data) for p in T])


def memograd_compiled(params, x, y, loss):
    T, loss_fn = _mg_model(params, loss)
    step_fn = mg.tensor.compile_step(loss_fn, T)

    def step():
        value = step_fn(x, y)
        _sgd(T)
        return value

    step.extra_bytes = lambda: step_fn.buffer_bytes
    return step


def _compiled_with(optimizer, backend, keep_grads=True):
    """compile_step with the optimizer inside the step (``optimizer=``): one call per step;
    ``keep_grads=False``: the step need not leave the gradients in ``p.grad`` (as JAX's step
    returns only the new parameters), so plain SGD's update may be folded into the weight
    gradients' BLAS products."""

    def factory(params, x, y, loss):
        T, loss_fn = _mg_model(params, loss)
        opt = optimizer(T)
        if backend == "numpy":
            opt.backend = "numpy"
        step_fn = mg.tensor.compile_step(
            loss_fn, T, optimizer=opt, backend=backend, keep_grads=keep_grads
        )

        def step():
            return step_fn(x, y)

        step.extra_bytes = lambda: step_fn.buffer_bytes + sum(v.nbytes for v in opt.state.values())
        step.backend = lambda: step_fn.backend
        return step

    return factory


def memograd_eager(params, x, y, loss):
    """The Tensor engine op by op, updated by ``mg.optim.SGD`` (as PyTorch's step is by its
    in-place update)."""
    T, loss_fn = _mg_model(params, loss)
    xt, yt = mg.tensor(x), mg.tensor(y)
    opt = mg.optim.SGD(T, lr=LR)

    def step():
        for p in T:
            p.grad = None
        value = loss_fn(xt, yt)
        value.backward()
        opt.step()
        return value.item()

    return step


def _grads_like(params):
    rng = np.random.default_rng(3)
    return [(rng.standard_normal(p.shape) * 1e-3).astype(np.float32) for p in params]


def update_inplace(params, x, y, loss):
    """The update alone as a NumPy programmer writes it: two in-place ufunc calls per parameter
    (``multiply(g, s, g); subtract(p, g, p)``, with s = 1 so that g keeps its values from call
    to call; the cost of a multiply does not depend on the factor)."""
    P, sets = [p.copy() for p in params], [_grads_like(params) for _ in range(2)]
    mul, sub, one = np.multiply, np.subtract, np.float32(1.0)
    turn = [0]

    def step():
        turn[0] ^= 1  # two gradient sets, alternated, as for mg.optim below
        for p, g in zip(P, sets[turn[0]]):
            mul(g, one, g)
            sub(p, g, p)
        return 0.0

    return step


def update_optim(kind):
    """``mg.optim.SGD``/``Adam`` ``.step()`` alone, on Tensor parameters whose ``.grad`` is set
    (as after ``loss.backward()``): what the eager engine's update costs."""

    def factory(params, x, y, loss):
        T = [mg.tensor(p, requires_grad=True) for p in params]
        # two sets of gradient Tensors, alternated: every step sees new gradient objects, as
        # after each backward (nothing may be cached by identity)
        sets = [[mg.tensor(g) for g in _grads_like(params)] for _ in range(2)]
        opt = mg.optim.SGD(T, lr=LR) if kind == "sgd" else mg.optim.Adam(T, lr=1e-3)
        turn = [0]

        def step():
            turn[0] ^= 1
            for t, g in zip(T, sets[turn[0]]):
                t.grad = g
            opt.step()
            return 0.0

        return step

    return factory


def jax_step(params, x, y, loss):
    """JAX: forward, ``value_and_grad`` and the SGD update in one ``jax.jit`` function (the
    parameters donated, so XLA may update them in place); the loss comes back as a float."""
    import functools

    import jax
    import jax.numpy as jnp

    L = len(params) // 2
    rows = jnp.arange(len(x))

    def objective(P, xb, yb):
        h = xb
        for i in range(L):
            h = h @ P[2 * i] + P[2 * i + 1]
            if i < L - 1:
                h = jax.nn.relu(h)
        if loss == "ce":
            return -jnp.mean(jax.nn.log_softmax(h, axis=1)[rows, yb])
        return jnp.mean((h - yb) ** 2)

    @functools.partial(jax.jit, donate_argnums=0)
    def update(P, xb, yb):
        value, grads = jax.value_and_grad(objective)(P, xb, yb)
        return [p - LR32 * g for p, g in zip(P, grads)], value

    state = [[jnp.asarray(p) for p in params]]
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def step():
        state[0], value = update(state[0], xj, yj)
        return float(value)

    return step


def sgemm_only(params, x, y, loss):
    """Only the step's matrix products (forward, weight gradients, input gradients) with
    ``np.dot`` into buffers: the process's sgemm rate for this step's shapes."""
    Ws = params[0::2]
    n = len(x)
    outs = [np.empty((n, W.shape[1]), np.float32) for W in Ws]
    ins = [x] + outs[:-1]
    gWs = [np.empty_like(W) for W in Ws]
    gins = [np.empty((n, W.shape[0]), np.float32) for W in Ws]
    pairs = [(h, W, o) for h, W, o in zip(ins, Ws, outs)]
    pairs += [(h.T, o, gW) for h, o, gW in zip(ins, outs, gWs)]
    pairs += [(o, W.T, gi) for o, W, gi in list(zip(outs, Ws, gins))[1:]]
    dot = np.dot

    def step():
        for a, b, c in pairs:
            dot(a, b, c)
        return 0.0

    step.flops = sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b, _ in pairs)
    return step


def torch_step(params, x, y, loss):
    import torch

    torch.set_num_threads(1)
    T = [torch.tensor(p, requires_grad=True) for p in params]
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y)
    L = len(T) // 2
    F = torch.nn.functional

    def step():
        for p in T:
            p.grad = None
        h = xt
        for i in range(L):
            h = torch.addmm(T[2 * i + 1], h, T[2 * i])
            if i < L - 1:
                h = torch.relu(h)
        value = F.cross_entropy(h, yt) if loss == "ce" else F.mse_loss(h, yt)
        value.backward()
        with torch.no_grad():
            for p in T:
                p.add_(p.grad, alpha=-LR)
        return value.item()

    return step


def mygrad_step(params, x, y, loss):
    import mygrad
    from mygrad.nnet.activations import relu
    from mygrad.nnet.losses import softmax_crossentropy

    mygrad.turn_memory_guarding_off()
    T = [mygrad.tensor(p) for p in params]
    L = len(T) // 2

    def step():
        h = x
        for i in range(L):
            h = mygrad.matmul(h, T[2 * i]) + T[2 * i + 1]
            if i < L - 1:
                h = relu(h)
        value = softmax_crossentropy(h, y) if loss == "ce" else mygrad.mean((h - y) ** 2)
        value.backward()
        sgd_update([(p.data, p.grad) for p in T])
        return value.item()

    return step


def autograd_step(params, x, y, loss):
    import autograd
    import autograd.numpy as anp
    from autograd.scipy.special import logsumexp

    L = len(params) // 2
    rows = np.arange(len(x))
    P = [p.copy() for p in params]

    def objective(P):
        h = x
        for i in range(L):
            h = anp.dot(h, P[2 * i]) + P[2 * i + 1]
            if i < L - 1:
                h = anp.maximum(h, 0)
        if loss == "ce":
            return anp.mean(logsumexp(h, axis=1) - h[rows, y])
        return anp.mean((h - y) ** 2)

    value_and_grad = autograd.value_and_grad(objective)

    def step():
        value, grads = value_and_grad(P)
        sgd_update(zip(P, grads))
        return float(value)

    return step


ENGINES = [
    ("numpy floor", numpy_floor, None),
    ("numpy plain", numpy_plain, None),
    ("sgemm only", sgemm_only, None),
    ("compile_step SGD", _compiled_with(lambda T: mg.optim.SGD(T, lr=LR), "auto"), None),
    (
        "compile_step SGD (keep_grads=False)",
        _compiled_with(lambda T: mg.optim.SGD(T, lr=LR), "auto", keep_grads=False),
        None,
    ),
    ("compile_step Adam", _compiled_with(lambda T: mg.optim.Adam(T, lr=1e-3), "auto"), None),
    (
        "compile_step SGD (NumPy only)",
        _compiled_with(lambda T: mg.optim.SGD(T, lr=LR), "numpy"),
        None,
    ),
    ("compile_step + in-place update", memograd_compiled, None),
    ("memograd eager", memograd_eager, None),
    ("update: two in-place ops", update_inplace, None),
    ("update: mg.optim.SGD.step", update_optim("sgd"), None),
    ("update: mg.optim.Adam.step", update_optim("adam"), None),
    ("jax jit", jax_step, "jax"),
    ("torch", torch_step, "torch"),
    ("mygrad", mygrad_step, "mygrad"),
    ("autograd", autograd_step, "autograd"),
]


# ----------------------------------------------------------------------------- measuring
def available(module):
    if module is None:
        return True
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def version(dist):
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def peak_bytes(step) -> int:
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    extra = getattr(step, "extra_bytes", None)
    return peak - base + (extra() if extra else 0)


CLOCK = time.process_time  # see --clock


def bench_config(sizes, loss, batch, rounds, engines, block=0.02):
    params = init(sizes)
    x, y = data(sizes, loss, batch)
    steps = {}
    first_loss = {}
    for name, factory, _ in engines:
        steps[name] = factory([p.copy() for p in params], x, y, loss)
        first_loss[name] = float(steps[name]())  # also compiles / warms up
    for name in steps:
        for _ in range(3):
            steps[name]()
    inner = {}
    for name, step in steps.items():
        t0 = CLOCK()
        k = 0
        while CLOCK() - t0 < block or k < 2:
            step()
            k += 1
        inner[name] = max(1, int(k * block / max(CLOCK() - t0, 1e-9)))
    samples = {name: [] for name in steps}
    order = list(steps)
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            step, n = steps[name], inner[name]
            gc.collect()
            t0 = CLOCK()
            for _ in range(n):
                step()
            samples[name].append((CLOCK() - t0) / n)
    times = {name: statistics.median(s) for name, s in samples.items()}
    best = {name: min(s) for name, s in samples.items()}
    memory = {}
    for name, step in steps.items():
        memory[name] = None if name in ("torch", "jax jit") else peak_bytes(step)
    notes = {name: step.backend() for name, step in steps.items() if hasattr(step, "backend")}
    if "sgemm only" in steps:
        notes["flops"] = steps["sgemm only"].flops
    return times, best, memory, first_loss, notes


def _table(title: str, names: list, rows: list, unit, base) -> list[str]:
    """A markdown table, one row per engine and one column per config: each engine's value
    (with ``unit`` = (name, scale, format): also its ratio to engine ``base``; None: n/a)."""
    heads = [f"{label.split()[0]} b={batch}" for label, batch, _ in rows]
    lines = [f"\n### {title}\n", "| engine | " + " | ".join(heads) + " |"]
    lines.append("|---|" + "---:|" * len(rows))
    for n in names:
        cells = []
        for _, _, values in rows:
            v = values.get(n)
            if v is None:
                cells.append("n/a")
            elif unit is None:
                cells.append(f"{v:.5f}")
            else:
                uname, scale, fmt = unit
                cell = f"{fmt.format(v * scale)} {uname}"
                if n != base and base in values:
                    cell += f" ({v / values[base]:.2f}x)"
                cells.append(cell)
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return lines


def _targets(results) -> list[str]:
    """Issue 12's targets 1 and 2 as ratios within this run (fastest round, then median)."""
    lines = ["\n### Targets (ratios within this run: fastest round / median)\n"]
    lines.append("| config | " + " | ".join(TARGETS) + " |")
    lines.append("|---|" + "---:|" * len(TARGETS))
    for label, batch, times, _, _, best, _notes in results:
        cells = []
        for _, (a, b) in TARGETS.items():
            if a in times and b in times:
                cells.append(f"{best[a] / best[b]:.2f} / {times[a] / times[b]:.2f}")
            else:
                cells.append("n/a")
        lines.append(f"| {label.split()[0]} b={batch} | " + " | ".join(cells) + " |")
    lines.append("")
    for label, batch, _times, _, _, best, notes in results:
        flops = notes.get("flops")
        parts = [f"{k}: {v}" for k, v in notes.items() if k != "flops"]
        for name in ("compile_step SGD", "compile_step SGD (keep_grads=False)"):
            step = best.get(name)
            if flops and step and "sgemm only" in best:
                rate = flops / best["sgemm only"] / 1e9
                parts.append(
                    f"sgemm {rate:.1f} GFLOP/s on the step's products; {name}'s whole "
                    f"step at {flops / step / 1e9:.1f} GFLOP/s of products "
                    f"({best['sgemm only'] / step:.0%} of the sgemm rate)"
                )
        lines.append(f"- {label.split()[0]} b={batch}: backends " + "; ".join(parts))
    return lines


TARGETS = {
    "compile_step SGD / numpy floor": ("compile_step SGD", "numpy floor"),
    "compile_step SGD / jax jit": ("compile_step SGD", "jax jit"),
    "keep_grads=False / jax jit": ("compile_step SGD (keep_grads=False)", "jax jit"),
    "compile_step Adam / compile_step SGD": ("compile_step Adam", "compile_step SGD"),
    "NumPy only / numpy floor": ("compile_step SGD (NumPy only)", "numpy floor"),
    "eager / torch": ("memograd eager", "torch"),
    "SGD.step / two in-place ops": ("update: mg.optim.SGD.step", "update: two in-place ops"),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--out", default=None, help="write the markdown here (atomically)")
    parser.add_argument("--only", default=None, help="comma-separated engine names")
    parser.add_argument(
        "--cpu",
        type=int,
        default=None,
        help="pin the process to this core (default: the last allowed one); -1: do not pin",
    )
    parser.add_argument(
        "--block",
        type=float,
        default=0.02,
        help="seconds of steps per timed block (shorter blocks are preempted less on a loaded "
        "machine; the best round is then closer to the unloaded time)",
    )
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="cpu (default): the process's CPU time (time.process_time; every thread, JAX's and "
        "PyTorch's included, on the one pinned core), which other processes sharing the core do "
        "not inflate; wall: time.perf_counter",
    )
    parser.add_argument(
        "--no-numba",
        action="store_true",
        help="MEMOGRAD_NUMBA=off: compile_step and the optimizers without the fast extra",
    )
    args = parser.parse_args(argv)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    from threadpoolctl import threadpool_info, threadpool_limits

    pinned = None
    if args.cpu != -1 and hasattr(os, "sched_setaffinity"):
        # before jax/torch start their thread pools: every engine gets the same one core
        pinned = args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {pinned})
    from memograd.tensor import fused

    fused.set_mode("off" if args.no_numba else "on")

    engines = [e for e in ENGINES if available(e[2])]
    if args.only:
        keep = set(args.only.split(","))
        engines = [e for e in engines if e[0] in keep or e[0] == "numpy floor"]
    lines = []
    load_start = " ".join(f"{v:.1f}" for v in os.getloadavg())
    try:  # compile_step's folded SGD calls SciPy's BLAS: load it before the limit is set,
        import scipy.linalg.blas  # noqa: F401 - or its thread pool would not be limited
    except ImportError:
        pass
    with threadpool_limits(limits=1):
        if any(e[0] == "torch" for e in engines):
            import torch

            torch.set_num_threads(1)
        info = threadpool_info()
        blas = [
            f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
            f"{i.get('num_threads')} thread)"
            for i in info
        ]
        results = []
        for label, sizes, loss, batch in CONFIGS:
            times, best, memory, first, notes = bench_config(
                sizes, loss, batch, args.rounds, engines, args.block
            )
            results.append((label, batch, times, memory, first, best, notes))
            floor = times["numpy floor"]
            print(
                f"{label} batch {batch}: "
                + ", ".join(
                    f"{n} {t * 1e6:.1f}us ({t / floor:.2f}x, "
                    f"best {best[n] / best['numpy floor']:.2f}x)"
                    for n, t in times.items()
                ),
                flush=True,
            )
    names = [e[0] for e in engines]
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    lines.append("# Tensor engine benchmark: one MLP training step, float32, 1 BLAS thread\n")
    peers = ("torch", "jax", "jaxlib", "numba", "mygrad", "autograd")
    lines.append(
        f"Machine: {cpu_model()} ({platform.machine()}), "
        f"{os.cpu_count()} cores, process pinned to core {pinned} (every engine, JAX's and "
        f"PyTorch's threads included); load average {load_start} at the start, "
        f"{' '.join(f'{v:.1f}' for v in os.getloadavg())} at the end (shared machine); "
        f"Python {platform.python_version()}; numpy {np.__version__}; "
        + "; ".join(f"{d} {version(d)}" for d in peers if version(d))
    )
    lines.append(
        f"\nBLAS (threadpoolctl): {'; '.join(blas)}. Environment: "
        + ", ".join(f"{k}={v if v is not None else '(unset)'}" for k, v in env.items())
    )
    command = " ".join(["python benchmarks/tensor_bench.py", *(argv or sys.argv[1:])])
    lines.append(
        f"\nMedian of {args.rounds} rounds ({args.clock} time); step = forward + backward + SGD "
        "update. "
        f"Command: `{command}`.\n"
    )
    lines += _targets(results)
    us, kib = ("us", 1e6, "{:.0f}"), ("KiB", 1 / 1024, "{:.0f}")
    # memory is compared with the plain NumPy step when it ran: its peak is the live set of one
    # step, while the floor keeps every buffer allocated at once (as compile_step does)
    mem_base = "numpy plain" if "numpy plain" in names else "numpy floor"
    tables = [
        ("Time per step (ratio to the NumPy floor)", 2, us, "numpy floor"),
        (
            "Best round (minimum over rounds: less sensitive to other load on the machine)",
            5,
            us,
            "numpy floor",
        ),
        (f"Peak memory of one step (tracemalloc, ratio to {mem_base})", 3, kib, mem_base),
        ("First-step loss (all engines start from the same weights)", 4, None, None),
    ]
    names_loss = [n for n in names if n != "sgemm only" and not n.startswith("update")]
    for title, column, unit, base in tables:
        shown = names_loss if unit is None else names
        lines += _table(title, shown, [(r[0], r[1], r[column]) for r in results], unit, base)
    publish("\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
