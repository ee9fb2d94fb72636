"""Counted complexity: "layer increase <-> complexity increase", on real graphs.

For each depth (hidden layers of ``width`` neurons; the notes' 2-2-2-1 network is width 2, depth
2), :func:`measure` builds the network with its loss and counts on the real op-level graph:
parameters, chain-rule paths from L to the first-layer weight w11^1, the multiplications and
additions to get every parameter's gradient by enumerating each one's paths separately
(``naive``), the same for memoized backprop (one multiply-add per edge, ``backprop``), and their
ratio. ``memograd complexity`` prints these rows; the lesson plots them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["measure"]


def measure(width: int, depths: list[int]) -> list[dict[str, Any]]:
    """One row per depth, counted on the real graph of a (width, width x depth, 1) network."""
    from memograd.paths import cost, count_paths
    from memograd.scalar.nn import notes_network

    rows: list[dict[str, Any]] = []
    for depth in depths:
        sizes = (width, *([width] * depth), 1)
        ex = notes_network(net=sizes, activation="sigmoid", loss="mse", seed=0)
        loss = ex.loss
        assert loss is not None  # notes_network(loss="mse") builds the loss
        c = cost(loss, ex.model.parameters())
        row = {"depth": depth, "net": "-".join(map(str, sizes)), **c.to_dict()}
        row["paths_all_parameters"] = row.pop("paths")
        row["paths_to_w11^1"] = count_paths(loss, "w11^1")
        rows.append(row)
    return rows
