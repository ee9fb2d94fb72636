"""memograd complexity --memory and memograd train --memory-budget."""

import json

from memograd.cli import main


def test_complexity_memory_json_and_plot(capsys, tmp_path):
    svg = tmp_path / "m.svg"
    assert (
        main(
            [
                "complexity",
                "--memory",
                "--depths",
                "1-5",
                "--width",
                "8",
                "--json",
                "--plot",
                str(svg),
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert [r["depth"] for r in data["rows"]] == [1, 2, 3, 4, 5]
    assert all(r["same_gradients"] for r in data["rows"])
    assert svg.read_text().startswith("<svg") and "√n checkpoints" in svg.read_text()


def test_complexity_memory_table_and_bad_plot_name(capsys, tmp_path):
    assert main(["complexity", "--memory", "--depths", "1-3", "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "store everything" in out and "bit for bit: yes" in out
    assert main(["complexity", "--memory", "--plot", str(tmp_path / "m.png")]) == 2
    assert "ending in .svg" in capsys.readouterr().err


def test_train_with_a_memory_budget_learns_exactly_like_the_eager_run(tmp_path, capsys):
    common = [
        "train",
        "--dataset",
        "moons",
        "--hidden",
        "32,32,32,32,32,32",
        "--epochs",
        "2",
        "--samples",
        "200",
        "--eager",
        "--json",
    ]
    assert main([*common, "--out", str(tmp_path / "a")]) == 0
    capsys.readouterr()
    # between the least schedule (~17 KB) and store-everything (~27 KB) for batches of 32
    assert main([*common, "--memory-budget", "0.022", "--out", str(tmp_path / "b")]) == 0
    capsys.readouterr()
    a = json.loads((tmp_path / "a" / "metrics.json").read_text())
    b = json.loads((tmp_path / "b" / "metrics.json").read_text())

    def learned(d):  # everything but wall-clock timings
        return [{k: v for k, v in e.items() if "second" not in k} for e in d["history"]]

    assert learned(a) == learned(b) and len(learned(a)) == 2
    assert b["config"]["memory_budget"] == 0.022 and a["config"]["memory_budget"] is None


def test_too_small_a_budget_is_one_line(capsys):
    assert main(["train", "--dataset", "moons", "--epochs", "1", "--memory-budget", "0.0001"]) == 1
    err = capsys.readouterr().err.strip()
    assert "too small for any schedule" in err and "\n" not in err
