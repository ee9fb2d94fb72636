"""``python -m memograd``: the same as the ``memograd`` command."""

from memograd.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
