"""``memograd train``: train an MLP on a built-in dataset or a CSV file, with live progress."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memograd.cli import UI

import argparse
import sys
import time
from pathlib import Path
from typing import Any

HELP = "train an MLP (progress bar, validation, early stopping, checkpoints, plots)"
DESCRIPTION = (
    "Train a multi-layer perceptron with memograd's tensor engine on a built-in dataset or a CSV "
    "file. Each epoch shows a live progress bar (loss, accuracy, samples/s) and validation "
    "metrics; the best weights (lowest validation loss) are kept. With --out the run folder gets "
    "the checkpoint, metrics.csv/json and PNG plots. Ctrl-C stops at a clean point and says how "
    "to resume."
)
EXAMPLE = [
    "memograd train --dataset digits --hidden 64,64 --epochs 30 --optimizer adam --lr 1e-3 "
    "--batch-size 32 --seed 0 --out runs/digits",
    "memograd train --csv data.csv --target species --out runs/mine",
    "memograd train --resume runs/digits --epochs 60",
]

_DEFAULTS = None


def shown(value: Any) -> str:
    """A message for plain stderr: control characters (terminal escapes) written as ``\\x1b``."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))


def _defaults() -> Any:
    global _DEFAULTS
    if _DEFAULTS is None:
        from memograd.train import TrainConfig

        _DEFAULTS = TrainConfig()
    return _DEFAULTS


def _widths(text: str) -> list[int]:
    from argparse import ArgumentTypeError as UsageError

    if text.strip() in ("", "none", "0"):
        return []
    try:
        widths = [int(w) for w in text.replace(" ", "").split(",") if w]
    except ValueError:
        raise UsageError(
            f"--hidden must be comma-separated integers like 64,64, got {text!r}"
        ) from None
    if any(w < 1 for w in widths):
        raise UsageError(f"--hidden widths must be >= 1, got {text!r}")
    return widths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from memograd.data import DATASETS
    from memograd.nn.layers import ACTIVATIONS
    from memograd.nn.losses import LOSSES
    from memograd.optim import OPTIMIZERS

    d = _defaults()
    src = parser.add_argument_group("data")
    src.add_argument(
        "--dataset",
        choices=DATASETS,
        metavar="NAME",
        help=f"built-in dataset: {', '.join(DATASETS)} (default {d.dataset})",
    )
    src.add_argument("--csv", metavar="FILE", help="train on a CSV file instead (with --target)")
    src.add_argument("--target", metavar="COLUMN", help="the CSV's target column (name or number)")
    src.add_argument(
        "--task",
        choices=("classification", "regression"),
        help="how to read the CSV target (default: guessed)",
    )
    src.add_argument(
        "--samples",
        type=int,
        dest="n_samples",
        metavar="N",
        help="size of a generated dataset (moons, circles, spirals, xor, toy)",
    )
    src.add_argument("--noise", type=float, help="noise of a generated dataset")
    src.add_argument("--val", type=float, default=d.val, help=f"validation fraction ({d.val})")
    src.add_argument("--test", type=float, default=d.test, help=f"test fraction ({d.test})")
    model = parser.add_argument_group("model")
    model.add_argument(
        "--hidden",
        type=_widths,
        default=d.hidden,
        metavar="W1,W2,...",
        help="hidden layer widths (default 64,64)",
    )
    model.add_argument(
        "--activation",
        choices=list(ACTIVATIONS),
        default=d.activation,
        help="activation of every hidden layer",
    )
    model.add_argument(
        "--dropout",
        type=float,
        default=d.dropout,
        help="probability of zeroing a hidden activation while training (runs eagerly)",
    )
    model.add_argument(
        "--memory-budget",
        type=float,
        metavar="MB",
        help="MiB for saved activations: the model runs in checkpointed segments chosen to fit "
        "(recomputed during backward; the eager engine); refused with the minimum if too small",
    )
    model.add_argument("--init", help="weight init: xavier (default), he, xavier_normal, ...")
    model.add_argument(
        "--bias-init",
        choices=("zeros", "uniform"),
        default=d.bias_init,
        help="biases start at 0 (zeros) or Glorot-uniform as in scikit-learn (uniform)",
    )
    model.add_argument(
        "--loss",
        choices=list(LOSSES),
        help="default: cross_entropy for classes, mse for regression",
    )
    opt = parser.add_argument_group("optimization")
    opt.add_argument(
        "--optimizer", choices=list(OPTIMIZERS), default=d.optimizer, help="the update rule"
    )
    opt.add_argument("--lr", type=float, default=d.lr, help=f"learning rate ({d.lr})")
    opt.add_argument("--momentum", type=float, default=d.momentum, help="for sgd and rmsprop")
    opt.add_argument("--nesterov", action="store_true", help="Nesterov momentum (sgd)")
    opt.add_argument(
        "--weight-decay",
        type=float,
        default=d.weight_decay,
        help="L2 (sgd, adam, rmsprop) or decoupled (adamw) decay; default 0.2 for adamw, else 0",
    )
    opt.add_argument(
        "--schedule",
        choices=("none", "step", "cosine"),
        default=d.schedule,
        help="learning-rate schedule: constant, step decay, or cosine to 0 over the epochs",
    )
    opt.add_argument(
        "--warmup",
        type=int,
        default=d.warmup,
        metavar="EPOCHS",
        help="epochs of linear learning-rate warm-up",
    )
    opt.add_argument(
        "--clip", type=float, metavar="NORM", help="clip gradients to this global norm"
    )
    opt.add_argument("--epochs", type=int, help=f"maximum epochs (default {d.epochs})")
    opt.add_argument("--batch-size", type=int, default=d.batch_size, help="examples per update")
    opt.add_argument(
        "--patience",
        type=int,
        default=d.patience,
        help=f"early stopping: epochs without validation gain (default {d.patience}; "
        "0 turns it off)",
    )
    opt.add_argument(
        "--seed", type=int, default=d.seed, help="seed of the split, the weights and the batches"
    )
    opt.add_argument("--float64", action="store_true", help="train in float64 (default float32)")
    opt.add_argument(
        "--eager",
        action="store_true",
        help="run every step through the eager engine (default: the compiled step when possible)",
    )
    run = parser.add_argument_group("run")
    run.add_argument("--out", metavar="DIR", help="run folder: checkpoint, metrics, plots")
    run.add_argument("--resume", metavar="DIR", help="continue the run saved in DIR")
    run.add_argument("--json", action="store_true", help="print the final metrics as JSON only")
    run.add_argument("--force", action="store_true", help="overwrite a run already in --out")
    run.add_argument(
        "--checkpoint-format",
        choices=("safetensors", "npz"),
        default=None,
        help="checkpoint file format (default safetensors, or npz without the safetensors package)",
    )
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    # the flags that define a run: --resume takes them from the checkpoint, so it refuses them
    _RUN_FLAGS[:] = [
        (a.option_strings[0], a.dest, a.default)
        for group in (src, model, opt)
        for a in group._group_actions
        if a.dest != "epochs"
    ]
    _RUN_FLAGS.append(("--checkpoint-format", "checkpoint_format", None))


