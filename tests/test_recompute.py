"""The memory lesson's four strategies, measured on real graphs: the same gradients, and the
shapes the lesson claims (linear, flat with quadratic recompute, about √n)."""

import numpy as np

import memograd as mg
from memograd.recompute import measure, store_nothing_backward


def test_store_nothing_gives_the_same_gradients_and_quadratic_recompute():
    x = mg.tensor(np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32))
    t = mg.tensor(np.random.default_rng(1).normal(size=(8, 1)).astype(np.float32))
    ref = mg.nn.MLP([4, 4, 4, 4, 1], "tanh", seed=0)
    mg.tensor.mse(ref(x), t).backward()
    m = mg.nn.MLP([4, 4, 4, 4, 1], "tanh", seed=0)
    peak, recomputed = store_nothing_backward(m, x, t)
    n = len(list(m.children()))
    assert recomputed == n * (n - 1) // 2
    assert all(
        np.array_equal(a.grad.data, b.grad.data) for a, b in zip(ref.parameters(), m.parameters())
    )
    assert peak > 0


def test_measured_rows_show_the_trade_off():
    rows = measure(range(1, 13), width=16, batch=32)
    assert all(r["same_gradients"] for r in rows)
    store = [r["store_everything"]["peak_bytes"] for r in rows]
    nothing = [r["store_nothing"]["peak_bytes"] for r in rows]
    sqrt = [r["sqrt"]["peak_bytes"] for r in rows]
    # store everything grows by the same step per layer (linear); store nothing stays flat
    steps = np.diff(store)
    assert steps.min() == steps.max() > 0
    assert max(nothing) == min(nothing)
    assert sqrt[-1] < store[-1] * 0.7 and sqrt[-1] > nothing[-1]
    for r in rows:
        n = r["layers"]
        assert r["store_everything"]["recomputed"] == 0
        assert r["store_nothing"]["recomputed"] == n * (n - 1) // 2
        assert r["sqrt"]["recomputed"] <= n
        b = r["budgeted"]
        assert b["peak_bytes"] <= b["budget_bytes"] * 1.1
        assert (
            b["recomputed"] <= r["sqrt"]["recomputed"]
            or b["budget_bytes"] < r["sqrt"]["peak_bytes"]
        )
