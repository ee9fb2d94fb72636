"""The pictures of a training run, drawn with matplotlib (the ``plot`` extra): loss and accuracy
curves, the test confusion matrix, and the decision boundary of a 2-D input."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np

from memograd.train.loop import TrainResult
from memograd.train.metrics import confusion_matrix, predict_scores, predicted_classes

PLOT_EXTRA = "pip install 'memograd[plot]'"


def text(value: object) -> str:
    """A user string (column name, class label, dataset name) as matplotlib text: ``$`` would
    start mathtext (``$\\foo$`` stops the figure with a parse error), so it is escaped, and a
    control character (ESC) is written as its escape (``\\x1b``), which a font can show."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))
    return shown.replace("$", r"\$")


def plots_unavailable() -> str | None:
    """Why no pictures can be drawn (matplotlib missing), or None when they can."""
    try:
        import matplotlib
    except ImportError:
        return f"matplotlib is not installed ({PLOT_EXTRA})"
    matplotlib.use("Agg")
    return None


def write_plots(result: TrainResult, out: str | Path) -> dict[str, str]:
    """curves.png, confusion.png (classes, with a test split) and boundary.png (2 inputs) in the
    run folder ``out``; {} when matplotlib is missing (see :func:`plots_unavailable`)."""
    if plots_unavailable() is not None:
        return {}
    out = Path(out)
    written = {"curves": str(plot_curves(result, out / "curves.png"))}
    d = result.data
    if d.is_classification and len(d.y["test"]):
        written["confusion"] = str(plot_confusion(result, out / "confusion.png"))
    if d.X["train"].shape[1] == 2:
        written["boundary"] = str(plot_boundary(result, out / "boundary.png"))
    return written


def _save_png(fig: Any, path: Path) -> Path:
    import io

    from memograd._io import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def plot_curves(result: TrainResult, path: Path) -> Path:
    """Loss (left) and accuracy or R² (right) per epoch, training and validation."""
    import matplotlib.pyplot as plt

    h = result.history
    epochs = [r["epoch"] for r in h]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    axes[0].plot(epochs, [r["train_loss"] for r in h], label="train")
    if any("val_loss" in r for r in h):
        axes[0].plot(epochs, [r.get("val_loss", np.nan) for r in h], label="validation")
    axes[0].set(xlabel="epoch", ylabel=f"loss ({result.metrics['loss_function']})", title="Loss")
    axes[0].set_yscale("log")
    if result.data.is_classification:
        axes[1].plot(epochs, [r.get("train_accuracy", np.nan) for r in h], label="train")
        axes[1].plot(epochs, [r.get("val_accuracy", np.nan) for r in h], label="validation")
        axes[1].set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    else:
        axes[1].plot(epochs, [r.get("val_r2", np.nan) for r in h], label="validation")
        axes[1].set(xlabel="epoch", ylabel="R²", title="R²")
    best = result.metrics.get("best_epoch")
    for ax in axes:
        if best:
            ax.axvline(best, color="grey", linestyle=":", label=f"best epoch {best}")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"{text(result.data.dataset.name)}: {result.metrics['architecture']} MLP")
    return _save_png(fig, path)


def plot_confusion(result: TrainResult, path: Path) -> Path:
    import matplotlib.pyplot as plt

    d = result.data
    pred = predicted_classes(predict_scores(result.model, d.X["test"]))
    k = d.dataset.n_classes
    m = confusion_matrix(d.y["test"], pred, k)
    fig, ax = plt.subplots(figsize=(max(4.5, 1.2 + 0.5 * k), max(4.0, 1 + 0.5 * k)))
    ax.imshow(m, cmap="Blues")
    labels = [text(c[:12]) for c in d.dataset.classes]
    slanted = k > 4 or max(map(len, labels)) > 6
    ax.set_xticks(
        range(k), labels, rotation=45 if slanted else 0, ha="right" if slanted else "center"
    )
    ax.set_yticks(range(k), labels)
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                str(m[i, j]),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if m[i, j] > m.max() / 2 else "black",
            )
    ax.set(
        xlabel="predicted",
        ylabel="true",
        title=f"Test confusion matrix (accuracy {result.metrics.get('test_accuracy', 0):.3f})",
    )
    return _save_png(fig, path)


def plot_boundary(result: TrainResult, path: Path) -> Path:
    """The model's decision regions (or regression surface) over the 2-D input plane."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    d = result.data
    X = np.concatenate([d.X[s] for s in ("train", "val", "test")])
    raw = d.scaler.inverse(X)
    lo, hi = raw.min(0), raw.max(0)
    pad = 0.1 * (hi - lo)
    gx, gy = np.meshgrid(
        np.linspace(lo[0] - pad[0], hi[0] + pad[0], 200),
        np.linspace(lo[1] - pad[1], hi[1] + pad[1], 200),
    )
    grid = np.stack([gx.ravel(), gy.ravel()], 1)
    scores = predict_scores(result.model, d.scaler.transform(grid).astype(d.X["train"].dtype))
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    test = d.scaler.inverse(d.X["test"])
    if d.is_classification:
        z = predicted_classes(scores).reshape(gx.shape)
        k = d.dataset.n_classes
        ax.contourf(gx, gy, z, levels=np.arange(k + 1) - 0.5, cmap="coolwarm", alpha=0.35)
        points = ax.scatter(
            test[:, 0],
            test[:, 1],
            c=d.y["test"],
            cmap="coolwarm",
            s=12,
            edgecolors="k",
            linewidths=0.3,
            vmin=0,
            vmax=k - 1,
        )
        colour_of: Any = points.to_rgba  # a class index -> its colour (typed for arrays only)
        handles = [
            Line2D([], [], ls="", marker="o", mec="k", mew=0.3, mfc=colour_of(i)) for i in range(k)
        ]
        ax.legend(handles, [f"class {text(c)}" for c in d.dataset.classes], fontsize=8, loc="best")
        ax.set_title(
            f"Decision boundary, test points (accuracy {result.metrics['test_accuracy']:.3f})"
        )
    else:
        target_scaler: Any = d.target_scaler  # a regression run always has one
        z = target_scaler.inverse(scores[:, :1])[:, 0].reshape(gx.shape)
        cs = ax.contourf(gx, gy, z, levels=20, cmap="viridis")
        fig.colorbar(cs, ax=ax, label=text(d.dataset.target_name))
        truth = target_scaler.inverse(d.y["test"][:, None].astype(np.float64))[:, 0]
        ax.scatter(
            test[:, 0],
            test[:, 1],
            c=truth,
            cmap="viridis",
            norm=cast(Any, cs.norm),
            s=16,
            edgecolors="w",
        )
        ax.set_title(
            "Predicted surface; test points in their true colour "
            f"(R² {result.metrics['test_r2']:.3f})",
            fontsize=10,
        )
    names = d.dataset.feature_names
    ax.set(xlabel=text(names[0]), ylabel=text(names[1]))
    return _save_png(fig, path)
