"""mhsa: multi-head self-attention over the positions of a tensor, against attention other people
wrote — torch's nn.MultiheadAttention, timm's ViT Attention — and the paper's formula written out
here with einsum (Vaswani et al. 2017, §3.2.2)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.model.graph import Leaf


def analyze(shape: str, layer: str) -> Any:
    return convcost.analyze(convcost.loads(f"input: {shape}\nlayers: [{layer}]")).totals


def counted(module: Any, *args: Any, **kwargs: Any) -> tuple[int, int]:
    """(params, MACs) as torch counts them: sum of numel, FlopCounterMode FLOPs ÷ 2. Autograd stays
    on, so nn.MultiheadAttention takes its counted path, not the uncounted no-grad fast path."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        module(*args, **kwargs)
    return sum(p.numel() for p in module.parameters()), counter.get_total_flops() // 2


@pytest.mark.parametrize(("c", "spatial", "heads"), [(64, (7, 7), 4), (96, (14, 14), 3), (768, (197,), 12)])
def test_mhsa_counts_as_torch_multihead_attention(c: int, spatial: tuple[int, ...], heads: int) -> None:
    torch = pytest.importorskip("torch")
    mha = torch.nn.MultiheadAttention(c, heads, batch_first=True)
    tokens = torch.randn(1, int(np.prod(spatial)), c)
    params, macs = counted(mha, tokens, tokens, tokens, need_weights=True)
    totals = analyze(f"[{c}, {', '.join(map(str, spatial))}]", f"mhsa: {{heads: {heads}}}")
    assert (totals.params, totals.macs) == (params, macs)


def timm_attention(c: int, heads: int, qkv_bias: bool) -> Any:
    from . import real  # noqa: F401  (skips torchvision's meta registrations before timm imports it)

    vit = pytest.importorskip("timm.models.vision_transformer")
    attention = vit.Attention(c, num_heads=heads, qkv_bias=qkv_bias).eval()
    attention.fused_attn = False  # its matmuls, counted (CPU scaled_dot_product_attention is not)
    return attention


@pytest.mark.parametrize("qkv_bias", [True, False])
def test_mhsa_is_timms_vit_attention(qkv_bias: bool) -> None:
    """Counts and values: timm's weights run through convcost's numpy kernel give timm's output."""
    torch = pytest.importorskip("torch")
    c, heads, side = 48, 6, 5
    attention = timm_attention(c, heads, qkv_bias)
    x = torch.randn(2, c, side, side)
    tokens = x.flatten(2).transpose(1, 2)
    params, macs = counted(attention, tokens)
    stack = convcost.loads(f"input: [{c}, {side}, {side}]\nlayers: [mhsa: {{heads: {heads}, qkv_bias: {str(qkv_bias).lower()}}}]")
    totals = convcost.analyze(stack, batch=2).totals
    assert (totals.params, totals.macs) == (params, macs)

    weights = [p.detach().numpy() for p in attention.parameters()]  # qkv.weight, (qkv.bias), proj.weight, proj.bias
    leaf = stack.layers[0]
    assert isinstance(leaf, Leaf)
    kind, shape = leaf.op, leaf.in_shape
    assert [w.shape for w in weights] == kind.param_shapes(shape)
    ours = kind.numpy_fn(shape, weights)(x.numpy())
    with torch.no_grad():
        theirs = attention(tokens).transpose(1, 2).reshape(x.shape).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def paper_attention(c: int, heads: int, head_dim: int, qkv_bias: bool, proj: bool) -> Any:
    """Attention(Q, K, V) = softmax(QKᵀ/√d_k)V per head, heads concatenated, then W^O — written
    from the paper with separate q, k, v projections and einsum."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    d = heads * head_dim

    class PaperAttention(nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.q, self.k, self.v = (nn.Linear(c, d, bias=qkv_bias) for _ in range(3))
            self.o = nn.Linear(d, c) if proj else None

        def forward(self, x: Any) -> Any:  # x: (L, C)
            q, k, v = (f(x).reshape(-1, heads, head_dim) for f in (self.q, self.k, self.v))
            weights = torch.einsum("lhd,mhd->hlm", q, k).div(head_dim**0.5).softmax(-1)
            y = torch.einsum("hlm,mhd->lhd", weights, v).reshape(-1, d)
            return self.o(y) if self.o is not None else y

    return PaperAttention()


@pytest.mark.parametrize(("layer", "c", "heads", "head_dim", "qkv_bias", "proj"), [
    ("mhsa: {heads: 2, head_dim: 5, qkv_bias: false, proj: false}", 6, 2, 5, False, False),
    ("mhsa: {heads: 8, head_dim: 16}", 32, 8, 16, True, True),
    ("mhsa: {heads: 1}", 10, 1, 10, True, True),
])  # fmt: skip
def test_mhsa_counts_as_the_paper(layer: str, c: int, heads: int, head_dim: int, qkv_bias: bool, proj: bool) -> None:
    torch = pytest.importorskip("torch")
    length = 11
    params, macs = counted(paper_attention(c, heads, head_dim, qkv_bias, proj), torch.randn(length, c))
    report = convcost.analyze(convcost.loads(f"input: [{c}, {length}]\nlayers: [{layer}]"))
    assert (report.totals.params, report.totals.macs) == (params, macs)
    assert report.layers[0].output == (c if proj else heads * head_dim, length)


def test_mhsa_sees_everything() -> None:
    """No receptive field to grow: every output position attends to every input position."""
    report = convcost.analyze(convcost.loads("input: [8, 9, 9]\nlayers: [conv: {out: 8, kernel: 3, padding: 1}, mhsa: {heads: 2}]"))
    assert report.layers[-1].rf is None


def test_compare_leaves_attention_alone() -> None:
    stack = convcost.loads("input: [16, 8, 8]\nlayers: [conv: {out: 32, kernel: 3, padding: 1}, mhsa: {heads: 4}]")
    attention = stack.layers[1]
    assert isinstance(attention, Leaf)
    comparison = convcost.compare(stack, ["separable", "grouped:4", "bottleneck:4", "factorize", "spatial", "channelwise"])
    for variant, rewritten in zip(comparison.variants, comparison.stacks):
        assert [leaf.op for leaf in rewritten.layers if isinstance(leaf, Leaf) and leaf.name == "mhsa"] == [attention.op], variant.name
        if variant.name != "standard":
            assert ("layers[1]", "attention: the conv rewrites do not apply") in variant.skipped, variant.name
    assert len(comparison.variants) == 7


runner = CliRunner()


@pytest.mark.parametrize(("layer", "message"), [
    ("mhsa: {heads: 5}", "heads=5 does not divide the 16 input channels"),
    ("mhsa: {heads: 4, proj: false, proj_bias: true}", "proj_bias without proj"),
    ("mhsa: {heads: 0}", "heads"),
])  # fmt: skip
def test_mhsa_bad_input_is_one_located_line(tmp_path: Any, layer: str, message: str) -> None:
    path = tmp_path / "att.yaml"
    path.write_text(f"input: [16, 4, 4]\nlayers:\n  - {layer}\n")
    result = runner.invoke(app, ["analyze", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and f"{path}:3" in lines[0], result.output
