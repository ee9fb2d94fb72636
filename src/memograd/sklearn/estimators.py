"""MLPClassifier and MLPRegressor: scikit-learn estimators trained by memograd's engine.

Parameters keep the names and meaning of ``sklearn.neural_network.MLPClassifier`` wherever
memograd has the feature; the loss, the L2 penalty α/(2m)·Σ‖W‖², the initialisation (Glorot
uniform weights and biases), batch_size="auto" = min(200, n), the stopping rule (tol,
n_iter_no_change, early_stopping on a stratified validation_fraction) and the fitted attributes
(loss_curve_, n_iter_, t_, coefs_, intercepts_, ...) are scikit-learn's. Differences:

* solver: "adam" (default), "sgd", "adamw", "rmsprop": memograd's optimizers (PyTorch
  conventions: Adam adds ε to √v̂, SGD's momentum buffer is b ← μb + g); no "lbfgs".
  With "adamw", α is the decoupled weight decay p ← p(1 - lr·α) of every parameter (as
  ``memograd train``) instead of the L2 term of the loss.
* activation: also memograd's "leaky_relu", "gelu" ("logistic" is memograd's "sigmoid").
* dtype: float32 data trains in float32, anything else in float64 (as scikit-learn); pass
  ``dtype="float32"`` to train float64 data in float32 (faster, half the memory).
* no sample_weight, no sparse input, no multi-label targets (a clear error says so).
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from memograd.errors import MemogradTypeError, MemogradValueError
from memograd.sklearn._network import (
    ACTIVATION_NAMES,
    SOLVERS,
    Network,
    build_network,
    optimizer_args,
)


class _BaseMLP(BaseEstimator):
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

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=1e-3,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        dtype=None,
    ):
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
    def _bad(self, message: str):
        raise MemogradValueError(f"{type(self).__name__}: {message}")

    def _hidden(self) -> tuple[int, ...]:
        h = self.hidden_layer_sizes
        h = (h,) if isinstance(h, Integral) else h
        try:
            sizes: tuple = tuple(h)
        except TypeError:
            sizes = (None,)
        if not all(isinstance(s, Integral) and int(s) >= 1 for s in sizes):
            self._bad(f"hidden_layer_sizes must be positive integers, e.g. (100,), got {h!r}")
        return tuple(int(s) for s in sizes)

    def _check_params(self) -> None:
        def number(name, lo, hi=math.inf, lo_open=False, integer=False):
            v = getattr(self, name)
            kind = Integral if integer else Real
            ok = isinstance(v, kind) and not isinstance(v, bool) and lo <= v <= hi
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

    # ------------------------------------------------------------------ data
    def _validate(self, X, y="no_validation", *, reset: bool):
        """scikit-learn's checks (shapes, NaN/inf, feature count and names) and the cast to the
        training dtype; the standardisation of a loaded memograd run is applied here too."""
        kw = {"accept_sparse": False, "dtype": (np.float64, np.float32)}
        if isinstance(y, str) and y == "no_validation":
            X = validate_data(self, X, reset=reset, **kw)
        else:
            X, y = validate_data(self, X, y, reset=reset, **self._y_check_params(), **kw)
        if reset:
            self._dtype = np.dtype(self.dtype or X.dtype)
        if self._x_mean is not None:
            X = (np.asarray(X, dtype=np.float64) - self._x_mean) / self._x_scale
        X = np.ascontiguousarray(X, dtype=self._dtype)
        return X if isinstance(y, str) and y == "no_validation" else (X, y)

    _x_mean = None  # a run loaded by from_run: its standardisation of the inputs
    _x_scale = None

    # ------------------------------------------------------------------ training
    def _is_fitted(self) -> bool:
        return "_network" in self.__dict__

    def fit(self, X, y):
        """Train on (X, y) from fresh weights (or, with warm_start, from the current ones)."""
        self._check_params()
        return self._fit(X, y, incremental=False)

    def _fit(self, X, y, *, incremental: bool, classes=None):
        first = not self._is_fitted() or (not incremental and not self.warm_start)
        if first:
            self._x_mean = self._x_scale = None
            self.__dict__.pop("run_info_", None)
        X, y = self._validate(X, y, reset=first)
        T = self._encode(y, first=first, incremental=incremental, classes=classes)
        n = len(X)
        if first:
            self._initialize(X.shape[1], T)
        elif not incremental:  # warm start: a fresh optimizer, as scikit-learn
            self._network.reset_optimizer()
        net = self._network
        T = net.targets(T)
        early = self.early_stopping and not incremental
        X_val = T_val = None
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

    def _initialize(self, n_in: int, T) -> None:
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

    def _update_no_improvement_count(self, early: bool, X_val, T_val) -> None:
        """scikit-learn's rule: an epoch 'does not improve' when the validation score is below
        best + tol (early stopping) or the training loss above best - tol."""
        if early:
            score = self._val_score(X_val, T_val)
            assert self.validation_scores_ is not None  # early stopping: set by _initialize
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

    def partial_fit(self, X, y):
        """One epoch over (X, y), continuing from the current weights and optimizer state."""
        self._check_params()
        return self._fit(X, y, incremental=True)

    # ------------------------------------------------------------------ the fitted network
    def _scores(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self._network.scores(self._validate(X, reset=False))

    @property
    def model_(self):
        """The trained memograd ``nn.MLP`` (export it, explain it, keep training it)."""
        check_is_fitted(self)
        return self._network.model

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, coefs_[i] of shape (units in layer i, units in layer i + 1)."""
        return [layer.weight.data.copy() for layer in self.model_.linears()]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        return [layer.bias.data.copy() for layer in self.model_.linears()]

    @property
    def n_layers_(self) -> int:
        return len(self.model_.linears()) + 1

    def __sklearn_is_fitted__(self) -> bool:
        return self._is_fitted()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

    # ------------------------------------------------------------------ memograd runs
    @classmethod
    def from_run(cls, path):
        """An estimator holding the trained network of a ``memograd train`` run folder (or its
        checkpoint file), ready to predict on raw features: the run's standardisation of the
        inputs (and, for regression, of the target) is applied inside the estimator.

        Its parameters mirror the run's settings (hidden sizes, activation, optimizer, learning
        rate, batch size, epochs, seed, early stopping); ``fit`` trains a fresh network with
        them, ``partial_fit`` continues from the loaded weights. ``run_info_`` holds the run's
        dataset, feature names and final metrics."""
        from memograd.train import load_run

        model, ck = load_run(path)
        meta = ck.metadata
        pre = meta["preprocessing"]
        task = pre.get("task")
        loss = meta.get("loss") or ("cross_entropy" if task == "classification" else "mse")
        if loss not in cls._loss_for_run:
            other = "MLPRegressor" if task == "regression" else "MLPClassifier"
            raise MemogradValueError(
                f"{cls.__name__}.from_run: {ck.path} holds a {task} run (loss {loss}); load it "
                f"with {other}.from_run"
            )
        cfg = meta.get("config") or {}
        est = cls(**_params_from_config(cfg))
        wd = float(cfg.get("weight_decay") or 0.0)
        solver = str(cfg.get("optimizer", "adamw")).lower()
        if cfg.get("weight_decay") is None and solver == "adamw":
            wd = 0.2  # memograd train's default decoupled decay for AdamW
        args = {"name": solver, "lr": float(cfg.get("lr", 1e-3)), "weight_decay": wd}
        if solver in ("sgd", "rmsprop"):
            args["momentum"] = float(cfg.get("momentum", 0.9))
        if solver == "sgd":
            args["nesterov"] = bool(cfg.get("nesterov", False))
        est._network = Network(model, loss, 0.0, args)
        est._dtype = est._network.dtype
        seed = int(cfg.get("seed", 0))
        est._random = check_random_state(seed)
        est._rng = np.random.default_rng([seed, 2])
        model.set_rng(est._rng)
        std = pre.get("standardizer")
        if std:
            est._x_mean = np.asarray(std["mean"], dtype=np.float64)
            est._x_scale = np.asarray(std["scale"], dtype=np.float64)
        history = meta.get("history") or []
        est.n_features_in_ = int(model.config["widths"][0])
        est.n_iter_ = int(meta.get("epoch", len(history)))
        est.t_ = est.n_iter_ * int((meta.get("metrics") or {}).get("train_samples", 0))
        est.loss_curve_ = [float(r["train_loss"]) for r in history if "train_loss" in r]
        est.loss_ = est.loss_curve_[-1] if est.loss_curve_ else None
        est.best_loss_ = min(est.loss_curve_) if est.loss_curve_ else np.inf
        est.validation_scores_ = None
        est.best_validation_score_ = None
        est._no_improvement_count = 0
        est._best_weights = None
        est.run_info_ = {
            "path": str(ck.path),
            "dataset": pre.get("dataset"),
            "feature_names": list(pre.get("feature_names") or []),
            "target_name": pre.get("target_name"),
            "metrics": meta.get("metrics"),
            "status": meta.get("status"),
        }
        est._load_run_targets(pre, loss)
        return est


