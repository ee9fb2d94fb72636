"""The self-contained HTML report of ``memograd demo --out report.html``.

One file: the CSS is inline, every picture is inline SVG (or a ``data:`` PNG), nothing is fetched
from the network, no script runs. The markup is also well-formed XML (void elements closed, no named
entities besides XML's five), so that tests and tools can parse it strictly.

Sections write their fragment with the small helpers here (:func:`table`, :func:`figure`,
:func:`note`, :func:`formula`) so that the report reads as one document.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html as _html
import platform
import re
from collections.abc import Iterable, Sequence
from typing import Any

from memograd import __version__
from memograd._io import atomic_write_text

TITLE = "memograd: backpropagation is the chain rule plus memoization"

STYLE = """
:root { --ink: #1d1d1f; --muted: #5c636a; --line: #dee2e6; --hit: #c2410c; --hit-bg: #fff1e6;
        --accent: #1c64c4; --bg-soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial,
       sans-serif; color: var(--ink); line-height: 1.5; margin: 0; background: #fcfcfd; }
main { max-width: 62rem; margin: 0 auto; padding: 1.5rem 1.25rem 4rem; }
header.top { background: #17324d; color: #fff; padding: 1.6rem 1.25rem 1.3rem; }
header.top div { max-width: 62rem; margin: 0 auto; }
header.top h1 { margin: 0 0 .3rem; font-size: 1.7rem; font-weight: 650; }
header.top p { margin: .2rem 0; color: #d0dbe6; }
header.top .motto { font-size: 1.15rem; color: #fff; }
nav.toc { background: var(--bg-soft); border: 1px solid var(--line); border-radius: 8px;
          padding: .7rem 1.1rem; margin: 1.2rem 0 1.5rem; }
nav.toc ol { margin: .3rem 0; padding-left: 1.4rem; columns: 2; }
nav.toc a { color: var(--accent); text-decoration: none; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px;
          padding: .4rem 1.4rem 1.2rem; margin: 1.4rem 0; }
section h2 { font-size: 1.35rem; border-bottom: 2px solid var(--line); padding-bottom: .3rem; }
section h2 .num { color: var(--accent); margin-right: .4rem; }
h3 { font-size: 1.08rem; margin: 1.2rem 0 .4rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .92rem; }
caption { caption-side: top; text-align: left; color: var(--muted); font-size: .88rem;
          padding-bottom: .25rem; }
.scroll { overflow-x: auto; max-width: 100%; }
.hscroll { overflow-x: auto; max-width: 100%; border: 1px solid var(--line); border-radius: 6px; }
.hscroll svg { max-width: none !important; border: none; display: block; margin: 0 auto; }
td, th { border: 1px solid var(--line); padding: .25rem .65rem; text-align: right;
         font-variant-numeric: tabular-nums; }
th { background: var(--bg-soft); font-weight: 600; }
td.l, th.l { text-align: left; }
tr.hit td { background: var(--hit-bg); }
code, pre, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .9em; }
code { background: var(--bg-soft); padding: 0 .25rem; border-radius: 3px; }
pre { background: var(--bg-soft); padding: .7rem 1rem; border-radius: 6px; overflow-x: auto; }
figure { margin: 1rem 0; text-align: center; }
figure svg, figure img { max-width: 100%; height: auto; border: 1px solid var(--line);
                         border-radius: 6px; background: #fff; }
figure svg { width: auto; }
figcaption { color: var(--muted); font-size: .88rem; margin-top: .3rem; }
.hit { color: var(--hit); font-weight: 600; }
.mark { background: var(--hit-bg); border-bottom: 2px solid var(--hit); padding: 0 .15rem; }
.formula .mark { border-bottom: none; outline: 2px solid var(--hit); border-radius: 4px;
                 padding: .1rem .2rem; }
.note { border-left: 4px solid var(--accent); background: #eef4fb; padding: .5rem .9rem;
        margin: .8rem 0; border-radius: 0 6px 6px 0; }
.key { border-left: 4px solid var(--hit); background: var(--hit-bg); padding: .5rem .9rem;
       margin: .8rem 0; border-radius: 0 6px 6px 0; }
.formula { font-size: 1.12rem; margin: .7rem 0; padding: .5rem .8rem; overflow-x: auto;
           white-space: nowrap; font-family: "DejaVu Serif", Georgia, "Times New Roman", serif; }
.formula .eq { margin: 0 .35rem; }
.frac { display: inline-flex; flex-direction: column; vertical-align: middle; text-align: center;
        margin: 0 .12rem; line-height: 1.15; font-size: .95em; }
.frac > span:first-child { border-bottom: 1px solid currentColor; padding: 0 .15rem .05rem; }
.frac > span:last-child { padding: .05rem .15rem 0; }
.big { font-size: 1.3em; }
.ok { color: #2b8a3e; font-weight: 600; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr));
         gap: .8rem; align-items: start; }
footer { color: var(--muted); font-size: .85rem; text-align: center; margin-top: 2rem; }
@media print { section { break-inside: avoid; } nav.toc { display: none; } }
"""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def build_report(
    fragments: Iterable[Sequence[str]], title: str = TITLE, generator: str = "memograd demo"
) -> str:
    """``fragments`` are ``(title, body)`` or ``(key, title, body)``; returns the document.
    ``generator`` is the command the footer names."""
    items = []
    for frag in fragments:
        if len(frag) == 3:
            key, heading, body = frag
        else:
            heading, body = frag
            key = _slug(heading)
        items.append((_slug(key), heading, body))
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    motto, _, rest = title.partition(": ")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en" xmlns="http://www.w3.org/1999/xhtml"><head><meta charset="utf-8"/>',
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
        f"<title>{_html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f'<header class="top"><div><h1>{_html.escape(motto)}</h1>',
        f'<p class="motto">{_html.escape(rest.capitalize() if rest else "")}</p>',
        f"<p>Every number and picture below was computed by memograd {__version__} while this "
        f"report was written ({now}, Python {platform.python_version()}). Nothing is pasted.</p>",
        "</div></header><main>",
    ]
    if len(items) > 1:
        parts.append('<nav class="toc"><strong>The lesson</strong><ol>')
        parts += [f'<li><a href="#{k}">{_html.escape(h)}</a></li>' for k, h, _ in items]
        parts.append("</ol></nav>")
    for n, (key, heading, body) in enumerate(items, 1):
        parts.append(
            f'<section id="{key}"><h2><span class="num">{n}.</span>{_html.escape(heading)}</h2>'
            f"\n{body}\n</section>"
        )
    parts.append(
        f"<footer>Generated by <code>{_html.escape(generator)}</code>. Self-contained: no "
        "scripts, no network, no external files.</footer></main></body></html>"
    )
    return "\n".join(parts)


def write_report(
    path: str,
    fragments: Iterable[Sequence[str]],
    title: str = TITLE,
    generator: str = "memograd demo",
) -> Any:
    """Write the report atomically (mode as a plain ``open`` would give); returns its path."""
    return atomic_write_text(path, build_report(fragments, title, generator))


# ------------------------------------------------------------------------- helpers for sections


def esc(text: str) -> str:
    return _html.escape(str(text))


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    caption: str = "",
    left: Iterable[int] = (0,),
    row_classes: Sequence[str] | None = None,
    raw: bool = False,
) -> str:
    """An HTML table. Cells are escaped unless ``raw`` (then they are trusted markup); columns in
    ``left`` are left-aligned, the rest right-aligned (numbers)."""
    left = set(left)
    cell = (lambda v: str(v)) if raw else esc
    out = ['<div class="scroll"><table>']
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append(
        "<thead><tr>"
        + "".join(
            f'<th class="l">{h}</th>' if i in left else f"<th>{h}</th>"
            for i, h in enumerate(headers)
        )
        + "</tr></thead><tbody>"
    )
    for r, row in enumerate(rows):
        cls = row_classes[r] if row_classes and r < len(row_classes) and row_classes[r] else ""
        out.append(
            (f'<tr class="{cls}">' if cls else "<tr>")
            + "".join(
                f'<td class="l">{cell(v)}</td>' if i in left else f"<td>{cell(v)}</td>"
                for i, v in enumerate(row)
            )
            + "</tr>"
        )
    out.append("</tbody></table></div>")
    return "".join(out)


FIGURE_WIDTH = 670.0  # px: what every window from 768 px up gives a figure (viz.svg.FIT)


def figure(svg: str, caption: str = "") -> str:
    """An inline SVG (markup) with a caption. The picture is drawn at its own size when the page
    has room and shrinks with the page when it has not (never clipped, never a sideways scroll);
    the pictures are designed so that their text stays readable down to a 768 px window."""
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f"<figure>{svg}{cap}</figure>"


def wide_figure(svg: str, caption: str = "") -> str:
    """A picture that cannot shrink to the page and stay legible (the op-level graph, large
    networks: text at 11 px needs the picture at its own size). Up to the page's width it is a
    :func:`figure`; wider, it keeps its own size inside a box that scrolls sideways (keyboard
    focusable), and the caption says so. The box never makes the page itself scroll."""
    m = re.search(r'<svg[^>]*\bwidth="([\d.]+)"', svg)
    width = float(m.group(1)) if m else 0.0
    if width <= FIGURE_WIDTH:
        return figure(svg, caption)
    note = (
        f"The picture is {width:,.0f} px wide, shown at its own size so that its text stays "
        "legible: scroll sideways in the box when the window is narrower."
    )
    cap = f"<figcaption>{caption + ' ' if caption else ''}{note}</figcaption>"
    label = f"picture {width:,.0f} px wide: scroll sideways"
    return (
        f'<figure><div class="hscroll" data-scroll="x" tabindex="0" role="region" '
        f'aria-label="{label}">{svg}</div>{cap}</figure>'
    )


def png_figure(png: bytes, alt: str, caption: str = "") -> str:
    """A PNG embedded as a ``data:`` URI (for matplotlib output)."""
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return (
        f'<figure><img alt="{_html.escape(alt, quote=True)}" '
        f'src="data:image/png;base64,{data}"/>{cap}</figure>'
    )


def note(markup: str, kind: str = "note") -> str:
    """A call-out box; ``kind`` is ``note`` (blue) or ``key`` (the lesson's point, orange)."""
    return f'<div class="{kind}">{markup}</div>'


def formula(markup: str) -> str:
    return f'<div class="formula">{markup}</div>'
