"""memograd explain: the notes' numbers, JSON that re-checks independently, every bad input."""

import json
import math

import pytest

from memograd.cli import main


def run_json(capsys, *argv):
    assert main(["explain", *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def sigmoid(t):
    return 1 / (1 + math.exp(-t))


def forward(d):
    """An independent forward pass of the 2-2-2-1 sigmoid network from the JSON alone."""
    w = d["weights"]
    x = [d["inputs"]["x1"], d["inputs"]["x2"]]
    o = {}
    prev = x
    for k in (1, 2, 3):
        width = 1 if k == 3 else 2
        cur = []
        for j in range(1, width + 1):
            z = sum(w[f"w{i}{j}^{k}"] * prev[i - 1] for i in range(1, len(prev) + 1))
            cur.append(sigmoid(z + w[f"b{j}^{k}"]))
            o[f"o{k}{j}"] = cur[-1]
        prev = cur
    return (prev[0] - d["target"]) ** 2


def test_json_rechecks_independently(capsys):
    d = run_json(capsys, "--wrt", "w11^1", "--seed", "3")
    assert d["activation"] == "sigmoid" and d["loss"] == "mse" and len(d["weights"]) == 15
    assert d["L"] == pytest.approx(forward(d), rel=1e-14)
    assert len(d["paths"]) == 2
    for p in d["paths"]:
        assert p["product"] == pytest.approx(math.prod(p["values"]), rel=1e-14)
        assert p["factors"][0] == "∂L/∂ŷ" and p["factors"][-1] == "∂o11/∂w11^1"
    assert d["path_sum"] == pytest.approx(sum(p["product"] for p in d["paths"]), rel=1e-12)
    assert abs(d["path_sum"] - d["backprop"]) <= 1e-12 * abs(d["backprop"])
    # finite differences on the independent forward pass
    h = 1e-6
    up, down = json.loads(json.dumps(d)), json.loads(json.dumps(d))
    up["weights"]["w11^1"] += h
    down["weights"]["w11^1"] -= h
    assert d["backprop"] == pytest.approx((forward(up) - forward(down)) / (2 * h), rel=1e-6)


def test_weights_file_roundtrip(tmp_path, capsys):
    d = run_json(capsys, "--seed", "5")
    d["weights"]["w11^2"] = 0.25
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(d))
    again = run_json(capsys, "--weights", str(path), "--wrt", "w11^2")
    assert again["weights"]["w11^2"] == 0.25
    assert again["inputs"] == d["inputs"] and again["target"] == d["target"]
    assert len(again["paths"]) == 1 and again["L"] == pytest.approx(forward(again), rel=1e-14)


def test_all_parameters_and_op_view(capsys):
    d = run_json(capsys, "--all", "--view", "op", "--net", "2,3,1", "--activation", "tanh")
    assert len(d["explanations"]) == 3 * 3 + 4
    for e in d["explanations"]:
        assert abs(e["path_sum"] - e["backprop"]) <= 1e-12 * max(1, abs(e["backprop"]))
    assert {e["wrt"] for e in d["explanations"]} == set(d["weights"])


def test_text_output(capsys):
    assert main(["explain", "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "∂L/∂w11^1: 2 path(s)" in out and "L -> ŷ -> o21 -> o11 -> w11^1" in out
    assert "σ'(z21)·w11^2" in out and "path sum" in out and "backprop" in out
    assert "∂L/∂ŷ [" in out and "memo table" in out


def test_latex_output(capsys):
    assert main(["explain", "--format", "latex", "--wrt", "w11^1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("\\begin{align*}") and "\\frac{\\partial L}{\\partial w_{11}^{1}}" in out
    assert "\\hat{y}" in out and "(backprop)" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--wrt", "w99^1"], "unknown parameter 'w99^1'; valid names for --net 2,2,2,1: w11^1"),
        (["--net", "2"], "need at least two layers"),
        (["--net", "2,0,1"], "width 0"),
        (["--net", "two"], "integers"),
        (["--activation", "gelu"], "invalid choice"),
        (["--wrt", "w11^1", "--all"], "not allowed with"),
    ],
)
def test_usage_errors(capsys, argv, message):
    assert main(["explain", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("memograd explain: error:")


def test_bad_weights_file(tmp_path, capsys):
    bad = tmp_path / "w.json"
    bad.write_text('{"w11^1": "heavy"}')
    assert main(["explain", "--weights", str(bad)]) == 1
    assert "w11^1 must be a number" in capsys.readouterr().err
    bad.write_text("[1, 2")
    assert main(["explain", "--weights", str(bad)]) == 1
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["explain", "--weights", str(tmp_path / "none.json")]) == 1
    assert "cannot read" in capsys.readouterr().err
