"""What to export: a model (or a run folder) and its preprocessing, read into layers + metadata."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union

from numpy.typing import ArrayLike

from memograd._io import StrPath
from memograd.export.layers import ExportError, Layer, describe, n_inputs, standardize_layer

if TYPE_CHECKING:
    from memograd.data.prep import Standardizer
    from memograd.nn.module import Module

# how the exported model standardises its inputs: a Standardizer, {"mean", "scale"}, a (mean,
# scale) pair, False for none, or None for the run's own (or the model's input_standardization)
Preprocessing = Union[
    "Standardizer", dict[str, ArrayLike], tuple[ArrayLike, ArrayLike], Literal[False], None
]


@dataclass
class Source:
    """The layers to write (the standardisation first, when there is one) and JSON-ready
    metadata: task, classes, feature names, the target's standardisation, where it came from."""

    layers: list[Layer]
    info: dict[str, Any]
    model: object
    checkpoint: object = None  # the run's checkpoint when exported from a run folder

    @property
    def standardized(self) -> bool:
        return self.layers[0].kind == "standardize"


def _statistics(preprocessing: object) -> tuple[Any, ...] | None:
    """(mean, scale) of a Standardizer, a {"mean", "scale"} dict or a pair; None for none."""
    if preprocessing is None or preprocessing is False:
        return None
    if isinstance(preprocessing, dict):
        try:
            return preprocessing["mean"], preprocessing["scale"]
        except KeyError:
            raise ExportError("preprocessing: a dict needs the keys 'mean' and 'scale'") from None
    if hasattr(preprocessing, "mean") and hasattr(preprocessing, "scale"):
        return preprocessing.mean, preprocessing.scale
    if isinstance(preprocessing, (tuple, list)) and len(preprocessing) == 2:
        return tuple(preprocessing)
    raise ExportError(
        "preprocessing: give a memograd.data.Standardizer, a {'mean', 'scale'} dict, "
        f"(mean, scale) or False, got {type(preprocessing).__name__}"
    )


def _version() -> str:
    """memograd's version (read without importing the package root, a higher layer)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("memograd")
    except PackageNotFoundError:
        return "unknown"


def resolve(
    model: Module | StrPath, preprocessing: Preprocessing = None, target: str = "PyTorch"
) -> Source:
    """Read ``model`` (an ``mg.nn`` model, or a run folder / checkpoint path) for export.

    ``preprocessing=None`` uses the run's standardisation (or the ``input_standardization`` a
    model imported by ``MLP.from_torch`` carries); ``False`` exports the bare network."""
    info: dict[str, Any] = {"memograd_version": _version()}
    checkpoint = None
    if isinstance(model, (str, os.PathLike)):
        from memograd.train import load_run

        model, checkpoint = load_run(Path(model))
        pre = checkpoint.metadata["preprocessing"]
        info.update(
            source=str(checkpoint.path),
            task=pre.get("task"),
            classes=list(pre.get("classes") or []),
            feature_names=list(pre.get("feature_names") or []),
            target_name=pre.get("target_name"),
            target_standardizer=pre.get("target_standardizer"),
            dataset=pre.get("dataset"),
            loss=checkpoint.metadata.get("loss"),
        )
        if preprocessing is None:
            std = pre.get("standardizer")
            preprocessing = std if std else False
    elif preprocessing is None:
        preprocessing = getattr(model, "input_standardization", None)
    layers = describe(model, target)
    config = getattr(model, "config", None)
    if isinstance(config, dict):
        info["architecture"] = config
    stats = _statistics(preprocessing)
    if stats is not None:
        std = standardize_layer(*stats)
        if std.in_features != n_inputs(layers):
            raise ExportError(
                f"export to {target}: the standardisation has {std.in_features} features, the "
                f"model takes {n_inputs(layers)}"
            )
        layers = [std, *layers]
    return Source(layers, {k: v for k, v in info.items() if v is not None}, model, checkpoint)
