import json
import struct
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memograd import _io
from memograd.checkpoint import load_checkpoint, require, save_checkpoint
from memograd.errors import CheckpointError

META = {"architecture": {"widths": [2, 3, 1]}, "epoch": 4, "rng": {"state": 2**100 + 7}}


def sample_tensors():
    rng = np.random.default_rng(0)
    return {
        "model.0.W": rng.normal(size=(2, 3)).astype(np.float32),
        "model.0.b": np.zeros(3, np.float32),
        "optim.m.0": rng.normal(size=(2, 3)),
        "count": np.array(7, np.int64),
        "mask": np.array([True, False]),
        "empty": np.zeros((0, 4), np.float32),
    }


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_round_trip_keeps_arrays_bit_for_bit_and_metadata(tmp_path, suffix):
    tensors = sample_tensors()
    path = save_checkpoint(tmp_path / f"ck{suffix}", tensors, META)
    ck = load_checkpoint(path)
    assert ck.metadata == META and ck.format == suffix[1:]
    assert set(ck.tensors) == set(tensors)
    for name, a in tensors.items():
        b = ck.tensors[name]
        assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b)
    assert set(ck.group("model")) == {"0.W", "0.b"}
    require(ck, "epoch", "rng")
    with pytest.raises(CheckpointError, match="lacks optimizer"):
        require(ck, "epoch", "optimizer")


@settings(max_examples=25, deadline=None)
@given(
    shapes=st.lists(st.lists(st.integers(0, 4), max_size=3), min_size=1, max_size=4),
    dtype=st.sampled_from(["f4", "f8", "i8", "u1", "f2", "i4"]),
)
def test_round_trip_property(tmp_path_factory, shapes, dtype):
    rng = np.random.default_rng(1)
    tensors = {f"t{i}": (rng.normal(size=s) * 50).astype(dtype) for i, s in enumerate(shapes)}
    path = tmp_path_factory.mktemp("ck") / "p.safetensors"
    ck = load_checkpoint(save_checkpoint(path, tensors, {}))
    assert all(
        np.array_equal(ck.tensors[k], v) and ck.tensors[k].dtype == v.dtype
        for k, v in tensors.items()
    )


def test_the_file_is_a_standard_safetensors_file():
    """Any safetensors reader gets our arrays and our metadata back (here: the library's own)."""
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        path = save_checkpoint(Path(d) / "ours.safetensors", sample_tensors(), META)
        theirs = safetensors_numpy.load_file(str(path))
        assert set(theirs) == set(sample_tensors())
        for k, v in sample_tensors().items():
            assert theirs[k].dtype == v.dtype and np.array_equal(theirs[k], v)
        assert json.loads(_header(path)["__metadata__"]["memograd"]) == META


