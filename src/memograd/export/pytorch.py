"""Export to PyTorch: an ``nn.Sequential`` in PyTorch's layout, saved as two files.

``save_torch(model, "digits.pt")`` writes

- ``digits.pt``: the weights, a PyTorch ``state_dict`` written by ``torch.save`` (tensors only:
  ``torch.load(..., weights_only=True)`` reads it without unpickling any code);
- ``digits.py``: a plain Python module that rebuilds the architecture (``build()``) and loads
  the weights (``load()``), with the run's metadata (classes, feature names) as constants.

The architecture module is generated from the layers (:mod:`memograd.export.layers`), and
``to_torch`` builds its in-memory network by running that same source, so the file and the
in-memory network cannot drift apart. Layout: ``nn.Linear`` holds W of shape (out, in), the
transpose of memograd's (in, out); the values are copied exactly (round trip bit for bit).
"""

from __future__ import annotations

import io
import itertools
import pprint
import textwrap
import types
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from memograd._io import StrPath, atomic_write_bytes, atomic_write_text
from memograd.export.layers import ExportError, Layer, model_dtype, n_outputs
from memograd.export.source import Preprocessing, Source, resolve

if TYPE_CHECKING:
    from memograd.nn.module import Module

TARGET = "PyTorch"
_INSTALL = "pip install 'memograd[interop]'"
_counter = itertools.count()


def require_torch() -> ModuleType:
    """The ``torch`` module, or an ExportError saying how to install it."""
    try:
        import torch
    except ImportError:
        raise ExportError(f"exporting to PyTorch needs PyTorch: {_INSTALL}") from None
    return torch


# ----------------------------------------------------------------------------- the module file


def _layer_code(layer: Layer, dtype: str) -> str:
    kind, p = layer.kind, layer.params
    if kind == "standardize":
        return f"Standardize({layer.in_features})"
    if kind == "linear":
        extra = "" if p["bias"] is not None else ", bias=False"
        if dtype != "float32":
            extra += f", dtype=torch.{dtype}"
        return f"nn.Linear({layer.in_features}, {layer.out_features}{extra})"
    return {
        "relu": "nn.ReLU()",
        "tanh": "nn.Tanh()",
        "sigmoid": "nn.Sigmoid()",
        "gelu": 'nn.GELU(approximate="tanh")',  # memograd's gelu is the tanh approximation
        "identity": "nn.Identity()",
        "leaky_relu": f"nn.LeakyReLU(negative_slope={p.get('slope')!r})",
        "dropout": f"nn.Dropout(p={p.get('p')!r})",
    }[kind]


def _outputs_doc(source: Source) -> str:
    info, n = source.info, n_outputs(source.layers)
    if info.get("task") == "classification":
        if n == 1:
            return "one logit; P(class CLASSES[1]) = sigmoid(output)."
        return "one score (logit) per class of CLASSES; softmax gives the probabilities."
    if info.get("task") == "regression":
        return (
            "the standardised target; in the target's units: output * TARGET_SCALE + TARGET_MEAN."
        )
    return f"{n} value(s) per row, as the memograd model gave them."


def module_source(source: Source, weights_name: str) -> str:
    """The text of the architecture module for ``source``'s layers."""
    dtype = str(model_dtype(source.layers))
    info = source.info
    layers = ",\n".join(_layer_code(layer, dtype) for layer in source.layers)
    what = info.get("dataset") or "a memograd model"
    arch = info.get("architecture", {})
    title = f"{what}: {'-'.join(map(str, arch['widths']))} MLP" if "widths" in arch else what
    pre = ""
    if source.standardized:
        pre = (
            "\nThe first layer, Standardize, is the preprocessing: z = (x - mean) / scale "
            "with the\ntraining split's statistics, computed in float64 as memograd computed "
            f"them, then cast to\n{dtype}. Feed raw features"
            + (" in the order of FEATURE_NAMES." if info.get("feature_names") else ".")
        )
    constants = ["CLASSES", "FEATURE_NAMES"]
    values = [info.get("classes", []), info.get("feature_names", [])]
    ts = info.get("target_standardizer")
    if ts:
        constants += ["TARGET_MEAN", "TARGET_SCALE"]
        values += [float(ts["mean"][0]), float(ts["scale"][0])]
    consts = "\n".join(f"{c} = {v!r}" for c, v in zip(constants, values))
    meta = pprint.pformat(info, width=96, sort_dicts=True)
    doc = f'''"""{title} (exported by memograd {info.get("memograd_version", "")}).

This file rebuilds the architecture; the weights are a PyTorch state_dict in {weights_name}
(written by torch.save, read with torch.load(weights_only=True): tensors only, no code):

    import torch
    from {Path(weights_name).stem} import load   # or load this file by path with importlib
    net = load()                         # build() plus the weights, in evaluation mode
    outputs = net(torch.as_tensor(rows))

Layout: PyTorch's (nn.Linear weight of shape (out, in)).{pre}
Outputs: {_outputs_doc(source)}
"""'''
    body = f'''
from pathlib import Path

import torch
from torch import nn

WEIGHTS = Path(__file__).with_name({weights_name!r})
DTYPE = torch.{dtype}  # the dtype of the weights and of Standardize's output
{consts}
METADATA = {textwrap.indent(meta, " " * 11).lstrip()}


class Standardize(nn.Module):
    """z = (x - mean) / scale in float64, returned as DTYPE; mean and scale are buffers (in the
    state_dict, not trained)."""

    def __init__(self, n_features: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features, dtype=torch.float64))
        self.register_buffer("scale", torch.ones(n_features, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x.to(torch.float64) - self.mean) / self.scale).to(DTYPE)


def build() -> nn.Sequential:
    """The architecture, with PyTorch's initial weights (load() puts the trained ones in)."""
    return nn.Sequential(
{textwrap.indent(layers, " " * 8)},
    )


def load(weights=WEIGHTS, map_location="cpu") -> nn.Sequential:
    """build() with the weights of ``weights``, in evaluation mode."""
    net = build()
    net.load_state_dict(torch.load(weights, map_location=map_location, weights_only=True))
    return net.eval()
'''
    return doc + "\n" + body


