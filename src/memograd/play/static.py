"""``memograd play --static``: the same page as one self-contained file, answers precomputed.

The page's scripts and styles are inlined, and ``window.MEMOGRAD_STATIC`` holds the API's answers
for a fixed set of states, keyed as the page asks for them (route, space, the request as JSON with
sorted keys): the preset network, every weight's, bias's and neuron's paths, the backward trace,
the complexity rows for every width, the Fibonacci trees for n = 0..10, and a recorded training
run per dataset (snapshots every ``EVERY`` steps). No network access and no server are needed.
"""

from __future__ import annotations

import json
from typing import Any

from memograd.play import api
from memograd.play.server import asset

PRESET = {"net": list(api.NET), "activation": "sigmoid", "seed": 0}
TRAIN_STEPS = 200
EVERY = 20


def key(route: str, req: dict[str, Any]) -> str:
    """How the page looks an answer up (its ``canonical`` in app.js is the same function)."""
    return route + " " + json.dumps(req, sort_keys=True, separators=(",", ":"))


def answers(preset: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every answer the static page can show, for ``preset`` (default: the notes' network)."""
    preset = dict(PRESET if preset is None else preset)
    out: dict[str, dict[str, Any]] = {}

    def put(route: str, req: dict[str, Any]) -> dict[str, Any]:
        out[key(route, req)] = answer = api.call(route, req)
        return answer

    net = put("network", preset)
    put("trace", preset)
    names = [e["name"] for e in net["edges"]] + [b["name"] for b in net["biases"]]
    names += [n["name"] for layer in net["layers"] for n in layer]
    for name in names:
        put("explain", {**preset, "wrt": name})
    for width in range(1, api.MAX_COMPLEXITY_WIDTH + 1):
        put("complexity", {"depth": api.MAX_DEPTH, "width": width})
    for n in range(api.FIB_MAX_N + 1):
        put("fib", {"n": n})
    return out


def trajectories(preset: dict[str, Any] | None = None) -> dict[str, Any]:
    """A training run per dataset from the preset's weights: a snapshot every EVERY steps."""
    preset = dict(PRESET if preset is None else preset)
    runs = {}
    for dataset in api.DATASETS:
        weights = None
        curve: list[float] = []
        snaps = []
        for at in range(0, TRAIN_STEPS + 1, EVERY):
            req = {**preset, "dataset": dataset, "steps": 0 if at == 0 else EVERY, "lr": 2.0}
            if weights is not None:
                req["weights"] = weights
            r = api.call("train", req)
            weights = r["weights"]
            curve += r["losses"]
            snaps.append({**r, "at": at, "curve": list(curve) or [r["loss"]]})
        runs[dataset] = snaps
    return runs


def page(preset: dict[str, Any] | None = None) -> str:
    """The self-contained HTML page."""
    preset = dict(PRESET if preset is None else preset)
    data = {"preset": preset, "answers": answers(preset), "trajectories": trajectories(preset)}
    blob = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    html = asset("index.html").decode()
    css = asset("style.css").decode()
    js = asset("app.js").decode().replace("</", "<\\/")
    html = html.replace('<link rel="stylesheet" href="style.css">', f"<style>\n{css}</style>")
    html = html.replace("<!--STATIC-->", f"<script>window.MEMOGRAD_STATIC = {blob};</script>")
    return html.replace('<script src="app.js"></script>', f"<script>\n{js}</script>")
