"""Receptive fields against the google-research/receptive_field table and autograd support."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

import convcost

from .conftest import LAYERS


def test_vgg16_matches_the_receptive_field_table() -> None:
    report = convcost.analyze(convcost.load(LAYERS / "vgg16.yaml"))
    by_stage = {}
    for r in report.layers:
        if r.rf is not None:
            by_stage.setdefault(r.path.split(".")[0] + r.kind, (r.rf.size[0], r.rf.stride[0], r.rf.padding[0]))
    table = {"layers[0]conv": (3, 1, 1), "layers[0]maxpool": (6, 2, 2), "layers[1]conv": (10, 2, 4), "layers[1]maxpool": (16, 4, 6),
             "layers[2]conv": (24, 4, 10), "layers[2]maxpool": (44, 8, 18), "layers[3]maxpool": (100, 16, 42),
             "layers[4]conv": (132, 16, 58), "layers[4]maxpool": (212, 32, 90)}  # fmt: skip
    assert {k: by_stage[k] for k in table} == table
    rf = report.totals.rf
    assert (rf.size, rf.stride, rf.padding) == ((212, 212), (32, 32), (90, 90))  # pool5: the feature extractor's field


def test_mobilenet_v1_last_pointwise_field() -> None:
    rf = convcost.analyze(convcost.load(LAYERS / "mobilenet_v1.yaml")).totals.rf
    assert (rf.size[0], rf.stride[0], rf.padding[0]) == (315, 32, 157)


# --- autograd support ----------------------------------------------------------------------
torch_cases = {
    "dilated": "conv: {out: 2, kernel: 3, dilation: 2}, conv: {out: 2, kernel: 3, dilation: 2}, conv: {out: 2, kernel: 3, dilation: 2}",
    "stride-first": "conv: {out: 2, kernel: 1, stride: 2}, conv: {out: 2, kernel: 3, padding: 1}",
    "pools": "conv: {out: 2, kernel: 3, padding: 1}, avgpool: {kernel: 3, stride: 2, padding: 1}, conv: {out: 2, kernel: [5, 3], dilation: [1, 3], padding: same}",
    "residual": "residual: {body: [conv: {out: 2, kernel: 3, stride: 2, padding: 1}, conv: {out: 2, kernel: 3, padding: 1}], "
                "shortcut: [conv: {out: 2, kernel: 1, stride: 2}]}",
    "dilated-residual": "residual: {body: [conv: {out: 2, kernel: 3, dilation: 3, padding: 3}, conv: {out: 2, kernel: 3, dilation: 3, padding: 3}]}",
    "concat": "concat: [[conv: {out: 1, kernel: 5, padding: 2}], [avgpool: {kernel: 3, stride: 1, padding: 1}], []], pwconv: {out: 2}",
    "asymmetric": "conv: {out: 2, kernel: 4, stride: 2, padding: [[1, 2], [2, 1]]}, conv: {out: 2, kernel: 2, padding: [[0, 1], [1, 0]]}",
}  # fmt: skip


def autograd_field(stack: convcost.Stack, u: tuple[int, int]) -> tuple[set[tuple[int, int]], tuple[int, int]]:
    """Input positions whose gradient reaches output position u (all weights 1, float64)."""
    import torch

    from convcost.backends.torch_build import build

    module = build(stack).double()
    with torch.no_grad():
        for p in module.parameters():
            p.fill_(1.0 if p.dim() > 1 else 0.0)
    x = torch.zeros(1, *stack.input, dtype=torch.float64, requires_grad=True)
    y = module(x)
    y[0, :, u[0], u[1]].sum().backward()
    grad = x.grad[0].abs().sum(0)
    support = {(int(i), int(j)) for i, j in torch.nonzero(grad)}
    return support, tuple(y.shape[2:])


@pytest.mark.parametrize("case", sorted(torch_cases))
def test_field_matches_autograd_support(case: str) -> None:
    pytest.importorskip("torch")
    stack = convcost.loads(f"input: [2, 64, 64]\nlayers: [{torch_cases[case]}]")
    rf = convcost.analyze(stack).totals
    for u in ((9, 10), (10, 9)):
        support, _ = autograd_field(stack, u)
        rows, cols = {i for i, _ in support}, {j for _, j in support}
        assert (max(rows) - min(rows) + 1, max(cols) - min(cols) + 1) == rf.rf.size
        assert (min(rows), min(cols)) == tuple(u[a] * rf.rf.stride[a] - rf.rf.padding[a] for a in range(2))
        span = rf.rf.size[0] * rf.rf.size[1]
        assert Fraction(len(support), span) == rf.coverage


@pytest.mark.parametrize(
    "layers",
    [
        "convtranspose: {out: 2, kernel: 3, stride: 2, padding: 1}",
        "convtranspose: {out: 2, kernel: 4, stride: 2, padding: 1}, conv: {out: 2, kernel: 3, padding: 1}",
        "conv: {out: 2, kernel: 3, stride: 2}, convtranspose: {out: 2, kernel: 2, stride: 2}, conv: {out: 2, kernel: 3}",
        "upsample: {scale: 2}, conv: {out: 2, kernel: 3, padding: 1}",
        "upsample: {scale: 2, mode: bilinear}, conv: {out: 2, kernel: 3, padding: 1}",
        "upsample: {scale: 3, mode: bilinear}",
    ],
)
def test_upsampling_field_is_the_largest_over_output_phases(layers: str) -> None:
    pytest.importorskip("torch")
    stack = convcost.loads(f"input: [2, 24, 24]\nlayers: [{layers}]")
    rf = convcost.analyze(stack).totals.rf
    spans, starts = [], []
    for u in range(12, 18):
        support, _ = autograd_field(stack, (u, u))
        rows = {i for i, _ in support}
        spans.append(max(rows) - min(rows) + 1)
        starts.append((u, min(rows)))
    assert max(spans) == rf.size[0]
    stride, padding = rf.stride[0], rf.padding[0]
    assert stride == Fraction(rf.stride[0])
    # with a fractional stride, u·S − P is the affine fit of the phase-dependent start: it is off
    # by less than one step of the up-sampling layer's input (here at most 2 network inputs)
    for u, start in starts:
        assert abs(u * stride - padding - start) < 2


# --- coverage by brute force ----------------------------------------------------------------
def brute_force_1d(layers: list[tuple[int, int, int]]) -> tuple[int, int]:
    """(span, reached) of the input positions one output reaches, by walking sets back."""
    positions = {0}
    for k, s, d in reversed(layers):
        positions = {p * s + j * d for p in positions for j in range(k)}
    return max(positions) - min(positions) + 1, len(positions)


def test_coverage_equals_brute_force_enumeration() -> None:
    rng = random.Random(7)
    for _ in range(200):
        layers = [(rng.randint(1, 4), rng.choice([1, 1, 2, 3]), rng.randint(1, 4)) for _ in range(rng.randint(1, 5))]
        yaml_layers = ", ".join(f"conv: {{out: 1, kernel: {k}, stride: {s}, dilation: {d}}}" for k, s, d in layers)
        stack = convcost.loads(f"input: [1, 2000]\nlayers: [{yaml_layers}]")
        span, reached = brute_force_1d(layers)
        totals = convcost.analyze(stack).totals
        assert totals.rf.size == (span,)
        assert totals.coverage == Fraction(reached, span)


def test_coverage_of_2d_is_the_product_of_axes() -> None:
    stack = convcost.loads(
        "input: [1, 64, 64]\nlayers: [conv: {out: 1, kernel: [3, 1], dilation: [2, 1]}, conv: {out: 1, kernel: 3, dilation: [2, 3]}]"
    )
    totals = convcost.analyze(stack).totals
    rows = brute_force_1d([(3, 1, 2), (3, 1, 2)])
    cols = brute_force_1d([(1, 1, 1), (3, 1, 3)])
    assert totals.coverage == Fraction(rows[1] * cols[1], rows[0] * cols[0])
    assert totals.rf.size == (rows[0], cols[0])


def test_receptive_field_is_linear_in_depth() -> None:
    # 3×3 stride-1 convs: r = 1 + 2·n exactly
    for n in (1, 10, 100):
        layers = ", ".join(["conv: {out: 1, kernel: 3, padding: 1}"] * n)
        assert convcost.analyze(convcost.loads(f"input: [1, 8]\nlayers: [{layers}]")).totals.rf.size == (1 + 2 * n,)


def test_global_layers_end_the_field() -> None:
    report = convcost.analyze(convcost.loads("input: [3, 8, 8]\nlayers: [conv: {out: 4, kernel: 3}, gap, linear: {out: 2}]"))
    assert report.layers[0].rf.size == (3, 3)
    assert [r.rf for r in report.layers[1:]] == [None, None]
    assert report.totals.rf.size == (3, 3)


def test_misaligned_branch_centres_warn() -> None:
    report = convcost.analyze(
        convcost.loads(
            "input: [2, 16, 16]\nlayers: [concat: [[conv: {out: 2, kernel: 3}], [conv: {out: 2, kernel: 3, padding: [[0, 0], [0, 0]], dilation: 1}, pwconv: {out: 2}]]]"
        )
    )
    assert report.warnings == ()
    shifted = convcost.analyze(
        convcost.loads("input: [2, 16, 16]\nlayers: [residual: {body: [conv: {out: 2, kernel: 3, padding: [[2, 0], [2, 0]]}]}]")
    )
    assert any("centre" in w for w in shifted.warnings)
