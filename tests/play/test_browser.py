"""The play page in a real browser (Playwright driving Debian's Chromium): every number it shows
equals the Python engine's; no request leaves the machine."""

import json
import math
import shutil
import subprocess
import sys
from urllib.parse import urlparse

import pytest

import memograd as mg
from memograd.graph import Trace, backward, topological_order
from memograd.scalar.nn import notes_network

playwright = pytest.importorskip("playwright.sync_api", reason="playwright (browser extra)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LOCAL = {"127.0.0.1", "localhost", "::1", ""}


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(browser, url, width=1280):
    # bypass_csp: the page's own policy forbids eval, which Playwright's polling probes use
    page = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True).new_page()
    page.requests, page.errors = [], []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=30000)
    return page


def _only_local(page):
    for url in page.requests:
        u = urlparse(url)
        assert u.scheme in ("file", "data") or u.hostname in LOCAL, (
            f"request left the machine: {url}"
        )


def _explain_shown(page):
    products = [
        float(v)
        for v in page.eval_on_selector_all(
            "#explain .path", "els => els.map(e => e.dataset.product)"
        )
    ]
    return {
        "highlighted": page.locator("#network .path-hl").count(),
        "products": products,
        "path_sum": float(page.get_attribute("#path-sum", "data-value")),
        "backprop": float(page.get_attribute("#backprop", "data-value")),
    }


def _events_shown(page):
    return page.eval_on_selector_all(
        "#trace-log li",
        "els => els.map(e => [e.dataset.kind, e.dataset.parent ?? e.dataset.node, "
        "e.dataset.value])",
    )


def _events_expected():
    ex = notes_network()
    order = topological_order(ex.loss)
    out = []

    class Rec(Trace):
        def store(self, node, adjoint):
            out.append(["store", str(order.index(node)), repr(float(adjoint))])

        def push(self, node, parent, contribution):
            out.append(["push", str(order.index(parent)), repr(float(contribution))])

        def evict(self, node):
            out.append(["evict", str(order.index(node)), None])

    backward(ex.loss, 1.0, trace=Rec(), order=order)
    return out


def _same_events(shown, expected):
    assert len(shown) == len(expected)
    for (k1, n1, v1), (k2, n2, v2) in zip(shown, expected):
        assert (k1, n1) == (k2, n2)
        if v2 is not None:
            assert float(v1) == float(v2)


def test_click_w11_1_lights_the_notes_two_paths_with_mg_explains_values(browser, server):
    page = _open(browser, server.url)
    page.click("#network .net-edge[data-name='w11^2']")  # another weight first
    page.wait_for_function("document.getElementById('explain-target').textContent === 'w₁₁²'")
    assert page.locator("#network .path-hl").count() == 1
    page.click("#network .net-edge[data-name='w11^1']")
    page.wait_for_function("document.getElementById('explain-target').textContent === 'w₁₁¹'")
    shown = _explain_shown(page)
    ref = mg.explain(notes_network().loss, "w11^1")
    assert shown["highlighted"] == 2 == ref.count
    assert shown["products"] == [p.product for p in ref.paths]
    assert shown["path_sum"] == ref.path_sum and shown["backprop"] == ref.backprop
    assert page.locator("#memo-hits li").count() == len(ref.reused)
    assert not page.errors
    _only_local(page)


def test_stepping_backward_shows_exactly_graph_trace_events(browser, server):
    page = _open(browser, server.url)
    page.click("footer")
    page.keyboard.press("ArrowRight")
    assert _events_shown(page)[0][0] == "store"
    page.click("#trace-last")
    _same_events(_events_shown(page), _events_expected())
    assert page.get_attribute("#trace-counter", "data-ops") == "36"  # backprop's 32 × + 4 +
    page.click("#trace-first")
    page.click("#trace-next")
    assert page.locator("#trace-log li[data-kind='store']").count() == 2


def test_editing_x1_recomputes_with_the_python_engine(browser, server):
    page = _open(browser, server.url)
    x2 = notes_network().inputs[1].data
    page.fill("#edit-x1", "0.9")
    page.press("#edit-x1", "Enter")
    page.wait_for_function(
        "document.getElementById('edit-readout').textContent.length > 0 && "
        "Number(document.getElementById('edit-x1').value) === 0.9"
    )
    page.wait_for_timeout(400)
    page.wait_for_load_state("networkidle")
    ex = notes_network(inputs=[0.9, x2])
    ref = mg.explain(ex.loss, "w11^1")
    shown = _explain_shown(page)
    assert shown["backprop"] == ref.backprop and shown["path_sum"] == ref.path_sum
    grads = dict(
        page.eval_on_selector_all(
            "#network .net-edge", "els => els.map(e => [e.dataset.name, Number(e.dataset.grad)])"
        )
    )
    ex.loss.backward()
    for name, p in ex.model.named_parameters().items():
        if name.startswith("w"):
            assert grads[name] == pytest.approx(p.grad, rel=1e-12, abs=1e-300)


