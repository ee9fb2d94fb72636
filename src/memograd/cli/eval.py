"""``memograd eval``: score a trained run on its test split or on another dataset / CSV file."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memograd.cli import UI

import argparse
from typing import Any

HELP = "evaluate a trained model (accuracy or R², loss, confusion matrix)"
DESCRIPTION = (
    "Score the model saved in a run folder. By default it is scored on the test split of the "
    "data it was trained on (rebuilt from the checkpoint: same seed, same split, same "
    "standardisation); --dataset or --csv scores it on all rows of other data with the same "
    "features instead."
)
EXAMPLE = [
    "memograd eval --model runs/digits",
    "memograd eval --model runs/mine --csv new.csv --target species --json",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from memograd.data import DATASETS

    parser.add_argument("--model", required=True, metavar="DIR", help="run folder (or checkpoint)")
    parser.add_argument(
        "--dataset", choices=DATASETS, metavar="NAME", help="score on all of this built-in dataset"
    )
    parser.add_argument("--csv", metavar="FILE", help="score on this CSV file (with --target)")
    parser.add_argument("--target", metavar="COLUMN", help="the CSV's target column")
    parser.add_argument(
        "--split",
        choices=("train", "val", "test"),
        default="test",
        help="which split of the training data to score (default test)",
    )
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")


def evaluate_run(args: argparse.Namespace) -> Any:
    import numpy as np

    from memograd.cli import UsageError
    from memograd.data import Standardizer, load_csv, load_dataset
    from memograd.errors import DataError
    from memograd.nn.losses import LOSSES
    from memograd.tensor.tensor import Tensor, no_grad
    from memograd.train import (
        TrainConfig,
        confusion_matrix,
        load_run,
        predict_scores,
        predicted_classes,
        prepare_data,
        r2_score,
    )

    if args.csv and args.dataset:
        raise UsageError("give --dataset or --csv, not both")
    if args.csv and not args.target:
        raise UsageError("--csv needs --target COLUMN")
    model, ck = load_run(args.model)
    meta = ck.metadata
    pre = meta["preprocessing"]
    loss_name = meta.get("loss", "cross_entropy")
    scaler = Standardizer.from_dict(pre["standardizer"])
    classes = list(pre["classes"])
    task = pre["task"]
    if args.csv or args.dataset:
        ds = load_csv(args.csv, args.target, task=task) if args.csv else load_dataset(args.dataset)
        if args.csv:
            ds = match_columns(ds, pre["feature_names"], args.model)
        if ds.task != task:
            raise DataError(
                f"{args.model} does {task}, {ds.name} is a {ds.task}; score it on data like "
                f"{pre.get('dataset')!r}, which it was trained on"
            )
        if ds.n_features != len(pre["feature_names"]):
            names = pre["feature_names"]
            shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
            raise DataError(
                f"{args.model} takes {len(names)} features ({shown}), {ds.name} has "
                f"{ds.n_features}; score it on data like {pre.get('dataset')!r}, which it was "
                "trained on"
            )
        X = scaler.transform_finite(ds.X, str(model.config["dtype"]), ds.feature_names, ds.name)
        if task == "classification":
            index = {c: i for i, c in enumerate(classes)}
            unknown = sorted(set(ds.classes) - set(index))
            if unknown:
                raise DataError(
                    f"{ds.name} has classes {args.model} never saw: {', '.join(unknown)} "
                    f"(it knows {', '.join(classes)})"
                )
            y = np.array([index[ds.classes[k]] for k in ds.y], dtype=np.int64)
        else:
            ts = Standardizer.from_dict(pre["target_standardizer"])
            y = ts.transform(ds.y[:, None])[:, 0].astype(str(model.config["dtype"]))
        source = ds.name
    else:
        if "config" not in meta:
            raise DataError(
                f"{args.model}: the checkpoint does not record its training data; "
                "score it with --dataset NAME or --csv FILE --target COLUMN"
            )
        cfg = TrainConfig.from_dict(meta["config"])
        if cfg.csv is not None and cfg.csv_sha256 is None:
            raise DataError(
                f"{args.model} was trained on {cfg.csv!r} by an older memograd that did not record "
                "the file's SHA-256, so it is not opened on the checkpoint's word; score it with "
                f"--csv FILE --target {cfg.target or 'COLUMN'}"
            )
        data = prepare_data(cfg)
        if data.fingerprint != meta.get("data_fingerprint"):
            raise DataError(
                "the training data changed since this run was trained; pass --dataset or --csv"
            )
        X, y = data.X[args.split], data.y[args.split]
        source = f"{data.dataset.name} ({args.split} split)"
    if len(X) == 0:
        raise DataError("nothing to score: the data has no rows")
    scores = predict_scores(model, X)
    grad_off: Any = no_grad  # (memograd.tensor's mode helpers are not typed yet)
    loss_fn: Any = LOSSES[loss_name]
    with grad_off():
        loss = float(loss_fn(Tensor(scores), y).item())
    result = {"model": str(args.model), "data": source, "samples": int(len(y)), "loss": loss}
    if task == "classification":
        pred = predicted_classes(scores)
        result["accuracy"] = float(np.mean(pred == y))
        result["classes"] = classes
        result["confusion_matrix"] = confusion_matrix(y, pred, len(classes)).tolist()
    else:
        result["r2"] = r2_score(y.astype(np.float64), scores[:, 0].astype(np.float64))
        ts = Standardizer.from_dict(pre["target_standardizer"])
        result["rmse"] = float(np.sqrt(np.mean((scores[:, 0] - y) ** 2)) * ts.scale[0])
    return result


def match_columns(ds: Any, names: Any, model: Any) -> Any:
    """``ds`` with its feature columns in the order of the model's ``names``, found by name (as
    ``predict`` does); a missing or unknown column is refused with the names."""
    from memograd.data import Dataset
    from memograd.errors import DataError

    position = {n: j for j, n in enumerate(ds.feature_names)}
    missing = [n for n in names if n not in position]
    wanted = set(names)
    unknown = [n for n in ds.feature_names if n not in wanted]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"lacks the model's feature column(s) {_listing(missing)}")
        if unknown:
            parts.append(f"has column(s) the model was not trained on: {_listing(unknown)}")
        raise DataError(
            f"{ds.source or ds.name}: {'; and '.join(parts)}; {model} takes "
            f"{_listing(list(names))} (plus the --target column)"
        )
    cols = [position[n] for n in names]
    if cols == list(range(len(cols))):
        return ds
    return Dataset(
        ds.name, ds.X[:, cols], ds.y, ds.task, tuple(names), ds.target_name, ds.classes,
        ds.source, ds.sha256,
    )  # fmt: skip


def _listing(names: Any, most: int = 6) -> str:
    shown = ", ".join(repr(n) for n in names[:most])
    return shown if len(names) <= most else f"{shown}, ... ({len(names)} in all)"


def run(args: argparse.Namespace, ui: UI) -> int:
    result = evaluate_run(args)
    if args.json:
        ui.json(result)
        return 0
    from rich.table import Table

    from memograd.cli import user_text as literal

    t = Table(title=f"{literal(result['model'])} on {literal(result['data'])}", show_header=False)
    t.add_column("what", style="bold")
    t.add_column("value", justify="right")
    t.add_row("samples", str(result["samples"]))
    if "accuracy" in result:
        t.add_row("accuracy", f"{result['accuracy']:.4f}")
    if "r2" in result:
        t.add_row("R²", f"{result['r2']:.4f}")
        t.add_row("RMSE", f"{result['rmse']:.4g}")
    t.add_row("loss", f"{result['loss']:.4f}")
    ui.print(t)
    if "confusion_matrix" in result and len(result["classes"]) <= 12:
        cm = Table(title="confusion matrix (rows: true, columns: predicted)")
        cm.add_column("")
        for c in result["classes"]:
            cm.add_column(literal(c[:10]), justify="right")
        for c, row in zip(result["classes"], result["confusion_matrix"]):
            cm.add_row(literal(c[:10]), *map(str, row))
        ui.print(cm)
    return 0
