"""Convolutions and pooling (PyTorch's signatures, NCHW layout) by im2col: two rows of THE table
and composites of existing rows.

    im2col(x)  (N, C, H, W) -> (N, oh, ow, C, kh, kw)   every window (stride, padding, dilation)
    col2im(c)  the adjoint: each window entry added back to where it was read

Each is the other's VJP (both are linear), so the pair is closed under differentiation. Then
conv2d = im2col(x) reshaped to (N·oh·ow, C·kh·kw) @ the weights as (C·kh·kw, O) (an einsum per
group when groups > 1), plus the bias; max_pool2d and avg_pool2d are max and mean over the
window axes. conv1d and the 1-d pools run the 2-d ones on a height-1 image.
"""

from __future__ import annotations

from typing import Any, TypeAlias, cast

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, DTypeLike

from memograd.errors import MemogradTypeError, MemogradValueError, ShapeError
from memograd.tensor.api import matmul, reshape, transpose
from memograd.tensor.ops import TABLE, Operand, call, register, rule
from memograd.tensor.ops_linalg import einsum
from memograd.tensor.tensor import Tensor, _apply, _binary, max, sum, tensor

Pair: TypeAlias = tuple[int, int]  # (height, width)
Padding: TypeAlias = tuple[Pair, Pair]  # ((top, bottom), (left, right))
IntOrPair: TypeAlias = "int | tuple[int, int]"

__all__ = ["conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d"]


