"""Estimators from ``memograd train`` runs: ``MLPClassifier.from_run(path)`` and its regressor twin.

The run's network, its input (and target) standardisation, its settings mapped to the estimator's
parameters, and its history (loss_curve_, n_iter_) become a fitted estimator.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from sklearn.utils import check_random_state

from memograd.errors import MemogradValueError
from memograd.sklearn._network import SOLVERS, Network

if TYPE_CHECKING:
    from memograd.sklearn._base import _BaseMLP

_Est = TypeVar("_Est", bound="_BaseMLP")


def from_run(cls: type[_Est], path: str | os.PathLike[str]) -> _Est:
    """``cls.from_run(path)``: the estimator of class ``cls`` holding a run's trained network
    (:meth:`memograd.sklearn.estimators.MLPClassifier.from_run` says what it holds)."""
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


def _params_from_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """Estimator parameters close to a ``memograd train`` configuration."""
    params: dict[str, Any] = {}
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
