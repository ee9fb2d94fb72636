"""``memograd demo``: the whole lesson, in the terminal, as JSON, or as an HTML report.

Every section (``memograd.lesson``) computes its numbers live, then renders them to the terminal
(rich), and, with ``--out``, to one self-contained HTML file (inline SVG pictures, no network).
"""

from __future__ import annotations

from pathlib import Path

from memograd.cli import UsageError

HELP = "tell the lesson: memoization, chain-rule paths, backprop = chain rule + memoization"
DESCRIPTION = (
    "Tell the notes' lesson end to end with live numbers: memoization (Fibonacci), the 2-2-2-1 "
    "network, the chain-rule paths of dL/dw11^1, the memo table filling during backward, how "
    "the cost grows with depth, and a real training run. --out writes a self-contained HTML "
    "report with pictures."
)
EXAMPLE = [
    "memograd demo --out memograd-report.html",
    "memograd demo --quick --no-color",
    "memograd demo --json --only chain_rule",
]


def add_arguments(parser) -> None:
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


def run(args, ui) -> int:
    from memograd.lesson import sections

    chosen = sections()
    if args.only:
        wanted = [k.strip() for k in args.only.split(",") if k.strip()]
        known = [s.KEY for s in chosen]
        unknown = [k for k in wanted if k not in known]
        if unknown:
            raise UsageError(
                f"--only: unknown section {', '.join(unknown)}; available: {', '.join(known)}"
            )
        chosen = [s for s in chosen if s.KEY in wanted]
    options = {"quick": bool(args.quick)}
    data, fragments = {}, []
    for number, section in enumerate(chosen, 1):
        result = section.compute(options)
        data[section.KEY] = result
        if not args.json:
            ui.print(f"\n[bold underline]{number}. {section.TITLE}[/]\n")
            section.render(result, ui)
        if args.out:
            fragments.append((section.KEY, section.TITLE, section.html(result)))
    if args.out:
        from memograd.viz.report import write_report

        path = Path(write_report(args.out, fragments)).resolve()
        data["report"] = str(path)
        if not args.json:
            ui.print(f"\nReport written to [bold]{path}[/]")
            ui.print(f"Open it in a browser: file://{path}")
    if args.json:
        ui.json(data)
    return 0
