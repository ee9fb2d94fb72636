"""The ``memograd`` command: one module per subcommand, each with ``HELP``, ``EXAMPLE``,
``add_arguments(parser)`` and ``run(args, ui) -> int``.

Errors follow one rule: one line on stderr, exit 2 for usage errors (bad arguments), 1 for runtime
failures, 130 for Ctrl-C; a traceback only with ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from memograd import __version__
from memograd.errors import MemogradError

if TYPE_CHECKING:
    from rich.console import Console

# subcommands in the order --help lists them; a module that does not exist yet is left out
COMMANDS = (
    "demo",
    "fib",
    "explain",
    "complexity",
    "graph",
    "train",
    "eval",
    "predict",
    "play",
    "export",
)


class UsageError(MemogradError, ValueError):
    """A command-line argument is wrong: exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``memograd fib: error: ...``) and exit code 2."""

    def error(self, message: str) -> NoReturn:  # noqa: D401 - argparse API
        raise UsageError(message)


class UI:
    """What a command needs to talk to the user: a rich console on stdout, one on stderr for
    progress, and JSON output.

    Colour follows the usual conventions: ``--no-color`` or a non-empty ``NO_COLOR`` turns it off,
    a non-empty ``FORCE_COLOR`` turns it on even in a pipe, otherwise it is on for a terminal only
    (rich's own detection; ``no_color=None`` lets rich read ``NO_COLOR``)."""

    def __init__(
        self, no_color: bool = False, stdout: Any = None, stderr: Any = None, ascii: bool = False
    ) -> None:
        from rich.console import Console

        self.stdout = stdout or sys.stdout
        self.no_color = bool(no_color) or os.environ.get("NO_COLOR", "") != ""
        self.ascii = ascii
        flag = True if no_color else None
        if ascii:
            self.console: Console = _ascii_console(self.stdout, no_color=flag)
        else:
            self.console = Console(
                file=self.stdout, soft_wrap=False, no_color=flag, highlight=False
            )
        err = stderr or sys.stderr
        if ascii:  # progress too: an ASCII spinner and bar
            self.err: Console = _ascii_console(err, no_color=flag)
        else:
            self.err = Console(file=err, no_color=flag, highlight=False)
        # rich exits with status 1 on a broken pipe; main() treats it as the normal end
        self.console.on_broken_pipe = _raise_broken_pipe  # type: ignore[method-assign]

    def print(self, *objects: Any, **kwargs: Any) -> None:
        from rich.table import Table

        for obj in objects:
            if isinstance(obj, Table):
                self.table(obj, **kwargs)
            else:
                self.console.print(obj, **kwargs)

    def table(self, table: Any, **kwargs: Any) -> None:
        """A rich Table that never cuts a cell: as it is when it fits; wider than the terminal,
        one block of ``column: value`` lines per row; into a pipe or file (no width there), at
        its natural width."""
        console = self.console
        natural = console.measure(table, options=console.options.update_width(10**4)).maximum
        if natural <= console.width:
            console.print(table, **kwargs)
        elif not console.is_terminal:
            width = console.width  # print(width=) is clamped to the console's width
            console.width = natural
            try:
                console.print(table, **kwargs)
            finally:
                console.width = width
        else:
            _stacked(console, table, **kwargs)

    def progress(self, description: str, total: float | None = None) -> _Progress:
        """A progress bar on stderr (transient; drawn only on a terminal), as a context manager
        whose value has ``advance(n=1)`` and ``update(description)``; without ``total``, a
        spinner with the elapsed time."""
        return _Progress(self.err, description, total)

    def timed(self, description: str, seconds: float | None) -> _Progress:
        """Progress for work that cannot report its own (one long call): the bar follows the
        elapsed time against an estimate of ``seconds`` (held at 99% if the work runs over it),
        with the time left; a spinner and the elapsed time when there is no estimate."""
        return _Progress(self.err, description, seconds, clock=seconds is not None)

    def json(self, data: dict[str, Any]) -> None:
        """Print ``data`` as one JSON object on stdout."""
        self.stdout.write(json.dumps(data, indent=2, default=_json_default) + "\n")
        self.stdout.flush()


def _ascii_console(stream: Any, no_color: bool | None) -> Any:
    """A rich Console for ``--ascii``: every string is converted (``w₁₁¹`` -> ``w11^1``) before
    rich measures it, so tables keep their columns; what reaches the stream any other way is
    converted on the way out, and table borders are ASCII (the stream's encoding is ascii)."""
    from rich.console import Console

    from memograd.viz.notation import AsciiStream, ascii_text

    class AsciiConsole(Console):
        def render_str(self, text: str, **kwargs: Any) -> Any:
            return super().render_str(ascii_text(text), **kwargs)

    from typing import IO, cast

    out = cast(IO[str], AsciiStream(stream))  # the part of a text stream rich uses
    return AsciiConsole(file=out, soft_wrap=False, no_color=no_color, highlight=False)


class _Progress:
    """rich's Progress with a bar, the count, the elapsed time and the estimate of the time left
    (when the total is known), on stderr so that stdout stays the result."""

    def __init__(
        self, console: Console, description: str, total: float | None, clock: bool = False
    ) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        spinner = SpinnerColumn("line" if console.encoding == "ascii" else "dots")
        columns: list[ProgressColumn] = [spinner, TextColumn("{task.description}")]
        if total is not None:
            columns.append(BarColumn())
            if not clock:
                columns.append(MofNCompleteColumn())
            columns.append(TimeRemainingColumn())
        columns.append(TimeElapsedColumn())
        self._progress = Progress(*columns, console=console, transient=True)
        self._task = self._progress.add_task(description, total=total)
        self._total = total
        self._clock = clock
        self._done = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> _Progress:
        if not self._progress.console.is_terminal:
            return self  # a pipe or file: nothing drawn, not even the final blank line
        self._progress.start()
        if self._clock and self._total:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._ticker is not None:
            self._ticker.join()
        if self._progress.live.is_started:
            self._progress.stop()

    def _tick(self) -> None:
        """The clock bar: completed = elapsed seconds, below the estimate until the work ends."""
        import time

        start, cap = time.perf_counter(), 0.99 * float(self._total or 0)
        while not self._done.wait(0.1):
            elapsed = time.perf_counter() - start
            self._progress.update(self._task, completed=min(elapsed, cap))

    def advance(self, n: float = 1) -> None:
        self._progress.advance(self._task, n)

    def update(self, description: str) -> None:
        self._progress.update(self._task, description=description)


def _stacked(console: Any, table: Any, **kwargs: Any) -> None:
    """A table too wide for the terminal, row by row: ``header: cell`` per line."""
    from rich.text import Text

    headers = [
        Text.from_markup(str(c.header)).plain if isinstance(c.header, str) else str(c.header)
        for c in table.columns
    ]
    columns = [list(c.cells) for c in table.columns]
    if table.title:
        console.print(table.title, **kwargs)
    rows = max((len(c) for c in columns), default=0)
    for r in range(rows):
        for h, cells in zip(headers, columns):
            cell = cells[r] if r < len(cells) else ""
            if isinstance(cell, str):
                cell = Text.from_markup(cell)
            line = Text.assemble((f"{' '.join(h.split())}: ", "bold"))
            line.append_text(cell if isinstance(cell, Text) else Text(str(cell)))
            console.print(line, soft_wrap=True)
        console.print("")


def user_text(text: object) -> str:
    """A user-given string (a path, a label, a name) made safe to print through rich: markup
    brackets escaped, control characters (terminal escape sequences) shown as ``\\x1b``."""
    from rich.markup import escape

    out = "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in str(text)
    )
    return escape(out)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written; every option's help ends with its default when it
    has one and the help does not already say it (as ``default X`` or ``default: X``)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            default is not None
            and default is not False
            and default is not argparse.SUPPRESS
            and action.option_strings
        ):
            forms = (
                [",".join(map(str, default)), " ".join(map(str, default))]
                if isinstance(default, list | tuple)
                else [str(default)]
            )
            if not any(f"default {f}" in text or f"default: {f}" in text for f in forms):
                text += f" (default: {forms[0].replace('%', '%%')})"
        return text


