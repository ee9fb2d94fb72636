"""Scalar engine benchmarks: micrograd's own demo workload, and a chain of 10**6 ops.

1. micrograd's demo (its ``demo.ipynb``): a 2-16-16-1 MLP (ReLU hidden layers, linear output) on
   100 ``make_moons`` points (noise 0.1), SVM hinge loss ``mean(relu(1 - y·score))`` plus
   ``1e-4 · Σ p²``, full batch; one step = forward + zero_grad + backward + SGD update, with the
   garbage collector ON (as users have it). memograd's ``Value``/``scalar.nn.MLP`` against the
   ``micrograd`` package in the same run, the same code shape on both sides (memograd's neuron is
   one fused weighted-sum node, its natural API). Median seconds per step over ``--steps`` steps
   after one warm-up step.
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
    try:
        from sklearn.datasets import make_moons

        X, y = make_moons(n_samples=n, noise=0.1, random_state=seed)
        return X.tolist(), (y * 2 - 1).tolist()
    except ImportError:  # pragma: no cover - the bench extra installs scikit-learn via [all]
        rng = random.Random(seed)
        X, Y = [], []
        import math

        for i in range(n):
            t = math.pi * rng.random()
            if i % 2:
                X.append([math.cos(t), math.sin(t)])
                Y.append(-1.0)
            else:
                X.append([1 - math.cos(t), 0.5 - math.sin(t)])
                Y.append(1.0)
        return X, Y


# --- the training step, one code for both engines ----------------------------------------


def train_step(model, X, Y, k: int, leaf=None) -> float:
    """micrograd's demo step: hinge loss + 1e-4·Σp², backward, SGD with a decaying rate.
    ``leaf`` wraps each input number (micrograd's Value); memograd's MLP takes numbers."""
    inputs = X if leaf is None else [list(map(leaf, x)) for x in X]
    scores = [model(x) for x in inputs]
    losses = [(1 + -y * s).relu() for y, s in zip(Y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    total = data_loss + reg_loss
    model.zero_grad()
    total.backward()
    lr = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= lr * p.grad
    return total.data


def time_steps(model, X, Y, steps: int, leaf=None) -> tuple[float, list[float]]:
    gc.enable()
    losses = [train_step(model, X, Y, 0, leaf)]  # warm-up
    times = []
    for k in range(1, steps + 1):
        t = time.perf_counter()
        losses.append(train_step(model, X, Y, k, leaf))
        times.append(time.perf_counter() - t)
    return statistics.median(times), losses


def bench_mlp(steps: int) -> list[dict]:
    """Both engines start from the same weights (micrograd's, copied by position: both list
    parameters layer by layer, per neuron its weights then its bias), so their losses must agree
    step by step: the benchmark checks that they compute the same thing."""
    X, Y = moons()
    model = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=1337)
    try:
        from importlib.metadata import version

        from micrograd.engine import Value as MValue
        from micrograd.nn import MLP as MMLP
    except ImportError:
        t, losses = time_steps(model, X, Y, steps)
        return [
            {"engine": "memograd", "seconds": t, "loss0": losses[0], "loss": losses[-1]},
            {"engine": "micrograd", "seconds": None, "note": "not installed"},
        ]
    random.seed(1337)
    mmodel = MMLP(2, [16, 16, 1])
    for ours, theirs in zip(model.parameters(), mmodel.parameters(), strict=True):
        ours.data = theirs.data
    t, losses = time_steps(model, X, Y, steps)
    mt, mlosses = time_steps(mmodel, X, Y, steps, leaf=MValue)
    gap = max(abs(a - b) for a, b in zip(losses, mlosses))
    return [
        {"engine": "memograd", "seconds": t, "loss0": losses[0], "loss": losses[-1], "gap": gap},
        {
            "engine": f"micrograd {version('micrograd')}",
            "seconds": mt,
            "loss0": mlosses[0],
            "loss": mlosses[-1],
            "gap": gap,
        },
    ]


# --- chain ------------------------------------------------------------------------------


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def chain_memograd(n: int, measure_memory: bool) -> dict:
    gc.collect()
    if measure_memory:
        tracemalloc.start()
    t0 = time.perf_counter()
    x = Value(0.5, "x")
    y = x
    for _ in range(n):
        y = y + 1e-6
    t1 = time.perf_counter()
    y.backward()
    t2 = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if measure_memory else None
    if measure_memory:
        tracemalloc.stop()
    assert x.grad == 1.0
    del y
    t3 = time.perf_counter()
    return {"forward": t1 - t0, "backward": t2 - t1, "free": t3 - t2, "peak_mib": peak}


def chain_torch(n: int, measure_memory: bool) -> dict:
    import torch

    torch.set_num_threads(1)
    gc.collect()
    before = _rss_mib()
    t0 = time.perf_counter()
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    y = x
    for _ in range(n):
        y = y + 1e-6
    t1 = time.perf_counter()
    y.backward()
    t2 = time.perf_counter()
    peak = _rss_mib() - before
    assert float(x.grad) == 1.0
    del y
    t3 = time.perf_counter()
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
    lines += [
        "## micrograd's demo step: 2-16-16-1 ReLU MLP, 100 make_moons points, hinge + 1e-4 L2",
        "",
        "Full batch; one step = forward + zero_grad + backward + SGD update; GC on; median of "
        f"{args.steps} steps after a warm-up step. Both start from the same weights "
        "(micrograd's, copied into memograd's MLP), so their losses must agree at every step: "
        "the last column gives the largest difference.",
        "",
        "| engine | seconds / step | speed-up | loss (warm-up step -> last) | max loss gap |",
        "|---|---:|---:|---|---:|",
    ]
    rows = bench_mlp(args.steps)
    base = next((r["seconds"] for r in rows if r["engine"].startswith("micrograd")), None)
    for r in rows:
        if r["seconds"] is None:
            lines.append(f"| {r['engine']} | - | - | {r['note']} | - |")
            continue
        speed = f"{base / r['seconds']:.1f}x" if base else "-"
        gap = f"{r['gap']:.1e}" if "gap" in r else "-"
        lines.append(
            f"| {r['engine']} | {r['seconds']:.4f} | {speed} | "
            f"{r['loss0']:.4f} -> {r['loss']:.4f} | {gap} |"
        )
    lines += [
        "",
        f"## A chain of {args.chain:,} ops (y = y + 1e-6), forward + backward, GC on",
        "",
        "Times from a run without tracing; memograd's peak from a second run under tracemalloc "
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
