"""memograd export: writes the files, checks them against memograd, one-line errors."""

from __future__ import annotations

import json

import pytest

from memograd.cli import main
from memograd.train import TrainConfig, fit

pytest.importorskip("torch", reason="needs the interop extra (torch==2.13.0)")
pytest.importorskip("onnx", reason="needs the interop extra (onnx)")
pytest.importorskip("onnxruntime", reason="needs the interop extra (onnxruntime)")


def run(capsys, *argv):
    code = main([*argv, "--no-color"])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "iris"
    fit(TrainConfig(dataset="iris", hidden=[8, 8], epochs=3), out=out)
    return out


def test_export_torch_writes_both_files_and_checks_them(run_dir, tmp_path, capsys):
    out = tmp_path / "iris.pt"
    code, stdout, err = run(capsys, "export", "--model", str(run_dir), "--out", str(out), "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["format"] == "torch"
    assert result["files"] == {"weights": str(out), "module": str(tmp_path / "iris.py")}
    check = result["check"]
    assert check["agree"] and check["rows"] == 30 and check["max_abs_diff"] <= 1e-5


def test_export_onnx_then_check_it(run_dir, tmp_path, capsys):
    out = tmp_path / "model.bin"
    code, stdout, err = run(
        capsys, "export", "--model", str(run_dir), "--format", "onnx", "--out", str(out)
    )
    assert code == 0, err
    assert "agrees with memograd on the 30 rows of the test split" in " ".join(stdout.split())
    onnx_file = tmp_path / "iris.onnx"
    onnx_file.write_bytes(out.read_bytes())
    code, stdout, err = run(capsys, "export", "--model", str(run_dir), "--check", str(onnx_file))
    assert code == 0, err
    assert "onnxruntime" in stdout


def test_bad_files_and_arguments_give_one_line(run_dir, tmp_path, capsys):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00\x01garbage")
    code, stdout, err = run(capsys, "export", "--model", str(run_dir), "--check", str(bad))
    assert code == 1 and stdout == ""
    assert err.count("\n") == 1 and "bad.onnx: not a valid ONNX model" in err
    pt = tmp_path / "iris.pt"
    assert run(capsys, "export", "--model", str(run_dir), "--out", str(pt), "--no-check")[0] == 0
    pt.write_bytes(pt.read_bytes()[:100])
    code, stdout, err = run(capsys, "export", "--model", str(run_dir), "--check", str(pt))
    assert code == 1 and stdout == ""
    assert err.count("\n") == 1 and "iris.pt: not a PyTorch state_dict file, or a corrupted" in err
    broken = tmp_path / "broken"
    broken.mkdir()
    ckpt = next(run_dir.glob("checkpoint.*"))
    data = bytearray(ckpt.read_bytes())
    data[-20:] = b"x" * 20
    (broken / ckpt.name).write_bytes(bytes(data))
    code, _, err = run(capsys, "export", "--model", str(broken), "--out", str(tmp_path / "b.onnx"))
    assert code == 1 and err.count("\n") == 1 and "corrupted" in err
    assert not (tmp_path / "b.onnx").exists()
    code, _, err = run(capsys, "export", "--model", str(tmp_path / "nope"), "--out", "x.pt")
    assert code == 1 and err.count("\n") == 1 and "no such run folder" in err
    code, _, err = run(capsys, "export", "--model", str(run_dir), "--out", str(tmp_path / "x"))
    assert code == 2 and "add --format torch or onnx" in err
    code, _, err = run(capsys, "export", "--model", str(run_dir))
    assert code == 2 and "give --out FILE" in err
    code, _, err = run(capsys, "export", "--model", str(run_dir), "--format", "onnx")
    assert code == 2
    code, _, err = run(
        capsys, "export", "--model", str(run_dir), "--out", str(tmp_path / "a.onnx"), "--opset", "9"
    )
    assert code == 1 and "opset must be between 17" in err
