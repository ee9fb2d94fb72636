"""memograd explain: the notes' numbers, JSON that re-checks independently, every bad input."""

import io
import json
import math
import re

import numpy as np
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


def test_a_json_file_alone_rebuilds_its_network(tmp_path, capsys):
    d = run_json(capsys, "--net", "2,3,1", "--activation", "tanh", "--loss", "hinge", "--seed", "7")
    path = tmp_path / "run.json"
    path.write_text(json.dumps(d))
    again = run_json(capsys, "--weights", str(path))  # net, activation and loss from the file
    for key in ("net", "activation", "loss", "inputs", "target", "weights", "L", "backprop"):
        assert again[key] == d[key], key
    # an explicit flag still wins over the file
    assert main(["explain", "--weights", str(path), "--net", "2,2,2,1"]) == 1
    assert "unknown parameter name(s)" in capsys.readouterr().err


def test_all_parameters_and_op_view(capsys):
    d = run_json(capsys, "--all", "--view", "op", "--net", "2,3,1", "--activation", "tanh")
    assert len(d["explanations"]) == 3 * 3 + 4
    for e in d["explanations"]:
        assert abs(e["path_sum"] - e["backprop"]) <= 1e-12 * max(1, abs(e["backprop"]))
    assert {e["wrt"] for e in d["explanations"]} == set(d["weights"])


