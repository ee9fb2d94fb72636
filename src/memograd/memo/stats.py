"""The call statistics of one memoized function (``.stats``) and its per-thread depth counter."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

# the very named tuple lru_cache returns: hits, misses, maxsize, currsize
CacheInfo = functools._CacheInfo


class MemoStats:
    """Live call statistics of one memoized function (for the lesson).

    ``calls = hits + misses`` (the C cache's counters), ``max_depth``: the deepest nesting of
    memoized calls that ran the function body, in any one thread (a call that is a hit returns at
    once and does not recurse further). ``cache_clear()`` resets all of them.
    """

    __slots__ = ("_info", "_local", "max_depth")

    def __init__(self, info: Callable[[], CacheInfo], local: _PerThread):
        self._info = info
        self._local = local
        self.max_depth = 0

    @property
    def hits(self) -> int:
        return self._info().hits

    @property
    def misses(self) -> int:
        return self._info().misses

    @property
    def calls(self) -> int:
        info = self._info()
        return info.hits + info.misses

    @property
    def depth(self) -> int:
        """Current nesting of running bodies in the calling thread (0 outside any call)."""
        return _depth_cell(self._local)[0]

    def as_dict(self) -> dict[str, int]:
        info = self._info()
        return {
            "calls": info.hits + info.misses,
            "hits": info.hits,
            "misses": info.misses,
            "max_depth": self.max_depth,
        }

    def __repr__(self) -> str:
        d = self.as_dict()
        return "MemoStats(" + ", ".join(f"{k}={v}" for k, v in d.items()) + ")"


class _PerThread(threading.local):
    """Per-thread state of one memoized function (class attributes are each thread's defaults)."""

    depth: list[int]  # [bodies of this function running in this thread], set on first use
    pending: tuple[tuple[Any, ...], dict[str, Any]] | None = None  # args handed over, with key=


def _depth_cell(local: _PerThread) -> list[int]:
    """The calling thread's depth counter: a one-element list, so that a miss reads the
    thread-local once and then counts in the list (a thread-local read costs several list ops)."""
    try:
        return local.depth
    except AttributeError:
        cell = local.depth = [0]
        return cell
