"""The page's training view: the same network as the lesson, trained full-batch on a 2-D dataset.

The scalar network's weights ``w_ij^k`` (from neuron i of layer k-1 to neuron j of layer k) are
the entries ``W_k[i-1, j-1]`` of one matrix per layer; the tensor engine trains those matrices
(o_k = act(o_{k-1} W_k + b_k), L = mean (ŷ - y)², plain SGD) and the new values go back by name,
so views 2 and 3 can explain the trained state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from memograd.scalar.nn import bias_name, weight_name

N_SAMPLES = 200
GRID = 30


def _matrices(ex: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    w = ex.model.weights()
    sizes = ex.model.sizes
    out = []
    for k in range(1, len(sizes)):
        W = np.array(
            [
                [w[weight_name(i, j, k)] for j in range(1, sizes[k] + 1)]
                for i in range(1, sizes[k - 1] + 1)
            ],
            dtype=np.float64,
        )
        b = np.array([w[bias_name(j, k)] for j in range(1, sizes[k] + 1)], dtype=np.float64)
        out.append((W, b))
    return out


def _named(mats: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    named: dict[str, float] = {}
    for k, (W, b) in enumerate(mats, 1):
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                named[weight_name(i + 1, j + 1, k)] = float(W[i, j])
        for j in range(b.shape[0]):
            named[bias_name(j + 1, k)] = float(b[j])
    return named


def _act(t: Any, activation: str) -> Any:
    if activation == "linear":
        return t
    return getattr(t, activation)()


def _targets(y: np.ndarray, activation: str) -> np.ndarray:
    """Class 0/1 as the output's natural range: {-1, 1} for tanh, {0, 1} otherwise."""
    t = y.astype(np.float64) % 2  # spirals has 3 arms: arms 0 and 2 against arm 1
    return 2 * t - 1 if activation == "tanh" else t


def _forward(params: Any, X: Any, activation: str) -> Any:
    h = X
    for W, b in params:
        h = _act(h @ W + b, activation)
    return h


def train_steps(ex: Any, dataset: str, steps: int, lr: float, data_seed: int = 0) -> dict[str, Any]:
    """``steps`` SGD steps on the dataset; losses before each step, and the state after them."""
    import memograd as mg
    from memograd.data import load_dataset

    ds = load_dataset(dataset, seed=data_seed, n_samples=N_SAMPLES)
    X = np.asarray(ds.X, dtype=np.float64)
    y = _targets(np.asarray(ds.y), ex.activation)
    mats = _matrices(ex)
    params = [(mg.tensor(W, requires_grad=True), mg.tensor(b, requires_grad=True)) for W, b in mats]
    Xt, yt = mg.tensor(X), mg.tensor(y.reshape(-1, 1))
    losses = []
    for _ in range(steps):
        for W, b in params:
            W.grad = b.grad = None
        pred = _forward(params, Xt, ex.activation)
        loss = ((pred - yt) ** 2).mean()
        losses.append(float(loss.data))
        loss.backward()
        with mg.no_grad():
            for W, b in params:
                for p in (W, b):
                    p.data -= lr * np.asarray(p.grad)
    mats = [(W.data, b.data) for W, b in params]
    with mg.no_grad():
        pred = _forward(params, Xt, ex.activation).data[:, 0]
        lo, hi = X.min(axis=0) - 0.25, X.max(axis=0) + 0.25
        gx = np.linspace(lo[0], hi[0], GRID)
        gy = np.linspace(lo[1], hi[1], GRID)
        mesh = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
        surface = _forward(params, mg.tensor(mesh), ex.activation).data[:, 0]
    threshold = 0.0 if ex.activation == "tanh" else 0.5
    final = float(np.mean((pred - y) ** 2))
    accuracy = float(np.mean((pred > threshold) == (y > threshold)))
    return {
        "dataset": dataset,
        "steps": steps,
        "losses": losses,
        "loss": final,
        "accuracy": accuracy,
        "weights": _named(mats),
        "points": {"x": X.round(4).tolist(), "y": (y > threshold).astype(int).tolist()},
        "grid": {
            "x": gx.round(4).tolist(),
            "y": gy.round(4).tolist(),
            "values": surface.reshape(GRID, GRID).round(4).tolist(),
            "threshold": threshold,
        },
    }
