"""The training loop: seeded, resumable, with validation, early stopping and a clean Ctrl-C.

    from memograd.train import TrainConfig, fit
    result = fit(TrainConfig(dataset="digits", hidden=[64, 64], epochs=30), out="runs/digits")
    result.metrics["test_accuracy"]

One epoch = one seeded permutation of the training split cut into mini-batches; each batch runs
forward, the memoized backward (``loss.backward()``) and one optimizer update. When it can (no
dropout, no hinge loss) the forward + backward of a batch runs through the engine's
``compile_step``: the same graph and ``graph.backward``, recorded once per batch shape and
replayed as straight NumPy (``TrainConfig(compile=False)`` or ``--eager`` turns it off).

After every epoch the validation split is scored, the best weights (lowest validation loss) are
kept, and the whole state (weights, best weights, optimizer slots, RNG state, history) is
snapshot in memory and, with ``out``, written to ``out/checkpoint.safetensors`` atomically.

Ctrl-C (KeyboardInterrupt) at any moment rolls back to the last completed epoch's snapshot
(an update half done is discarded), writes it, and raises :class:`TrainingInterrupted`, whose
message says how to resume. ``fit(..., resume=True)`` restores that state and replays the
remaining epochs with the same RNG stream, so it ends at the same weights, bit for bit, as a run
that was never interrupted.

Seeds: ``seed`` fixes the generated data, the split, the initial weights (Generator
``[seed, 1]``) and the shuffling and dropout stream (Generator ``[seed, 2]``).

One job per module: :mod:`~memograd.train.config` (TrainConfig), :mod:`~memograd.train.prepare`
(data preparation), :mod:`~memograd.train.metrics` (scores, R², confusion matrix),
:mod:`~memograd.train.loop` (Trainer, fit), :mod:`~memograd.train.run_folder` (the run folder's
files). The run's pictures are :mod:`memograd.viz.training_plots`.
"""

from memograd.train.config import DEFAULT_ADAMW_DECAY, TrainConfig
from memograd.train.loop import (
    Reporter,
    Trainer,
    TrainingInterrupted,
    TrainResult,
    build_model,
    default_loss,
    fit,
    output_width,
)
from memograd.train.metrics import (
    confusion_matrix,
    evaluate,
    predict_scores,
    predicted_classes,
    r2_score,
)
from memograd.train.prepare import PreparedData, load_data, prepare_data
from memograd.train.run_folder import (
    CHECKPOINT,
    CHECKPOINT_NAMES,
    METRIC_COLUMNS,
    checkpoint_file,
    load_run,
    write_run_files,
)

__all__ = [
    "CHECKPOINT",
    "CHECKPOINT_NAMES",
    "DEFAULT_ADAMW_DECAY",
    "METRIC_COLUMNS",
    "PreparedData",
    "Reporter",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "TrainingInterrupted",
    "build_model",
    "checkpoint_file",
    "confusion_matrix",
    "default_loss",
    "evaluate",
    "fit",
    "load_data",
    "load_run",
    "output_width",
    "predict_scores",
    "predicted_classes",
    "prepare_data",
    "r2_score",
    "write_run_files",
]
