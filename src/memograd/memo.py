"""``memoize``: functools' C ``lru_cache`` plus what the lesson needs to see.

Memoization stores the result of a call under its arguments and returns the stored result when the
same arguments come again. ``memoize`` builds on :func:`functools.lru_cache` rather than beside it:
the table, the LRU order and the hit/miss counters are the standard library's C implementation, so
``cache_info()`` means exactly what ``lru_cache`` means by it (hits, misses, maxsize, currsize).
What memoize adds, and what each addition costs:

* **hit path** (the result is in the table): nothing. The default (unbounded, no ``key=``)
  memoized function *is* the C ``lru_cache`` wrapper, with memoize's attributes set on it, so a
  hit runs no Python code at all: lru_cache's own cost. The C cache counts the hit. The price:
  an unhashable argument raises the C cache's own ``TypeError: unhashable type: 'list'``
  (a bounded cache or ``key=`` keeps a Python wrapper, which unboxes entries or computes the key,
  and turns that error into a :class:`MemogradTypeError` naming the function, the argument and
  the ``key=`` fix).
* **miss path** (the function body runs): one Python frame around the body that keeps the
  per-thread recursion depth and its maximum: one ``threading.local`` read per miss (the thread's
  depth counter, a one-element list), not one per read and write. For a function whose
  parameters are plain positional ones (``def fib(n)``, ``def paths(self, r, c)``) that frame is
  generated with the function's own signature, so a miss packs no ``*args``/``**kwargs``; others
  get a generic ``(*args, **kwargs)`` frame. A level of memoized recursion thus uses 3 units of
  the recursion limit (bounded or ``key=``: 4; lru_cache: 2); see ``run_deep``.
* ``.stats.calls`` is ``hits + misses`` read from the C counters: total calls cost nothing to keep.
* ``.cache``: unbounded, a ``MappingProxyType`` over the C cache's own table. An unbounded
  ``lru_cache`` stores ``key -> result`` in a dict that it reports to the garbage collector
  (CPython's ``tp_traverse``), so :func:`gc.get_referents` finds it; the view is then exactly
  what the C table holds at no cost per call. Where it cannot be found with certainty (another
  implementation; checked once, at import, on a probe cache), the miss frame mirrors each stored
  value into a dict instead. Bounded, the C cache stores
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
import gc
import inspect
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, overload

from memograd.errors import MemogradTypeError, MemogradValueError

# the very named tuple lru_cache returns: hits, misses, maxsize, currsize
CacheInfo = functools._CacheInfo

__all__ = [
    "memoize",
    "Memoized",
    "CacheInfo",
    "MemoStats",
    "array_key",
    "run_deep",
    "FRAMES_PER_LEVEL",
    "C_RECURSION_CAPPED",
]

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

_KWARGS = object()  # separates positional from keyword arguments in a table key (as lru_cache does)
# a lone argument of exactly these types is its own key in the C cache (others: the args tuple)
_BARE_KEY_TYPES = frozenset({int, str})


def _table_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The key ``.cache`` shows for a call, the one the C cache uses: the argument itself for one
    positional ``int`` or ``str`` (exactly those types), else the argument tuple (keyword
    arguments appended after a marker, in call order, which is how lru_cache tells
    ``f(a=1, b=2)`` from ``f(b=2, a=1)``). So ``f(1)`` and ``f(1.0)`` are two entries, as in
    lru_cache (keys ``1`` and ``(1.0,)``), and ``f(1.0)`` and ``f(True)`` share one."""
    if not kwargs:
        if len(args) == 1 and type(args[0]) in _BARE_KEY_TYPES:
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


def _find_c_table(cached: Callable[..., Any]) -> dict[Any, Any] | None:
    """The table of an unbounded C ``lru_cache`` (key -> result), or None if not certain.

    The C wrapper reports the objects it holds to the garbage collector, its table among them;
    the only other dict it holds is its ``__dict__`` (attributes)."""
    own = getattr(cached, "__dict__", None)
    dicts = [r for r in gc.get_referents(cached) if type(r) is dict and r is not own]
    return dicts[0] if len(dicts) == 1 else None


def _c_table_is_readable() -> bool:
    """Whether :func:`_find_c_table` finds the live table here: checked on a probe cache."""
    try:
        probe = functools.lru_cache(maxsize=None)(lambda x: -x)
        table = _find_c_table(probe)
        if table is None or table:
            return False
        probe(2)
        probe(3)
        probe.cache_clear()
        probe(5)
        return table == {5: -5} and _find_c_table(probe) is table
    except Exception:  # pragma: no cover - any surprise: mirror the table instead
        return False


