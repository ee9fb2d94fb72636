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

Modules, one job each: ``decorator`` (``memoize``, ``Memoized``), ``stats`` (``MemoStats``, the
per-thread depth), ``table`` (the C table's view and the bounded mirror), ``keys`` (table keys,
``array_key``, the unhashable-argument error), ``miss`` (the generated miss frame), ``deep``
(``run_deep``, ``FRAMES_PER_LEVEL``, ``C_RECURSION_CAPPED``).
"""

from memograd.memo.decorator import Memoized, memoize
from memograd.memo.deep import C_RECURSION_CAPPED, FRAMES_PER_LEVEL, run_deep
from memograd.memo.keys import array_key
from memograd.memo.stats import CacheInfo, MemoStats

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
