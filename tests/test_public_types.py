"""Issue 13.14: types reach users. ``mg.tensor`` is both the package of tensor functions and the
constructor; a type checker sees a callable namespace (``memograd._TensorNamespace``), so the
spelling users write type-checks, and wrong calls are caught. mypy runs on two user snippets
against this source tree (``--follow-imports=silent``: only the snippet's own errors count)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("mypy", reason="mypy is in the dev extra")
SRC = Path(__file__).resolve().parents[1] / "src"

GOOD = """
    import numpy as np

    import memograd as mg

    x = mg.tensor(np.ones((2, 3)), requires_grad=True, dtype="float64")
    t: mg.Tensor = x
    model = mg.nn.MLP([3, 4, 1], seed=0)
    loss = mg.tensor.mse(model(t), np.zeros((2, 1)))
    loss.backward()
    v = mg.Value(2.0, name="v")
    w: mg.Value = v * v
    print(mg.explain(w, "v").path_sum, mg.fib(10), t.shape)
    reveal_type(mg.tensor([1.0]))
    reveal_type(model)
"""

BAD = """
    import memograd as mg

    a = mg.tensor([1.0, 2.0], requires_grad="yes")
    s: str = mg.tensor([1.0])
    v: mg.Tensor = mg.Value(1.0)
    mg.explain(3, "w11^1")
"""


def mypy(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(textwrap.dedent(code))
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--cache-dir", str(tmp_path / "cache"), "--config-file", os.devnull, str(snippet)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(SRC)},
    )  # fmt: skip


def test_user_code_with_mg_tensor_type_checks_and_is_typed(tmp_path):
    out = mypy(tmp_path, GOOD)
    assert "error" not in out.stdout, out.stdout
    assert 'Revealed type is "memograd.tensor.tensor.Tensor"' in out.stdout  # not Any
    assert 'Revealed type is "memograd.nn.layers.MLP"' in out.stdout


def test_wrong_calls_are_caught(tmp_path):
    out = mypy(tmp_path, BAD)
    lines = [ln for ln in out.stdout.splitlines() if ": error:" in ln]
    assert len(lines) == 4, out.stdout
    assert '"requires_grad"' in lines[0] and 'expected "bool"' in lines[0]
    assert '"Tensor", variable has type "str"' in lines[1]
    assert '"Value", variable has type "Tensor"' in lines[2]
    assert 'to "explain" has incompatible type "int"' in lines[3]
