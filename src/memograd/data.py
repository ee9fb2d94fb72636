"""Datasets, CSV files, splits, standardisation and batching, all seeded.

Everything here is plain NumPy (no Tensor): a :class:`Dataset` holds ``X`` (float64, one row per
sample) and ``y`` (int64 class indices for classification, float64 for regression)::

    ds = load_dataset("digits")                       # or "moons", "iris", ...
    ds = load_csv("houses.csv", target="price")       # any CSV with a header (or without)
    split = split_dataset(ds, val=0.1, test=0.2, seed=0)  # stratified for classes
    scaler = Standardizer.fit(split.train.X)          # fitted on the training split only
    for xb, yb in batches(X, y, batch_size=32, rng=np.random.default_rng(0)):
        ...

Datasets: scikit-learn's offline ones (digits, iris, wine, breast_cancer, diabetes; needs the
``data`` extra), generated ones (moons, circles, spirals, xor, and ``toy``: the notes' problem with
two inputs and one output), and CSV files. A bad file raises :class:`memograd.DataError` naming the
file, the line and the column.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from memograd.errors import DataError, MemogradValueError

CLASSIFICATION = "classification"
REGRESSION = "regression"

#: cells read as a missing value in a CSV file
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})


@dataclass(frozen=True)
class Dataset:
    """Features ``X`` (n, d) float64 and targets ``y`` (n,): class indices or real numbers.

    ``classes`` are the class labels as strings (``y`` indexes them); empty for regression."""

    name: str
    X: np.ndarray
    y: np.ndarray
    task: str
    feature_names: tuple[str, ...]
    target_name: str = "target"
    classes: tuple[str, ...] = ()
    source: str = ""

    def __post_init__(self):
        if self.X.ndim != 2 or self.y.ndim != 1 or len(self.X) != len(self.y):
            raise MemogradValueError(
                f"Dataset {self.name!r}: X must be (n, d) and y (n,), got {self.X.shape} and "
                f"{self.y.shape}"
            )
        if self.task not in (CLASSIFICATION, REGRESSION):
            raise MemogradValueError(
                f"Dataset {self.name!r}: task must be 'classification' or 'regression', "
                f"got {self.task!r}"
            )

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def is_classification(self) -> bool:
        return self.task == CLASSIFICATION

    def subset(self, index: np.ndarray) -> Dataset:
        return replace(self, X=self.X[index], y=self.y[index])

    def describe(self) -> dict:
        info = {
            "name": self.name,
            "task": self.task,
            "samples": self.n_samples,
            "features": self.n_features,
        }
        if self.is_classification:
            info["classes"] = self.n_classes
        return info


# ----------------------------------------------------------------------------- built-in datasets

_SKLEARN = {
    "digits": "load_digits",
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
    "diabetes": "load_diabetes",
}


def _load_sklearn(name: str, seed: int, n_samples: int | None, noise: float | None) -> Dataset:
    try:
        import sklearn.datasets as skd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DataError(
            f"dataset {name!r} comes with scikit-learn, which is not installed: "
            "pip install 'memograd[data]'"
        ) from exc
    bunch = getattr(skd, _SKLEARN[name])()
    X = np.asarray(bunch.data, dtype=np.float64)
    features = tuple(str(f) for f in getattr(bunch, "feature_names", range(X.shape[1])))
    if name == "digits":
        features = tuple(f"pixel_{i // 8}_{i % 8}" for i in range(X.shape[1]))
    if name == "diabetes":
        y = np.asarray(bunch.target, dtype=np.float64)
        return Dataset(name, X, y, REGRESSION, features, "progression", source="scikit-learn")
    y = np.asarray(bunch.target, dtype=np.int64)
    names = getattr(bunch, "target_names", None)
    classes = tuple(str(c) for c in names) if names is not None else tuple(map(str, np.unique(y)))
    return Dataset(name, X, y, CLASSIFICATION, features, "class", classes, source="scikit-learn")


def make_moons(n_samples: int = 1000, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles: (cos t, sin t) and (1 - cos t, 1/2 - sin t), t in [0, pi]."""
    rng = np.random.default_rng(seed)
    n0 = n_samples // 2
    n1 = n_samples - n0
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    X = np.concatenate(
        [np.stack([np.cos(t0), np.sin(t0)], 1), np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1)]
    )
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n1, np.int64)])
    X = X + rng.normal(0.0, noise, X.shape)
    return _shuffled("moons", X, y, ("x1", "x2"), ("0", "1"), rng)


