"""Recursion trees (memograd.fibtree): the data, the text, and one source for cli and lesson."""

import ast
from pathlib import Path

from memograd import fibonacci as F
from memograd import fibtree

SRC = Path(fibtree.__file__).parent


def test_tree_text_marks_repeats_and_hits_in_their_styles():
    naive = fibtree.tree_text(fibtree.tree_rows(fibtree.recursion_tree(4, "naive")))
    memo = fibtree.tree_text(fibtree.tree_rows(fibtree.recursion_tree(4, "memo")))
    # naive fib(4): 9 calls (2*F(5) - 1), repeats of fib(2) once, fib(1) twice, fib(0) once
    assert len(naive.plain.splitlines()) == F.naive_calls(4) == 9
    assert naive.plain.count("↺ repeat") == 4
    # memoized fib(4): 2n - 1 = 7 calls, n - 2 = 2 of them answered from the cache
    assert len(memo.plain.splitlines()) == 7
    assert memo.plain.count("✓ hit") == 2
    styles = {str(span.style) for span in memo.spans}
    assert "green bold" in styles and "dim" in styles
    assert memo.plain.splitlines()[0] == "fib(4) = 3"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_lesson_takes_the_tree_and_the_complexity_rows_from_the_library_not_the_cli():
    from memograd import complexity
    from memograd.cli import complexity as cli_complexity
    from memograd.cli import fib as cli_fib

    for name in ("memoization.py", "complexity.py"):
        imported = _imports(SRC / "lesson" / name)
        assert not any(m.startswith("memograd.cli") for m in imported), name
    assert cli_complexity.measure is complexity.measure
    assert not hasattr(cli_fib, "tree_text")
