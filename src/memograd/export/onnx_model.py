"""Export to ONNX: a graph built with the ``onnx`` package's helpers, checked by ``onnx.checker``.

Input ``input`` (batch, features) in the model's dtype (float32 by default). Nodes, opset 17:

==============  ====================================================================
standardize     Cast to double, Sub mean, Div scale, Cast back (as memograd computes it)
linear          Gemm(x, W, b, transB=1), W stored as ``<i>.weight`` in PyTorch's (out, in)
relu ...        Relu, LeakyRelu(alpha), Tanh, Sigmoid
gelu            x/2 (1 + Tanh(c (x + 0.044715 x³))), from Mul/Add/Tanh (memograd's tanh form)
identity,       nothing (inference)
dropout
==============  ====================================================================

Outputs: ``output`` (the network's scores, as memograd's model gives them) and, for a run,
``probabilities`` (Softmax, or Sigmoid of a single logit: P(class 1)) for a classification or
``prediction`` (output · scale + mean, in the target's units) for a regression. The run's
metadata (classes, feature names, target statistics) is the model's ``memograd`` metadata
property, as JSON.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from memograd._io import StrPath, atomic_write_bytes
from memograd.export.layers import ExportError, model_dtype, n_inputs, n_outputs
from memograd.export.source import Preprocessing, Source, resolve

if TYPE_CHECKING:
    from memograd.nn.module import Module

TARGET = "ONNX"
OPSET = 17
_INSTALL = "pip install 'memograd[interop]'"


def require_onnx() -> ModuleType:
    try:
        import onnx
    except ImportError:
        raise ExportError(f"exporting to ONNX needs the onnx package: {_INSTALL}") from None
    return onnx


def require_onnxruntime() -> ModuleType:
    try:
        import onnxruntime
    except ImportError:
        raise ExportError(f"running an ONNX model needs onnxruntime: {_INSTALL}") from None
    module: ModuleType = onnxruntime  # it ships no type information
    return module


class _Graph:
    """Nodes and initializers, named uniquely, in the order they are added."""

    def __init__(self, onnx: ModuleType, dtype: np.dtype[Any]) -> None:
        self.onnx, self.np_dtype = onnx, dtype
        self.elem = onnx.helper.np_dtype_to_tensor_dtype(dtype)
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.names: set[str] = set()

    def _fresh(self, base: str) -> str:
        name, k = base, 1
        while name in self.names:
            k += 1
            name = f"{base}_{k}"
        self.names.add(name)
        return name

    def const(self, name: str, value: ArrayLike, dtype: DTypeLike | None = None) -> str:
        arr = np.asarray(value, dtype=dtype or self.np_dtype)
        name = self._fresh(name)
        self.inits.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def node(
        self, op: str, inputs: list[str], base: str, out: str | None = None, **attrs: Any
    ) -> str:
        out = out or self._fresh(base)
        self.nodes.append(
            self.onnx.helper.make_node(op, inputs, [out], name=self._fresh(f"{base}/{op}"), **attrs)
        )
        return out


def _gelu(g: _Graph, x: str, base: str) -> tuple[str, str]:
    """gelu(x) = x/2 (1 + tanh(c (x + 0.044715 x³))), c = √(2/π): memograd's tanh form.
    Returns the names of (1 + tanh(...), x/2), whose product the caller writes."""
    x3 = g.node("Mul", [g.node("Mul", [x, x], f"{base}.x2"), x], f"{base}.x3")
    inner = g.node("Add", [x, g.node("Mul", [g.const(f"{base}.k", 0.044715), x3], base)], base)
    t = g.node(
        "Tanh", [g.node("Mul", [g.const(f"{base}.c", math.sqrt(2 / math.pi)), inner], base)], base
    )
    half_x = g.node("Mul", [g.const(f"{base}.half", 0.5), x], base)
    return g.node("Add", [g.const(f"{base}.one", 1.0), t], base), half_x


def build_graph(source: Source, opset: int = OPSET) -> Any:  # an onnx.ModelProto
    """The ONNX ModelProto of ``source``'s layers, checked by ``onnx.checker`` (full check)."""
    onnx = require_onnx()
    helper = onnx.helper
    if not OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ExportError(
            f"export to ONNX: opset must be between {OPSET} and "
            f"{onnx.defs.onnx_opset_version()} (this onnx package), got {opset}"
        )
    dtype = np.dtype(model_dtype(source.layers))
    g = _Graph(onnx, dtype)
    x = g._fresh("input")
    for i, layer in enumerate(source.layers):
        p, base = layer.params, str(i)
        if layer.kind == "standardize":
            x64 = g.node("Cast", [x], f"{base}.x64", to=onnx.TensorProto.DOUBLE)
            z = g.node("Sub", [x64, g.const(f"{base}.mean", p["mean"], np.float64)], base)
            z = g.node("Div", [z, g.const(f"{base}.scale", p["scale"], np.float64)], base)
            x = g.node("Cast", [z], base, to=g.elem)
        elif layer.kind == "linear":
            w = g.const(f"{base}.weight", np.ascontiguousarray(p["weight"].T))
            inputs = [x, w] + (
                [g.const(f"{base}.bias", p["bias"])] if p["bias"] is not None else []
            )
            x = g.node("Gemm", inputs, base, transB=1)
        elif layer.kind in ("relu", "tanh", "sigmoid"):
            x = g.node(
                {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}[layer.kind], [x], base
            )
        elif layer.kind == "leaky_relu":
            x = g.node("LeakyRelu", [x], base, alpha=float(p["slope"]))
        elif layer.kind == "gelu":
            one_plus_t, half_x = _gelu(g, x, base)
            x = g.node("Mul", [half_x, one_plus_t], base)
        # identity and dropout are the identity at inference
    g.nodes.append(helper.make_node("Identity", [x], ["output"], name="output"))
    n_out = n_outputs(source.layers)
    outputs = [helper.make_tensor_value_info("output", g.elem, ["batch", n_out])]
    info = source.info
    if info.get("task") == "classification":
        op, kw = ("Softmax", {"axis": -1}) if n_out > 1 else ("Sigmoid", {})
        g.nodes.append(
            helper.make_node(op, ["output"], ["probabilities"], name="probabilities", **kw)
        )
        outputs.append(helper.make_tensor_value_info("probabilities", g.elem, ["batch", n_out]))
    elif info.get("task") == "regression" and info.get("target_standardizer"):
        ts = info["target_standardizer"]
        scaled = g.node("Mul", ["output", g.const("target.scale", ts["scale"])], "target")
        g.node("Add", [scaled, g.const("target.mean", ts["mean"])], "target", out="prediction")
        outputs.append(helper.make_tensor_value_info("prediction", g.elem, ["batch", 1]))
    graph = helper.make_graph(
        g.nodes,
        "memograd",
        [helper.make_tensor_value_info("input", g.elem, ["batch", n_inputs(source.layers)])],
        outputs,
        initializer=g.inits,
    )
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(
        graph,
        opset_imports=opsets,
        producer_name="memograd",
        producer_version=str(info.get("memograd_version", "")),
        ir_version=helper.find_min_ir_version_for(opsets),
        doc_string=_doc(source),
    )
    helper.set_model_props(model, {"memograd": json.dumps(info, sort_keys=True)})
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as exc:  # pragma: no cover - a bug in this module
        raise ExportError(f"export to ONNX: onnx.checker refused the graph: {exc}") from None
    return model


