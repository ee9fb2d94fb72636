"""Per-call cost of ``memograd.memoize`` against ``functools.lru_cache``, on hits and on misses.

Each figure is the median over ``--repeats`` rounds of the time per call of a loop of ``--calls``
calls, in nanoseconds (the cyclic garbage collector off while timing, as timeit does). The loop
itself is included, and a plain (unmemoized) function is a baseline row, so that overhead reads
as the difference between rows. The function body is trivial (``return x``): the figures are
the cost of the caching machinery itself. Rounds are interleaved across contenders.

    python benchmarks/memo_bench.py [--calls 200000] [--repeats 7] [--fib-n 200] [--out results.md]

Prints a markdown table with the Python version and the machine.
"""

from __future__ import annotations

import argparse
import functools
import gc
import platform
import statistics
import sys
import time

from _common import cpu_model, publish
from memograd.memo import array_key, memoize


def body(x):
    return x


def _time_loop(f, keys) -> float:
    """Seconds per call of ``for k in keys: f(k)``."""
    gc_was = gc.isenabled()
    gc.collect()  # start every timed loop with no garbage left by the previous one
    gc.disable()
    try:
        start = time.process_time()
        for k in keys:
            f(k)
        return (time.process_time() - start) / len(keys)
    finally:
        if gc_was:
            gc.enable()


def hit_round(make, calls: int) -> float:
    f = make(body)
    f(1)  # warm: every call below is a hit
    return _time_loop(f, [1] * calls)


def miss_round(make, calls: int) -> float:
    f = make(body)  # a fresh, empty cache: all keys distinct, every call is a miss
    return _time_loop(f, list(range(calls)))  # (and, bounded, an eviction once full)


def fib_round(make, n: int) -> float:
    """Seconds to compute fib(n) recursively from an empty cache (n + 1 misses, n - 2 hits)."""
    cached = _fresh_fib(make)
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        cached(n)
        return time.process_time() - start
    finally:
        gc.enable()


def _fresh_fib(make):
    def fib(k):
        return k if k < 2 else cached(k - 1) + cached(k - 2)

    cached = make(fib)
    return cached


CONTENDERS = [
    ("plain function (no cache)", None),
    ("functools.lru_cache(maxsize=None)", functools.lru_cache(maxsize=None)),
    ("memograd.memoize", memoize),
    ("functools.lru_cache(maxsize=128)", functools.lru_cache(maxsize=128)),
    ("memograd.memoize(maxsize=128)", memoize(maxsize=128)),
    ("memograd.memoize(key=array_key)", memoize(key=array_key)),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--fib-n", type=int, default=200)
    parser.add_argument("--out", help="also write the table to this file (atomically)")
    args = parser.parse_args(argv)

    # Rounds are interleaved (every contender once per round, in turn), so that a load that
    # comes and goes on the machine touches every contender alike; each figure is the median.
    samples = {name: ([], [], []) for name, _ in CONTENDERS}
    for _ in range(args.repeats):
        for name, make in CONTENDERS:
            hit, miss, fib = samples[name]
            make = make or (lambda f: f)  # the baseline: the loop and one call, nothing cached
            hit.append(hit_round(make, args.calls))
            miss.append(miss_round(make, args.calls // 2))
            if name != CONTENDERS[0][0]:
                fib.append(fib_round(make, args.fib_n))
    rows = []
    med = statistics.median
    for name, _ in CONTENDERS:
        hit, miss, fib = samples[name]
        rows.append((name, med(hit), med(miss), med(fib) if fib else None, min(hit), min(miss)))
        print(
            f"  {name}: hit {med(hit) * 1e9:.0f} ns, miss {med(miss) * 1e9:.0f} ns", file=sys.stderr
        )

    base = {r[0]: r for r in rows}["functools.lru_cache(maxsize=None)"]
    lines = [
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.machine()}, {cpu_model()}; {args.repeats} interleaved "
        f"rounds of {args.calls:,} hit calls / {args.calls // 2:,} miss calls; body `return x`; "
        "CPU time of the process (time.process_time: waiting for a core on a shared machine is "
        "not counted). Times are medians over rounds; ratios are best round / median round. "
        f"Command: `python benchmarks/memo_bench.py --calls {args.calls} --repeats "
        f"{args.repeats}`.",
        "",
        f"| wrapper | hit, ns/call | miss, ns/call | fib({args.fib_n}) from empty, µs "
        "| hit vs lru_cache (best / median) | miss vs lru_cache (best / median) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, hit, miss, fib, hit_best, miss_best in rows:
        fib_text = "-" if fib is None else f"{fib * 1e6:.0f}"
        lines.append(
            f"| {name} | {hit * 1e9:.0f} | {miss * 1e9:.0f} | {fib_text} "
            f"| {hit_best / base[4]:.2f} / {hit / base[1]:.2f}× "
            f"| {miss_best / base[5]:.2f} / {miss / base[2]:.2f}× |"
        )
    text = "\n".join(lines) + "\n"
    publish(text, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
