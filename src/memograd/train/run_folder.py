"""The run folder: where its checkpoint is, loading its model, writing metrics.csv/metrics.json.

The pictures of a run (curves, confusion matrix, decision boundary) are drawn by
:mod:`memograd.viz.training_plots`."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from memograd._io import atomic_write_text
from memograd.checkpoint import Checkpoint, load_checkpoint, require
from memograd.errors import CheckpointError, MemogradError
from memograd.nn import MLP

if TYPE_CHECKING:
    from memograd.train.loop import TrainResult

CHECKPOINT = "checkpoint.safetensors"
CHECKPOINT_NAMES = ("checkpoint.safetensors", "checkpoint.npz")


def checkpoint_file(folder: str | Path) -> Path:
    """The checkpoint of a run folder (``checkpoint.safetensors`` or ``checkpoint.npz``)."""
    folder = Path(folder)
    for name in CHECKPOINT_NAMES:
        if (folder / name).exists():
            return folder / name
    raise CheckpointError(
        f"{folder}: no such checkpoint (no {' or '.join(CHECKPOINT_NAMES)}; is it a run folder?)"
    )


def load_run(path: str | Path) -> tuple[MLP, Checkpoint]:
    """The trained model of a run folder (or checkpoint file) and its checkpoint.

    The model carries the best weights (those the run's final metrics were measured with)."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such run folder or checkpoint file")
    file = checkpoint_file(path) if path.is_dir() else path
    ck = load_checkpoint(file)
    require(ck, "architecture", "preprocessing", "status")
    try:
        model = MLP.from_config(ck.metadata["architecture"])
    except (MemogradError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{file}: bad architecture in checkpoint: {exc}") from None
    use_best = ck.metadata.get("config", {}).get("restore_best", True)
    use_best = use_best and ck.metadata.get("best", {}).get("epoch", 0) > 0
    weights = (ck.group("best") if use_best else {}) or ck.group("model")
    try:
        model.load_state_dict(weights)
    except MemogradError as exc:
        raise CheckpointError(
            f"{file}: checkpoint does not match its architecture: {exc}"
        ) from None
    model.eval()
    return model, ck


METRIC_COLUMNS = (
    "epoch",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "val_r2",
    "lr",
    "seconds",
    "samples_per_second",
    "best_epoch",
)


def write_run_files(result: TrainResult, out: str | Path) -> dict[str, str]:
    """metrics.csv and metrics.json of a finished run (the pictures:
    :func:`memograd.viz.training_plots.write_plots`). Returns {what: path} of the files."""
    out = Path(out)
    written: dict[str, str] = {"checkpoint": str(checkpoint_file(out))}
    columns = [c for c in METRIC_COLUMNS if any(c in r for r in result.history)]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in result.history:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])
    written["metrics_csv"] = str(atomic_write_text(out / "metrics.csv", buf.getvalue()))
    payload = {
        "metrics": result.metrics,
        "history": result.history,
        "config": asdict(result.config),
    }
    written["metrics_json"] = str(
        atomic_write_text(out / "metrics.json", json.dumps(payload, indent=2) + "\n")
    )
    return written
