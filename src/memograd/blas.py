"""How many BLAS threads a piece of work gets: chosen by its size, applied with threadpoolctl.

Small matrix products lose time to thread start-up and, on a loaded machine, to waiting for a
core: ``memograd train --dataset digits`` (64-64-64-10, batch 32) took 13.1 s with OpenBLAS's
default threads on a shared 2-core machine and 5.8 s with one. Large products gain from more
threads. The rule, from ``benchmarks/blas_threads.py`` (numbers in benchmarks/README.md)::

    threads_for(flops) = 1                             if flops < MULTI_THREAD_FLOPS
                         the idle cores (at least 1)   otherwise

``flops`` is the cost of the largest matrix product of one step (2·m·k·n); for an MLP step,
:func:`mlp_flops`. Applying a choice needs ``threadpoolctl`` (``pip install 'memograd[threads]'``,
also in ``[all]``); without it, ``"auto"`` leaves NumPy's default and an explicit number is an
error that names the extra.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence

from memograd.errors import MemogradValueError, MissingExtraError

# below this many floating-point operations in one matrix product, one thread is faster (measured)
MULTI_THREAD_FLOPS = 2.0e8
EXTRA = "threads"


def available() -> bool:
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        return False
    return True


def cores() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def mlp_flops(widths: Sequence[int], batch: int) -> float:
    """Floating-point operations of the largest matrix product in one training step of an MLP
    with layer ``widths`` (inputs first) on ``batch`` rows: 2·batch·m·n for the biggest layer."""
    return max((2.0 * batch * m * n for m, n in zip(widths, widths[1:])), default=0.0)


def idle_cores() -> int:
    """Cores not busy with other work: the affinity count minus the 1-minute load average
    (this process included, so at least 1)."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - not Unix
        return cores()
    return max(1, min(cores(), int(cores() - load + 1)))


def threads_for(flops: float, max_threads: int | None = None, free: int | None = None) -> int:
    """The rule of the module docstring: one thread for small products; otherwise the cores
    that are free (``free``, default :func:`idle_cores`; a busy machine makes extra threads
    wait for a core, which costs more than they gain), at most ``max_threads``."""
    if flops < MULTI_THREAD_FLOPS:
        return 1
    free = idle_cores() if free is None else free
    return max(1, min(free, max_threads or free))


def parse_threads(text: str) -> int | None:
    """``"auto"`` -> None; ``"2"`` -> 2 (for ``--threads``)."""
    if text == "auto":
        return None
    try:
        n = int(text)
    except ValueError:
        raise MemogradValueError(
            f"--threads: expected auto or a whole number, got {text!r}"
        ) from None
    if n < 1:
        raise MemogradValueError(f"--threads: must be at least 1, got {n}")
    return n


@contextlib.contextmanager
def limit(threads: int | None) -> Iterator[int | None]:
    """BLAS (and OpenMP) threads set to ``threads`` inside the block; ``None`` changes nothing.
    Yields the number in force (``None``: NumPy's default)."""
    if threads is None:
        yield None
        return
    if threads < 1:
        raise MemogradValueError(f"threads must be at least 1, got {threads}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise MissingExtraError(
            f"setting BLAS threads ({threads}) needs threadpoolctl: "
            f"pip install 'memograd[{EXTRA}]' (or leave the thread count on auto)"
        ) from None
    with threadpool_limits(limits=threads):
        yield threads


@contextlib.contextmanager
def auto(flops: float, threads: int | None = None) -> Iterator[int | None]:
    """``threads`` when given, else :func:`threads_for` (``flops``) when threadpoolctl is there,
    else NumPy's default. Yields the number in force (``None``: the default)."""
    if threads is None:
        if not available():
            yield None
            return
        threads = threads_for(flops)
    with limit(threads) as n:
        yield n
