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
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from memograd import __version__
from memograd.checkpoint import (
    Checkpoint,
    default_format,
    have_safetensors,
    load_checkpoint,
    require,
    save_checkpoint,
)
from memograd.data import (
    CLASSIFICATION,
    Dataset,
    Standardizer,
    fingerprint,
    load_csv,
    load_dataset,
    split_dataset,
)
from memograd.errors import CheckpointError, MemogradError, MemogradValueError, NonFiniteError
from memograd.nn import MLP, Module
from memograd.nn.losses import LOSSES
from memograd.optim import OPTIMIZERS, Optimizer, make_optimizer, make_schedule
from memograd.tensor.tensor import Tensor, no_grad

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


DEFAULT_ADAMW_DECAY = 0.2  # chosen on digits/iris/wine/moons/diabetes, seeds 0-4 (see benchmarks)


class TrainingInterrupted(MemogradError, KeyboardInterrupt):
    """Ctrl-C stopped training at a clean point; the checkpoint (if any) is written."""

    def __init__(self, message: str, result: TrainResult | None = None):
        super().__init__(message)
        self.result = result


@dataclass
class TrainConfig:
    """Everything that defines a run (stored in its checkpoint, so ``--resume`` needs nothing)."""

    dataset: str | None = "digits"
    csv: str | None = None
    target: str | None = None
    task: str | None = None
    n_samples: int | None = None
    noise: float | None = None
    hidden: list[int] = field(default_factory=lambda: [64, 64])
    activation: str = "relu"
    dropout: float = 0.0
    init: str | None = None
    bias_init: str = "zeros"  # or "uniform" (scikit-learn's)
    loss: str | None = None  # default: cross_entropy for classes, mse for regression
    optimizer: str = "adamw"
    lr: float = 3e-3
    momentum: float = 0.9  # for sgd and rmsprop
    nesterov: bool = False
    weight_decay: float | None = None  # None: 0.2 for adamw (decoupled), 0 for the others
    schedule: str = "none"
    warmup: int = 0  # epochs of linear warm-up
    clip: float | None = None
    epochs: int = 100
    batch_size: int = 32
    patience: int | None = 20
    restore_best: bool = True  # end with the weights of the best validation epoch
    compile: bool = True  # use the engine's compiled step (mg.tensor.compile_step) when it can
    # "safetensors" (when that package is installed) or "npz"
    checkpoint_format: str = field(default_factory=default_format)
    score_train: bool = True  # record the training split's accuracy after every epoch
    val: float = 0.1
    test: float = 0.2
    seed: int = 0
    dtype: str = "float32"

    def validate(self) -> None:
        def bad(msg):
            raise MemogradValueError(msg)

        if (self.dataset is None) == (self.csv is None):
            bad("give either a dataset name or a CSV file (with its target column)")
        if self.epochs < 1:
            bad(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            bad(f"batch size must be >= 1, got {self.batch_size}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            bad(f"learning rate must be > 0, got {self.lr}")
        if any(h < 1 for h in self.hidden):
            bad(f"hidden widths must be >= 1, got {self.hidden}")
        if self.optimizer.lower() not in OPTIMIZERS:
            bad(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if self.loss is not None and self.loss not in LOSSES:
            bad(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        if self.patience is not None and self.patience < 1:
            bad(f"patience must be >= 1, got {self.patience}")
        if not 0 <= self.dropout < 1:
            bad(f"dropout must be in [0, 1), got {self.dropout}")
        if self.dtype not in ("float32", "float64"):
            bad(f"dtype must be float32 or float64, got {self.dtype}")
        if self.weight_decay is not None and self.weight_decay < 0:
            bad(f"weight decay must be >= 0, got {self.weight_decay}")
        if self.checkpoint_format not in ("safetensors", "npz"):
            bad(f"checkpoint format must be safetensors or npz, got {self.checkpoint_format!r}")
        if self.checkpoint_format == "safetensors" and not have_safetensors():
            bad(
                "checkpoint format safetensors needs the safetensors package "
                "(pip install 'memograd[checkpoint]'); or choose npz"
            )
        if self.warmup < 0:
            bad(f"warmup must be >= 0 epochs, got {self.warmup}")

    def resolved_weight_decay(self) -> float:
        if self.weight_decay is not None:
            return float(self.weight_decay)
        return DEFAULT_ADAMW_DECAY if self.optimizer.lower() == "adamw" else 0.0

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


# ----------------------------------------------------------------------------- data


@dataclass
class PreparedData:
    """The three splits, standardised with statistics of the training split only."""

    dataset: Dataset
    X: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    scaler: Standardizer
    target_scaler: Standardizer | None  # regression targets are standardised too
    fingerprint: str

    @property
    def task(self) -> str:
        return self.dataset.task

    @property
    def is_classification(self) -> bool:
        return self.dataset.task == CLASSIFICATION

    def preprocessing(self) -> dict:
        ds = self.dataset
        return {
            "standardizer": self.scaler.to_dict(),
            "target_standardizer": None
            if self.target_scaler is None
            else self.target_scaler.to_dict(),
            "task": ds.task,
            "classes": list(ds.classes),
            "feature_names": list(ds.feature_names),
            "target_name": ds.target_name,
            "dataset": ds.name,
        }


def load_data(cfg: TrainConfig) -> Dataset:
    if cfg.csv is not None:
        return load_csv(cfg.csv, cfg.target, task=cfg.task)
    return load_dataset(cfg.dataset, seed=cfg.seed, n_samples=cfg.n_samples, noise=cfg.noise)


def prepare_data(cfg: TrainConfig, ds: Dataset | None = None) -> PreparedData:
    ds = ds if ds is not None else load_data(cfg)
    split = split_dataset(ds, val=cfg.val, test=cfg.test, seed=cfg.seed)
    scaler = Standardizer.fit(split.train.X)
    parts = {"train": split.train, "val": split.val, "test": split.test}
    X = {k: scaler.transform(p.X).astype(cfg.dtype) for k, p in parts.items()}
    target_scaler = None
    if ds.is_classification:
        y = {k: p.y.astype(np.int64) for k, p in parts.items()}
    else:
        target_scaler = Standardizer.fit(split.train.y)
        y = {
            k: target_scaler.transform(p.y[:, None])[:, 0].astype(cfg.dtype)
            for k, p in parts.items()
        }
    fp = fingerprint(*(X[k] for k in parts), *(y[k] for k in parts))
    return PreparedData(ds, X, y, scaler, target_scaler, fp)


# ----------------------------------------------------------------------------- model and metrics


def output_width(data: PreparedData, loss: str) -> int:
    if not data.is_classification:
        return 1
    if loss == "bce_with_logits":
        if data.dataset.n_classes != 2:
            raise MemogradValueError(
                f"loss bce_with_logits needs 2 classes, the data has {data.dataset.n_classes}"
            )
        return 1
    return data.dataset.n_classes


def default_loss(task: str) -> str:
    return "cross_entropy" if task == CLASSIFICATION else "mse"


def build_model(cfg: TrainConfig, n_in: int, n_out: int) -> MLP:
    return MLP(
        [n_in, *cfg.hidden, n_out],
        activation=cfg.activation,
        dropout=cfg.dropout,
        init=cfg.init,
        bias_init=cfg.bias_init,
        rng=np.random.default_rng([cfg.seed, 1]),
        dtype=cfg.dtype,
    )


def predict_scores(model: Module, X: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """The network's raw outputs for every row of X (evaluation mode, no graph)."""
    was_training = getattr(model, "training", False)
    model.eval()
    outs = []
    try:
        with no_grad():
            for start in range(0, len(X), batch_size):
                outs.append(model(Tensor(X[start : start + batch_size])).data)
    finally:
        model.train(was_training)
    if not outs:
        return np.zeros((0, 1), dtype=np.float32)
    return np.concatenate(outs)


def predicted_classes(scores: np.ndarray) -> np.ndarray:
    if scores.shape[1] == 1:  # one logit (bce) or one hinge score: positive means class 1
        return (scores[:, 0] > 0).astype(np.int64)
    return scores.argmax(axis=1)


def r2_score(y: np.ndarray, yhat: np.ndarray) -> float:
    """R² = 1 - Σ(y - ŷ)² / Σ(y - ȳ)²."""
    ss_res = float(np.sum((y - yhat) ** 2))
    ss_tot = float(np.sum((y - np.mean(y)) ** 2))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")


def evaluate(model: Module, X: np.ndarray, y: np.ndarray, loss: str, task: str) -> dict:
    """Loss and accuracy (classes) or R² (regression) of the model on (X, y)."""
    if len(X) == 0:
        return {}
    scores = predict_scores(model, X)
    with no_grad():
        value = float(LOSSES[loss](Tensor(scores), y).item())
    out = {"loss": value}
    if task == CLASSIFICATION:
        out["accuracy"] = float(np.mean(predicted_classes(scores) == y))
    else:
        out["r2"] = r2_score(y.astype(np.float64), scores[:, 0].astype(np.float64))
    return out


def confusion_matrix(y: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """counts[i, j] = how many samples of class i were predicted as class j."""
    m = np.zeros((k, k), dtype=np.int64)
    np.add.at(m, (y, pred), 1)
    return m


# ----------------------------------------------------------------------------- progress


class Reporter:
    """What the loop tells the outside world; the default says nothing."""

    def start(self, cfg: TrainConfig, data: PreparedData, model: Module, first_epoch: int):
        pass

    def epoch_start(self, epoch: int, epochs: int, steps: int) -> None:
        pass

    def batch(self, step: int, loss: float, accuracy: float | None, samples_per_s: float):
        pass

    def epoch_end(self, record: dict) -> None:
        pass

    def close(self) -> None:
        pass


# ----------------------------------------------------------------------------- the loop


@dataclass
class TrainResult:
    model: MLP
    history: list[dict]
    metrics: dict
    config: TrainConfig
    data: PreparedData
    out: Path | None
    status: str


class Trainer:
    """Holds one run's state; :func:`fit` is the usual entry point."""

    def __init__(self, cfg: TrainConfig, data: PreparedData | None = None):
        cfg.validate()
        self.cfg = cfg
        self.data = data if data is not None else prepare_data(cfg)
        self.loss_name = cfg.loss or default_loss(self.data.task)
        if self.loss_name != "mse" and not self.data.is_classification:
            raise MemogradValueError(
                f"loss {self.loss_name} needs class labels; this is a regression"
            )
        if self.loss_name in ("mse",) and self.data.is_classification:
            raise MemogradValueError("loss mse needs real-valued targets; use cross_entropy")
        self.loss_fn = LOSSES[self.loss_name]
        n_in = self.data.X["train"].shape[1]
        self.model = build_model(cfg, n_in, output_width(self.data, self.loss_name))
        self.rng = np.random.default_rng([cfg.seed, 2])
        self.model.set_rng(self.rng)
        self.steps_per_epoch = -(-len(self.data.y["train"]) // cfg.batch_size)
        total = self.steps_per_epoch * cfg.epochs
        schedule = make_schedule(cfg.schedule, total, cfg.warmup * self.steps_per_epoch)
        kwargs: dict = {
            "weight_decay": cfg.resolved_weight_decay(),
            "schedule": schedule,
            "clip_norm": cfg.clip,
        }
        if cfg.optimizer.lower() in ("sgd", "rmsprop"):
            kwargs["momentum"] = cfg.momentum
        if cfg.optimizer.lower() == "sgd":
            kwargs["nesterov"] = cfg.nesterov
        self._step = None  # the compiled step, made on first use
        self.optimizer: Optimizer = make_optimizer(
            cfg.optimizer, self.model.parameters(), cfg.lr, **kwargs
        )
        self.epoch = 0
        self.history: list[dict] = []
        self.best = {"val_loss": math.inf, "epoch": 0, "weights": self.model.state_dict()}
        self.bad_epochs = 0
        self.stopped_early = False
        self.train_seconds = 0.0
        self._snapshot = self._capture()

    # -- state
    def _capture(self) -> dict:
        return {
            "epoch": self.epoch,
            "weights": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": self.rng.bit_generator.state,
            "history": [dict(r) for r in self.history],
            "best": {
                **self.best,
                "weights": {k: v.copy() for k, v in self.best["weights"].items()},
            },
            "bad_epochs": self.bad_epochs,
            "stopped_early": self.stopped_early,
            "train_seconds": self.train_seconds,
        }

    def _restore(self, snap: dict) -> None:
        self.epoch = snap["epoch"]
        self.model.load_state_dict(snap["weights"])
        self.optimizer.load_state_dict(snap["optimizer"])
        self.rng.bit_generator.state = snap["rng"]
        self.history = [dict(r) for r in snap["history"]]
        self.best = {
            **snap["best"],
            "weights": {k: v.copy() for k, v in snap["best"]["weights"].items()},
        }
        self.bad_epochs = snap["bad_epochs"]
        self.stopped_early = snap["stopped_early"]
        self.train_seconds = snap["train_seconds"]

    # -- one epoch
    def _batch_target(self, yb: np.ndarray) -> np.ndarray:
        """Targets as the loss wants them: class indices, or an (n, 1) float column."""
        if self.loss_name in ("cross_entropy", "hinge"):
            return yb
        return yb.astype(self.cfg.dtype).reshape(-1, 1)

    def compiled(self) -> bool:
        """Does this run use the engine's compiled step? (Not with dropout, whose random masks a
        recording would freeze, nor with the hinge loss, which builds a one-hot mask from the
        labels in NumPy.)"""
        if self._step is None and self.cfg.compile:
            has_dropout = self.cfg.dropout > 0
            if not has_dropout and self.loss_name != "hinge":
                from memograd.tensor.compile import compile_step

                model, loss_fn = self.model, self.loss_fn
                self._step = compile_step(lambda x, t: loss_fn(model(x), t), model.parameters())
        return self._step is not None

    def train_epoch(self, reporter: Reporter) -> dict:
        """One pass over the training split in a seeded order; returns the epoch's record."""
        cfg, model, opt, loss_fn = self.cfg, self.model, self.optimizer, self.loss_fn
        X, y = self.data.X["train"], self.data.y["train"]
        n = len(y)
        classify = self.data.is_classification
        compiled = self.compiled()
        order = self.rng.permutation(n)
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        start = time.perf_counter()
        reporter.epoch_start(self.epoch + 1, cfg.epochs, self.steps_per_epoch)
        for step, lo in enumerate(range(0, n, cfg.batch_size), 1):
            idx = order[lo : lo + cfg.batch_size]
            xb, yb = X[idx], self._batch_target(y[idx])
            if compiled:  # forward + memoized backward replayed as recorded NumPy
                value = self._step(xb, yb)
                acc = None  # the compiled step returns the loss only
            else:
                out = model(Tensor(xb))
                loss = loss_fn(out, yb)
                opt.zero_grad()
                loss.backward()
                value = float(loss.data)
                acc = None
                if classify:
                    correct += int(np.count_nonzero(predicted_classes(out.data) == y[idx]))
                    acc = correct / (seen + len(idx))
            if not math.isfinite(value):
                raise NonFiniteError(
                    f"training diverged at epoch {self.epoch + 1}, step {step}: loss is {value}; "
                    f"lower the learning rate (now {cfg.lr}) or use --clip"
                )
            opt.step()
            m = len(idx)
            total_loss += value * m
            seen += m
            reporter.batch(
                step, total_loss / seen, acc, seen / max(time.perf_counter() - start, 1e-9)
            )
        seconds = time.perf_counter() - start
        record = {"epoch": self.epoch + 1, "train_loss": total_loss / n}
        if classify and cfg.score_train:  # accuracy at the end of the epoch, on the whole split
            scores = predict_scores(model, X)
            record["train_accuracy"] = float(np.mean(predicted_classes(scores) == y))
        val = evaluate(
            model, self.data.X["val"], self.data.y["val"], self.loss_name, self.data.task
        )
        record.update({f"val_{k}": v for k, v in val.items()})
        record["lr"] = opt.lr * opt.schedule(opt.t)
        record["seconds"] = seconds
        record["samples_per_second"] = n / max(seconds, 1e-9)
        return record

    def run(
        self,
        reporter: Reporter | None = None,
        out: Path | None = None,
        interrupt_out: Path | None = None,
    ) -> TrainResult:
        """Train from the current epoch to ``cfg.epochs`` (or early stop).

        On Ctrl-C the checkpoint goes to ``out``, or, when there is none, to ``interrupt_out``
        (the command line passes ``runs/<dataset>-<time>`` so that a run is always resumable)."""
        reporter = reporter or Reporter()
        cfg = self.cfg
        reporter.start(cfg, self.data, self.model, self.epoch + 1)
        try:
            while self.epoch < cfg.epochs and not self.stopped_early:
                # overflow shows up as a non-finite loss, which train_epoch reports in one error
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    record = self.train_epoch(reporter)
                self.epoch += 1
                self.train_seconds += record["seconds"]
                self.history.append(record)
                val_loss = record.get("val_loss", record["train_loss"])
                if val_loss < self.best["val_loss"]:
                    self.best = {
                        "val_loss": val_loss,
                        "epoch": self.epoch,
                        "weights": self.model.state_dict(),
                    }
                    self.bad_epochs = 0
                else:
                    self.bad_epochs += 1
                    if cfg.patience is not None and self.bad_epochs >= cfg.patience:
                        self.stopped_early = True
                record["best_epoch"] = self.best["epoch"]
                self._snapshot = self._capture()
                reporter.epoch_end(record)
                if out is not None:
                    self.save(self.checkpoint_path(out), status="running")
        except NonFiniteError:
            reporter.close()
            raise
        except KeyboardInterrupt:
            self._restore(self._snapshot)  # discard the half-done epoch
            reporter.close()
            path = None
            folder = out if out is not None else interrupt_out
            if folder is not None:
                path = self.save(self.checkpoint_path(Path(folder)), status="interrupted")
            where = f"checkpoint written to {path}; " if path else ""
            how = (
                f"resume with: memograd train --resume {folder}"
                if folder is not None
                else "pass --out to be able to resume"
            )
            raise TrainingInterrupted(
                f"interrupted: stopped cleanly after epoch {self.epoch} of {cfg.epochs}; "
                f"{where}{how}",
                None,
            ) from None
        reporter.close()
        return self.finish(out)

    def finish(self, out: Path | None) -> TrainResult:
        """Restore the best weights, score the test split, write the final checkpoint."""
        final = self.model
        if self.cfg.restore_best and self.best["epoch"] > 0:
            final.load_state_dict(self.best["weights"])
        metrics = self.final_metrics()
        if out is not None:
            self.save(self.checkpoint_path(out), status="finished", metrics=metrics)
        return TrainResult(final, self.history, metrics, self.cfg, self.data, out, "finished")

    def final_metrics(self) -> dict:
        d = self.data
        metrics: dict = {
            "dataset": d.dataset.name,
            "task": d.task,
            "loss_function": self.loss_name,
        }
        for split in ("train", "val", "test"):
            scores = evaluate(self.model, d.X[split], d.y[split], self.loss_name, d.task)
            metrics.update({f"{split}_{k}": v for k, v in scores.items()})
        if not d.is_classification and len(d.X["test"]):
            scale = float(d.target_scaler.scale[0])
            metrics["test_rmse"] = math.sqrt(metrics["test_loss"]) * scale
        metrics.update(
            {
                "epochs": self.epoch,
                "best_epoch": self.best["epoch"],
                "stopped_early": self.stopped_early,
                "seconds": round(self.train_seconds, 4),
                "samples_per_second": (
                    self.epoch * len(d.y["train"]) / self.train_seconds
                    if self.train_seconds
                    else 0.0
                ),
                "parameters": self.model.num_parameters(),
                "architecture": "-".join(map(str, self.model.config["widths"])),
                "train_samples": int(len(d.y["train"])),
                "val_samples": int(len(d.y["val"])),
                "test_samples": int(len(d.y["test"])),
            }
        )
        return metrics

    # -- checkpoints
    def checkpoint_path(self, out: Path) -> Path:
        return Path(out) / f"checkpoint.{self.cfg.checkpoint_format}"

    def save(self, path: Path, status: str, metrics: dict | None = None) -> Path:
        snap = self._snapshot
        tensors = {f"model.{k}": v for k, v in snap["weights"].items()}
        tensors.update({f"best.{k}": v for k, v in snap["best"]["weights"].items()})
        opt_state = dict(snap["optimizer"])
        slots = opt_state.pop("slots")
        for slot, arrays in slots.items():
            for i, a in enumerate(arrays):
                tensors[f"optimizer.{slot}.{i}"] = a
        meta = {
            "memograd_version": __version__,
            "status": status,
            "epoch": snap["epoch"],
            "config": asdict(self.cfg),
            "architecture": self.model.config,
            "loss": self.loss_name,
            "optimizer": {**opt_state, "slots": {k: len(v) for k, v in slots.items()}},
            "rng": _jsonable_state(snap["rng"]),
            "history": snap["history"],
            "best": {"val_loss": _finite(snap["best"]["val_loss"]), "epoch": snap["best"]["epoch"]},
            "bad_epochs": snap["bad_epochs"],
            "stopped_early": snap["stopped_early"],
            "train_seconds": snap["train_seconds"],
            "preprocessing": self.data.preprocessing(),
            "data_fingerprint": self.data.fingerprint,
            "metrics": metrics,
        }
        return save_checkpoint(path, tensors, meta)

    @classmethod
    def from_checkpoint(cls, ck: Checkpoint, epochs: int | None = None) -> Trainer:
        """Rebuild a trainer exactly as it was when ``ck`` was written (for ``--resume``)."""
        require(ck, "config", "architecture", "optimizer", "rng", "history", "best", "epoch")
        meta = ck.metadata
        done = int(meta["epoch"])
        if epochs is not None and epochs < done:
            raise MemogradValueError(
                f"{ck.path}: the run has already trained {done} epochs; to continue, ask for "
                f"more (--epochs {done + 10}), not {epochs}"
            )
        try:
            cfg = TrainConfig.from_dict(meta["config"])
            if epochs is not None:
                cfg.epochs = int(epochs)
            trainer = cls(cfg)
        except (MemogradError, TypeError, KeyError) as exc:
            raise CheckpointError(
                f"{ck.path}: cannot rebuild the run it describes: {exc}"
            ) from None
        if trainer.data.fingerprint != meta.get("data_fingerprint"):
            raise CheckpointError(
                f"{ck.path}: the data differs from the data this run was trained on "
                "(the CSV file or the dataset changed); start a new run instead"
            )
        if trainer.model.config != meta["architecture"]:
            raise CheckpointError(f"{ck.path}: architecture mismatch: {meta['architecture']}")
        opt_meta = dict(meta["optimizer"])
        counts = opt_meta.pop("slots", {})
        try:
            slots = {
                s: [ck.tensors[f"optimizer.{s}.{i}"] for i in range(n)] for s, n in counts.items()
            }
            trainer.model.load_state_dict(ck.group("model"))
            best_weights = ck.group("best")
            _check_same_shapes(trainer.model.state_dict(), best_weights, ck.path)
            trainer.optimizer.load_state_dict({**opt_meta, "slots": slots})
            trainer.rng.bit_generator.state = _state_from_json(meta["rng"])
        except CheckpointError:
            raise
        except (MemogradError, KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(
                f"{ck.path}: checkpoint does not match the model: {exc}"
            ) from None
        trainer.epoch = int(meta["epoch"])
        trainer.history = list(meta["history"])
        best_loss = meta["best"]["val_loss"]
        trainer.best = {
            "val_loss": math.inf if best_loss is None else float(best_loss),
            "epoch": int(meta["best"]["epoch"]),
            "weights": best_weights,
        }
        trainer.bad_epochs = int(meta.get("bad_epochs", 0))
        trainer.stopped_early = bool(meta.get("stopped_early", False))
        if epochs is not None and epochs > done and trainer.stopped_early:
            # asked for more epochs after an early stop: give patience a fresh start
            trainer.stopped_early, trainer.bad_epochs = False, 0
        trainer.train_seconds = float(meta.get("train_seconds", 0.0))
        trainer._snapshot = trainer._capture()
        return trainer


def _check_same_shapes(model_state: dict, other: dict, path) -> None:
    if set(model_state) != set(other) or any(model_state[k].shape != other[k].shape for k in other):
        raise CheckpointError(f"{path}: the best weights do not match the model's parameters")


def _finite(x: float):
    return x if math.isfinite(x) else None


def _jsonable_state(state: dict) -> dict:
    """A numpy bit-generator state with arrays as lists (JSON-ready)."""

    def conv(v):
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, np.ndarray):
            return {"__array__": v.tolist(), "dtype": str(v.dtype)}
        if isinstance(v, np.integer):
            return int(v)
        return v

    return conv(state)


def _state_from_json(state: dict) -> dict:
    def conv(v):
        if isinstance(v, dict):
            if "__array__" in v:
                return np.asarray(v["__array__"], dtype=v["dtype"])
            return {k: conv(x) for k, x in v.items()}
        return v

    return conv(state)


def fit(
    cfg: TrainConfig,
    out: str | Path | None = None,
    *,
    reporter: Reporter | None = None,
    resume: bool = False,
    epochs: int | None = None,
    on_start: Callable[[Trainer], None] | None = None,
    interrupt_out: str | Path | None = None,
) -> TrainResult:
    """Train a model as ``cfg`` says; with ``out`` write the run folder's checkpoint.

    ``resume=True`` continues the run saved in ``out`` (``cfg`` is then ignored; ``epochs`` may
    extend it). ``interrupt_out``: where Ctrl-C writes its checkpoint when ``out`` is None."""
    out = Path(out) if out is not None else None
    if resume:
        if out is None:
            raise MemogradValueError("resume needs the run folder")
        trainer = Trainer.from_checkpoint(load_checkpoint(checkpoint_file(out)), epochs=epochs)
    else:
        trainer = Trainer(cfg)
    if on_start is not None:
        on_start(trainer)
    return trainer.run(reporter, out, Path(interrupt_out) if interrupt_out else None)


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


# ----------------------------------------------------------------------------- the run folder

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


def write_run_files(result: TrainResult, out: str | Path, plots: bool = True) -> dict[str, str]:
    """metrics.csv, metrics.json and the pictures (curves, confusion matrix, decision boundary;
    pictures need matplotlib, the ``plot`` extra). Returns {what: path} of the files written."""
    import csv
    import io
    import json

    from memograd._io import atomic_write_text

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
    if not plots:
        return written
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        return written
    written["curves"] = str(plot_curves(result, out / "curves.png"))
    d = result.data
    if d.is_classification and len(d.y["test"]):
        written["confusion"] = str(plot_confusion(result, out / "confusion.png"))
    if d.X["train"].shape[1] == 2:
        written["boundary"] = str(plot_boundary(result, out / "boundary.png"))
    return written


def _save_png(fig, path: Path) -> Path:
    import io

    from memograd._io import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def plot_curves(result: TrainResult, path: Path) -> Path:
    """Loss (left) and accuracy or R² (right) per epoch, training and validation."""
    import matplotlib.pyplot as plt

    h = result.history
    epochs = [r["epoch"] for r in h]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    axes[0].plot(epochs, [r["train_loss"] for r in h], label="train")
    if any("val_loss" in r for r in h):
        axes[0].plot(epochs, [r.get("val_loss", np.nan) for r in h], label="validation")
    axes[0].set(xlabel="epoch", ylabel=f"loss ({result.metrics['loss_function']})", title="Loss")
    axes[0].set_yscale("log")
    if result.data.is_classification:
        axes[1].plot(epochs, [r.get("train_accuracy", np.nan) for r in h], label="train")
        axes[1].plot(epochs, [r.get("val_accuracy", np.nan) for r in h], label="validation")
        axes[1].set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    else:
        axes[1].plot(epochs, [r.get("val_r2", np.nan) for r in h], label="validation")
        axes[1].set(xlabel="epoch", ylabel="R²", title="R²")
    best = result.metrics.get("best_epoch")
    for ax in axes:
        if best:
            ax.axvline(best, color="grey", linestyle=":", label=f"best epoch {best}")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"{result.data.dataset.name}: {result.metrics['architecture']} MLP")
    return _save_png(fig, path)


def plot_confusion(result: TrainResult, path: Path) -> Path:
    import matplotlib.pyplot as plt

    d = result.data
    pred = predicted_classes(predict_scores(result.model, d.X["test"]))
    k = d.dataset.n_classes
    m = confusion_matrix(d.y["test"], pred, k)
    fig, ax = plt.subplots(figsize=(max(4.5, 1.2 + 0.5 * k), max(4.0, 1 + 0.5 * k)))
    ax.imshow(m, cmap="Blues")
    labels = [c[:12] for c in d.dataset.classes]
    slanted = k > 4 or max(map(len, labels)) > 6
    ax.set_xticks(
        range(k), labels, rotation=45 if slanted else 0, ha="right" if slanted else "center"
    )
    ax.set_yticks(range(k), labels)
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                str(m[i, j]),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if m[i, j] > m.max() / 2 else "black",
            )
    ax.set(
        xlabel="predicted",
        ylabel="true",
        title=f"Test confusion matrix (accuracy {result.metrics.get('test_accuracy', 0):.3f})",
    )
    return _save_png(fig, path)


def plot_boundary(result: TrainResult, path: Path) -> Path:
    """The model's decision regions (or regression surface) over the 2-D input plane."""
    import matplotlib.pyplot as plt

    d = result.data
    X = np.concatenate([d.X[s] for s in ("train", "val", "test")])
    raw = d.scaler.inverse(X)
    lo, hi = raw.min(0), raw.max(0)
    pad = 0.1 * (hi - lo)
    gx, gy = np.meshgrid(
        np.linspace(lo[0] - pad[0], hi[0] + pad[0], 200),
        np.linspace(lo[1] - pad[1], hi[1] + pad[1], 200),
    )
    grid = np.stack([gx.ravel(), gy.ravel()], 1)
    scores = predict_scores(result.model, d.scaler.transform(grid).astype(d.X["train"].dtype))
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    test = d.scaler.inverse(d.X["test"])
    if d.is_classification:
        z = predicted_classes(scores).reshape(gx.shape)
        k = d.dataset.n_classes
        ax.contourf(gx, gy, z, levels=np.arange(k + 1) - 0.5, cmap="coolwarm", alpha=0.35)
        points = ax.scatter(
            test[:, 0],
            test[:, 1],
            c=d.y["test"],
            cmap="coolwarm",
            s=12,
            edgecolors="k",
            linewidths=0.3,
            vmin=0,
            vmax=k - 1,
        )
        handles = [
            plt.Line2D([], [], ls="", marker="o", mec="k", mew=0.3, mfc=points.to_rgba(i))
            for i in range(k)
        ]
        ax.legend(handles, [f"class {c}" for c in d.dataset.classes], fontsize=8, loc="best")
        ax.set_title(
            f"Decision boundary, test points (accuracy {result.metrics['test_accuracy']:.3f})"
        )
    else:
        z = d.target_scaler.inverse(scores[:, :1])[:, 0].reshape(gx.shape)
        cs = ax.contourf(gx, gy, z, levels=20, cmap="viridis")
        fig.colorbar(cs, ax=ax, label=d.dataset.target_name)
        truth = d.target_scaler.inverse(d.y["test"][:, None].astype(np.float64))[:, 0]
        ax.scatter(
            test[:, 0], test[:, 1], c=truth, cmap="viridis", norm=cs.norm, s=16, edgecolors="w"
        )
        ax.set_title(
            "Predicted surface; test points in their true colour "
            f"(R² {result.metrics['test_r2']:.3f})",
            fontsize=10,
        )
    names = d.dataset.feature_names
    ax.set(xlabel=names[0], ylabel=names[1])
    return _save_png(fig, path)
