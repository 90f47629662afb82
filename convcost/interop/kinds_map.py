"""The convcost entry for an op, from the arguments both readers find (torch modules, ONNX
attributes): one place that knows how a conv, a pool or an upsampling is written in YAML."""

from __future__ import annotations

from math import prod
from typing import Any

from ..kinds.conv import Conv, ConvTranspose, DWConv, PWConv
from ..kinds.misc import Chunk, Flatten, Slice
from ..kinds.pool import GAP, GMP, AdaptiveAvgPool, AdaptiveMaxPool, AvgPool, MaxPool, Upsample
from .nesting import Entry, Shape


class Unknown(Exception):
    """An op with no convcost kind; the message says what it is and why."""


def compact(values: Any) -> Any:
    """(3, 3) → 3; (3, 1) → [3, 1]; nested pairs → lists."""
    if isinstance(values, (list, tuple)):
        items = [compact(v) for v in values]
        return items[0] if items and all(v == items[0] for v in items) and not isinstance(items[0], list) else items
    return values


def per_axis(value: Any, nd: int) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * nd


def padding_arg(padding: Any) -> Any:
    """torch/ONNX padding → convcost's: 'same'/'valid', an int, per axis, or [before, after] pairs."""
    if isinstance(padding, str):
        return padding
    if isinstance(padding, (list, tuple)) and padding and isinstance(padding[0], (list, tuple)):
        pairs = [tuple(p) for p in padding]
        if all(lo == hi for lo, hi in pairs):
            return compact([lo for lo, _ in pairs])
        return [list(p) for p in pairs]
    return compact(padding)


def conv_entry(cin: int, out: int, kernel: Shape, stride: Shape, padding: Any, dilation: Shape, groups: int, bias: bool,
               output_padding: Shape | None = None) -> Entry:  # fmt: skip
    """A conv (or, with ``output_padding``, a transposed conv) as the kind a person would write:
    dwconv when groups = C_in, pwconv for a plain 1×1, conv otherwise."""
    pad = padding_arg(padding)
    if output_padding is not None:
        args: dict[str, Any] = {"out": out, "kernel": compact(kernel), "stride": compact(stride), "padding": pad,
                                "output_padding": compact(output_padding), "dilation": compact(dilation), "groups": groups}  # fmt: skip
        return {ConvTranspose.kind: _drop_defaults(args, bias)}
    if groups == cin and groups > 1 and out % cin == 0:
        args = {
            "kernel": compact(kernel),
            "stride": compact(stride),
            "padding": pad,
            "dilation": compact(dilation),
            "multiplier": out // cin,
        }
        return {DWConv.kind: _drop_defaults(args, bias)}
    if all(k == 1 for k in kernel) and all(s == 1 for s in stride) and pad in (0, "valid", "same"):
        return {PWConv.kind: _drop_defaults({"out": out, "groups": groups}, bias)}
    args = {
        "out": out,
        "kernel": compact(kernel),
        "stride": compact(stride),
        "padding": pad,
        "dilation": compact(dilation),
        "groups": groups,
    }
    return {Conv.kind: _drop_defaults(args, bias)}


DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "multiplier": 1, "output_padding": 0}


def _drop_defaults(args: dict[str, Any], bias: bool) -> dict[str, Any]:
    kept = {k: v for k, v in args.items() if DEFAULTS.get(k, object()) != v}
    kept["bias"] = bias
    return kept


def pool_entry(maximum: bool, kernel: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool, nd: int) -> Entry:
    kernel, stride = per_axis(kernel, nd), per_axis(stride if stride else kernel, nd)
    args: dict[str, Any] = {"kernel": compact(kernel)}
    if stride != kernel:
        args["stride"] = compact(stride)
    pad = padding_arg(padding)  # an int, one per axis, pairs or a string
    if pad != 0:
        args["padding"] = pad
    if maximum and compact(per_axis(dilation, nd)) != 1:
        args["dilation"] = compact(per_axis(dilation, nd))
    if ceil_mode:
        args["ceil_mode"] = True
    return {(MaxPool if maximum else AvgPool).kind: args}


def adaptive(maximum: bool, shape: Shape, in_shape: Shape) -> list[Entry]:
    """Adaptive pooling to ``shape``'s spatial size: gap/gmp when that is all ones."""
    size = shape[1:]
    if all(s == 1 for s in size):
        return [{(GMP if maximum else GAP).kind: None}]
    return [{(AdaptiveMaxPool if maximum else AdaptiveAvgPool).kind: {"size": compact(size)}}]


LINEAR_MODES = {"linear", "bilinear", "trilinear"}


def upsample_entry(mode: str, in_shape: Shape, shape: Shape) -> Entry:
    """Resizing to ``shape``: an integer scale per axis, nearest or (bi/tri)linear."""
    scales = []
    for before, after in zip(in_shape[1:], shape[1:]):
        if after % before:
            raise Unknown(f"resizing {list(in_shape[1:])} to {list(shape[1:])}: not an integer scale")
        scales.append(after // before)
    if mode not in LINEAR_MODES and mode != "nearest":
        raise Unknown(f"resizing with mode '{mode}' (convcost: nearest or bilinear)")
    args: dict[str, Any] = {"scale": compact(scales)}
    if mode in LINEAR_MODES:
        args["mode"] = "bilinear"
    return {Upsample.kind: args}


def reshape_entries(in_shape: Shape, shape: Shape) -> list[Entry]:
    """A reshape: nothing when the shape is kept, ``flatten`` to one axis; other reshapes of the
    same elements pass through, understood only inside an SE gate (``graph.nest`` refuses them
    elsewhere)."""
    if shape == in_shape:
        return []
    if prod(shape) == prod(in_shape):
        return [{Flatten.kind: None}] if len(shape) == 1 else []
    raise Unknown(f"a reshape from {list(in_shape)} to {list(shape)}")


def mean_entries(axes: Any, in_shape: Shape, keep: bool) -> list[Entry]:
    """A mean over ``axes`` (with the batch axis 0): ``gap`` when they are all the spatial axes,
    then ``flatten`` unless the dims are kept."""
    rank = len(in_shape) + 1
    found = None if axes is None else {a % rank for a in (axes if isinstance(axes, (list, tuple)) else [axes])}
    if rank < 3 or found != set(range(2, rank)):
        raise Unknown(f"a mean over axes {axes}; only the mean over all spatial axes is gap")
    return [{GAP.kind: None}] if keep else [{GAP.kind: None}, {Flatten.kind: None}]


def channel_part(start: int, end: int, channels: int) -> Entry:
    """Channels ``start:end`` of ``channels``: one of equal ``chunk``s where it is one, else a ``slice``."""
    size = end - start
    if channels % size == 0 and start % size == 0:
        return {Chunk.kind: {"chunks": channels // size, "index": start // size}}
    return {Slice.kind: {"start": start, "end": end}}