def _params_from_config(cfg: dict) -> dict:
    """Estimator parameters close to a ``memograd train`` configuration."""
    params: dict = {}
    if "hidden" in cfg:
        params["hidden_layer_sizes"] = tuple(int(h) for h in cfg["hidden"])
    if "activation" in cfg:
        params["activation"] = {"sigmoid": "logistic"}.get(cfg["activation"], cfg["activation"])
    solver = str(cfg.get("optimizer", "adamw")).lower()
    params["solver"] = solver if solver in SOLVERS else "adam"
    for key, name, kind in (
        ("lr", "learning_rate_init", float),
        ("batch_size", "batch_size", int),
        ("epochs", "max_iter", int),
        ("seed", "random_state", int),
        ("momentum", "momentum", float),
        ("nesterov", "nesterovs_momentum", bool),
        ("val", "validation_fraction", float),
    ):
        if cfg.get(key) is not None:
            params[name] = kind(cfg[key])
    wd = cfg.get("weight_decay")
    if solver == "adamw":
        params["alpha"] = 0.2 if wd is None else float(wd)
    elif wd:  # coupled L2 λ·p on the gradient = α/m·W: α = λ·batch
        params["alpha"] = float(wd) * int(cfg.get("batch_size", 1))
    else:
        params["alpha"] = 0.0
    patience = cfg.get("patience")
    params["early_stopping"] = patience is not None
    if patience is not None:
        params["n_iter_no_change"] = int(patience)
    if cfg.get("dtype") in ("float32", "float64"):
        params["dtype"] = cfg["dtype"]
    return params


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier (softmax cross-entropy; one logistic output for two
    classes), trained by memograd's engine. Parameters and attributes as
    ``sklearn.neural_network.MLPClassifier``; see :mod:`memograd.sklearn.estimators`."""

    _loss_for_run = ("cross_entropy", "bce_with_logits", "hinge")

    def _y_check_params(self) -> dict:
        return {"multi_output": False}

    def _stratify(self) -> bool:
        return True

    def _encode(self, y, *, first: bool, incremental: bool, classes=None) -> np.ndarray:
        """Class labels -> indices into classes_ (sets classes_ on the first call)."""
        check_classification_targets(y)
        name = type(self).__name__
        if first:
            if incremental:
                if classes is None:
                    raise MemogradValueError(
                        f"{name}.partial_fit: classes must be passed on the first call "
                        "(every label the data can hold, e.g. classes=np.unique(y_all))"
                    )
                labels = unique_labels(classes)
            else:
                labels = unique_labels(y)
            self.classes_ = labels
        elif not incremental and not np.array_equal(unique_labels(y), self.classes_):
            raise MemogradValueError(
                f"{name}: warm_start needs y with the classes of the previous fit, "
                f"{self.classes_.tolist()}; y has {unique_labels(y).tolist()}"
            )
        elif classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise MemogradValueError(
                f"{name}.partial_fit: classes={list(classes)} differs from the classes of the "
                f"first call, {self.classes_.tolist()}"
            )
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, len(self.classes_) - 1)
        unknown = self.classes_[idx] != y
        if np.any(unknown):
            bad = sorted(set(np.asarray(y)[unknown].tolist()))
            raise MemogradValueError(
                f"{name}: y holds labels {bad[:5]} that are not in classes_ "
                f"{self.classes_.tolist()[:10]}"
            )
        return idx

    def _output(self, T) -> tuple[int, str]:
        k = len(self.classes_)
        self.n_outputs_ = 1 if k <= 2 else k
        self.out_activation_ = "logistic" if k <= 2 else "softmax"
        return (1, "bce_with_logits") if k <= 2 else (k, "cross_entropy")

    def _load_run_targets(self, pre: dict, loss: str) -> None:
        names = list(pre.get("classes") or [])
        try:  # class names that are integers ("0", "1", ...) become integers
            ints = [int(c) for c in names]
            labels = np.asarray(ints) if [str(i) for i in ints] == names else np.asarray(names)
        except ValueError:
            labels = np.asarray(names)
        self.classes_ = labels
        widths: Any = self._network.model.config["widths"]
        width = int(widths[-1])
        self.n_outputs_ = width
        self.out_activation_ = "logistic" if width == 1 else "softmax"
        if loss == "hinge":
            self.out_activation_ = "hinge"

    def _val_score(self, X_val, T_val) -> float:
        return float(accuracy_score(T_val, self._indices(self._network.scores(X_val))))

    def _indices(self, scores: np.ndarray) -> np.ndarray:
        if len(self.classes_) == 1:
            return np.zeros(len(scores), dtype=np.int64)
        if scores.shape[1] == 1:
            return (scores[:, 0] > 0).astype(np.int64)
        return scores.argmax(axis=1)

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y) from the current weights; ``classes`` (every label the data
        can hold) is required on the first call."""
        self._check_params()
        return self._fit(X, y, incremental=True, classes=classes)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row."""
        scores = self._scores(X)
        return self.classes_[self._indices(scores)]

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n, len(classes_)), float64, rows summing to 1."""
        s = self._scores(X).astype(np.float64)
        if self.out_activation_ == "hinge":
            raise MemogradValueError(
                f"{type(self).__name__}.predict_proba: this network was trained with the hinge "
                "loss; its scores are margins, not probabilities (use predict)"
            )
        if len(self.classes_) == 1:
            return np.ones((len(s), 1))
        if s.shape[1] == 1:
            p = 0.5 * (1.0 + np.tanh(0.5 * s[:, 0]))  # σ(s), without overflow
            return np.column_stack([1.0 - p, p])
        s -= s.max(axis=1, keepdims=True)
        np.exp(s, out=s)
        s /= s.sum(axis=1, keepdims=True)
        return s

    def predict_log_proba(self, X) -> np.ndarray:
        """log of predict_proba."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor (squared error ½·mean((y - ŷ)²), identity output, one
    or several targets), trained by memograd's engine. Parameters and attributes as
    ``sklearn.neural_network.MLPRegressor``; see :mod:`memograd.sklearn.estimators`."""

    _loss_for_run = ("mse",)
    _y_mean = None  # a run loaded by from_run: its standardisation of the target
    _y_scale = None

    def _y_check_params(self) -> dict:
        return {"multi_output": True, "y_numeric": True}

    def _stratify(self) -> bool:
        return False

    def _encode(self, y, *, first: bool, incremental: bool, classes=None) -> np.ndarray:
        if classes is not None:
            raise MemogradTypeError("MLPRegressor.partial_fit: classes is for classifiers")
        y = np.asarray(y, dtype=np.float64)
        y = y.reshape(len(y), -1)
        if first:
            self._y_mean = self._y_scale = None
        elif y.shape[1] != self.n_outputs_:
            raise MemogradValueError(
                f"MLPRegressor: y has {y.shape[1]} targets, the network was fitted on "
                f"{self.n_outputs_}"
            )
        if self._y_mean is not None:
            y = (y - self._y_mean) / self._y_scale
        return y

    def _output(self, T) -> tuple[int, str]:
        self.n_outputs_ = T.shape[1]
        self.out_activation_ = "identity"
        return T.shape[1], "half_mse"

    def _load_run_targets(self, pre: dict, loss: str) -> None:
        std = pre.get("target_standardizer")
        if std:
            self._y_mean = np.asarray(std["mean"], dtype=np.float64)
            self._y_scale = np.asarray(std["scale"], dtype=np.float64)
        widths: Any = self._network.model.config["widths"]
        self.n_outputs_ = int(widths[-1])
        self.out_activation_ = "identity"

    def _predict_raw(self, X) -> np.ndarray:
        s = self._scores(X)
        if self._y_mean is not None:
            s = s * self._y_scale + self._y_mean
        return s

    def _val_score(self, X_val, T_val) -> float:
        return float(r2_score(T_val, self._network.scores(X_val)))

    def predict(self, X) -> np.ndarray:
        """Predicted targets: shape (n,) for one target, (n, n_outputs_) for several."""
        s = self._predict_raw(X)
        return s.ravel() if self.n_outputs_ == 1 else s

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
