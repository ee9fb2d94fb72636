"""The way out: memograd models as PyTorch modules and ONNX graphs, and back.

    import memograd as mg
    net = mg.export.to_torch("runs/digits")          # torch.nn.Sequential, PyTorch's layout
    mg.export.save_torch("runs/digits", "digits.pt") # digits.pt (state_dict) + digits.py
    mg.export.to_onnx("runs/digits", "digits.onnx")  # checked by onnx.checker
    mg.export.check_export("digits.onnx", "runs/digits").agree
    model = mg.nn.MLP.from_torch(net)                # back, bit for bit

A run folder's standardisation is exported as the first layer, so the exported model takes raw
features. PyTorch's ``nn.Linear`` holds W as (out, in), memograd's as (in, out): every export and
import transposes explicitly. Needs the ``interop`` extra (torch, onnx, onnxruntime).
"""

from memograd.export.check import CheckResult, RunData, check_export, run_data
from memograd.export.layers import ExportError, Layer, describe
from memograd.export.onnx_model import load_onnx, run_onnx, to_onnx
from memograd.export.pytorch import load_torch, save_torch, to_torch

__all__ = [
    "CheckResult",
    "ExportError",
    "RunData",
    "Layer",
    "check_export",
    "describe",
    "load_onnx",
    "load_torch",
    "run_data",
    "run_onnx",
    "save_torch",
    "to_onnx",
    "to_torch",
]