def _run_source(text: str, file: str) -> types.ModuleType:
    """The architecture module made from ``text`` (what importing the written file gives)."""
    module = types.ModuleType(f"memograd_export_{next(_counter)}")
    module.__file__ = file
    exec(compile(text, file, "exec"), module.__dict__)  # noqa: S102 - our own generated source
    return module


# ----------------------------------------------------------------------------- weights


def state_dict(source: Source) -> dict[str, Any]:
    """The weights in PyTorch's names (``"<index>.weight"``) and layout (W of shape (out, in))."""
    torch = require_torch()
    state = {}
    for i, layer in enumerate(source.layers):
        p = layer.params
        if layer.kind == "linear":
            state[f"{i}.weight"] = torch.from_numpy(np.ascontiguousarray(p["weight"].T).copy())
            if p["bias"] is not None:
                state[f"{i}.bias"] = torch.from_numpy(np.array(p["bias"]))
        elif layer.kind == "standardize":
            state[f"{i}.mean"] = torch.from_numpy(np.array(p["mean"], dtype=np.float64))
            state[f"{i}.scale"] = torch.from_numpy(np.array(p["scale"], dtype=np.float64))
    return state


def to_torch(model: Module | StrPath, *, preprocessing: Preprocessing = None) -> Any:
    """``model`` (an ``mg.nn`` MLP/Sequential, or a run folder) as a ``torch.nn.Sequential``
    holding the same weights in PyTorch's layout, in evaluation mode (typed Any: torch is an
    optional dependency).

    A run folder's standardisation becomes the first layer (``Standardize``); pass
    ``preprocessing`` (a Standardizer or {"mean", "scale"}) for a bare model, False for none."""
    source = resolve(model, preprocessing, TARGET)
    return _build(source, module_source(source, "model.pt"), "<memograd export>")


def _build(source: Source, text: str, file: str) -> Any:  # a torch.nn.Sequential
    require_torch()
    net = _run_source(text, file).build()
    net.load_state_dict(state_dict(source), strict=True)
    return net.eval()


def save_torch(
    model: Module | StrPath, path: StrPath, *, preprocessing: Preprocessing = None
) -> dict[str, Path]:
    """Write ``path`` (the state_dict, by ``torch.save``) and, beside it, the architecture module
    ``path`` with suffix ``.py``. Returns {"weights": path, "module": module path}."""
    torch = require_torch()
    weights = Path(path)
    if weights.suffix == ".py":
        raise ExportError(
            f"{weights}: give the weights file (.pt); the architecture module is written beside it"
        )
    source = resolve(model, preprocessing, TARGET)
    module_path = weights.with_suffix(".py")
    text = module_source(source, weights.name)
    net = _build(source, text, str(module_path))  # the file's own build() must take the weights
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    atomic_write_bytes(weights, buffer.getvalue())
    atomic_write_text(module_path, text)
    return {"weights": weights, "module": module_path}


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def load_torch(path: StrPath) -> tuple[Any, dict[str, Any]]:  # (torch.nn.Sequential, metadata)
    """The network saved by :func:`save_torch` (``path``: the .pt or the .py beside it) and the
    metadata of its module, in evaluation mode. Runs the architecture module (it is code: load
    only files you trust); the weights are read with ``torch.load(weights_only=True)``.

    A missing, corrupted or mismatched file raises ExportError naming it."""
    torch = require_torch()
    path = Path(path)
    module_path = path if path.suffix == ".py" else path.with_suffix(".py")
    for f in (path, module_path):
        if not f.is_file():
            raise ExportError(
                f"{f}: no such file (memograd export --format torch writes NAME.pt and NAME.py)"
            )
    try:
        module = _run_source(module_path.read_text(encoding="utf-8"), str(module_path))
        build = module.build
    except Exception as exc:
        raise ExportError(
            f"{module_path}: not a working architecture module ({type(exc).__name__}: "
            f"{_one_line(exc)})"
        ) from None
    weights = path if path.suffix != ".py" else Path(getattr(module, "WEIGHTS", ""))
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ExportError(
            f"{weights}: not a PyTorch state_dict file, or a corrupted one ({_one_line(exc)})"
        ) from None
    try:
        net = build()
        net.load_state_dict(state, strict=True)
    except Exception as exc:
        raise ExportError(
            f"{weights}: does not match the architecture in {module_path.name} ({_one_line(exc)})"
        ) from None
    return net.eval(), dict(getattr(module, "METADATA", {}))
