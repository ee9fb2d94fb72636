"""What memograd's two estimators share: parameters and their checks, validation, the training
loop (fit, partial_fit, warm start, early stopping, scikit-learn's stopping rule), the fitted
network's attributes. :mod:`memograd.sklearn.estimators` adds the classifier's and the regressor's
targets and predictions; :mod:`memograd.sklearn._runs` loads ``memograd train`` runs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar, cast, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from memograd.errors import MemogradValueError
from memograd.sklearn import _runs
from memograd.sklearn._network import (
    ACTIVATION_NAMES,
    SOLVERS,
    Network,
    build_network,
    optimizer_args,
)

if TYPE_CHECKING:
    import os

    from typing_extensions import Self

    from memograd.nn import MLP, Linear
    from memograd.tensor.tensor import Tensor


def _bias(layer: Linear) -> Tensor:
    """A Linear layer's bias (the estimators' networks always have one)."""
    assert layer.bias is not None
    return layer.bias


_Est = TypeVar("_Est", bound="_BaseMLP")
Array = NDArray[Any]  # float rows (X), targets (T): float64 or float32, int64 class indices


class _BaseMLP(BaseEstimator):  # type: ignore[misc]  # scikit-learn ships no types
    """What MLPClassifier and MLPRegressor share: parameters, the training loop, pickling."""

    _loss_for_run: tuple[str, ...] = ()
    # fitted state (set by fit / partial_fit / from_run)
    _network: Network
    _no_improvement_count: int
    _best_weights: dict[str, Any] | None
    loss_curve_: list[float]
    validation_scores_: list[float] | None
    best_loss_: float | None
    best_validation_score_: float | None
    n_iter_: int
    t_: int
    loss_: float | None
    n_features_in_: int
    run_info_: dict[str, Any]
    _dtype: np.dtype[Any]
    _random: np.random.RandomState  # scikit-learn's check_random_state: split seeds
    _rng: np.random.Generator  # the network's: init, shuffling, dropout

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 1e-4,
        batch_size: int | Literal["auto"] = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 1e-3,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: int | np.random.RandomState | None = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        dtype: str | type[np.floating[Any]] | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dtype = dtype

    # ------------------------------------------------------------------ parameters
    def _bad(self, message: str) -> NoReturn:
        raise MemogradValueError(f"{type(self).__name__}: {message}")

    def _hidden(self) -> tuple[int, ...]:
        h = self.hidden_layer_sizes
        given: Any = (h,) if isinstance(h, Integral) else h  # checked below: anything may come
        try:
            sizes: tuple[Any, ...] = tuple(given)
        except TypeError:
            sizes = (None,)
        if not all(isinstance(s, Integral) and int(s) >= 1 for s in sizes):
            self._bad(f"hidden_layer_sizes must be positive integers, e.g. (100,), got {h!r}")
        return tuple(int(s) for s in sizes)

    def _check_params(self) -> None:
        def number(
            name: str, lo: float, hi: float = math.inf, lo_open: bool = False, integer: bool = False
        ) -> None:
            v: Any = getattr(self, name)
            kind = Integral if integer else Real
            ok = isinstance(v, kind) and not isinstance(v, bool) and lo <= cast(float, v) <= hi
            if ok and lo_open and v == lo:
                ok = False
            if not ok:
                lo_s = f"> {lo}" if lo_open else f">= {lo}"
                hi_s = f" and <= {hi}" if hi != math.inf else ""
                what = "an integer" if integer else "a number"
                self._bad(f"{name} must be {what} {lo_s}{hi_s}, got {v!r}")

        self._hidden()
        if self.activation not in ACTIVATION_NAMES and self.activation not in (
            "sigmoid",
            "leaky_relu",
            "gelu",
        ):
            self._bad(
                f"activation must be one of 'relu', 'tanh', 'logistic', 'identity' (or memograd's "
                f"'leaky_relu', 'gelu'), got {self.activation!r}"
            )
        if self.solver not in SOLVERS:
            extra = " (lbfgs is scikit-learn's own; use its MLPClassifier)" * (
                self.solver == "lbfgs"
            )
            self._bad(f"solver must be one of {', '.join(SOLVERS)}, got {self.solver!r}{extra}")
        number("alpha", 0.0)
        number("learning_rate_init", 0.0, lo_open=True)
        number("power_t", 0.0)
        number("max_iter", 1, integer=True)
        number("tol", 0.0)
        number("momentum", 0.0, 1.0)
        number("validation_fraction", 0.0, 1.0, lo_open=True)
        if self.validation_fraction >= 1:
            self._bad(f"validation_fraction must be < 1, got {self.validation_fraction!r}")
        for beta in ("beta_1", "beta_2"):
            number(beta, 0.0, 1.0)
            if getattr(self, beta) >= 1:
                self._bad(f"{beta} must be in [0, 1), got {getattr(self, beta)!r}")
        number("epsilon", 0.0, lo_open=True)
        number("n_iter_no_change", 1, integer=True)
        if self.learning_rate not in ("constant", "invscaling", "adaptive"):
            self._bad(
                "learning_rate must be 'constant', 'invscaling' or 'adaptive', "
                f"got {self.learning_rate!r}"
            )
        if self.batch_size != "auto":
            number("batch_size", 1, integer=True)
        if self.dtype not in (None, "float32", "float64", np.float32, np.float64):
            self._bad(f"dtype must be None, 'float32' or 'float64', got {self.dtype!r}")

    def _activation(self) -> str:
        return {"logistic": "sigmoid"}.get(self.activation, self.activation)

    def _batch(self, n: int) -> int:
        if self.batch_size == "auto":
            return min(200, n)
        if self.batch_size > n:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the {n} samples; using {n}",
                UserWarning,
                stacklevel=3,
            )
        return min(int(self.batch_size), n)

    # ------------------------------------------------------------------ the subclasses' part
    def _y_check_params(self) -> dict[str, Any]:  # pragma: no cover - abstract
        """validate_data's options for y (multi_output, y_numeric)."""
        raise NotImplementedError

    def _stratify(self) -> bool:  # pragma: no cover - abstract
        """Whether early stopping's validation split keeps the class proportions."""
        raise NotImplementedError

    def _encode(
        self, y: Array, *, first: bool, incremental: bool, classes: ArrayLike | None = None
    ) -> Array:  # pragma: no cover - abstract
        """y as training targets (class indices, or float columns)."""
        raise NotImplementedError

    def _output(self, T: Array) -> tuple[int, str]:  # pragma: no cover - abstract
        """(output width, loss name) for targets T; sets n_outputs_ and out_activation_."""
        raise NotImplementedError

    def _val_score(self, X_val: Array, T_val: Array) -> float:  # pragma: no cover - abstract
        """The early-stopping score (accuracy, R²) on the validation split."""
        raise NotImplementedError

    def _load_run_targets(
        self, pre: dict[str, Any], loss: str
    ) -> None:  # pragma: no cover - abstract
        """The target side of a ``memograd train`` run (classes_, target scaling)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ data
    @overload
    def _validate(self, X: ArrayLike, *, reset: bool) -> Array: ...
    @overload
    def _validate(self, X: ArrayLike, y: ArrayLike, *, reset: bool) -> tuple[Array, Array]: ...
    def _validate(
        self, X: ArrayLike, y: ArrayLike | str = "no_validation", *, reset: bool
    ) -> Array | tuple[Array, Array]:
        """scikit-learn's checks (shapes, NaN/inf, feature count and names) and the cast to the
        training dtype; the standardisation of a loaded memograd run is applied here too."""
        kw: dict[str, Any] = {"accept_sparse": False, "dtype": (np.float64, np.float32)}
        no_y = isinstance(y, str) and y == "no_validation"
        if no_y:
            A = validate_data(self, X, reset=reset, **kw)
        else:
            A, Y = validate_data(self, X, y, reset=reset, **self._y_check_params(), **kw)
        if reset:
            self._dtype = np.dtype(self.dtype or A.dtype)
        if self._x_mean is not None and self._x_scale is not None:  # set together by from_run
            A = (np.asarray(A, dtype=np.float64) - self._x_mean) / self._x_scale
        out: Array = np.ascontiguousarray(A, dtype=self._dtype)
        return out if no_y else (out, Y)

    _x_mean: NDArray[np.float64] | None = None  # a run loaded by from_run: its input scaling
    _x_scale: NDArray[np.float64] | None = None

    # ------------------------------------------------------------------ training
    def _is_fitted(self) -> bool:
        return "_network" in self.__dict__

    def fit(self, X: ArrayLike, y: ArrayLike) -> Self:
        """Train on (X, y) from fresh weights (or, with warm_start, from the current ones)."""
        self._check_params()
        return self._fit(X, y, incremental=False)

    def _fit(
        self,
        X_raw: ArrayLike,
        y_raw: ArrayLike,
        *,
        incremental: bool,
        classes: ArrayLike | None = None,
    ) -> Self:
        """One fit: ``incremental`` (partial_fit) runs one epoch from the current weights."""
        first = not self._is_fitted() or (not incremental and not self.warm_start)
        if first:
            self._x_mean = self._x_scale = None
            self.__dict__.pop("run_info_", None)
        X, y = self._validate(X_raw, y_raw, reset=first)
        T = self._encode(y, first=first, incremental=incremental, classes=classes)
        n = len(X)
        if first:
            self._initialize(X.shape[1], T)
        elif not incremental:  # warm start: a fresh optimizer, as scikit-learn
            self._network.reset_optimizer()
        net = self._network
        T = net.targets(T)
        early = self.early_stopping and not incremental
        X_val: Array | None = None
        T_val: Array | None = None
        if early:
            stratify = T if self._stratify() else None
            seed = int(self._random.randint(np.iinfo(np.int32).max))
            X, X_val, T, T_val = train_test_split(
                X, T, random_state=seed, test_size=self.validation_fraction, stratify=stratify
            )
            n = len(X)
        batch = self._batch(n)
        sgd = self.solver == "sgd"
        opt = net.optimizer
        converged = False
        for _ in range(1 if incremental else self.max_iter):
            if sgd and self.learning_rate == "invscaling":
                opt.lr = self.learning_rate_init / (self.t_ + 1) ** self.power_t
            loss = net.epoch(X, T, batch, self._rng, self.shuffle, self.n_iter_ + 1)
            self.n_iter_ += 1
            self.t_ += n
            self.loss_ = loss
            self.loss_curve_.append(loss)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
            self._update_no_improvement_count(early, X_val, T_val)
            if incremental or self._no_improvement_count <= self.n_iter_no_change:
                continue
            if sgd and self.learning_rate == "adaptive" and opt.lr > 1e-6:
                opt.lr /= 5.0
                self._no_improvement_count = 0
                if self.verbose:
                    print(f"Setting learning rate to {opt.lr:f}")
                continue
            if self.verbose:
                what = "Validation score" if early else "Training loss"
                print(
                    f"{what} did not improve more than tol={self.tol} for "
                    f"{self.n_iter_no_change} consecutive epochs. Stopping."
                )
            converged = True
            break
        if not incremental and not converged:
            warnings.warn(
                f"{type(self).__name__}: max_iter={self.max_iter} epochs reached and the "
                "optimization hasn't converged yet",
                ConvergenceWarning,
                stacklevel=3,
            )
        if early and self._best_weights is not None:
            net.model.load_state_dict(self._best_weights)
        return self

    def _initialize(self, n_in: int, T: Array) -> None:
        self._random = check_random_state(self.random_state)
        self._rng = np.random.default_rng(int(self._random.randint(np.iinfo(np.int32).max)))
        n_out, loss = self._output(T)
        args = optimizer_args(
            self.solver,
            self.learning_rate_init,
            alpha=self.alpha,
            momentum=self.momentum,
            nesterov=self.nesterovs_momentum,
            betas=(self.beta_1, self.beta_2),
            eps=self.epsilon,
        )
        self._network = build_network(
            n_in, n_out, self._hidden(), self._activation(), loss, self.alpha, args, self._rng,
            self._dtype,
        )  # fmt: skip
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self._no_improvement_count = 0
        self._best_weights = None
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _update_no_improvement_count(
        self, early: bool, X_val: Array | None, T_val: Array | None
    ) -> None:
        """scikit-learn's rule: an epoch 'does not improve' when the validation score is below
        best + tol (early stopping) or the training loss above best - tol."""
        if early:
            # early stopping: _fit made the split, _initialize the score lists
            assert X_val is not None and T_val is not None
            assert self.validation_scores_ is not None and self.best_validation_score_ is not None
            score = self._val_score(X_val, T_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_weights = self._network.model.state_dict()
            return
        last = self.loss_curve_[-1]
        if self.best_loss_ is None:  # partial_fit after a fit with early stopping
            self.best_loss_ = np.inf
        if last > self.best_loss_ - self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        self.best_loss_ = min(self.best_loss_, last)

    def partial_fit(self, X: ArrayLike, y: ArrayLike) -> Self:
        """One epoch over (X, y), continuing from the current weights and optimizer state."""
        self._check_params()
        return self._fit(X, y, incremental=True)

    # ------------------------------------------------------------------ the fitted network
    def _scores(self, X: ArrayLike) -> Array:
        check_is_fitted(self)
        return self._network.scores(self._validate(X, reset=False))

    @property
    def model_(self) -> MLP:
        """The trained memograd ``nn.MLP`` (export it, explain it, keep training it)."""
        check_is_fitted(self)
        return self._network.model

    @property
    def coefs_(self) -> list[Array]:
        """Weight matrices, coefs_[i] of shape (units in layer i, units in layer i + 1)."""
        return [layer.weight.data.copy() for layer in self.model_.linears()]

    @property
    def intercepts_(self) -> list[Array]:
        return [_bias(layer).data.copy() for layer in self.model_.linears()]

    @property
    def n_layers_(self) -> int:
        return len(self.model_.linears()) + 1

    def __sklearn_is_fitted__(self) -> bool:
        return self._is_fitted()

    def __sklearn_tags__(self) -> Any:  # sklearn.utils.Tags
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

    # ------------------------------------------------------------------ memograd runs
    @classmethod
    def from_run(cls: type[_Est], path: str | os.PathLike[str]) -> _Est:
        """An estimator holding the trained network of a ``memograd train`` run folder (or its
        checkpoint file), ready to predict on raw features: the run's standardisation of the
        inputs (and, for regression, of the target) is applied inside the estimator.

        Its parameters mirror the run's settings (hidden sizes, activation, optimizer, learning
        rate, batch size, epochs, seed, early stopping); ``fit`` trains a fresh network with
        them, ``partial_fit`` continues from the loaded weights. ``run_info_`` holds the run's
        dataset, feature names and final metrics."""
        return _runs.from_run(cls, path)
