"""Checks that a report is what it claims: well-formed, self-contained, its SVG valid XML.

Used by the tests and by anyone who wants to verify a report file::

    from memograd.viz.wellformed import check_report
    check_report(open("report.html", encoding="utf-8").read())
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

from memograd.errors import MemogradValueError

VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip
_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
_EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:|//|file:)""", re.I)


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, tuple[int, int]]] = []
        self.errors: list[str] = []
        self.tags: dict[str, int] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag: Any, attrs: Any) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag: Any, attrs: Any) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_endtag(self, tag: Any) -> None:
        if tag in VOID:
            return
        if not self.stack:
            self.errors.append(f"line {self.getpos()[0]}: </{tag}> closes nothing")
            return
        open_tag, where = self.stack.pop()
        if open_tag != tag:
            self.errors.append(
                f"line {self.getpos()[0]}: </{tag}> closes <{open_tag}> opened on line {where[0]}"
            )

    def handle_data(self, data: str) -> None:
        if not self.stack or self.stack[-1][0] not in ("style", "title"):
            self.text.append(data)


def check_report(text: str) -> dict[str, Any]:
    """Raise :class:`MemogradValueError` unless ``text`` is a balanced HTML document whose
    every inline ``<svg>`` parses as XML and which references nothing outside itself (no scripts,
    no stylesheets or images by URL).

    Returns ``{"svgs": [Element, ...], "tags": {tag: count}, "text": visible text}``.
    """
    parser = _Balance()
    parser.feed(text)
    parser.close()
    errors = list(parser.errors)
    errors += [f"<{t}> opened on line {pos[0]} is never closed" for t, pos in parser.stack]
    if not text.lstrip().lower().startswith("<!doctype html>"):
        errors.append("the document does not start with <!DOCTYPE html>")
    if "script" in parser.tags:
        errors.append("the report contains a <script>; it must not run code")
    if "link" in parser.tags:
        errors.append("the report links an external resource (<link>)")
    if m := _EXTERNAL.search(text):
        errors.append(f"the report references an external resource: {m.group(0)!r}")
    svgs = []
    for k, m in enumerate(_SVG.finditer(text)):
        try:
            svgs.append(ET.fromstring(m.group(0)))
        except ET.ParseError as exc:
            errors.append(f"inline SVG #{k + 1} is not well-formed XML: {exc}")
    if errors:
        raise MemogradValueError("report check failed: " + "; ".join(errors[:10]))
    return {"svgs": svgs, "tags": parser.tags, "text": "".join(parser.text)}