def _im2col(
    x: Operand,
    kernel: Pair,
    stride: Pair,
    padding: Padding,
    dilation: Pair,
    pad_value: float = 0.0,
) -> Operand:
    """Windows of ``x`` (N, C, H, W) as (N, oh, ow, C, kh, kw) (a copy, C-contiguous)."""
    (kh, kw), (sh, sw), ((pt, pb), (pl, pr)), (dh, dw) = kernel, stride, padding, dilation
    if pt or pb or pl or pr:
        x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=pad_value)
    win = sliding_window_view(x, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
    win = win[:, :, ::sh, ::sw, ::dh, ::dw]
    return np.ascontiguousarray(np.transpose(win, (0, 2, 3, 1, 4, 5)))


def _col2im(
    cols: Operand,
    shape: tuple[int, ...],
    kernel: Pair,
    stride: Pair,
    padding: Padding,
    dilation: Pair,
) -> Operand:
    """The adjoint of im2col: Σ of every window entry at the position it was read from."""
    (kh, kw), (sh, sw), ((pt, pb), (pl, pr)), (dh, dw) = kernel, stride, padding, dilation
    n, c, h, w = shape
    oh, ow = cols.shape[1], cols.shape[2]
    out = np.zeros((n, c, h + pt + pb, w + pl + pr), dtype=cols.dtype)
    by_channel = np.transpose(cols, (0, 3, 1, 2, 4, 5))  # (N, C, oh, ow, kh, kw)
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            out[:, :, rows, j * dw : j * dw + sw * (ow - 1) + 1 : sw] += by_channel[..., i, j]
    return out[:, :, pt : pt + h, pl : pl + w]


# fmt: off
register(
    rule("im2col", _im2col,
         lambda g, y, x, kernel, stride, padding, dilation, pad_value=0.0:
             call("col2im", g, shape=x.shape, kernel=kernel, stride=stride, padding=padding,
                  dilation=dilation)),
    rule("col2im", _col2im,
         lambda g, y, cols, shape, kernel, stride, padding, dilation:
             call("im2col", g, kernel=kernel, stride=stride, padding=padding, dilation=dilation)),
)
# fmt: on


def _pair(name: str, what: str, v: object, low: int) -> Pair:
    p: tuple[Any, ...] = (v, v) if isinstance(v, (int, np.integer)) else tuple(cast(Any, v))
    if len(p) != 2 or not all(isinstance(i, (int, np.integer)) and i >= low for i in p):
        raise MemogradValueError(f"{name}: {what} must be an int >= {low} or a pair, got {v!r}")
    return int(p[0]), int(p[1])


def _padding(
    name: str, padding: IntOrPair | str, kernel: Pair, dilation: Pair, stride: Pair
) -> Padding:
    """((top, bottom), (left, right)) from an int, a pair, 'valid' or 'same' (stride 1)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding != "same":
            raise MemogradValueError(f"{name}: padding must be 'valid', 'same' or ints")
        if stride != (1, 1):
            raise MemogradValueError(f"{name}: padding='same' needs stride 1, got {stride}")
        (th, tw) = (d * (k - 1) for d, k in zip(dilation, kernel))
        return ((th // 2, th - th // 2), (tw // 2, tw - tw // 2))
    ph, pw = _pair(name, "padding", padding, 0)
    return ((ph, ph), (pw, pw))


def _batched(name: str, x: Tensor, nd: int) -> tuple[Tensor, bool]:
    if x.ndim == nd - 1:
        return reshape(x, (1,) + x.shape), True
    if x.ndim != nd:
        raise ShapeError(
            f"{name}: input must be {nd}-d (N, C, ...) or {nd - 1}-d unbatched, got {x.shape}"
        )
    return x, False


def _windows(
    name: str,
    x: Tensor,
    kernel: Pair,
    stride: Pair,
    padding: Padding,
    dilation: Pair,
    pad_value: float = 0.0,
) -> tuple[Tensor, int, int]:
    """im2col of ``x`` with the output size checked; returns (cols, oh, ow)."""
    (pt, pb), (pl, pr) = padding
    h, w = x.shape[2] + pt + pb, x.shape[3] + pl + pr
    eh, ew = dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1
    if eh > h or ew > w:
        raise ShapeError(
            f"{name}: the (dilated) kernel {eh}x{ew} is larger than the padded input {h}x{w} "
            f"(input {x.shape}); pad more or use a smaller kernel"
        )
    params: dict[str, Any] = {
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
    }
    if pad_value:
        params["pad_value"] = pad_value
    cols = _apply(TABLE["im2col"], (x,), params)
    return cols, cols.shape[1], cols.shape[2]


def _float_of(x: Tensor) -> DTypeLike | None:
    """The dtype rule: a NumPy weight takes the input's float dtype."""
    return x.dtype if x.dtype.kind == "f" else None


def conv2d(
    input: Tensor | ArrayLike,
    weight: Tensor | ArrayLike,
    bias: Tensor | ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair | str = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> Tensor:
    """2-d cross-correlation (PyTorch's conv2d): input (N, C, H, W), weight (O, C/groups, kh, kw),
    bias (O,); stride, padding (int, pair, 'valid', 'same') and dilation per axis."""
    x = input if type(input) is Tensor else tensor(input)
    wt = weight if type(weight) is Tensor else tensor(weight, dtype=_float_of(x))
    x, unbatched = _batched("conv2d", x, 4)
    if wt.ndim != 4:
        raise ShapeError(f"conv2d: weight must be (O, C/groups, kh, kw), got {wt.shape}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise MemogradTypeError(f"conv2d: groups must be a positive int, got {groups!r}")
    o, cg, kh, kw = wt.shape
    n, c = x.shape[:2]
    if c != cg * groups or o % groups:
        raise ShapeError(
            f"conv2d: input {x.shape} has {c} channels, weight {wt.shape} expects "
            f"{cg} x groups={groups} = {cg * groups} (and O={o} divisible by groups)"
        )
    s = _pair("conv2d", "stride", stride, 1)
    d = _pair("conv2d", "dilation", dilation, 1)
    p = _padding("conv2d", padding, (kh, kw), d, s)
    cols, oh, ow = _windows("conv2d", x, (kh, kw), s, p, d)
    if groups == 1:
        flat = reshape(cols, (n * oh * ow, c * kh * kw))
        out = matmul(flat, transpose(reshape(wt, (o, c * kh * kw))))  # (N·oh·ow, O)
        out = transpose(reshape(out, (n, oh, ow, o)), (0, 3, 1, 2))
    else:
        cols = reshape(cols, (n, oh, ow, groups, cg, kh, kw))
        wg = reshape(wt, (groups, o // groups, cg, kh, kw))
        out = reshape(einsum("nhwgcpq,gocpq->ngohw", cols, wg), (n, o, oh, ow))
    if bias is not None:
        b = bias if type(bias) is Tensor else tensor(bias, dtype=out.dtype)
        if b.shape != (o,):
            raise ShapeError(f"conv2d: bias of shape {b.shape} must be ({o},)")
        out = _binary("add", out, reshape(b, (1, o, 1, 1)))  # out + b
    return reshape(out, out.shape[1:]) if unbatched else out


def _as_2d(name: str, data: Tensor | ArrayLike, extra: object = None) -> tuple[Tensor, bool]:
    t = data if type(data) is Tensor else tensor(data)
    x, unbatched = _batched(name, t, 3)
    return reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2])), unbatched


def _one(name: str, what: str, given: object, low: int) -> Any:  # an int, or a padding word
    if isinstance(given, str):
        return given
    (v,) = (given,) if isinstance(given, (int, np.integer)) else tuple(cast(Any, given))
    if not isinstance(v, (int, np.integer)) or v < low:
        raise MemogradValueError(f"{name}: {what} must be an int >= {low}, got {v!r}")
    return int(v)


def conv1d(
    input: Tensor | ArrayLike,
    weight: Tensor | ArrayLike,
    bias: Tensor | ArrayLike | None = None,
    stride: int = 1,
    padding: int | str = 0,
    dilation: int = 1,
    groups: int = 1,
) -> Tensor:
    """1-d cross-correlation (PyTorch's conv1d): input (N, C, L), weight (O, C/groups, k)."""
    x, unbatched = _as_2d("conv1d", input)
    wt = weight if type(weight) is Tensor else tensor(weight, dtype=_float_of(x))
    if wt.ndim != 3:
        raise ShapeError(f"conv1d: weight must be (O, C/groups, k), got {wt.shape}")
    p = _one("conv1d", "padding", padding, 0)
    out = conv2d(
        x,
        reshape(wt, (wt.shape[0], wt.shape[1], 1, wt.shape[2])),
        bias,
        (1, _one("conv1d", "stride", stride, 1)),
        p if isinstance(p, str) else (0, p),
        (1, _one("conv1d", "dilation", dilation, 1)),
        groups,
    )
    out = reshape(out, (out.shape[0], out.shape[1], out.shape[3]))
    return reshape(out, out.shape[1:]) if unbatched else out


def _pool_args(
    name: str,
    kernel_size: IntOrPair,
    stride: IntOrPair | tuple[()] | None,  # None or (): the kernel's size
    padding: IntOrPair,
    dilation: IntOrPair,
    ceil_mode: bool,
) -> tuple[Pair, Pair, Padding, Pair]:
    if ceil_mode:
        raise MemogradValueError(f"{name}: ceil_mode=True is not supported (floor only)")
    k = _pair(name, "kernel_size", kernel_size, 1)
    s = k if stride is None or stride == () else _pair(name, "stride", stride, 1)
    ph, pw = _pair(name, "padding", padding, 0)
    if ph > k[0] // 2 or pw > k[1] // 2:
        raise MemogradValueError(f"{name}: padding {(ph, pw)} must be at most half the kernel {k}")
    return k, s, ((ph, ph), (pw, pw)), _pair(name, "dilation", dilation, 1)


def _nchw(out: Tensor) -> Tensor:
    return transpose(out, (0, 3, 1, 2))  # (N, oh, ow, C) -> (N, C, oh, ow)


def max_pool2d(
    input: Tensor | ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor:
    """Max over each window (PyTorch's max_pool2d; padding counts as -inf). The adjoint goes to
    the window's maximum; tied maxima share it equally (PyTorch picks one)."""
    if return_indices:
        raise MemogradValueError("max_pool2d: return_indices=True is not supported")
    t = input if type(input) is Tensor else tensor(input)
    x, unbatched = _batched("max_pool2d", t, 4)
    k, s, p, d = _pool_args("max_pool2d", kernel_size, stride, padding, dilation, ceil_mode)
    cols, _, _ = _windows("max_pool2d", x, k, s, p, d, pad_value=-np.inf)
    out = _nchw(max(cols, axis=(4, 5)))  # the table's max row
    return reshape(out, out.shape[1:]) if unbatched else out


def avg_pool2d(
    input: Tensor | ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: float | None = None,
) -> Tensor:
    """Mean over each window (PyTorch's avg_pool2d): padded zeros count unless
    ``count_include_pad=False``; ``divisor_override`` replaces the window size."""
    t = input if type(input) is Tensor else tensor(input)
    x, unbatched = _batched("avg_pool2d", t, 4)
    k, s, p, d = _pool_args("avg_pool2d", kernel_size, stride, padding, 1, ceil_mode)
    cols, oh, ow = _windows("avg_pool2d", x, k, s, p, d)
    total: Tensor = sum(cols, axis=(4, 5))  # (N, oh, ow, C); the table's sum row
    if divisor_override:
        mean = _binary("div", total, float(divisor_override))
    elif count_include_pad or p == ((0, 0), (0, 0)):
        mean = _binary("div", total, float(k[0] * k[1]))
    else:
        ones = np.ones((1, 1) + x.shape[2:], dtype=x.dtype)
        counts = _im2col(ones, k, s, p, d).sum(axis=(4, 5))  # (1, oh, ow, 1)
        mean = _binary("div", total, counts)
    out = _nchw(mean)
    return reshape(out, out.shape[1:]) if unbatched else out


def max_pool1d(
    input: Tensor | ArrayLike,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> Tensor:
    """max_pool2d on a height-1 image: input (N, C, L)."""
    x, unbatched = _as_2d("max_pool1d", input)
    k = _one("max_pool1d", "kernel_size", kernel_size, 1)
    st = None if stride is None else (1, _one("max_pool1d", "stride", stride, 1))
    out = max_pool2d(
        x, (1, k), st, (0, _one("max_pool1d", "padding", padding, 0)),
        (1, _one("max_pool1d", "dilation", dilation, 1)), ceil_mode,
    )  # fmt: skip
    out = reshape(out, (out.shape[0], out.shape[1], out.shape[3]))
    return reshape(out, out.shape[1:]) if unbatched else out


def avg_pool1d(
    input: Tensor | ArrayLike,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """avg_pool2d on a height-1 image: input (N, C, L)."""
    x, unbatched = _as_2d("avg_pool1d", input)
    k = _one("avg_pool1d", "kernel_size", kernel_size, 1)
    st = None if stride is None else (1, _one("avg_pool1d", "stride", stride, 1))
    p = (0, _one("avg_pool1d", "padding", padding, 0))
    out = avg_pool2d(x, (1, k), st, p, ceil_mode, count_include_pad)
    out = reshape(out, (out.shape[0], out.shape[1], out.shape[3]))
    return reshape(out, out.shape[1:]) if unbatched else out
