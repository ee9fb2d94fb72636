"""The public decorator: ``memoize`` builds a C ``lru_cache`` around the miss frame and sets the
cache's attributes (``cache_info``, ``cache_clear``, ``cache``, ``stats``) on the result."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, overload

from memograd.errors import MemogradTypeError, MemogradValueError
from memograd.memo.keys import _table_key, _unhashable_error
from memograd.memo.miss import _exact_miss, _simple_parameters
from memograd.memo.stats import CacheInfo, MemoStats, _depth_cell, _PerThread
from memograd.memo.table import (
    _C_TABLE_READABLE,
    _BoundedView,
    _Entry,
    _EntryRef,
    _find_c_table,
)

_P = ParamSpec("_P")
_R = TypeVar("_R")


class Memoized(Protocol, Generic[_P, _R]):
    """What :func:`memoize` returns, for type checkers: the function's own signature and result,
    plus the cache's attributes."""

    cache: Mapping[Any, Any]
    stats: MemoStats
    __wrapped__: Callable[_P, _R]

    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...
    def cache_info(self) -> CacheInfo: ...
    def cache_clear(self) -> None: ...
    def cache_parameters(self) -> dict[str, Any]: ...


@overload
def memoize(
    func: Callable[_P, _R], *, maxsize: int | None = None, key: Callable[..., Any] | None = None
) -> Memoized[_P, _R]: ...


@overload
def memoize(
    func: None = None, *, maxsize: int | None = None, key: Callable[..., Any] | None = None
) -> Callable[[Callable[_P, _R]], Memoized[_P, _R]]: ...


def memoize(
    func: Callable[..., Any] | None = None,
    *,
    maxsize: int | None = None,
    key: Callable[..., Any] | None = None,
) -> Any:
    """Memoize ``func``: ``@memoize`` or ``@memoize(maxsize=128, key=...)``.

    ``maxsize=None`` (default) keeps every result; an integer keeps the ``maxsize`` most recently
    used (LRU eviction, exactly functools.lru_cache's). ``key(*args, **kwargs)`` maps the arguments
    to the hashable table key (arguments that map to the same key share one result); without it
    the arguments themselves are the key and must be hashable.

    The wrapper has ``cache_info()`` (hits, misses, maxsize, currsize, as lru_cache),
    ``cache_clear()``, ``cache`` (a read-only mapping key -> value, keyed as the C cache keys
    it: a lone int or str argument by itself, any other call by its argument tuple), ``stats``
    (:class:`MemoStats`: calls, hits, misses, max_depth) and ``__wrapped__``.
    """
    if maxsize is not None:
        if isinstance(maxsize, bool) or not isinstance(maxsize, int):
            raise MemogradTypeError(
                f"memoize: maxsize must be an integer or None, got {type(maxsize).__name__} "
                f"{maxsize!r}"
            )
        if maxsize < 0:
            raise MemogradValueError(f"memoize: maxsize must be >= 0 or None, got {maxsize}")
    if key is not None and not callable(key):
        raise MemogradTypeError(
            f"memoize: key must be a function of the arguments, got {type(key).__name__}"
        )
    if func is None:
        return functools.partial(memoize, maxsize=maxsize, key=key)
    if not callable(func):
        raise MemogradTypeError(
            f"memoize: expected a function to decorate, got {type(func).__name__} {func!r}; "
            "use @memoize or @memoize(maxsize=..., key=...)"
        )
    return _build(func, maxsize, key)


