"""Checkpoints: named arrays plus JSON metadata in ONE file, written atomically, never pickled.

Two formats, chosen by the file's suffix:

``.safetensors`` (default)
    the safetensors layout, written and read by our own code (no dependency; files open in the
    ``safetensors`` library too)::

        8 bytes   N, the header length (unsigned little-endian)
        N bytes   JSON: {name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
                         "__metadata__": {"format": "memograd-checkpoint", "version": "1",
                                          "sha256": <digest of the data>, "memograd": <JSON>}}
        rest      the arrays' raw little-endian bytes, back to back

``.npz``
    NumPy's zip of ``.npy`` files, read with ``allow_pickle=False``; the metadata JSON is stored
    as a uint8 array named ``__memograd__``.

Both carry a SHA-256 of the metadata and the arrays. :func:`load_checkpoint` validates
everything (header bounds, dtypes, shapes against byte counts, offsets contiguous and inside the
file, exact file size, digest, metadata) and raises :class:`memograd.CheckpointError` saying
what is wrong, so a truncated, corrupted or foreign file is never half-loaded. Writes go through
:mod:`memograd._io` (temporary file + fsync + rename): an interrupted save leaves the previous
checkpoint intact.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from memograd._io import atomic_write_bytes
from memograd.errors import CheckpointError

FORMAT = "memograd-checkpoint"
VERSION = 1
SUFFIXES = (".safetensors", ".npz")
_MAX_HEADER = 100 * 1024 * 1024
_NPZ_META = "__memograd__"

# safetensors dtype name <-> numpy dtype (little-endian)
_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_NAMES = {dt: name for name, dt in _DTYPES.items()}


@dataclass(frozen=True)
class Checkpoint:
    """What :func:`load_checkpoint` returns: the arrays by name and the metadata dict."""

    tensors: dict[str, np.ndarray]
    metadata: dict
    path: Path
    format: str

    def group(self, prefix: str) -> dict[str, np.ndarray]:
        """The arrays named ``prefix.<rest>``, keyed by ``<rest>``."""
        p = prefix + "."
        return {k[len(p) :]: v for k, v in self.tensors.items() if k.startswith(p)}


def _digest(tensors: Mapping[str, np.ndarray], meta_json: str) -> str:
    """SHA-256 over the metadata JSON and every array's name, dtype, shape and bytes."""
    h = hashlib.sha256(meta_json.encode())
    for name in sorted(tensors):
        a = tensors[name]
        h.update(name.encode())
        h.update(a.dtype.str.encode())
        h.update(repr(tuple(a.shape)).encode())
        h.update(np.asarray(a, order="C").tobytes())
    return h.hexdigest()


