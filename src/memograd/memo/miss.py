"""The miss frame: the Python frame around the function body that keeps the recursion depth,
generated with the function's own signature when its parameters are plain positional ones."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from memograd.memo.stats import MemoStats, _depth_cell, _PerThread


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
