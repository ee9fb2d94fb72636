"""The way out, end to end: a memograd run, exported, continues on PyTorch DDP (2 processes, gloo,
127.0.0.1) exactly as one PyTorch process does, which continues exactly as memograd would."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import memograd as mg
from memograd.data import Standardizer
from memograd.export import run_data, save_torch
from memograd.train import TrainConfig, fit, load_run

torch = pytest.importorskip("torch", reason="needs the interop extra (torch==2.13.0)")
pytest.importorskip("torch.distributed", reason="needs torch.distributed")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "continue_on_torch_ddp.py"
STEPS, BATCH = 6, 32


def _example():
    spec = importlib.util.spec_from_file_location("continue_on_torch_ddp", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _memograd_steps(run, batches, lr, weight_decay):
    """memograd's own training from the run's weights: same optimizer, same batches."""
    model, ck = load_run(run)
    model.train()
    scaler = Standardizer.from_dict(ck.metadata["preprocessing"]["standardizer"])
    data = run_data(run, "train")
    X = scaler.transform(data.X).astype(np.float32)
    opt = mg.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    for rows in batches:
        loss = mg.nn.cross_entropy(model(mg.tensor(X[rows])), data.y[rows])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


@pytest.mark.slow
def test_ddp_on_two_processes_equals_one_process_equals_memograd(tmp_path):
    run = tmp_path / "run"
    fit(TrainConfig(dataset="moons", hidden=[16, 16], epochs=2, seed=3), out=run)
    files = save_torch(run, tmp_path / "moons.pt")
    cfg = TrainConfig.from_dict(load_run(run)[1].metadata["config"])
    lr, decay = cfg.lr, cfg.resolved_weight_decay()
    common = ["--weights", str(files["weights"]), "--run", str(run), "--steps", str(STEPS)]
    common += ["--batch-size", str(BATCH), "--log-every", "0"]

    # two processes, DDP over gloo on 127.0.0.1, launched as a user would
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), *sys.path]))
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE), *common, "--nprocs", "2", "--out", str(tmp_path / "ddp.pt")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    ddp = torch.load(tmp_path / "ddp.pt", weights_only=True)

    # one PyTorch process, the same global batches
    example = _example()
    assert example.main([*common, "--nprocs", "1", "--out", str(tmp_path / "one.pt")]) == 0
    one = torch.load(tmp_path / "one.pt", weights_only=True)
    start = torch.load(files["weights"], weights_only=True)

    assert list(ddp) == list(one)
    for k in ddp:
        assert not torch.equal(one[k], start[k]) or k.endswith(("mean", "scale")), k  # trained
        torch.testing.assert_close(ddp[k], one[k], rtol=1e-5, atol=1e-6, msg=k)

    # memograd's own steps: same optimizer (AdamW, the run's lr and decay), same batch order
    n = len(run_data(run, "train").y)
    batches = example.global_batches(n, BATCH, STEPS)
    assert len(batches) == STEPS and all(len(b) == BATCH for b in batches)
    mine = _memograd_steps(run, batches, lr, decay).state_dict()
    linear = {0: 1, 2: 3, 4: 5}  # memograd layer index -> index in the export (after Standardize)
    for i, j in linear.items():
        w = one[f"{j}.weight"].numpy().T
        np.testing.assert_allclose(mine[f"{i}.weight"], w, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            mine[f"{i}.bias"], one[f"{j}.bias"].numpy(), rtol=1e-5, atol=1e-6
        )
    # and the trained torch weights come back into memograd (PyTorch's layout, named)
    back = mg.nn.MLP.from_torch(one, activation="relu")
    np.testing.assert_array_equal(back.state_dict()["2.weight"], one["3.weight"].numpy().T)


def test_global_batches_cut_full_batches_in_a_seeded_order():
    example = _example()
    batches = example.global_batches(10, 4, 5, seed=1)
    assert [len(b) for b in batches] == [4] * 5
    first = np.random.default_rng([1, 0]).permutation(10)
    second = np.random.default_rng([1, 1]).permutation(10)
    assert np.array_equal(np.concatenate(batches[:2]), first[:8])  # 2 rows left over: skipped
    assert np.array_equal(np.concatenate(batches[2:4]), second[:8])
    with pytest.raises(SystemExit):
        example.global_batches(3, 4, 1)
