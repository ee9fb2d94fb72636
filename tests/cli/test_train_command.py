import json
import re

import numpy as np
import pytest

from memograd.cli import main

FAST = ["--dataset", "moons", "--samples", "200", "--hidden", "8", "--epochs", "3"]


def run(capsys, *argv):
    code = main([*argv, "--no-color"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_train_json_writes_the_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, err = run(capsys, "train", *FAST, "--out", str(out), "--json")
    assert code == 0, err
    metrics = json.loads(stdout)
    for key in ("test_accuracy", "test_loss", "epochs", "seconds", "parameters"):
        assert key in metrics
    assert metrics["epochs"] == 3 and metrics["parameters"] == (2 + 1) * 8 + (8 + 1) * 2
    names = {p.name for p in out.iterdir()}
    assert {"checkpoint.safetensors", "metrics.csv", "metrics.json"} <= names
    pytest.importorskip("matplotlib")
    assert {"curves.png", "confusion.png", "boundary.png"} <= names
    assert (out / "boundary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = (out / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,train_loss,train_accuracy,val_loss,val_accuracy")
    assert len(lines) == 4
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["metrics"]["test_accuracy"] == metrics["test_accuracy"]


def test_train_prints_progress_lines_and_a_summary(capsys):
    code, stdout, _ = run(capsys, "train", *FAST)
    assert code == 0
    assert "epoch   1  train" in stdout and "samples/s" in stdout
    assert "test accuracy" in stdout and "parameters" in stdout
    found = re.search(r"test accuracy +│ +([01]\.\d{4}) \((\d+) of 40\)", stdout)
    assert found and abs(float(found[1]) * 40 - int(found[2])) < 0.01, stdout


def test_eval_and_predict_use_the_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(capsys, "train", *FAST, "--out", str(out), "--no-plots", "--json")[0] == 0
    code, stdout, err = run(capsys, "eval", "--model", str(out), "--json")
    assert code == 0, err
    ev = json.loads(stdout)
    trained = (
        json.loads((out / "metrics.json").read_text()) if (out / "metrics.json").exists() else None
    )
    assert ev["samples"] == 40 and 0 <= ev["accuracy"] <= 1
    assert np.sum(ev["confusion_matrix"]) == 40
    if trained:
        assert ev["accuracy"] == trained["metrics"]["test_accuracy"]
    rows = tmp_path / "rows.csv"
    rows.write_text("x2,x1\n0.5,0.0\n-0.3,1.0\n1.0,-1.0\n")
    dest = tmp_path / "pred.csv"
    code, _, err = run(
        capsys, "predict", "--model", str(out), "--csv", str(rows), "--out", str(dest)
    )
    assert code == 0, err
    lines = dest.read_text().splitlines()
    assert lines[0] == "class,probability" and len(lines) == 4
    code, stdout, _ = run(capsys, "predict", "--model", str(out), "--csv", str(rows), "--json")
    preds = json.loads(stdout)["predictions"]
    assert [p["class"] for p in preds] == [line.split(",")[0] for line in lines[1:]]
    assert all(0.5 <= p["probability"] <= 1 for p in preds)


def test_train_on_a_csv_and_a_bad_csv(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    good = tmp_path / "good.csv"
    body = "\n".join(f"{a:.4f},{b:.4f},{c:.4f},{'big' if a > 0 else 'small'}" for a, b, c in X)
    good.write_text("f1,f2,f3,size\n" + body + "\n")
    code, stdout, err = run(
        capsys, "train", "--csv", str(good), "--target", "size", "--epochs", "5", "--json"
    )
    assert code == 0, err
    assert json.loads(stdout)["test_accuracy"] > 0.7
    bad = tmp_path / "bad.csv"
    bad.write_text("f1,f2,size\n1,2,a\n3,,b\n")
    code, _, err = run(capsys, "train", "--csv", str(bad), "--target", "size")
    assert code == 1 and err.count("\n") == 1
    assert "bad.csv, line 3, column 2 ('f2'): missing value" in err


@pytest.mark.parametrize(
    "argv, pattern",
    [
        (["train", "--csv", "x.csv"], "--csv needs --target"),
        (["train", "--dataset", "moons", "--csv", "x.csv", "--target", "y"], "not both"),
        (["train", "--hidden", "8,x"], "comma-separated integers"),
        (["train", "--dataset", "nope"], "invalid choice"),
        (["train", "--lr", "-1"], "learning rate must be > 0"),
        (["train", "--resume", "/no/such/run"], "no such run folder"),
        (["eval"], "required: --model"),
    ],
)
def test_usage_errors_are_one_line_exit_2(capsys, argv, pattern):
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and pattern in err, err


def test_divergence_is_one_clear_line(capsys):
    argv = ["train", "--dataset", "diabetes", "--optimizer", "sgd", "--lr", "1000", "--epochs", "3"]
    code, _, err = run(capsys, *argv)
    assert code == 1 and err.count("\n") == 1
    assert "training diverged at epoch 1" in err and "lower the learning rate" in err


def test_an_existing_run_is_not_overwritten_without_force(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(capsys, "train", *FAST, "--out", str(out), "--no-plots", "--json")[0] == 0
    before = (out / "checkpoint.safetensors").read_bytes()
    code, _, err = run(capsys, "train", *FAST, "--seed", "3", "--out", str(out))
    assert code == 2 and f"--resume {out}" in err
    assert (out / "checkpoint.safetensors").read_bytes() == before
    argv = ["train", *FAST, "--seed", "3", "--out", str(out), "--force", "--no-plots", "--json"]
    assert run(capsys, *argv)[0] == 0
    assert (out / "checkpoint.safetensors").read_bytes() != before


def test_runtime_errors_are_one_line_exit_1(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(capsys, "train", *FAST, "--out", str(out), "--no-plots", "--json")[0] == 0
    ck = out / "checkpoint.safetensors"
    ck.write_bytes(ck.read_bytes()[:100])
    for argv in (["eval", "--model", str(out)], ["predict", "--model", str(out), "--csv", "x"]):
        code, _, err = run(capsys, *argv)
        assert code == 1 and err.count("\n") == 1 and "truncated" in err
    code, _, err = run(capsys, "eval", "--model", str(tmp_path / "missing"))
    assert code == 1 and "no such run folder" in err


def test_resume_refuses_flags_that_would_change_the_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(capsys, "train", *FAST, "--out", str(out), "--no-plots", "--json")[0] == 0
    before = (out / "checkpoint.safetensors").read_bytes()
    argv = ["train", "--resume", str(out), "--dataset", "iris", "--lr", "0.1", "--epochs", "5"]
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and "--dataset, --lr cannot change it" in err
    assert (out / "checkpoint.safetensors").read_bytes() == before  # nothing trained


def test_an_out_folder_that_cannot_be_made_fails_before_training(tmp_path, capsys):
    (tmp_path / "afile").write_text("")
    code, stdout, err = run(capsys, "train", *FAST, "--out", str(tmp_path / "afile" / "run"))
    assert code == 1 and err.count("\n") == 1 and "cannot create the run folder" in err
    assert "epoch" not in stdout


def test_ctrl_c_says_how_to_resume_and_resume_finishes(tmp_path, capsys, monkeypatch):
    from memograd import train

    original = train.Trainer.train_epoch
    calls = {"n": 0}

    def interrupted(self, reporter):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, reporter)

    monkeypatch.setattr(train.Trainer, "train_epoch", interrupted)
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", *FAST, "--out", str(out), "--no-plots")
    assert code == 130
    assert "stopped cleanly after epoch 1 of 3" in err and f"--resume {out}" in err
    code, stdout, err = run(capsys, "train", "--resume", str(out), "--json", "--no-plots")
    assert code == 0, err
    assert json.loads(stdout)["epochs"] == 3
    monkeypatch.setattr(train.Trainer, "train_epoch", original)
    whole = tmp_path / "whole"
    assert run(capsys, "train", *FAST, "--out", str(whole), "--no-plots", "--json")[0] == 0
    from memograd.checkpoint import load_checkpoint

    a = load_checkpoint(out / "checkpoint.safetensors").tensors
    b = load_checkpoint(whole / "checkpoint.safetensors").tensors
    assert set(a) == set(b) and all(np.array_equal(a[k], b[k]) for k in a)


def test_ctrl_c_without_out_still_writes_a_resumable_run(tmp_path, capsys, monkeypatch):
    from memograd import train

    def interrupted(self, reporter):
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(train.Trainer, "train_epoch", interrupted)
    code, _, err = run(capsys, "train", *FAST)
    assert code == 130 and "resume with: memograd train --resume runs/moons-" in err
    (folder,) = (tmp_path / "runs").iterdir()
    assert (folder / "checkpoint.safetensors").exists()


def test_every_flag_reaches_the_saved_config(tmp_path, capsys):
    from memograd.checkpoint import load_checkpoint

    out = tmp_path / "run"
    argv = "--dataset moons --samples 120 --noise 0.3 --hidden 6,5 --activation tanh "
    argv += "--dropout 0.1 --init he --bias-init uniform --loss hinge --optimizer sgd --lr 0.05 "
    argv += "--momentum 0.8 --nesterov --weight-decay 0.01 --schedule cosine --warmup 1 "
    argv += "--clip 2 --epochs 2 --batch-size 16 --patience 7 --val 0.2 --test 0.3 --seed 3 "
    argv += "--float64 --eager --checkpoint-format npz --no-plots --json --out"
    code, _, err = run(capsys, "train", *argv.split(), str(out))
    assert code == 0, err
    config = load_checkpoint(out / "checkpoint.npz").metadata["config"]
    expected = dict(
        dataset="moons", csv=None, n_samples=120, noise=0.3, hidden=[6, 5], activation="tanh",
        dropout=0.1, init="he", bias_init="uniform", loss="hinge", optimizer="sgd", lr=0.05,
        momentum=0.8, nesterov=True, weight_decay=0.01, schedule="cosine", warmup=1, clip=2.0,
        epochs=2, batch_size=16, patience=7, val=0.2, test=0.3, seed=3, dtype="float64",
        compile=False, checkpoint_format="npz",
    )  # fmt: skip
    assert {k: config[k] for k in expected} == expected


def test_eval_on_other_data_names_what_does_not_fit(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(capsys, "train", *FAST, "--out", str(out), "--no-plots", "--json")[0] == 0
    for other, pattern in [
        ("iris", "takes 2 features (x1, x2), iris has 4; score it on data like 'moons'"),
        ("diabetes", "does classification, diabetes is a regression"),
        ("circles", "circles has classes"),
    ]:
        code, _, err = run(capsys, "eval", "--model", str(out), "--dataset", other)
        assert code == 1 and err.count("\n") == 1 and pattern in err, err
    code, stdout, err = run(capsys, "eval", "--model", str(out), "--dataset", "moons", "--json")
    assert code == 0 and json.loads(stdout)["samples"] == 1000, err  # all rows of moons


def test_predict_on_a_csv_that_does_not_fit_is_one_line_exit_1(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(capsys, "train", *FAST, "--out", str(out), "--no-plots", "--json")[0] == 0
    cases = [
        ("x1,y\n0.5,1\n", "missing feature column(s) 'x2'; the model needs: x1, x2"),
        ("0.5,1,2\n0.1,2,3\n", "3 columns and no header; the model needs 2 features"),
        ("x1,x2\n0.5,oops\n", "line 2, column 2 ('x2'): non-numeric value 'oops'"),
        ("", "empty file"),
    ]
    for text, pattern in cases:
        rows = tmp_path / "rows.csv"
        rows.write_text(text)
        code, _, err = run(capsys, "predict", "--model", str(out), "--csv", str(rows))
        assert code == 1 and err.count("\n") == 1 and pattern in err, err
    rows.write_text("0.5,0.0\n-0.3,1.0\n")  # no header but the right width: taken in order
    code, stdout, err = run(capsys, "predict", "--model", str(out), "--csv", str(rows), "--json")
    assert code == 0 and len(json.loads(stdout)["predictions"]) == 2, err


def test_a_run_trained_on_a_relative_csv_path_evaluates_from_elsewhere(
    tmp_path, capsys, monkeypatch
):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    (tmp_path / "d.csv").write_text(
        "a,b,y\n" + "\n".join(f"{a:.4f},{b:.4f},{int(a > b)}" for a, b in X) + "\n"
    )
    monkeypatch.chdir(tmp_path)
    argv = ["--csv", "d.csv", "--target", "y", "--epochs", "2", "--no-plots", "--json"]
    assert run(capsys, "train", *argv, "--out", "run")[0] == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, stdout, err = run(capsys, "eval", "--model", str(tmp_path / "run"), "--json")
    assert code == 0 and json.loads(stdout)["samples"] == 12, err


def test_ctrl_c_while_writing_the_run_files_keeps_the_model_and_says_so(
    tmp_path, capsys, monkeypatch
):
    import memograd.train as T

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(T, "write_run_files", interrupted)
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", *FAST, "--out", str(out))
    assert code == 130
    assert err.count("\n") == 1 and "after training" in err and str(out) in err
    code, stdout, err = run(capsys, "eval", "--model", str(out), "--json")
    assert code == 0, err
    assert 0.0 <= json.loads(stdout)["accuracy"] <= 1.0


def test_train_out_without_matplotlib_says_no_plots_were_written_and_why(
    tmp_path, capsys, monkeypatch
):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    out = tmp_path / "run"
    code, stdout, err = run(capsys, "train", *FAST, "--out", str(out))
    assert code == 0, err
    assert "no plots written: matplotlib is not installed" in stdout
    assert "memograd[plot]" in stdout
    assert not list(out.glob("*.png")) and (out / "metrics.csv").exists()
    code, stdout, err = run(capsys, "train", *FAST, "--out", str(out), "--force", "--json")
    assert code == 0, err
    assert "matplotlib is not installed" in json.loads(stdout)["plots_skipped"]
