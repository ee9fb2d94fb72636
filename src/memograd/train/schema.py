"""The schema of a training run's checkpoint metadata, checked before any field is used.

A checkpoint's SHA-256 only proves that its bytes are intact, not that a friend wrote them (anyone
can recompute it). So every field a reader uses is checked here first: types, ranges, and
consistency with the stored tensors (widths against the weights' shapes, classes against the
output width, statistics against the inputs). A field that fails raises CheckpointError naming
the file and the field; nothing is allocated from an unchecked number, and no file named inside a
checkpoint is opened on its word alone (a CSV is read only when its recorded SHA-256 matches).
"""

from __future__ import annotations

import math
from typing import Any, NoReturn

from memograd.checkpoint import Checkpoint
from memograd.data.builtin import DATASETS, MAX_GENERATED
from memograd.errors import CheckpointError
from memograd.nn.layers import ACTIVATIONS
from memograd.nn.losses import LOSSES
from memograd.train.config import TrainConfig, parameter_count

STATUSES = ("running", "interrupted", "finished")
TASKS = ("classification", "regression")
DTYPES = ("float32", "float64")
MAX_WIDTH = 1 << 24  # per layer; real limits come from the stored tensors
MAX_LAYERS = 1000
MAX_NAME = 10_000  # characters of a feature, class or target name

# TrainConfig fields by the type they must hold (None allowed where the default is None)
_CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    "dataset": (str,),
    "csv": (str,),
    "target": (str, int),
    "task": (str,),
    "n_samples": (int,),
    "noise": (int, float),
    "activation": (str,),
    "dropout": (int, float),
    "init": (str,),
    "bias_init": (str,),
    "loss": (str,),
    "optimizer": (str,),
    "lr": (int, float),
    "momentum": (int, float),
    "nesterov": (bool,),
    "weight_decay": (int, float),
    "schedule": (str,),
    "warmup": (int,),
    "clip": (int, float),
    "epochs": (int,),
    "batch_size": (int,),
    "patience": (int,),
    "restore_best": (bool,),
    "compile": (bool,),
    "checkpoint_format": (str,),
    "score_train": (bool,),
    "val": (int, float),
    "test": (int, float),
    "seed": (int,),
    "dtype": (str,),
    "csv_sha256": (str,),
}
_NULLABLE = {
    "dataset", "csv", "target", "task", "n_samples", "noise", "init", "loss", "weight_decay",
    "clip", "patience", "csv_sha256",
}  # fmt: skip


class _Checker:
    def __init__(self, ck: Checkpoint) -> None:
        self.ck = ck

    def fail(self, field: str, problem: str) -> NoReturn:
        raise CheckpointError(
            f"{self.ck.path}: checkpoint metadata field {field!r} {problem}; the file was not "
            "written by memograd as it is (edited, or from another program): use the run's own "
            "checkpoint or train again"
        )

    def get(
        self, d: Any, key: str, where: str, kinds: tuple[type, ...], nullable: bool = False
    ) -> Any:  # a JSON value of one of ``kinds``
        if not isinstance(d, dict):
            self.fail(where, "is not an object")
        if key not in d:
            self.fail(f"{where}.{key}" if where else key, "is missing")
        return self.value(d[key], f"{where}.{key}" if where else key, kinds, nullable)

    def value(
        self, v: Any, field: str, kinds: tuple[type, ...], nullable: bool = False
    ) -> Any:  # ``v``, checked
        if v is None and nullable:
            return v
        if isinstance(v, bool) and bool not in kinds:
            self.fail(field, f"is {v!r}, expected {_kinds(kinds)}")
        if not isinstance(v, kinds):
            self.fail(field, f"is {_short(v)}, expected {_kinds(kinds)}")
        if isinstance(v, float) and not math.isfinite(v):
            self.fail(field, f"is {v}, expected a finite number")
        if isinstance(v, str) and len(v) > MAX_NAME:
            self.fail(field, f"is a string of {len(v):,} characters")
        return v

    def names(self, v: Any, field: str, count: int | None = None) -> list[str]:
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            self.fail(field, "is not a list of strings")
        if count is not None and len(v) != count:
            self.fail(field, f"has {len(v)} entries, the network needs {count}")
        for x in v:
            self.value(x, field, (str,))
        names: list[str] = v
        return names

    def numbers(self, v: Any, field: str, count: int, positive: bool = False) -> None:
        if not isinstance(v, list) or len(v) != count:
            self.fail(field, f"is not a list of {count} numbers")
        for x in v:
            self.value(x, field, (int, float))
            if positive and not x > 0:
                self.fail(field, f"holds {x}, expected numbers > 0")


