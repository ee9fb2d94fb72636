"""``memograd play``: the lesson as an interactive page, served on 127.0.0.1 (or written as one
self-contained file with ``--static``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memograd.cli import UI

import argparse
import json
import sys
import textwrap

from memograd.cli import UsageError

HELP = "interactive page: click a weight, step the memo table, edit, train"
DESCRIPTION = textwrap.fill(
    "Start a local server (127.0.0.1, a free port unless --port) and open the page: the notes' "
    "network, every chain-rule path of the weight you click, backward one node at a time with "
    "the memo table filling, live edits, depth and width sliders, training on 2-D data, and the "
    "Fibonacci trees. Every number is computed by memograd. Ctrl-C stops the server. --static "
    "--out F writes the same page as one self-contained file for a fixed set of states.",
    width=79,
)
EXAMPLE = [
    "memograd play",
    "memograd play --port 8765 --no-browser",
    "memograd play --static --out lesson.html",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=int, default=0, help="port to listen on (default 0: a free port)"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; anything else is reachable from the network)",
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="do not open a browser, just print the URL"
    )
    parser.add_argument(
        "--static", action="store_true", help="write a self-contained page instead of serving"
    )
    parser.add_argument("--out", help="with --static: the HTML file to write (required)")
    parser.add_argument(
        "--json",
        action="store_true",
        help="on stdout, one JSON object: the file written (--static) or the server's url, host "
        "and port, once it listens",
    )


def run(args: argparse.Namespace, ui: UI) -> int:
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be in [0, 65535], got {args.port}")
    if args.static:
        if not args.out:
            raise UsageError("--static needs --out FILE.html (the page to write)")
        from memograd._io import atomic_open
        from memograd.play.static import page

        html = page()
        with atomic_open(args.out, "w", encoding="utf-8") as f:
            f.write(html)
        print(f"wrote {args.out} ({len(html) / 1e6:.1f} MB, no server needed)", file=sys.stderr)
        if args.json:
            from pathlib import Path

            ui.json({"path": str(Path(args.out).resolve()), "bytes": len(html.encode())})
        return 0
    if args.out:
        raise UsageError("--out is for --static; the server writes no file")
    from memograd.play.api import LOOPBACK
    from memograd.play.server import make_server

    if args.host not in LOOPBACK:
        print(
            f"memograd play: warning: binding to {args.host}: the page and its API are reachable "
            "from other machines",
            file=sys.stderr,
        )
    try:
        server = make_server(args.host, args.port)
    except OSError as e:
        raise OSError(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}") from None
    print(f"memograd play: serving {server.url} (Ctrl-C stops)", file=sys.stderr, flush=True)
    if args.json:
        host, port = server.server_address[:2]
        info = {"url": server.url, "host": str(host), "port": int(port)}
        ui.stdout.write(json.dumps(info) + "\n")  # one line: a reader gets it before serving
        ui.stdout.flush()
    if not args.no_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("memograd play: stopped", file=sys.stderr)
        return 0
    finally:
        server.server_close()
    return 0
