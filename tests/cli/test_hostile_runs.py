"""Issue 11 on train / eval / predict: hostile paths, CSV files and checkpoints, each built here.

The promise checked every time: one line on stderr, exit 2 (usage) or 1 (runtime), no traceback,
nothing that is not ours replaced, nothing silently wrong."""

import json
import os
import shutil
import stat
import subprocess
import sys

import numpy as np
import pytest

from memograd.checkpoint import load_checkpoint, save_checkpoint
from memograd.cli import main

FAST = ["--dataset", "moons", "--samples", "200", "--hidden", "8", "--epochs", "3"]


def run(capsys, *argv):
    code = main([*argv, "--no-color"])
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line(code, err, expected_code=1):
    assert code == expected_code, err
    assert err.count("\n") == 1 and "Traceback" not in err, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small finished run (moons), trained once; tests copy it before changing it."""
    out = tmp_path_factory.mktemp("runs") / "moons"
    code = main(["train", *FAST, "--out", str(out), "--no-plots", "--json"])
    assert code == 0
    return out


def copy(run_folder, tmp_path, name="run"):
    return shutil.copytree(run_folder, tmp_path / name)


def device_node(folder, name="null"):
    node = folder / name
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # /dev/null's numbers, our node
    except OSError as exc:
        pytest.skip(f"cannot make a device node here ({exc})")
    return node


def write_csv(path, header, rows):
    path.write_text(",".join(header) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


def blobs(n=90, seed=0):
    """Two features a, b and a class label that depends on them (an easy problem)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] - 0.5 * X[:, 1] > 0).astype(int)


# --- High 1: --out never replaces what is not a regular file ---------------------------------


def test_predict_and_train_refuse_a_fifo_or_device_as_out_and_leave_it(trained, tmp_path, capsys):
    rows = write_csv(tmp_path / "rows.csv", ["x1", "x2"], [[0.5, 0.1], [-1, 1]])
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, _, err = run(capsys, "predict", "--model", str(trained), "--csv", str(rows),
                       "--out", str(fifo))  # fmt: skip
    one_line(code, err)
    assert "is a FIFO (named pipe), not a regular file" in err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    node = device_node(tmp_path)
    code, _, err = run(capsys, "predict", "--model", str(trained), "--csv", str(rows),
                       "--out", str(node))  # fmt: skip
    one_line(code, err)
    assert "is a character device" in err and stat.S_ISCHR(os.lstat(node).st_mode)
    folder = tmp_path / "run"
    folder.mkdir()
    os.mkfifo(folder / "metrics.csv")
    code, stdout, err = run(capsys, "train", *FAST, "--out", str(folder))
    one_line(code, err)
    assert "metrics.csv is a FIFO" in err and "epoch" not in stdout  # refused before training
    assert stat.S_ISFIFO(os.lstat(folder / "metrics.csv").st_mode)


# --- High 2: eval --csv matches columns by name ------------------------------------------------


def test_eval_csv_matches_columns_by_name_and_names_missing_or_unknown_ones(tmp_path, capsys):
    X, y = blobs(160)
    train_csv = write_csv(tmp_path / "t.csv", ["a", "b", "y"], [[*x, t] for x, t in zip(X, y)])
    out = tmp_path / "run"
    argv = ["--target", "y", "--hidden", "8", "--epochs", "15", "--no-plots", "--json"]
    assert run(capsys, "train", "--csv", str(train_csv), *argv, "--out", str(out))[0] == 0
    X2, y2 = blobs(80, seed=1)
    same = write_csv(tmp_path / "same.csv", ["a", "b", "y"], [[*x, t] for x, t in zip(X2, y2)])
    swapped = write_csv(
        tmp_path / "swapped.csv", ["y", "b", "a"], [[t, x[1], x[0]] for x, t in zip(X2, y2)]
    )
    scores = []
    for f in (same, swapped):
        code, stdout, err = run(capsys, "eval", "--model", str(out), "--csv", str(f),
                                "--target", "y", "--json")  # fmt: skip
        assert code == 0, err
        scores.append(json.loads(stdout))
    assert scores[0]["accuracy"] == scores[1]["accuracy"] > 0.8
    assert scores[0]["confusion_matrix"] == scores[1]["confusion_matrix"]
    wrong = write_csv(tmp_path / "wrong.csv", ["a", "c", "y"], [[*x, t] for x, t in zip(X2, y2)])
    code, _, err = run(capsys, "eval", "--model", str(out), "--csv", str(wrong), "--target", "y")
    one_line(code, err)
    assert "lacks the model's feature column(s) 'b'" in err
    assert "has column(s) the model was not trained on: 'c'" in err


