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
