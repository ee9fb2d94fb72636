"""CSV reading: the numpy fast path agrees with the cell-by-cell reader on every file, and hostile
files (NUL bytes, devices, FIFOs, huge or changed files) are refused with the file's name."""

import os
import stat
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memograd.data import csv_files, load_csv, load_features_csv
from memograd.errors import DataError

CELLS = ["0", "1", "2", "-3.5", "1e3", " 4 ", "", "na", "x", "inf", "nan", "1_0", "1e308", "a b"]


def outcome(fn, *args, **kwargs):
    """What a call gives: its data, or the DataError's message."""
    try:
        ds = fn(*args, **kwargs)
    except DataError as exc:
        return ("error", str(exc))
    if isinstance(ds, tuple):  # load_features_csv
        return ("ok", ds[0].tolist(), ds[1])
    return ("ok", ds.X.tolist(), ds.y.tolist(), ds.task, ds.classes, ds.feature_names, ds.sha256)


def slow(fn, *args, **kwargs):
    with mock.patch.object(csv_files._Lines, "of", classmethod(lambda cls, text, d: None)):
        return outcome(fn, *args, **kwargs)


tables = st.tuples(
    st.sampled_from([",", ";", "\t"]),
    st.booleans(),  # header
    st.integers(2, 4),  # columns
    st.lists(st.lists(st.sampled_from(CELLS), min_size=1, max_size=5), min_size=1, max_size=7),
    st.sampled_from(["", "\n", "\n\n  \n"]),  # what follows the last row
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tables)
def test_the_fast_path_gives_what_the_cell_by_cell_reader_gives(tmp_path, table):
    delim, header, width, rows, tail = table
    lines = [delim.join(f"c{j}" for j in range(width))] if header else []
    lines += [delim.join(r[:width] if len(r) >= width - 1 else r) for r in rows]
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + tail)
    for target in (None, 0):
        assert outcome(load_csv, path, target) == slow(load_csv, path, target)
    names = ("c0", "c1") if header else tuple(str(j) for j in range(width))
    assert outcome(load_features_csv, path, names) == slow(load_features_csv, path, names)


@pytest.mark.parametrize("text", [",\n", ",,\n ,\n", ";\n;\n"])
def test_a_file_of_blank_cells_is_refused_by_name_on_both_paths(tmp_path, text):
    path = tmp_path / "blank.csv"
    path.write_text(text)
    message = f"{path}: no cell holds anything; expected a header line and rows of numbers"
    for read in (outcome, slow):
        assert read(load_csv, path) == ("error", message)
        assert read(load_features_csv, path, ("a",)) == ("error", message)


def test_a_large_numeric_file_takes_the_fast_path_and_matches(tmp_path):
    rng = np.random.default_rng(0)
    X = np.round(rng.normal(size=(500, 3)), 4)
    y = (X[:, 0] > 0).astype(int)
    path = tmp_path / "n.csv"
    path.write_text("a,b,c,y\n" + "\n".join(f"{a},{b},{c},{t}" for (a, b, c), t in zip(X, y)))
    calls = []
    real = csv_files._read_rows
    with mock.patch.object(csv_files, "_read_rows", lambda *a: calls.append(1) or real(*a)):
        ds = load_csv(path, "y")
    assert calls == []  # no cell-by-cell parse
    assert np.array_equal(ds.X, X) and np.array_equal(ds.y, y) and ds.classes == ("0", "1")
    assert outcome(load_csv, path, "y") == slow(load_csv, path, "y")


def test_a_nul_byte_is_named_with_its_line_not_blamed_on_the_target(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"a,b,y\n1,2,0\n3,\x004,1\n")
    with pytest.raises(DataError, match=r"nul.csv, line 3: NUL byte at character 3"):
        load_csv(path, "y")


def test_devices_fifos_and_oversized_files_are_refused_before_reading(tmp_path, monkeypatch):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match=r"pipe.csv: is a FIFO \(named pipe\), not a regular"):
        load_csv(fifo, "y")  # reading it would block until a writer came
    node = tmp_path / "zero.csv"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 5))  # the numbers of /dev/zero
    except OSError as exc:
        pytest.skip(f"cannot make a device node here ({exc})")
    with pytest.raises(DataError, match="zero.csv: is a character device"):
        load_csv(node, "y")  # /dev/zero never ends: reading it grew until killed
    big = tmp_path / "big.csv"
    big.write_text("a,y\n" + "1,0\n" * 50)
    monkeypatch.setattr(csv_files, "MAX_CSV_BYTES", 100)
    with pytest.raises(DataError, match=r"big.csv: 204 bytes, more than the 100 bytes"):
        load_csv(big, "y")


def test_a_changed_file_is_refused_before_a_cell_is_parsed(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,y\n1,0\n2,1\n")
    digest = load_csv(path, "y").sha256
    assert load_csv(path, "y", expect_sha256=digest).n_samples == 2
    path.write_text("root:x:0:0:root:/root:/bin/bash\n")
    with pytest.raises(DataError, match="changed since the run was trained") as info:
        load_csv(path, "y", expect_sha256=digest)
    assert "bin/bash" not in str(info.value)  # nothing of the file is shown


# --- issue 13.13: the default dataset needs nothing beyond numpy and rich ---------------------


def test_digits_is_shipped_and_loads_without_scikit_learn(monkeypatch):
    import sys

    from memograd.data import load_dataset

    monkeypatch.setitem(sys.modules, "sklearn", None)  # `import sklearn` now fails
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    ds = load_dataset("digits")
    assert ds.X.shape == (1797, 64) and ds.classes == tuple("0123456789")
    assert ds.X.min() == 0 and ds.X.max() == 16 and np.bincount(ds.y).min() >= 170
    with pytest.raises(DataError, match=r"pip install 'memograd\[data\]'.*digits and the gen"):
        load_dataset("iris")


def test_the_shipped_digits_are_scikit_learns_digits():
    skd = pytest.importorskip("sklearn.datasets")
    from memograd.data import load_dataset

    ours, theirs = load_dataset("digits"), skd.load_digits()
    assert np.array_equal(ours.X, theirs.data) and np.array_equal(ours.y, theirs.target)


def test_memograd_train_runs_with_no_extras_installed(tmp_path, monkeypatch, capsys):
    import json
    import sys

    from memograd import checkpoint
    from memograd.cli import main
    from memograd.cli import train as train_command
    from memograd.train import config  # imported before any patch: nothing binds a patched name

    for name in ("sklearn", "sklearn.datasets", "matplotlib", "safetensors"):
        monkeypatch.setitem(sys.modules, name, None)
    for module in (checkpoint, config):
        monkeypatch.setattr(module, "have_safetensors", lambda: False)
    monkeypatch.setattr(train_command, "_DEFAULTS", None)  # defaults read afresh, as at install
    out = tmp_path / "run"
    code = main(["train", "--epochs", "1", "--hidden", "8", "--out", str(out), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["dataset"] == "digits" and result["test_samples"] > 300
    assert "matplotlib is not installed" in result["plots_skipped"]
    assert (out / "checkpoint.npz").exists() and not list(out.glob("*.png"))
