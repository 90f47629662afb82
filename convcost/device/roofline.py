"""Predicted time per layer on a device profile: the roofline bound.

A layer moves ``bytes_moved`` bytes (its input and output activations and its weights, counted
by the analysis) and does 2 × MACs FLOPs. On a device with peak P FLOP/s and bandwidth B bytes/s
it cannot take less than max(FLOPs / P, bytes / B): compute-bound when the first term wins,
memory-bound when the second does. Its arithmetic intensity is FLOPs per byte moved. A profile
calibrated on a machine also knows how far below the roofline each class of layer runs there
(efficiency = roofline time ÷ measured time), and divides by it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from ..analysis.report import Report
from ..model.graph import Leaf, Stack, leaves
from .profiles import Profile


class Predicted(NamedTuple):
    ms: float
    bound: str  #: "compute" or "memory"
    intensity: float | None  #: FLOPs per byte moved (None: no bytes)


class Prediction(NamedTuple):
    profile: Profile
    dtype: str
    peak: float  #: FLOP/s at that dtype
    layers: dict[str, Predicted]  #: by record path
    total_ms: float


def layer_class(leaf: Leaf | None) -> tuple[str, int]:
    """(class, channels per group) of a layer, as its kind says (``Kind.device_class``); merges are 'memory'."""
    return ("memory", 0) if leaf is None else leaf.op.device_class(leaf.in_shape, leaf.out_shape)


def efficiency(profile: Profile, cls: str, per_group: int) -> float:
    """The calibrated efficiency of a class (1 when the profile has none: the plain roofline).
    Grouped convs (and grouped 1×1 convs) are calibrated at several widths (``grouped:4`` = 4
    channels per group) and interpolated on a log scale between them."""
    eff = profile.efficiency
    if cls in ("grouped", "grouped1x1"):
        points = sorted((int(k.split(":")[1]), v) for k, v in eff.items() if k.startswith(cls + ":"))
        if points:
            if per_group <= points[0][0]:
                return points[0][1]
            if per_group >= points[-1][0]:
                return points[-1][1]
            for (a, ea), (b, eb) in zip(points, points[1:]):
                if a <= per_group <= b:
                    t = (math.log(per_group) - math.log(a)) / (math.log(b) - math.log(a))
                    return math.exp(math.log(ea) + t * (math.log(eb) - math.log(ea)))
        return eff.get(cls, eff.get("conv", 1.0))
    return eff.get(cls, 1.0)


def bound(flops: float, nbytes: float, peak: float, bandwidth: float, eff: float = 1.0) -> Predicted:
    compute, memory = flops / peak, nbytes / bandwidth
    return Predicted(max(compute, memory) / eff * 1000, "compute" if compute >= memory else "memory", flops / nbytes if nbytes else None)


def predict(stack: Stack, report: Report, profile: Profile) -> Prediction:
    peak = profile.peak_for(report.dtype)
    ops = {leaf.path: leaf for leaf in leaves(stack.layers)}
    layers = {}
    for r in report.layers:
        cls, per_group = layer_class(ops.get(r.path))
        layers[r.path] = bound(2 * r.macs, r.bytes_moved, peak, profile.bandwidth, efficiency(profile, cls, per_group))
    return Prediction(profile, report.dtype, peak, layers, sum(p.ms for p in layers.values()))