def test_depth_slider_counts_equal_memograd_complexity_json(browser, server):
    page = _open(browser, server.url)
    page.fill("#depth", "7")
    page.dispatch_event("#depth", "input")
    page.wait_for_function("document.querySelectorAll('#complexity-table tbody tr').length === 7")
    rows = page.eval_on_selector_all(
        "#complexity-table tbody tr",
        "els => els.map(e => [+e.dataset.depth, +e.dataset.paths, +e.dataset.naive, "
        "+e.dataset.backprop])",
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "memograd",
            "complexity",
            "--json",
            "--width",
            "2",
            "--depths",
            "1-7",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    ref = [
        [r["depth"], r["paths_all_parameters"], r["naive"], r["backprop"]]
        for r in json.loads(out.stdout)["rows"]
    ]
    assert rows == ref


def test_training_fifty_steps_lowers_the_loss(browser, server):
    page = _open(browser, server.url)
    page.select_option("#dataset", "moons")
    page.click("#train-play")
    page.wait_for_function(
        "+(document.getElementById('train-counter').dataset.steps || 0) >= 50", timeout=60000
    )
    page.click("#train-play")
    page.wait_for_function("document.getElementById('train-play').textContent.includes('train')")
    steps = int(page.get_attribute("#train-counter", "data-steps"))
    loss = float(page.get_attribute("#train-counter", "data-loss"))
    assert steps >= 50
    from memograd.play import api

    start = api.call("train", {"dataset": "moons", "steps": 0})["loss"]
    assert loss < start
    # the paused state is explained by the engine: the network shows the trained weights
    page.wait_for_load_state("networkidle")
    shown = _explain_shown(page)
    assert math.isclose(sum(shown["products"]), shown["backprop"], rel_tol=1e-9, abs_tol=1e-15)
    _only_local(page)


def test_keyboard_only(browser, server):
    page = _open(browser, server.url)
    page.focus("#network .net-edge[data-name='w21^1']")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('explain-target').textContent === 'w₂₁¹'")
    page.focus("#network .neuron[data-name='o12']")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('explain-target').textContent === 'o₁₂'")
    page.focus("#trace-next")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    assert page.locator("#trace-log li[data-kind='store']").count() == 2


@pytest.mark.parametrize("width", [1280, 768])
def test_page_renders_unclipped_and_not_blank(browser, server, width, tmp_path):
    page = _open(browser, server.url, width)
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow}px wider than the window at {width}px"
    for sel in ["#network svg", "#complexity-chart svg"]:
        box = page.locator(sel).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    png = page.screenshot(full_page=True)
    assert len(set(png[1000:60000])) > 50  # compressed pixels of a drawn page, not a flat colour
    assert not page.errors


def test_the_static_page_passes_the_same_checks_offline(browser, tmp_path):
    out = tmp_path / "lesson.html"
    subprocess.run(
        [sys.executable, "-m", "memograd", "play", "--static", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    page = _open(browser, out.as_uri())
    page.click("#network .net-edge[data-name='w11^1']")
    page.wait_for_function("document.getElementById('explain-target').textContent === 'w₁₁¹'")
    shown = _explain_shown(page)
    ref = mg.explain(notes_network().loss, "w11^1")
    assert shown["highlighted"] == 2 and shown["products"] == [p.product for p in ref.paths]
    page.click("#trace-last")
    _same_events(_events_shown(page), _events_expected())
    page.fill("#depth", "5")
    page.dispatch_event("#depth", "input")
    page.wait_for_function("document.querySelectorAll('#complexity-table tbody tr').length === 5")
    page.click("#fib-play")
    page.wait_for_function("document.getElementById('fib-counter').dataset.naive === '25'")
    page.click("#train-play")
    page.wait_for_function(
        "+(document.getElementById('train-counter').dataset.steps || 0) >= 100", timeout=30000
    )
    assert page.is_disabled("#edit-x1")  # edits need the server; the page says so
    assert all(urlparse(u).scheme in ("file", "data") for u in page.requests), page.requests
    assert not page.errors