def _doc(source: Source) -> str:
    info = source.info
    widths = info.get("architecture", {}).get("widths")
    what = f"{info.get('dataset') or 'memograd'} {'-'.join(map(str, widths or []))} MLP".strip()
    pre = " Input: raw features (standardised inside)." if source.standardized else ""
    return f"{what}, exported by memograd.{pre}"


def to_onnx(
    model: Module | StrPath,
    path: StrPath,
    *,
    preprocessing: Preprocessing = None,
    opset: int = OPSET,
) -> Path:
    """Write ``model`` (an ``mg.nn`` model or a run folder) as an ONNX file at ``path``.

    A run's standardisation is the graph's first step (``preprocessing``: see ``to_torch``);
    the graph passes ``onnx.checker``'s full check before it is written (atomically)."""
    source = resolve(model, preprocessing, TARGET)
    proto = build_graph(source, opset)
    return atomic_write_bytes(Path(path), proto.SerializeToString())


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def load_onnx(path: StrPath) -> tuple[Any, dict[str, Any]]:  # (InferenceSession, metadata)
    """(onnxruntime session, memograd metadata) of an ONNX file; a missing, corrupted or invalid
    file raises ExportError naming it."""
    onnx = require_onnx()
    ort = require_onnxruntime()
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: no such ONNX file")
    try:
        proto = onnx.load_model_from_string(path.read_bytes())
        onnx.checker.check_model(proto, full_check=True)
    except Exception as exc:  # protobuf's DecodeError, checker's ValidationError, ...
        raise ExportError(
            f"{path}: not a valid ONNX model, or a corrupted one ({_one_line(exc)})"
        ) from None
    meta = {p.key: p.value for p in proto.metadata_props}
    try:
        metadata = json.loads(meta.get("memograd", "{}"))
    except ValueError:
        metadata = {}
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(os.environ.get("MEMOGRAD_ORT_THREADS", "1"))
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(
            proto.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:
        raise ExportError(f"{path}: onnxruntime cannot run it ({_one_line(exc)})") from None
    return session, metadata


def run_onnx(session: Any, X: NDArray[Any], output: str = "output") -> NDArray[Any]:
    """``output`` of the session for the rows X (cast to the model's input dtype)."""
    inp = session.get_inputs()[0]
    dtype = np.float64 if inp.type == "tensor(double)" else np.float32
    width = inp.shape[1]
    if isinstance(width, int) and X.shape[1] != width:
        raise ExportError(f"the ONNX model takes {width} features, the data has {X.shape[1]}")
    out: NDArray[Any] = session.run([output], {inp.name: np.ascontiguousarray(X, dtype=dtype)})[0]
    return out
