"""Budgeted checkpointing of a Sequential: the plan fits, gradients do not change."""

import numpy as np
import pytest

import memograd as mg
from memograd.errors import MemogradValueError
from memograd.nn.checkpoint import estimate, layer_bytes, plan
from memograd.tensor.memory import memory_report


def _setup(depth=24, width=32, batch=16, seed=0):
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.normal(size=(batch, width)).astype(np.float32))
    y = rng.integers(0, 4, batch)
    return (lambda: mg.nn.MLP([width] + [width] * depth + [4], "relu", seed=seed)), x, y


def test_layer_bytes_match_the_measured_store_everything_graph():
    make, x, y = _setup()
    m = make()
    lb = layer_bytes(m, x)
    n = len(lb.acts)
    report = memory_report(mg.tensor.cross_entropy(m(x), y), show=False)
    # the estimate counts the chunk's saved activations; the loss adds its own small saves (its
    # logits, exp and row sums: 16 x 4 float32 twice plus 16, saved for second derivatives too)
    assert abs(estimate(lb, [(0, n)]) - max(lb.ins) - report.saved_at_start) <= 16 * 4 * 4 * 3


def test_a_budget_is_met_with_the_least_recompute_and_the_same_gradients():
    make, x, y = _setup()
    plain = make()
    mg.tensor.cross_entropy(plain(x), y).backward()
    store_all = plan(make(), x, 10**9)
    assert store_all.recompute == 0 and store_all.segments == 1
    budget = store_all.peak // 2
    p = plan(make(), x, budget)
    assert p.peak <= budget and p.recompute > 0
    looser = plan(make(), x, budget * 2)
    assert looser.recompute <= p.recompute  # more memory never costs more recompute
    m = make()
    m.memory_budget = budget
    loss = mg.tensor.cross_entropy(m(x), y)
    report = memory_report(loss, show=False)
    assert all(
        np.array_equal(a.grad.data, b.grad.data) for a, b in zip(plain.parameters(), m.parameters())
    )
    assert report.peak <= budget * 1.25  # the estimate is close to the measured peak


def test_too_small_a_budget_is_refused_with_the_minimum():
    make, x, _ = _setup()
    with pytest.raises(MemogradValueError, match="the least it can run in is about"):
        plan(make(), x, 1000)
    with pytest.raises(MemogradValueError, match="positive number of bytes"):
        plan(make(), x, -5)


def test_segments_are_validated():
    make, x, _ = _setup(depth=3)
    with pytest.raises(MemogradValueError, match=r"segments must be an integer in \[1, 7\]"):
        mg.nn.checkpoint_sequential(make(), 0, x)


def test_a_long_chain_trains_within_a_budget_store_everything_exceeds():
    make, x, y = _setup(depth=300, width=16, batch=8)
    m = make()
    full = plan(m, x, 10**12).peak
    m.memory_budget = full // 4
    loss = mg.tensor.cross_entropy(m(x), y)
    report = memory_report(loss, show=False)
    assert report.peak < full / 2.5
    assert all(p.grad is not None for p in m.parameters())
