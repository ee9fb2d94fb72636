"""Functional derivatives (JAX/HIPS-autograd style) on top of the same memoized backward.

    mg.grad(f, argnums=0)(*args)            -> ∂f/∂args[argnums]  (f returns a scalar)
    mg.value_and_grad(f, argnums=0)(*args)  -> (f(*args), ∂f/∂args[argnums])
    mg.vjp(f, *xs)                          -> (y, vjp_fn); vjp_fn(ȳ) = (ȳ·∂y/∂x for x in xs)
    mg.jvp(f, primals, tangents)            -> (y, J·t)          forward mode: one pass per input
    mg.jacrev(f)(x), mg.jacobian(f)(x)      -> J (y.shape + x.shape), one reverse pass per output
    mg.jacfwd(f)(x)                         -> J, one forward-mode pass per input
    mg.hessian(f)(x), mg.hvp(f, x, v)       -> ∂²f/∂x², (f(x), H·v)

Arguments may be Tensors, numpy arrays or numbers; a Tensor argument gets a Tensor gradient, any
other an ``np.ndarray``. The inputs are differentiated as fresh nodes: the ``.grad`` of tensors
used inside ``f`` (model parameters, say) is left untouched.

**Higher order.** When the function being differentiated depends on tensors that require grad
other than its own inputs (an outer ``mg.grad``'s variable, a parameter), the backward pass is
recorded (``create_graph``): the result is a Tensor that the outer derivative differentiates
again, through the same table. Each transform collects only the adjoint of its OWN inputs: an
input that itself requires grad enters through an identity node of its own, so nested
``mg.grad`` never confuses the inner variable with the outer one (no perturbation confusion).
``mg.grad(mg.grad(f))``, ``mg.grad(lambda x: x * mg.grad(lambda y: x * y)(2.0))`` are exact.

**Forward mode** uses the linear-transpose (double-VJP) trick rather than a second table of JVP
rules: ``u ↦ vjp(u) = uᵀJ`` is linear in ``u``; recorded once with ``u`` a Tensor, its own VJP
with respect to ``u`` is ``J t``. Why: ONE table of derivative rules stays the single source of
truth (the ~100 rows of the op families get forward mode for free, and cannot disagree with
their reverse mode); the cost per input direction is one backward pass over the recorded linear
graph, the same order as a forward-mode pass (a constant factor more, ~2-3x a plain forward).
What it needs is that the rows be twice-differentiable (see :mod:`memograd.tensor.ops`); a row
that is not raises GraphError, never a wrong number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from memograd import graph
from memograd.errors import MemogradTypeError, MemogradValueError, ShapeError
from memograd.tensor.tensor import (
    _IDENTITY,
    Tensor,
    _apply,
    _Mode,
    _root,
    _to_array,
    _wrap,
    enable_grad,
)

# What a transform hands back: a Tensor (for a Tensor argument, or recorded for an outer
# transform) or a NumPy array (for an array argument)
Result: TypeAlias = "Tensor | NDArray[Any]"

__all__ = [
    "grad",
    "value_and_grad",
    "vjp",
    "jvp",
    "jacrev",
    "jacfwd",
    "jacobian",
    "hessian",
    "hvp",
    "counting",
    "mode_costs",
]


# ------------------------------------------------------------------------------ pass counting
@dataclass
class PassCount:
    """Backward passes run by the transforms while :func:`counting` is active."""

    passes: int = 0  # graph.backward runs (each one sweep over a graph)
    edges: int = 0  # local derivatives applied, summed over the passes
    forwards: int = 0  # evaluations of the user's function


_counters: list[PassCount] = []


@contextmanager
def counting() -> Iterator[PassCount]:
    """``with counting() as c: mg.jacrev(f)(x)`` -> ``c.passes``, ``c.edges``, ``c.forwards``."""
    c = PassCount()
    _counters.append(c)
    try:
        yield c
    finally:
        _counters.remove(c)


def _note(stats: graph.BackwardStats | None = None, forward: bool = False) -> None:
    for c in _counters:
        if forward:
            c.forwards += 1
        elif stats is not None:
            c.passes += 1
            c.edges += stats.edges


# ------------------------------------------------------------------------------ the machinery
def _leaf(x: Tensor | ArrayLike, fn: str, position: int) -> Tensor:
    """A fresh graph node for argument ``x``. A Tensor that requires grad (an outer transform's
    variable) enters through an identity node: the inner transform collects the adjoint of that
    node only, while the outer one still sees the path back to ``x``."""
    if isinstance(x, Tensor) and x.requires_grad and _Mode.grad:
        return _apply(_IDENTITY, (x,), {})
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


def _order(
    out: Tensor, leaves: Sequence[Tensor], own: Sequence[Tensor] = ()
) -> tuple[list[Any], bool]:
    """The topological order from ``out`` stopping at the leaves' nodes, and whether the result
    must be recorded: True when ``out`` depends on grad-requiring tensors other than the leaves
    and the transform's ``own`` fresh nodes (an enclosing transform's variable, a parameter),
    whose derivative may be taken next."""
    stops = {id(_root(t)) for t in leaves}
    order = graph.topological_order(_root(out), lambda n: () if id(n) in stops else n._parents)
    external = any(t._node is not None for t in leaves)  # identity nodes over outer variables
    if not external:
        mine = stops | {id(t) for t in own}
        external = any(type(n) is Tensor and id(n) not in mine for n in order)
    return order, external and _Mode.grad


def _adjoints(
    out: Tensor,
    seed: Tensor | NDArray[Any],
    leaves: Sequence[Tensor],
    retain: bool,
    create: bool | None = None,
    own: Sequence[Tensor] = (),
) -> tuple[list[Result], bool]:
    """Run graph.backward from ``out`` and collect the adjoint of each leaf (zeros if unreached).
    Recorded (Tensors with a graph) when ``create``, or when ``out`` depends on other tensors
    that require grad; plain arrays otherwise."""
    wanted = {id(_root(t)): i for i, t in enumerate(leaves)}
    found: list[Result | None] = [None] * len(leaves)
    if not out.requires_grad:
        return [np.zeros_like(t.data) for t in leaves], False
    order, external = _order(out, leaves, own)
    create = external if create is None else create
    if create:
        seed = seed if type(seed) is Tensor else _wrap(np.asarray(seed))
    elif type(seed) is Tensor:
        seed = seed.data

    def visit(node: object, adjoint: Any) -> None:  # adjoint: an array, or a Tensor (create)
        i = wanted.get(id(node))
        if i is not None:
            if create:
                found[i] = adjoint if adjoint.requires_grad else _wrap(np.array(adjoint.data))
            else:
                found[i] = np.array(adjoint, dtype=leaves[i].data.dtype)

    previous = _Mode.retain, _Mode.grad
    _Mode.retain = retain or create
    _Mode.grad = previous[1] if not create else True
    try:
        stats = graph.backward(_root(out), seed, visit, order=order)
    finally:
        _Mode.retain, _Mode.grad = previous
    _note(stats)
    result: list[Result] = []
    for a, t in zip(found, leaves):
        if a is None:
            a = _wrap(np.zeros_like(t.data)) if create else np.zeros_like(t.data)
        result.append(a)
    return result, create


def _as_output(out: object, fn: str) -> Tensor:
    if not isinstance(out, Tensor):
        raise MemogradTypeError(f"{fn}: f must return a Tensor, got {type(out).__name__}")
    return out


def _give(adjoint: Result, like: object, create: bool) -> Result:
    """A recorded adjoint stays a Tensor (an outer transform differentiates it); otherwise the
    argument's kind: Tensor for a Tensor, ndarray for anything else."""
    if create or not isinstance(like, Tensor):
        return adjoint
    assert not isinstance(adjoint, Tensor)  # not recorded: a plain array
    return _wrap(adjoint)


