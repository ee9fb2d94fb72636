"""Data preparation: load the dataset or CSV, split it, standardise with training statistics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from memograd.data import (
    CLASSIFICATION,
    Dataset,
    Standardizer,
    fingerprint,
    load_csv,
    load_dataset,
    split_dataset,
)
from memograd.errors import MemogradValueError
from memograd.train.config import TrainConfig


@dataclass
class PreparedData:
    """The three splits, standardised with statistics of the training split only."""

    dataset: Dataset
    X: dict[str, NDArray[Any]]
    y: dict[str, NDArray[Any]]
    scaler: Standardizer
    target_scaler: Standardizer | None  # regression targets are standardised too
    fingerprint: str

    @property
    def task(self) -> str:
        return self.dataset.task

    @property
    def is_classification(self) -> bool:
        return self.dataset.task == CLASSIFICATION

    def preprocessing(self) -> dict[str, Any]:
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
        return load_csv(cfg.csv, cfg.target, task=cfg.task, expect_sha256=cfg.csv_sha256)
    if cfg.dataset is None:
        raise MemogradValueError(
            "give either a dataset name or a CSV file (with its target column)"
        )
    return load_dataset(cfg.dataset, seed=cfg.seed, n_samples=cfg.n_samples, noise=cfg.noise)


def prepare_data(cfg: TrainConfig, ds: Dataset | None = None) -> PreparedData:
    ds = ds if ds is not None else load_data(cfg)
    split = split_dataset(ds, val=cfg.val, test=cfg.test, seed=cfg.seed)
    scaler = Standardizer.fit(split.train.X, ds.feature_names)
    parts = {"train": split.train, "val": split.val, "test": split.test}
    X = {
        k: scaler.transform_finite(p.X, cfg.dtype, ds.feature_names, f"{ds.name} ({k} split)")
        for k, p in parts.items()
    }
    target_scaler = None
    if ds.is_classification:
        y = {k: p.y.astype(np.int64) for k, p in parts.items()}
    else:
        target_scaler = Standardizer.fit(split.train.y, [ds.target_name])
        y = {
            k: target_scaler.transform(p.y[:, None])[:, 0].astype(cfg.dtype)
            for k, p in parts.items()
        }
    fp = fingerprint(*(X[k] for k in parts), *(y[k] for k in parts))
    return PreparedData(ds, X, y, scaler, target_scaler, fp)