def test_text_output(capsys):
    """Terminal text writes the notes' notation in Unicode, as the demo does (issue 13.6)."""
    assert main(["explain", "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "∂L/∂w₁₁¹: 2 path(s)" in out and "L → ŷ → o₂₁ → o₁₁ → w₁₁¹" in out
    assert "w11^1" not in out and "->" not in out  # one notation per output kind
    assert "15 parameters = 2×(2+1) + 2×(2+1) + 1×(2+1)" in out  # the notes' (2+1) = 3
    assert "σ'(z) = σ(z)·(1 - σ(z))" in out and "naive recomputes: parameter paths" in out
    assert "σ'(z₂₁)·w₁₁²" in out and "path sum" in out and "backprop" in out
    assert "∂L/∂ŷ [" in out and "memo table" in out
    memo = out.split("memo table")[1].splitlines()
    rows = [line.split()[0] for line in memo if line.startswith(" ∂L/∂")]
    assert rows == ["∂L/∂ŷ", "∂L/∂o₂₁", "∂L/∂o₂₂", "∂L/∂o₁₁"]  # from the output down
    # by hand on the 2-2-2-1 graph (see tests/test_paths.py): 3·3 + 6·5 + 6·2·7 products
    # path by path, one multiplication per edge for backprop
    assert "path by path: 123 multiplications + 6 additions = 129" in out
    assert "memoized backprop: 32 multiplications (one per edge) + 4 additions = 36" in out


def test_many_paths_are_summed_in_full_but_written_out_only_up_to_a_limit(capsys):
    from memograd.paths import SHOWN

    net = ["--net", "2,3,3,3,3,1"]  # 3^3 = 27 neuron-level paths from L to w11^1
    d = run_json(capsys, *net)
    assert d["count"] == len(d["paths"]) == 27 > SHOWN  # JSON: every path
    assert main(["explain", *net, "--no-color"]) == 0
    out = capsys.readouterr().out
    assert f"path {SHOWN}: " in out and f"path {SHOWN + 1}: " not in out
    assert f"… {27 - SHOWN} more paths, not shown" in out and "(27 terms in all)" in out
    assert f"path sum   = {d['path_sum']:.17g}" in out
    assert abs(d["path_sum"] - d["backprop"]) <= 1e-12 * max(1.0, abs(d["backprop"]))


def test_latex_output_is_the_notes_factored_formula_with_numbers(capsys):
    d = run_json(capsys, "--wrt", "w11^1")
    assert main(["explain", "--format", "latex", "--wrt", "w11^1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("\\begin{align*}") and out.count("\\end{align*}") == 2
    rows = out.split("\\end{align*}")[0].split(" \\\\\n")

    def d_(a, b):
        return f"\\frac{{\\partial {a}}}{{\\partial {b}}}"

    y, o21, o22, o11, w = "\\hat{y}", "o_{21}", "o_{22}", "o_{11}", "w_{11}^{1}"
    x = " \\times "
    # the notes: dL/dw11^1 = dL/dyhat [dyhat/do21 x do21/do11 x do11/dw11^1 + (via o22)]
    assert rows[0].endswith(
        f"{d_('L', w)} &= {d_('L', y)} \\Bigl["
        f"{d_(y, o21)}{x}{d_(o21, o11)}{x}{d_(o11, w)} + "
        f"{d_(y, o22)}{x}{d_(o22, o11)}{x}{d_(o11, w)}"
        "\\Bigr]"
    )
    # the same shape with the JSON's numbers; then the products, path sum and backprop
    v1, v2 = (p["values"] for p in d["paths"])
    nums = [f"({v:.6g})" for v in v1 + v2[1:]]  # dL/dyhat once, in front
    assert rows[1] == (f"  &= {nums[0]} \\Bigl[{x.join(nums[1:4])} + {x.join(nums[4:7])}\\Bigr]")
    assert rows[2] == "  &= " + " + ".join(f"({p['product']:.6g})" for p in d["paths"])
    assert f"{d['path_sum']:.12g} && \\text{{path sum}}" in rows[3]
    assert f"{d['backprop']:.12g} && \\text{{backprop (memoized)}}" in rows[4]
    # every local derivative with its formula: do21/do11 = sigma'(z21) w11^2
    assert f"{d_(o21, o11)} &= \\sigma'(z_{{21}}) \\cdot w_{{11}}^{{2}} = {v1[2]:.6g}" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--wrt", "w99^1"], "unknown parameter 'w99^1'; valid names for --net 2,2,2,1: w11^1"),
        (["--net", "2"], "need at least two layers"),
        (["--net", "2,0,1"], "width 0"),
        (["--net", "two"], "integers"),
        (["--activation", "gelu"], "invalid choice"),
        (["--wrt", "w11^1", "--all"], "not allowed with"),
        (["--loss", "bce", "--activation", "tanh"], "--loss bce needs outputs in (0, 1)"),
        # 4^9 = 262,144 paths from L to w11^1: refused before enumerating, with a way out
        (["--net", "2" + ",4" * 10 + ",1"], "w11^1 has 262,144 chain-rule paths from L"),
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


# --- an independent NumPy forward/backward, from the JSON alone ------------------------------

ACTIVATIONS = {  # f(z), f'(z) written with the output o = f(z) where that is the usual form
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z, o: o * (1 - o)),
    "tanh": (np.tanh, lambda z, o: 1 - o**2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, o: (z > 0).astype(float)),
    "linear": (lambda z: z, lambda z, o: np.ones_like(z)),
}


def loss_and_grad(name, y, t):
    """L and dL/dy for the outputs y (vector) and targets t, mean over outputs."""
    n = len(y)
    if name == "mse":
        return np.mean((y - t) ** 2), 2 * (y - t) / n
    if name == "bce":
        loss = -np.mean(t * np.log(y) + (1 - t) * np.log(1 - y))
        return loss, (-(t / y) + (1 - t) / (1 - y)) / n
    margin = 1 - t * y  # hinge
    return np.mean(np.maximum(margin, 0.0)), np.where(margin > 0, -t, 0.0) / n


def _i(*ks):
    return "".join(map(str, ks)) if all(k < 10 for k in ks) else ",".join(map(str, ks))


def numpy_network(d):
    """Matrices W[k][j-1, i-1] = w_ij^k and b[k][j-1] = b_j^k from the JSON's names, a forward
    pass, and backprop written with matrices: returns L, every gradient by name, and the
    per-layer pre-activations z[k] and outputs o[k] (o[0] = x)."""
    sizes, w = d["net"], d["weights"]
    f, df = ACTIVATIONS[d["activation"]]
    W = [None] + [
        np.array(
            [[w[f"w{_i(i, j)}^{k}"] for i in range(1, sizes[k - 1] + 1)] for j in range(1, n + 1)]
        )
        for k, n in enumerate(sizes[1:], 1)
    ]
    b = [None] + [
        np.array([w[f"b{j}^{k}"] for j in range(1, n + 1)]) for k, n in enumerate(sizes[1:], 1)
    ]
    o = [np.array([d["inputs"][f"x{i}"] for i in range(1, sizes[0] + 1)])]
    z = [None]
    for k in range(1, len(sizes)):
        z.append(W[k] @ o[k - 1] + b[k])
        o.append(f(z[k]))
    t = np.atleast_1d(np.array(d["target"], dtype=float))
    loss, delta = loss_and_grad(d["loss"], o[-1], t)
    grads = {}
    for k in range(len(sizes) - 1, 0, -1):
        delta = delta * df(z[k], o[k])  # dL/dz[k]
        for j in range(1, sizes[k] + 1):
            grads[f"b{j}^{k}"] = delta[j - 1]
            for i in range(1, sizes[k - 1] + 1):
                grads[f"w{_i(i, j)}^{k}"] = delta[j - 1] * o[k - 1][i - 1]
        delta = W[k].T @ delta  # dL/do[k-1]
    dL_dy = loss_and_grad(d["loss"], o[-1], t)[1]
    return loss, grads, dL_dy, W, z, o, df


def _neuron(name, last):
    """(layer k, index j) of a neuron-level node name: o21 -> (2, 1), yhat2 -> (last, 2)."""
    if name.startswith("yhat"):
        return last, int(name[4:] or 1)
    return int(name[1]), int(name[2])


def expected_factor(child, parent, net):
    """The neuron-level local derivative ∂child/∂parent from the NumPy forward pass."""
    _, _, dL_dy, W, z, o, df = net
    last = len(W) - 1
    if child == "L":
        return dL_dy[_neuron(parent, last)[1] - 1]
    k, j = _neuron(child, last)
    slope = df(z[k], o[k])[j - 1]  # f'(z_kj)
    if parent.startswith("b"):
        return slope
    if parent.startswith("w"):  # ∂o/∂w_ij^k = f'(z)·(input i)
        i = int(parent[1])
        return slope * o[k - 1][i - 1]
    i = int(parent[1:]) if parent.startswith("x") else _neuron(parent, last)[1]
    return slope * W[k][j - 1, i - 1]  # ∂o_kj/∂o_(k-1)i = f'(z)·w_ij^k


@pytest.mark.parametrize(
    "argv",
    [
        ["--seed", "3"],
        ["--net", "3,4,2", "--activation", "tanh", "--seed", "1"],
        ["--net", "2,3,1", "--activation", "relu", "--loss", "hinge", "--seed", "2"],
        ["--net", "2,2,1", "--loss", "bce", "--seed", "4"],
        ["--activation", "linear", "--seed", "5"],
    ],
)
def test_json_alone_rechecks_every_gradient_and_factor_with_numpy(capsys, argv):
    d = run_json(capsys, "--all", *argv)
    net = numpy_network(d)
    loss, grads = net[0], net[1]
    assert d["L"] == pytest.approx(loss, rel=1e-13)
    assert set(grads) == set(d["weights"]) == {e["wrt"] for e in d["explanations"]}
    # the NumPy backward itself against central differences of the NumPy forward
    for name in list(grads)[:4]:
        up, down = json.loads(json.dumps(d)), json.loads(json.dumps(d))
        up["weights"][name] += 1e-6
        down["weights"][name] -= 1e-6
        fd = (numpy_network(up)[0] - numpy_network(down)[0]) / 2e-6
        assert grads[name] == pytest.approx(fd, rel=1e-5, abs=1e-9)
    for e in d["explanations"]:
        g = grads[e["wrt"]]
        tol = 1e-12 * max(1.0, abs(g))
        assert abs(e["backprop"] - g) <= tol and abs(e["path_sum"] - g) <= tol
        assert e["path_sum"] == pytest.approx(math.fsum(p["product"] for p in e["paths"]))
        for p in e["paths"]:
            assert p["product"] == pytest.approx(math.prod(p["values"]), rel=1e-14)
            assert p["nodes"][0] == "L" and p["nodes"][-1] == e["wrt"]
            for child, parent, value in zip(p["nodes"], p["nodes"][1:], p["values"]):
                expected = expected_factor(child, parent, net)
                assert value == pytest.approx(expected, rel=1e-12, abs=1e-15), (child, parent)


def test_empty_wrt_is_an_error_not_w11_1(capsys):
    """Issue 11: `explain --wrt ''` silently explained w11^1."""
    assert main(["explain", "--wrt", ""]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "unknown parameter ''" in captured.err


def test_json_flag_is_format_json(capsys):
    """Issue 13.10: `explain --json` exited 2."""
    assert main(["explain", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["wrt"] == "w11^1" and len(d["paths"]) == 2
    assert main(["explain", "--json", "--format", "latex"]) == 2
    assert "disagree" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["svg", "html", "json", "latex", "text"])
def test_out_writes_every_format(fmt, tmp_path, capsys):
    """Issue 13.5: the explain figure can be saved (svg, or html with the table)."""
    import xml.etree.ElementTree as ET

    out = tmp_path / f"paths.{fmt}"
    assert main(["explain", "--wrt", "w11^1", "--format", fmt, "--out", str(out)]) == 0
    assert str(out.resolve()) in capsys.readouterr().out
    text = out.read_text()
    if fmt == "svg":
        root = ET.fromstring(text)
        assert root.get("viewBox") and "2 path(s)" in "".join(root.itertext())
    elif fmt == "html":
        from memograd.viz.wellformed import check_report

        check_report(text)
        assert "memograd explain" in text and "<svg" in text
    elif fmt == "json":
        assert len(json.loads(text)["paths"]) == 2
    elif fmt == "latex":
        assert r"\frac" in text
    else:
        assert "path sum" in text and "\x1b" not in text


def test_svg_needs_one_parameter(capsys):
    assert main(["explain", "--all", "--format", "svg"]) == 2
    assert "--wrt NAME" in capsys.readouterr().err


def test_all_on_a_big_net_is_one_line_per_parameter(capsys):
    """Issue 13.9: `explain --net 2,8,8,8,8,1 --all` printed 32,000 lines; past 16 parameters the
    terminal gets one line each (the JSON still has every path)."""
    assert main(["explain", "--net", "2,4,4,1", "--all"]) == 0
    out = capsys.readouterr().out
    assert "37 parameters, one line each" in out
    assert "path 1:" not in out and len(out.splitlines()) < 80
    for name in ("w₁₁¹", "w₄₄²", "b₁³"):
        assert re.search(rf"^\s*{re.escape(name)}\s", out, re.M), name


def test_ascii_option_writes_the_ascii_names_and_keeps_tables_aligned(capsys):
    """``--ascii``: the other notation (w11^1, yhat, ->), every character ASCII, and the table
    columns still line up (the names are converted before rich measures them)."""
    assert main(["explain", "--no-color", "--ascii"]) == 0
    out = capsys.readouterr().out
    assert out.isascii()
    assert "dL/dw11^1: 2 path(s)" in out and "L -> yhat -> o21 -> o11 -> w11^1" in out
    assert "sigma'(z21)*w11^2" in out
    table = out.split("path 1:")[1].split("product")[0].splitlines()[1:]
    bars = {line.index("|") for line in table if "|" in line}
    assert len(bars) == 1  # one column boundary position: aligned


def test_huge_json_on_a_terminal_asks_for_out(monkeypatch, capsys):
    """Issue 13.9: `explain --all --format json` of thousands of paths is not poured onto a
    terminal (the text format summarises instead); a pipe or --out gets it all."""
    import memograd.cli as cli

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    real_ui = cli.UI
    monkeypatch.setattr(
        cli, "UI", lambda no_color=False, **kw: real_ui(no_color, stdout=term, **kw)
    )
    argv = ["explain", "--net", "2,8,8,1", "--all", "--format", "json"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--out FILE" in err and "paths" in err and term.getvalue() == ""
    assert main(argv[:4]) == 0  # text: one line per parameter
    assert "one line each" in term.getvalue()
