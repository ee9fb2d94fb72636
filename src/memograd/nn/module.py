"""``Module``: a container of parameters and sub-modules, as PyTorch users know it.

Attributes that are parameters (leaf Tensors requiring grad, made by :func:`Parameter`) or
``Module``s are registered by assignment, in order::

    class Net(Module):
        def __init__(self):
            super().__init__()
            self.hidden = Linear(2, 8)
            self.out = Linear(8, 1)

        def forward(self, x):
            return self.out(self.hidden(x).relu())

``named_parameters()`` yields ``("hidden.weight", p), ...``; ``state_dict()`` copies them out as
numpy arrays and ``load_state_dict`` copies them back in place (checking names and shapes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeGuard

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from memograd.errors import MemogradValueError, ShapeError
from memograd.nn.torch_interop import as_array, resolve_layout
from memograd.pictures import Drawable
from memograd.tensor.tensor import Tensor, writable


def Parameter(  # noqa: N802
    data: ArrayLike, dtype: DTypeLike | None = None, *, name: str | None = None
) -> Tensor:
    """A new leaf Tensor that requires grad: what optimizers update. Its dtype is ``dtype``, else
    that of a float array ``data``, else float32.

    A module registers as its parameters the attributes that are leaf Tensors requiring grad
    (the engine's ops want exact ``Tensor`` objects, so this is a constructor, not a subclass)."""
    if dtype is None:
        kind = getattr(data, "dtype", None)
        dtype = kind if kind is not None and np.dtype(kind).kind == "f" else np.float32
    return Tensor(np.array(data, dtype=dtype), requires_grad=True, name=name)


def is_parameter(value: object) -> TypeGuard[Tensor]:
    return isinstance(value, Tensor) and value.requires_grad and value.is_leaf


class Module(Drawable):  # to_svg/save: drawn by viz (memograd.pictures)
    """Base class of layers and models: ``forward`` plus parameter bookkeeping."""

    training: bool  # set for the whole tree by train() / eval()

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # -- traversal, in attribute order (deterministic)
    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> list[Module]:
        return [m for _, m in self.named_children()]

    def modules(self) -> Iterator[Module]:
        """This module and every module inside it, depth first."""
        yield self
        for _, child in self.named_children():
            yield from child.modules()

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        for name, p in self._named_parameters(prefix):
            if id(p) not in seen:  # a shared parameter is listed once
                seen.add(id(p))
                yield name, p

    def _named_parameters(self, prefix: str) -> Iterator[tuple[str, Tensor]]:
        for name, value in vars(self).items():
            if is_parameter(value):
                yield prefix + name, value
            elif isinstance(value, Module):
                yield from value._named_parameters(f"{prefix}{name}.")

    def parameters(self) -> list[Tensor]:
        """The parameters of ``named_parameters()``, in its order (a shared one once), gathered
        by plain loops: a training loop asks for them every step (``zero_grad``)."""
        found: list[Tensor] = []
        self._gather_parameters(found, set())
        return found

    def _gather_parameters(self, found: list[Tensor], seen: set[int]) -> None:
        for value in vars(self).values():
            if isinstance(value, Tensor):
                if value.requires_grad and value.is_leaf and id(value) not in seen:
                    seen.add(id(value))
                    found.append(value)
            elif isinstance(value, Module):
                value._gather_parameters(found, seen)

    def num_parameters(self) -> int:
        """Number of trainable scalars (a 2-input neuron has (2+1) = 3)."""
        return int(sum(p.data.size for p in self.parameters()))

    # -- modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active) or, with ``mode=False``, evaluation mode."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def flatten_parameters(self) -> NDArray[Any] | None:
        """Lay every parameter out back to back in ONE contiguous buffer (each ``p.data`` becomes
        a view of it), so that an optimizer updates them all in one pass. Values are unchanged.
        Returns the buffer (None when the parameters' dtypes differ or there are none)."""
        params = self.parameters()
        if not params or len({p.data.dtype for p in params}) != 1:
            return None
        flat = np.concatenate([p.data.reshape(-1) for p in params])
        start = 0
        for p in params:
            n = p.data.size
            p.data = flat[start : start + n].reshape(p.data.shape)
            p._vc[0] += 1
            start += n
        return flat

    # -- state
    def state_dict(self) -> dict[str, NDArray[Any]]:
        """Every parameter by name, as a copy of its numpy array."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(dotted name, module) of this module ("") and every module inside it, depth first."""
        yield prefix.rstrip("."), self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}{name}.")

    def _transposed_in_torch(self) -> set[str]:
        """Names of the parameters PyTorch stores transposed (a Linear's weight: (out, in))."""
        return {
            f"{name}.{p}" if name else p
            for name, m in self.named_modules()
            for p in getattr(m, "TORCH_TRANSPOSED", ())
        }

    def load_state_dict(
        self, state: Mapping[str, Any], strict: bool = True, layout: str = "auto"
    ) -> None:
        """Copy arrays into the parameters in place; names and shapes must match.

        ``layout``: ``"memograd"`` (a Linear weight is (in, out), as ``state_dict()`` gives),
        ``"torch"`` (PyTorch's (out, in): such weights are transposed while copying) or
        ``"auto"``: ``"torch"`` when the values are ``torch.Tensor`` s, else ``"memograd"``. A
        NumPy array is never transposed unless ``layout="torch"`` says so (a square layer would
        not show the mistake). With ``strict`` (the default) a missing or unexpected name is an
        error; nothing is changed unless every array fits."""
        layout = resolve_layout(state, layout, f"{type(self).__name__}.load_state_dict")
        where = f"{type(self).__name__}.load_state_dict"
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if unexpected:
                parts.append(f"unexpected {', '.join(unexpected)}")
            hint = "does the architecture match?"
            if any(k.endswith((".mean", ".scale")) for k in unexpected):
                hint = "an exported model with its Standardize layer: use MLP.from_torch"
            raise MemogradValueError(f"{where}: {'; '.join(parts)} ({hint})")
        transposed = self._transposed_in_torch() if layout == "torch" else set()
        arrays: dict[str, NDArray[Any]] = {}
        for name, p in own.items():
            if name not in state:
                continue
            a = as_array(state[name], f"{where}: {name}")
            flip = name in transposed and a.ndim == 2
            want = p.data.shape[::-1] if flip else p.data.shape
            if a.shape != want:
                if flip:
                    detail = f"in PyTorch's (out, in) layout the model's is {want}"
                else:
                    detail = f"the model's is {want}"
                    if layout == "memograd" and a.ndim == 2 and a.shape == want[::-1]:
                        detail += (
                            " (that is the transpose: a PyTorch state_dict? pass layout='torch')"
                        )
                raise ShapeError(f"{where}: {name} has shape {a.shape}, {detail}")
            if a.dtype.kind != "f" or not np.all(np.isfinite(a)):
                raise MemogradValueError(f"{where}: {name} must hold finite floats")
            arrays[name] = a.T if flip else a
        for name, a in arrays.items():
            p = own[name]
            with writable(p.data):  # saved for backward: read-only, and the counter bumps
                np.copyto(p.data, a, casting="same_kind")
            p._vc[0] += 1  # an in-place edit: tensors saved before it must not be reused

    # -- display
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = [f"{type(self).__name__}(", *([f"  {extra}"] if extra else [])]
        for name, child in children:
            text = repr(child).replace("\n", "\n  ")
            count = child.num_parameters()
            suffix = f"  # {count:,} parameters" if count else ""
            lines.append(f"  ({name}): {text}{suffix}")
        lines.append(f")  # {self.num_parameters():,} parameters in all")
        return "\n".join(lines)
