import pytest

from memograd._io import atomic_open, atomic_write_text


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "a" / "f.txt"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]


def test_interrupted_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "good")
    with pytest.raises(KeyboardInterrupt), atomic_open(target) as handle:
        handle.write("half")
        raise KeyboardInterrupt
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_bad_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="mode"), atomic_open(tmp_path / "x", "a"):
        pass


def test_new_file_gets_the_mode_open_would_give_and_replacing_keeps_the_old_mode(tmp_path):
    import os

    from memograd._io import _UMASK

    target = tmp_path / "f.txt"
    atomic_write_text(target, "x")
    assert target.stat().st_mode & 0o777 == 0o666 & ~_UMASK
    os.chmod(target, 0o600)
    atomic_write_text(target, "y")
    assert target.stat().st_mode & 0o777 == 0o600


def test_a_folder_as_target_is_a_clear_error_and_left_alone(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder; give a file name"):
        atomic_write_text(tmp_path / "d", "x")
    assert (tmp_path / "d").is_dir() and list((tmp_path).iterdir()) == [tmp_path / "d"]


# --- what a write may replace: a regular file or nothing (issue 11, High 1) ---------------------


def _device_node(folder):
    """A character device made for the test (the numbers of /dev/null, in a temporary folder):
    never the machine's own /dev/null."""
    import os
    import stat

    node = folder / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here ({exc}); needs root (CAP_MKNOD)")
    return node


def test_a_fifo_is_refused_and_left_a_fifo_without_blocking(tmp_path):
    import os
    import stat

    from memograd._io import NotARegularFileError, atomic_write_bytes

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFileError, match=r"is a FIFO \(named pipe\), not a regular"):
        atomic_write_bytes(fifo, b"data")  # opening it for writing would block: it is not opened
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]  # no temporary file left


def test_a_device_node_is_refused_and_stays_a_device(tmp_path):
    import os
    import stat

    from memograd._io import NotARegularFileError, atomic_write_text

    node = _device_node(tmp_path)
    before = os.lstat(node)
    with pytest.raises(NotARegularFileError, match="is a character device") as info:
        atomic_write_text(node, "x")
    assert isinstance(info.value, OSError)  # the CLI reports it as a one-line runtime error
    after = os.lstat(node)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]


def test_a_link_is_followed_to_the_regular_file_it_names_and_stays_a_link(tmp_path):
    import os

    from memograd._io import NotARegularFileError, atomic_write_text

    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    atomic_write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "to_pipe").symlink_to(tmp_path / "pipe")
    with pytest.raises(NotARegularFileError, match="FIFO"):
        atomic_write_text(tmp_path / "to_pipe", "x")
    assert (tmp_path / "to_pipe").is_symlink()


def test_temporaries_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    import os
    import subprocess
    import sys

    from memograd._io import remove_stale_temporaries

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    dead = int(done.stdout)
    stale = tmp_path / f".checkpoint.npz.{dead}-abc123.tmp"
    mine = tmp_path / f".checkpoint.npz.{os.getpid()}-def456.tmp"
    other = tmp_path / "notes.tmp"  # not one of ours: its name has no writer pid
    for p in (stale, mine, other):
        p.write_bytes(b"partial")
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert not stale.exists() and mine.exists() and other.exists()
    assert remove_stale_temporaries(tmp_path / "missing") == []


def test_bounded_reads_refuse_devices_fifos_and_large_files_up_front(tmp_path):
    import os

    from memograd._io import FileTooLargeError, NotARegularFileError, read_bounded

    big = tmp_path / "big.csv"
    big.write_bytes(b"1,2\n" * 100)
    assert read_bounded(big, 400) == b"1,2\n" * 100
    with pytest.raises(FileTooLargeError, match="400 bytes, more than the 399 bytes"):
        read_bounded(big, 399, "CSV file")
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(NotARegularFileError, match="FIFO"):
        read_bounded(tmp_path / "pipe", 10)
    node = _device_node(tmp_path)
    with pytest.raises(NotARegularFileError, match="character device"):
        read_bounded(node, 10)
    with pytest.raises(FileNotFoundError, match="no such"):
        read_bounded(tmp_path / "missing", 10)
