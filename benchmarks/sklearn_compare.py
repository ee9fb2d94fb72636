"""memograd's training stack beside scikit-learn's MLPClassifier / MLPRegressor.

Same split (memograd.data, stratified, seed 0), same standardisation (fitted on the training
split), same architecture, epochs, batch size, optimizer (Adam, same lr, betas, eps), no weight
decay, no early stopping, float32 for both, BLAS threads fixed with threadpoolctl. Each side's
time is the median wall time of a whole fit (all epochs) over --rounds runs; accuracy is on the
test split with the weights after the last epoch.

A second table runs ``memograd train``'s defaults (early stopping on the validation split, best
weights kept) over several seeds: the figures behind the README's quality claims.

    python benchmarks/sklearn_compare.py [--rounds 3] [--threads 1] [--seeds 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import warnings

import numpy as np

from memograd.train import TrainConfig, Trainer, prepare_data, r2_score

CASES = [
    # dataset, hidden, epochs, batch, lr
    ("digits", [64, 64], 30, 32, 1e-3),
    ("moons", [64, 64], 30, 32, 1e-3),
    ("iris", [64, 64], 100, 32, 1e-3),
    ("wine", [64, 64], 50, 32, 1e-3),
    ("breast_cancer", [64, 64], 30, 32, 1e-3),
    ("spirals", [64, 64], 100, 32, 1e-3),
    ("diabetes", [64, 64], 100, 32, 1e-3),
]


def run_memograd(name, hidden, epochs, batch, lr, seed=0):
    cfg = TrainConfig(
        dataset=name,
        hidden=hidden,
        epochs=epochs,
        batch_size=batch,
        lr=lr,
        patience=None,
        restore_best=False,
        val=0.1,
        seed=seed,
    )
    data = prepare_data(cfg)
    trainer = Trainer(cfg, data)
    start = time.perf_counter()
    result = trainer.run()
    seconds = time.perf_counter() - start
    m = result.metrics
    return seconds, m.get("test_accuracy", m.get("test_r2")), data


def run_sklearn(data, hidden, epochs, batch, lr, seed=0):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    common = dict(
        hidden_layer_sizes=tuple(hidden),
        solver="adam",
        learning_rate_init=lr,
        batch_size=batch,
        max_iter=epochs,
        alpha=0.0,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        shuffle=True,
        random_state=seed,
    )
    X, Xt = data.X["train"], data.X["test"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if data.is_classification:
            model = MLPClassifier(**common)
            start = time.perf_counter()
            model.fit(X, data.y["train"])
            seconds = time.perf_counter() - start
            return seconds, float(model.score(Xt, data.y["test"]))
        model = MLPRegressor(**common)
        start = time.perf_counter()
        model.fit(X, data.y["train"])
        seconds = time.perf_counter() - start
        return seconds, r2_score(data.y["test"].astype(float), model.predict(Xt).astype(float))


def compare(rounds: int) -> list[dict]:
    rows = []
    for name, hidden, epochs, batch, lr in CASES:
        ours, theirs, ours_q, theirs_q = [], [], None, None
        for _ in range(rounds):
            s, q, data = run_memograd(name, hidden, epochs, batch, lr)
            ours.append(s)
            ours_q = q
            s2, q2 = run_sklearn(data, hidden, epochs, batch, lr)
            theirs.append(s2)
            theirs_q = q2
        rows.append(
            {
                "dataset": name,
                "metric": "accuracy" if data.is_classification else "R²",
                "arch": "-".join(map(str, [data.X["train"].shape[1], *hidden])),
                "epochs": epochs,
                "batch": batch,
                "memograd_q": ours_q,
                "sklearn_q": theirs_q,
                "memograd_s": statistics.median(ours),
                "sklearn_s": statistics.median(theirs),
            }
        )
        print(rows[-1], flush=True)
    return rows


def defaults(seeds: int) -> list[dict]:
    rows = []
    for name in ("digits", "moons", "iris", "wine", "breast_cancer", "diabetes"):
        qs, secs, epochs = [], [], []
        for seed in range(seeds):
            cfg = TrainConfig(dataset=name, seed=seed)
            start = time.perf_counter()
            r = Trainer(cfg).run()
            secs.append(time.perf_counter() - start)
            m = r.metrics
            qs.append(m.get("test_accuracy", m.get("test_r2")))
            epochs.append(m["epochs"])
        rows.append(
            {
                "dataset": name,
                "metric": "accuracy" if "test_accuracy" in m else "R²",
                "mean": float(np.mean(qs)),
                "min": float(np.min(qs)),
                "max": float(np.max(qs)),
                "seconds": float(np.max(secs)),
                "epochs": f"{min(epochs)}-{max(epochs)}",
            }
        )
        print(rows[-1], flush=True)
    return rows


def markdown(cmp_rows, def_rows, args) -> str:
    import sklearn

    lines = [
        "# Training: memograd vs scikit-learn",
        "",
        f"Command: `python benchmarks/sklearn_compare.py --rounds {args.rounds} "
        f"--threads {args.threads} --seeds {args.seeds}`; BLAS threads: {args.threads} "
        f"(threadpoolctl); Python {platform.python_version()}, NumPy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}; {platform.machine()}, shared 2-core machine "
        "(timings are noisy).",
        "",
        "## Same split, architecture, epochs, batch size and optimizer",
        "",
        "Adam (lr 1e-3, β = 0.9/0.999, ε = 1e-8), no weight decay, no early stopping, float32, "
        "standardised features, split 70/10/20 stratified (the 10% validation part is unused "
        "here), weights after the last epoch scored on the test split. Time: median wall time "
        f"of a whole fit over {args.rounds} runs.",
        "",
        "| dataset | network | epochs | batch | memograd | scikit-learn | memograd time | "
        "scikit-learn time | speed-up |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in cmp_rows:
        lines.append(
            f"| {r['dataset']} | {r['arch']} | {r['epochs']} | {r['batch']} | "
            f"{r['metric']} {r['memograd_q']:.4f} | {r['sklearn_q']:.4f} | "
            f"{r['memograd_s']:.3f} s | {r['sklearn_s']:.3f} s | "
            f"{r['sklearn_s'] / r['memograd_s']:.2f}x |"
        )
    lines += [
        "",
        f"## `memograd train` defaults over seeds 0-{args.seeds - 1}",
        "",
        "Defaults: hidden 64,64, relu, Adam lr 3e-3, batch 32, up to 100 epochs, early stopping "
        "with patience 20 on the validation loss, best weights kept. Time: the slowest seed's "
        "whole run (training + per-epoch validation).",
        "",
        "| dataset | test metric | mean | min | max | epochs run | time (max) |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    for r in def_rows:
        lines.append(
            f"| {r['dataset']} | {r['metric']} | {r['mean']:.4f} | {r['min']:.4f} | "
            f"{r['max']:.4f} | {r['epochs']} | {r['seconds']:.2f} s |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--out", help="write the markdown tables here")
    args = ap.parse_args()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(args.threads):
        cmp_rows = compare(args.rounds)
        def_rows = defaults(args.seeds)
    text = markdown(cmp_rows, def_rows, args)
    print(text)
    if args.out:
        from memograd._io import atomic_write_text

        atomic_write_text(args.out, text)


if __name__ == "__main__":
    main()
