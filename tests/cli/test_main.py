import subprocess
import sys

import memograd
from memograd.cli import COMMANDS, build_parser, main


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out.strip() == f"memograd {memograd.__version__}"


def test_every_subcommand_has_help_with_an_example():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) <= set(COMMANDS)
    assert "demo" in sub.choices
    for name, cmd in sub.choices.items():
        text = cmd.format_help()
        assert f"example:\n  memograd {name}" in text, name


def test_unknown_option_is_one_line_exit_2(capsys):
    assert main(["demo", "--no-such-option"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("memograd demo: error:")


def test_python_dash_m_runs_the_same_cli():
    out = subprocess.run(
        [sys.executable, "-m", "memograd", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"memograd {memograd.__version__}"


def test_lazy_api_names_resolve_or_say_what_is_missing():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        memograd.nope  # noqa: B018
