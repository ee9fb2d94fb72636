"""``memograd play``: the lesson as an interactive page, computed by the real engine.

:mod:`.api` answers the page's questions with memograd's own functions (``graph.backward`` with a
``Trace``, ``paths.explain``, ``complexity.measure``, the Fibonacci trees, a training loop);
:mod:`.server` serves the page and that API on 127.0.0.1; :mod:`.static` writes the page as one
self-contained file. The browser only draws: it never re-implements the math.

In Jupyter, ``mg.play()`` (or ``mg.play(model)`` for a scalar ``MLP``) shows the page inline.
"""

from __future__ import annotations

import sys
import types
from typing import Any

__all__ = ["play", "PlayView"]


class PlayView:
    """The running page, shown inline by Jupyter (an iframe) and printed as its URL elsewhere."""

    def __init__(self, url: str, height: int = 900):
        self.url, self.height = url, height

    def _repr_html_(self) -> str:
        from html import escape

        return (
            f'<iframe src="{escape(self.url)}" width="100%" height="{self.height}" '
            'style="border:1px solid #cbd5e0;border-radius:6px" title="memograd play"></iframe>'
        )

    def __repr__(self) -> str:
        return f"memograd play at {self.url}"


def play(model: Any = None, *, port: int = 0, height: int = 900) -> PlayView:
    """Start (once per process) the play server on 127.0.0.1 and return a view of the page.

    ``model``: a scalar ``memograd.MLP`` with 2 inputs and 1 output; the page opens on its
    architecture, activation and weights."""
    from urllib.parse import quote

    from memograd.play.server import background

    server = background("127.0.0.1", port)
    url = server.url
    if model is not None:
        import json

        from memograd.play.api import ApiError, net_of

        sizes = tuple(getattr(model, "sizes", ()))
        if not sizes:
            raise ApiError(f"play: expected a memograd.MLP, got {type(model).__name__}")
        net_of({"net": list(sizes)})  # the page's limits, with its message
        if model.output_activation != model.activation:
            raise ApiError(
                f"play: the page draws networks with one activation in every layer; this model "
                f"uses {model.activation} then {model.output_activation} (build it with "
                f"MLP(2, [...], {model.activation!r}, {model.activation!r}))"
            )
        state = {
            "net": list(sizes),
            "activation": model.activation,
            "weights": model.weights(),
        }
        url += "#state=" + quote(json.dumps(state, separators=(",", ":")))
    return PlayView(url, height)


class _CallableModule(types.ModuleType):
    """``mg.play`` names both this package and :func:`play`: calling the package shows the page,
    whichever of the two Python resolved first (as ``mg.tensor``)."""

    def __call__(self, model: Any = None, *, port: int = 0, height: int = 900) -> PlayView:
        return play(model, port=port, height=height)


sys.modules[__name__].__class__ = _CallableModule
