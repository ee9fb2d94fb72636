"""The tensor engine's global switches: ``no_grad``/``enable_grad`` and the backward modes."""

from __future__ import annotations

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

    def __init__(self):
        self._previous: list[bool] = []  # a stack: one instance may be entered again inside

    def __enter__(self):
        self._previous.append(_Mode.grad)
        _Mode.grad = self._enabled
        return self

    def __exit__(self, *exc):
        _Mode.grad = self._previous.pop()
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """Context manager: record graphs again inside a ``no_grad`` block."""

    _enabled = True


def is_grad_enabled() -> bool:
    """True unless inside ``mg.no_grad()``."""
    return _Mode.grad
