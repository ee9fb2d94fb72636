"""What every benchmark shares: the machine's description and writing the markdown table."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
if str(SRC) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(SRC))


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """One line: CPU, cores, OS, Python."""
    return (
        f"{cpu_model()} ({platform.machine()}, {os.cpu_count()} cores), {platform.system()}; "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )


def publish(text: str, out: str | None) -> None:
    """Print the markdown and, with ``--out``, write it atomically."""
    print(text)
    if out:
        from memograd._io import atomic_write_text

        atomic_write_text(out, text)
