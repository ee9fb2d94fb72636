"""Memory against recompute: √n checkpointing vs store-everything, memograd and PyTorch.

    python benchmarks/memory_bench.py [--depth 100] [--width 256] [--batch 64] [--rounds 5]

One training step (forward, loss, backward) of an MLP with ``depth`` hidden Linear+ReLU layers,
float32, one BLAS thread. Memory is measured two ways:

- ``activations + memo``: memograd's own account (``mg.memory_report``: saved activations and memo
  table at the peak of backward, recompute included); PyTorch has no such account.
- ``RSS rise``: the process's resident memory, sampled every 0.2 ms by a thread during the second
  step of a fresh process whose gradients are already allocated, minus the RSS just before; with
  glibc's ``MALLOC_MMAP_THRESHOLD_=16384`` so that freed activations go back to the system and RSS
  follows the live bytes. The same method for both libraries.

Time: fastest and median of ``--rounds`` steps, in one process per library and mode.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time

from _common import machine, publish

HERE = os.path.dirname(os.path.abspath(__file__))


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_during(fn) -> int:
    base = _rss()
    peak = [base]
    done = threading.Event()

    def sample():
        while not done.is_set():
            r = _rss()
            if r > peak[0]:
                peak[0] = r
            time.sleep(0.0002)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    fn()
    done.set()
    t.join()
    return max(peak[0], _rss()) - base


def run_memograd(depth, width, batch, mode, rounds):
    import numpy as np

    import memograd as mg

    rng = np.random.default_rng(0)
    x = mg.tensor(rng.normal(size=(batch, width)).astype(np.float32))
    y = rng.integers(0, 10, batch)
    model = mg.nn.MLP([width] + [width] * depth + [10], "relu", seed=0)
    n = len(list(model))
    segments = max(1, round(math.sqrt(n)))
    for p in model.parameters():
        p.grad = mg.tensor(np.zeros_like(p.data))

    def step():
        out = model(x) if mode == "store" else mg.nn.checkpoint_sequential(model, segments, x)
        mg.tensor.cross_entropy(out, y).backward()

    step()  # warm-up: lazy initialisation, allocator pools
    rise = _peak_during(step)
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    out = model(x) if mode == "store" else mg.nn.checkpoint_sequential(model, segments, x)
    report = mg.memory_report(mg.tensor.cross_entropy(out, y), show=False)
    return {"rise": rise, "account": report.peak, "times": times, "segments": segments}


def run_torch(depth, width, batch, mode, rounds):
    import torch
    from torch.utils.checkpoint import checkpoint_sequential

    torch.set_num_threads(1)
    torch.manual_seed(0)
    layers = []
    for _ in range(depth):
        layers += [torch.nn.Linear(width, width), torch.nn.ReLU()]
    layers.append(torch.nn.Linear(width, 10))
    model = torch.nn.Sequential(torch.nn.Linear(width, width), torch.nn.ReLU(), *layers[2:])
    n = len(model)
    segments = max(1, round(math.sqrt(n)))
    x = torch.randn(batch, width)
    y = torch.randint(0, 10, (batch,))
    for p in model.parameters():
        p.grad = torch.zeros_like(p)

    def step():
        if mode == "store":
            out = model(x)
        else:
            out = checkpoint_sequential(model, segments, x, use_reentrant=False)
        torch.nn.functional.cross_entropy(out, y).backward()

    step()  # warm-up: lazy initialisation, allocator pools
    rise = _peak_during(step)
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return {"rise": rise, "account": None, "times": times, "segments": segments}


def chain_row(layers: int = 1000, width: int = 32, batch: int = 16) -> str:
    """A ``layers``-deep chain trained under a quarter of its store-everything peak."""
    import numpy as np

    import memograd as mg

    rng = np.random.default_rng(0)
    x = mg.tensor(rng.normal(size=(batch, width)).astype(np.float32))
    y = rng.integers(0, 4, batch)
    depth = layers // 2  # 2 modules per hidden layer (Linear, Tanh) + the output Linear
    make = lambda: mg.nn.MLP([width] * (depth + 1) + [4], "tanh", seed=0)  # noqa: E731
    full = mg.memory_report(mg.tensor.cross_entropy(make()(x), y), show=False).peak
    m = make()
    m.memory_budget = full // 4
    t = time.perf_counter()
    p = mg.nn.plan(m, x, m.memory_budget)
    report = mg.memory_report(mg.tensor.cross_entropy(m(x), y), show=False)
    secs = time.perf_counter() - t
    return (
        f"A {len(list(m.children()))}-layer chain (width {width}, batch {batch}): store-everything "
        f"peaks at {full / 2**20:.2f} MiB; under a budget of a quarter of that "
        f"({m.memory_budget / 2**20:.2f} MiB) the plan has {p.segments} segments, recomputes "
        f"{p.recompute} layers, and the measured peak is {report.peak / 2**20:.2f} MiB "
        f"({report.peak / full:.2f} of store-everything); planning and the step took {secs:.1f} s."
    )


def child(args) -> None:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        fn = run_memograd if args.lib == "memograd" else run_torch
        res = fn(args.depth, args.width, args.batch, args.mode, args.rounds)
    print(json.dumps(res))


def measure(lib, mode, args) -> dict:
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "16384", "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        os.path.join(HERE, "memory_bench.py"),
        "--child",
        "--lib",
        lib,
        "--mode",
        mode,
        "--depth",
        str(args.depth),
        "--width",
        str(args.width),
        "--batch",
        str(args.batch),
        "--rounds",
        str(args.rounds),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=100)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--lib", default="memograd", help=argparse.SUPPRESS)
    ap.add_argument("--mode", default="store", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    libs = ["memograd"]
    try:
        import torch  # noqa: F401

        libs.append("torch")
        tv = f"PyTorch {torch.__version__}"
    except ImportError:
        tv = "PyTorch not installed"
    import numpy as np

    res = {(lib, mode): measure(lib, mode, args) for lib in libs for mode in ("store", "sqrt")}
    lines = [
        f"## Memory against recompute: {args.depth}-layer MLP, width {args.width}, "
        f"batch {args.batch}",
        "",
        f"Machine: {machine()}; shared with other work while measured. numpy {np.__version__}, "
        f"{tv}; float32, 1 BLAS thread. Command: `python benchmarks/memory_bench.py --depth "
        f"{args.depth} --width {args.width} --batch {args.batch} --rounds {args.rounds}`.",
        "",
        "| library | schedule | activations + memo (memograd's account) | RSS rise in a step "
        "| step fastest | step median | memory vs store-all | time vs store-all |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for lib in libs:
        s, c = res[(lib, "store")], res[(lib, "sqrt")]
        for mode, r in (("store everything", s), (f"√n: {c['segments']} segments", c)):
            acc = f"{r['account'] / 2**20:.2f} MiB" if r["account"] is not None else "n/a"
            key = "account" if lib == "memograd" else "rise"
            mem = r[key] / s[key] if s[key] else float("nan")
            tm = min(r["times"]) / min(s["times"])
            lines.append(
                f"| {lib} | {mode} | {acc} | {r['rise'] / 2**20:.2f} MiB | "
                f"{min(r['times']) * 1e3:.1f} ms | {statistics.median(r['times']) * 1e3:.1f} ms | "
                f"{mem:.2f} | {tm:.2f} |"
            )
    lines += ["", chain_row()]
    lines += [
        "",
        "memory vs store-all: memograd's own account for memograd, the RSS rise for PyTorch "
        "(which has no account); time vs store-all: fastest step against fastest step.",
    ]
    publish("\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
