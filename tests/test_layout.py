"""Issue 14's layout rules, kept by a test: rooms with one job (no source file over ~600 lines
unless it is a table) and a README layout block that matches the tree."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "memograd"
LIMIT = 600
TABLES = {"tensor/ops.py"}  # THE table of VJP rows: long by design, one row per op


NAME = re.compile(r"(?<![\w/.])(?:[a-z_]\w*\.py\b(?!c)|[a-z_]\w*/(?=[\s,]|$))", re.M)  # x.py, dir/


def _layout_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How it is built", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```\n(src/memograd/\n.*?)```", section, re.S)
    assert len(blocks) == 1, "README's 'How it is built' should hold one src/memograd/ tree"
    return blocks[0]


def test_no_source_file_is_over_the_limit_unless_it_is_a_table():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert set(long) <= TABLES, f"over {LIMIT} lines (split them into modules with one job): {long}"


def test_the_readme_layout_names_every_top_level_module_and_package():
    block = _layout_block()
    names = set(NAME.findall(block))
    missing = [
        p.name + ("/" if p.is_dir() else "")
        for p in sorted(PACKAGE.iterdir())
        if (p.is_dir() and (p / "__init__.py").exists())
        or (p.suffix == ".py" and p.name not in {"__init__.py", "__main__.py"})
        if (p.name + ("/" if p.is_dir() else "")) not in names
    ]
    assert not missing, f"README's layout block does not mention {missing}"


def test_every_file_the_readme_layout_names_exists():
    block = _layout_block()
    files = {p.name for p in PACKAGE.rglob("*.py")}
    dirs = {p.name + "/" for p in PACKAGE.rglob("*") if p.is_dir()}
    named = set(NAME.findall(block)) - {"src/", "memograd/"}
    ghosts = sorted(n for n in named if n not in files | dirs)
    assert not ghosts, f"README's layout block names files that do not exist: {ghosts}"


def test_the_checks_see_a_long_file_and_a_ghost(tmp_path):
    """The rules above can fail: a 601-line text is over, a made-up name is not in the tree."""
    assert len(("x\n" * (LIMIT + 1)).splitlines()) > LIMIT
    names = set(NAME.findall("  ghost.py, ghosts/   Neuron/Layer jacfwd/jacrev x.pyc"))
    assert names == {"ghost.py", "ghosts/"} and "ghost.py" not in {
        p.name for p in PACKAGE.rglob("*.py")
    }