def _argnums(argnums: int | Sequence[int], nargs: int, fn: str) -> tuple[int, ...]:
    given: Any = (argnums,) if isinstance(argnums, (int, np.integer)) else argnums
    try:
        nums = tuple(given)
    except TypeError:
        raise MemogradTypeError(
            f"{fn}: argnums must be an int or a tuple of ints, got {argnums!r}"
        ) from None
    for n in nums:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise MemogradTypeError(f"{fn}: argnums must hold ints, got {n!r}")
        if not -nargs <= n < nargs:
            raise MemogradValueError(
                f"{fn}: argnums={argnums!r} but the function was called with {nargs} "
                f"positional argument(s); argnums counts them from 0 (valid: 0..{nargs - 1})"
            )
    nums = tuple(int(n) % nargs for n in nums)
    if len(set(nums)) != len(nums):
        raise MemogradValueError(f"{fn}: argnums={argnums!r} names an argument twice")
    return nums


def _evaluate(
    f: Callable[..., Tensor],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    nums: tuple[int, ...],
    fn: str,
) -> tuple[Tensor, list[Tensor], list[Any]]:
    call_args = list(args)
    originals = [call_args[i] for i in nums]
    leaves = [_leaf(call_args[i], fn, i) for i in nums]
    for i, t in zip(nums, leaves):
        call_args[i] = t
    with enable_grad():
        out = _as_output(f(*call_args, **kwargs), fn)
    _note(forward=True)
    return out, leaves, originals


