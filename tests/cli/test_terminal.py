"""Issue 13.7-13.10: colour conventions, tables that never cut a number, progress on stderr, help
text and defaults on every option, --json where a command prints results, broken pipes."""

import argparse
import io
import json
import os
import re
import subprocess
import sys

import pytest
from rich.console import Console
from rich.table import Table

from memograd.cli import COMMANDS, UI, build_parser, main, user_text

COLOR = re.compile(r"\x1b\[[0-9;]*m")
FG_COLOR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-7]|38|9[0-7])[;m]")


def run_cli(*argv, env=None, **kwargs):
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "memograd", *argv],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
        **kwargs,
    )


def test_plain_in_a_pipe_colour_with_force_color_none_with_no_color():
    argv = ("demo", "--quick", "--only", "memoization")  # its recursion trees are red and green
    plain = run_cli(*argv)
    assert plain.returncode == 0 and not COLOR.search(plain.stdout)
    forced = run_cli(*argv, env={"FORCE_COLOR": "1"})
    assert forced.returncode == 0 and FG_COLOR.search(forced.stdout), forced.stdout[:300]
    both = run_cli(*argv, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert both.returncode == 0 and COLOR.search(both.stdout)  # bold stays: NO_COLOR is colour
    assert not FG_COLOR.search(both.stdout)
    flag = run_cli(*argv, "--no-color", env={"FORCE_COLOR": "1"})
    assert not FG_COLOR.search(flag.stdout)


def test_ui_reads_no_color_unless_told(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert UI().console.no_color and UI().no_color
    monkeypatch.delenv("NO_COLOR")
    assert not UI().console.no_color and UI(no_color=True).console.no_color


def wide_table() -> Table:
    t = Table(title="cost")
    for name in ("depth", "paths L->w11^1", "naive (mul+add)", "backprop (mul+add)", "ratio"):
        t.add_column(name, justify="right")
    t.add_row("10", "134,217,728", "261,905,351,931", "2,020", "129,656,115x")
    return t


def test_a_table_in_a_pipe_keeps_its_natural_width():
    buf = io.StringIO()
    ui = UI(stdout=buf)
    ui.console.width = 40  # narrower than the table
    ui.print(wide_table())
    out = buf.getvalue()
    for number in ("134,217,728", "261,905,351,931", "129,656,115x"):
        assert number in out
    assert "…" not in out


def test_a_table_wider_than_the_terminal_switches_to_one_line_per_cell():
    buf = io.StringIO()
    ui = UI(stdout=buf)
    ui.console = Console(file=buf, force_terminal=True, width=40, no_color=True)
    ui.print(wide_table())
    out = COLOR.sub("", buf.getvalue())
    assert "naive (mul+add): 261,905,351,931" in out and "ratio: 129,656,115x" in out
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= 40


def test_complexity_piped_at_80_columns_prints_every_number_whole():
    """The issue's case: `memograd complexity --width 8 --depths 1-10 | cat` cut 3,402,007,9…"""
    out = run_cli("complexity", "--width", "8", "--depths", "1-10", env={"COLUMNS": "80"})
    assert out.returncode == 0
    assert "…" not in out.stdout
    data = json.loads(run_cli("complexity", "--width", "8", "--depths", "1-10", "--json").stdout)
    for row in data["rows"]:
        assert f"{row['naive']:,}" in out.stdout and f"{row['paths_to_w11^1']:,}" in out.stdout


def test_progress_goes_to_stderr_and_stdout_stays_the_result(monkeypatch, capsys):
    monkeypatch.setenv("FORCE_COLOR", "1")  # stderr counts as a terminal: the bar is drawn
    assert main(["explain", "--all", "--net", "2,3,1", "--json"]) == 0
    captured = capsys.readouterr()
    assert "explaining 13 gradient(s)" in captured.err
    assert json.loads(captured.out)["net"] == [2, 3, 1]  # stdout: the JSON alone


def test_user_strings_cannot_inject_markup_or_terminal_escapes():
    assert user_text("[/x][bold]a") == r"\[/x]\[bold]a"
    assert "\x1b" not in user_text("a\x1b[31mred") and "\\x1b" in user_text("a\x1b[31mred")
    buf = io.StringIO()
    UI(stdout=buf).print(f"written to {user_text('/tmp/[/x]/o.svg')}")
    assert buf.getvalue().strip() == "written to /tmp/[/x]/o.svg"


def test_graph_out_path_with_markup_and_escape_is_printed_verbatim(tmp_path, capsys):
    out = tmp_path / "[red]x[/]\x1b[31m.svg"
    assert main(["graph", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert out.exists() and "[red]x[/]\\x1b[31m.svg" in printed and "\x1b" not in printed


def subcommands():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_has_help_and_its_default(name):
    """Issue 13.10: every option of every command (walked from the argparse tree, so a new
    command or option is covered without editing this test) has help text that shows its
    default."""
    choices = subcommands()
    assert set(choices) == set(COMMANDS)  # every command is in the tree, none skipped
    cmd = choices[name]
    text = " ".join(cmd.format_help().split())
    for action in cmd._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        assert action.help, f"{name} {action.option_strings[0]} has no help text"
        d = action.default
        if d is not None and d is not False and d is not argparse.SUPPRESS:
            forms = (
                {" ".join(map(str, d)), ",".join(map(str, d))}
                if isinstance(d, list | tuple)
                else {str(d)}
            )
            assert any(f"default {f}" in text or f"default: {f}" in text for f in forms), (
                f"{name} {action.option_strings[0]}: default {d!r} not shown"
            )


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--quick", "--only", "network", "--json"],
        ["explain", "--json"],
        ["complexity", "--depths", "1-2", "--json"],
    ],
)
def test_json_on_every_command_that_prints_results(argv, capsys):
    assert main(argv) == 0
    assert isinstance(json.loads(capsys.readouterr().out), dict)


@pytest.mark.parametrize(
    "argv,words",
    [
        (["fib", "20", "--method", "all", "--json"], "fib(20) naive (1/5)"),
        (["demo", "--quick", "--only", "network", "--json"], "demo: computing section 2"),
        (["complexity", "--depths", "1-3", "--json"], "counting paths, width 2"),
        (["graph", "--net", "2,3,1", "--format", "dot"], "drawing the neuron-level graph"),
    ],
)
def test_long_commands_show_progress_on_a_terminal_only(argv, words, monkeypatch, capsys):
    """Issue 13.9: each command that can take seconds says what it is doing on stderr (a
    terminal); into a pipe or file nothing at all, so stdout and stderr stay clean."""
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert main(argv) == 0
    quiet = capsys.readouterr()
    assert quiet.err == ""
    monkeypatch.setenv("FORCE_COLOR", "1")  # stderr counts as a terminal: progress is drawn
    assert main(argv) == 0
    loud = capsys.readouterr()
    assert words in loud.err
    if "--json" in argv:
        json.loads(loud.out)  # stdout is the result alone


def test_ascii_progress_is_ascii_too(monkeypatch, capsys):
    """--ascii covers stderr as well: an ASCII spinner ("line") and no Unicode in the progress."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert main(["fib", "20", "--method", "all", "--json", "--ascii"]) == 0
    err = capsys.readouterr().err
    assert "fib(20) naive (1/5)" in err and err.isascii()


def test_naive_fib_progress_has_an_estimate(monkeypatch):
    """The bar of a long naive run follows the predicted seconds (closed-form calls times the
    measured cost of a call): rich then shows the time left."""
    from memograd import fibonacci as F
    from memograd.cli.fib import _estimate

    calls, seconds = F.predict_naive(32)
    assert calls == 2 * F.fib(33) - 1
    assert _estimate(32, "naive", F) == (seconds if seconds > 0.5 else None)
    assert _estimate(32, "memo", F) is None and _estimate(10**6, "naive", F) is None


def test_every_command_has_json():
    """Issue 13.10: --json on every command (each prints a result: numbers, a file written, the
    server's address)."""
    for name, cmd in subcommands().items():
        assert any("--json" in a.option_strings for a in cmd._actions), name


def test_graph_json_describes_the_file_it_wrote(tmp_path, capsys):
    assert main(["graph", "--out", str(tmp_path / "g.svg"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["path"] == str((tmp_path / "g.svg").resolve()) and d["nodes"] == 23


def test_broken_pipe_is_not_a_failure():
    """`memograd demo | head -1`: the reader leaves after one line; exit 0, nothing on stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "memograd", "demo", "--quick", "--only", "memoization,network"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "80"},
    )
    proc.stdout.readline()
    proc.stdout.close()  # like head -1 exiting
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, err
    assert err == ""


def test_broken_pipe_through_the_shell():
    out = subprocess.run(
        f"{sys.executable} -m memograd explain --all | head -1; echo rc=${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.stdout.strip().endswith("rc=0"), out
    assert "Traceback" not in out.stderr and "Broken pipe" not in out.stderr


def test_threads_option_on_every_command_and_bad_values_are_usage_errors(capsys):
    for name, cmd in subcommands().items():
        assert "--threads" in cmd.format_help(), name
    assert main(["complexity", "--depths", "1", "--threads", "0"]) == 2
    assert "--threads: must be at least 1" in capsys.readouterr().err
    assert main(["complexity", "--depths", "1", "--threads", "1", "--json"]) == 0


def test_missing_optional_dependency_is_exit_1_naming_the_extra(monkeypatch, tmp_path, capsys):
    """Issue 13.10: a missing extra is a runtime error (exit 1), and says what to install."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["complexity", "--depths", "1-2", "--plot", str(tmp_path / "c.png")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'memograd[plot]'" in err
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    assert main(["complexity", "--depths", "1", "--threads", "2"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'memograd[threads]'" in err
    assert main(["complexity", "--depths", "1", "--threads", "auto", "--json"]) == 0
