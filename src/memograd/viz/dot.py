"""Graphviz DOT text for the same graphs :mod:`memograd.viz.svg` draws.

Writing DOT needs nothing. Turning it into a picture needs Graphviz's ``dot`` program; when it is
not installed, :func:`render` raises :class:`GraphvizMissingError` saying so and pointing to the
project's own SVG layout (``memograd graph`` without ``--engine graphviz``), which needs nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Sequence

from memograd.errors import MemogradError
from memograd.viz.notation import fmt, unicode_name
from memograd.viz.svg import KIND_FILL, PALETTE, Edge, Highlight, Node


class GraphvizMissingError(MemogradError, RuntimeError):
    """Graphviz's ``dot`` program is not installed, so DOT text cannot be rendered here."""


def _quote(text: str, backslash: bool = True) -> str:
    if backslash:  # a record label escapes its own backslashes (see _record_escape)
        text = text.replace("\\", "\\\\")
    return '"' + text.replace('"', '\\"') + '"'


def _record_escape(text: str) -> str:
    for ch in "\\{}|<>":
        text = text.replace(ch, "\\" + ch)
    return text


def to_dot(
    nodes: Sequence[Node],
    edges: Sequence[Edge],
    *,
    highlights: Iterable[Highlight] = (),
    title: str = "",
    name: str = "memograd",
) -> str:
    """DOT text: left to right, each node a record ``name | data | grad``, highlighted groups
    coloured (an edge in several groups gets one colour per group, Graphviz's ``a:b`` syntax)."""
    highlights = list(highlights)
    colors = [h.color or PALETTE[k % len(PALETTE)] for k, h in enumerate(highlights)]
    edge_colors: dict[tuple[str, str], list[str]] = {}
    node_colors: dict[str, str] = {}
    for h, c in zip(highlights, colors):
        for e in h.edges:
            edge_colors.setdefault(tuple(e), []).append(c)
        for n in h.nodes:
            node_colors.setdefault(n, c)
    ident = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name) or "g"
    lines = [
        f"digraph {ident} {{",
        "  rankdir=LR;",
        '  node [shape=record, fontname="Helvetica", fontsize=11, style=filled];',
        '  edge [color="#868e96"];',
    ]
    if title:
        lines.append(f"  label={_quote(title)}; labelloc=t; fontsize=14;")
    for n in nodes:
        cells = [_record_escape(unicode_name(n.label) if n.label else (n.note or "·"))]
        if n.data is not None:
            cells.append(f"data {_record_escape(fmt(n.data))}")
        if n.grad is not None:
            cells.append(f"grad {_record_escape(fmt(n.grad))}")
        attrs = [
            f"label={_quote('{ ' + ' | '.join(cells) + ' }', backslash=False)}",
            f"fillcolor={_quote(KIND_FILL.get(n.kind, '#ffffff'))}",
        ]
        if n.id in node_colors:
            attrs.append(f"color={_quote(node_colors[n.id])}, penwidth=2.5")
        lines.append(f"  {_quote(n.id)} [{', '.join(attrs)}];")
    for e in edges:
        attrs = []
        if e.label or e.value is not None:
            text = unicode_name(e.label) if e.label else ""
            if e.value is not None:
                text += ("=" if text else "") + fmt(e.value, 3)
            attrs.append(f"label={_quote(text)}")
        cs = edge_colors.get((e.src, e.dst))
        if cs:
            attrs.append(f"color={_quote(':'.join(cs))}, penwidth=2.5")
        tail = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {_quote(e.src)} -> {_quote(e.dst)}{tail};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def graphviz_available() -> bool:
    return shutil.which("dot") is not None


def render(dot_text: str, fmt_: str = "svg", timeout: float = 60.0) -> str:
    """Run Graphviz's ``dot -T<fmt>`` on ``dot_text``; the output as text."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizMissingError(
            f"Graphviz's 'dot' program is not installed, so DOT cannot be rendered to {fmt_} "
            "here; install Graphviz (e.g. apt-get install graphviz), or use memograd's own SVG "
            "layout, which needs nothing (memograd graph without --engine graphviz; "
            "--format dot still writes the DOT text)"
        )
    proc = subprocess.run(
        [exe, f"-T{fmt_}"], input=dot_text, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise MemogradError(f"dot -T{fmt_} failed: {proc.stderr.strip()[:300]}")
    return proc.stdout
