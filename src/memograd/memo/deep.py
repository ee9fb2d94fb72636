"""Deep recursion: how many recursion-limit units a memoized level uses, and ``run_deep``, which
runs a recursion deeper than the limit in a worker thread with a big stack."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

# Recursion-limit units one level of memoized recursion uses, at most: Python frames for the miss
# and the function, the C cache's call, and (bounded or key=) the Python wrapper. lru_cache uses
# two (the function and its C call), so with the default limit of 1000 a memoized recursion
# reaches about 240-330 levels where lru_cache reaches about 490: the price of the depth
# statistics and the mirror table. For deeper recursion use run_deep() below.
FRAMES_PER_LEVEL = 4

# CPython 3.12 and 3.13 cap recursion *through C code* (a C function such as the lru_cache calling
# back into Python) at a fixed depth that neither sys.setrecursionlimit nor a bigger thread stack
# raises: seen here, a memoized (or lru_cache) recursion stops near 500 levels on 3.12.1 and
# between 3,000 and 4,000 on 3.13.0. CPython 3.10 and 3.11 have no such cap (run_deep reaches
# 100,000 levels there); 3.14 checks the real stack instead, which run_deep makes big.
C_RECURSION_CAPPED = sys.version_info[:2] in ((3, 12), (3, 13))

# Python's recursion limit (1000 by default) protects the C stack of the thread, typically 8 MiB.
# A memoized recursion crosses C (the lru_cache) at every level, which costs about 1 KiB of C stack
# per level on CPython 3.11: raising the limit alone crashes the process with a segmentation fault
# somewhere near 10,000 levels (seen here with a 32 MiB stack at 100,000 levels), so running in the
# calling thread with a larger limit is not sound. run_deep() instead runs the recursion in a worker
# thread created with a stack sized for it (threading.stack_size: 16 MiB + 3 KiB per level; virtual
# memory, only touched as deep as the recursion goes) and raises the limit while such a run is in
# progress. The limit is process-wide in CPython (there is no per-thread limit), so it is restored
# when the last deep run ends. The caller waits; an exception in the worker is re-raised in the
# caller. Ctrl-C reaches the waiting caller (the worker is a daemon thread and is abandoned).
_DEEP_LOCK = threading.Lock()
_deep_runs = 0
_saved_limit: int | None = None


def run_deep(fn: Callable[[], Any], levels: int, frames_per_level: int = FRAMES_PER_LEVEL) -> Any:
    """``fn()`` with room for ``levels`` levels of recursion of ``frames_per_level`` frames each,
    without the caller touching ``sys.setrecursionlimit``. Runs inline when it fits the current
    limit with a margin of 200 frames, else in a big-stack worker thread (see the comment above).
    On CPython 3.12 and 3.13 a memoized recursion still stops at their fixed C recursion cap
    (``C_RECURSION_CAPPED``): there, fill the cache bottom-up in steps instead, as
    ``memograd.fibonacci`` does.

    >>> from memograd.memo import memoize
    >>> @memoize
    ... def count(k):
    ...     return 0 if k == 0 else 1 + count(k - 1)
    >>> run_deep(lambda: count(50_000), levels=50_000) if not C_RECURSION_CAPPED else 50_000
    50000
    """
    global _deep_runs, _saved_limit
    needed = frames_per_level * levels + 200
    if needed < sys.getrecursionlimit() - 200:
        return fn()
    with _DEEP_LOCK:
        if _deep_runs == 0:
            _saved_limit = sys.getrecursionlimit()
        _deep_runs += 1
        if sys.getrecursionlimit() < needed + 1000:
            sys.setrecursionlimit(needed + 1000)
        old_size = threading.stack_size()
        result: dict[str, Any] = {}

        def work() -> None:
            try:
                result["value"] = fn()
            except BaseException as exc:  # re-raised in the caller
                result["error"] = exc

        try:
            threading.stack_size(16 * 2**20 + 3 * 1024 * levels)
            worker = threading.Thread(target=work, name="memograd-deep", daemon=True)
            worker.start()
        except BaseException:
            _deep_runs -= 1
            if _deep_runs == 0 and _saved_limit is not None:
                sys.setrecursionlimit(_saved_limit)
            raise
        finally:
            threading.stack_size(old_size)
    try:
        worker.join()
    finally:
        with _DEEP_LOCK:
            _deep_runs -= 1
            if _deep_runs == 0 and _saved_limit is not None:
                sys.setrecursionlimit(_saved_limit)
    if "error" in result:
        raise result["error"]
    return result["value"]