# --- High 3: a run folder holds exactly one model ----------------------------------------------


def test_force_with_the_other_format_replaces_the_whole_run(tmp_path, capsys):
    out = tmp_path / "run"
    iris = ["--dataset", "iris", "--hidden", "4", "--epochs", "2", "--out", str(out)]
    assert run(capsys, "train", *iris, "--checkpoint-format", "safetensors", "--json")[0] == 0
    assert (out / "metrics.csv").exists()
    wine = ["--dataset", "wine", "--hidden", "4", "--epochs", "2", "--out", str(out)]
    argv = ["train", *wine, "--checkpoint-format", "npz", "--force", "--no-plots", "--json"]
    code, stdout, err = run(capsys, *argv)
    assert code == 0, err
    assert not (out / "checkpoint.safetensors").exists() and (out / "checkpoint.npz").exists()
    assert json.loads((out / "metrics.json").read_text())["metrics"]["dataset"] == "wine"
    code, stdout, err = run(capsys, "eval", "--model", str(out), "--json")
    assert code == 0 and json.loads(stdout)["data"].startswith("wine"), err
    code, stdout, err = run(capsys, "train", "--resume", str(out), "--epochs", "3", "--json",
                            "--no-plots")  # fmt: skip
    assert code == 0 and json.loads(stdout)["dataset"] == "wine", err


def test_a_checkpoint_left_by_a_kill_between_write_and_delete_loses_to_the_newer(
    trained, tmp_path, capsys
):
    out = copy(trained, tmp_path)
    ck = load_checkpoint(out / "checkpoint.safetensors")
    old = tmp_path / "old" / "checkpoint.npz"
    meta = {**ck.metadata, "preprocessing": {**ck.metadata["preprocessing"], "dataset": "OLD"}}
    save_checkpoint(old, ck.tensors, meta)
    shutil.copy2(old, out / "checkpoint.npz")
    os.utime(out / "checkpoint.npz", ns=(1, 1))  # older than the run's own checkpoint
    code, stdout, err = run(capsys, "eval", "--model", str(out), "--json")
    assert code == 0, err
    assert not (out / "checkpoint.npz").exists() and (out / "checkpoint.safetensors").exists()


# --- Medium 4: checkpoint metadata is checked against a schema ---------------------------------


def forge(run_folder, tmp_path, change):
    """A copy of the run whose metadata ``change(meta)`` edited, with a valid SHA-256 (anyone can
    recompute it)."""
    out = copy(run_folder, tmp_path, "forged")
    path = out / "checkpoint.safetensors"
    ck = load_checkpoint(path)
    meta = json.loads(json.dumps(ck.metadata))
    change(meta)
    save_checkpoint(path, ck.tensors, meta)
    return out