def _json_default(obj: Any) -> Any:
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover - numpy is a core dependency
        pass
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)  # a parent: never parses on its own
    common.add_argument(
        "--no-color", action="store_true", default=argparse.SUPPRESS, help="plain text output"
    )
    common.add_argument(
        "--ascii",
        action="store_true",
        default=argparse.SUPPRESS,
        help="plain ASCII text (w11^1, yhat, dL/dw11^1, ->) instead of the notes' notation in "
        "Unicode (w₁₁¹, ŷ, ∂L/∂w₁₁¹, →), which is the default on the terminal; JSON always uses "
        "the ASCII names",
    )
    common.add_argument(
        "--threads",
        metavar="N|auto",
        default=argparse.SUPPRESS,
        help="BLAS threads for array work: a number, or auto (the default: one thread for "
        "small problems, the free cores for large ones; see memograd.blas)",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback on errors",
    )
    return common


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``command``, only that subcommand gets its options (the others are
    listed with their help line only; ``""``: none, enough for ``memograd --help``), so that
    ``memograd fib 30`` does not import what ``train`` needs to describe its options."""
    common = _common_options()
    parser = _Parser(
        prog="memograd",
        description="Backpropagation is the chain rule plus memoization: see it, measure it.",
        epilog=(
            "examples:\n  memograd demo --out report.html\n"
            "  memograd fib 38 --base 1 1 --method all"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"memograd {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"memograd.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"memograd.cli.{name}":
                continue
            raise
        cmd = sub.add_parser(
            name,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            epilog="example:\n  " + "\n  ".join(_as_list(module.EXAMPLE)),
            formatter_class=HelpFormatter,
            parents=[common],  # type: ignore[list-item]  # argparse's stub wants the subclass
        )
        if command is None or name == command:
            module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run, _prog=f"memograd {name}")
    return parser


def _command_in(argv: list[str]) -> str | None:
    """The subcommand named on the command line: the first word that is not an option (the
    top-level options take no value). ``None`` when there is none or it is unknown."""
    for a in argv:
        if a == "--":
            return None
        if not a.startswith("-"):
            return a if a in COMMANDS else None
    return None


def _as_list(example: Any) -> list[str]:
    return [example] if isinstance(example, str) else list(example)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    prog = "memograd"
    try:
        parser = build_parser(_command_in(argv) or "")  # "": the command list only
        args = parser.parse_args(argv)
        prog = getattr(args, "_prog", "memograd")
        if not getattr(args, "_run", None):
            parser.print_help()
            return 2
        ui = UI(no_color=getattr(args, "no_color", False), ascii=getattr(args, "ascii", False))
        from memograd import blas

        try:
            args.threads = blas.parse_threads(getattr(args, "threads", "auto"))
        except MemogradError as exc:
            raise UsageError(str(exc)) from None
        with blas.limit(args.threads):  # a number applies to the whole command; auto: per job
            return int(args._run(args, ui) or 0)
    except UsageError as exc:
        if debug:
            raise
        if not any(a in argv for a in ("-h", "--help")):
            prog = _prog_from_argv(argv) or prog
        _fail(prog, exc)
        return 2
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``memograd demo | head -1``): not a failure; silence the flush
        # of the dead pipe at interpreter exit
        _silence_stdout()
        return 0
    except (MemogradError, OSError, ValueError, TypeError) as exc:
        if debug:
            raise
        _fail(prog, exc)
        return 1


def _raise_broken_pipe() -> None:
    raise BrokenPipeError


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests)
        pass


def _prog_from_argv(argv: list[str]) -> str | None:
    for a in argv:
        if a in COMMANDS:
            return f"memograd {a}"
    return None


def _fail(prog: str, exc: BaseException) -> None:
    message = " ".join(str(exc).split()) or type(exc).__name__
    print(f"{prog}: error: {message}", file=sys.stderr)
