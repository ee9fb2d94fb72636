"""User strings on their way to the terminal: file paths, CSV class labels and column names.

Rich reads ``[bold]`` and ``[/x]`` in a string as markup (``[/x]`` with nothing open is an error,
after the work is done), and a terminal obeys escape sequences (``\\x1b[31m`` turns it red, others
move the cursor or set the window title). Every user string a command prints goes through
:func:`shown` (as plain text in a rich Table, or an f-string passed to ``ui.print``) or
:func:`literal` (inside rich markup), which make both harmless."""

from __future__ import annotations

from rich.markup import escape


def shown(value: object) -> str:
    """``str(value)`` with every control character (ESC, BEL, CR, ...) written as a visible
    escape (``\\x1b``), so that nothing in it reaches the terminal as a command."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def literal(value: object) -> str:
    """:func:`shown`, with rich markup escaped: for user strings inside a markup string."""
    return escape(shown(value))
