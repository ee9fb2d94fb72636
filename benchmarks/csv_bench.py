"""CSV loading: ``memograd.data.load_csv`` against ``numpy.loadtxt`` on a numeric file.

Writes a CSV of ``--rows`` rows (``--features`` numeric columns with 6 decimals and an integer
class label, a header line) in a temporary folder, then times, interleaved over ``--repeats``
rounds (median):

* ``numpy.loadtxt`` on the whole file (the floor: parsing only, no checks, no labels);
* ``load_csv`` (its fast path: one ``numpy.loadtxt`` call for a plain file, then the checks);
* ``load_csv`` forced through the cell-by-cell reader (the path that names the bad cell; what
  every file took before the fast path).

One BLAS thread (threadpoolctl, when installed). Prints a markdown table with rows/s.

    python benchmarks/csv_bench.py [--rows 200000] [--features 10] [--repeats 5] [--out F.md]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np

from _common import machine, publish
from memograd.data import csv_files, load_csv


def write_file(path: Path, rows: int, features: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, features))
    y = (X[:, 0] > 0).astype(int)
    header = ",".join([f"f{i}" for i in range(features)] + ["label"])
    body = np.column_stack([X, y])
    fmt = ",".join(["%.6f"] * features + ["%d"])
    np.savetxt(path, body, fmt=fmt, header=header, comments="")


def contenders(path: Path):
    def loadtxt():
        return np.loadtxt(path, delimiter=",", skiprows=1)

    def fast():
        return load_csv(path, "label")

    def cell_by_cell():
        with mock.patch.object(csv_files._Lines, "of", classmethod(lambda cls, t, d: None)):
            return load_csv(path, "label")

    return {"numpy.loadtxt": loadtxt, "load_csv": fast, "load_csv, cell by cell": cell_by_cell}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--features", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out")
    args = ap.parse_args()
    try:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(1)
    except ImportError:  # pragma: no cover - bench extra not installed
        limits = None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "numeric.csv"
        write_file(path, args.rows, args.features)
        size = path.stat().st_size
        funcs = contenders(path)
        a, b = funcs["load_csv"](), funcs["load_csv, cell by cell"]()
        assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y) and a.classes == b.classes
        times: dict[str, list[float]] = {k: [] for k in funcs}
        for _ in range(args.repeats):
            for name, f in funcs.items():
                start = time.perf_counter()
                f()
                times[name].append(time.perf_counter() - start)
    if limits is not None:
        limits.unregister()
    floor = statistics.median(times["numpy.loadtxt"])
    lines = [
        f"CSV of {args.rows:,} rows x {args.features} numeric features + an integer label "
        f"({size / 1e6:.1f} MB), median of {args.repeats} interleaved rounds; {machine()}; "
        f"NumPy {np.__version__}",
        "",
        "| reader | seconds | rows/s | vs numpy.loadtxt |",
        "|---|---|---|---|",
    ]
    for name, ts in times.items():
        t = statistics.median(ts)
        lines.append(f"| {name} | {t:.3f} | {args.rows / t:,.0f} | {t / floor:.2f}x |")
    publish("\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
