"""The network behind the estimators: a memograd MLP, its loss, an optimizer and the epoch loop.

No scikit-learn here: this is ``memograd train``'s machinery (``nn.MLP``, ``optim``, the
engine's ``compile_step``) arranged for scikit-learn's conventions:

* the loss of a batch of m rows is scikit-learn's: the data loss plus the L2 penalty
  (α / 2m)·Σ‖W‖² over the weight matrices (not the biases); for regression the data loss is
  ½·mean((y - ŷ)²), scikit-learn's ``squared_error``;
* one epoch = one (optionally shuffled) pass in mini-batches; each batch runs the forward and
  the memoized backward (replayed by ``compile_step`` when the network allows) and one update.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from memograd.errors import MemogradValueError, NonFiniteError
from memograd.nn import MLP, Dropout
from memograd.nn.losses import LOSSES, Loss
from memograd.optim import make_optimizer
from memograd.tensor.tensor import Tensor, no_grad

if TYPE_CHECKING:
    from memograd.tensor.compile import CompiledStep

# sklearn's activation names and memograd's own
ACTIVATION_NAMES = {"logistic": "sigmoid", "relu": "relu", "tanh": "tanh", "identity": "identity"}
SOLVERS = ("adam", "sgd", "adamw", "rmsprop")


def _half_mse(pred: Any, target: Any) -> Tensor:
    """scikit-learn's squared_error: ½·mean((y - ŷ)²)."""
    return LOSSES["mse"](pred, target) * 0.5


DATA_LOSSES: dict[str, Loss] = {**LOSSES, "half_mse": _half_mse}
LABEL_LOSSES = ("cross_entropy", "hinge")  # targets are class indices


