"""Table keys: the key the C cache uses for a call, ``array_key`` (a ready ``key=`` for arrays,
lists, dicts and sets) and the error for an argument that cannot be a key."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from memograd.errors import MemogradTypeError

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
