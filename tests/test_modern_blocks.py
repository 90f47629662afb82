"""Today's blocks (issue: a kind is one place, part 2): SE variants, LayerNorm over channels,
layer scale, drop path, adaptive pools, arithmetic in block parameters, per-kind defaults —
against torchvision's definitions written out here (no torchvision installed)."""

from __future__ import annotations

from fractions import Fraction

import pytest

import convcost
from convcost.errors import ConvcostError
from convcost.yamlio.expr import divisible, evaluate


def make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """torchvision.models._utils._make_divisible, as written there."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def test_divisible_is_torchvisions_make_divisible() -> None:
    for v in range(1, 2000):
        for d in (4, 8, 16):
            assert divisible(Fraction(v), Fraction(d)) == make_divisible(v, d), (v, d)
    assert evaluate("divisible($c * 0.25, 8)", {"c": 72}) == make_divisible(72 * 0.25, 8) == 24


def test_expressions_are_exact_and_refuse_anything_else() -> None:
    assert evaluate("$c * 4 // 3 + 1", {"c": 64}) == 64 * 4 // 3 + 1
    assert evaluate("min($a, 64) - max(1, $b / 2)", {"a": 100, "b": 7}) == 64 - 3.5
    for bad in ("$c ** 2", "__import__('os')", "$c.real", "[$c]", "$c if 1 else 2", "lambda: 1"):
        with pytest.raises(ConvcostError):
            evaluate(bad, {"c": 3})


def se_torchvision(c: int, squeeze: int):  # type: ignore[no-untyped-def]
    """torchvision.ops.SqueezeExcitation: 1×1 convs with bias (activation, scale activation)."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    return nn.ModuleDict({"fc1": nn.Conv2d(c, squeeze, 1), "fc2": nn.Conv2d(squeeze, c, 1)})


