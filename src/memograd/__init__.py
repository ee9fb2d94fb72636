"""memograd: backpropagation is the chain rule plus memoization.

The public API is re-exported here lazily (``import memograd`` stays fast and does not import
NumPy-heavy engines until they are used)::

    import memograd as mg
    mg.memoize, mg.fib, mg.Value, mg.tensor, mg.Tensor, mg.no_grad,
    mg.grad, mg.value_and_grad, mg.vjp, mg.jvp, mg.jacfwd, mg.jacrev, mg.jacobian,
    mg.hessian, mg.hvp, mg.paths, mg.explain, mg.gradcheck, mg.nn, mg.optim

Layers (lowest first; a module imports only from its own layer or below, and no two units import
each other; ``tests/test_layering.py`` reads this block and enforces it):
    core: graph, errors, _io, pictures
    engines: scalar, tensor
    library: memo, fibonacci, fibtree, paths, complexity, gradcheck, nn, optim, data, checkpoint,
        train, export, sklearn, blas, recompute
    api: memograd
    presentation: viz, lesson, play
    cli: cli

``api`` is this file: the public names, re-exported. ``python -m memograd`` belongs to ``cli``.
"""

from __future__ import annotations

import importlib
import sys as _sys
import types as _types
from typing import TYPE_CHECKING, Any

from memograd.errors import (
    CheckpointError,
    DataError,
    GraphError,
    MemogradError,
    MemogradTypeError,
    MemogradValueError,
    NonFiniteError,
    ShapeError,
)

__version__ = "0.1.0"

if TYPE_CHECKING:  # what type checkers see of the names ``__getattr__`` imports on first use
    from collections.abc import Callable
    from typing import Protocol, TypeVar

    from numpy.typing import ArrayLike, DTypeLike

    from memograd import data as data
    from memograd import export as export
    from memograd import graph as graph
    from memograd import nn as nn
    from memograd import optim as optim
    from memograd import scalar as scalar
    from memograd.fibonacci import fib as fib
    from memograd.gradcheck import gradcheck as gradcheck
    from memograd.memo import CacheInfo as CacheInfo
    from memograd.memo import memoize as memoize
    from memograd.paths import count_paths as count_paths
    from memograd.paths import explain as explain
    from memograd.paths import paths as paths
    from memograd.scalar.value import Value as Value
    from memograd.tensor.compile import compile_step as compile_step
    from memograd.tensor.functional import grad as grad
    from memograd.tensor.functional import hessian as hessian
    from memograd.tensor.functional import hvp as hvp
    from memograd.tensor.functional import jacfwd as jacfwd
    from memograd.tensor.functional import jacobian as jacobian
    from memograd.tensor.functional import jacrev as jacrev
    from memograd.tensor.functional import jvp as jvp
    from memograd.tensor.functional import value_and_grad as value_and_grad
    from memograd.tensor.functional import vjp as vjp
    from memograd.tensor.memory import memory_report as memory_report
    from memograd.tensor.tensor import Tensor as Tensor
    from memograd.tensor.tensor import no_grad as no_grad

    _R = TypeVar("_R")

    class _TensorPackage(Protocol):
        """``mg.tensor``: the package :mod:`memograd.tensor` (ops, ``Tensor``, ``no_grad``, ...),
        and, called, the constructor ``mg.tensor(data, requires_grad=False, dtype=None)``. Its
        functions are typed through ``import memograd.tensor`` (here: Any)."""

        def __call__(
            self,
            data: ArrayLike,  # noqa: F811 - the constructor's argument, not memograd.data
            requires_grad: bool = False,
            dtype: DTypeLike | None = None,
            name: str | None = None,
        ) -> Tensor: ...
        def __getattr__(self, name: str) -> Any: ...

    class _CheckpointModule(Protocol):
        """``mg.checkpoint``: the module :mod:`memograd.checkpoint` (run-folder checkpoints), and,
        called, gradient checkpointing ``mg.checkpoint(fn, *args)``."""

        def __call__(self, fn: Callable[..., _R], *args: Any, **kwargs: Any) -> _R: ...
        def __getattr__(self, name: str) -> Any: ...

    class _PlayPackage(Protocol):
        """``mg.play``: the package :mod:`memograd.play`, and, called, the interactive page."""

        def __call__(self, model: Any = None, *, port: int = 0, height: int = 900) -> Any:
            """A memograd.play.PlayView (the presentation layer: not imported by the api)."""

        def __getattr__(self, name: str) -> Any: ...

    tensor: _TensorPackage
    checkpoint: _CheckpointModule
    play: _PlayPackage