def _value(out: Tensor, originals: Sequence[Any], create: bool) -> Result:
    if create:
        return out
    return out.detach() if any(isinstance(x, Tensor) for x in originals) else out.data


# ------------------------------------------------------------------------------ reverse mode
def _check_function(f: object, name: str) -> None:
    """A clear error when the function to differentiate is not callable."""
    if not callable(f):
        raise MemogradTypeError(
            f"{name}: f must be a function of tensors returning a tensor, got "
            f"{type(f).__name__} {f!r}; e.g. mg.{name}(lambda x: (x ** 2).sum())"
        )


def value_and_grad(
    f: Callable[..., Tensor], argnums: int | Sequence[int] = 0
) -> Callable[..., tuple[Result, Any]]:
    """A function returning ``(f(*args), gradient)``; with a tuple ``argnums`` the gradient is a
    tuple. ``f`` must return a size-1 Tensor."""
    _check_function(f, "value_and_grad")

    def wrapped(*args: Any, **kwargs: Any) -> tuple[Result, Any]:
        nums = _argnums(argnums, len(args), "grad")
        out, leaves, originals = _evaluate(f, args, kwargs, nums, "grad")
        if out.size != 1:
            raise ShapeError(
                f"grad: f must return a scalar (size-1) tensor, got shape {out.shape}; "
                "use mg.vjp or mg.jacrev for vector outputs"
            )
        adj, create = _adjoints(out, np.ones(out.shape, out.dtype), leaves, retain=False)
        grads = tuple(_give(a, x, create) for a, x in zip(adj, originals))
        value = _value(out, originals, create)
        return value, (grads[0] if isinstance(argnums, (int, np.integer)) else grads)

    wrapped.__doc__ = f"Value and gradient of {getattr(f, '__name__', 'f')}."
    return wrapped


