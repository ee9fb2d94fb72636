"""``memograd predict``: apply a trained model to the rows of a CSV file."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memograd.cli import UI

import argparse
from typing import Any

HELP = "predict with a trained model on the rows of a CSV file"
DESCRIPTION = (
    "Read a CSV file with the model's feature columns (found by name in the header; any other "
    "column, such as the target, is ignored), standardise it as in training and write one "
    "prediction per row: the class (and its probability) or the predicted value."
)
EXAMPLE = [
    "memograd predict --model runs/mine --csv new.csv --out predictions.csv",
    "memograd predict --model runs/mine --csv new.csv --json",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR", help="run folder (or checkpoint)")
    parser.add_argument("--csv", required=True, metavar="FILE", help="rows to predict")
    parser.add_argument("--out", metavar="FILE", help="write predictions.csv here")
    parser.add_argument("--json", action="store_true", help="print the predictions as JSON")


def predict_rows(model_path: Any, csv_path: Any) -> Any:
    """(header, rows) of predictions for every row of ``csv_path``."""
    import numpy as np

    from memograd.data import Standardizer, load_features_csv
    from memograd.train import load_run, predict_scores

    model, ck = load_run(model_path)
    pre = ck.metadata["preprocessing"]
    names = pre["feature_names"]
    X, _ = load_features_csv(csv_path, names)
    scaler = Standardizer.from_dict(pre["standardizer"])
    Z = scaler.transform_finite(X, str(model.config["dtype"]), names, str(csv_path))
    scores = predict_scores(model, Z)
    target = pre.get("target_name") or "prediction"
    if pre["task"] == "classification":
        classes = pre["classes"]
        if scores.shape[1] == 1:  # one logit: P(class 1) = sigmoid
            p1 = 1.0 / (1.0 + np.exp(-scores[:, 0].astype(np.float64)))
            probs = np.stack([1 - p1, p1], 1)
        else:
            z = scores.astype(np.float64)
            z = np.exp(z - z.max(1, keepdims=True))
            probs = z / z.sum(1, keepdims=True)
        pred = probs.argmax(1)
        header = [target, "probability"]
        rows = [[classes[k], float(probs[i, k])] for i, k in enumerate(pred)]
    else:
        ts = Standardizer.from_dict(pre["target_standardizer"])
        values = ts.inverse(scores[:, :1].astype(np.float64))[:, 0]
        header = [target]
        rows = [[float(v)] for v in values]
    return header, rows


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A prediction as a CSV cell: numbers to 6 significant digits; a label that a spreadsheet
    would run as a formula (``=1+2``, ``@SUM(A1)``, ``+cmd``) gets a leading ``'`` (the usual
    CSV-injection guard), unless it is a plain number such as ``-1``."""
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    if text.startswith(_FORMULA_START):
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


def run(args: argparse.Namespace, ui: UI) -> int:
    import csv
    import io

    from memograd._io import atomic_write_text, writable_target
    from memograd.cli import user_text as literal

    if args.out:
        writable_target(args.out)  # a device, FIFO or folder is refused before the work
    header, rows = predict_rows(args.model, args.csv)
    if args.out:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([csv_cell(h) for h in header])
        w.writerows([[csv_cell(v) for v in r] for r in rows])
        atomic_write_text(args.out, buf.getvalue())
    if args.json:
        ui.json({"model": str(args.model), "predictions": [dict(zip(header, r)) for r in rows]})
    elif args.out:
        ui.print(f"{len(rows)} predictions written to [bold]{literal(args.out)}[/]")
    else:
        from rich.table import Table

        t = Table()
        for h in ["row", *header]:
            t.add_column(literal(h), justify="right")
        for i, r in enumerate(rows[:50], 1):
            t.add_row(str(i), *(f"{v:.4g}" if isinstance(v, float) else literal(v) for v in r))
        ui.print(t)
        if len(rows) > 50:
            ui.print(f"... {len(rows) - 50} more rows; use --out FILE to write them all")
    return 0
