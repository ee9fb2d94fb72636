"""BLAS threads by problem size: one MLP training step (memograd's eager engine: forward,
backward, SGD update, float32) at 1 thread and at every core, for growing sizes; the ratio
t(cores) / t(1) measured in one run, and the thread count memograd.blas chooses.

    python benchmarks/blas_threads.py [--rounds 7] [--out results.md]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import _common  # puts src/ on the path

# (name, layer widths, batch); the largest matrix product's flops grow ~4 orders of magnitude
CASES = [
    ("digits (train default)", [64, 64, 64, 10], 32),
    ("digits, batch 256", [64, 64, 64, 10], 256),
    ("784-256-256-10, batch 32", [784, 256, 256, 10], 32),
    ("784-256-256-10, batch 256", [784, 256, 256, 10], 256),
    ("784-512-512-10, batch 512", [784, 512, 512, 10], 512),
    ("784-1024-1024-10, batch 1024", [784, 1024, 1024, 10], 1024),
]


def step_time(widths, batch, threads, rounds, steps):
    """Median over ``rounds`` of the mean time of ``steps`` training steps, in seconds."""
    from threadpoolctl import threadpool_limits

    import memograd as mg

    rng = np.random.default_rng(0)
    X = mg.tensor(rng.normal(size=(batch, widths[0])), dtype="float32")
    y = rng.integers(0, widths[-1], size=batch)
    model = mg.nn.MLP(widths, activation="relu", seed=0)
    opt = mg.optim.SGD(model.parameters(), lr=1e-3)
    times = []
    with threadpool_limits(limits=threads):
        for r in range(rounds + 1):
            t0 = time.perf_counter()
            for _ in range(steps):
                opt.zero_grad()
                loss = mg.nn.cross_entropy(model(X), y)
                loss.backward()
                opt.step()
            if r:  # the first round warms up
                times.append((time.perf_counter() - t0) / steps)
    return statistics.median(times)


def main(argv=None) -> None:
    from memograd.blas import MULTI_THREAD_FLOPS, cores, mlp_flops, threads_for

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", help="also write the markdown here")
    args = parser.parse_args(argv)
    n = cores()
    lines = [
        "## BLAS threads by problem size",
        "",
        f"Command: `python benchmarks/blas_threads.py --rounds {args.rounds}`; "
        f"{_common.machine()}; "
        f"NumPy {np.__version__}; threads set with threadpoolctl; {n} cores available; one run, "
        "on a machine shared with other jobs (ratios are what this run measured).",
        "",
        f"| workload | largest matmul (flops) | 1 thread (ms/step) | {n} threads (ms/step) | "
        f"{n} threads / 1 | memograd.blas picks |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, widths, batch in CASES:
        flops = mlp_flops(widths, batch)
        steps = max(1, int(2e8 / max(flops * 3, 1)))  # about 0.1-0.3 s per round
        steps = min(steps, 200)
        one = step_time(widths, batch, 1, args.rounds, steps)
        many = step_time(widths, batch, n, args.rounds, steps)
        lines.append(
            f"| {name} | {flops:,.0f} | {one * 1e3:.3f} | {many * 1e3:.3f} | "
            f"{many / one:.2f} | {threads_for(flops)} |"
        )
        print(lines[-1], flush=True)
    lines += [
        "",
        f"The rule (`memograd.blas.threads_for`): 1 thread below {MULTI_THREAD_FLOPS:,.0f} flops "
        "in the step's largest matrix product, every core above.",
    ]
    _common.publish("\n".join(lines), args.out)


if __name__ == "__main__":
    main()
