"""Memory against recompute, measured on real graphs: the other side of "store and reuse".

Backprop stores every value a local derivative needs (memoization): no value is computed twice,
and memory grows with depth. Four ways to run the same training step of an n-layer chain, each
measured here on a real tensor graph (bytes from ``mg.memory_report``'s trace, same gradients)::

    store everything   memory ~ n layers       recompute 0
    store nothing      memory ~ 1 layer        recompute n(n-1)/2 layer forwards (every prefix)
    √n checkpoints     memory ~ 2√n layers     recompute ~ n layer forwards (one extra forward)
    budgeted           the least recompute whose peak fits a byte budget (nn.checkpoint.plan)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from memograd import graph
from memograd.nn.checkpoint import _equal, checkpoint_sequential, plan
from memograd.nn.layers import MLP
from memograd.tensor.memory import MemoryTrace, memory_report
from memograd.tensor.tensor import Tensor, _root, _wrap, no_grad, tensor

__all__ = ["STRATEGIES", "measure", "store_nothing_backward"]

STRATEGIES = ("store everything", "store nothing", "√n checkpoints", "budgeted")
WIDTH = 16
BATCH = 32


def _problem(
    depth: int, width: int, batch: int, seed: int = 0
) -> tuple[Callable[[], MLP], Tensor, Tensor]:
    rng = np.random.default_rng(seed)
    x = tensor(rng.normal(size=(batch, width)).astype(np.float32))
    t = tensor(rng.normal(size=(batch, 1)).astype(np.float32))
    return (lambda: MLP([width] * (depth + 1) + [1], "tanh", seed=seed)), x, t


def _loss(out: Tensor, t: Tensor) -> Tensor:
    from memograd.tensor.api import mse

    return mse(out, t)


def store_nothing_backward(model: MLP, x: Tensor, t: Tensor) -> tuple[int, int]:
    """Backward keeping no activation: for layer i = n-1 .. 0, recompute its input from ``x``
    (i layer forwards), record layer i alone and backprop the adjoint through it. Fills ``.grad``
    like ``loss.backward()``; returns (peak bytes, layer forwards recomputed)."""
    layers = list(model.children())
    n = len(layers)
    with no_grad():
        h = x
        for m in layers:
            h = m(h)
    out = _wrap(h.data)
    out.requires_grad = True
    loss = _loss(out, t)
    loss.backward()
    g = out.grad.data
    peak = recomputed = 0
    for i in range(n - 1, -1, -1):
        with no_grad():
            h = x
            for m in layers[:i]:
                h = m(h)
        recomputed += i
        leaf = _wrap(h.data)
        leaf.requires_grad = True
        y = layers[i](leaf)
        if not y.requires_grad:
            continue
        trace = MemoryTrace(graph.topological_order(_root(y)))
        y.backward(g, trace=trace)
        peak = max(peak, h.data.nbytes + g.nbytes + trace.peak)
        g = leaf.grad.data
    return peak, recomputed


def measure(depths: Iterable[int], width: int = WIDTH, batch: int = BATCH) -> list[dict[str, Any]]:
    """For each depth: peak bytes (saved activations + memo table) and layer forwards recomputed
    by each strategy, and the gradients' agreement with storing everything."""
    rows: list[dict[str, Any]] = []
    for depth in depths:
        make, x, t = _problem(depth, width, batch)
        ref = make()
        store = memory_report(_loss(ref(x), t), show=False).peak
        n = len(list(ref.children()))
        ref_grads = [p.grad.data for p in ref.parameters()]

        m0 = make()
        nothing, nothing_recompute = store_nothing_backward(m0, x, t)

        m1 = make()
        segments = max(1, round(math.sqrt(n)))
        sqrt_peak = memory_report(_loss(checkpoint_sequential(m1, segments, x), t), show=False).peak
        last = _equal(n, segments)[-1]
        sqrt_recompute = n - (last[1] - last[0])  # every chunk but the last runs twice

        m2 = make()
        budget = (store + sqrt_peak) // 2
        p = plan(m2, x, budget)
        m2.memory_budget = budget
        budget_peak = memory_report(_loss(m2(x), t), show=False).peak

        same = all(
            all(np.array_equal(a, q.grad.data) for a, q in zip(ref_grads, m.parameters()))
            for m in (m0, m1, m2)
        )
        rows.append(
            {
                "depth": depth,
                "layers": n,
                "itemsize": 4,
                "store_everything": {"peak_bytes": store, "recomputed": 0},
                "store_nothing": {"peak_bytes": nothing, "recomputed": nothing_recompute},
                "sqrt": {
                    "peak_bytes": sqrt_peak,
                    "recomputed": sqrt_recompute,
                    "segments": segments,
                },
                "budgeted": {
                    "peak_bytes": budget_peak,
                    "recomputed": p.recompute,
                    "budget_bytes": budget,
                    "segments": p.segments,
                },
                "same_gradients": same,
            }
        )
    return rows
