"""EVERY row of ops.TABLE (rows other modules register too), first and second derivatives.

For each row: its ``example`` (or, for rows without one, a default elementwise call on values in
(0.2, 0.9)), then

* the first derivative of ``L = Σ w·f(xs)`` from backward() against float64 central differences;
* the second derivative: ``backward(create_graph=True)`` gives ∇L as Tensors, a second backward of
  ``Σ v·∇L`` gives H·v, checked against central differences of the first-order gradient along v;
* a row that says ``twice=False`` must refuse create_graph with GraphError (never a number); a
  row whose formulas write in place or convert their Tensors is refused by the engine's guard
  (GraphError too): such rows are listed by ``test_rows_not_twice_differentiable_are_few`` so the
  list is seen, and the core rows of ops.py must all be twice-differentiable.
"""

from __future__ import annotations

import numpy as np
import pytest

import memograd as mg
import memograd.tensor  # noqa: F401 - imports every module that registers rows
from memograd.tensor import ops
from memograd.tensor.ops import TABLE
from memograd.tensor.tensor import _apply

EPS = 1e-6
_IDX = np.array([0, 2, 2])
_GRID = np.array([[0, 1], [2, 2], [3, 0]])
_CONV = {"kernel": (2, 2), "stride": (1, 1), "padding": ((0, 0), (0, 0)), "dilation": (1, 1)}

# Calls for rows registered without ``example=`` that the default (elementwise on (0.2, 0.9))
# does not fit; a row's own ``example`` wins.
EXAMPLES = {
    "arccosh": lambda r: ((r.uniform(1.5, 3.0, (3, 4)),), {}),
    "take": lambda r: ((r.normal(size=(4, 3)),), {"index": _IDX, "axis": 0}),
    "index_add": lambda r: (
        (r.normal(size=(4, 3)), r.normal(size=(3, 3))),
        {"axis": 0, "index": _IDX},
    ),
    "gather": lambda r: ((r.normal(size=(3, 4)),), {"axis": 1, "index": _GRID}),
    "scatter_add": lambda r: (
        (r.normal(size=(3, 4)), r.normal(size=(3, 2))),
        {"axis": 1, "index": _GRID},
    ),
    "einsum": lambda r: ((r.normal(size=(3, 4)), r.normal(size=(4, 2))), {"spec": "ij,jk->ik"}),
    "cumsum": lambda r: ((r.normal(size=(3, 4)),), {"axis": 1}),
    "cumprod": lambda r: ((r.uniform(0.5, 1.5, (3, 4)),), {"axis": 1}),
    "im2col": lambda r: ((r.normal(size=(1, 2, 4, 4)),), _CONV),
    "col2im": lambda r: ((r.normal(size=(1, 3, 3, 2, 2, 2)),), {"shape": (1, 2, 4, 4), **_CONV}),
}


def example(row, rng):
    maker = row.example or EXAMPLES.get(row.name)
    if maker is not None:
        inputs, params = maker(rng)
        return tuple(np.asarray(x, dtype=np.float64) for x in inputs), dict(params)
    n = len(row.vjp) if isinstance(row.vjp, tuple) else 2
    inputs = tuple(rng.uniform(0.2, 0.9, size=(3, 4)) for _ in range(n))
    return inputs, {}


def run(row, arrays, params, requires_grad=True):
    ts = [mg.tensor(a, requires_grad=requires_grad, dtype="float64") for a in arrays]
    return ts, _apply(row, tuple(ts), params)


def loss_value(row, arrays, params, w):
    with mg.no_grad():
        _, out = run(row, arrays, params, requires_grad=False)
    return float(np.sum(out.data * w))


def first_grads(row, arrays, params, w):
    ts, out = run(row, arrays, params)
    (out * w).sum().backward()
    return [np.zeros_like(a) if t.grad is None else t.grad.data for a, t in zip(arrays, ts)]


def numeric_grads(row, arrays, params, w):
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            hi = [x.copy() for x in arrays]
            lo = [x.copy() for x in arrays]
            hi[i][idx] += EPS
            lo[i][idx] -= EPS
            g[idx] = (loss_value(row, hi, params, w) - loss_value(row, lo, params, w)) / (2 * EPS)
        grads.append(g)
    return grads


def rows():
    return sorted(TABLE)


@pytest.mark.parametrize("name", rows())
def test_row_first_derivative_matches_central_differences(name):
    row = TABLE[name]
    rng = np.random.default_rng(0)
    arrays, params = example(row, rng)
    _, out = run(row, arrays, params)
    w = rng.normal(size=out.shape)
    got = first_grads(row, arrays, params, w)
    want = numeric_grads(row, arrays, params, w)
    for i, (g, n) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-6, err_msg=f"{name}: input {i}")


@pytest.mark.parametrize("name", rows())
def test_row_second_derivative_matches_differences_of_first(name):
    row = TABLE[name]
    rng = np.random.default_rng(1)
    arrays, params = example(row, rng)
    ts, out = run(row, arrays, params)
    w = rng.normal(size=out.shape)
    vs = [rng.normal(size=a.shape) for a in arrays]
    if row.twice is False:
        with pytest.raises(mg.GraphError, match=name):
            (out * w).sum().backward(create_graph=True)
        return
    try:
        (out * w).sum().backward(create_graph=True)
    except mg.GraphError as e:  # refused, clearly: allowed, but listed (test below)
        assert name in str(e) or "VJP formula" in str(e), e
        assert name not in CORE, f"core row {name} must be twice-differentiable: {e}"
        return
    grads = [t.grad for t in ts]
    for t in ts:
        t.grad = None
    terms = [(g * v).sum() for g, v in zip(grads, vs) if g is not None and g.requires_grad]
    if terms:
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        total.backward()
    got = [np.zeros_like(a) if t.grad is None else t.grad.data for a, t in zip(arrays, ts)]
    # H v by central differences of the first-order gradient along v
    plus = first_grads(row, [a + EPS * v for a, v in zip(arrays, vs)], params, w)
    minus = first_grads(row, [a - EPS * v for a, v in zip(arrays, vs)], params, w)
    for i, (g, p, m) in enumerate(zip(got, plus, minus)):
        np.testing.assert_allclose(
            g, (p - m) / (2 * EPS), rtol=1e-4, atol=1e-5, err_msg=f"{name}: input {i}"
        )


CORE = {p.name for p in ops._RULES}


def not_twice_differentiable() -> list[str]:
    """Rows whose create_graph backward raises GraphError (twice=False, or refused by the guard)."""
    refused = []
    for name in rows():
        row = TABLE[name]
        arrays, params = example(row, np.random.default_rng(3))
        _, out = run(row, arrays, params)
        try:
            out.sum().backward(create_graph=True)
        except mg.GraphError:
            refused.append(name)
    return refused


def test_rows_not_twice_differentiable_are_few():
    """Every core row is twice-differentiable; the family rows that are not are listed here so
    that the list is visible (and shrinks): each refuses with GraphError, never a number."""
    refused = not_twice_differentiable()
    assert not set(refused) & CORE, refused
    assert len(refused) <= len(TABLE) // 4, refused


def test_every_row_has_a_usable_example():
    """Rows with parameters, domain limits or more than two inputs must give ``example=``."""
    rng = np.random.default_rng(2)
    for row in TABLE.values():
        arrays, params = example(row, rng)
        run(row, arrays, params)  # raises if the default call does not fit the row