_RUN_FLAGS: list[tuple[str, str, object]] = []  # (flag, dest, default), filled by add_arguments


def config_from_args(args: argparse.Namespace) -> Any:
    from memograd.cli import UsageError
    from memograd.train import TrainConfig

    if args.csv and args.dataset:
        raise UsageError("give --dataset or --csv, not both")
    if args.csv and not args.target:
        raise UsageError("--csv needs --target COLUMN (the column to predict)")
    if args.target and not args.csv:
        raise UsageError("--target goes with --csv FILE")
    d = _defaults()
    # flags whose value goes into the TrainConfig field of the same name unchanged
    same = (
        "target task n_samples noise activation dropout init bias_init loss optimizer lr "
        "momentum nesterov weight_decay schedule warmup clip batch_size val test seed "
        "memory_budget"
    ).split()
    cfg = TrainConfig(
        **{name: getattr(args, name) for name in same},
        dataset=None if args.csv else (args.dataset or d.dataset),
        # absolute, so that eval and --resume find the file from any working directory
        csv=str(Path(args.csv).resolve()) if args.csv else None,
        hidden=list(args.hidden),
        epochs=args.epochs if args.epochs is not None else d.epochs,
        patience=args.patience or None,
        dtype="float64" if args.float64 else "float32",
        compile=not args.eager,
        checkpoint_format=args.checkpoint_format or d.checkpoint_format,
    )
    try:
        cfg.validate()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return cfg


