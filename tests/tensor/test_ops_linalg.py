"""Linear algebra (ops_linalg): einsum with any subscripts (implicit output, repeated letters,
ellipsis, size-1 broadcasting), dot in all NumPy forms, inner, outer, tensordot, trace,
diagonal, diag, kron; values against NumPy, gradients against central differences and torch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import memograd as mg

from .helpers import assert_grads_match
from .torch_ref import compare, needs_torch, torch

M = mg.tensor
SETTINGS = settings(max_examples=10, deadline=None)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->ji", [(2, 2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    ("i...->...", [(2, 3, 2)]),
    ("...,...", [(2, 3), (3,)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),  # a size-1 letter broadcasts
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    (",i->i", [(), (3,)]),
    ("bA,Ab", [(2, 3), (3, 2)]),
    ("ij,ik->", [(0, 2), (0, 3)]),
]


@pytest.mark.parametrize("spec,shapes", EINSUMS, ids=[e[0] for e in EINSUMS])
def test_einsum_values_and_gradients(spec, shapes):
    xs = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    out = mg.tensor.einsum(spec, *[M(x) for x in xs])
    ref = np.einsum(spec, *xs)
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-12)
    w = rand(*np.shape(ref), seed=9)
    assert_grads_match(lambda *ts: (mg.tensor.einsum(spec, *ts) * w).sum(), xs)


@needs_torch
@pytest.mark.parametrize("spec,shapes", EINSUMS[:11], ids=[e[0] for e in EINSUMS[:11]])
def test_einsum_against_torch(spec, shapes):
    xs = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    compare(lambda *ts: mg.tensor.einsum(spec, *ts), lambda *ts: torch.einsum(spec, *ts), xs)


def test_einsum_errors_name_the_subscripts():
    with pytest.raises(mg.ShapeError, match="names 2 operands, got 1"):
        mg.tensor.einsum("ij,jk->ik", M(np.ones((2, 2))))
    with pytest.raises(mg.ShapeError, match="letter 'j' has sizes 3 and 4"):
        mg.tensor.einsum("ij,jk->ik", M(np.ones((2, 3))), M(np.ones((4, 2))))
    with pytest.raises(mg.ShapeError, match="3 dims, 2 letters"):
        mg.tensor.einsum("ij->i", M(np.ones((2, 2, 2))))
    with pytest.raises(mg.MemogradTypeError, match="letters"):
        mg.tensor.einsum("i1->i", M(np.ones((2, 2))))


DOT_SHAPES = [((), (3,)), ((3,), ()), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2))]
DOT_SHAPES += [((2, 3), (3, 4)), ((2, 2, 3), (3,)), ((2, 3), (4, 3, 2)), ((2, 2, 3), (2, 3, 2))]


@pytest.mark.parametrize("sa,sb", DOT_SHAPES)
def test_dot_inner_in_all_numpy_forms(sa, sb):
    a, b = rand(*sa, seed=1), rand(*sb, seed=2)
    for name in ("dot", "inner"):
        ref_fn = getattr(np, name)
        try:
            ref = ref_fn(a, b)
        except ValueError:
            continue
        np.testing.assert_allclose(getattr(mg.tensor, name)(M(a), M(b)).numpy(), ref)
        w = rand(*np.shape(ref), seed=3)
        fn = getattr(mg.tensor, name)
        assert_grads_match(lambda s, t, f=fn, w=w: (f(s, t) * w).sum(), [a, b])


@SETTINGS
@given(n=st.integers(0, 3), seed=st.integers(0, 99), data=st.data())
def test_tensordot(n, seed, data):
    sa = tuple(data.draw(st.lists(st.integers(1, 3), min_size=n, max_size=n + 2)))
    k = data.draw(st.integers(0, min(n, len(sa))))
    shared = sa[len(sa) - k :]
    sb = shared + tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    a, b = rand(*sa, seed=seed), rand(*sb, seed=seed + 1)
    ref = np.tensordot(a, b, k)
    np.testing.assert_allclose(mg.tensor.tensordot(M(a), M(b), k).numpy(), ref)
    w = rand(*ref.shape, seed=5)
    assert_grads_match(lambda s, t: (mg.tensor.tensordot(s, t, k) * w).sum(), [a, b])


def test_tensordot_with_paired_axes_and_outer_and_kron():
    a, b = rand(3, 2, 4), rand(4, 3, 5, seed=1)
    ref = np.tensordot(a, b, axes=([0, 2], [1, 0]))
    got = mg.tensor.tensordot(M(a), M(b), axes=([0, 2], [1, 0]))
    np.testing.assert_allclose(got.numpy(), ref)
    w = rand(*ref.shape, seed=2)
    assert_grads_match(lambda s, t: (s.tensordot(t, ([0, 2], [1, 0])) * w).sum(), [a, b])
    u, v = rand(2, 2), rand(3)
    np.testing.assert_allclose(mg.tensor.outer(M(u), M(v)).numpy(), np.outer(u, v))
    assert_grads_match(lambda s, t: (mg.tensor.outer(s, t) * rand(4, 3)).sum(), [u, v])
    for sa, sb in [((2, 3), (2, 2)), ((3,), (2, 2)), ((2, 1, 2), (3, 2)), ((), (2,))]:
        p, q = rand(*sa, seed=4), rand(*sb, seed=5)
        np.testing.assert_allclose(mg.tensor.kron(M(p), M(q)).numpy(), np.kron(p, q))
        w = rand(*np.kron(p, q).shape, seed=6)
        assert_grads_match(lambda s, t, w=w: (mg.tensor.kron(s, t) * w).sum(), [p, q])
    with pytest.raises(mg.ShapeError, match="do not align"):
        mg.tensor.tensordot(M(a), M(b), axes=([0], [0]))


@pytest.mark.parametrize("offset", [-2, -1, 0, 1, 3])
@pytest.mark.parametrize("axes", [(0, 1), (1, 0), (0, 2), (-1, -2)])
def test_diagonal_and_trace(offset, axes):
    a = rand(3, 4, 2)
    ref = np.diagonal(a, offset, *axes)
    np.testing.assert_allclose(mg.tensor.diagonal(M(a), offset, *axes).numpy(), ref)
    np.testing.assert_allclose(
        mg.tensor.trace(M(a), offset, *axes).numpy(), np.trace(a, offset, *axes)
    )
    w = rand(*ref.shape, seed=1)
    assert_grads_match(lambda t: (t.diagonal(offset, *axes) * w).sum(), [a])
    wt = rand(*np.trace(a, offset, *axes).shape, seed=2)
    assert_grads_match(lambda t: (t.trace(offset, *axes) * wt).sum(), [a])


@pytest.mark.parametrize("k", [-2, 0, 1])
def test_diag_builds_and_reads(k):
    v, m = rand(3), rand(3, 4)
    np.testing.assert_allclose(mg.tensor.diag(M(v), k).numpy(), np.diag(v, k))
    np.testing.assert_allclose(mg.tensor.diag(M(m), k).numpy(), np.diag(m, k))
    w = rand(*np.diag(v, k).shape, seed=1)
    assert_grads_match(lambda t: (mg.tensor.diag(t, k) * w).sum(), [v])
    assert_grads_match(lambda t: (mg.tensor.diag(t, k) ** 2).sum(), [m])


@needs_torch
def test_linalg_against_torch():
    a, b = rand(3, 4), rand(4, 2, seed=1)
    compare(mg.tensor.dot, torch.matmul, [a, b])
    compare(lambda t: mg.tensor.trace(t), torch.trace, [rand(3, 3)])
    compare(lambda t: mg.tensor.diagonal(t, 1), lambda t: torch.diagonal(t, 1), [a])
    compare(mg.tensor.kron, torch.kron, [a, b])
    compare(mg.tensor.outer, torch.outer, [rand(3), rand(2)])
    compare(
        lambda s, t: mg.tensor.tensordot(s, t, 1), lambda s, t: torch.tensordot(s, t, 1), [a, b]
    )
