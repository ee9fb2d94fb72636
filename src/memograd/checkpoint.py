"""Checkpoints: named arrays plus JSON metadata in ONE file, written atomically, never pickled.

Two formats, chosen by the file's suffix:

``.safetensors`` (default when the ``safetensors`` package is installed: ``memograd[checkpoint]``)
    written and read by the `safetensors <https://github.com/huggingface/safetensors>`_ library;
    our metadata rides in its ``__metadata__`` string map::

        {"format": "memograd-checkpoint", "version": "1", "sha256": <digest>, "memograd": <JSON>}

``.npz`` (the fallback without that package)
    NumPy's zip of ``.npy`` files, read with ``allow_pickle=False``; the same metadata is stored
    as a uint8 array named ``__memograd__``.

Reading is bounded: the file must be a regular file of at most ``MAX_CHECKPOINT_BYTES``, and every
array's declared dtype and shape are checked against the bytes actually stored before anything is
allocated (an .npz header claiming 10¹² elements, or a zip member that inflates past its declared
size, is refused without reading it). A checkpoint's metadata is checked against a schema by
its reader (:mod:`memograd.train.schema` for training runs) before any field is used.

Both carry a SHA-256 over the metadata JSON and every array's name, dtype, shape and bytes.
:func:`load_checkpoint` validates everything and raises :class:`memograd.CheckpointError` naming
the file, what is wrong and what to do, so a truncated, corrupted or foreign file is never
half-loaded. Writes go through :mod:`memograd._io` (temporary file + fsync + rename): an
interrupted save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import math
import sys
import types
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO, Any, Literal, cast

import numpy as np
from numpy.typing import NDArray

from memograd._io import StrPath, atomic_write_bytes, check_readable
from memograd.errors import CheckpointError

FORMAT = "memograd-checkpoint"
VERSION = 1
SUFFIXES = (".safetensors", ".npz")
_NPZ_META = "__memograd__"
_INSTALL = "pip install 'memograd[checkpoint]'"
#: the largest checkpoint file read (and written: a training run that would need more is refused)
MAX_CHECKPOINT_BYTES = 2 << 30

# the dtypes both formats hold (stored little-endian)
DTYPES = tuple(
    np.dtype(c) for c in ("<f8", "<f4", "<f2", "<i8", "<i4", "<i2", "i1", "<u8", "<u4", "<u2")
) + (np.dtype("u1"), np.dtype("?"))


@dataclass(frozen=True)
class Checkpoint:
    """What :func:`load_checkpoint` returns: the arrays by name and the metadata dict."""

    tensors: dict[str, NDArray[Any]]
    metadata: dict[str, Any]  # JSON: the run's config, preprocessing, history, ...
    path: Path
    format: str

    def group(self, prefix: str) -> dict[str, NDArray[Any]]:
        """The arrays named ``prefix.<rest>``, keyed by ``<rest>``."""
        p = prefix + "."
        return {k[len(p) :]: v for k, v in self.tensors.items() if k.startswith(p)}


def have_safetensors() -> bool:
    """Whether the optional ``safetensors`` package is installed."""
    return importlib.util.find_spec("safetensors") is not None


def default_format() -> str:
    """``"safetensors"`` when the library is installed, else ``"npz"``."""
    return "safetensors" if have_safetensors() else "npz"


def _safetensors(path: Path, action: str) -> ModuleType:
    """The ``safetensors.numpy`` module, or a CheckpointError saying how to get it."""
    try:
        import safetensors.numpy
    except ImportError:
        hint = "" if action == "reading" else "; or write a .npz checkpoint instead"
        raise CheckpointError(
            f"{path}: {action} a .safetensors checkpoint needs the safetensors package "
            f"({_INSTALL}){hint}"
        ) from None
    return safetensors.numpy


def _digest(tensors: Mapping[str, NDArray[Any]], meta_json: str) -> str:
    """SHA-256 over the metadata JSON and every array's name, dtype, shape and bytes."""
    h = hashlib.sha256(meta_json.encode())
    for name in sorted(tensors):
        a = tensors[name]
        h.update(name.encode())
        h.update(a.dtype.str.encode())
        h.update(repr(tuple(a.shape)).encode())
        h.update(np.asarray(a, order="C").tobytes())
    return h.hexdigest()


