"""The run folder: where its checkpoint is, loading its model, writing metrics.csv/metrics.json.

The pictures of a run (curves, confusion matrix, decision boundary) are drawn by
:mod:`memograd.viz.training_plots`."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from memograd._io import atomic_write_text, remove_stale_temporaries
from memograd.checkpoint import Checkpoint, load_checkpoint, require
from memograd.errors import CheckpointError, MemogradError
from memograd.nn import MLP
from memograd.train.schema import check_run

if TYPE_CHECKING:
    from memograd.train.loop import TrainResult

CHECKPOINT = "checkpoint.safetensors"
CHECKPOINT_NAMES = ("checkpoint.safetensors", "checkpoint.npz")
#: the files a finished run adds beside its checkpoint (a new run in the folder removes them)
RUN_FILES = ("metrics.csv", "metrics.json", "curves.png", "confusion.png", "boundary.png")


def _checkpoints(folder: Path) -> list[Path]:
    """The folder's checkpoint files, newest first."""
    found = [folder / n for n in CHECKPOINT_NAMES if (folder / n).is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)


def checkpoint_file(folder: str | Path) -> Path:
    """The checkpoint of a run folder (``checkpoint.safetensors`` or ``checkpoint.npz``).

    A run folder holds one model: should a process have been killed between writing a new run's
    checkpoint and deleting the old run's one of the other format, the newer file is the run
    (and :func:`tidy_run_folder` deletes the older)."""
    folder = Path(folder)
    found = _checkpoints(folder)
    if not found:
        raise CheckpointError(
            f"{folder}: no such checkpoint (no {' or '.join(CHECKPOINT_NAMES)}; is it a run "
            "folder?)"
        )
    return found[0]


def tidy_run_folder(folder: str | Path) -> None:
    """Delete what killed processes left in a run folder: temporary files of interrupted atomic
    writes, and a second checkpoint older than the run's own."""
    folder = Path(folder)
    remove_stale_temporaries(folder)
    for old in _checkpoints(folder)[1:]:
        old.unlink(missing_ok=True)


def settle_run_folder(written: Path, replaced: bool) -> None:
    """After ``written`` (a run's checkpoint) is in place: delete the checkpoint of the other
    format, and with ``replaced`` (a new run's first checkpoint) the old run's metrics and
    pictures, so that the folder describes one run. The model itself was replaced by the one
    rename that put ``written`` in place."""
    folder = written.parent
    if written.name not in CHECKPOINT_NAMES:
        return  # a checkpoint file outside the run-folder convention: touch nothing else
    for name in CHECKPOINT_NAMES:
        if name != written.name:
            (folder / name).unlink(missing_ok=True)
    if replaced:
        for name in RUN_FILES:
            (folder / name).unlink(missing_ok=True)


def load_run(path: str | os.PathLike[str]) -> tuple[MLP, Checkpoint]:
    """The trained model of a run folder (or checkpoint file) and its checkpoint.

    The metadata is checked against the schema (:mod:`memograd.train.schema`) before use. The
    model carries the best weights (those the run's final metrics were measured with)."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such run folder or checkpoint file")
    if path.is_dir():
        tidy_run_folder(path)
        file = checkpoint_file(path)
    else:
        remove_stale_temporaries(path.parent)
        file = path
    ck = load_checkpoint(file)
    require(ck, "architecture", "preprocessing", "status")
    check_run(ck)
    try:
        model = MLP.from_config(ck.metadata["architecture"])
    except (MemogradError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{file}: bad architecture in checkpoint: {exc}") from None
    use_best = ck.metadata.get("config", {}).get("restore_best", True)
    use_best = use_best and (ck.metadata.get("best") or {}).get("epoch", 0) > 0
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
