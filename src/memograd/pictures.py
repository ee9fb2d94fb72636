"""Pictures of memograd's objects, looked up by type: ``v.to_svg()``, ``v.to_html()`` and
``v.save("graph.svg")`` on a ``Value``, a model or an explanation.

The engines and the library give their classes these methods by deriving from :class:`Drawable`;
how each class is drawn is registered here by ``memograd.viz`` (:func:`register`). So the engines
never import the presentation layer: the arrow runs from viz to the engines. The first drawing
asked for loads the default drawings from the module named in :data:`PROVIDER` (a plugin hook,
like an entry point: a name, not an import of viz by this module).

``save`` writes atomically (``memograd._io``) and takes the format from the file's suffix:
``.svg`` (the picture) or ``.html`` (a self-contained page around it).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memograd.errors import MemogradTypeError, MemogradValueError

PROVIDER = "memograd.viz.pictures"  # registers the drawings of Value, models and explanations
FORMATS = {".svg": "svg", ".html": "html", ".htm": "html"}

Drawing = Callable[..., str]
_DRAWINGS: dict[tuple[type, str], Drawing] = {}
_loaded = False


def register(cls: type, fmt: str, drawing: Drawing) -> None:
    """Draw instances of ``cls`` (and its subclasses) in format ``fmt`` (``svg`` or ``html``)
    with ``drawing(obj, **options) -> str``."""
    if fmt not in FORMATS.values():
        raise MemogradValueError(f"register: unknown format {fmt!r}; use svg or html")
    _DRAWINGS[(cls, fmt)] = drawing


def _lookup(obj: object, fmt: str) -> Drawing | None:
    for klass in type(obj).__mro__:
        found = _DRAWINGS.get((klass, fmt))
        if found is not None:
            return found
    return None


def draw(obj: object, fmt: str = "svg", **options: Any) -> str:
    """The picture of ``obj`` as SVG or HTML text (the drawing registered for its class)."""
    global _loaded
    drawing = _lookup(obj, fmt)
    if drawing is None and not _loaded:
        _loaded = True
        importlib.import_module(PROVIDER)  # registers the default drawings
        drawing = _lookup(obj, fmt)
    if drawing is None:
        raise MemogradTypeError(
            f"no {fmt} drawing for {type(obj).__name__}; memograd draws Value, scalar and nn "
            "models, and explanations (mg.explain)"
        )
    return drawing(obj, **options)


def format_of(path: str | os.PathLike[str]) -> str:
    """``svg`` or ``html`` from the file's suffix; a clear error for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        shown = f"suffix {suffix!r}" if suffix else "no suffix"
        raise MemogradValueError(
            f"save: {os.fspath(path)!r} has {shown}; memograd writes pictures as .svg (the "
            "drawing) or .html (a page around it): name the file picture.svg or picture.html"
        )
    return FORMATS[suffix]


def save(obj: object, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write the picture of ``obj`` to ``path`` atomically, in the format its suffix names."""
    from memograd import _io

    text = draw(obj, format_of(path), **options)
    return _io.atomic_write_text(path, text if text.endswith("\n") else text + "\n")


class Drawable:
    """Gives a class ``to_svg()``, ``to_html()`` and ``save(path)``, drawn by memograd.viz."""

    __slots__ = ()

    def to_svg(self, **options: Any) -> str:
        """This object's picture as SVG text (options go to its drawing, e.g. ``view="neuron"``
        for a Value)."""
        return draw(self, "svg", **options)

    def to_html(self, **options: Any) -> str:
        """A self-contained HTML page with this object's picture."""
        return draw(self, "html", **options)

    def save(self, path: str | os.PathLike[str], **options: Any) -> Path:
        """Write the picture to ``path`` (``.svg`` or ``.html``, atomically); returns the path."""
        return save(self, path, **options)
