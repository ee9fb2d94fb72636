"""The ``memograd`` command: one module per subcommand, each with ``HELP``, ``EXAMPLE``,
``add_arguments(parser)`` and ``run(args, ui) -> int``.

Errors follow one rule: one line on stderr, exit 2 for usage errors (bad arguments), 1 for runtime
failures, 130 for Ctrl-C; a traceback only with ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence

from memograd import __version__
from memograd.errors import MemogradError

# subcommands in the order --help lists them; a module that does not exist yet is left out
COMMANDS = ("demo", "fib", "explain", "complexity", "graph", "train", "eval", "predict", "play")


class UsageError(MemogradError, ValueError):
    """A command-line argument is wrong: exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``memograd fib: error: ...``) and exit code 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise UsageError(message)


class UI:
    """What a command needs to talk to the user: a rich console and JSON output."""

    def __init__(self, no_color: bool = False, stdout=None):
        from rich.console import Console

        self.stdout = stdout or sys.stdout
        self.no_color = no_color
        self.console = Console(
            file=self.stdout, no_color=no_color, highlight=False, soft_wrap=False
        )

    def print(self, *objects, **kwargs) -> None:
        self.console.print(*objects, **kwargs)

    def json(self, data) -> None:
        """Print ``data`` as one JSON object on stdout."""
        self.stdout.write(json.dumps(data, indent=2, default=_json_default) + "\n")
        self.stdout.flush()


def _json_default(obj):
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
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--no-color", action="store_true", default=argparse.SUPPRESS, help="plain text output"
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback on errors",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
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
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[common],
        )
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run, _prog=f"memograd {name}")
    return parser


def _as_list(example) -> list[str]:
    return [example] if isinstance(example, str) else list(example)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    prog = "memograd"
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        prog = getattr(args, "_prog", "memograd")
        if not getattr(args, "_run", None):
            parser.print_help()
            return 2
        ui = UI(no_color=getattr(args, "no_color", False))
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
        return 1
    except (MemogradError, OSError, ValueError, TypeError) as exc:
        if debug:
            raise
        _fail(prog, exc)
        return 1


def _prog_from_argv(argv: list[str]) -> str | None:
    for a in argv:
        if a in COMMANDS:
            return f"memograd {a}"
    return None


def _fail(prog: str, exc: BaseException) -> None:
    message = " ".join(str(exc).split()) or type(exc).__name__
    print(f"{prog}: error: {message}", file=sys.stderr)