def make_circles(
    n_samples: int = 1000, noise: float = 0.05, seed: int = 0, factor: float = 0.5
) -> Dataset:
    """A circle of radius ``factor`` (class 1) inside a circle of radius 1 (class 0)."""
    rng = np.random.default_rng(seed)
    n0 = n_samples // 2
    n1 = n_samples - n0
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    X = np.concatenate(
        [np.stack([np.cos(t0), np.sin(t0)], 1), factor * np.stack([np.cos(t1), np.sin(t1)], 1)]
    )
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n1, np.int64)])
    X = X + rng.normal(0.0, noise, X.shape)
    return _shuffled("circles", X, y, ("x1", "x2"), ("outer", "inner"), rng)


def make_spirals(n_samples: int = 900, noise: float = 0.2, seed: int = 0, arms: int = 3) -> Dataset:
    """``arms`` interleaved spirals: radius r in [0, 1], angle 4(k + r) + noise for arm k."""
    rng = np.random.default_rng(seed)
    per = [n_samples // arms + (1 if k < n_samples % arms else 0) for k in range(arms)]
    xs, ys = [], []
    for k, n in enumerate(per):
        r = np.linspace(0.0, 1.0, n)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, n) + rng.normal(0.0, noise, n)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        ys.append(np.full(n, k, np.int64))
    classes = tuple(str(k) for k in range(arms))
    return _shuffled("spirals", np.concatenate(xs), np.concatenate(ys), ("x1", "x2"), classes, rng)


def make_xor(n_samples: int = 1000, noise: float = 0.0, seed: int = 0) -> Dataset:
    """Points uniform in [-1, 1]^2, class 1 where x1 * x2 > 0 (the quadrants of XOR)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n_samples, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    if noise:
        X = X + rng.normal(0.0, noise, X.shape)
    return Dataset("xor", X, y, CLASSIFICATION, ("x1", "x2"), "class", ("0", "1"), "generated")


def make_toy(n_samples: int = 400, noise: float = 0.3, seed: int = 0) -> Dataset:
    """The notes' problem: two inputs (x1, x2), one output yhat, fitted by the 2-2-2-1 network.

    The course the notes come from uses a student's CGPA and profile score to predict a salary
    package (lpa); we generate that shape of data: cgpa ~ U(5, 10), profile_score ~ U(4, 12),
    lpa = 0.45 cgpa + 0.25 profile_score + 0.08 (cgpa - 7.5)(profile_score - 8) + noise."""
    rng = np.random.default_rng(seed)
    cgpa = rng.uniform(5.0, 10.0, n_samples)
    profile = rng.uniform(4.0, 12.0, n_samples)
    lpa = 0.45 * cgpa + 0.25 * profile + 0.08 * (cgpa - 7.5) * (profile - 8.0)
    lpa = lpa + rng.normal(0.0, noise, n_samples)
    X = np.stack([cgpa, profile], 1)
    return Dataset("toy", X, lpa, REGRESSION, ("cgpa", "profile_score"), "lpa", (), "generated")


def _shuffled(name, X, y, features, classes, rng) -> Dataset:
    order = rng.permutation(len(y))
    return Dataset(
        name, X[order], y[order], CLASSIFICATION, features, "class", classes, "generated"
    )


_GENERATED: dict[str, Callable[..., Dataset]] = {
    "moons": make_moons,
    "circles": make_circles,
    "spirals": make_spirals,
    "xor": make_xor,
    "toy": make_toy,
}

#: every name ``load_dataset`` knows, scikit-learn's first
DATASETS: tuple[str, ...] = (*_SKLEARN, *_GENERATED)


def load_dataset(
    name: str, *, seed: int = 0, n_samples: int | None = None, noise: float | None = None
) -> Dataset:
    """A built-in dataset by name (see ``DATASETS``); generated ones depend on ``seed``.

    ``n_samples`` and ``noise`` apply to the generated datasets only."""
    key = name.strip().lower().replace("-", "_")
    if key == "notes":
        key = "toy"
    if key in _SKLEARN:
        if n_samples is not None or noise is not None:
            raise MemogradValueError(
                f"load_dataset: n_samples and noise apply to generated datasets only, not {name!r}"
            )
        return _load_sklearn(key, seed, n_samples, noise)
    if key in _GENERATED:
        kwargs: dict = {"seed": seed}
        if n_samples is not None:
            if n_samples < 8:
                raise MemogradValueError(f"load_dataset: n_samples must be >= 8, got {n_samples}")
            kwargs["n_samples"] = int(n_samples)
        if noise is not None:
            if not (noise >= 0 and math.isfinite(noise)):
                raise MemogradValueError(f"load_dataset: noise must be >= 0, got {noise}")
            kwargs["noise"] = float(noise)
        return _GENERATED[key](**kwargs)
    raise MemogradValueError(
        f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)} or pass a CSV file"
    )


# ----------------------------------------------------------------------------- CSV


def _number(cell: str) -> float | None:
    """The cell as a finite float, or None if it is not a number."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING


def _sniff_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) for every non-blank row."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a CSV file") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})"
        ) from None
    if not text.strip():
        raise DataError(f"{path}: empty file, expected a header line and rows of numbers")
    reader = csv.reader(text.splitlines(), _sniff_dialect(text[:4096]))
    rows = []
    try:
        for cells in reader:
            if not cells or all(not c.strip() for c in cells):
                continue
            rows.append((reader.line_num, [c.strip() for c in cells]))
    except csv.Error as exc:
        raise DataError(f"{path}, line {reader.line_num}: {exc}") from None
    return rows


def _has_header(rows: list[tuple[int, list[str]]], target: str | int | None) -> bool:
    first = rows[0][1]
    if isinstance(target, str) and target in first and _number(target) is None:
        return True
    numeric = [_number(c) is not None for c in first]
    if not any(numeric):
        return True
    if len(rows) > 1:
        second = rows[1][1]
        for j, cell in enumerate(first):
            if (
                j < len(second)
                and _number(cell) is None
                and not _is_missing(cell)
                and _number(second[j]) is not None
            ):
                return True
    return False


def _target_index(path: Path, names: list[str], target: str | int | None, header: bool) -> int:
    if target is None:
        return len(names) - 1
    if isinstance(target, str) and target in names:
        return names.index(target)
    index = None
    if isinstance(target, int):
        index = target
    elif isinstance(target, str) and target.lstrip("-").isdigit():
        index = int(target)
    if index is not None and -len(names) <= index < len(names):
        return index % len(names)
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    how = "a column name" if header else "a column number (0-based; the file has no header)"
    raise DataError(f"{path}: no target column {target!r}; give {how}; columns are: {shown}")