def _kinds(kinds: tuple[type, ...]) -> str:
    names = {bool: "true/false", int: "an integer", float: "a number", str: "a string"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def check_architecture(ck: Checkpoint) -> dict[str, Any]:
    """``architecture``: an MLP whose widths match the stored ``model.*`` tensors exactly."""
    c = _Checker(ck)
    arch = ck.metadata.get("architecture")
    if not isinstance(arch, dict):
        c.fail("architecture", "is missing or not an object")
    if arch.get("type") != "MLP":
        c.fail("architecture.type", f"is {_short(arch.get('type'))}, expected 'MLP'")
    widths = c.get(arch, "widths", "architecture", (list,))
    if not 2 <= len(widths) <= MAX_LAYERS:
        c.fail("architecture.widths", f"has {len(widths)} layers")
    for w in widths:
        c.value(w, "architecture.widths", (int,))
        if not 1 <= w <= MAX_WIDTH:
            c.fail("architecture.widths", f"holds width {w}")
    activation = c.get(arch, "activation", "architecture", (str,))
    if activation not in ACTIVATIONS:
        c.fail("architecture.activation", f"is {_short(activation)}")
    dropout = c.get(arch, "dropout", "architecture", (int, float))
    if not 0 <= dropout < 1:
        c.fail("architecture.dropout", f"is {dropout}, expected 0 <= dropout < 1")
    c.get(arch, "init", "architecture", (str,), nullable=True)
    if c.get(arch, "bias_init", "architecture", (str,)) not in ("zeros", "uniform"):
        c.fail("architecture.bias_init", "is not 'zeros' or 'uniform'")
    dtype = c.get(arch, "dtype", "architecture", (str,))
    if dtype not in DTYPES:
        c.fail("architecture.dtype", f"is {_short(dtype)}")
    model = ck.group("model")
    stored = sum(int(a.size) for a in model.values())
    if stored != parameter_count(widths):
        c.fail(
            "architecture.widths",
            f"describes {parameter_count(widths):,} parameters but the checkpoint stores "
            f"{stored:,} model numbers",
        )
    if any(str(a.dtype) != dtype for a in model.values()):
        c.fail("architecture.dtype", f"is {dtype} but the stored weights are not")
    return arch


def check_preprocessing(ck: Checkpoint, arch: dict[str, Any]) -> dict[str, Any]:
    """``preprocessing``: task, names and statistics consistent with the network's widths."""
    c = _Checker(ck)
    pre = ck.metadata.get("preprocessing")
    if not isinstance(pre, dict):
        c.fail("preprocessing", "is missing or not an object")
    n_in, n_out = arch["widths"][0], arch["widths"][-1]
    task = c.get(pre, "task", "preprocessing", (str,))
    if task not in TASKS:
        c.fail("preprocessing.task", f"is {_short(task)}, expected classification or regression")
    c.names(pre.get("feature_names"), "preprocessing.feature_names", n_in)
    c.get(pre, "target_name", "preprocessing", (str,), nullable=True)
    c.get(pre, "dataset", "preprocessing", (str,), nullable=True)
    std = c.get(pre, "standardizer", "preprocessing", (dict,))
    c.numbers(std.get("mean"), "preprocessing.standardizer.mean", n_in)
    c.numbers(std.get("scale"), "preprocessing.standardizer.scale", n_in, positive=True)
    classes = c.names(pre.get("classes"), "preprocessing.classes")
    if task == "classification":
        if len(classes) < 2 or len(set(classes)) != len(classes):
            c.fail("preprocessing.classes", "must hold 2 or more distinct class names")
        if n_out != len(classes) and not (n_out == 1 and len(classes) == 2):
            c.fail(
                "preprocessing.classes",
                f"has {len(classes)} classes but the network has {n_out} outputs",
            )
    else:
        if classes:
            c.fail("preprocessing.classes", "must be empty for a regression")
        if n_out != 1:
            c.fail("architecture.widths", f"ends in {n_out} outputs; a regression has 1")
        ts = c.get(pre, "target_standardizer", "preprocessing", (dict,))
        c.numbers(ts.get("mean"), "preprocessing.target_standardizer.mean", 1)
        c.numbers(ts.get("scale"), "preprocessing.target_standardizer.scale", 1, positive=True)
    return pre


def check_config(ck: Checkpoint) -> TrainConfig:
    """``config``: every TrainConfig field of the right type and range (TrainConfig.validate)."""
    c = _Checker(ck)
    raw = ck.metadata.get("config")
    if not isinstance(raw, dict):
        c.fail("config", "is missing or not an object")
    for name, kinds in _CONFIG_TYPES.items():
        if name in raw:
            c.value(raw[name], f"config.{name}", kinds, nullable=name in _NULLABLE)
    hidden = c.get(raw, "hidden", "config", (list,))
    if len(hidden) > MAX_LAYERS:
        c.fail("config.hidden", f"has {len(hidden)} layers")
    for w in hidden:
        c.value(w, "config.hidden", (int,))
        if not 1 <= w <= MAX_WIDTH:
            c.fail("config.hidden", f"holds width {w}")
    if raw.get("dataset") is not None and raw["dataset"] not in (*DATASETS, "notes"):
        c.fail("config.dataset", f"is {_short(raw['dataset'])}, not a built-in dataset")
    n = raw.get("n_samples")
    if n is not None and not 8 <= n <= MAX_GENERATED:
        c.fail("config.n_samples", f"is {n}, expected 8 to {MAX_GENERATED:,}")
    sha = raw.get("csv_sha256")
    if sha is not None and (len(sha) != 64 or any(ch not in "0123456789abcdef" for ch in sha)):
        c.fail("config.csv_sha256", "is not a SHA-256 in hex")
    try:
        cfg = TrainConfig.from_dict(raw)
        cfg.validate()
    except (ValueError, TypeError) as exc:
        c.fail("config", f"does not describe a valid run ({exc})")
    return cfg


def check_run(ck: Checkpoint, resume: bool = False) -> None:
    """Everything :func:`memograd.train.load_run` (and, with ``resume``, ``--resume``) reads."""
    c = _Checker(ck)
    meta = ck.metadata
    status = c.get(meta, "status", "", (str,))
    if status not in STATUSES:
        c.fail("status", f"is {_short(status)}, expected one of {', '.join(STATUSES)}")
    arch = check_architecture(ck)
    check_preprocessing(ck, arch)
    cfg = check_config(ck) if "config" in meta or resume else None
    best = c.get(meta, "best", "", (dict,)) if "best" in meta or resume else None
    if best is not None:
        c.get(best, "val_loss", "best", (int, float), nullable=True)
        c.get(best, "epoch", "best", (int,))
    if c.get(meta, "loss", "", (str,), nullable=not resume) not in (*LOSSES, None):
        c.fail("loss", f"is {_short(meta['loss'])}, expected one of {', '.join(LOSSES)}")
    if not resume:
        return
    assert cfg is not None and best is not None
    epoch = c.get(meta, "epoch", "", (int,))
    if not 0 <= epoch <= cfg.epochs:
        c.fail("epoch", f"is {epoch}, expected 0 to the run's {cfg.epochs} epochs")
    if not 0 <= best["epoch"] <= epoch:
        c.fail("best.epoch", f"is {best['epoch']}, expected 0 to {epoch}")
    history = c.get(meta, "history", "", (list,))
    if len(history) != epoch or not all(isinstance(r, dict) for r in history):
        c.fail("history", f"does not hold one record per epoch done ({epoch})")
    c.get(meta, "bad_epochs", "", (int,))
    c.get(meta, "stopped_early", "", (bool,))
    c.get(meta, "train_seconds", "", (int, float))
    c.get(meta, "rng", "", (dict,))
    c.get(meta, "data_fingerprint", "", (str,))
    opt = c.get(meta, "optimizer", "", (dict,))
    slots = c.get(opt, "slots", "optimizer", (dict,))
    n_params = len(ck.group("model"))
    for name, count in slots.items():
        c.value(count, f"optimizer.slots.{name}", (int,))
        if count != n_params:
            c.fail(f"optimizer.slots.{name}", f"is {count}, the model has {n_params} tensors")
