"""The :class:`Dataset` record: features ``X`` (n, d) float64 and targets ``y`` (n,)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from numpy.typing import NDArray

from memograd.errors import MemogradValueError

CLASSIFICATION = "classification"
REGRESSION = "regression"


@dataclass(frozen=True)
class Dataset:
    """Features ``X`` (n, d) float64 and targets ``y`` (n,): class indices or real numbers.

    ``classes`` are the class labels as strings (``y`` indexes them); empty for regression."""

    name: str
    X: NDArray[Any]
    y: NDArray[Any]
    task: str
    feature_names: tuple[str, ...]
    target_name: str = "target"
    classes: tuple[str, ...] = ()
    source: str = ""
    sha256: str = ""  # of the file's bytes, for a dataset read from a file

    def __post_init__(self) -> None:
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

    def subset(self, index: NDArray[Any]) -> Dataset:
        return replace(self, X=self.X[index], y=self.y[index])

    def describe(self) -> dict[str, Any]:
        info = {
            "name": self.name,
            "task": self.task,
            "samples": self.n_samples,
            "features": self.n_features,
        }
        if self.is_classification:
            info["classes"] = self.n_classes
        return info