def load_csv(
    path: str | os.PathLike,
    target: str | int | None = None,
    *,
    task: str | None = None,
    max_classes: int = 20,
) -> Dataset:
    """A dataset from a CSV file: numeric feature columns and one target column.

    The first line is a header when it names ``target`` or holds text above numbers; otherwise
    columns are named by their 0-based number. ``target`` is a column name or number (default:
    the last column). ``task``: ``"classification"`` maps the target's distinct values (text or
    numbers) to classes, ``"regression"`` needs numbers; by default a target is a class label when
    it holds text, or integers with at most ``max_classes`` distinct values.
    Every problem raises DataError naming the file, line and column."""
    path = Path(path)
    if task not in (None, CLASSIFICATION, REGRESSION):
        raise MemogradValueError(
            f"load_csv: task must be 'classification', 'regression' or None, got {task!r}"
        )
    rows = _read_rows(path)
    header = _has_header(rows, target)
    if header:
        header_line, names = rows[0]
        rows = rows[1:]
        if not rows:
            raise DataError(f"{path}: the header (line {header_line}) has no data rows below it")
        names = [n or f"column_{j + 1}" for j, n in enumerate(names)]
    else:
        header_line, names = rows[0][0], [str(j) for j in range(len(rows[0][1]))]
    width = len(names)
    if width < 2:
        raise DataError(
            f"{path}, line {header_line}: found {width} column; need at least one feature column "
            "and a target column (is the delimiter a comma, semicolon, tab or bar?)"
        )
    t = _target_index(path, names, target, header)
    features = [j for j in range(width) if j != t]
    X = _feature_matrix(path, rows, features, names, width, header_line)
    labels: list[str] = []
    for line, cells in rows:
        cell = cells[t]
        if _is_missing(cell):
            raise DataError(
                f"{path}, line {line}, column {t + 1} ({names[t]!r}): missing target value"
            )
        labels.append(cell)
    numbers = [_number(c) for c in labels]
    all_numeric = all(v is not None for v in numbers)
    if task is None:
        integral = all_numeric and all(float(v).is_integer() for v in numbers)
        task = (
            CLASSIFICATION
            if not all_numeric or (integral and len(set(numbers)) <= max_classes)
            else REGRESSION
        )
    feature_names = tuple(names[j] for j in features)
    if task == REGRESSION:
        if not all_numeric:
            i = next(i for i, v in enumerate(numbers) if v is None)
            raise DataError(
                f"{path}, line {rows[i][0]}, column {t + 1} ({names[t]!r}): non-numeric target "
                f"{labels[i]!r} in a regression; use task='classification' for class labels"
            )
        y = np.asarray(numbers, dtype=np.float64)
        return Dataset(path.stem, X, y, REGRESSION, feature_names, names[t], (), str(path))
    if all_numeric:
        values = sorted(set(numbers))
        text: dict = {}
        for v, cell in zip(numbers, labels):
            text.setdefault(v, cell)  # a class is named as the file first writes it
        classes = tuple(text[v] for v in values)
        index = {v: k for k, v in enumerate(values)}
        y = np.asarray([index[v] for v in numbers], dtype=np.int64)
    else:
        classes = tuple(sorted(set(labels)))
        index = {c: k for k, c in enumerate(classes)}
        y = np.asarray([index[c] for c in labels], dtype=np.int64)
    if len(classes) < 2:
        raise DataError(
            f"{path}, column {t + 1} ({names[t]!r}): the target has a single class "
            f"{classes[0]!r}; classification needs at least 2 classes"
        )
    return Dataset(path.stem, X, y, CLASSIFICATION, feature_names, names[t], classes, str(path))


def _listing(names, most: int = 8, show=str) -> str:
    """``a, b, c, ... (64 in all)`` for an error message: the first ``most`` names."""
    shown = ", ".join(map(show, list(names)[:most]))
    return shown if len(names) <= most else f"{shown}, ... ({len(names)} in all)"