def grad(f: Callable[..., Tensor], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The gradient function of scalar ``f`` with respect to argument(s) ``argnums``; nests
    (``grad(grad(f))``) for higher derivatives."""
    _check_function(f, "grad")
    vg = value_and_grad(f, argnums)

    def wrapped(*args: Any, **kwargs: Any) -> Any:  # a gradient, or a tuple of them
        return vg(*args, **kwargs)[1]

    wrapped.__doc__ = f"Gradient of {getattr(f, '__name__', 'f')}."
    return wrapped


def vjp(
    f: Callable[..., Tensor], *xs: Tensor | ArrayLike
) -> tuple[Result, Callable[[Tensor | ArrayLike], tuple[Result, ...]]]:
    """``(y, vjp_fn)`` with ``y = f(*xs)``; ``vjp_fn(ȳ)`` returns ``(ȳ·∂y/∂x for x in xs)`` and
    may be called any number of times (the graph is kept for it). A cotangent Tensor that
    requires grad gives recorded results (linear in it: how :func:`jvp` works)."""
    _check_function(f, "vjp")
    leaves = [_leaf(x, "vjp", i) for i, x in enumerate(xs)]
    with enable_grad():
        out = _as_output(f(*leaves), "vjp")
    _note(forward=True)

    def vjp_fn(cotangent: Tensor | ArrayLike) -> tuple[Result, ...]:
        seed: Tensor | NDArray[Any]
        if type(cotangent) is Tensor:
            seed = cotangent if cotangent.dtype == out.dtype else cotangent.astype(out.dtype)
        else:
            seed = _to_array(cotangent, out.dtype, copy=True)
        if seed.shape != out.shape:
            raise ShapeError(
                f"vjp: cotangent of shape {seed.shape} does not match the output's shape "
                f"{out.shape}"
            )
        create = True if type(seed) is Tensor and seed.requires_grad and _Mode.grad else None
        adj, create = _adjoints(out, seed, leaves, retain=True, create=create)
        return tuple(_give(a, x, create) for a, x in zip(adj, xs))

    _, external = _order(out, leaves) if out.requires_grad else ((), False)
    return _value(out, xs, external), vjp_fn


def jacrev(f: Callable[..., Tensor], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The Jacobian by reverse mode: one backward pass per OUTPUT element (row i is ``e_iᵀJ``).
    The result has shape ``y.shape + x.shape`` (a tuple of them for a tuple ``argnums``)."""
    _check_function(f, "jacrev")

    def wrapped(*args: Any, **kwargs: Any) -> Any:  # a Jacobian, or a tuple of them
        nums = _argnums(argnums, len(args), "jacrev")
        out, leaves, originals = _evaluate(f, args, kwargs, nums, "jacrev")
        rows: list[list[Result]] = [[] for _ in leaves]
        create = False
        for i in range(out.size):
            seed = np.zeros(out.size, out.dtype)
            seed[i] = 1
            adj, create = _adjoints(out, seed.reshape(out.shape), leaves, retain=True)
            for r, a in zip(rows, adj):
                r.append(a)
        jac = tuple(_assemble(r, out.shape, t.shape, create, t) for r, t in zip(rows, leaves))
        given = tuple(_give(j, x, create) for j, x in zip(jac, originals))
        return given[0] if isinstance(argnums, (int, np.integer)) else given

    wrapped.__doc__ = f"Jacobian of {getattr(f, '__name__', 'f')} (reverse mode)."
    return wrapped


jacobian = jacrev


def _assemble(
    pieces: Sequence[Result],
    out_shape: tuple[int, ...],
    in_shape: tuple[int, ...],
    create: bool,
    like: Tensor,
) -> Result:
    """Stack per-output rows (or per-input columns) into one array of out_shape + in_shape."""
    if create:
        from memograd.tensor.api import reshape, stack

        if not pieces:
            return _wrap(np.zeros(out_shape + in_shape, like.dtype))
        return reshape(stack([_wrap(p) if isinstance(p, np.ndarray) else p for p in pieces]),
                       out_shape + in_shape)  # fmt: skip
    if not pieces:
        return np.zeros(out_shape + in_shape, like.dtype)
    return np.stack(pieces).reshape(out_shape + in_shape)


# ------------------------------------------------------------------------------ forward mode
def _linearize(
    f: Callable[..., Tensor], primals: tuple[Any, ...], fn: str
) -> tuple[Tensor, list[Tensor], Tensor, list[Any]]:
    """Run ``f`` and record ``u ↦ uᵀJ`` once (the double-VJP trick): returns the output, the
    leaves, the cotangent leaf ``u`` and the recorded shares (Tensors linear in ``u``)."""
    leaves = [_leaf(x, fn, i) for i, x in enumerate(primals)]
    with enable_grad():
        out = _as_output(f(*leaves), fn)
    _note(forward=True)
    u = _wrap(np.zeros(out.shape, out.dtype))
    u.requires_grad = True
    shares, _ = _adjoints(out, u, leaves, retain=True, create=True)
    return out, leaves, u, shares


def jvp(f: Callable[..., Tensor], primals: Any, tangents: Any) -> tuple[Result, Result]:
    """Forward mode: ``(f(*primals), J·tangents)`` (JAX's signature: tuples, one tangent per
    primal, of the primal's shape). Computed by the linear-transpose trick (module doc): one
    recorded backward pass, then one backward pass per direction."""
    _check_function(f, "jvp")
    primals = primals if isinstance(primals, (tuple, list)) else (primals,)
    tangents = tangents if isinstance(tangents, (tuple, list)) else (tangents,)
    if len(primals) != len(tangents):
        raise MemogradValueError(
            f"jvp: {len(primals)} primal(s) but {len(tangents)} tangent(s); give one tangent "
            "per primal"
        )
    out, leaves, u, shares = _linearize(f, tuple(primals), "jvp")
    total = None
    for i, (s, t, x) in enumerate(zip(shares, tangents, leaves)):
        tv = t if type(t) is Tensor else _wrap(_to_array(t, x.dtype, copy=False))
        if tv.shape != x.shape:
            raise ShapeError(
                f"jvp: tangent {i} has shape {tv.shape}, its primal has shape {x.shape}"
            )
        term = (s * tv.astype(x.dtype)).sum()
        total = term if total is None else total + term
    assert total is not None  # at least one primal
    (tangent_out,), create = _adjoints(
        total, np.ones((), total.dtype), [u], retain=False, own=leaves
    )
    value = _value(out, primals, create)
    return value, _give(tangent_out, primals[0], create)


def jacfwd(f: Callable[..., Tensor], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The Jacobian by forward mode: one pass per INPUT element (column j is ``J e_j``). Same
    shape as :func:`jacrev`; cheaper when inputs are fewer than outputs."""
    _check_function(f, "jacfwd")

    def wrapped(*args: Any, **kwargs: Any) -> Any:  # a Jacobian, or a tuple of them
        nums = _argnums(argnums, len(args), "jacfwd")
        call_args = list(args)

        def g(*xs: Any) -> Tensor:
            for i, x in zip(nums, xs):
                call_args[i] = x
            return f(*call_args, **kwargs)

        originals = [call_args[i] for i in nums]
        out, leaves, u, shares = _linearize(g, tuple(originals), "jacfwd")
        jacs: list[Result] = []
        create = False
        for s, t in zip(shares, leaves):
            flat = s.reshape(-1)
            cols: list[Result] = []
            for j in range(t.size):
                (col,), create = _adjoints(
                    flat[j], np.ones((), s.dtype), [u], retain=True, own=leaves
                )
                cols.append(col)
            jac = _assemble(cols, t.shape, out.shape, create, t)  # in_shape + out_shape
            jacs.append(_transpose_jac(jac, t.ndim, out.ndim, create))
        given = tuple(_give(j, x, create) for j, x in zip(jacs, originals))
        return given[0] if isinstance(argnums, (int, np.integer)) else given

    wrapped.__doc__ = f"Jacobian of {getattr(f, '__name__', 'f')} (forward mode)."
    return wrapped


def _transpose_jac(jac: Any, in_ndim: int, out_ndim: int, create: bool) -> Result:
    axes = tuple(range(in_ndim, in_ndim + out_ndim)) + tuple(range(in_ndim))
    return jac.transpose(axes) if create else np.transpose(jac, axes)


# ------------------------------------------------------------------------------ second order
def hessian(f: Callable[..., Tensor], argnums: int = 0) -> Callable[..., Any]:
    """∂²f/∂x² of scalar ``f``: shape ``x.shape + x.shape``; reverse over reverse (the Jacobian
    of ``grad(f)`` by one reverse pass per gradient element)."""
    _check_function(f, "hessian")
    if not isinstance(argnums, (int, np.integer)):
        raise MemogradTypeError("hessian: argnums must be one int (one argument)")
    jac = jacrev(grad(f, argnums), argnums)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return jac(*args, **kwargs)

    wrapped.__doc__ = f"Hessian of {getattr(f, '__name__', 'f')}."
    return wrapped


def hvp(f: Callable[..., Tensor], primals: Any, tangents: Any) -> tuple[Result, Any]:
    """``(f(x), H·v)``: the Hessian-vector product without the Hessian, reverse over reverse:
    ``H v = ∂/∂x ⟨∇f(x), v⟩`` (two backward passes, whatever the size of x)."""
    _check_function(f, "hvp")
    primals = primals if isinstance(primals, (tuple, list)) else (primals,)
    tangents = tangents if isinstance(tangents, (tuple, list)) else (tangents,)
    if len(primals) != len(tangents):
        raise MemogradValueError(
            f"hvp: {len(primals)} primal(s) but {len(tangents)} tangent(s); give one per primal"
        )
    nums = tuple(range(len(primals)))

    def inner(*xs: Any) -> Any:  # ⟨∇f, v⟩, a Tensor (None without primals: grad refuses it)
        value, grads = value_and_grad(f, nums)(*xs)
        total = None
        for g, v, x in zip(grads, tangents, xs):
            vt = _to_array(v.data if isinstance(v, Tensor) else v, x.dtype, copy=False)
            if vt.shape != x.shape:
                raise ShapeError(
                    f"hvp: tangent of shape {vt.shape} does not match its primal's {x.shape}"
                )
            term = (g * vt).sum()
            total = term if total is None else total + term
        seen.append(value)
        return total

    seen: list[Any] = []
    hv = grad(inner, nums)(*primals)
    value = seen[-1]
    if isinstance(value, Tensor) and type(hv[0]) is not Tensor or not _Mode.grad:
        value = value.data  # a top-level call: plain values, as grad gives
    elif isinstance(value, Tensor) and not isinstance(primals[0], Tensor):
        value = value.detach()
    return value, (hv[0] if len(primals) == 1 else hv)


# ------------------------------------------------------------------------------ modes table
def mode_costs(widths: Sequence[int]) -> dict[str, Any]:
    """Cost of the full Jacobian of a dense layered net (``widths`` = [inputs, ..., outputs])
    three ways, in scalar multiply-adds (one per edge of the scalar graph per pass):

    * forward mode: one pass per input, each over every edge: ``n_in × E``;
    * reverse mode: one pass per output: ``n_out × E`` (backprop);
    * naive path enumeration: every input-output path separately, ``∏ widths`` paths of
      ``len(widths) - 1`` edges each (the chain rule without memoization).

    ``E = Σ w_i w_{i+1}``. ``tests/tensor/test_modes.py`` counts the passes on real graphs."""
    sizes = [int(w) for w in widths]
    if len(sizes) < 2 or any(w < 1 for w in sizes):
        raise MemogradValueError(
            f"mode_costs: widths must list at least 2 positive layer sizes, got {sizes}"
        )
    edges = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    n_in, n_out = sizes[0], sizes[-1]
    paths = math.prod(sizes)
    return {
        "widths": sizes,
        "inputs": n_in,
        "outputs": n_out,
        "edges": edges,
        "forward_passes": n_in,
        "reverse_passes": n_out,
        "forward_work": n_in * edges,
        "reverse_work": n_out * edges,
        "paths": paths,
        "naive_work": paths * (len(sizes) - 1),
    }
