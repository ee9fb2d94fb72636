"""memograd play: how fast the page answers (issue 15's targets), measured in a real browser.

    python benchmarks/play_bench.py [--rounds 20] [--out benchmarks/results/play.md]

API round trips are timed over HTTP on 127.0.0.1 (request, engine work, JSON); the browser times
come from Playwright driving Debian's Chromium (each includes Playwright's own polling, a few ms,
so they are upper bounds). Reported: fastest and median of ``--rounds``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import threading
import time
import urllib.request

from _common import machine, publish


def _post(url: str, route: str, body: dict) -> dict:
    req = urllib.request.Request(
        url + "api/" + route,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def _times(fn, rounds: int) -> tuple[float, float]:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e3)
    return min(out), statistics.median(out)


def api_rows(url: str, rounds: int) -> list[tuple[str, float, float, str]]:
    rows = []
    for net, target in (([2, 2, 2, 1], 50), ([2, 16, 16, 1], 200)):
        req = {"net": net, "activation": "sigmoid", "seed": 0}
        weights = _post(url, "network", req)["weights"]

        def edit(req=req, weights=weights):  # what the page asks after an edit
            r = {**req, "weights": {**weights, "w11^1": 0.3}}
            _post(url, "network", r)
            _post(url, "explain", {**r, "wrt": "w11^1"})
            _post(url, "trace", r)

        name = "-".join(map(str, net))
        fast, med = _times(lambda req=req: _post(url, "explain", {**req, "wrt": "w11^1"}), rounds)
        rows.append((f"click w11^1: explain request, {name}", fast, med, "< 100 ms"))
        fast, med = _times(edit, rounds)
        rows.append(
            (f"edit round trip (network + explain + trace), {name}", fast, med, f"< {target} ms")
        )
    return rows


def browser_rows(url: str, rounds: int) -> list[tuple[str, float, float, str]]:
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium")
    if exe is None:
        return []
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
    ]
    rows = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=args)
        ctx = b.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        ready = []
        for _ in range(max(3, rounds // 4)):
            page = ctx.new_page()
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']")
            ready.append(page.evaluate("window.memogradReadyMs"))
            page.close()
        rows.append(
            (
                "page ready (navigation to all panels drawn)",
                min(ready),
                statistics.median(ready),
                "< 1000 ms",
            )
        )
        page = ctx.new_page()
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']")
        clicks, inpage = [], []
        for k in range(rounds):
            name, shown = ("w11^1", "w₁₁¹") if k % 2 == 0 else ("w22^2", "w₂₂²")
            t = time.perf_counter()
            page.click(f"#network .net-edge[data-name='{name}']")
            page.wait_for_function(
                f"document.getElementById('explain-target').textContent === '{shown}'", polling=1
            )
            clicks.append((time.perf_counter() - t) * 1e3)
            inpage.append(page.evaluate("window.memogradSelectMs"))
        rows.append(
            (
                "click to highlighted paths, measured in the page",
                min(inpage),
                statistics.median(inpage),
                "< 100 ms",
            )
        )
        rows.append(
            (
                "the same, end to end through Playwright (its click checks included)",
                min(clicks),
                statistics.median(clicks),
                "< 100 ms",
            )
        )
        page.click("#train-play")
        page.wait_for_function("+(document.getElementById('train-counter').dataset.steps||0) > 0")
        s0, t0 = int(page.get_attribute("#train-counter", "data-steps")), time.perf_counter()
        time.sleep(3.0)
        s1, t1 = int(page.get_attribute("#train-counter", "data-steps")), time.perf_counter()
        page.click("#train-play")
        per_s = (s1 - s0) / 5 / (t1 - t0)  # 5 steps per update
        rows.append(("training view on moons: updates per second", per_s, per_s, ">= 10 / s"))
        b.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--out")
    args = ap.parse_args()
    from memograd.play.server import make_server

    srv = make_server()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    rows = api_rows(srv.url, args.rounds) + browser_rows(srv.url, args.rounds)
    srv.shutdown()
    lines = [
        "## memograd play: response times",
        "",
        f"Machine: {machine()}; shared with other work while measured. "
        f"Command: `python benchmarks/play_bench.py --rounds {args.rounds}`.",
        "",
        "| what | fastest | median | target |",
        "|---|---:|---:|---|",
    ]
    for what, fast, med, target in rows:
        unit = "" if "per second" in what else " ms"
        lines.append(f"| {what} | {fast:.1f}{unit} | {med:.1f}{unit} | {target} |")
    publish("\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
