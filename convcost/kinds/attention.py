"""Attention over the positions of a tensor: every position is a token of C features."""

from __future__ import annotations

from typing import Any, ClassVar

from ..arith import prod
from .args import boolean, pos_int
from .base import Kind, Shape, arg, fit_error


class MHSA(Kind):
    """Multi-head self-attention over the L positions of [C, *spatial] (BoTNet's MHSA, a ViT
    encoder's attention on [C, L] tokens, Ultralytics' PSA): q, k, v = one linear C → 3·D
    (D = heads · head_dim), softmax(q·kᵀ / √head_dim) per head, the heads' weighted v joined and
    projected D → C (``proj``). Every output position sees every input position: the receptive
    field is the whole input (rf null). MACs count the four matrix products, as FlopCounterMode does (softmax and the 1/√d
    scale are elementwise: none)."""

    kind: ClassVar[str] = "mhsa"
    COST = ("L positions, D = heads · head_dim: params = 3·C·D (+ 3·D qkv bias) + D·C (+ C proj bias); "
            "MACs = 3·L·C·D (qkv) + 2·L²·D (q·kᵀ, weights·v) + L·D·C (proj); output [C, *spatial] ([D, …] without proj)")  # fmt: skip
    EXAMPLE = "mhsa: {heads: 4}"
    ARG_DOCS: ClassVar[dict[str, str]] = {
        "heads": "attention heads",
        "head_dim": "features per head (default C / heads)",
        "qkv_bias": "a learned bias on q, k and v (nn.MultiheadAttention: bias=True; timm's Attention: qkv_bias)",
        "proj": "an output projection D → C (false: the heads' joined output, D channels)",
        "proj_bias": "a learned bias on the output projection (default: with proj)",
    }
    GLOBAL: ClassVar[bool] = True
    NOT_REWRITTEN: ClassVar[str] = "attention: the conv rewrites do not apply"
    heads: int = arg(pos_int)
    head_dim: int | None = arg(pos_int, None)
    qkv_bias: bool = arg(boolean, True)
    proj: bool = arg(boolean, True)
    proj_bias: bool | None = arg(boolean, None)

    def width(self, c: int) -> int:
        """D = heads · head_dim."""
        return self.heads * (self.head_dim if self.head_dim is not None else c // self.heads)

    def bind(self, shape: Shape) -> Any:
        if self.head_dim is None and shape[0] % self.heads:
            raise fit_error(f"heads={self.heads} does not divide the {shape[0]} input channels (give head_dim)", "heads")
        if not self.proj and self.proj_bias:
            raise fit_error("proj_bias without proj: there is no output projection to bias", "proj_bias")
        return self

    @property
    def with_proj_bias(self) -> bool:
        return self.proj and self.proj_bias is not False

    def out_shape(self, shape: Shape) -> Shape:
        return shape if self.proj else (self.width(shape[0]), *shape[1:])

    def params(self, shape: Shape) -> int:
        return sum(prod(s) for s in self.param_shapes(shape))

    def macs(self, shape: Shape, out: Shape) -> int:
        c, d, positions = shape[0], self.width(shape[0]), prod(shape[1:])
        return 3 * positions * c * d + 2 * positions * positions * d + (positions * d * c if self.proj else 0)

    def products(self, shape: Shape, out: Shape) -> list[tuple[int, str]]:
        c, d, positions = shape[0], self.width(shape[0]), prod(shape[1:])
        pairs = [(positions * positions * d, "pair")] * 2  # q·kᵀ, then the weights times v
        return [(3 * positions * c * d, "input"), *pairs] + ([(positions * d * c, "inner")] if self.proj else [])

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        c, d = shape[0], self.width(shape[0])
        shapes: list[tuple[int, ...]] = [(3 * d, c)] + ([(3 * d,)] if self.qkv_bias else [])
        if self.proj:
            shapes += [(c, d)] + ([(c,)] if self.with_proj_bias else [])
        return shapes

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        from ..ops import numpy_ops as ops

        qkv_bias = w[1] if self.qkv_bias else None
        rest = w[2 if self.qkv_bias else 1 :]
        proj = (rest[0], rest[1] if self.with_proj_bias else None) if self.proj else None
        return lambda x: ops.self_attention(x, self.heads, w[0], qkv_bias, proj)

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        c = shape[0]
        return tb.SelfAttention(c, self.heads, self.width(c) // self.heads, self.qkv_bias, self.proj, self.with_proj_bias)

    def device_class(self, shape: Shape, out: Shape) -> tuple[str, int]:
        return ("linear", 0)  # matrix products, as a linear layer's
