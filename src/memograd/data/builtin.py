"""Named datasets: scikit-learn's offline ones and generated ones, all seeded.

``digits`` (the default of ``memograd train``) is shipped with memograd (``datasets/``, with its
licence: UCI, CC BY 4.0), so it needs nothing; the other scikit-learn datasets need the ``data``
extra."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from memograd.data.dataset import CLASSIFICATION, REGRESSION, Dataset
from memograd.errors import DataError, MemogradValueError

_SKLEARN = {
    "digits": "load_digits",
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
    "diabetes": "load_diabetes",
}


#: shipped in memograd/data/datasets/ (see LICENSE-digits.txt there): no scikit-learn needed
_BUNDLED = {"digits": "digits.csv.gz"}


def _load_bundled(name: str) -> Dataset:
    """The shipped copy of scikit-learn's digits file, read as ``sklearn.datasets.load_digits``
    reads it (the same arrays)."""
    import gzip
    import io
    from importlib.resources import files

    raw = files("memograd.data").joinpath("datasets").joinpath(_BUNDLED[name]).read_bytes()
    data = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",")
    X, y = data[:, :-1], data[:, -1].astype(np.int64)
    features = tuple(f"pixel_{i // 8}_{i % 8}" for i in range(X.shape[1]))
    classes = tuple(str(c) for c in range(10))
    source = "UCI optdigits test set (CC BY 4.0), shipped with memograd"
    return Dataset(name, X, y, CLASSIFICATION, features, "class", classes, source=source)


def _load_sklearn(name: str, seed: int, n_samples: int | None, noise: float | None) -> Dataset:
    if name in _BUNDLED:
        return _load_bundled(name)
    try:
        import sklearn.datasets as skd
    except ImportError:
        raise DataError(
            f"dataset {name!r} comes with scikit-learn, which is not installed: "
            "pip install 'memograd[data]' (or pip install scikit-learn); digits and the "
            "generated datasets (moons, circles, spirals, xor, toy) need nothing"
        ) from None
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


def _shuffled(
    name: str,
    X: NDArray[np.float64],
    y: NDArray[np.int64],
    features: tuple[str, ...],
    classes: tuple[str, ...],
    rng: np.random.Generator,
) -> Dataset:
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

#: the most samples a generated dataset may have
MAX_GENERATED = 1_000_000

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
        kwargs: dict[str, Any] = {"seed": seed}
        if n_samples is not None:
            if not 8 <= n_samples <= MAX_GENERATED:
                raise MemogradValueError(
                    f"load_dataset: n_samples must be from 8 to {MAX_GENERATED:,}, "
                    f"got {n_samples:,}"
                )
            kwargs["n_samples"] = int(n_samples)
        if noise is not None:
            if not (noise >= 0 and math.isfinite(noise)):
                raise MemogradValueError(f"load_dataset: noise must be >= 0, got {noise}")
            kwargs["noise"] = float(noise)
        return _GENERATED[key](**kwargs)
    raise MemogradValueError(
        f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)} or pass a CSV file"
    )
