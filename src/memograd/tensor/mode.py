"""The tensor engine's global switches: ``no_grad``/``enable_grad`` and the backward modes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, ParamSpec, TypeVar

if TYPE_CHECKING:
    from typing_extensions import Self

_P = ParamSpec("_P")
_R = TypeVar("_R")

__all__ = ["no_grad", "enable_grad", "is_grad_enabled"]


class _Mode:
    """Global autograd switches (``no_grad`` flips ``grad``; ``backward`` sets ``retain``;
    ``create`` counts the create_graph backward passes running, during which formulas must not
    turn a Tensor that requires grad into a plain number or array)."""

    grad = True
    retain = False
    create = 0


class no_grad:
    """Context manager (and decorator): ops inside record no graph, and in-place edits of
    tensors that require grad are allowed (how optimizers update parameters). The switch is
    process-wide, not per thread."""

    _enabled = False

    def __init__(self) -> None:
        self._previous: list[bool] = []  # a stack: one instance may be entered again inside

    def __enter__(self) -> Self:
        self._previous.append(_Mode.grad)
        _Mode.grad = self._enabled
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        _Mode.grad = self._previous.pop()
        return False

    def __call__(self, fn: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(fn)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """Context manager: record graphs again inside a ``no_grad`` block."""

    _enabled = True


def is_grad_enabled() -> bool:
    """True unless inside ``mg.no_grad()``."""
    return _Mode.grad
