"""``memograd demo``: the whole lesson, in the terminal, as JSON, or as an HTML report."""

from __future__ import annotations

from pathlib import Path

HELP = "tell the lesson: memoization, chain-rule paths, backprop = chain rule + memoization"
EXAMPLE = ["memograd demo", "memograd demo --out report.html", "memograd demo --json"]


def add_arguments(parser) -> None:
    parser.add_argument("--out", metavar="FILE", help="also write a self-contained HTML report")
    parser.add_argument("--json", action="store_true", help="print the lesson's numbers as JSON")
    parser.add_argument(
        "--quick", action="store_true", help="smaller workloads (for tests and slow machines)"
    )


def run(args, ui) -> int:
    from memograd.lesson import sections

    options = {"quick": args.quick}
    data, fragments = {}, []
    for section in sections():
        result = section.compute(options)
        data[section.KEY] = result
        if not args.json:
            ui.print(f"\n[bold underline]{section.TITLE}[/]")
            section.render(result, ui)
        if args.out:
            fragments.append((section.TITLE, section.html(result)))
    if args.out:
        from memograd.viz.report import write_report

        path = write_report(args.out, fragments)
        data["report"] = str(Path(path).resolve())
        if not args.json:
            ui.print(f"\nReport written to [bold]{Path(path).resolve()}[/]")
    if args.json:
        ui.json(data)
    return 0
