"""Fibonacci and start-up benchmarks (issue 12, target 5).

1. ``fib(10**6)`` by fast doubling: memograd's ``doubling`` (GMP integers through gmpy2 when
   installed, the ``fast`` extra; Python ints otherwise) against gmpy2's own ``fib`` (GMP's
   mpz_fib_ui) in the same process: the computation only (``FibRun.seconds``), best and median.
2. Start-up: CPU time (user + system; and the best wall time) of whole commands in fresh
   interpreters (bytecode compiled once into a temporary cache first, as an installed package
   has it): ``python -c pass`` (the floor),
   ``memograd --help``, ``memograd fib 10 --method iter``, ``memograd fib 30`` (all five methods),
   ``memograd fib 1000000 --method doubling``.

    python benchmarks/fib_bench.py [--repeats 15] [--out results.md]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from _common import SRC, machine, publish
from memograd import fibonacci as F


def _stats(times: list[float]) -> tuple[float, float]:
    return min(times), statistics.median(times)


def bench_doubling(n: int, repeats: int) -> list[tuple[str, float, float]]:
    rows = []
    try:
        import gmpy2
    except ImportError:
        gmpy2 = None
    if gmpy2 is not None:
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            gmpy2.fib(n)
            ts.append(time.perf_counter() - t)
        rows.append((f"gmpy2 {gmpy2.version()} fib (GMP mpz_fib_ui)", *_stats(ts)))
        runs = [F.measure(n, "doubling") for _ in range(repeats)]
        backend = runs[0].extra["integers"]
        rows.append((f"memograd doubling ({backend})", *_stats([r.seconds for r in runs])))
    saved = F._GMP_FROM_N
    F._GMP_FROM_N = 10**18  # the same steps on Python ints
    try:
        runs = [F.measure(n, "doubling") for _ in range(max(3, repeats // 3))]
    finally:
        F._GMP_FROM_N = saved
    rows.append(("memograd doubling (python int)", *_stats([r.seconds for r in runs])))
    return rows


COMMANDS = [
    ("python -c pass", ["-c", "pass"]),
    ("memograd --help", ["-m", "memograd", "--help"]),
    ("memograd fib 10 --method iter", ["-m", "memograd", "fib", "10", "--method", "iter"]),
    ("memograd fib 30", ["-m", "memograd", "fib", "30"]),
    (
        "memograd fib 1000000 --method doubling",
        ["-m", "memograd", "fib", "1000000", "--method", "doubling"],
    ),
]


def bench_startup(repeats: int) -> list[tuple[str, float, float]]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as cache:
        env["PYTHONPYCACHEPREFIX"] = cache

        def once(args) -> tuple[float, float]:
            """(wall s, CPU s) of one command: CPU time (user + system, of the child) is what the
            command costs; the wall time also counts waiting for a core on a busy machine."""
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run([sys.executable, *args], env=env, stdout=subprocess.DEVNULL, check=True)
            wall = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            return wall, cpu

        for _, args in COMMANDS:  # compile the bytecode once
            once(args)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in COMMANDS}
        for _ in range(repeats):  # interleaved rounds
            for name, args in COMMANDS:
                times[name].append(once(args))
    rows = []
    for name, _ in COMMANDS:
        wall = [w for w, _ in times[name]]
        cpu = [c for _, c in times[name]]
        rows.append((name, *_stats(cpu), min(wall)))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    lines = ["# Fibonacci and start-up", "", f"Machine: {machine()}", ""]
    lines += [
        f"## F({args.n:,}) by fast doubling (computation only, {args.repeats} runs)",
        "",
        "| implementation | best ms | median ms |",
        "|---|---:|---:|",
    ]
    for name, best, med in bench_doubling(args.n, args.repeats):
        lines.append(f"| {name} | {best * 1e3:.2f} | {med * 1e3:.2f} |")
    lines += [
        "",
        f"## Start-up: whole commands, fresh interpreters ({args.repeats} interleaved rounds)",
        "",
        "| command | CPU ms, best | CPU ms, median | wall ms, best |",
        "|---|---:|---:|---:|",
    ]
    for name, best, med, wall in bench_startup(args.repeats):
        lines.append(f"| `{name}` | {best * 1e3:.0f} | {med * 1e3:.0f} | {wall * 1e3:.0f} |")
    publish("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
