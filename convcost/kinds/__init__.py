"""The one registry of layer kinds: adding a kind is one class and one line here."""

from __future__ import annotations

from .base import Kind, Shape
from .channel import ChConv, ConvCls, GChConv
from .conv import Conv, ConvTranspose, DeformConv, DWConv, PWConv, SepConv
from .misc import ACTIVATION_KINDS, SE, BatchNorm, Chunk, Dropout, Flatten, GroupNorm, Linear, PReLU, Shuffle
from .pool import GAP, GMP, AvgPool, MaxPool, Upsample

KINDS: dict[str, type[Kind]] = {
    "conv": Conv,
    "dwconv": DWConv,
    "pwconv": PWConv,
    "sepconv": SepConv,
    "convtranspose": ConvTranspose,
    "deformconv": DeformConv,
    "chconv": ChConv,
    "gchconv": GChConv,
    "convcls": ConvCls,
    "maxpool": MaxPool,
    "avgpool": AvgPool,
    "gap": GAP,
    "gmp": GMP,
    "linear": Linear,
    "flatten": Flatten,
    "bn": BatchNorm,
    "gn": GroupNorm,
    **ACTIVATION_KINDS,
    "prelu": PReLU,
    "dropout": Dropout,
    "se": SE,
    "shuffle": Shuffle,
    "chunk": Chunk,
    "upsample": Upsample,
}

#: Kinds that hold other layers; handled by the spec, not by a Kind class.
COMPOSITE = ("residual", "concat", "repeat")

__all__ = ["KINDS", "COMPOSITE", "Kind", "Shape"]