class RichReporter:
    """A rich progress bar per epoch (loss, accuracy, samples/s) and one line per epoch."""

    def __init__(self, ui: UI) -> None:
        self.ui = ui
        self.progress: Any = None  # a rich Progress while an epoch runs
        self.task: Any = None
        self._last = 0.0
        self._epoch_acc: float | None = None  # the last finished epoch's training accuracy
        self._steps = 0

    def start(self, cfg: Any, data: Any, model: Any, first_epoch: Any) -> None:
        from memograd.cli import user_text as literal

        ds = data.dataset
        what = f"{ds.n_classes} classes" if data.is_classification else "regression"
        self.ui.print(
            f"[bold]{literal(ds.name)}[/]: {ds.n_samples} samples, {ds.n_features} features, "
            f"{what}; "
            f"split {len(data.y['train'])}/{len(data.y['val'])}/{len(data.y['test'])}; "
            f"MLP {'-'.join(map(str, model.config['widths']))} "
            f"({model.num_parameters():,} parameters), {cfg.optimizer} lr={cfg.lr:g} "
            f"wd={cfg.resolved_weight_decay():g}, "
            f"batch {cfg.batch_size}, seed {cfg.seed}"
        )
        if first_epoch > 1:
            self.ui.print(f"resuming at epoch {first_epoch}")

    def epoch_start(self, epoch: Any, epochs: Any, steps: Any) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        if self.progress is None:
            self.progress = Progress(
                TextColumn("[bold]epoch {task.fields[epoch]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[stats]}"),
                console=self.ui.console,
                transient=True,
            )
            self.progress.start()
        if self.task is not None:
            self.progress.remove_task(self.task)
        self._steps = steps
        self.task = self.progress.add_task(
            "train", total=steps, epoch=f"{epoch}/{epochs}", stats=""
        )

    def batch(self, step: Any, loss: Any, accuracy: Any, samples_per_s: Any) -> None:
        now = time.perf_counter()
        if now - self._last < 0.05 and 1 < step < self._steps:  # refresh stats 20 times/s
            self.progress.update(self.task, completed=step)
            return
        self._last = now
        if accuracy is not None:
            acc = f" acc {accuracy:.3f}"
        elif self._epoch_acc is not None:
            acc = f" (last epoch acc {self._epoch_acc:.3f})"
        else:
            acc = ""
        self.progress.update(
            self.task, completed=step, stats=f"loss {loss:.4f}{acc}  {samples_per_s:,.0f} samples/s"
        )

    def epoch_end(self, record: Any) -> None:
        self._epoch_acc = record.get("train_accuracy")
        parts = [f"epoch {record['epoch']:>3}  train {record['train_loss']:.4f}"]
        if "train_accuracy" in record:
            parts.append(f"acc {record['train_accuracy']:.3f}")
        if "val_loss" in record:
            parts.append(f" val {record['val_loss']:.4f}")
        if "val_accuracy" in record:
            parts.append(f"acc {record['val_accuracy']:.3f}")
        if "val_r2" in record:
            parts.append(f"R² {record['val_r2']:.3f}")
        parts.append(f" {record['samples_per_second']:,.0f} samples/s")
        if record.get("best_epoch") == record["epoch"]:
            parts.append("[green]*[/]")
        line = " ".join(parts)
        if self.progress is not None:
            self.progress.console.print(line)
        else:
            self.ui.print(line)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
            self.task = None


def summary_table(metrics: dict[str, Any], files: dict[str, Any] | None = None) -> Any:
    from rich.table import Table

    from memograd.cli import user_text as literal

    t = Table(title="Result", show_header=False)
    t.add_column("what", style="bold")
    t.add_column("value", justify="right")
    if "test_accuracy" in metrics:
        n = metrics.get("test_samples")
        right = f" ({round(metrics['test_accuracy'] * n)} of {n})" if n else ""
        t.add_row("test accuracy", f"{metrics['test_accuracy']:.4f}{right}")
    if "test_r2" in metrics:
        t.add_row("test R²", f"{metrics['test_r2']:.4f}")
    if "test_rmse" in metrics:
        t.add_row("test RMSE", f"{metrics['test_rmse']:.4g}")
    if "test_loss" in metrics:
        t.add_row("test loss", f"{metrics['test_loss']:.4f}")
    if "val_accuracy" in metrics:
        t.add_row("validation accuracy", f"{metrics['val_accuracy']:.4f}")
    if "epochs" in metrics:
        stop = " (early stop)" if metrics.get("stopped_early") else ""
        t.add_row("epochs", f"{metrics['epochs']}{stop}, best {metrics['best_epoch']}")
    if "seconds" in metrics:
        t.add_row("training time", f"{metrics['seconds']:.2f} s")
        t.add_row("samples/s", f"{metrics['samples_per_second']:,.0f}")
    if "parameters" in metrics:
        t.add_row("parameters", f"{metrics['parameters']:,} ({metrics['architecture']})")
    for what, path in (files or {}).items():
        t.add_row(what, literal(path))
    return t


