"""The self-contained HTML report: one file, inline SVG and images, no network."""

from __future__ import annotations

import html as _html
from collections.abc import Iterable

from memograd import __version__
from memograd._io import atomic_write_text

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1d1d1f; line-height: 1.45; }
h1 { border-bottom: 2px solid #444; }
section { margin: 2rem 0; }
table { border-collapse: collapse; margin: 0.5rem 0; }
td, th { border: 1px solid #bbb; padding: 0.2rem 0.6rem; text-align: right; }
th { background: #f0f0f0; }
code, pre { background: #f6f6f6; }
.hit { color: #b35900; font-weight: bold; }
"""


def build_report(fragments: Iterable[tuple[str, str]], title: str = "memograd: the lesson") -> str:
    """``fragments`` are (section title, HTML body) pairs; returns the whole document."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"/>',
        f"<title>{_html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{_html.escape(title)}</h1>",
        "<p>Backpropagation is the chain rule plus memoization. Every number below was computed "
        f"by memograd {__version__} while this report was written.</p>",
    ]
    for heading, body in fragments:
        parts.append(f"<section><h2>{_html.escape(heading)}</h2>\n{body}\n</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(path, fragments: Iterable[tuple[str, str]], title: str = "memograd: the lesson"):
    return atomic_write_text(path, build_report(fragments, title))
