"""The training loop: :class:`Trainer` and :func:`fit`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from memograd.checkpoint import Checkpoint, load_checkpoint, require, save_checkpoint
from memograd.data import CLASSIFICATION
from memograd.errors import CheckpointError, MemogradError, MemogradValueError, NonFiniteError
from memograd.nn import MLP, Module
from memograd.nn.losses import LOSSES
from memograd.optim import Optimizer, make_optimizer, make_schedule
from memograd.tensor.tensor import Tensor
from memograd.train.config import TrainConfig, check_model_size
from memograd.train.metrics import evaluate, predict_scores, predicted_classes
from memograd.train.prepare import PreparedData, prepare_data
from memograd.train.run_folder import checkpoint_file, settle_run_folder, tidy_run_folder
from memograd.train.schema import check_run


class TrainingInterrupted(MemogradError, KeyboardInterrupt):
    """Ctrl-C stopped training at a clean point; the checkpoint (if any) is written."""

    def __init__(self, message: str, result: TrainResult | None = None):
        super().__init__(message)
        self.result = result


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
    model = _mlp(cfg, n_in, n_out)
    if cfg.memory_budget is not None:  # checkpointed segments that fit (nn.checkpoint.plan)
        model.memory_budget = int(cfg.memory_budget * 2**20)
    return model


def _mlp(cfg: TrainConfig, n_in: int, n_out: int) -> MLP:
    return MLP(
        [n_in, *cfg.hidden, n_out],
        activation=cfg.activation,
        dropout=cfg.dropout,
        init=cfg.init,
        bias_init=cfg.bias_init,
        rng=np.random.default_rng([cfg.seed, 1]),
        dtype=cfg.dtype,
    )


class Reporter:
    """What the loop tells the outside world; the default says nothing."""

    def start(self, cfg: TrainConfig, data: PreparedData, model: Module, first_epoch: int) -> None:
        pass

    def epoch_start(self, epoch: int, epochs: int, steps: int) -> None:
        pass

    def batch(self, step: int, loss: float, accuracy: float | None, samples_per_s: float) -> None:
        pass

    def epoch_end(self, record: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class TrainResult:
    model: MLP
    history: list[dict[str, Any]]
    metrics: dict[str, Any]
    config: TrainConfig
    data: PreparedData
    out: Path | None
    status: str


class Trainer:
    """Holds one run's state; :func:`fit` is the usual entry point."""

    # the compiled step runs the optimizer's update itself (``compile_step(..., optimizer=)``:
    # the gradients land in one flat buffer, updated in one pass); False: ``optimizer.step()``
    # after the step, as the eager loop does (the same bits: tests compare the two)
    update_in_step: bool = True

    def __init__(self, cfg: TrainConfig, data: PreparedData | None = None):
        cfg.validate()
        self.data = data if data is not None else prepare_data(cfg)
        if cfg.csv is not None and cfg.csv_sha256 is None and self.data.dataset.sha256:
            cfg = replace(cfg, csv_sha256=self.data.dataset.sha256)  # eval and resume check it
        self.cfg = cfg
        self.loss_name = cfg.loss or default_loss(self.data.task)
        if self.loss_name != "mse" and not self.data.is_classification:
            raise MemogradValueError(
                f"loss {self.loss_name} needs class labels; this is a regression"
            )
        if self.loss_name in ("mse",) and self.data.is_classification:
            raise MemogradValueError("loss mse needs real-valued targets; use cross_entropy")
        self.loss_fn = LOSSES[self.loss_name]
        n_in = self.data.X["train"].shape[1]
        n_out = output_width(self.data, self.loss_name)
        check_model_size([n_in, *cfg.hidden, n_out], cfg.dtype)
        self.model = build_model(cfg, n_in, n_out)
        self.fresh = True  # a new run: its first checkpoint replaces any other run in the folder
        self.rng = np.random.default_rng([cfg.seed, 2])
        self.model.set_rng(self.rng)
        self.steps_per_epoch = -(-len(self.data.y["train"]) // cfg.batch_size)
        total = self.steps_per_epoch * cfg.epochs
        schedule = make_schedule(cfg.schedule, total, cfg.warmup * self.steps_per_epoch)
        kwargs: dict[str, Any] = {
            "weight_decay": cfg.resolved_weight_decay(),
            "schedule": schedule,
            "clip_norm": cfg.clip,
        }
        if cfg.optimizer.lower() in ("sgd", "rmsprop"):
            kwargs["momentum"] = cfg.momentum
        if cfg.optimizer.lower() == "sgd":
            kwargs["nesterov"] = cfg.nesterov
        self._step: Any = None  # the compiled step, made on first use
        self.optimizer: Optimizer = make_optimizer(
            cfg.optimizer, self.model.parameters(), cfg.lr, **kwargs
        )
        self.epoch = 0
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] = {
            "val_loss": math.inf,
            "epoch": 0,
            "weights": self.model.state_dict(),
        }
        self.bad_epochs = 0
        self.stopped_early = False
        self.train_seconds = 0.0
        self._snapshot = self._capture()

    # -- state
    def _capture(self) -> dict[str, Any]:
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

    def _restore(self, snap: dict[str, Any]) -> None:
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
            budgeted = self.cfg.memory_budget is not None  # checkpointing runs eagerly
            if not has_dropout and not budgeted and self.loss_name != "hinge":
                from memograd.tensor.compile import compile_step

                model, loss_fn = self.model, self.loss_fn
                self._step = compile_step(
                    lambda x, t: loss_fn(model(x), t),
                    model.parameters(),
                    optimizer=self.optimizer if self.update_in_step else None,
                )
        return self._step is not None

    def train_epoch(self, reporter: Reporter) -> dict[str, Any]:
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
            if compiled:  # forward + memoized backward (+ the update) replayed as recorded NumPy
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
            if not (compiled and self.update_in_step):
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

    def final_metrics(self) -> dict[str, Any]:
        d = self.data
        metrics: dict[str, Any] = {
            "dataset": d.dataset.name,
            "task": d.task,
            "loss_function": self.loss_name,
        }
        for split in ("train", "val", "test"):
            scores = evaluate(self.model, d.X[split], d.y[split], self.loss_name, d.task)
            metrics.update({f"{split}_{k}": v for k, v in scores.items()})
        if not d.is_classification and len(d.X["test"]):
            assert d.target_scaler is not None  # regression targets are standardized
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

    def save(self, path: Path, status: str, metrics: dict[str, Any] | None = None) -> Path:
        snap = self._snapshot
        tensors = {f"model.{k}": v for k, v in snap["weights"].items()}
        tensors.update({f"best.{k}": v for k, v in snap["best"]["weights"].items()})
        opt_state = dict(snap["optimizer"])
        slots = opt_state.pop("slots")
        for slot, arrays in slots.items():
            for i, a in enumerate(arrays):
                tensors[f"optimizer.{slot}.{i}"] = a
        meta = {
            "memograd_version": _version(),
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
        written = save_checkpoint(path, tensors, meta)
        settle_run_folder(written, replaced=self.fresh)
        self.fresh = False
        return written

    @classmethod
    def from_checkpoint(cls, ck: Checkpoint, epochs: int | None = None) -> Trainer:
        """Rebuild a trainer exactly as it was when ``ck`` was written (for ``--resume``)."""
        require(ck, "config", "architecture", "optimizer", "rng", "history", "best", "epoch")
        check_run(ck, resume=True)
        meta = ck.metadata
        done = int(meta["epoch"])
        configured = int(meta["config"]["epochs"])
        if epochs is not None and epochs < done:
            raise MemogradValueError(
                f"{ck.path}: the run has already trained {done} epochs; to continue, ask for "
                f"more (--epochs {done + 10}), not {epochs}"
            )
        try:
            cfg = TrainConfig.from_dict(meta["config"])
            finished_early = bool(meta.get("stopped_early")) and (epochs or 0) <= configured
            if epochs is not None and not finished_early:
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
        if epochs is not None and epochs > configured and trainer.stopped_early:
            # asked for more epochs than the run was configured for, after an early stop: give
            # patience a fresh start (an early stop within the configured epochs is the run's end)
            trainer.stopped_early, trainer.bad_epochs = False, 0
        trainer.fresh = False
        trainer.train_seconds = float(meta.get("train_seconds", 0.0))
        trainer._snapshot = trainer._capture()
        return trainer


def _version() -> str:
    """memograd's version as installed (read from the package metadata: the package root, which
    defines ``__version__``, is a layer above the library)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("memograd")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree never installed
        return "unknown"


def _check_same_shapes(model_state: dict[str, Any], other: dict[str, Any], path: Any) -> None:
    if set(model_state) != set(other) or any(model_state[k].shape != other[k].shape for k in other):
        raise CheckpointError(f"{path}: the best weights do not match the model's parameters")


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _jsonable_state(state: dict[str, Any]) -> dict[str, Any]:
    """A numpy bit-generator state with arrays as lists (JSON-ready)."""

    def conv(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, np.ndarray):
            return {"__array__": v.tolist(), "dtype": str(v.dtype)}
        if isinstance(v, np.integer):
            return int(v)
        return v

    result: dict[str, Any] = conv(state)
    return result


def _state_from_json(state: dict[str, Any]) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        if isinstance(v, dict):
            if "__array__" in v:
                return np.asarray(v["__array__"], dtype=v["dtype"])
            return {k: conv(x) for k, x in v.items()}
        return v

    result: dict[str, Any] = conv(state)
    return result


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
    if out is not None:
        tidy_run_folder(out)  # temporaries of a killed write; a checkpoint a killed --force left
    if resume:
        if out is None:
            raise MemogradValueError("resume needs the run folder")
        trainer = Trainer.from_checkpoint(load_checkpoint(checkpoint_file(out)), epochs=epochs)
    else:
        trainer = Trainer(cfg)
    if on_start is not None:
        on_start(trainer)
    return trainer.run(reporter, out, Path(interrupt_out) if interrupt_out else None)