@pytest.mark.parametrize(("text", "c", "squeeze"), [
    ("se: {reduction: 4, divisor: 8, gate: hsigmoid}", 72, make_divisible(72 // 4, 8)),   # MobileNetV3-Large, 72 channels
    ("se: {reduction: 4, divisor: 8, gate: hsigmoid}", 120, make_divisible(120 // 4, 8)),
    ("se: {squeeze: 4, act: silu}", 96, 4),                                               # EfficientNet-B0: in 16 // 4, on 96
    ("se: {reduction: 16}", 256, 16),
])  # fmt: skip
def test_se_variants_count_as_torchvision(text: str, c: int, squeeze: int) -> None:
    report = convcost.analyze(convcost.loads(f"input: [{c}, 14, 14]\nlayers: [{text}]"))
    reference = se_torchvision(c, squeeze)
    assert report.totals.params == sum(p.numel() for p in reference.parameters())
    assert report.totals.macs == 2 * c * squeeze


def test_layernorm_equals_convnext_layernorm2d() -> None:
    torch = pytest.importorskip("torch")
    import numpy as np

    from convcost.backends.execute import run_once

    stack = convcost.loads("input: [32, 7, 7]\nlayers: [layernorm]")
    x = np.random.default_rng(0).standard_normal((2, 32, 7, 7)).astype(np.float32)
    ours = run_once(stack, "numpy", x=x)
    reference = torch.nn.LayerNorm(32, eps=1e-6)  # ConvNeXt's LayerNorm2d: permute, LayerNorm, permute back
    reference.weight.data, reference.bias.data = torch.ones(32), torch.zeros(32)
    from convcost.backends.weights import make

    w = make(stack.layers[0].op, stack.layers[0].in_shape, np.random.default_rng(0))
    with torch.no_grad():
        reference.weight.copy_(torch.from_numpy(w[0]))
        reference.bias.copy_(torch.from_numpy(w[1]))
        truth = reference(torch.from_numpy(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2).numpy()
    np.testing.assert_allclose(ours, truth, rtol=1e-4, atol=1e-4)
    assert convcost.analyze(stack).totals.params == sum(p.numel() for p in reference.parameters()) == 64


def test_layer_scale_and_drop_path() -> None:
    report = convcost.analyze(convcost.loads("input: [96, 56, 56]\nlayers: [layerscale, droppath: {p: 0.1}]"))
    assert [(r.kind, r.params, r.macs, r.output) for r in report.layers] == [("layerscale", 96, 0, (96, 56, 56)),
                                                                             ("droppath", 0, 0, (96, 56, 56))]  # fmt: skip


@pytest.mark.parametrize(("n", "size"), [(14, 7), (13, 6), (7, 7), (224, 7)])
def test_adaptive_pool_windows_are_pytorchs(n: int, size: int) -> None:
    """Output shape and values against torch's AdaptiveAvgPool; the receptive field against the
    gradient support where each input size is a multiple of the output size."""
    torch = pytest.importorskip("torch")
    stack = convcost.loads(f"input: [2, {n}, {n}]\nlayers: [adaptiveavgpool: {{size: {size}}}]")
    report = convcost.analyze(stack)
    assert report.layers[0].output == (2, size, size)
    x = torch.ones(1, 2, n, n, requires_grad=True)
    torch.nn.AdaptiveAvgPool2d(size)(x)[0, :, 0, 0].sum().backward()
    rows = torch.nonzero(x.grad[0].sum(0).sum(1)).flatten()
    if n % size == 0:
        assert report.layers[0].rf.size == (int(rows[-1] - rows[0]) + 1,) * 2


def test_defaults_scoped_per_kind() -> None:
    report = convcost.analyze(
        convcost.loads("""
input: [3, 32, 32]
defaults: {padding: 1, conv: {bias: false, act: relu}, maxpool: {padding: 0}}
layers: [conv: {out: 8, kernel: 3}, maxpool: {kernel: 2}, conv: {out: 4, kernel: 3, act: none}]
""")
    )
    assert [(r.kind, r.output, r.params) for r in report.layers] == [
        ("conv", (8, 32, 32), 8 * 3 * 9), ("relu", (8, 32, 32), 0), ("maxpool", (8, 16, 16), 0), ("conv", (4, 16, 16), 4 * 8 * 9)]  # fmt: skip
    with pytest.raises(ConvcostError, match="conv takes no 'biass'"):
        convcost.loads("input: [3, 8, 8]\ndefaults: {conv: {biass: false}}\nlayers: [relu]")


def test_block_arithmetic_builds_widths() -> None:
    report = convcost.analyze(
        convcost.loads("""
input: [16, 8, 8]
blocks:
  inverted:     # MobileNetV3-style widths computed from the parameters
    params: {c: 16, e: 4.5}
    layers:
      - pwconv: {out: 'divisible($c * $e, 8)', bias: false}
      - se: {squeeze: 'divisible($c * $e / 4, 8)', gate: hsigmoid}
      - pwconv: {out: $c + 8, bias: false}
layers: [inverted: {c: 16}]
""")
    )
    hidden = make_divisible(16 * 4.5, 8)
    assert [r.output[0] for r in report.layers] == [hidden, hidden, 24]
    assert report.layers[1].macs == 2 * hidden * make_divisible(16 * 4.5 / 4, 8)


def test_a_global_act_default_is_the_shorthand_only() -> None:
    """`defaults: {act: hswish}` appends hswish to conv-family layers; it does not change se's
    inner activation (MobileNetV3 keeps relu there); `se: {act: silu}` under defaults does."""
    stack = convcost.loads("input: [16, 8, 8]\ndefaults: {act: hswish}\nlayers: [conv: {out: 16, kernel: 1}, se: {reduction: 4}]")
    assert [leaf.op.kind for leaf in convcost.model.graph.leaves(stack.layers)] == ["conv", "hswish", "se"]
    assert stack.layers[-1].op.act == "relu"
    scoped = convcost.loads("input: [16, 8, 8]\ndefaults: {se: {act: silu}}\nlayers: [se: {reduction: 4}]")
    assert scoped.layers[-1].op.act == "silu"