def test_forged_metadata_is_refused_by_field_before_use(trained, tmp_path, capsys):
    secret = tmp_path / "secret.csv"
    secret.write_text("user,password\nroot,hunter2\n")

    def csv_path(m):
        m["config"].update(dataset=None, csv=str(secret), target="password")

    def huge_samples(m):
        m["config"]["n_samples"] = 10**10

    def wide(m):
        m["architecture"]["widths"] = [2, 100_000, 2]

    def classes(m):
        m["preprocessing"]["classes"] = ["a", "b", "c"]

    def missing(m):
        del m["preprocessing"]["standardizer"]

    def nan_scale(m):
        m["preprocessing"]["standardizer"]["scale"] = [1.0, -1.0]

    cases = [
        (csv_path, "older memograd that did not record the file's SHA-256"),
        (huge_samples, "'config.n_samples' is 10000000000"),
        (wide, "'architecture.widths' describes 500,002 parameters but the checkpoint stores 42"),
        (classes, "'preprocessing.classes' has 3 classes but the network has 2 outputs"),
        (missing, "'preprocessing.standardizer' is missing"),
        (nan_scale, "'preprocessing.standardizer.scale' holds -1.0"),
    ]
    for change, pattern in cases:
        forged = forge(trained, tmp_path, change)
        code, _, err = run(capsys, "eval", "--model", str(forged))
        one_line(code, err)
        assert pattern in err, (change.__name__, err)
        assert "hunter2" not in err
        shutil.rmtree(forged)


def test_a_forged_csv_digest_still_opens_nothing_it_does_not_match(trained, tmp_path, capsys):
    secret = tmp_path / "secret.csv"
    secret.write_text("user,password\nroot,hunter2\n")

    def point_at_secret(m):
        m["config"].update(dataset=None, csv=str(secret), target="password", csv_sha256="0" * 64)

    forged = forge(trained, tmp_path, point_at_secret)
    for argv in (["eval", "--model", str(forged)], ["train", "--resume", str(forged)]):
        code, _, err = run(capsys, *argv)
        one_line(code, err)
        assert "changed since the run was trained" in err and "hunter2" not in err


# --- Medium 6: user strings reach rich, the terminal and matplotlib as text --------------------


def test_markup_escapes_and_mathtext_in_labels_paths_and_names_are_shown_as_text(tmp_path, capsys):
    X, y = blobs(120)
    labels = np.array(["[/x]", "\x1b[31mred"])[y]
    path = write_csv(
        tmp_path / "[bold]odd[red].csv",
        ["$\\foo$", "b[/x]", "label"],
        [[*x, t] for x, t in zip(X, labels)],
    )
    out = tmp_path / "run[/x]"
    code, stdout, err = run(capsys, "train", "--csv", str(path), "--target", "label",
                            "--hidden", "4", "--epochs", "2", "--out", str(out))  # fmt: skip
    assert code == 0, err
    # the file name is shown as text, not read as markup (which would have eaten [bold], [red])
    assert "\x1b[31m" not in stdout and stdout.startswith("[bold]odd[red]: 120 samples")
    pytest.importorskip("matplotlib")
    assert (out / "boundary.png").exists() and (out / "confusion.png").exists()
    code, stdout, err = run(capsys, "eval", "--model", str(out))
    assert code == 0, err
    assert "\x1b[31m" not in stdout and "\\x1b[31mred" in stdout and "[/x]" in stdout
    rows = write_csv(tmp_path / "rows.csv", ["$\\foo$", "b[/x]"], [[0.5, 0.1], [-1, 1]])
    code, stdout, err = run(capsys, "predict", "--model", str(out), "--csv", str(rows))
    assert code == 0 and "\x1b[31m" not in stdout and "\\x1b[31mred" in stdout, err
    dest = tmp_path / "p[/x].csv"
    code, stdout, err = run(capsys, "predict", "--model", str(out), "--csv", str(rows),
                            "--out", str(dest))  # fmt: skip
    assert code == 0 and "p[/x].csv" in stdout.replace("\n", ""), err


# --- Low: formula-like labels are quoted in predictions.csv ------------------------------------


