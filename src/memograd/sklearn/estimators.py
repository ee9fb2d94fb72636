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

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.multiclass import check_classification_targets, unique_labels

from memograd.errors import MemogradTypeError, MemogradValueError
from memograd.sklearn._base import Array, _BaseMLP

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["MLPClassifier", "MLPRegressor"]


class MLPClassifier(ClassifierMixin, _BaseMLP):  # type: ignore[misc]  # sklearn: no types
    """Multi-layer perceptron classifier (softmax cross-entropy; one logistic output for two
    classes), trained by memograd's engine. Parameters and attributes as
    ``sklearn.neural_network.MLPClassifier``; see :mod:`memograd.sklearn.estimators`."""

    _loss_for_run = ("cross_entropy", "bce_with_logits", "hinge")
    classes_: NDArray[Any]  # the labels, sorted; predictions are drawn from them
    n_outputs_: int
    out_activation_: str  # "logistic", "softmax" or "hinge"

    def _y_check_params(self) -> dict[str, Any]:
        return {"multi_output": False}

    def _stratify(self) -> bool:
        return True

    def _encode(
        self, y: Array, *, first: bool, incremental: bool, classes: ArrayLike | None = None
    ) -> Array:
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
                f"{name}.partial_fit: classes={list(cast(Iterable[Any], classes))} differs from "
                f"the classes of the first call, {self.classes_.tolist()}"
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
        return np.asarray(idx)

    def _output(self, T: Array) -> tuple[int, str]:
        k = len(self.classes_)
        self.n_outputs_ = 1 if k <= 2 else k
        self.out_activation_ = "logistic" if k <= 2 else "softmax"
        return (1, "bce_with_logits") if k <= 2 else (k, "cross_entropy")

    def _load_run_targets(self, pre: dict[str, Any], loss: str) -> None:
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

    def _val_score(self, X_val: Array, T_val: Array) -> float:
        return float(accuracy_score(T_val, self._indices(self._network.scores(X_val))))

    def _indices(self, scores: Array) -> NDArray[np.integer[Any]]:
        if len(self.classes_) == 1:
            return np.zeros(len(scores), dtype=np.int64)
        if scores.shape[1] == 1:
            positive: NDArray[np.bool_] = scores[:, 0] > 0
            return positive.astype(np.int64)
        best: NDArray[np.intp] = scores.argmax(axis=1)
        return best

    def partial_fit(self, X: ArrayLike, y: ArrayLike, classes: ArrayLike | None = None) -> Self:
        """One epoch over (X, y) from the current weights; ``classes`` (every label the data
        can hold) is required on the first call."""
        self._check_params()
        return self._fit(X, y, incremental=True, classes=classes)

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """The most probable class of each row."""
        scores = self._scores(X)
        labels: NDArray[Any] = self.classes_[self._indices(scores)]
        return labels

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
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

    def predict_log_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """log of predict_proba."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


class MLPRegressor(RegressorMixin, _BaseMLP):  # type: ignore[misc]  # sklearn: no types
    """Multi-layer perceptron regressor (squared error ½·mean((y - ŷ)²), identity output, one
    or several targets), trained by memograd's engine. Parameters and attributes as
    ``sklearn.neural_network.MLPRegressor``; see :mod:`memograd.sklearn.estimators`."""

    _loss_for_run = ("mse",)
    _y_mean: NDArray[np.float64] | None = None  # a run loaded by from_run: its target scaling
    _y_scale: NDArray[np.float64] | None = None
    n_outputs_: int
    out_activation_: str  # "identity"

    def _y_check_params(self) -> dict[str, Any]:
        return {"multi_output": True, "y_numeric": True}

    def _stratify(self) -> bool:
        return False

    def _encode(
        self, y: Array, *, first: bool, incremental: bool, classes: ArrayLike | None = None
    ) -> Array:
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
        if self._y_mean is not None and self._y_scale is not None:  # set together by from_run
            y = (y - self._y_mean) / self._y_scale
        return y

    def _output(self, T: Array) -> tuple[int, str]:
        self.n_outputs_ = T.shape[1]
        self.out_activation_ = "identity"
        return T.shape[1], "half_mse"

    def _load_run_targets(self, pre: dict[str, Any], loss: str) -> None:
        std = pre.get("target_standardizer")
        if std:
            self._y_mean = np.asarray(std["mean"], dtype=np.float64)
            self._y_scale = np.asarray(std["scale"], dtype=np.float64)
        widths: Any = self._network.model.config["widths"]
        self.n_outputs_ = int(widths[-1])
        self.out_activation_ = "identity"

    def _predict_raw(self, X: ArrayLike) -> Array:
        s = self._scores(X)
        if self._y_mean is not None and self._y_scale is not None:
            s = s * self._y_scale + self._y_mean
        return s

    def _val_score(self, X_val: Array, T_val: Array) -> float:
        return float(r2_score(T_val, self._network.scores(X_val)))

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Predicted targets: shape (n,) for one target, (n, n_outputs_) for several."""
        s = self._predict_raw(X)
        return s.ravel() if self.n_outputs_ == 1 else s

    def __sklearn_tags__(self) -> Any:  # sklearn.utils.Tags
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
