"""``memograd demo``: the whole lesson, in the terminal, as JSON, or as an HTML report.

Every section (``memograd.lesson``) computes its numbers live, then renders them to the terminal
(rich), and, with ``--out``, to one self-contained HTML file (inline SVG pictures, no network).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memograd.cli import UI

import argparse
import sys
import textwrap
from pathlib import Path
from typing import Any

from memograd.cli import UsageError

HELP = "tell the lesson: memoization, chain-rule paths, backprop = chain rule + memoization"
DESCRIPTION = textwrap.fill(
    "Tell the notes' lesson end to end with live numbers: memoization (Fibonacci), the 2-2-2-1 "
    "network, the chain-rule paths of dL/dw11^1, the memo table filling during backward, how "
    "the cost grows with depth, and a real training run. --out writes a self-contained HTML "
    "report with pictures.",
    width=79,
)
EXAMPLE = [
    "memograd demo --out memograd-report.html",
    "memograd demo --quick --no-color",
    "memograd demo --json --only chain_rule",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", metavar="FILE", help="also write a self-contained HTML report (e.g. report.html)"
    )
    parser.add_argument("--json", action="store_true", help="print the lesson's numbers as JSON")
    parser.add_argument(
        "--quick", action="store_true", help="smaller workloads (for tests and slow machines)"
    )
    parser.add_argument(
        "--only",
        metavar="KEY[,KEY]",
        help="run only these sections (keys as in --json: memoization, network, chain_rule, "
        "memo_table, complexity, training)",
    )


def summary(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The notes' summary, each point with a number this run measured: (HTML, plain text) pairs.
    Points whose sections did not run are left out."""
    from memograd.lesson.chain_rule import exact
    from memograd.viz.notation import fmt

    out = []
    cx = data.get("complexity")
    if cx:
        first, last = cx["rows"][0], cx["rows"][-1]
        text = (
            "Layer increase ↔ complexity increase: from {a} to {b} hidden layers, the chain-rule "
            "paths from L to w11^1 grow from {pa} to {pb}, and enumerating every parameter's "
            "paths from {na} to {nb} operations."
        ).format(
            a=first["depth"],
            b=last["depth"],
            pa=fmt(first["paths_to_w11^1"]),
            pb=fmt(last["paths_to_w11^1"]),
            na=fmt(first["naive"]),
            nb=fmt(last["naive"]),
        )
        out.append(_both(text))
    mt, memo = data.get("memo_table"), data.get("memoization")
    if mt or memo:
        parts = []
        if memo and "naive_38" in memo:
            n38 = memo["naive_38"]
            parts.append(
                f"naive fib(38) would make {fmt(n38['calls_predicted'])} calls where @memoize "
                f"makes {fmt(n38['memo_calls_counted'])}"
            )
        cost = (data.get("chain_rule") or {}).get("cost")
        if mt and cost:
            parts.append(
                f"the 15 gradients of the notes' network cost {fmt(cost['naive'])} operations "
                f"path by path but {fmt(cost['backprop'])} with the memo table, whose "
                f"{mt['nodes']} entries are each computed once"
            )
        if parts:
            text = "The same values are calculated many times without memoization: "
            text += "; ".join(parts) + "."
            out.append((text, text))
    cr = data.get("chain_rule")
    if cr:
        two = cr["two_paths"]
        text = (
            f"Memoization stores each value once and reuses it: backprop's ∂L/∂w11^1 = "
            f"{exact(two['backprop'])} equals the sum of its {two['count']} paths "
            f"({exact(two['path_sum'])}). Backpropagation = chain rule + memoization."
        )
        out.append(_both(text))
    return out


def _both(text: str) -> tuple[str, str]:
    """(HTML, terminal) forms of a summary point: w11^1 as w<sub>11</sub><sup>1</sup> and w₁₁¹."""
    from memograd.viz.notation import html_name, unicode_name

    return text.replace("w11^1", html_name("w11^1")), text.replace("w11^1", unicode_name("w11^1"))


def _check_out(out: str) -> None:
    """--out names a file: refuse a folder before minutes of work, not after."""
    import os

    if out.endswith(("/", os.sep)) or Path(out).is_dir():
        raise UsageError(
            f"--out: {out} is a folder; give a file name, e.g. "
            f"{os.path.join(out, 'memograd-report.html')}"
        )


def run(args: argparse.Namespace, ui: UI) -> int:
    from memograd.lesson import sections
    from memograd.viz.report import esc

    chosen = sections()
    numbers = {s.KEY: k for k, s in enumerate(chosen, 1)}  # "section 3" means the same with --only
    if args.only:
        wanted = [k.strip() for k in args.only.split(",") if k.strip()]
        known = [s.KEY for s in chosen]
        unknown = [k for k in wanted if k not in known]
        if unknown:
            raise UsageError(
                f"--only: unknown section {', '.join(unknown)}; available: {', '.join(known)}"
            )
        chosen = [s for s in chosen if s.KEY in wanted]
    if args.out:
        _check_out(args.out)
    options = {"quick": bool(args.quick), "threads": getattr(args, "threads", None)}
    debug = bool(getattr(args, "debug", False))
    data, fragments, failed = {}, [], []
    for k, section in enumerate(chosen, 1):
        number = numbers[section.KEY]
        if not args.json:
            ui.print(f"\n[bold underline]{number}. {section.TITLE}[/]\n")
        # one broken section must not hide the others: report it, go on, exit 1 at the end
        try:
            # stderr, while the section computes (gone before it prints): which of how many
            with ui.progress(f"demo: computing section {number} ({k} of {len(chosen)})"):
                result = section.compute(options)
            if not args.json:
                section.render(result, ui)
            fragment = section.html(result) if args.out else ""
        except BrokenPipeError:  # the reader left (| head): not the section's failure
            raise
        except Exception as exc:  # any failure of a section is reported, not hidden
            if debug:
                raise
            message = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            failed.append(section.KEY)
            result = {"error": message}
            fragment = (
                f'<div class="key"><strong>This section failed:</strong> {esc(message)}</div>'
            )
            print(
                f"memograd demo: error: section {section.KEY!r} failed: {message} "
                "(--debug shows the traceback)",
                file=sys.stderr,
            )
        data[section.KEY] = result
        if args.out:
            fragments.append((section.KEY, section.TITLE, fragment))
    points = summary({k: v for k, v in data.items() if k not in failed})
    if points and not args.json:
        ui.print("\n[bold underline]Summary (the notes' three points, measured)[/]\n")
        for k, (_, plain) in enumerate(points, 1):
            ui.print(f"{k}. {plain}")
    if args.out:
        from memograd.viz.report import write_report

        if points:
            items = "".join(f"<li>{markup}</li>" for markup, _ in points)
            fragments.append(
                ("summary", "Summary: the notes' three points, measured", f"<ol>{items}</ol>")
            )

        try:
            path = Path(write_report(args.out, fragments)).resolve()
        except OSError as exc:
            raise OSError(f"cannot write the report to {args.out}: {exc.strerror or exc}") from None
        data["report"] = str(path)
        if not args.json:
            ui.print(f"\nReport written to [bold]{path}[/]")
            ui.print(f"Open it in a browser: file://{path}")
    if args.json:
        ui.json(data)
    return 1 if failed else 0
