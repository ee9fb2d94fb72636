"""The lesson that ``memograd demo`` tells, one module per section, in the notes' order.

Each section module defines::

    KEY: str                      # key of its data in ``memograd demo --json``
    TITLE: str
    compute(options) -> dict      # every number, computed live by the library (JSON-ready)
    render(data, ui) -> None      # terminal output (rich)
    html(data) -> str             # a fragment of the self-contained HTML report

A section whose module does not exist yet is skipped.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Protocol


class UI(Protocol):
    """What a section's ``render`` needs of the command line's UI (``memograd.cli.UI``): a rich
    ``print``. A protocol, so that the lesson does not import the CLI above it."""

    def print(self, *objects: Any, **kwargs: Any) -> None: ...


SECTIONS = (
    "memoization",
    "network",
    "chain_rule",
    "memo_table",
    "complexity",
    "training",
    "memory",
)


def sections() -> list[ModuleType]:
    found = []
    for name in SECTIONS:
        try:
            found.append(importlib.import_module(f"memograd.lesson.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"memograd.lesson.{name}":
                raise
    return found