class Network:
    """A memograd MLP with its loss and optimizer, trained one epoch at a time."""

    def __init__(self, model: MLP, loss: str, alpha: float, optimizer_args: dict[str, Any]) -> None:
        if loss not in DATA_LOSSES:
            raise MemogradValueError(f"unknown loss {loss!r}; choose one of {list(DATA_LOSSES)}")
        self.model = model
        self.loss = loss
        self.alpha = float(alpha)
        self.optimizer_args = dict(optimizer_args)
        self.reset_optimizer()
        self._step: CompiledStep | None = (
            None  # compiled forward + backward, made on the first batch
        )

    def reset_optimizer(self) -> None:
        """A fresh optimizer (no moments, t = 0) over the model's parameters."""
        args = dict(self.optimizer_args)
        self.optimizer = make_optimizer(
            args.pop("name"), self.model.parameters(), args.pop("lr"), **args
        )

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.model.parameters()[0].data.dtype

    @property
    def weights(self) -> list[Tensor]:
        return [layer.weight for layer in self.model.linears()]

    # -- the loss of a batch
    def batch_loss(self, x: Tensor | NDArray[Any], t: Tensor | NDArray[Any]) -> Tensor:
        """The data loss of a batch (traced by compile_step, differentiated by graph.backward)."""
        return DATA_LOSSES[self.loss](self.model(x), t)

    def _penalty(self, m: int) -> float:
        """The L2 term (α / 2m)·Σ‖W‖²: adds its gradient (α/m)·W to each weight's gradient and
        returns its value. (Written out in NumPy: through the graph it cost 5 ufunc calls per
        weight matrix and step, 17% of a digits step.)"""
        c = self.alpha / m
        total = 0.0
        for w in self.weights:
            total += float(np.vdot(w.data, w.data))
            g = w.grad.data
            g += c * w.data
        return 0.5 * c * total

    def compilable(self) -> bool:
        """compile_step replays a fixed recording: not with dropout's random masks, nor with the
        hinge loss (it builds a one-hot mask in NumPy)."""
        has_dropout = any(isinstance(m, Dropout) for m in self.model.modules())
        return not has_dropout and self.loss != "hinge"

    def _run_step(self, xb: NDArray[Any], tb: NDArray[Any]) -> float:
        """Forward and backward of one batch: every p.grad holds ∂loss/∂p; returns the loss."""
        if self._step is None and self.compilable():
            from memograd.tensor.compile import compile_step

            self._step = compile_step(self.batch_loss, self.model.parameters())
        if self._step is not None:
            value = self._step(xb, tb)
        else:
            loss = self.batch_loss(Tensor(xb), tb)
            self.optimizer.zero_grad()
            loss.backward()
            value = float(loss.data)
        return value + self._penalty(len(xb)) if self.alpha else value

    def targets(self, y: NDArray[Any]) -> NDArray[Any]:
        """y as the loss wants it: class indices (int64) or a float column block (n, k)."""
        if self.loss in LABEL_LOSSES:
            return np.ascontiguousarray(y, dtype=np.int64)
        y = np.asarray(y, dtype=self.dtype)
        return np.ascontiguousarray(y.reshape(len(y), -1))

    def epoch(
        self,
        X: NDArray[Any],
        T: NDArray[Any],
        batch_size: int,
        rng: np.random.Generator,
        shuffle: bool,
        epoch: int,
    ) -> float:
        """One pass over (X, T) in mini-batches; returns the mean batch loss per sample."""
        n = len(X)
        order = rng.permutation(n) if shuffle else None
        self.model.train()
        total = 0.0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for lo in range(0, n, batch_size):
                if order is None:
                    xb, tb = X[lo : lo + batch_size], T[lo : lo + batch_size]
                else:
                    idx = order[lo : lo + batch_size]
                    xb, tb = X.take(idx, axis=0), T.take(idx, axis=0)
                value = self._run_step(xb, tb)
                if not math.isfinite(value):
                    raise NonFiniteError(
                        f"training diverged at epoch {epoch}: the loss is {value}; lower "
                        f"learning_rate_init (now {self.optimizer.lr:g}) or scale the features "
                        "(e.g. StandardScaler in a Pipeline)"
                    )
                self.optimizer.step()
                total += value * len(xb)
        return total / n

    # -- inference
    def scores(self, X: NDArray[Any], chunk: int = 8192) -> NDArray[Any]:
        """The raw outputs (logits or predictions) for every row of X, no graph recorded."""
        model = self.model
        was_training = getattr(model, "training", True)
        model.eval()
        try:
            with no_grad():
                parts = [model(Tensor(X[i : i + chunk])).data for i in range(0, len(X), chunk)]
        finally:
            model.train(was_training)
        if not parts:
            widths: Any = model.config["widths"]
            return np.zeros((0, int(widths[-1])), dtype=self.dtype)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    # -- pickling: arrays and plain data only (the compiled step is rebuilt on demand)
    def __getstate__(self) -> dict[str, Any]:
        return {
            "config": dict(self.model.config),
            "weights": self.model.state_dict(),
            "training": getattr(self.model, "training", True),
            "loss": self.loss,
            "alpha": self.alpha,
            "optimizer_args": self.optimizer_args,
            "optimizer_state": self.optimizer.state_dict(),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        model = MLP.from_config(state["config"])
        model.load_state_dict(state["weights"])
        model.train(state["training"])
        Network.__init__(self, model, state["loss"], state["alpha"], state["optimizer_args"])
        self.optimizer.load_state_dict(state["optimizer_state"])


def optimizer_args(
    solver: str,
    lr: float,
    *,
    alpha: float,
    momentum: float,
    nesterov: bool,
    betas: tuple[float, float],
    eps: float,
) -> dict[str, Any]:
    """make_optimizer's arguments for a solver. AdamW's decoupled decay is α itself (as
    ``memograd train --weight-decay``); the other solvers get α as the L2 term of the loss."""
    args: dict[str, Any] = {"name": solver, "lr": lr}
    if solver == "sgd":
        args.update(momentum=momentum, nesterov=bool(nesterov and momentum > 0))
    elif solver in ("adam", "adamw"):
        args.update(betas=tuple(betas), eps=eps)
        if solver == "adamw":
            args["weight_decay"] = alpha
    elif solver == "rmsprop":
        args.update(momentum=momentum, eps=eps)
    return args


def build_network(
    n_in: int,
    n_out: int,
    hidden: tuple[int, ...],
    activation: str,
    loss: str,
    alpha: float,
    args: dict[str, Any],
    rng: np.random.Generator,
    dtype: DTypeLike,
) -> Network:
    """A fresh network initialised as scikit-learn does (Glorot uniform weights and biases)."""
    model = MLP(
        [n_in, *hidden, n_out],
        activation=activation,
        init="xavier_uniform",
        bias_init="uniform",
        rng=rng,
        dtype=dtype,
    )
    penalty = 0.0 if args["name"] == "adamw" else alpha
    return Network(model, loss, penalty, args)