def _prepare(tensors: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    out: dict[str, NDArray[Any]] = {}
    for name, value in tensors.items():
        if not isinstance(name, str) or not name or name.startswith("__"):
            raise CheckpointError(f"save_checkpoint: bad tensor name {name!r}")
        a = np.asarray(value)
        dt = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
        if dt not in DTYPES:
            raise CheckpointError(
                f"save_checkpoint: tensor {name!r} has dtype {a.dtype}, which a checkpoint cannot "
                f"hold (use one of {', '.join(str(d) for d in DTYPES)})"
            )
        out[name] = np.asarray(a, dtype=dt, order="C")
    return out


def _path(path: StrPath) -> Path:
    p = Path(path)
    if p.suffix not in SUFFIXES:
        raise CheckpointError(
            f"checkpoint file {str(p)!r} must end in .safetensors or .npz, "
            f"got {p.suffix or 'none'!r}"
        )
    return p


def save_checkpoint(
    path: StrPath, tensors: Mapping[str, NDArray[Any]], metadata: Mapping[str, Any]
) -> Path:
    """Write ``tensors`` and JSON-ready ``metadata`` to ``path`` atomically; returns the path."""
    target = _path(path)
    arrays = _prepare(tensors)
    try:
        meta_json = json.dumps(metadata, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"save_checkpoint: metadata is not plain JSON: {exc}") from None
    info = {"format": FORMAT, "version": str(VERSION), "sha256": _digest(arrays, meta_json)}
    if target.suffix == ".npz":
        blob = json.dumps(info).encode() + b"\n" + meta_json.encode()
        buffer = io.BytesIO()
        members = {**arrays, _NPZ_META: np.frombuffer(blob, dtype=np.uint8)}
        np.savez(buffer, **cast(dict[str, Any], members))  # the stub types names as options
        return atomic_write_bytes(target, buffer.getvalue())
    st = _safetensors(target, "writing")
    return atomic_write_bytes(target, st.save(arrays, metadata={**info, "memograd": meta_json}))


def load_checkpoint(path: StrPath) -> Checkpoint:
    """Read and validate a checkpoint; any defect raises CheckpointError (never half-loads)."""
    path = _path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory, expected a checkpoint file")
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        check_readable(path, MAX_CHECKPOINT_BYTES, "checkpoint file")
    except OSError as exc:
        raise CheckpointError(str(exc)) from None
    if path.suffix == ".npz":
        tensors, info, meta_json = _read_npz(path)
    else:
        tensors, info, meta_json = _read_safetensors(path)
    if info.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: not a memograd checkpoint (its metadata has format "
            f"{info.get('format')!r}, expected {FORMAT!r}); give the checkpoint of a memograd run"
        )
    if str(info.get("version")) != str(VERSION):
        raise CheckpointError(
            f"{path}: checkpoint version {info.get('version')!r}, this memograd reads {VERSION}"
        )
    if not isinstance(meta_json, str) or info.get("sha256") != _digest(tensors, meta_json):
        raise CheckpointError(
            f"{path}: corrupted checkpoint (its SHA-256 does not match its contents); "
            "use an intact copy or train again"
        )
    try:
        metadata = json.loads(meta_json)
    except ValueError as exc:
        raise CheckpointError(f"{path}: corrupted checkpoint metadata ({exc})") from None
    if not isinstance(metadata, dict):
        raise CheckpointError(f"{path}: checkpoint metadata must be a JSON object")
    return Checkpoint(tensors, metadata, path, path.suffix[1:])


_Read = tuple[dict[str, NDArray[Any]], dict[str, Any], object]  # arrays, info, metadata JSON


def _read_safetensors(path: Path) -> _Read:
    """Arrays and metadata through the safetensors library; its errors become ours."""
    _safetensors(path, "reading")
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            info = f.metadata() or {}
            tensors = {name: np.array(f.get_tensor(name)) for name in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"{path}: truncated or corrupted checkpoint, or not a safetensors file "
            f"(safetensors: {exc}); use an intact copy or train again"
        ) from None
    for name, a in tensors.items():
        if a.dtype not in DTYPES:
            raise CheckpointError(f"{path}: tensor {name!r} has unsupported dtype {a.dtype}")
    return tensors, info, info.get("memograd")


def _read_npz(path: Path) -> _Read:
    try:
        with zipfile.ZipFile(path) as z:
            members = z.infolist()
            declared = sum(m.file_size for m in members)
            if declared > MAX_CHECKPOINT_BYTES:
                raise CheckpointError(
                    f"{path}: its arrays would take {declared:,} bytes once unpacked, more than "
                    f"the {MAX_CHECKPOINT_BYTES:,} a checkpoint may hold; not a memograd checkpoint"
                )
            arrays: dict[str, NDArray[Any]] = {}
            for m in members:
                if not m.filename.endswith(".npy") or m.is_dir():
                    raise CheckpointError(f"{path}: unexpected entry {m.filename!r} in the .npz")
                if m.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise CheckpointError(
                        f"{path}: entry {m.filename!r} uses an unsupported compression"
                    )
                with z.open(m) as handle:  # reads at most the declared size
                    arrays[m.filename[:-4]] = _read_npy(handle, m.file_size, path, m.filename)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
        raise CheckpointError(
            f"{path}: truncated or corrupted checkpoint, or not an .npz file ({exc}); "
            "use an intact copy or train again"
        ) from None
    if _NPZ_META not in arrays:
        raise CheckpointError(f"{path}: not a memograd checkpoint (no {_NPZ_META} entry)")
    blob = arrays.pop(_NPZ_META).tobytes()
    tensors = arrays
    head, _, meta_json = blob.partition(b"\n")
    try:
        info = json.loads(head.decode())
        meta_text = meta_json.decode()
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(f"{path}: corrupted checkpoint metadata ({exc})") from None
    if not isinstance(info, dict):
        raise CheckpointError(f"{path}: corrupted checkpoint metadata")
    return tensors, info, meta_text


def _read_npy(handle: IO[bytes], size: int, path: Path, name: str) -> NDArray[Any]:
    """One .npy member: its header's dtype and shape are checked against the member's size
    before the data is read, so a header claiming more elements than stored allocates nothing."""
    fmt = np.lib.format
    version = fmt.read_magic(handle)
    if version == (1, 0):
        shape, fortran, dtype = fmt.read_array_header_1_0(handle)
    elif version == (2, 0):
        shape, fortran, dtype = fmt.read_array_header_2_0(handle)
    else:
        raise CheckpointError(f"{path}: entry {name!r} has .npy format version {version}")
    if dtype not in DTYPES:
        raise CheckpointError(f"{path}: tensor {name[:-4]!r} has unsupported dtype {dtype}")
    count = math.prod(shape)
    header = handle.tell()
    if count * dtype.itemsize != size - header:
        raise CheckpointError(
            f"{path}: entry {name!r} declares shape {tuple(shape)} ({count * dtype.itemsize:,} "
            f"bytes of {dtype}) but stores {size - header:,}; truncated or corrupted checkpoint"
        )
    data = handle.read(size - header)
    if len(data) != size - header:
        raise CheckpointError(f"{path}: entry {name!r} is truncated")
    order: Literal["C", "F"] = "F" if fortran else "C"
    array: NDArray[Any] = np.frombuffer(data, dtype=dtype).reshape(shape, order=order)
    owned: NDArray[Any] = array.copy(order="C")
    return owned


def require(ckpt: Checkpoint, *keys: str) -> None:
    """Raise CheckpointError unless the metadata has every key in ``keys``."""
    missing = [k for k in keys if k not in ckpt.metadata]
    if missing:
        raise CheckpointError(
            f"{ckpt.path}: checkpoint metadata lacks {', '.join(missing)} "
            "(written by another program or an older memograd?)"
        )


class _CallableModule(types.ModuleType):
    """``mg.checkpoint`` names both this module (safe run-folder checkpoints) and gradient
    checkpointing: calling the module is :func:`memograd.tensor.checkpoint.checkpoint`."""

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        from memograd.tensor.checkpoint import checkpoint as recompute

        return recompute(fn, *args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
