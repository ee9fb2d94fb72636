"""Does an exported file compute what memograd computes? Run both on a split of the run's data.

The exported file gets the raw features (its first step standardises them); memograd's model
gets them standardised as in training. The two outputs must agree to ``tolerance`` (1e-5,
relative and absolute) on every row.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from memograd._io import StrPath
from memograd.export.layers import ExportError

TOLERANCE = 1e-5
FORMATS = {".onnx": "onnx", ".pt": "torch", ".pth": "torch", ".py": "torch"}


@dataclass
class CheckResult:
    file: str
    format: str
    run: str
    split: str
    rows: int
    max_abs_diff: float
    tolerance: float
    agree: bool
    runtime: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        verdict = "agrees with" if self.agree else "DISAGREES with"
        return (
            f"{self.file} ({self.runtime}) {verdict} memograd on the {self.rows} rows of the "
            f"{self.split} split: max |difference| {self.max_abs_diff:.3g} "
            f"(tolerance {self.tolerance:g})"
        )


def file_format(path: StrPath) -> str:
    """``"torch"`` or ``"onnx"`` from the file's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(
            f"{path}: cannot tell the format from the suffix {suffix or '(none)'!r}; "
            "use .onnx for ONNX or .pt for PyTorch"
        )
    return FORMATS[suffix]


@dataclass
class RunData:
    """Rows of a run's data as an exported model takes them (raw features) and as the run
    trained on them (targets: class indices, or the standardised value for a regression)."""

    X: NDArray[Any]  # raw features, float64
    y: NDArray[Any]  # int64 classes or standardised float targets
    loss: str  # the run's loss: cross_entropy, mse, bce_with_logits, hinge
    split: str


def run_data(run: StrPath, split: str = "train") -> RunData:
    """The ``split`` ("train", "val", "test") of a run's data, split as training split it.

    Falls back to the training split when the run kept no rows for ``split``."""
    from memograd.data import Standardizer, split_dataset
    from memograd.train import TrainConfig, load_data, load_run

    _, ck = load_run(run)
    cfg = TrainConfig.from_dict(ck.metadata.get("config", {}))
    parts = split_dataset(load_data(cfg), val=cfg.val, test=cfg.test, seed=cfg.seed)
    chosen = getattr(parts, split)
    if len(chosen.y) == 0:
        split, chosen = "train", parts.train
    pre = ck.metadata["preprocessing"]
    if pre.get("target_standardizer"):
        ts = Standardizer.from_dict(pre["target_standardizer"])
        y = ts.transform(chosen.y[:, None])[:, 0].astype(cfg.dtype)
    else:
        y = chosen.y.astype(np.int64)
    loss = ck.metadata.get("loss") or "cross_entropy"
    return RunData(np.asarray(chosen.X, dtype=np.float64), y, loss, split)


def run_split(run: StrPath, split: str = "test") -> tuple[NDArray[Any], NDArray[Any], str]:
    """(raw features, memograd's outputs, split name) for a split of a run's data."""
    from memograd.data import Standardizer
    from memograd.train import load_run, predict_scores

    model, ck = load_run(run)
    data = run_data(run, split)
    scaler = Standardizer.from_dict(ck.metadata["preprocessing"]["standardizer"])
    scores = predict_scores(model, scaler.transform(data.X).astype(model.config["dtype"]))
    return data.X, scores, data.split


def exported_outputs(
    path: StrPath, X: NDArray[Any], fmt: str | None = None
) -> tuple[NDArray[Any], str]:
    """The outputs of an exported file for raw rows X, and what ran it."""
    fmt = fmt or file_format(path)
    if fmt == "onnx":
        from memograd.export.onnx_model import load_onnx, require_onnxruntime, run_onnx

        session, _ = load_onnx(path)
        out = run_onnx(session, X)
        return out, f"onnxruntime {require_onnxruntime().__version__}"
    from memograd.export.pytorch import load_torch, require_torch

    torch = require_torch()
    net, _ = load_torch(path)
    try:
        with torch.no_grad():
            out = net(torch.from_numpy(np.ascontiguousarray(X))).numpy()
    except RuntimeError as exc:
        raise ExportError(
            f"{path}: cannot run on the run's data ({' '.join(str(exc).split())}); "
            "was it exported from another run?"
        ) from None
    return out, f"torch {torch.__version__}"


def check_export(
    path: StrPath,
    run: StrPath,
    *,
    fmt: str | None = None,
    split: str = "test",
    tolerance: float = TOLERANCE,
) -> CheckResult:
    """Compare an exported file (format ``fmt``, else told by its suffix) with the memograd run
    it came from, on ``split``."""
    fmt = fmt or file_format(path)
    raw, mine, split = run_split(run, split)
    theirs, runtime = exported_outputs(path, raw, fmt)
    if theirs.shape != mine.shape:
        raise ExportError(
            f"{path}: gives outputs of shape {theirs.shape[1:]} per row, the run {run} gives "
            f"{mine.shape[1:]}; was it exported from another run?"
        )
    diff = float(np.max(np.abs(theirs.astype(np.float64) - mine))) if len(mine) else 0.0
    agree = bool(np.allclose(theirs, mine, rtol=tolerance, atol=tolerance))
    return CheckResult(str(path), fmt, str(run), split, len(mine), diff, tolerance, agree, runtime)