def _header(path):
    """The JSON header of a safetensors file, read by hand (8-byte length, then JSON)."""
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n])


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_every_truncation_is_a_checkpoint_error(tmp_path, suffix):
    good = save_checkpoint(tmp_path / f"good{suffix}", sample_tensors(), META).read_bytes()
    bad = tmp_path / f"bad{suffix}"
    cuts = sorted({0, 1, 7, 8, 9, 20, len(good) // 2, len(good) - 9, len(good) - 1})
    cuts += list(range(0, len(good), max(1, len(good) // 40)))
    for cut in cuts:
        bad.write_bytes(good[:cut])
        with pytest.raises(CheckpointError, match="bad"):
            load_checkpoint(bad)


def test_flipped_bits_are_detected(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", sample_tensors(), META)
    good = path.read_bytes()
    (n,) = struct.unpack("<Q", good[:8])
    rng = np.random.default_rng(0)
    positions = list(rng.integers(8 + n, len(good), 20)) + list(rng.integers(8, 8 + n, 20))
    for pos in positions:
        data = bytearray(good)
        data[pos] ^= 0x10
        path.write_bytes(bytes(data))
        try:
            ck = load_checkpoint(path)
        except CheckpointError:
            continue
        # a flip inside header whitespace or a JSON string may be harmless: then nothing changed
        assert ck.metadata == META and all(
            np.array_equal(ck.tensors[k], v) for k, v in sample_tensors().items()
        ), pos


def test_trailing_bytes_and_foreign_files(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    path = save_checkpoint(tmp_path / "c.safetensors", sample_tensors(), META)
    path.write_bytes(path.read_bytes() + b"xx")
    with pytest.raises(CheckpointError, match="c.safetensors: truncated or corrupted"):
        load_checkpoint(path)
    # a valid safetensors file that some other program wrote
    path.write_bytes(st.save({"a": np.ones(3, np.float32)}, metadata={"format": "pt"}))
    with pytest.raises(CheckpointError, match="not a memograd checkpoint.*'pt'"):
        load_checkpoint(path)
    path.write_bytes(st.save({"a": np.ones(3, np.float32)}))
    with pytest.raises(CheckpointError, match="not a memograd checkpoint"):
        load_checkpoint(path)
    # other kinds of file under a checkpoint's name
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    npz = save_checkpoint(tmp_path / "c.npz", sample_tensors(), META).read_bytes()
    for name, data in [("p.safetensors", png), ("n.safetensors", npz), ("s.npz", png)]:
        (tmp_path / name).write_bytes(data)
        with pytest.raises(CheckpointError, match=f"{name}: truncated or corrupted.*not a"):
            load_checkpoint(tmp_path / name)
    (tmp_path / "s2.npz").write_bytes(st.save({"a": np.ones(3)}))
    with pytest.raises(CheckpointError, match="not an .npz file"):
        load_checkpoint(tmp_path / "s2.npz")
    with pytest.raises(CheckpointError, match="must end in .safetensors or .npz"):
        load_checkpoint(tmp_path / "c.pkl")
    with pytest.raises(CheckpointError, match="missing.npz: no such checkpoint"):
        load_checkpoint(tmp_path / "missing.npz")
    (tmp_path / "dir.safetensors").mkdir()
    with pytest.raises(CheckpointError, match="is a directory"):
        load_checkpoint(tmp_path / "dir.safetensors")


def test_without_the_safetensors_package_npz_is_the_fallback(tmp_path, monkeypatch):
    from memograd.checkpoint import default_format

    good = save_checkpoint(tmp_path / "c.safetensors", sample_tensors(), META)
    monkeypatch.setitem(sys.modules, "safetensors", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    assert default_format() == "npz"
    from memograd.train import TrainConfig

    assert TrainConfig().checkpoint_format == "npz"  # so `memograd train` writes checkpoint.npz
    with pytest.raises(ValueError, match="safetensors needs the safetensors package.*npz"):
        TrainConfig(checkpoint_format="safetensors").validate()
    for action, call in [
        ("reading", lambda: load_checkpoint(good)),
        ("writing", lambda: save_checkpoint(tmp_path / "d.safetensors", {}, META)),
    ]:
        with pytest.raises(CheckpointError, match=f"{action} a .safetensors.*pip install"):
            call()
    ck = load_checkpoint(save_checkpoint(tmp_path / "c.npz", sample_tensors(), META))
    assert ck.metadata == META and ck.format == "npz"


def test_npz_with_pickled_objects_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(
        path,
        __memograd__=np.frombuffer(b'{"format": "memograd-checkpoint"}\n{}', np.uint8),
        obj=np.array([{"a": 1}], dtype=object),
    )
    with pytest.raises(CheckpointError, match="corrupted|pickle"):
        load_checkpoint(path)


def test_interrupted_save_leaves_the_old_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "c.safetensors", sample_tensors(), META)
    before = path.read_bytes()

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(_io.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"x": np.ones(3)}, {"epoch": 9})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.safetensors"]  # no temporary left over


def test_unsupported_values_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="dtype complex128"):
        save_checkpoint(tmp_path / "c.npz", {"z": np.ones(2, complex)}, {})
    with pytest.raises(CheckpointError, match="not plain JSON"):
        save_checkpoint(tmp_path / "c.npz", {}, {"x": float("nan")})


# --- issue 11, Medium 10: declared shapes and sizes are checked before anything is allocated ----


def _npz_with(tmp_path, name, member, payload, compress=None):
    """An .npz (a zip) holding one crafted .npy ``member`` beside a real checkpoint's entries."""
    import zipfile

    good = save_checkpoint(tmp_path / "good.npz", sample_tensors(), META)
    path = tmp_path / name
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr(member, payload, compress_type=compress or zipfile.ZIP_STORED)
    return path


def test_an_npy_header_claiming_a_trillion_elements_is_refused_without_allocating(tmp_path):
    import io

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (10**12,)}
    )
    path = _npz_with(tmp_path, "liar.npz", "model.big.npy", header.getvalue() + b"\0" * 16)
    with pytest.raises(
        CheckpointError, match=r"declares shape \(1000000000000,\) \(4,000,000,000,000 bytes"
    ):
        load_checkpoint(path)


def test_a_zip_member_inflating_past_the_limit_is_refused_before_inflating(tmp_path, monkeypatch):
    import io
    import zipfile

    from memograd import checkpoint

    body = io.BytesIO()
    np.save(body, np.zeros(2_000_000, np.float32))  # 8 MB of zeros deflate to a few KB
    path = _npz_with(tmp_path, "bomb.npz", "model.z.npy", body.getvalue(), zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 200_000
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", 4_000_000)
    calls = []
    monkeypatch.setattr(checkpoint, "_read_npy", lambda *a: calls.append(a))
    with pytest.raises(CheckpointError, match=r"would take 8,00\d,\d{3} bytes once unpacked"):
        load_checkpoint(path)
    assert calls == []  # no member was read


def test_an_object_array_member_is_refused_never_unpickled(tmp_path):
    import io

    body = io.BytesIO()
    np.save(body, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    path = _npz_with(tmp_path, "pickle.npz", "model.o.npy", body.getvalue())
    with pytest.raises(CheckpointError, match="unsupported dtype object"):
        load_checkpoint(path)


def test_a_checkpoint_that_is_a_device_or_too_large_is_refused_up_front(tmp_path, monkeypatch):
    import os
    import stat

    from memograd import checkpoint

    fifo = tmp_path / "ck.npz"
    os.mkfifo(fifo)
    with pytest.raises(CheckpointError, match=r"is a FIFO \(named pipe\)"):
        load_checkpoint(fifo)
    path = save_checkpoint(tmp_path / "real.safetensors", sample_tensors(), META)
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", 100)
    with pytest.raises(CheckpointError, match="more than the 100 bytes"):
        load_checkpoint(path)
    node = tmp_path / "zero.safetensors"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 5))
    except OSError as exc:
        pytest.skip(f"cannot make a device node here ({exc})")
    with pytest.raises(CheckpointError, match="is a character device"):
        load_checkpoint(node)