_C_TABLE_READABLE = _c_table_is_readable()


def _simple_parameters(func: Callable[..., Any]) -> list[str] | None:
    """The parameter names of ``func`` if they are all plain positional ones (no default, no
    ``*args``/``**kwargs``, no keyword-only), else None: then the miss frame can be written with
    ``func``'s own signature. Positional-only parameters come back with a trailing "/"."""
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return None
    names: list[str] = []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    for i, p in enumerate(params):
        if p.kind not in kinds or p.default is not inspect.Parameter.empty:
            return None
        if not p.name.isidentifier() or p.name.startswith("_memo_"):
            return None
        names.append(p.name)
        last_positional_only = p.kind is inspect.Parameter.POSITIONAL_ONLY and (
            i + 1 == len(params) or params[i + 1].kind is not inspect.Parameter.POSITIONAL_ONLY
        )
        if last_positional_only:
            names.append("/")
    return names


_MISS_SOURCE = """
def _memo_make(_memo_func, _memo_local, _memo_stats, _memo_new_max, _memo_cell):
    def miss({params}):
        try:
            _memo_depth = _memo_local.depth
        except AttributeError:
            _memo_depth = _memo_cell(_memo_local)
        _memo_d = _memo_depth[0] + 1
        _memo_depth[0] = _memo_d
        if _memo_d > _memo_stats.max_depth:
            _memo_new_max(_memo_d)
        try:
            return _memo_func({args})
        finally:
            _memo_depth[0] = _memo_d - 1
    return miss
"""


def _exact_miss(
    func: Callable[..., Any],
    names: list[str],
    local: _PerThread,
    stats: MemoStats,
    new_max: Callable[[int], None],
) -> Callable[..., Any]:
    """The miss frame written with ``func``'s own parameters (see :func:`_simple_parameters`)."""
    params = ", ".join(names)
    args = ", ".join(n for n in names if n != "/")
    namespace: dict[str, Any] = {}
    exec(
        compile(_MISS_SOURCE.format(params=params, args=args), "<memoize miss>", "exec"), namespace
    )
    miss: Callable[..., Any] = namespace["_memo_make"](func, local, stats, new_max, _depth_cell)
    miss.__name__ = getattr(func, "__name__", "miss")  # a call with wrong arguments names func
    miss.__qualname__ = getattr(func, "__qualname__", miss.__name__)
    return miss


class _Entry:
    """What a bounded cache stores: the value in a box that a weak reference can watch, so that
    the read-only ``.cache`` view learns at once when the C cache evicts it."""

    __slots__ = ("value", "__weakref__")

    def __init__(self, value: Any):
        self.value = value


class _EntryRef(weakref.ref):  # type: ignore[type-arg]
    __slots__ = ("key",)
    key: Any


class _BoundedView(Mapping[Any, Any]):
    """Read-only view of a bounded cache: key -> value of the entries the C cache still holds."""

    def __init__(self, table: dict[Any, _EntryRef]):
        self._table = table

    def _items(self) -> Iterator[tuple[Any, Any]]:
        for key, ref in list(self._table.items()):
            entry = ref()
            if entry is not None:
                yield key, entry.value

    def __getitem__(self, key: Any) -> Any:
        entry = self._table[key]()
        if entry is None:
            raise KeyError(key)
        return entry.value

    def __iter__(self) -> Iterator[Any]:
        return (key for key, _ in self._items())

    def __len__(self) -> int:
        return sum(1 for _ in self._items())

    def __repr__(self) -> str:
        return f"cache({dict(self._items())!r})"


def _unhashable_error(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    key: Callable[..., Any] | None,
) -> MemogradTypeError | None:
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


def array_key(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
    """A ready ``key=`` for NumPy arrays, lists, dicts and sets: every argument becomes a hashable
    stand-in. An array is keyed by (dtype, shape, bytes), so equal arrays share an entry and arrays
    that differ in dtype or shape do not; lists/tuples become tuples, dicts and sets frozensets,
    recursively. Example: ``@memoize(key=memograd.memo.array_key)``."""
    frozen = tuple(_freeze(a) for a in args)
    if kwargs:
        frozen += (_KWARGS, *((k, _freeze(v)) for k, v in kwargs.items()))
    return frozen


def _freeze(value: Any) -> Any:
    import numpy as np  # a core dependency, imported when a key is first made

    if isinstance(value, np.ndarray | np.generic):
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


# ---------------------------------------------------------------------------- deep recursion

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
