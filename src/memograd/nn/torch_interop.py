"""PyTorch's names and layout, read into ``memograd.nn``: ``MLP.from_torch`` and
``load_state_dict(..., layout="torch")``.

PyTorch's ``nn.Linear`` computes o = x Wᵀ + b with W of shape (out, in); memograd's ``Linear``
computes o = x W + b with W of shape (in, out) (W[i, j] is the notes' w_ij). The two hold the same
numbers transposed, so an import transposes every Linear weight exactly once, explicitly: a shape
that does not fit is an error naming the key, never a guess (a square layer would not show a
wrong guess). Nothing here imports torch unless a torch object or file is given.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from memograd.errors import MemogradTypeError, MemogradValueError, ShapeError

LAYOUTS = ("auto", "memograd", "torch")
if TYPE_CHECKING:
    from memograd.nn.layers import MLP

_M = TypeVar("_M", bound="MLP")
# (name, kind, params): one layer read from torch, kind "linear", an activation, "dropout" or
# "standardize"; params hold its tensors or numbers ("weight", "bias", "p", "slope", ...)
_Layer = tuple[str, str, dict[str, Any]]
_TORCH_LAYERS = (
    "Linear, ReLU, LeakyReLU, Tanh, Sigmoid, GELU(approximate='tanh'), Identity, Dropout"
)


def is_torch_tensor(x: object) -> bool:
    """Whether ``x`` is a ``torch.Tensor`` (checked without importing torch)."""
    return type(x).__module__.split(".")[0] == "torch" and hasattr(x, "detach")


def as_array(x: Any, what: str) -> NDArray[Any]:
    """``x`` as a NumPy array: a torch tensor is detached and moved to the CPU."""
    if is_torch_tensor(x):
        try:
            array: NDArray[Any] = x.detach().cpu().numpy()
            return array
        except (TypeError, RuntimeError) as exc:  # bfloat16 and friends have no NumPy dtype
            raise MemogradTypeError(
                f"{what}: cannot read a torch tensor of dtype {x.dtype} ({exc}); "
                "call .float() on the model or state_dict first"
            ) from None
    return np.asarray(x)


def resolve_layout(state: object, layout: str, where: str) -> str:
    """``"memograd"`` or ``"torch"``: ``"auto"`` means torch when the values are torch tensors."""
    if layout not in LAYOUTS:
        raise MemogradValueError(
            f"{where}: layout must be one of {', '.join(LAYOUTS)}, got {layout!r}"
        )
    if not isinstance(state, Mapping):
        raise MemogradTypeError(
            f"{where}: expected a dict of arrays (a state_dict), got {type(state).__name__}"
        )
    if layout != "auto":
        return layout
    kinds = {is_torch_tensor(v) for v in state.values()}
    if kinds == {True, False}:
        raise MemogradTypeError(
            f"{where}: the state_dict mixes torch tensors and arrays; say which layout it is in "
            "(layout='torch' or layout='memograd')"
        )
    return "torch" if kinds == {True} else "memograd"


# ----------------------------------------------------------------------------- from_torch


def _load_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        import torch
    except ImportError:
        raise MemogradValueError(
            f"MLP.from_torch: reading {path} needs PyTorch (pip install 'memograd[interop]')"
        ) from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a bad file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MemogradValueError(
            f"{path}: not a PyTorch state_dict file, or a corrupted one ({first})"
        ) from None
    if not isinstance(state, Mapping):
        raise MemogradValueError(f"{path}: holds a {type(state).__name__}, not a state_dict")
    return dict(state)


def _layers_of_module(module: Any) -> list[_Layer]:  # a torch.nn.Module
    """(name, kind, params) for each child of a torch ``nn.Sequential`` (or one ``nn.Linear``)."""
    from torch import nn

    children: list[tuple[str, Any]] | None = None
    if isinstance(module, nn.Sequential):
        children = list(module.named_children())
    if children is None:
        if isinstance(module, nn.Linear):
            children = [("0", module)]
        else:
            raise MemogradTypeError(
                f"MLP.from_torch: expected a torch.nn.Sequential (or nn.Linear), got "
                f"{type(module).__name__}; pass its state_dict() with activation= instead"
            )
    simple = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.Identity: "identity"}
    out: list[_Layer] = []
    for i, (name, m) in enumerate(children):
        kind = type(m)
        buffers = dict(m.named_buffers(recurse=False))
        if kind is nn.Linear:
            params: dict[str, Any] = {"weight": m.weight}
            if m.bias is not None:
                params["bias"] = m.bias
            out.append((name, "linear", params))
        elif kind in simple:
            out.append((name, simple[kind], {}))
        elif kind is nn.LeakyReLU:
            out.append((name, "leaky_relu", {"slope": float(m.negative_slope)}))
        elif kind is nn.GELU and m.approximate == "tanh":
            out.append((name, "gelu", {}))
        elif kind is nn.Dropout:
            out.append((name, "dropout", {"p": float(m.p)}))
        elif i == 0 and set(buffers) == {"mean", "scale"} and not list(m.parameters()):
            out.append((name, "standardize", buffers))
        else:
            extra = ""
            if kind is nn.GELU:
                extra = " (memograd's gelu is the tanh approximation: nn.GELU(approximate='tanh'))"
            raise MemogradValueError(
                f"MLP.from_torch: layer {name} ({type(m).__name__}) cannot be expressed in "
                f"memograd.nn.MLP{extra}; it takes {_TORCH_LAYERS}"
            )
    return out


_KEY = re.compile(r"^(?:(.*)\.)?(weight|bias|mean|scale)$")


def _layers_of_state(
    state: Mapping[str, Any], activation: str | None, dropout: float
) -> list[_Layer]:
    """The layers a state_dict describes: its Linear weights in order (activations given)."""
    if activation is None:
        raise MemogradValueError(
            "MLP.from_torch: a state_dict holds weights only; say which activation the hidden "
            "layers use: MLP.from_torch(state, activation='relu') (or tanh, sigmoid, ...)"
        )
    groups: dict[str, dict[str, Any]] = {}
    for key, value in state.items():
        m = _KEY.match(str(key))
        if m is None:
            raise MemogradValueError(
                f"MLP.from_torch: unexpected key {key!r}; an MLP's state_dict holds "
                "'<layer>.weight' and '<layer>.bias' (and an exported Standardize's mean, scale)"
            )
        groups.setdefault(m.group(1) or "", {})[m.group(2)] = value
    out: list[_Layer] = []
    for i, (name, params) in enumerate(groups.items()):
        if "weight" in params:
            for extra in ("mean", "scale"):
                if extra in params:
                    raise MemogradValueError(f"MLP.from_torch: unexpected key {name}.{extra}")
            if "bias" not in params:
                raise MemogradValueError(
                    f"MLP.from_torch: missing key {name}.bias (memograd.nn.MLP's Linear layers "
                    "all have a bias)"
                )
            out.append((name, "linear", params))
            out.append((name, activation, {}))
            if dropout:
                out.append((name, "dropout", {"p": dropout}))
        elif i == 0 and set(params) == {"mean", "scale"}:
            out.append((name, "standardize", params))
        else:
            missing = "weight" if "bias" in params else ("scale" if "mean" in params else "mean")
            raise MemogradValueError(f"MLP.from_torch: missing key {name}.{missing}")
    while out and out[-1][1] != "linear":  # no activation after the output layer
        out.pop()
    return out


def _check_structure(layers: list[_Layer]) -> tuple[str, float]:
    """The MLP pattern Linear (act [Dropout])* Linear: returns (activation, dropout p)."""
    body = [
        e for e in layers if e[1] != "standardize" and not (e[1] == "dropout" and not e[2]["p"])
    ]
    kinds = [k for _, k, _ in body]
    if not kinds or kinds[0] != "linear" or kinds[-1] != "linear":
        raise MemogradValueError(
            "MLP.from_torch: an MLP starts and ends with a Linear layer, got "
            f"{' -> '.join(kinds) or 'no layers'}"
        )
    acts = {(k, p.get("slope")) for _, k, p in body if k not in ("linear", "dropout")}
    drops = {p["p"] for _, k, p in body if k == "dropout"}
    if len(acts) > 1:
        raise MemogradValueError(
            "MLP.from_torch: memograd.nn.MLP uses one activation for every hidden layer, got "
            f"{', '.join(sorted(a for a, _ in acts))}"
        )
    if len(drops) > 1:
        raise MemogradValueError(
            f"MLP.from_torch: dropout rates differ between layers: {sorted(drops)}"
        )
    act, slope = next(iter(acts)) if acts else ("identity", None)
    p = next(iter(drops)) if drops else 0.0
    # an nn.Identity between two Linears is optional: the same network either way
    got = [k for k in kinds if k != "identity"]
    per_hidden = ["linear", *([act] if act != "identity" else []), *(["dropout"] if p else [])]
    expected = per_hidden * (kinds.count("linear") - 1) + ["linear"]
    if got != expected:
        raise MemogradValueError(
            f"MLP.from_torch: layers {' -> '.join(kinds)} are not an MLP of memograd's form "
            f"(Linear, activation{', Dropout' if p else ''}, ..., Linear)"
        )
    if act == "leaky_relu" and slope not in (None, 0.01):
        raise MemogradValueError(
            f"MLP.from_torch: memograd.nn.MLP's leaky_relu has slope 0.01, the module's is {slope}"
        )
    return act, p


def mlp_from_torch(
    cls: type[_M], source: Any, *, activation: str | None = None, dropout: float = 0.0
) -> _M:
    """An ``MLP`` (class ``cls``) with the weights of a torch module, state_dict or file."""
    if isinstance(source, (str, os.PathLike)):
        source = _load_file(source)
    if isinstance(source, Mapping):
        layers = _layers_of_state(source, activation, float(dropout))
    elif type(source).__module__.split(".")[0] == "torch" or hasattr(source, "named_children"):
        layers = _layers_of_module(source)
    else:
        raise MemogradTypeError(
            "MLP.from_torch: expected a torch.nn.Sequential, a state_dict or a .pt file, got "
            f"{type(source).__name__}"
        )
    act, p = _check_structure(layers)
    linears: list[tuple[str, NDArray[Any], NDArray[Any]]] = []
    for name, kind, params in layers:
        if kind != "linear":
            continue
        w = as_array(params["weight"], f"MLP.from_torch: {name}.weight")
        if "bias" not in params:
            raise MemogradValueError(
                f"MLP.from_torch: layer {name} (Linear) has no bias; memograd.nn.MLP's Linear "
                "layers all have one"
            )
        b = as_array(params["bias"], f"MLP.from_torch: {name}.bias")
        if w.ndim != 2:
            raise ShapeError(f"MLP.from_torch: {name}.weight has shape {w.shape}, expected 2-D")
        if linears and w.shape[1] != linears[-1][1].shape[0]:
            raise ShapeError(
                f"MLP.from_torch: {name}.weight has shape {w.shape} (out, in): it takes "
                f"{w.shape[1]} inputs but the layer before gives {linears[-1][1].shape[0]}"
            )
        if b.shape != (w.shape[0],):
            raise ShapeError(
                f"MLP.from_torch: {name}.bias has shape {b.shape}, expected ({w.shape[0]},) "
                f"for {name}.weight of shape {w.shape}"
            )
        if w.dtype not in (np.float32, np.float64) or b.dtype != w.dtype:
            raise MemogradTypeError(
                f"MLP.from_torch: layer {name} has dtype {w.dtype}/{b.dtype}; memograd holds "
                "float32 or float64 (call .float() first)"
            )
        linears.append((name, w, b))
    widths = [linears[0][1].shape[1], *(w.shape[0] for _, w, _ in linears)]
    model = cls(widths, activation=act, dropout=p, seed=0, dtype=str(linears[0][1].dtype))
    state: dict[str, NDArray[Any]] = {}
    for mine, (_, w, b) in zip(model.linears(), linears):
        prefix = next(n for n, m in model.named_children() if m is mine)
        state[f"{prefix}.weight"] = w
        state[f"{prefix}.bias"] = b
    model.load_state_dict(state, layout="torch")
    std = next((params for _, kind, params in layers if kind == "standardize"), None)
    if std is not None:
        mean = as_array(std["mean"], "MLP.from_torch: mean").astype(np.float64)
        scale = as_array(std["scale"], "MLP.from_torch: scale").astype(np.float64)
        if mean.shape != (widths[0],) or scale.shape != (widths[0],):
            raise ShapeError(
                f"MLP.from_torch: the Standardize layer has {mean.shape} / {scale.shape} "
                f"statistics, the first Linear takes {widths[0]} inputs"
            )
        model.input_standardization = {"mean": mean, "scale": scale}
    model.eval()
    return model
