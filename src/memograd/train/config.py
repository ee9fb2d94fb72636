"""What defines a run: :class:`TrainConfig` (stored in its checkpoint) and its checks."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields
from typing import Any, NoReturn

from memograd.checkpoint import MAX_CHECKPOINT_BYTES, default_format, have_safetensors
from memograd.data.builtin import MAX_GENERATED
from memograd.errors import MemogradValueError
from memograd.nn.losses import LOSSES
from memograd.optim import OPTIMIZERS

DEFAULT_ADAMW_DECAY = 0.2  # chosen on digits/iris/wine/moons/diabetes, seeds 0-4 (see benchmarks)

#: copies of the parameters a run holds at once: weights, gradients, best weights, two optimizer
#: slots (Adam's m and v), and the epoch snapshot of weights and best weights
PARAMETER_COPIES = 7
#: copies a checkpoint holds: weights, best weights, two optimizer slots
CHECKPOINT_COPIES = 4


def parameter_count(widths: list[int]) -> int:
    """Weights and biases of an MLP with these layer widths: Σ (w_i + 1)·w_(i+1)."""
    return sum((a + 1) * b for a, b in zip(widths, widths[1:]))


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def check_model_size(widths: list[int], dtype: str, what: str = "the network") -> None:
    """Refuse, before allocating anything, a network whose training state would not fit in half
    the machine's memory, or whose checkpoint would pass ``MAX_CHECKPOINT_BYTES``; the message
    gives the predicted bytes."""
    params = parameter_count(widths)
    itemsize = 8 if dtype == "float64" else 4
    need = params * itemsize * PARAMETER_COPIES
    memory = _memory_bytes()
    checkpoint = params * itemsize * CHECKPOINT_COPIES
    shape = ("-" if what == "the network" else ",").join(map(str, widths))
    if memory is not None and need > memory // 2:
        raise MemogradValueError(
            f"{what} {shape}: {params:,} parameters; training needs about {_bytes(need)} "
            f"({PARAMETER_COPIES} copies of {itemsize}-byte numbers: weights, gradients, best "
            f"weights, optimizer state, snapshot) and this machine has {_bytes(memory)}; "
            "choose smaller hidden widths"
        )
    if checkpoint > MAX_CHECKPOINT_BYTES:
        raise MemogradValueError(
            f"{what} {shape}: {params:,} parameters; its checkpoint would take about "
            f"{_bytes(checkpoint)}, more than the {_bytes(MAX_CHECKPOINT_BYTES)} memograd writes "
            "and reads; choose smaller hidden widths"
        )


def _bytes(n: int) -> str:
    for unit, size in (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,} bytes"


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
    memory_budget: float | None = None  # MiB for activations: checkpointed segments that fit
    # "safetensors" (when that package is installed) or "npz"
    checkpoint_format: str = field(default_factory=default_format)
    score_train: bool = True  # record the training split's accuracy after every epoch
    val: float = 0.1
    test: float = 0.2
    seed: int = 0
    dtype: str = "float32"
    # SHA-256 of the CSV file's bytes, recorded when training starts: eval and --resume refuse a
    # changed file before parsing it (a checkpoint never makes memograd read an arbitrary file)
    csv_sha256: str | None = None

    def validate(self) -> None:
        def bad(msg: str) -> NoReturn:
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
        if self.memory_budget is not None and not (
            isinstance(self.memory_budget, int | float) and self.memory_budget > 0
        ):
            bad(f"memory budget must be a positive number of MiB, got {self.memory_budget}")
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
        if not 0 <= self.seed < 2**63:
            bad(f"seed must be an integer from 0 to 2**63 - 1, got {self.seed}")
        if self.n_samples is not None and not 8 <= self.n_samples <= MAX_GENERATED:
            bad(
                f"samples must be from 8 to {MAX_GENERATED:,} (a generated dataset larger than "
                f"that trains for hours), got {self.n_samples:,}"
            )
        if self.noise is not None and not (self.noise >= 0 and math.isfinite(self.noise)):
            bad(f"noise must be a finite number >= 0, got {self.noise}")
        # the weights between hidden layers alone (the data brings inputs and outputs; the whole
        # network is checked again then)
        check_model_size(self.hidden, self.dtype, "hidden widths")

    def resolved_weight_decay(self) -> float:
        if self.weight_decay is not None:
            return float(self.weight_decay)
        return DEFAULT_ADAMW_DECAY if self.optimizer.lower() == "adamw" else 0.0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})