def load_features_csv(
    path: str | os.PathLike, feature_names: tuple[str, ...] | list[str]
) -> tuple[np.ndarray, list[str]]:
    """Feature matrix for prediction from a CSV file, columns matched to ``feature_names``.

    With a header, columns are found by name (other columns, such as the target, are ignored and
    returned in the second value); without one, the file must have exactly the features, in order.
    """
    path = Path(path)
    rows = _read_rows(path)
    first = rows[0][1]
    header = set(feature_names) <= set(first) or not any(_number(c) is not None for c in first)
    if header:
        header_line, names = rows[0]
        rows = rows[1:]
        missing = [f for f in feature_names if f not in names]
        if missing:
            raise DataError(
                f"{path}, line {header_line}: missing feature column(s) "
                f"{_listing(missing, 5, repr)}; the model needs: {_listing(feature_names)}"
            )
        cols = [names.index(f) for f in feature_names]
        extra = [n for n in names if n not in feature_names]
        if not rows:
            raise DataError(f"{path}: the header (line {header_line}) has no data rows below it")
    else:
        header_line, names = rows[0][0], []
        if len(first) != len(feature_names):
            raise DataError(
                f"{path}, line {header_line}: {len(first)} columns and no header; the model needs "
                f"{len(feature_names)} features ({_listing(feature_names)}); add a header line"
            )
        cols, extra = list(range(len(feature_names))), []
    width = len(names) if header else len(feature_names)
    return _feature_matrix(path, rows, cols, names, width, header_line), extra


def _feature_matrix(path, rows, cols, names, width, header_line) -> np.ndarray:
    """Columns ``cols`` of the CSV ``rows`` (line, cells) as floats; a ragged row or a missing or
    non-numeric cell raises DataError naming the file, line and column (and its header name)."""
    X = np.empty((len(rows), len(cols)), dtype=np.float64)
    for i, (line, cells) in enumerate(rows):
        if len(cells) != width:
            raise DataError(
                f"{path}, line {line}, column {min(len(cells), width) + 1}: ragged row with "
                f"{len(cells)} fields, expected {width} (as in line {header_line})"
            )
        for k, j in enumerate(cols):
            value = _number(cells[j])
            if value is None:
                cell = cells[j]
                what = "missing value" if _is_missing(cell) else f"non-numeric value {cell!r}"
                label = f" ({names[j]!r})" if names else ""
                raise DataError(
                    f"{path}, line {line}, column {j + 1}{label}: {what}; every feature must be "
                    "a finite number (fill or drop the row, or encode the column)"
                )
            X[i, k] = value
    return X


# ----------------------------------------------------------------------------- splits


@dataclass(frozen=True)
class Split:
    """Train / validation / test parts of one dataset (disjoint, covering it)."""

    train: Dataset
    val: Dataset
    test: Dataset
    indices: dict = field(default_factory=dict, compare=False)


def split_indices(
    y: np.ndarray,
    *,
    val: float = 0.1,
    test: float = 0.2,
    seed: int = 0,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    parts: tuple[list, list, list] = ([], [], [])
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

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> Standardizer:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[:, None]
        if len(X) == 0:
            raise MemogradValueError("Standardizer.fit: no samples to fit on")
        mean = X.mean(axis=0)
        std = X.std(axis=0)
        scale = np.where(std > 1e-12 * np.maximum(1.0, np.abs(mean)), std, 1.0)
        return cls(mean, scale)

    @classmethod
    def identity(cls, d: int) -> Standardizer:
        return cls(np.zeros(d), np.ones(d))

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.shape[-1] != self.mean.shape[0]:
            raise MemogradValueError(
                f"Standardizer: data has {X.shape[-1]} features, fitted on {self.mean.shape[0]}"
            )
        return (X - self.mean) / self.scale

    def inverse(self, Z: np.ndarray) -> np.ndarray:
        return np.asarray(Z) * self.scale + self.mean

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> Standardizer:
        mean = np.asarray(d["mean"], dtype=np.float64)
        scale = np.asarray(d["scale"], dtype=np.float64)
        if mean.shape != scale.shape or mean.ndim != 1 or not np.all(scale > 0):
            raise MemogradValueError("Standardizer.from_dict: mean and scale must match, scale > 0")
        return cls(mean, scale)


# ----------------------------------------------------------------------------- batching


def batches(
    X: np.ndarray,
    y: np.ndarray | None = None,
    *,
    batch_size: int = 32,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
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


def fingerprint(*arrays: np.ndarray) -> str:
    """Short hash of arrays' dtype, shape and bytes (a resumed run checks its data is the same)."""
    import hashlib

    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]
