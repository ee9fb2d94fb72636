"""memograd complexity --modes: forward vs reverse mode vs path enumeration, closed forms."""

import json

import numpy as np

from memograd.cli import main
from memograd.tensor import functional as F


def test_modes_json_closed_forms(capsys):
    assert main(["complexity", "--modes", "--width", "3", "--depths", "1-3", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["modes"]
    for depth, r in zip([1, 2, 3], rows):
        assert r["widths"] == [3] * (depth + 1) + [1]
        edges = 9 * depth + 3
        assert r["edges"] == edges
        assert (r["forward_passes"], r["reverse_passes"]) == (3, 1)
        assert r["forward_work"] == 3 * edges and r["reverse_work"] == edges
        assert r["paths"] == 3 ** (depth + 1)


def test_modes_text_and_passes_on_real_graphs(capsys):
    assert main(["complexity", "--modes", "--depths", "2"]) == 0
    out = capsys.readouterr().out
    assert "2-2-2-1" in out and "fwd passes" in out
    # the table's pass counts are what jacfwd / jacrev do on the real graph
    rng = np.random.default_rng(0)
    ws = [rng.normal(size=(2, 2)), rng.normal(size=(2, 2)), rng.normal(size=(2, 1))]

    def f(x):
        for w in ws[:-1]:
            x = (x @ w).tanh()
        return x @ ws[-1]

    costs = F.mode_costs([2, 2, 2, 1])
    with F.counting() as rev:
        F.jacrev(f)(np.ones(2))
    with F.counting() as fwd:
        F.jacfwd(f)(np.ones(2))
    assert rev.passes == costs["reverse_passes"]
    assert fwd.passes == costs["forward_passes"] + 1  # + the pass that records the linear map
