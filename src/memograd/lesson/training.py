"""Section 6: a real training run with the same memoized backward, on arrays (a few seconds).

An MLP learns the two-moons problem with :mod:`memograd.nn` and :mod:`memograd.optim`; every
mini-batch step is a forward pass, ``loss.backward()`` (the same ``memograd.graph.backward`` as the
2-2-2-1 network of the earlier sections, now with a matrix per node) and an AdamW update. The
lesson trains eagerly (``compile=False``): each step builds its graph and walks it, as the text
says; ``memograd train`` replays a recorded step instead (``mg.tensor.compile_step``), faster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memograd.lesson import UI

import time
from typing import Any

KEY = "training"
TITLE = "A real training run: the same backward, on arrays"
SEED = 0


def compute(options: dict[str, Any] | None = None) -> dict[str, Any]:
    import numpy as np

    from memograd.nn import cross_entropy
    from memograd.tensor.tensor import Tensor
    from memograd.train import TrainConfig, Trainer, predict_scores, predicted_classes

    options = options or {}
    quick = bool(options.get("quick"))
    cfg = TrainConfig(
        dataset="moons",
        n_samples=300 if quick else 1000,
        noise=0.15,
        hidden=[16, 16],
        epochs=8 if quick else 40,
        batch_size=32,
        patience=None,
        seed=SEED,
        compile=False,  # every step builds its graph and runs graph.backward, as rendered
    )
    from memograd import blas

    start = time.perf_counter()
    trainer = Trainer(cfg)
    # 2-16-16-2 on batches of 32: one BLAS thread (memograd.blas's rule), unless --threads says
    with blas.auto(blas.mlp_flops([2, *cfg.hidden, 2], cfg.batch_size), options.get("threads")):
        result = trainer.run()
    seconds = time.perf_counter() - start
    m = result.metrics
    # one more step, to show what a single backward does in the memo table
    d = result.data
    xb, yb = d.X["train"][: cfg.batch_size], d.y["train"][: cfg.batch_size]
    ce: Any = cross_entropy  # memograd.nn.losses is not typed yet
    loss = ce(result.model(Tensor(xb)), yb)
    stats = loss.backward()
    result.model.zero_grad()
    # decision regions on a coarse grid (in the original coordinates), for the picture
    raw = d.scaler.inverse(np.concatenate([d.X[s] for s in ("train", "val", "test")]))
    lo, hi = raw.min(0) - 0.2, raw.max(0) + 0.2
    n = 64
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n))
    grid = np.stack([gx.ravel(), gy.ravel()], 1)
    regions = predicted_classes(predict_scores(result.model, d.scaler.transform(grid).astype("f4")))
    test_raw = d.scaler.inverse(d.X["test"])
    return {
        "dataset": "moons",
        "samples": {k: int(len(v)) for k, v in d.y.items()},
        "architecture": m["architecture"],
        "parameters": m["parameters"],
        "optimizer": f"{cfg.optimizer} lr={cfg.lr:g}",
        "batch_size": cfg.batch_size,
        "epochs": m["epochs"],
        "steps": m["epochs"] * trainer.steps_per_epoch,
        "train_loss": [r["train_loss"] for r in result.history],
        "val_loss": [r["val_loss"] for r in result.history],
        "val_accuracy": [r["val_accuracy"] for r in result.history],
        "test_accuracy": m["test_accuracy"],
        "best_epoch": m["best_epoch"],
        "seconds": round(seconds, 3),
        "samples_per_second": round(m["samples_per_second"]),
        "backward": {
            "nodes": stats.nodes,
            "edges": stats.edges,
            "peak_entries": stats.peak_entries,
        },
        "grid": {
            "x": [float(lo[0]), float(hi[0])],
            "y": [float(lo[1]), float(hi[1])],
            "n": n,
            "classes": regions.tolist(),
        },
        "test_points": [[float(a), float(b), int(c)] for (a, b), c in zip(test_raw, d.y["test"])],
    }


_BARS = "▁▂▃▄▅▆▇█"


def _sparkline(values: Any) -> str:
    import math

    logs = [math.log10(max(v, 1e-12)) for v in values]
    lo, hi = min(logs), max(logs)
    span = hi - lo or 1.0
    return "".join(_BARS[min(int((v - lo) / span * (len(_BARS) - 1) + 0.5), 7)] for v in logs)


def render(data: dict[str, Any], ui: UI) -> None:
    from rich.table import Table

    ui.print(
        f"An MLP {data['architecture']} ({data['parameters']:,} parameters) learns the two "
        f"moons ({data['samples']['train']} training points) with {data['optimizer']}, batches "
        f"of {data['batch_size']}: {data['steps']} steps, each a forward pass, ONE memoized "
        f"backward through graph.backward and an update."
    )
    ui.print(
        f"One step's backward: {data['backward']['nodes']} adjoints computed once each, "
        f"{data['backward']['edges']} edges (vector-Jacobian products), at most "
        f"{data['backward']['peak_entries']} entries alive in the memo table."
    )
    ui.print(f"training loss per epoch (log scale): {_sparkline(data['train_loss'])}")
    t = Table(show_header=False)
    t.add_column("what", style="bold")
    t.add_column("value", justify="right")
    t.add_row(
        "loss, first → last epoch", f"{data['train_loss'][0]:.4f} → {data['train_loss'][-1]:.4f}"
    )
    t.add_row("validation accuracy, last epoch", f"{data['val_accuracy'][-1]:.3f}")
    t.add_row("test accuracy", f"[bold]{data['test_accuracy']:.3f}[/]")
    t.add_row("time", f"{data['seconds']:.2f} s ({data['samples_per_second']:,} samples/s)")
    ui.print(t)
    ui.print("Train your own: [bold]memograd train --dataset moons --out runs/moons[/]")


_COLORS = ("#1c64c4", "#c2410c", "#2f9e44")
_FILLS = ("#dbe7f8", "#fde4d3", "#dcf2e0")


def _boundary_svg(data: dict[str, Any], size: float = 320.0) -> str:
    """Decision regions (grid cells merged into runs along each row) and the test points."""
    g = data["grid"]
    (x0, x1), (y0, y1), n = g["x"], g["y"], g["n"]
    step = size / (n - 1)  # grid point j sits at x = j * step; its cell spans ±step/2

    def px(x: float) -> Any:
        return (x - x0) / (x1 - x0) * size

    def py(y: float) -> Any:
        return size - (y - y0) / (y1 - y0) * size

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size:.0f}" height="{size:.0f}" '
        f'viewBox="0 0 {size:.0f} {size:.0f}" role="img" style="max-width: 100%; height: auto">',
        "<title>decision regions and test points</title>",
    ]
    classes = g["classes"]
    for i in range(n):  # row i holds the grid points with y = y0 + i (y1 - y0) / (n - 1)
        row = classes[i * n : (i + 1) * n]
        j = 0
        while j < n:
            k = j
            while k + 1 < n and row[k + 1] == row[j]:
                k += 1
            left = max(j * step - step / 2, 0.0)
            right = min(k * step + step / 2, size)
            top = max(size - i * step - step / 2, 0.0)
            bottom = min(size - i * step + step / 2, size)
            parts.append(
                f'<rect x="{left:.1f}" y="{top:.1f}" width="{right - left + 0.4:.1f}" '
                f'height="{bottom - top + 0.4:.1f}" fill="{_FILLS[row[j] % 3]}"/>'
            )
            j = k + 1
    for x, y, c in data["test_points"]:
        parts.append(
            f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.6" fill="{_COLORS[c % 3]}" '
            'stroke="#fff" stroke-width="0.5"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def html(data: dict[str, Any]) -> str:
    from memograd.viz.plot import Series, line_chart
    from memograd.viz.report import figure, table

    epochs = list(range(1, len(data["train_loss"]) + 1))
    chart = line_chart(
        [
            Series("training loss", epochs, data["train_loss"]),
            Series("validation loss", epochs, data["val_loss"], dashed=True),
        ],
        title="Cross-entropy loss per epoch",
        xlabel="epoch",
        ylabel="loss",
        log_y=True,
    )
    b = data["backward"]
    rows = [
        ["network", f"MLP {data['architecture']}, {data['parameters']:,} parameters"],
        [
            "data",
            f"two moons: {data['samples']['train']} train / {data['samples']['val']} "
            f"validation / {data['samples']['test']} test points",
        ],
        [
            "optimizer",
            f"{data['optimizer']}, batches of {data['batch_size']}, {data['steps']} steps",
        ],
        [
            "one backward",
            f"{b['nodes']} adjoints (each computed once), {b['edges']} edges, "
            f"peak {b['peak_entries']} memo entries",
        ],
        ["test accuracy", f"{data['test_accuracy']:.3f}"],
        ["time", f"{data['seconds']:.2f} s ({data['samples_per_second']:,} samples/s)"],
    ]
    return "\n".join(
        [
            "<p>The same backward pass trains a real network: each node of the graph now holds a "
            "matrix, and each local derivative is a vector-Jacobian product, but the memo table "
            "is the one from the 2-2-2-1 example: every adjoint is computed once and reused.</p>",
            table(["what", "value"], rows, left=(0, 1)),
            figure(chart, "training and validation loss (log scale)"),
            figure(_boundary_svg(data), "decision regions learned on the two moons, test points"),
            "<p>Train your own: <code>memograd train --dataset moons --out runs/moons</code>.</p>",
        ]
    )
