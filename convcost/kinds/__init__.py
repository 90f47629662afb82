"""The one registry of layer kinds: adding a kind is one class and one line here."""

from __future__ import annotations

from .attention import MHSA
from .base import Kind, Shape
from .channel import ChConv, ConvCls, GChConv
from .conv import Conv, ConvTranspose, DeformConv, DWConv, PWConv, SepConv
from .merge import Add, Div, Mul, Sub
from .misc import (
    ACTIVATION_KINDS,
    SE,
    BatchNorm,
    Chunk,
    Dropout,
    DropPath,
    Flatten,
    GroupNorm,
    LayerNorm,
    LayerScale,
    Linear,
    PReLU,
    Scale,
    Shuffle,
    Slice,
    Unknown,
)
from .pool import GAP, GMP, AdaptiveAvgPool, AdaptiveMaxPool, AvgPool, MaxPool, Upsample

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
    "adaptiveavgpool": AdaptiveAvgPool,
    "adaptivemaxpool": AdaptiveMaxPool,
    "linear": Linear,
    "flatten": Flatten,
    "bn": BatchNorm,
    "gn": GroupNorm,
    "layernorm": LayerNorm,
    "layerscale": LayerScale,
    "scale": Scale,
    **ACTIVATION_KINDS,
    "prelu": PReLU,
    "dropout": Dropout,
    "droppath": DropPath,
    "se": SE,
    "mhsa": MHSA,
    "shuffle": Shuffle,
    "chunk": Chunk,
    "slice": Slice,
    "upsample": Upsample,
    "add": Add,
    "sub": Sub,
    "mul": Mul,
    "div": Div,
    "unknown": Unknown,
}

#: Kinds that hold other layers; handled by the spec, not by a Kind class.
COMPOSITE = ("residual", "concat", "repeat")

PLUGIN_GROUP = "convcost.kinds"  #: entry-point group through which other packages add kinds
_plugins_loaded = False


def load_plugins() -> dict[str, type[Kind]]:
    """KINDS with every kind that installed packages register under the ``convcost.kinds``
    entry-point group (each entry point names a Kind subclass). Loaded once, when a name is not
    a built-in kind, or for the reference: importlib.metadata costs ~40 ms a run otherwise."""
    global _plugins_loaded
    if _plugins_loaded:
        return KINDS
    _plugins_loaded = True
    from importlib.metadata import entry_points

    from ..errors import ConvcostError

    for point in entry_points(group=PLUGIN_GROUP):
        try:
            cls = point.load()
        except Exception as exc:  # noqa: BLE001 — a broken plugin is reported as one line, whatever it raised
            raise ConvcostError(f"plugin kind '{point.name}' ({point.value}) cannot be loaded: {exc}") from None
        if not (isinstance(cls, type) and issubclass(cls, Kind)) or cls.kind != point.name:
            raise ConvcostError(f"plugin kind '{point.name}' ({point.value}) is not a Kind subclass with kind = '{point.name}'")
        if point.name in KINDS or point.name in COMPOSITE:
            raise ConvcostError(f"plugin kind '{point.name}' ({point.value}) would replace a built-in kind; choose another name")
        KINDS[point.name] = cls
    return KINDS


__all__ = ["KINDS", "COMPOSITE", "PLUGIN_GROUP", "Kind", "Shape", "load_plugins"]
