"""Functional derivatives (JAX/HIPS-autograd style) on top of the same memoized backward.

    mg.grad(f, argnums=0)(*args)            -> ∂f/∂args[argnums]  (f returns a scalar)
    mg.value_and_grad(f, argnums=0)(*args)  -> (f(*args), ∂f/∂args[argnums])
    mg.vjp(f, *xs)                          -> (y, vjp_fn); vjp_fn(ȳ) = (ȳ·∂y/∂x for x in xs)

Arguments may be Tensors, numpy arrays or numbers; a Tensor argument gets a Tensor gradient, any
other an ``np.ndarray``. The inputs are differentiated as fresh leaves: the ``.grad`` of tensors
used inside ``f`` (model parameters, say) is left untouched. Derivatives are first order (the VJP
formulas run in numpy, so ``grad(grad(f))`` is not supported).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from memograd import graph
from memograd.errors import MemogradTypeError, ShapeError
from memograd.tensor.tensor import Tensor, _Mode, _root, _to_array, _wrap, enable_grad

__all__ = ["grad", "value_and_grad", "vjp"]


def _leaf(x, fn: str, position: int) -> Tensor:
    data = x.data if isinstance(x, Tensor) else _to_array(x, copy=False)
    if data.dtype.kind != "f":
        if isinstance(x, Tensor):
            raise MemogradTypeError(
                f"{fn}: argument {position} has dtype {data.dtype}; only float tensors have "
                "gradients (convert with .astype('float32'))"
            )
        data = data.astype(np.float32 if not isinstance(x, np.ndarray) else np.float64)
    t = _wrap(data)
    if isinstance(x, Tensor):
        t._vc = x._vc
    t.requires_grad = True
    return t


def _adjoints(out: Tensor, seed: np.ndarray, leaves: Sequence[Tensor], retain: bool) -> list:
    """Run graph.backward from ``out`` and collect the adjoint of each leaf (zeros if unreached)."""
    wanted = {id(t): i for i, t in enumerate(leaves)}
    found: list = [None] * len(leaves)

    def visit(node, adjoint):
        i = wanted.get(id(node))
        if i is not None:
            found[i] = np.array(adjoint, dtype=node.data.dtype)

    if out.requires_grad:
        previous = _Mode.retain
        _Mode.retain = retain
        try:
            graph.backward(_root(out), seed, visit)
        finally:
            _Mode.retain = previous
    return [np.zeros_like(t.data) if a is None else a for a, t in zip(found, leaves)]


def _as_output(out, fn: str) -> Tensor:
    if not isinstance(out, Tensor):
        raise MemogradTypeError(f"{fn}: f must return a Tensor, got {type(out).__name__}")
    return out


def _give(adjoint: np.ndarray, like) -> Tensor | np.ndarray:
    return _wrap(adjoint) if isinstance(like, Tensor) else adjoint


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """A function returning ``(f(*args), gradient)``; with a tuple ``argnums`` the gradient is a
    tuple. ``f`` must return a size-1 Tensor."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def wrapped(*args, **kwargs):
        args = list(args)
        originals = [args[i] for i in nums]
        leaves = [_leaf(args[i], "grad", i) for i in nums]
        for i, t in zip(nums, leaves):
            args[i] = t
        with enable_grad():
            out = _as_output(f(*args, **kwargs), "grad")
        if out.size != 1:
            raise ShapeError(
                f"grad: f must return a scalar (size-1) tensor, got shape {out.shape}; "
                "use mg.vjp for vector outputs"
            )
        adj = _adjoints(out, np.ones(out.shape, out.dtype), leaves, retain=False)
        grads = tuple(_give(a, x) for a, x in zip(adj, originals))
        value = out.detach() if any(isinstance(x, Tensor) for x in originals) else out.data
        return value, (grads[0] if isinstance(argnums, int) else grads)

    wrapped.__doc__ = f"Value and gradient of {getattr(f, '__name__', 'f')}."
    return wrapped


def grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """The gradient function of scalar ``f`` with respect to argument(s) ``argnums``."""
    vg = value_and_grad(f, argnums)

    def wrapped(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    wrapped.__doc__ = f"Gradient of {getattr(f, '__name__', 'f')}."
    return wrapped


def vjp(f: Callable, *xs):
    """``(y, vjp_fn)`` with ``y = f(*xs)``; ``vjp_fn(ȳ)`` returns ``(ȳ·∂y/∂x for x in xs)`` and
    may be called any number of times (the graph is kept for it)."""
    leaves = [_leaf(x, "vjp", i) for i, x in enumerate(xs)]
    with enable_grad():
        out = _as_output(f(*leaves), "vjp")

    def vjp_fn(cotangent):
        seed = _to_array(cotangent, out.dtype, copy=True)
        if seed.shape != out.shape:
            raise ShapeError(
                f"vjp: cotangent of shape {seed.shape} does not match the output's shape "
                f"{out.shape}"
            )
        adj = _adjoints(out, seed, leaves, retain=True)
        return tuple(_give(a, x) for a, x in zip(adj, xs))

    value = out.detach() if any(isinstance(x, Tensor) for x in xs) else out.data
    return value, vjp_fn
