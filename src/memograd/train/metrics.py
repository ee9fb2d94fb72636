"""Scoring a trained model: raw scores, predicted classes, loss, accuracy, R², confusion matrix."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from memograd.data import CLASSIFICATION
from memograd.nn import Module
from memograd.nn.losses import LOSSES
from memograd.tensor.tensor import Tensor, no_grad


def predict_scores(model: Module, X: NDArray[Any], batch_size: int = 4096) -> NDArray[Any]:
    """The network's raw outputs for every row of X (evaluation mode, no graph)."""
    was_training = getattr(model, "training", False)
    model.eval()
    outs: list[NDArray[Any]] = []
    try:
        with no_grad():
            for start in range(0, len(X), batch_size):
                outs.append(model(Tensor(X[start : start + batch_size])).data)
    finally:
        model.train(was_training)
    if not outs:
        return np.zeros((0, 1), dtype=np.float32)
    return np.concatenate(outs)


def predicted_classes(scores: NDArray[Any]) -> NDArray[Any]:
    if scores.shape[1] == 1:  # one logit (bce) or one hinge score: positive means class 1
        positive: NDArray[np.bool_] = scores[:, 0] > 0
        return positive.astype(np.int64)
    best: NDArray[np.intp] = scores.argmax(axis=1)
    return best


def r2_score(y: NDArray[Any], yhat: NDArray[Any]) -> float:
    """R² = 1 - Σ(y - ŷ)² / Σ(y - ȳ)²."""
    ss_res = float(np.sum((y - yhat) ** 2))
    ss_tot = float(np.sum((y - np.mean(y)) ** 2))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")


def evaluate(
    model: Module, X: NDArray[Any], y: NDArray[Any], loss: str, task: str
) -> dict[str, Any]:
    """Loss and accuracy (classes) or R² (regression) of the model on (X, y)."""
    if len(X) == 0:
        return {}
    scores = predict_scores(model, X)
    with no_grad():
        value = float(LOSSES[loss](Tensor(scores), y))  # Tensor.__float__: .item()
    out = {"loss": value}
    if task == CLASSIFICATION:
        out["accuracy"] = float(np.mean(predicted_classes(scores) == y))
    else:
        out["r2"] = r2_score(y.astype(np.float64), scores[:, 0].astype(np.float64))
    return out


def confusion_matrix(y: NDArray[Any], pred: NDArray[Any], k: int) -> NDArray[Any]:
    """counts[i, j] = how many samples of class i were predicted as class j."""
    m = np.zeros((k, k), dtype=np.int64)
    np.add.at(m, (y, pred), 1)
    return m
