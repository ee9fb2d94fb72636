"""Recursion trees of the Fibonacci lesson: who calls whom, which calls repeat a subproblem
(naive) and which are answered from the cache (memoized), as data and as terminal text.

    recursion_tree(n, "naive" | "memo", base) -> TreeNode      (n <= TREE_MAX_N)
    tree_rows(node) -> [[prefix, k, value, mark], ...]          JSON-ready, one row per line
    tree_text(rows) -> rich Text                                 ↺ repeat (red), ✓ hit (green)

``memograd fib --tree`` and the lesson's memoization section both draw with these.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from memograd.errors import MemogradValueError
from memograd.fibonacci import (
    STANDARD,
    TREE_MAX_N,
    _check_base,
    _check_n,
    naive_calls,
)

if TYPE_CHECKING:
    from rich.text import Text

__all__ = ["TreeNode", "recursion_tree", "tree_lines", "tree_rows", "tree_text"]


@dataclass
class TreeNode:
    """A call in a recursion tree. ``mark``: '' (first time), 'repeat' (naive: this subproblem was
    already solved earlier in the tree), 'hit' (memo: answered from the cache, no children)."""

    k: int
    value: int
    mark: str = ""
    children: list[TreeNode] = field(default_factory=list)

    def count(self, mark: str | None = None) -> int:
        own = 1 if mark is None or self.mark == mark else 0
        return own + sum(c.count(mark) for c in self.children)

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"k": self.k, "value": self.value, "mark": self.mark}
        if self.children:
            d["children"] = [c.as_dict() for c in self.children]
        return d


def recursion_tree(n: int, method: str = "naive", base: tuple[int, int] = STANDARD) -> TreeNode:
    """The call tree of ``naive`` (repeated subproblems marked 'repeat') or ``memo`` (cache hits
    marked 'hit') for n <= 10."""
    n = _check_n(n)
    a, b = _check_base(base)
    if method not in ("naive", "memo"):
        raise MemogradValueError(
            f"recursion_tree: method must be 'naive' or 'memo', got {method!r}"
        )
    if n > TREE_MAX_N:
        raise MemogradValueError(
            f"recursion_tree: n must be <= {TREE_MAX_N} (the naive tree of n has 2*F(n+1) - 1 "
            f"nodes: {naive_calls(n):,} for n={n}), got {n}"
        )
    seen: dict[int, int] = {}

    def grow(k: int) -> TreeNode:
        if method == "memo" and k in seen:
            return TreeNode(k, seen[k], "hit")
        node = TreeNode(k, 0, "repeat" if k in seen else "")
        if k < 2:
            node.value = b if k else a
        else:
            node.children = [grow(k - 1), grow(k - 2)]
            node.value = node.children[0].value + node.children[1].value
        seen.setdefault(k, node.value)
        return node

    return grow(n)


def tree_lines(node: TreeNode) -> list[tuple[str, TreeNode]]:
    """Text layout of a tree: (prefix drawn with box characters, node) per line, pre-order."""
    lines: list[tuple[str, TreeNode]] = []

    def walk(nd: TreeNode, prefix: str, branch: str) -> None:
        lines.append((prefix + branch, nd))
        child_prefix = prefix + ("" if not branch else "    " if branch == "└── " else "│   ")
        for i, child in enumerate(nd.children):
            walk(child, child_prefix, "└── " if i == len(nd.children) - 1 else "├── ")

    walk(node, "", "")
    return lines


def tree_rows(node: TreeNode) -> list[list[Any]]:
    """``tree_lines`` as JSON-ready rows: [prefix, k, value, mark] per line."""
    return [[prefix, nd.k, nd.value, nd.mark] for prefix, nd in tree_lines(node)]


def tree_text(rows: Iterable[Sequence[Any]]) -> Text:
    """rich Text of a recursion tree from :func:`tree_rows`: ↺ repeated subproblem, ✓ hit."""
    from rich.text import Text

    text = Text()
    for prefix, k, value, mark in rows:
        text.append(prefix, style="dim")
        label = f"fib({k}) = {value}"
        if mark == "repeat":
            text.append(label + "  ↺ repeat", style="red")
        elif mark == "hit":
            text.append(label + "  ✓ hit", style="green bold")
        else:
            text.append(label)
        text.append("\n")
    return text
