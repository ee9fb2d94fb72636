import json

import pytest

from memograd import fibonacci as F
from memograd.cli import build_parser, main


def run_cli(capsys, *argv):
    code = main(["fib", *argv, "--no-color"])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_notes_fib_38_counted_while_running(capsys):
    code, out, err = run_cli(capsys, "38", "--base", "1", "1", "--method", "all")
    assert code == 0 and err == ""
    rows = [
        r
        for r in out.splitlines()
        if r.startswith(" ") and r.split()[:1] in [[m] for m in F.METHODS]
    ]
    assert len(rows) == 5
    assert all("63,245,986" in row for row in rows)
    naive = next(row for row in rows if row.split()[0] == "naive")
    assert naive.split()[3] == "126,491,971"  # the calls column, counted while running
    assert "counted 126,491,971 = 2*F(n+1) - 1 = 126,491,971" in out
    assert "126,491,971 (counted) / 75" in out
    assert "the notes' base" in out


def test_json_has_one_entry_per_method(capsys):
    code, out, _ = run_cli(capsys, "20", "--json", "--base", "1", "1")
    assert code == 0
    data = json.loads(out)
    assert set(data["methods"]) == set(F.METHODS)
    assert {m["value"] for m in data["methods"].values()} == {10946}
    assert data["methods"]["naive"]["calls"] == 21891
    assert data["methods"]["memo"]["hits"] == 18 and data["methods"]["dict"]["hits"] == 20
    ratio = data["naive_over_memoized_calls"]
    assert ratio["naive_calls"] == 21891 and ratio["memoized_calls"] == 39
    assert ratio["ratio"] == pytest.approx(21891 / 39)


def test_single_method_and_huge_value_is_shortened(capsys):
    code, out, _ = run_cli(capsys, "1000000", "--method", "doubling")
    assert code == 0
    assert "19532…46875" in out and "208,988" in out
    code, out, _ = run_cli(capsys, "1_000_000", "--method", "doubling", "--json")
    data = json.loads(out)["methods"]["doubling"]
    assert data["digits"] == 208988 and data["value"] is None


def test_all_skips_what_would_not_finish_and_says_so(capsys):
    code, out, _ = run_cli(capsys, "60", "--method", "all")
    assert code == 0
    assert f"{F.naive_calls(60):,}*" in out and "naive skipped" in out
    assert "(predicted)" in out and "--force" in out


def test_tree_draws_both_trees(capsys):
    code, out, _ = run_cli(capsys, "5", "--tree", "--method", "memo")
    assert code == 0
    assert out.count("↺ repeat") == 9 and out.count("✓ hit") == 3
    assert "15 calls" in out and "9 calls" in out
    code, out, _ = run_cli(capsys, "4", "--tree", "--json")
    tree = json.loads(out)["tree"]
    assert tree["naive"]["k"] == 4 and tree["memo"]["children"][1]["mark"] == "hit"


@pytest.mark.parametrize(
    "argv, text",
    [
        (["-3"], "n must be a non-negative integer, got -3"),
        (["2.5"], "n must be an integer, got '2.5'"),
        (["ten"], "n must be an integer"),
        (["5", "--method", "fast"], "unknown method 'fast'"),
        (["5", "--base", "1"], "expected 2 arguments"),
        (["5", "--base", "1", "x"], "--base B must be an integer"),
        (["11", "--tree"], "--tree draws at most N=10"),
        ([], "required"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, argv, text):
    code = main(["fib", *argv])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("memograd fib: error:")
    assert text in err
    assert "Traceback" not in err


def test_naive_refusal_is_one_line_exit_1(capsys):
    code, out, err = run_cli(capsys, "60", "--method", "naive")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "5,009,461,563,921 calls" in err and "--force" in err
    assert "error: fib:" not in err


def test_ctrl_c_during_naive_prints_counts_so_far(capsys, monkeypatch):
    ticks = {"n": 0}

    class Interrupting(int):  # the 500th addition raises KeyboardInterrupt, as Ctrl-C would
        def __add__(self, other):
            ticks["n"] += 1
            if ticks["n"] == 500:
                raise KeyboardInterrupt
            return int(self) + int(other)

        __radd__ = __add__

    real = F._naive
    monkeypatch.setitem(F._RUNNERS, "naive", lambda n, a, b: real(n, a, Interrupting(b)))
    code, out, err = run_cli(capsys, "30", "--method", "naive", "--force")
    assert code == 130
    assert "interrupted" in out
    assert err.startswith("memograd fib: interrupted: naive stopped after ") and "calls" in err
    assert "max depth 30" in err


def test_help_has_examples():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    text = sub.choices["fib"].format_help()
    assert "memograd fib 38 --base 1 1 --method all" in text and "--force" in text


def test_huge_predicted_naive_count_is_shortened_and_title_does_not_wrap(capsys):
    import re

    code, out, _ = run_cli(capsys, "1000")
    assert code == 0
    digits = F.digit_count(F.naive_calls(1000))
    assert f"({digits} digits) (predicted) / 1,999" in out
    assert max(len(run) for run in re.findall(r"[\d,]+", out)) < 40  # no 210-digit number
    code, out, _ = run_cli(capsys, "5", "--base", "1", "1")
    assert out.splitlines()[0] == "G(5) with G(0)=1, G(1)=1 (the notes' base, d = {0: 1, 1: 1})"


def test_huge_n_with_iter_is_refused_in_one_line(capsys):
    from memograd.cli import main

    assert main(["fib", "100000000000", "--method", "doubling"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "digits" in err and "--force" in err


def test_tree_never_wraps_or_truncates_in_80_columns(capsys):
    from rich.cells import cell_len

    from memograd.cli import main

    n = 6
    assert main(["fib", str(n), "--tree", "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    assert all(cell_len(line.rstrip()) <= 80 for line in out.splitlines())
    calls = 2 * 13 - 1  # 2*F(7) - 1 naive calls; n + 1 distinct subproblems, the rest repeats
    assert out.count("↺ repeat") == calls - (n + 1)
    assert out.count("✓ hit") == (2 * n - 1) - (n + 1)  # memoized: 2n - 1 calls, n + 1 misses


def test_fib_and_help_do_not_import_what_they_do_not_use():
    """Start-up (issue 12): `memograd fib` and `memograd --help` load neither NumPy nor the
    engines nor other commands' options (each is imported by the command that needs it)."""
    import subprocess
    import sys

    code = (
        "import sys, io, contextlib\n"
        "from memograd.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['fib', '12', '--method', 'all']) == 0\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('numpy', 'memograd.tensor', 'memograd.train', 'memograd.scalar', 'gmpy2')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_command_alone_gets_its_options_and_help_lists_every_command(capsys):
    from memograd.cli import COMMANDS

    assert main(["fib", "7", "--method", "iter", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["methods"]["iter"]["value"] == 13
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = capsys.readouterr().out
    assert all(name in listing for name in COMMANDS)
