"""memograd complexity: counts on real graphs against closed forms; plot; bad input."""

import json

import pytest

from memograd.cli import main
from memograd.cli.complexity import measure


def test_json_counts_match_closed_forms(capsys):
    assert main(["complexity", "--depths", "1-6", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    rows = d["rows"]
    assert [r["depth"] for r in rows] == [1, 2, 3, 4, 5, 6]
    for r in rows:
        depth = r["depth"]
        assert r["parameters"] == 3 * 2 * depth + 3  # (2+1) per neuron, plus the output neuron
        assert r["paths_to_w11^1"] == 2 ** (depth - 1)
        assert r["naive"] == r["naive_multiplications"] + r["naive_additions"]
        assert r["backprop_multiplications"] == r["edges"]
        assert r["ratio"] == pytest.approx(r["naive"] / r["backprop"])
    # backprop grows linearly with depth; enumeration grows faster than linearly
    steps = [b["backprop"] - a["backprop"] for a, b in zip(rows, rows[1:])]
    assert len(set(steps)) == 1
    ratios = [r["ratio"] for r in rows]
    assert ratios == sorted(ratios) and ratios[-1] > 10 * ratios[0]
    assert rows[1]["net"] == "2-2-2-1"


def test_width_three_paths():
    (row,) = measure(3, [4])
    assert row["paths_to_w11^1"] == 3**3 and row["parameters"] == 4 * 3 * 4 + 4


def test_text_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "c.png"
    assert main(["complexity", "--depths", "1,3", "--plot", str(out), "--no-color"]) == 0
    text = capsys.readouterr().out
    assert "ratio" in text and "plot written" in text
    assert main(["complexity", "--depths", "12", "--no-color"]) == 0
    # 2,048 paths to w11^1 at depth 12: the ratio is in the thousands, written out, not 3.63e+03
    text = capsys.readouterr().out
    assert "2,048" in text and "e+" not in text
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--width", "0"], "--width must be >= 1"),
        (["--depths", "5-2"], "empty range"),
        (["--depths", "a-b"], "expected a range"),
        (["--depths", "0"], "every depth must be in 1..64"),
        (["--plot", "x.gif"], "unknown image format"),
        # depth·w·(w+1) + w + 1 parameters per network: 3·1,001,000 + 2·1,001
        (["--width", "1000", "--depths", "1-2"], "would build 3,005,002 scalar parameters"),
        (["--width", "300", "--depths", "1-12"], "would build 7,047,012 scalar parameters"),
    ],
)
def test_usage_errors(capsys, argv, message):
    assert main(["complexity", "--depths", "1", *argv]) == 2  # the last --depths wins
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("spec", ["1-99999999999999999999", "99999999999999999999", "1,0", "65"])
def test_out_of_range_depths_are_one_line_usage_errors(spec, capsys):
    """Issue 11: `--depths 1-99999999999999999999` was an OverflowError traceback."""
    assert main(["complexity", "--depths", spec]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "every depth must be in 1..64" in err
