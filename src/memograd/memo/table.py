"""What ``.cache`` shows: the C ``lru_cache``'s own table, found through the garbage collector, or a
mirror of it (bounded caches: boxed values watched by weak references, evicted with the C entry)."""

from __future__ import annotations

import functools
import gc
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any


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
