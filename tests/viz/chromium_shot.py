"""Headless Chromium screenshots and a tiny PNG decoder for the browser tests (no extra package)."""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--hide-scrollbars",
)


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        exe = shutil.which(name)
        if exe:
            return exe
    return None


SKIP_REASON = (
    "headless Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)"
)


def screenshot(html_file: Path, png: Path, size=(1100, 2400)) -> Path:
    exe = chromium()
    assert exe, SKIP_REASON
    with tempfile.TemporaryDirectory(prefix="mg-chromium-") as profile:
        proc = subprocess.run(
            [
                exe,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={png}",
                f"--window-size={size[0]},{size[1]}",
                Path(html_file).resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert png.exists(), (
        f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-500:]}"
    )
    return png


def read_png(path: Path) -> tuple[int, int, int, bytes]:
    """(width, height, channels, raw pixel bytes) of an 8-bit, non-interlaced RGB/RGBA PNG."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and interlace == 0 and color in (2, 6), f"unsupported PNG {header}"
    ch = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * ch
    out = bytearray(height * stride)
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - ch] if i >= ch else 0
            b = prev[i]
            c = prev[i - ch] if i >= ch else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        out[y * stride : (y + 1) * stride] = line
        prev = line
    return width, height, ch, bytes(out)


def pixel_stats(path: Path) -> dict:
    """Share of non-white pixels and of strongly coloured (orange/blue highlight) pixels."""
    w, h, ch, px = read_png(path)
    n = w * h
    nonwhite = coloured = 0
    for i in range(0, len(px), ch * 3):  # every third pixel is plenty
        r, g, b = px[i], px[i + 1], px[i + 2]
        if r < 235 or g < 235 or b < 235:
            nonwhite += 1
        if max(r, g, b) - min(r, g, b) > 90:
            coloured += 1
    sampled = n / 3
    return {"width": w, "height": h, "nonwhite": nonwhite / sampled, "coloured": coloured / sampled}


# ------------------------------------------------------------------ Playwright: layout measurements

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

PLAYWRIGHT_SKIP = "Playwright for Python or headless Chromium is not installed"


def playwright_ready() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return chromium() is not None


# For every figure (an <svg> at the top level of the document body or of a <figure>): its box, the
# page's and its scroll container's overflow, the smallest rendered font size of its text (font
# size times the SVG's scale on screen) and every pair of text boxes that overlap (getBBox, in the
# SVG's own units, so the browser's real glyph metrics decide).
MEASURE_JS = r"""
() => {
  const vw = document.documentElement.clientWidth;
  const out = {viewport: vw, pageScrollWidth: document.documentElement.scrollWidth, figures: []};
  const svgs = Array.from(document.querySelectorAll('svg')).filter(
    s => !s.parentElement.closest('svg'));
  for (const svg of svgs) {
    const r = svg.getBoundingClientRect();
    // a figure in a box made to scroll sideways (data-scroll="x": a wide picture kept at a
    // legible size) is whole when the box is inside the window and holds the whole picture
    const box = svg.parentElement.closest('[data-scroll="x"]');
    const shown = box ? box.getBoundingClientRect() : r;
    let clipped = shown.left < -0.5 || shown.right > vw + 0.5;
    if (box && box.scrollWidth + 0.5 < r.width) { clipped = true; }
    for (let el = (box || svg).parentElement; el && el !== document.body; el = el.parentElement) {
      if (el.scrollWidth > el.clientWidth + 1) { clipped = true; }
    }
    const texts = Array.from(svg.querySelectorAll('text')).filter(t => t.textContent.trim());
    let minFont = Infinity, minText = '';
    const boxes = [];
    for (const t of texts) {
      const ctm = t.getScreenCTM();
      const scale = ctm ? Math.hypot(ctm.a, ctm.b) : 1;
      const spans = [t, ...t.querySelectorAll('tspan')];
      for (const s of spans) {
        if (!s.textContent.trim()) continue;
        const px = parseFloat(getComputedStyle(s).fontSize) * scale;
        if (px < minFont) { minFont = px; minText = s.textContent; }
      }
      const b = t.getBBox();
      const m = t.getCTM();
      const svgm = svg.getCTM();
      // text box in the svg's user space (apply the text's transform relative to the svg)
      const rel = svgm.inverse().multiply(m);
      const pts = [[b.x, b.y], [b.x + b.width, b.y + b.height]].map(
        ([x, y]) => [rel.a * x + rel.c * y + rel.e, rel.b * x + rel.d * y + rel.f]);
      boxes.push({text: t.textContent, x0: Math.min(pts[0][0], pts[1][0]),
                  y0: Math.min(pts[0][1], pts[1][1]), x1: Math.max(pts[0][0], pts[1][0]),
                  y1: Math.max(pts[0][1], pts[1][1])});
    }
    const overlaps = [];
    const EPS = 0.5;
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i], b = boxes[j];
        if (a.x0 + EPS < b.x1 && b.x0 + EPS < a.x1 && a.y0 + EPS < b.y1 && b.y0 + EPS < a.y1) {
          overlaps.push([a.text, b.text]);
        }
      }
    }
    const vb = svg.viewBox && svg.viewBox.baseVal;
    out.figures.push({
      label: svg.getAttribute('aria-label') || (svg.querySelector('title') || {}).textContent || '',
      left: shown.left, right: shown.right, width: r.width, clipped: clipped,
      scrolls: box ? box.scrollWidth > box.clientWidth + 1 : false,
      viewBoxWidth: vb ? vb.width : null,
      minFont: texts.length ? minFont : null, minText: minText,
      texts: texts.length, overlaps: overlaps.slice(0, 10), nOverlaps: overlaps.length,
    });
  }
  return out;
}
"""


def measure(html: str | Path, widths=(1280, 768), height: int = 900) -> dict[int, dict]:
    """Load a page (a file or markup) in headless Chromium at each width; MEASURE_JS per width."""
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True, args=LAUNCH_ARGS)
        try:
            for w in widths:
                page = browser.new_page(viewport={"width": w, "height": height})
                if isinstance(html, Path):
                    page.goto(html.resolve().as_uri())
                else:
                    page.set_content(html)
                results[w] = page.evaluate(MEASURE_JS)
                page.close()
        finally:
            browser.close()
    return results


def shoot(html: Path, png: Path, width: int, height: int = 900) -> Path:
    """A full-page Playwright screenshot at ``width`` px (for eyes; tests read the numbers)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(Path(html).resolve().as_uri())
            page.screenshot(path=str(png), full_page=True)
        finally:
            browser.close()
    return png
