"""Scalar engine benchmarks: micrograd's own demo workload, and a chain of 10**6 ops.

1. micrograd's demo (its ``demo.ipynb``): a 2-16-16-1 MLP (ReLU hidden layers, linear output) on
   100 ``make_moons`` points (noise 0.1), SVM hinge loss ``mean(relu(1 - y·score))`` plus
   ``1e-4 · Σ p²``, full batch; one step = forward + zero_grad + backward + SGD update. Three
   engines from the same weights: micrograd, memograd's ``Value`` running micrograd's own
   element-wise neuron code (``sum(w_i * x_i, b)``: the same graph), and memograd's
   ``scalar.nn.MLP`` (a neuron is one fused weighted-sum node, its natural API). With the GC on
   (as users have it) whole steps; with it off, forward and backward timed apart.
2. A chain ``y = y + 1e-6`` of 10**6 ops from one leaf: forward and backward seconds, peak
   memory of forward + backward (tracemalloc, Python allocations), with the GC on; beside
   PyTorch's autograd on 0-d float64 tensors when torch is installed (tracemalloc does not see
   torch's C++ allocations, so its memory column reports resident-set growth instead).

    python benchmarks/scalar_bench.py [--steps 5] [--chain 1000000] [--out results.md]

Prints a markdown table with the machine and versions (and writes it to ``--out`` atomically).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

from _common import machine, publish
from memograd.scalar.nn import MLP
from memograd.scalar.value import Value


def moons(n: int = 100, seed: int = 1):
    """micrograd's data: make_moons(100, noise=0.1), labels -1/1. Made in a child process, so
    that scikit-learn's and NumPy's objects do not sit in the timed process's heap, where every
    full collection of the GC on would scan them for both engines alike."""
    code = (
        "import json; from sklearn.datasets import make_moons; "
        f"X, y = make_moons(n_samples={n}, noise=0.1, random_state={seed}); "
        "print(json.dumps([X.tolist(), (y * 2 - 1).tolist()]))"
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        return tuple(json.loads(out.stdout))
    except subprocess.CalledProcessError:  # pragma: no cover - [all] installs scikit-learn
        import math

        rng = random.Random(seed)
        X, Y = [], []
        for i in range(n):
            t = math.pi * rng.random()
            if i % 2:
                X.append([math.cos(t), math.sin(t)])
                Y.append(-1.0)
            else:
                X.append([1 - math.cos(t), 0.5 - math.sin(t)])
                Y.append(1.0)
        return X, Y


class ElementwiseMLP:
    """micrograd's own ``nn.MLP`` code (a neuron is ``sum(w_i * x_i, b)``, then relu), for any
    ``Value`` class: the same graph of element-wise ops on both engines."""

    def __init__(self, value_cls, weights: list[list[tuple[list[float], float]]]):
        self.layers = [
            [([value_cls(w) for w in ws], value_cls(b)) for ws, b in layer] for layer in weights
        ]

    def __call__(self, x):
        last = len(self.layers) - 1
        for k, layer in enumerate(self.layers):
            out = []
            for w, b in layer:
                act = sum((wi * xi for wi, xi in zip(w, x)), b)
                out.append(act.relu() if k < last else act)
            x = out
        return x[0]

    def parameters(self):
        return [p for layer in self.layers for w, b in layer for p in (*w, b)]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


# --- the training step, one code for every engine ------------------------------------------

# CPU time of this process: on a shared machine, wall time also counts the time spent waiting
# for a core, which other workers' load decides; the ratios are between engines of one run.
_clock = time.process_time


def train_step(model, X, Y, k: int, leaf=None) -> tuple[float, float, float, float]:
    """micrograd's demo step: hinge loss + 1e-4·Σp², backward, SGD with a decaying rate.
    ``leaf`` wraps each input number (as micrograd's demo does); None passes plain numbers.
    Returns (forward s, backward s incl. zero_grad, whole step s, loss)."""
    t0 = _clock()
    inputs = X if leaf is None else [list(map(leaf, x)) for x in X]
    scores = [model(x) for x in inputs]
    losses = [(1 + -y * s).relu() for y, s in zip(Y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    total = data_loss + reg_loss
    t1 = _clock()
    model.zero_grad()
    total.backward()
    t2 = _clock()
    lr = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= lr * p.grad
    loss = total.data
    del total, data_loss, reg_loss, losses, scores
    return t1 - t0, t2 - t1, _clock() - t0, loss


def contenders():
    """(name, model, leaf) for micrograd and memograd element-wise / fused, same weights."""
    from importlib.metadata import version

    from micrograd.engine import Value as MValue
    from micrograd.nn import MLP as MMLP

    random.seed(1337)
    mmodel = MMLP(2, [16, 16, 1])
    weights = [
        [([w.data for w in n.w], n.b.data) for n in layer.neurons] for layer in mmodel.layers
    ]
    fused = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=0)
    for ours, theirs in zip(fused.parameters(), mmodel.parameters(), strict=True):
        ours.data = theirs.data
    return [
        (f"micrograd {version('micrograd')}", mmodel, MValue),
        ("memograd Value, micrograd's element-wise neuron", ElementwiseMLP(Value, weights), Value),
        ("memograd scalar.nn.MLP (fused neuron: one wsum node)", fused, None),
    ]


def bench_mlp(steps: int) -> dict:
    """GC on: whole steps, rounds interleaved across engines (each trains its own copy from the
    same weights; the losses must agree step by step). GC off: forward and backward apart."""
    X, Y = moons()
    try:
        models = contenders()
    except ImportError:
        return {}
    out: dict = {name: {"on": [], "fwd": [], "bwd": [], "loss": []} for name, _, _ in models}
    gc.enable()
    for name, model, leaf in models:  # warm-up step
        out[name]["loss"].append(train_step(model, X, Y, 0, leaf)[3])
    for k in range(1, steps + 1):
        for name, model, leaf in models:
            gc.collect()  # the previous engine's garbage is not this engine's to collect
            _, _, t, loss = train_step(model, X, Y, k, leaf)
            out[name]["on"].append(t)
            out[name]["loss"].append(loss)
    gc.disable()
    try:
        for k in range(steps + 1, 2 * steps + 1):
            for name, model, leaf in models:
                gc.collect()
                f, b, _, loss = train_step(model, X, Y, k, leaf)
                out[name]["fwd"].append(f)
                out[name]["bwd"].append(b)
                out[name]["loss"].append(loss)
    finally:
        gc.enable()
    ref = next(iter(out.values()))["loss"]
    for r in out.values():
        r["gap"] = max(abs(a - b) for a, b in zip(r["loss"], ref))
    return out


# --- chain ------------------------------------------------------------------------------


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def chain_memograd(n: int, measure_memory: bool) -> dict:
    gc.collect()
    if measure_memory:
        tracemalloc.start()
    t0 = _clock()
    x = Value(0.5, "x")
    y = x
    for _ in range(n):
        y = y + 1e-6
    t1 = _clock()
    y.backward()
    t2 = _clock()
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if measure_memory else None
    if measure_memory:
        tracemalloc.stop()
    assert x.grad == 1.0
    del y
    t3 = _clock()
    return {"forward": t1 - t0, "backward": t2 - t1, "free": t3 - t2, "peak_mib": peak}


def chain_torch(n: int, measure_memory: bool) -> dict:
    import torch

    torch.set_num_threads(1)
    gc.collect()
    before = _rss_mib()
    t0 = _clock()
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    y = x
    for _ in range(n):
        y = y + 1e-6
    t1 = _clock()
    y.backward()
    t2 = _clock()
    peak = _rss_mib() - before
    assert float(x.grad) == 1.0
    del y
    t3 = _clock()
    return {
        "forward": t1 - t0,
        "backward": t2 - t1,
        "free": t3 - t2,
        "peak_mib": peak,
        "version": torch.__version__,
    }


def chain_in_subprocess(engine: str, n: int, measure_memory: bool) -> dict | None:
    """Each chain run in a fresh interpreter, so that peaks and GC state do not leak across."""
    cmd = [sys.executable, __file__, "--chain-run", engine, "--chain", str(n)]
    if measure_memory:
        cmd.append("--memory")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--chain", type=int, default=1_000_000)
    parser.add_argument("--out", help="also write the markdown here")
    parser.add_argument("--chain-run", choices=("memograd", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.chain_run:
        run = chain_memograd if args.chain_run == "memograd" else chain_torch
        print(json.dumps(run(args.chain, args.memory)))
        return 0

    lines = ["# Scalar engine benchmarks", "", f"Machine: {machine()}", ""]
    med = statistics.median
    res = bench_mlp(args.steps)
    lines += [
        "## micrograd's demo step: 2-16-16-1 ReLU MLP, 100 make_moons points, hinge + 1e-4 L2",
        "",
        "One step = forward + zero_grad + backward + SGD update, full batch, every engine from "
        "micrograd's weights (their losses agree at every step: last column). GC on: "
        f"{args.steps} whole steps per engine, rounds interleaved across engines. GC off: "
        f"{args.steps} more steps, forward and backward timed apart. CPU time of the process "
        "(time.process_time). The data is made in a child process (scikit-learn is not in the "
        "timed heap). Ratios: micrograd's time / this one, from the fastest step and from the "
        "median step (best / median).",
        "",
        "| engine | GC on: s/step best / median | vs micrograd | GC off: forward s | vs "
        "| GC off: backward s | vs | max loss gap |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    if not res:
        lines.append("| micrograd | not installed | | | | | | |")
    else:
        base = next(iter(res.values()))

        def cells(key: str, r: dict) -> tuple[str, str]:
            b_best, b_med = min(base[key]), med(base[key])
            best, middle = min(r[key]), med(r[key])
            return (
                f"{best:.4f} / {middle:.4f}",
                f"{b_best / best:.1f} / {b_med / middle:.1f}x",
            )

        for name, r in res.items():
            on, on_vs = cells("on", r)
            f, f_vs = cells("fwd", r)
            b, b_vs = cells("bwd", r)
            lines.append(
                f"| {name} | {on} | {on_vs} | {f} | {f_vs} | {b} | {b_vs} | {r['gap']:.1e} |"
            )
    lines += [
        "",
        f"## A chain of {args.chain:,} ops (y = y + 1e-6), forward + backward, GC on",
        "",
        "CPU times (time.process_time) from a run without tracing; memograd's peak from a "
        "second run under tracemalloc "
        "(Python allocations, forward + backward); PyTorch (1 thread, 0-d float64 tensors) "
        "allocates in C++, invisible to tracemalloc, so its column is the growth of the "
        "process's maximum resident set. Each run in a fresh interpreter.",
        "",
        "| engine | forward s | backward s | free s | peak MiB |",
        "|---|---:|---:|---:|---:|",
    ]
    mg = chain_in_subprocess("memograd", args.chain, False)
    mem = chain_in_subprocess("memograd", args.chain, True)
    if mg is not None:
        peak = f"{mem['peak_mib']:.0f} (tracemalloc)" if mem else "-"
        lines.append(
            f"| memograd | {mg['forward']:.3f} | {mg['backward']:.3f} | {mg['free']:.3f} | {peak} |"
        )
    th = chain_in_subprocess("torch", args.chain, False)
    if th is None:
        lines.append("| torch | - | - | - | not installed |")
    else:
        lines.append(
            f"| torch {th['version']} | {th['forward']:.3f} | {th['backward']:.3f} | "
            f"{th['free']:.3f} | {th['peak_mib']:.0f} (max RSS growth) |"
        )
    text = "\n".join(lines) + "\n"
    publish(text, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