def run(args: argparse.Namespace, ui: UI) -> int:
    from memograd.cli import UsageError
    from memograd.train import TrainingInterrupted, fit, write_run_files

    reporter: Any = None if args.json else RichReporter(ui)  # a train.loop.Reporter
    if args.resume:
        if args.out and Path(args.out) != Path(args.resume):
            raise UsageError("--resume continues in its own folder; drop --out")
        given = [flag for flag, dest, default in _RUN_FLAGS if getattr(args, dest) != default]
        if given:
            raise UsageError(
                f"--resume continues the run as it was saved, so {', '.join(given)} cannot "
                "change it; only --epochs may (start a new run with --out to change the others)"
            )
        if args.epochs is not None and args.epochs < 1:
            raise UsageError("--epochs must be >= 1")
        out: Path | None = Path(args.resume)
        if not Path(args.resume).is_dir():
            raise UsageError(f"--resume {args.resume}: no such run folder")
        cfg: Any = None  # read from the run folder by fit
    else:
        cfg = config_from_args(args)
        out = Path(args.out) if args.out else None
        if out is not None and not args.force:
            from memograd.train import CHECKPOINT_NAMES

            if any((out / name).exists() for name in CHECKPOINT_NAMES):
                raise UsageError(
                    f"{out} already holds a run; continue it with --resume {out}, "
                    "or pass --force to overwrite it"
                )
    if out is not None and not args.resume:
        try:  # fail now, not after the first epoch, when the folder cannot be made
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from memograd.errors import MemogradValueError

            raise MemogradValueError(
                f"--out {out}: cannot create the run folder ({exc.strerror}); choose another path"
            ) from None
    if out is not None:  # a device, FIFO or folder where a run file goes: refused before training
        from memograd._io import writable_target
        from memograd.train.run_folder import CHECKPOINT_NAMES, RUN_FILES

        for name in (*CHECKPOINT_NAMES, *RUN_FILES):
            writable_target(out / name)
    fallback = None
    if out is None:  # Ctrl-C still leaves a resumable run, in a fresh folder under runs/
        stamp = time.strftime("%Y%m%d-%H%M%S")
        fallback = Path("runs") / f"{Path(cfg.csv).stem if cfg.csv else cfg.dataset}-{stamp}"
    from memograd import blas

    # BLAS threads by problem size (issue 13.11): the hidden layers' largest product per batch
    # (a resumed run's configuration is read inside fit: its size is unknown here, so 0 work)
    work = blas.mlp_flops(cfg.hidden, cfg.batch_size) if cfg is not None else 0.0
    try:
        with blas.auto(work, getattr(args, "threads", None)):
            result = fit(
                cfg,
                out,
                reporter=reporter,
                resume=bool(args.resume),
                epochs=args.epochs,
                interrupt_out=fallback,
            )
    except TrainingInterrupted as exc:
        print(f"memograd train: {shown(exc)}", file=sys.stderr)
        return 130
    files, no_plots = {}, None
    if out is not None:
        try:
            files = write_run_files(result, out)
            if not args.no_plots:
                from memograd.viz.training_plots import plots_unavailable, write_plots

                no_plots = plots_unavailable()
                files.update(write_plots(result, out))
        except KeyboardInterrupt:
            print(
                f"memograd train: interrupted after training, while writing the run files; the "
                f"trained model is in {shown(out)} (its plots may be missing: rerun with "
                f"`memograd eval --model {shown(out)}` to score it)",
                file=sys.stderr,
            )
            return 130
    if args.json:
        extra = {"run": str(out), "files": files} if out else {}
        if no_plots:
            extra["plots_skipped"] = no_plots
        ui.json({**result.metrics, **extra})
    else:
        ui.print(summary_table(result.metrics, files))
        if no_plots:
            ui.print(f"no plots written: {no_plots}", markup=False)
    return 0
