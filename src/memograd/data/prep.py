"""Splits, standardisation, batching and data fingerprints (plain NumPy, seeded)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from memograd.data.dataset import Dataset
from memograd.errors import DataError, MemogradValueError


@dataclass(frozen=True)
class Split:
    """Train / validation / test parts of one dataset (disjoint, covering it)."""

    train: Dataset
    val: Dataset
    test: Dataset
    indices: dict[str, Any] = field(default_factory=dict, compare=False)


def split_indices(
    y: NDArray[Any],
    *,
    val: float = 0.1,
    test: float = 0.2,
    seed: int = 0,
    stratify: bool = True,
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    """Disjoint index arrays (train, val, test) covering ``range(len(y))``, seeded.

    Stratified (``y`` holds class indices): each class is shuffled and cut in the same
    proportions, so every part keeps the class balance (within one sample per class)."""
    for name, frac in (("val", val), ("test", test)):
        if not (0.0 <= frac < 1.0):
            raise MemogradValueError(f"split: {name} must be in [0, 1), got {frac}")
    if val + test >= 1.0:
        raise MemogradValueError(
            f"split: val + test must leave samples to train on, got {val} + {test} >= 1"
        )
    n = len(y)
    rng = np.random.default_rng(seed)
    if not stratify:
        order = rng.permutation(n)
        n_test, n_val = int(round(test * n)), int(round(val * n))
        return (
            np.sort(order[n_test + n_val :]),
            np.sort(order[n_test : n_test + n_val]),
            np.sort(order[:n_test]),
        )
    parts: tuple[list[NDArray[Any]], list[NDArray[Any]], list[NDArray[Any]]] = ([], [], [])
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        members = members[rng.permutation(len(members))]
        m = len(members)
        n_test, n_val = int(round(test * m)), int(round(val * m))
        if m >= 3:  # keep at least one sample of every class for training
            n_test, n_val = min(n_test, m - 1), min(n_val, max(m - 1 - n_test, 0))
        parts[2].append(members[:n_test])
        parts[1].append(members[n_test : n_test + n_val])
        parts[0].append(members[n_test + n_val :])
    train, val_idx, test_idx = (np.sort(np.concatenate(p)).astype(np.int64) for p in parts)
    return train, val_idx, test_idx


def split_dataset(
    ds: Dataset, *, val: float = 0.1, test: float = 0.2, seed: int = 0, stratify: bool | None = None
) -> Split:
    """Seeded train / validation / test split; stratified by class for classification."""
    if stratify is None:
        stratify = ds.is_classification
    if stratify and not ds.is_classification:
        raise MemogradValueError("split: stratify needs class labels, this dataset is a regression")
    tr, va, te = split_indices(ds.y, val=val, test=test, seed=seed, stratify=stratify)
    if len(tr) == 0 or (test > 0 and len(te) == 0):
        raise DataError(
            f"dataset {ds.name!r}: {ds.n_samples} samples are too few for a "
            f"train/val/test split of {1 - val - test:.0%}/{val:.0%}/{test:.0%}"
        )
    return Split(ds.subset(tr), ds.subset(va), ds.subset(te), {"train": tr, "val": va, "test": te})


# ----------------------------------------------------------------------------- standardisation


@dataclass(frozen=True)
class Standardizer:
    """z = (x - mean) / scale, with mean and scale fitted on the training split only.

    A constant column gets scale 1 (it becomes 0 rather than nan)."""

    mean: NDArray[Any]
    scale: NDArray[Any]

    @classmethod
    def fit(cls, X: NDArray[Any], names: Sequence[str] | None = None) -> Standardizer:
        """Mean and standard deviation per column; a column whose statistics are not finite
        numbers (one 1e308 cell overflows them) is refused by its name (``names``)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[:, None]
        if len(X) == 0:
            raise MemogradValueError("Standardizer.fit: no samples to fit on")
        with np.errstate(over="ignore", invalid="ignore"):
            mean = X.mean(axis=0)
            std = X.std(axis=0)
        bad = np.flatnonzero(~(np.isfinite(mean) & np.isfinite(std)))
        if len(bad):
            j = int(bad[0])
            name = repr(names[j]) if names is not None and j < len(names) else f"number {j}"
            big = float(np.max(np.abs(X[:, j])))
            raise DataError(
                f"column {name}: its mean or standard deviation overflows (values up to "
                f"{big:.3g}), so it cannot be standardised; rescale the column (other units) "
                "or drop it"
            )
        scale = np.where(std > 1e-12 * np.maximum(1.0, np.abs(mean)), std, 1.0)
        return cls(mean, scale)

    @classmethod
    def identity(cls, d: int) -> Standardizer:
        return cls(np.zeros(d), np.ones(d))

    def transform(self, X: NDArray[Any]) -> NDArray[Any]:
        X = np.asarray(X, dtype=np.float64)
        if X.shape[-1] != self.mean.shape[0]:
            raise MemogradValueError(
                f"Standardizer: data has {X.shape[-1]} features, fitted on {self.mean.shape[0]}"
            )
        Z: NDArray[np.float64] = (X - self.mean) / self.scale
        return Z

    def transform_finite(
        self, X: NDArray[Any], dtype: str, names: Sequence[str], where: str = "the data"
    ) -> NDArray[Any]:
        """:meth:`transform`, cast to ``dtype``; a value that is no longer a finite number there
        (1e308 far from the training data overflows float32) is refused with its row and column."""
        with np.errstate(over="ignore", invalid="ignore"):
            Z = self.transform(X).astype(dtype)
        bad = np.argwhere(~np.isfinite(Z))
        if len(bad):
            i, j = (int(v) for v in bad[0])
            name = repr(names[j]) if j < len(names) else f"number {j}"
            raise DataError(
                f"{where}, row {i + 1}, column {name}: value {X[i, j]:.6g} is too far from the "
                f"training data (standardised, it is not a finite {dtype}); check the units"
            )
        return Z

    def inverse(self, Z: NDArray[Any]) -> NDArray[Any]:
        X: NDArray[np.float64] = np.asarray(Z) * self.scale + self.mean
        return X

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Standardizer:
        try:
            mean = np.asarray(d["mean"], dtype=np.float64)
            scale = np.asarray(d["scale"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise MemogradValueError(f"Standardizer.from_dict: bad statistics ({exc})") from None
        if (
            mean.shape != scale.shape
            or mean.ndim != 1
            or not np.all(np.isfinite(mean))
            or not np.all((scale > 0) & np.isfinite(scale))
        ):
            raise MemogradValueError(
                "Standardizer.from_dict: mean and scale must be finite lists of one length, "
                "scale > 0"
            )
        return cls(mean, scale)


# ----------------------------------------------------------------------------- batching


def batches(
    X: NDArray[Any],
    y: NDArray[Any] | None = None,
    *,
    batch_size: int = 32,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[tuple[NDArray[Any], NDArray[Any] | None]]:
    """Mini-batches (xb, yb) covering every sample once, in an order drawn from ``rng``.

    The permutation is one ``rng.permutation(n)`` call, so a saved ``rng`` state replays it."""
    if batch_size < 1:
        raise MemogradValueError(f"batches: batch_size must be >= 1, got {batch_size}")
    n = len(X)
    if shuffle:
        if rng is None:
            raise MemogradValueError("batches: shuffle=True needs rng (a numpy Generator)")
        order = rng.permutation(n)
    else:
        order = None
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            sl = slice(start, start + batch_size)
            yield X[sl], (None if y is None else y[sl])
        else:
            idx = order[start : start + batch_size]
            yield X[idx], (None if y is None else y[idx])


def num_batches(n: int, batch_size: int, drop_last: bool = False) -> int:
    return n // batch_size if drop_last else -(-n // batch_size)


def fingerprint(*arrays: NDArray[Any]) -> str:
    """Short hash of arrays' dtype, shape and bytes (a resumed run checks its data is the same)."""
    import hashlib

    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]
