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

One job per module: :mod:`~memograd.data.dataset` (the Dataset record),
:mod:`~memograd.data.builtin` (named datasets), :mod:`~memograd.data.csv_files` (CSV reading),
:mod:`~memograd.data.prep` (splits, standardisation, batching, fingerprints).
"""

from memograd.data.builtin import (
    DATASETS,
    load_dataset,
    make_circles,
    make_moons,
    make_spirals,
    make_toy,
    make_xor,
)
from memograd.data.csv_files import MAX_CSV_BYTES, MISSING, load_csv, load_features_csv
from memograd.data.dataset import CLASSIFICATION, REGRESSION, Dataset
from memograd.data.prep import (
    Split,
    Standardizer,
    batches,
    fingerprint,
    num_batches,
    split_dataset,
    split_indices,
)

__all__ = [
    "CLASSIFICATION",
    "DATASETS",
    "MAX_CSV_BYTES",
    "MISSING",
    "REGRESSION",
    "Dataset",
    "Split",
    "Standardizer",
    "batches",
    "fingerprint",
    "load_csv",
    "load_dataset",
    "load_features_csv",
    "make_circles",
    "make_moons",
    "make_spirals",
    "make_toy",
    "make_xor",
    "num_batches",
    "split_dataset",
    "split_indices",
]