def test_labels_that_look_like_formulas_are_quoted_in_predictions(tmp_path, capsys):
    X, y = blobs(120)
    labels = np.array(["=1+2", "-1"])[y]
    path = write_csv(tmp_path / "d.csv", ["a", "b", "label"], [[*x, t] for x, t in zip(X, labels)])
    out = tmp_path / "run"
    argv = ["--target", "label", "--task", "classification", "--hidden", "8", "--epochs", "20"]
    assert run(capsys, "train", "--csv", str(path), *argv, "--out", str(out), "--json")[0] == 0
    dest = tmp_path / "p.csv"
    code, _, err = run(capsys, "predict", "--model", str(out), "--csv", str(path),
                       "--out", str(dest))  # fmt: skip
    assert code == 0, err
    cells = {line.split(",")[0] for line in dest.read_text().splitlines()[1:]}
    assert cells == {"'=1+2", "-1"}  # the formula guarded, the plain number left alone


# --- Medium 8: predict matches many columns by name (dicts, not list scans) -------------------


def test_predict_finds_features_among_many_columns_in_any_order(trained, tmp_path, capsys):
    rng = np.random.default_rng(0)
    names = [f"c{j}" for j in range(3000)] + ["x1", "x2"]
    order = rng.permutation(len(names))
    header = [names[j] for j in order]
    values = rng.normal(size=(3, len(names)))
    rows = write_csv(tmp_path / "wide.csv", header, values[:, order].round(4).tolist())
    narrow = write_csv(tmp_path / "narrow.csv", ["x1", "x2"], values[:, -2:].round(4).tolist())
    preds = []
    for f in (rows, narrow):
        code, stdout, err = run(capsys, "predict", "--model", str(trained), "--csv", str(f),
                                "--json")  # fmt: skip
        assert code == 0, err
        preds.append(json.loads(stdout)["predictions"])
    assert preds[0] == preds[1]


# --- Medium 9, 10 and Low: refused inputs, each named ------------------------------------------


def test_hostile_training_inputs_are_one_clear_line(tmp_path, capsys):
    X, y = blobs(60)
    big = write_csv(
        tmp_path / "big.csv", ["a", "huge", "y"], [[x[0], x[1], t] for x, t in zip(X, y)]
    )
    text = big.read_text().splitlines()
    text[1] = f"{X[0, 0]},1e308,{y[0]}"
    big.write_text("\n".join(text) + "\n")
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"a,b,y\n1,2,0\n3,4\x00,1\n")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    cases = [
        (["--csv", str(big), "--target", "y"], 1, "column 'huge': its mean or standard deviation"),
        (["--csv", str(nul), "--target", "y"], 1, "nul.csv, line 3: NUL byte at character 4"),
        (["--csv", str(fifo), "--target", "y"], 1, "is a FIFO (named pipe), not a regular file"),
        (["--hidden", "100000,100000"], 2, "100000,100000: 10,000,100,000 parameters; training"),
        (["--seed=-1"], 2, "seed must be an integer from 0"),
        (["--dataset", "moons", "--samples", "10000000"], 2, "samples must be from 8 to 1,000,000"),
    ]
    for argv, expected, pattern in cases:
        code, _, err = run(capsys, "train", *argv)
        one_line(code, err, expected)
        assert pattern in err, err


def test_a_device_as_training_csv_is_refused_without_reading(tmp_path, capsys):
    node = device_node(tmp_path, "zero.csv")
    code, _, err = run(capsys, "train", "--csv", str(node), "--target", "y")
    one_line(code, err)
    assert "is a character device, not a regular file" in err


# --- Medium 11: temporaries of a killed write are removed by the next command ------------------


def test_the_next_eval_or_resume_removes_temporaries_of_a_killed_write(trained, tmp_path, capsys):
    out = copy(trained, tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = out / f".checkpoint.safetensors.{int(dead.stdout)}-x1y2z3.tmp"
    stale.write_bytes(b"\0" * 1000)
    assert run(capsys, "eval", "--model", str(out), "--json")[0] == 0
    assert not stale.exists()
    stale.write_bytes(b"\0" * 1000)
    assert run(capsys, "train", "--resume", str(out), "--epochs", "4", "--json")[0] == 0
    assert not stale.exists()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
