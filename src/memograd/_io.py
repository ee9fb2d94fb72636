"""Atomic file writes and bounded reads.

Writes: a temporary file beside the target, fsync, then one rename over it, so an interrupted
write (crash, Ctrl-C, full disk) never leaves a broken file where a good one was.

What a write may replace (the rule, chosen over writing through as ``cp`` does): only a regular
file, or nothing. A target that exists and is anything else (a character or block device such
as /dev/null, a FIFO, a socket, a folder) is refused with :class:`NotARegularFileError` before a
byte is written, and it is left as it was: a rename would turn /dev/null into a regular file,
and writing into a FIFO blocks until someone reads it. A symbolic link is followed: the file it
points to is replaced (the link stays a link), under the same rule.

Temporary files are named ``.<target>.<pid>-<random>.tmp``; a process killed mid-write (SIGKILL
cannot be caught) leaves one behind, and :func:`remove_stale_temporaries` deletes those whose
process is gone (the run folder's commands call it on the next run, resume, eval or predict).

Reads: :func:`read_bounded` reads a regular file of at most ``limit`` bytes and refuses devices
(``/dev/zero`` never ends), FIFOs and larger files up front, naming the size and the limit.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from memograd.errors import MemogradError

StrPath = str | os.PathLike[str]  # a path as users give it: text or a path object


class NotARegularFileError(MemogradError, OSError):
    """A path exists but is not a regular file (a device, FIFO, socket, folder): memograd will
    neither replace it nor read it as data."""


class FileTooLargeError(MemogradError, OSError):
    """An input file is larger than the limit memograd reads for it."""


def _process_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: the classic set-and-restore, once, at import
    os.umask(mask)
    return mask


_UMASK = _process_umask()

_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """``"a character device"``, ``"a FIFO (named pipe)"``, ... for an ``st_mode``."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a folder" if stat.S_ISDIR(mode) else "not a regular file"


def writable_target(path: StrPath) -> Path:
    """The file a write to ``path`` replaces: ``path`` itself, or the file a symbolic link points
    to. Raises :class:`NotARegularFileError` (or IsADirectoryError for a folder) when that exists
    and is not a regular file; call it to fail before doing work whose result goes there."""
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    except NotADirectoryError:
        raise NotADirectoryError(f"{path}: a part of the path is a file, not a folder") from None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{path} is a folder; give a file name inside it")
    if not stat.S_ISREG(mode):
        raise NotARegularFileError(
            f"{path} is {file_kind(mode)}, not a regular file; memograd only replaces regular "
            "files (atomically, by renaming a finished temporary file over them), so it is left "
            "as it is: give the path of a regular file"
        )
    return target


@contextlib.contextmanager
def atomic_open(path: StrPath, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file for writing; on success it replaces ``path`` in one rename.

    ``path`` must be a regular file or not exist (see the module docstring)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open: mode must be 'w' or 'wb', got {mode!r}")
    target = writable_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp", dir=target.parent
    )
    try:
        # mkstemp makes a private (0600) file; give the result the mode a plain open() would, or
        # keep the mode of the file it replaces
        try:
            mode_bits = target.stat().st_mode & 0o777
        except FileNotFoundError:
            mode_bits = 0o666 & ~_UMASK
        os.chmod(tmp, mode_bits)
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        writable_target(target)  # again: something may have appeared there meanwhile
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: StrPath, text: str, encoding: str = "utf-8") -> Path:
    with atomic_open(path, "w", encoding=encoding) as handle:
        handle.write(text)
    return Path(path)


def atomic_write_bytes(path: StrPath, data: bytes) -> Path:
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)


_TEMPORARY = re.compile(r"^\..+\.(\d+)-[^.]*\.tmp$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process: leave its files alone
    return True


def remove_stale_temporaries(folder: StrPath) -> list[Path]:
    """Delete the temporary files of atomic writes in ``folder`` whose writing process no longer
    runs (killed mid-write); returns what was removed. Files of live processes are kept."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return removed
    for entry in entries:
        found = _TEMPORARY.match(entry.name)
        if found and entry.is_file(follow_symlinks=False) and not _alive(int(found[1])):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def check_readable(path: StrPath, limit: int, what: str = "file") -> int:
    """The size of the regular file ``path``; raises FileNotFoundError, IsADirectoryError,
    :class:`NotARegularFileError` or :class:`FileTooLargeError` (over ``limit`` bytes)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such {what}") from None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"{path}: is a folder, expected a {what}")
    if not stat.S_ISREG(st.st_mode):
        raise NotARegularFileError(
            f"{path}: is {file_kind(st.st_mode)}, not a regular file; memograd reads a {what} "
            "only from a regular file (copy the data to one first)"
        )
    if st.st_size > limit:
        raise FileTooLargeError(
            f"{path}: {st.st_size:,} bytes, more than the {limit:,} bytes memograd reads for a "
            f"{what}"
        )
    return st.st_size


def read_bounded(path: StrPath, limit: int, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, refused up front when larger than ``limit`` (and
    never more than ``limit`` bytes read, should the file grow meanwhile)."""
    check_readable(path, limit, what)
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(f"{path}: grew past the {limit:,} bytes memograd reads")
    return data
