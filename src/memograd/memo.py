"""``memoize``: functools' C ``lru_cache`` plus what the lesson needs to see.

Memoization stores the result of a call under its arguments and returns the stored result when the
same arguments come again. ``memoize`` builds on :func:`functools.lru_cache` rather than beside it:
the table, the LRU order and the hit/miss counters are the standard library's C implementation, so
``cache_info()`` means exactly what ``lru_cache`` means by it (hits, misses, maxsize, currsize).
What memoize adds, and what each addition costs:

* **hit path** (the result is in the table): one Python frame around the C cache, needed only
  to turn the C cache's bare ``TypeError: unhashable type`` into a :class:`MemogradTypeError`
  that names the function, the argument and the ``key=`` fix. Nothing is counted in Python on a
  hit: the C cache counts it. (A bounded cache also reads one attribute, see ``.cache`` below.)
* **miss path** (the function body runs): one more frame that keeps the per-thread recursion depth,
  its maximum, and a mirror of the table for the read-only ``.cache`` view. A miss runs the body
  anyway, so this is where bookkeeping is cheap relative to the work.
* ``.stats.calls`` is ``hits + misses`` read from the C counters: total calls cost nothing to keep.
* ``.cache``: unbounded, a ``MappingProxyType`` over the mirror dict. Bounded, the C cache stores
  each value in a small box watched by a weak reference; when the C cache evicts the box (LRU) or
  is cleared, the weakref callback removes the mirror entry at once, so the view always holds
  exactly what the C table holds, without redoing LRU bookkeeping in Python.

``benchmarks/memo_bench.py`` measures both paths against ``functools.lru_cache``.

Thread safety: the C cache is safe to call from many threads and every caller gets the value its
function returns. Like ``lru_cache``, memoize does **not** hold a lock while the body runs, so two
threads that miss on the same key at the same moment both compute the value (both count as misses);
the table keeps one of them (``currsize`` counts it once). Memoize a function whose result depends
only on its arguments and this is harmless. The recursion depth is kept per thread, so concurrent
recursive callers do not add up their depths.
"""

from __future__ import annotations

import functools
import inspect
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from memograd.errors import MemogradTypeError, MemogradValueError

CacheInfo = (
    functools._CacheInfo
)  # the same named tuple lru_cache returns: hits misses maxsize currsize

__all__ = ["memoize", "CacheInfo", "MemoStats", "array_key"]

_KWARGS = object()  # separates positional from keyword arguments in a table key (as lru_cache does)


def _table_key(args: tuple, kwargs: dict):
    """The key ``.cache`` shows for a call: the argument itself for one positional argument,
    else the argument tuple (keyword arguments appended after a marker, in call order, which is
    how lru_cache tells ``f(a=1, b=2)`` from ``f(b=2, a=1)``)."""
    if not kwargs:
        if len(args) == 1 and not isinstance(args[0], tuple):
            return args[0]
        return args
    return (*args, _KWARGS, *kwargs.items())


class MemoStats:
    """Live call statistics of one memoized function (for the lesson).

    ``calls = hits + misses`` (the C cache's counters), ``max_depth``: the deepest nesting of
    memoized calls that ran the function body, in any one thread (a call that is a hit returns at
    once and does not recurse further). ``cache_clear()`` resets all of them.
    """

    __slots__ = ("_info", "_local", "max_depth")

    def __init__(self, info: Callable[[], CacheInfo], local: threading.local):
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
        return getattr(self._local, "depth", 0)

    def as_dict(self) -> dict:
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


class _Entry:
    """What a bounded cache stores: the value in a box that a weak reference can watch, so that
    the read-only ``.cache`` view learns at once when the C cache evicts it."""

    __slots__ = ("value", "__weakref__")

    def __init__(self, value):
        self.value = value


class _EntryRef(weakref.ref):
    __slots__ = ("key",)


class _BoundedView(Mapping):
    """Read-only view of a bounded cache: key -> value of the entries the C cache still holds."""

    def __init__(self, table: dict):
        self._table = table

    def _items(self):
        for key, ref in list(self._table.items()):
            entry = ref()
            if entry is not None:
                yield key, entry.value

    def __getitem__(self, key):
        entry = self._table[key]()
        if entry is None:
            raise KeyError(key)
        return entry.value

    def __iter__(self) -> Iterator:
        return (key for key, _ in self._items())

    def __len__(self) -> int:
        return sum(1 for _ in self._items())

    def __repr__(self) -> str:
        return f"cache({dict(self._items())!r})"


def _unhashable_error(func, args: tuple, kwargs: dict, key) -> MemogradTypeError | None:
    """The error for a call whose arguments cannot be hashed, or None if they all can (then the
    TypeError came from the function body and is re-raised as it is)."""
    name = getattr(func, "__qualname__", repr(func))
    if key is not None:
        try:
            k = key(*args, **kwargs)
        except Exception:  # the key function's own error is the user's to see
            return None
        try:
            hash(k)
        except TypeError:
            return MemogradTypeError(
                f"memoize: the key function {getattr(key, '__qualname__', key)!r} of {name}() "
                f"returned an unhashable {type(k).__name__}; make it return a hashable value "
                "(a tuple, str, bytes or number), e.g. memograd.memo.array_key"
            )
        return None
    try:
        params = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        params = []
    labelled = [
        (f"{params[i]!r} (position {i})" if i < len(params) else f"at position {i}", a)
        for i, a in enumerate(args)
    ] + [(repr(k), a) for k, a in kwargs.items()]
    for label, value in labelled:
        try:
            hash(value)
        except TypeError:
            return MemogradTypeError(
                f"memoize: {name}() argument {label} is an unhashable {type(value).__name__}, "
                "so it cannot be a cache key; pass key= to say how to key it, e.g. "
                "@memoize(key=memograd.memo.array_key) for lists, dicts and NumPy arrays"
            )
    return None