def _build(func: Callable[..., Any], maxsize: int | None, key: Callable[..., Any] | None) -> Any:
    local = _PerThread()
    table: dict[Any, Any] = {}  # mirror of the C table for .cache (when it must be mirrored)
    bounded = maxsize is not None
    lock = threading.Lock()  # only taken when a new maximum depth is reached
    stats = MemoStats(_no_info, local)  # its cache_info is set once the C cache exists

    # The miss path keeps the recursion at three Python frames per level (wrapper, miss, func):
    # enter() and store() return before the body recurses, so they add no depth.
    def enter() -> list[int]:
        """Count one more running body in this thread; keep the maximum."""
        cell = _depth_cell(local)
        depth = cell[0] = cell[0] + 1
        if depth > stats.max_depth:
            new_max(depth)
        return cell

    def new_max(depth: int) -> None:
        """A new maximum depth (rare): under the lock, so racing threads cannot lower it."""
        with lock:
            if depth > stats.max_depth:
                stats.max_depth = depth

    def store(table_key: Any, value: Any) -> Any:
        """Mirror a computed value for .cache; returns what the C cache is to store."""
        if not bounded:
            table[table_key] = value  # the C table overwrites too (last writer wins)
            return value
        entry = _Entry(value)
        old = table.get(table_key)
        if old is None or old() is None:  # the C table keeps the first one stored
            ref = _EntryRef(entry, forget)
            ref.key = table_key
            table[table_key] = ref
        return entry

    def forget(ref: _EntryRef) -> None:
        """Weakref callback: the C cache dropped an entry (LRU eviction or cache_clear)."""
        if table.get(ref.key) is ref:
            table.pop(ref.key, None)

    miss: Callable[..., Any]
    mirrored = bounded or not _C_TABLE_READABLE
    names = _simple_parameters(func) if key is None and not mirrored else None
    if names is not None:
        # the default, and the hot path: the C table is .cache, the frame has func's signature
        miss = _exact_miss(func, names, local, stats, new_max)
    elif key is None and not mirrored:

        def miss(*args: Any, **kwargs: Any) -> Any:
            cell = enter()
            try:
                return func(*args, **kwargs)
            finally:
                cell[0] -= 1

    elif key is None:

        def miss(*args: Any, **kwargs: Any) -> Any:
            cell = enter()
            try:
                value = func(*args, **kwargs)
            finally:
                cell[0] -= 1
            return store(_table_key(args, kwargs), value)

    if key is None:
        cached = functools.lru_cache(maxsize=maxsize)(miss)
        if not bounded:
            # The default: the C wrapper IS the memoized function. A hit is answered in C with no
            # Python frame (lru_cache's own cost); the bookkeeping runs on misses only. The
            # price: an unhashable argument raises the C cache's own TypeError.
            wrapper: Any = cached
        else:
            # Bounded: the C cache holds boxes (see .cache), unboxed here. Calling it without
            # **kwargs when there are none saves an empty dict per call; the try block costs
            # nothing until a TypeError is raised.
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                try:
                    if kwargs:
                        return cached(*args, **kwargs).value
                    return cached(*args).value
                except TypeError:
                    error = _unhashable_error(func, args, kwargs, None)
                    if error is None:
                        raise
                    raise error from None

    else:
        # The C cache is keyed by key(*args, **kwargs) alone; on a miss the body needs the original
        # arguments, handed over through a per-thread slot (read before the body can recurse).
        def miss(k: Any) -> Any:
            assert local.pending is not None
            args, kwargs = local.pending
            local.pending = None
            cell = enter()
            try:
                value = func(*args, **kwargs)
            finally:
                cell[0] -= 1
            return store(k, value)

        cached = functools.lru_cache(maxsize=maxsize)(miss)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            k = key(*args, **kwargs)
            local.pending = (args, kwargs)
            try:
                result = cached(k)
            except TypeError:
                error = _unhashable_error(func, args, kwargs, key)
                if error is None:
                    raise
                raise error from None
            finally:
                local.pending = None  # a hit leaves it set: do not keep the arguments alive
            return result.value if bounded else result

    c_cache_clear = cached.cache_clear  # (the wrapper's own cache_clear below shadows it)

    def cache_clear() -> None:
        """Empty the table and reset hits, misses and max_depth (as lru_cache's cache_clear)."""
        c_cache_clear()
        table.clear()
        stats.max_depth = 0

    stats._info = cached.cache_info
    view: Mapping[Any, Any]
    if bounded:
        view = _BoundedView(table)
    elif mirrored or key is not None:
        view = MappingProxyType(table)
    else:
        c_table = _find_c_table(cached)
        if c_table is None:  # pragma: no cover - the probe found it; the same type finds it
            raise RuntimeError("memoize: the C cache's table was not found")
        view = MappingProxyType(c_table)
    functools.update_wrapper(wrapper, func)
    if wrapper is not cached:
        wrapper.cache_info = cached.cache_info
    wrapper.cache_clear = cache_clear
    wrapper.cache = view
    wrapper.stats = stats
    wrapper.cache_parameters = lambda: {"maxsize": maxsize, "typed": False, "key": key}
    return wrapper


def _no_info() -> CacheInfo:  # pragma: no cover - replaced before the function can be called
    return CacheInfo(0, 0, None, 0)
