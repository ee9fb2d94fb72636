"""Issue 13.12: every README command and code block runs as written, so the README cannot drift.

The README's fenced blocks tagged ``python`` run each in a fresh interpreter (in a folder holding
the run folders that the README's earlier commands train, when the block reads ``runs/``); blocks
tagged ``sh``
run line by line in one shell per block (later lines may use what earlier ones wrote), in a
scratch folder holding a copy of ``examples/``, with ``memograd`` the checkout's CLI and
``python`` the interpreter running the tests. Untagged
blocks are text (the layout tree, ``memograd play``'s server). Skipped, with the reason: ``make``
(it builds .venv; ``memograd demo --out`` runs instead) and pipes into Graphviz's ``dot`` when it
is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks(lang: str) -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    return [
        (text[: m.start()].count("\n") + 1, m.group(2))
        for m in FENCE.finditer(text)
        if m.group(1) == lang
    ]


def commands(body: str) -> list[str]:
    """The shell lines of a block: comment-only lines dropped, ``\\`` continuations joined."""
    out, pending = [], ""
    for line in body.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        out.append(pending + line)
        pending = ""
    return out


def _env(tmp_path: Path) -> dict[str, str]:
    shim = tmp_path / "bin"
    shim.mkdir(exist_ok=True)
    for name, line in (("memograd", "-m memograd "), ("python", ""), ("python3", "")):
        exe = shim / name  # the README's memograd and python: this interpreter's
        exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" {line}"$@"\n')
        exe.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{shim}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["COLUMNS"] = "100"
    env.pop("FORCE_COLOR", None)
    return env


def test_the_readme_has_blocks_to_run():
    assert len(blocks("python")) >= 5 and len(blocks("sh")) >= 6
    assert any("compile_step" in b for _, b in blocks("python"))


def _earlier_runs(line: int) -> list[str]:
    """The README's commands above ``line`` that write a run folder (``--out runs/...``)."""
    return [
        cmd
        for at, body in blocks("sh")
        if at < line
        for cmd in commands(body)
        if re.search(r"--out runs/", cmd)
    ]


@pytest.mark.parametrize("line, body", blocks("python"), ids=lambda v: str(v)[:12])
def test_python_block_runs(line, body, tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    if "runs/" in body:  # a reader who follows the README has trained these runs by now
        for cmd in _earlier_runs(line):
            subprocess.run(
                ["bash", "-c", cmd], cwd=tmp_path, env=_env(tmp_path), check=True,
                capture_output=True, timeout=900,
            )  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", body],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"README.md line {line}:\n{body}\n{proc.stderr[-2000:]}"


@pytest.mark.slow
@pytest.mark.parametrize("line, body", blocks("sh"), ids=lambda v: str(v)[:12])
def test_sh_block_runs(line, body, tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    ran = 0
    setup = _earlier_runs(line) if "runs/" in body and "--out runs/" not in body else []
    for cmd in setup:  # the run folders a reader following the README has trained by now
        subprocess.run(
            ["bash", "-c", cmd], cwd=tmp_path, env=_env(tmp_path), check=True,
            capture_output=True, timeout=900,
        )  # fmt: skip
    for cmd in commands(body):
        if cmd.startswith("make "):
            continue
        if re.search(r"\|\s*dot\b", cmd) and shutil.which("dot") is None:
            continue
        proc = subprocess.run(
            ["bash", "-o", "pipefail", "-c", cmd],
            cwd=tmp_path,
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=900,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, f"README.md block at line {line}: {cmd}\n{proc.stderr[-2000:]}"
        assert "Traceback" not in proc.stderr, cmd
        ran += 1
    if not ran:
        pytest.skip("only make lines (they build .venv)")


def test_command_lines_are_split_like_a_shell():
    body = "# a comment\nmemograd fib 6 --tree   # trailing\n\nmemograd explain \\\n  --all\n"
    assert commands(body) == ["memograd fib 6 --tree   # trailing", "memograd explain    --all"]
