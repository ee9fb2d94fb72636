"""Types reach users (issue 13.14): mypy --strict on a user's script sees memograd's real types.

``mg.tensor`` is both the package of tensor functions and the constructor; a type checker sees a
callable namespace (``memograd._TensorNamespace``), so both spellings type-check, ``mg.tensor(...)``
is a Tensor (not Any), and wrong calls are caught. mypy (the dev extra) runs ONCE, on one script
against this checkout (``--follow-imports=silent``: only the script's own errors count): its
correct lines must give no error, and each line marked ``# error: <text>`` exactly one error
containing that text (its parts separated by " ... ")."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("mypy", reason="mypy is in the dev extra: pip install -e '.[dev]'")
SRC = Path(__file__).resolve().parents[1] / "src"

SCRIPT = textwrap.dedent(
    """
    import numpy as np

    import memograd as mg
    import memograd.tensor as T

    x = mg.tensor(np.ones((2, 3)), requires_grad=True, dtype="float64")
    reveal_type(x)
    reveal_type(T.sin(x))
    reveal_type(mg.tensor.relu)
    t: mg.Tensor = x
    model = mg.nn.MLP([3, 4, 1], seed=0)
    reveal_type(model)
    reveal_type(mg.grad)
    with mg.no_grad():
        y = T.einsum("ij,kj->ik", x, x)
    reveal_type(y)
    loss = mg.tensor.mse(model(t), np.zeros((2, 1)))
    loss.backward()
    v = mg.Value(2.0, name="v")
    w: mg.Value = v * v
    print(mg.explain(w, "v").path_sum, mg.fib(10), t.shape)
    reveal_type(mg.tensor([1.0]))

    bad = mg.nn.MLP("3-4-1")  # error: Argument 1 to "MLP" has incompatible type "str"
    a = mg.tensor([1.0, 2.0], requires_grad="yes")  # error: "requires_grad" ... expected "bool"
    s: str = mg.tensor([1.0])  # error: "Tensor", variable has type "str"
    u: mg.Tensor = mg.Value(1.0)  # error: "Value", variable has type "Tensor"
    mg.explain(3, "w11^1")  # error: to "explain" has incompatible type "int"
    """
)

# what each reveal_type(...) above must show, in order
REVEALED = [
    "memograd.tensor.tensor.Tensor",  # mg.tensor(...) is the constructor
    "memograd.tensor.tensor.Tensor",  # a typed op family
    "Any",  # mg.tensor.<op>: the package's attributes, untyped through mg
    "memograd.nn.layers.MLP",
    "def (f: def (*Any, **Any) -> memograd.tensor.tensor.Tensor",  # a prefix: mg.grad's signature
    "memograd.tensor.tensor.Tensor",  # a result computed under no_grad
    "memograd.tensor.tensor.Tensor",  # mg.tensor([...]): not Any
]


@pytest.mark.slow
def test_a_users_script_sees_memograds_types_and_its_wrong_calls_are_caught(tmp_path):
    script = tmp_path / "user.py"
    script.write_text(SCRIPT)
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--python-version", "3.10", "--cache-dir", str(tmp_path / "cache"),
         "--config-file", "", str(script)],  # no config: a user's defaults
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(SRC)},  # this checkout's memograd, not an installed one
    )  # fmt: skip
    assert not out.stderr, out.stderr
    revealed = re.findall(r'user\.py:\d+: note: Revealed type is "([^"]+)"', out.stdout)
    assert len(revealed) == len(REVEALED), out.stdout
    for got, want in zip(revealed, REVEALED):
        assert got.startswith(want) if want.startswith("def ") else got == want, (got, want)

    expected = {
        number: line.split("# error: ", 1)[1]
        for number, line in enumerate(SCRIPT.splitlines(), start=1)
        if "# error: " in line
    }
    errors = [(int(n), text) for n, text in re.findall(r"user\.py:(\d+): error: (.*)", out.stdout)]
    # the correct lines give no error; each wrong line exactly one, saying what is wrong
    assert sorted(n for n, _ in errors) == sorted(expected), out.stdout
    for number, text in errors:
        assert all(part in text for part in expected[number].split(" ... ")), (number, text)
    assert out.returncode == 1
