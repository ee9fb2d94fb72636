"""Types reach users (issue 13.14): mypy --strict on a user's script sees memograd's real types.

``mg.tensor`` is both a package and the constructor; a type checker must accept both spellings
and know that ``mg.tensor(...)`` is a Tensor. Runs mypy (the dev extra) on a small script."""

import re
import textwrap
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api", reason="mypy is in the dev extra: pip install -e '.[dev]'")

SRC = Path(__file__).resolve().parents[1] / "src"

SCRIPT = """
import numpy as np
import memograd as mg
import memograd.tensor as T

x = mg.tensor(np.ones((2, 3)), requires_grad=True)
reveal_type(x)
reveal_type(T.sin(x))
reveal_type(mg.tensor.relu)
model = mg.nn.MLP([3, 4, 1], seed=0)
reveal_type(model)
reveal_type(mg.grad)
with mg.no_grad():
    y = T.einsum("ij,kj->ik", x, x)
reveal_type(y)
bad = mg.nn.MLP("3-4-1")
"""


@pytest.mark.slow
def test_a_users_script_sees_memograds_types(tmp_path, monkeypatch):
    monkeypatch.setenv("MYPYPATH", str(SRC))  # this checkout's memograd, not an installed one
    script = tmp_path / "user.py"
    script.write_text(textwrap.dedent(SCRIPT))
    out, err, status = api.run(
        [
            "--strict",
            "--no-incremental",
            "--ignore-missing-imports",
            "--python-version",
            "3.10",
            "--config-file",
            "",
            str(script),
        ]
    )
    assert not err, err
    revealed = re.findall(r'user\.py:\d+: note: Revealed type is "([^"]+)"', out)
    assert revealed[0] == "memograd.tensor.tensor.Tensor"  # mg.tensor(...) is the constructor
    assert revealed[1] == "memograd.tensor.tensor.Tensor"  # a typed op family
    assert revealed[2] == "Any"  # mg.tensor.<op>: the package's attributes, untyped through mg
    assert revealed[3] == "memograd.nn.layers.MLP"
    assert revealed[4].startswith("def (f: def (*Any, **Any) -> memograd.tensor.tensor.Tensor")
    assert revealed[5] == "memograd.tensor.tensor.Tensor"
    errors = re.findall(r"user\.py:(\d+): error: (.*)", out)
    # the one wrong call is caught: MLP takes a sequence of widths (a str is one, of str)
    assert [int(line) for line, _ in errors] == [16], out
    assert status == 1