def _prepare(tensors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for name, value in tensors.items():
        if not isinstance(name, str) or not name or name.startswith("__"):
            raise CheckpointError(f"save_checkpoint: bad tensor name {name!r}")
        a = np.asarray(value)
        dt = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
        if dt not in _NAMES:
            raise CheckpointError(
                f"save_checkpoint: tensor {name!r} has dtype {a.dtype}, which a checkpoint cannot "
                f"hold (use one of {', '.join(str(d) for d in _NAMES)})"
            )
        out[name] = np.asarray(a, dtype=dt, order="C")
    return out


def _path(path: str | os.PathLike) -> Path:
    p = Path(path)
    if p.suffix not in SUFFIXES:
        raise CheckpointError(
            f"checkpoint file {str(p)!r} must end in .safetensors or .npz, "
            f"got {p.suffix or 'none'!r}"
        )
    return p


def save_checkpoint(
    path: str | os.PathLike, tensors: Mapping[str, np.ndarray], metadata: Mapping
) -> Path:
    """Write ``tensors`` and JSON-ready ``metadata`` to ``path`` atomically; returns the path."""
    path = _path(path)
    arrays = _prepare(tensors)
    try:
        meta_json = json.dumps(metadata, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"save_checkpoint: metadata is not plain JSON: {exc}") from None
    digest = _digest(arrays, meta_json)
    if path.suffix == ".npz":
        blob = {
            **arrays,
            _NPZ_META: np.frombuffer(
                json.dumps({"format": FORMAT, "version": VERSION, "sha256": digest}).encode()
                + b"\n"
                + meta_json.encode(),
                dtype=np.uint8,
            ),
        }
        buffer = io.BytesIO()
        np.savez(buffer, **blob)
        return atomic_write_bytes(path, buffer.getvalue())
    header: dict = {
        "__metadata__": {
            "format": FORMAT,
            "version": str(VERSION),
            "sha256": digest,
            "memograd": meta_json,
        }
    }
    offset = 0
    for name in sorted(arrays):
        a = arrays[name]
        header[name] = {
            "dtype": _NAMES[a.dtype],
            "shape": list(a.shape),
            "data_offsets": [offset, offset + a.nbytes],
        }
        offset += a.nbytes
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # pad so that the data starts 8-byte aligned
    parts = [struct.pack("<Q", len(head)), head]
    parts += [arrays[name].tobytes() for name in sorted(arrays)]
    return atomic_write_bytes(path, b"".join(parts))


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read and validate a checkpoint; any defect raises CheckpointError (never half-loads)."""
    path = _path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint file") from None
    except IsADirectoryError:
        raise CheckpointError(f"{path}: is a directory, expected a checkpoint file") from None
    if path.suffix == ".npz":
        tensors, info, meta_json = _read_npz(path, raw)
    else:
        tensors, info, meta_json = _read_safetensors(path, raw)
    if info.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a memograd checkpoint (format {info.get('format')!r})")
    if str(info.get("version")) != str(VERSION):
        raise CheckpointError(
            f"{path}: checkpoint version {info.get('version')!r}, this memograd reads {VERSION}"
        )
    if not isinstance(meta_json, str) or info.get("sha256") != _digest(tensors, meta_json):
        raise CheckpointError(f"{path}: corrupted checkpoint (its SHA-256 does not match)")
    try:
        metadata = json.loads(meta_json)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: corrupted checkpoint metadata ({exc})") from None
    if not isinstance(metadata, dict):
        raise CheckpointError(f"{path}: checkpoint metadata must be a JSON object")
    return Checkpoint(tensors, metadata, path, path.suffix[1:])


def _read_safetensors(path: Path, raw: bytes):
    size = len(raw)
    if size < 8:
        raise CheckpointError(f"{path}: truncated checkpoint ({size} bytes, no header)")
    (n,) = struct.unpack("<Q", raw[:8])
    if n < 2 or n > _MAX_HEADER or 8 + n > size:
        raise CheckpointError(
            f"{path}: truncated or corrupted checkpoint (header of {n} bytes in a file of {size})"
        )
    try:
        header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(f"{path}: corrupted checkpoint header ({exc})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: corrupted checkpoint header (not a JSON object)")
    meta = header.pop("__metadata__", None)
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise CheckpointError(f"{path}: not a memograd checkpoint (no __metadata__ strings)")
    data = memoryview(raw)[8 + n :]
    spans = []
    tensors: dict[str, np.ndarray] = {}
    for name, entry in header.items():
        try:
            dtype = _DTYPES[entry["dtype"]]
            shape = tuple(int(d) for d in entry["shape"])
            begin, end = (int(x) for x in entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise CheckpointError(f"{path}: corrupted entry for tensor {name!r}") from None
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if any(d < 0 for d in shape) or end - begin != count * dtype.itemsize or begin < 0:
            raise CheckpointError(
                f"{path}: tensor {name!r}: shape {shape} of {entry['dtype']} needs "
                f"{count * dtype.itemsize} bytes, offsets give {end - begin}"
            )
        if end > len(data):
            raise CheckpointError(
                f"{path}: truncated checkpoint (tensor {name!r} ends at byte {end} of the data, "
                f"which has {len(data)})"
            )
        spans.append((begin, end, name))
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape).copy()
    spans.sort()
    position = 0
    for begin, end, name in spans:
        if begin != position:
            raise CheckpointError(f"{path}: corrupted checkpoint (gap or overlap at {name!r})")
        position = end
    if position != len(data):
        raise CheckpointError(
            f"{path}: corrupted checkpoint ({len(data) - position} unexpected trailing bytes)"
        )
    return tensors, meta, meta.get("memograd")


def _read_npz(path: Path, raw: bytes):
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            names = list(z.files)
            if _NPZ_META not in names:
                raise CheckpointError(f"{path}: not a memograd checkpoint (no {_NPZ_META} entry)")
            blob = z[_NPZ_META].tobytes()
            tensors = {k: z[k] for k in names if k != _NPZ_META}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
        raise CheckpointError(f"{path}: truncated or corrupted checkpoint ({exc})") from None
    head, _, meta_json = blob.partition(b"\n")
    try:
        info = json.loads(head.decode())
        meta_text = meta_json.decode()
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(f"{path}: corrupted checkpoint metadata ({exc})") from None
    if not isinstance(info, dict):
        raise CheckpointError(f"{path}: corrupted checkpoint metadata")
    for name, a in tensors.items():
        if a.dtype not in _NAMES:
            raise CheckpointError(f"{path}: tensor {name!r} has unsupported dtype {a.dtype}")
    return tensors, info, meta_text


def require(ckpt: Checkpoint, *keys: str) -> None:
    """Raise CheckpointError unless the metadata has every key in ``keys``."""
    missing = [k for k in keys if k not in ckpt.metadata]
    if missing:
        raise CheckpointError(
            f"{ckpt.path}: checkpoint metadata lacks {', '.join(missing)} "
            "(written by another program or an older memograd?)"
        )