def memoize(
    func: Callable | None = None,
    *,
    maxsize: int | None = None,
    key: Callable[..., Any] | None = None,
):
    """Memoize ``func``: ``@memoize`` or ``@memoize(maxsize=128, key=...)``.

    ``maxsize=None`` (default) keeps every result; an integer keeps the ``maxsize`` most recently
    used (LRU eviction, exactly functools.lru_cache's). ``key(*args, **kwargs)`` maps the arguments
    to the hashable table key (arguments that map to the same key share one result); without it
    the arguments themselves are the key and must be hashable.

    The wrapper has ``cache_info()`` (hits, misses, maxsize, currsize, as lru_cache),
    ``cache_clear()``, ``cache`` (a read-only mapping key -> value), ``stats``
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


def _build(func: Callable, maxsize: int | None, key: Callable | None):
    local = threading.local()  # .depth: running bodies in this thread; .pending: args for key=
    table: dict = {}  # mirror of the C table, for the read-only .cache view
    bounded = maxsize is not None
    lock = threading.Lock()  # only taken when a new maximum depth is reached
    stats: MemoStats  # assigned below; the closures read it at call time

    def run_body(table_key, args, kwargs):
        """The miss path: depth bookkeeping around the body, then the mirror entry."""
        depth = getattr(local, "depth", 0) + 1
        local.depth = depth
        if depth > stats.max_depth:
            with lock:
                if depth > stats.max_depth:
                    stats.max_depth = depth
        try:
            value = func(*args, **kwargs)
        finally:
            local.depth = depth - 1
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

    if key is None:

        def miss(*args, **kwargs):
            return run_body(_table_key(args, kwargs), args, kwargs)

        cached = functools.lru_cache(maxsize=maxsize)(miss)

        if bounded:

            def wrapper(*args, **kwargs):
                try:
                    return cached(*args, **kwargs).value
                except TypeError:
                    error = _unhashable_error(func, args, kwargs, None)
                    if error is None:
                        raise
                    raise error from None

        else:

            def wrapper(*args, **kwargs):
                try:
                    return cached(*args, **kwargs)
                except TypeError:
                    error = _unhashable_error(func, args, kwargs, None)
                    if error is None:
                        raise
                    raise error from None

    else:
        # The C cache is keyed by key(*args, **kwargs) alone; on a miss the body needs the original
        # arguments, handed over through a per-thread slot (read before the body can recurse).
        def miss(k):
            args, kwargs = local.pending
            local.pending = None
            return run_body(k, args, kwargs)

        cached = functools.lru_cache(maxsize=maxsize)(miss)

        def wrapper(*args, **kwargs):
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

    def cache_clear() -> None:
        """Empty the table and reset hits, misses and max_depth (as lru_cache's cache_clear)."""
        cached.cache_clear()
        table.clear()
        stats.max_depth = 0

    stats = MemoStats(cached.cache_info, local)
    functools.update_wrapper(wrapper, func)
    wrapper.cache_info = cached.cache_info
    wrapper.cache_clear = cache_clear
    wrapper.cache = _BoundedView(table) if bounded else MappingProxyType(table)
    wrapper.stats = stats
    wrapper.cache_parameters = lambda: {"maxsize": maxsize, "typed": False, "key": key}
    return wrapper


def array_key(*args, **kwargs):
    """A ready ``key=`` for NumPy arrays, lists, dicts and sets: every argument becomes a hashable
    stand-in. An array is keyed by (dtype, shape, bytes), so equal arrays share an entry and arrays
    that differ in dtype or shape do not; lists/tuples become tuples, dicts and sets frozensets,
    recursively. Example: ``@memoize(key=memograd.memo.array_key)``."""
    frozen = tuple(_freeze(a) for a in args)
    if kwargs:
        frozen += (_KWARGS, *((k, _freeze(v)) for k, v in kwargs.items()))
    return frozen


def _freeze(value):
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a core dependency
        np = None
    if np is not None and isinstance(value, np.ndarray | np.generic):
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise MemogradTypeError(
                "array_key: an array of dtype object holds references, not values, and cannot "
                "be keyed by its bytes; convert it to a numeric dtype or pass your own key="
            )
        return ("ndarray", array.dtype.str, array.shape, np.ascontiguousarray(array).tobytes())
    if isinstance(value, list | tuple):
        return (type(value).__name__, *(_freeze(v) for v in value))
    if isinstance(value, dict):
        return ("dict", frozenset((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, set | frozenset):
        return ("set", frozenset(_freeze(v) for v in value))
    return value