# public name -> module that defines it (None: the name is a submodule)
_EXPORTS = {
    "memoize": "memograd.memo",
    "CacheInfo": "memograd.memo",
    "fib": "memograd.fibonacci",
    "Value": "memograd.scalar.value",
    "paths": "memograd.paths",
    "count_paths": "memograd.paths",
    "explain": "memograd.paths",
    "Tensor": "memograd.tensor.tensor",
    "tensor": None,  # the package memograd.tensor, callable as the constructor
    "no_grad": "memograd.tensor.tensor",
    "grad": "memograd.tensor.functional",
    "value_and_grad": "memograd.tensor.functional",
    "vjp": "memograd.tensor.functional",
    "jvp": "memograd.tensor.functional",
    "jacfwd": "memograd.tensor.functional",
    "jacrev": "memograd.tensor.functional",
    "jacobian": "memograd.tensor.functional",
    "hessian": "memograd.tensor.functional",
    "hvp": "memograd.tensor.functional",
    "compile_step": "memograd.tensor.compile",
    "gradcheck": "memograd.gradcheck",
    "nn": None,
    "optim": None,
    "data": None,
    "graph": None,
    "scalar": None,
    "play": None,  # the package memograd.play, callable: mg.play(model) shows the page
    "export": None,
    "checkpoint": None,  # the module memograd.checkpoint, callable: mg.checkpoint(fn, *args)
    "memory_report": "memograd.tensor.memory",
}

__all__ = [
    "__version__",
    "MemogradError",
    "MemogradValueError",
    "MemogradTypeError",
    "ShapeError",
    "GraphError",
    "NonFiniteError",
    "DataError",
    "CheckpointError",
    *_EXPORTS,
]


class _Package(_types.ModuleType):
    """``memograd.paths`` and ``memograd.gradcheck`` are both submodules and functions. Importing a
    submodule binds the *module* to the package attribute, so these two names are properties that
    answer with the function, imported on first use (``import memograd`` does not load NumPy)."""


def _function_named_like_its_module(name: str) -> property:
    def get(package: _types.ModuleType) -> Any:
        value = vars(package).get(name)
        if value is not None and not isinstance(value, _types.ModuleType):
            return value  # set by the user (e.g. monkeypatch)
        return getattr(importlib.import_module(f"memograd.{name}"), name)

    def put(package: _types.ModuleType, value: object) -> None:
        vars(package)[name] = value  # the import system binding the submodule lands here too

    return property(get, put)


for _name in ("paths", "gradcheck"):
    setattr(_Package, _name, _function_named_like_its_module(_name))
_sys.modules[__name__].__class__ = _Package

# Inside IPython/Jupyter, memograd.viz gives Value, MLP, nn models and explanations their notebook
# pictures (_repr_svg_ / _repr_html_);
# the engines know nothing of pictures, and a plain ``import memograd`` does not load viz.
if "IPython" in _sys.modules:  # pragma: no cover - exercised in notebooks
    importlib.import_module("memograd.viz.values")


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'memograd' has no attribute {name!r}")
    module_name = _EXPORTS[name]
    if module_name is None:
        value = importlib.import_module(f"memograd.{name}")
    else:
        value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
