"""The seed articles' systems as rewrites, on their worked checks (issue: every system in the
seeds). The truth is torch modules written from the papers, and the articles' own figures."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import convcost
from convcost.analysis.comparison import compare
from convcost.analysis.rewrite import rewrite
from convcost.cli import app

from .conftest import LAYERS

runner = CliRunner()


def torch_counts(module, shape):  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        out = module.eval()(torch.randn(1, *shape))
    return sum(p.numel() for p in module.parameters()), counter.get_total_flops() // 2, tuple(out.shape[1:])


def test_separable_with_a_depth_multiplier() -> None:
    """3×3 conv 16 → 32 on 32×32, no bias: 4,608 params, 4,718,592 MACs; separable:2 gives
    288 + 1,024 = 1,312 params and 294,912 + 1,048,576 = 1,343,488 MACs (issue's worked check)."""
    stack = convcost.loads("input: [16, 32, 32]\nlayers: [conv: {out: 32, kernel: 3, padding: 1, bias: false}]")
    c = compare(stack, ["separable:2", "separable"])
    standard, two, one = (v.report for v in c.variants)
    assert (standard.totals.params, standard.totals.macs) == (4_608, 4_718_592)
    assert [(r.params, r.macs) for r in two.layers] == [(288, 294_912), (1_024, 1_048_576)]
    assert c.variants[1].name == "separable:2" and c.variants[1].closed_form == "2/out + 2/k²" and c.variants[1].closed_form_ok
    assert c.variants[2].name == "separable" and one.layers[0].output == (16, 32, 32)
    torch = pytest.importorskip("torch")
    nn = torch.nn
    truth = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1, groups=16, bias=False), nn.Conv2d(32, 32, 1, bias=False))
    assert torch_counts(truth, (16, 32, 32)) == (two.totals.params, two.totals.macs, two.layers[-1].output)


def test_convcls_replaces_gap_and_linear() -> None:
    """ChannelNets: on 1024×7×7 with 1000 classes, gap + linear (bias) is 1,025,000 params and
    1,024,000 MACs; convcls is 25·7·7 = 1,225 params and 1,225,000 MACs — more MACs, said so."""
    stack = convcost.loads("input: [1024, 7, 7]\nlayers: [gap, dropout: {p: 0.2}, linear: {out: 1000}]")
    c = compare(stack, ["convcls"])
    before, after = c.variants[0].report.totals, c.variants[1].report.totals
    assert (before.params, before.macs) == (1_025_000, 1_024_000) and (after.params, after.macs) == (1_225, 1_225_000)
    assert c.variants[1].report.layers[-1].output == (1000,)
    torch = pytest.importorskip("torch")
    conv3d = torch.nn.Conv3d(1, 1, (1024 - 1000 + 1, 7, 7), bias=False)  # the paper's 3-D conv over (C, H, W)
    params, macs, _ = torch_counts(conv3d, (1, 1024, 7, 7))
    assert (params, macs) == (after.params, after.macs)


def test_convcls_in_the_cli_says_more_macs(write_yaml) -> None:  # type: ignore[no-untyped-def]
    path = write_yaml("input: [1024, 7, 7]\nlayers: [gap, linear: {out: 1000}]\n")
    out = runner.invoke(app, ["compare", str(path), "-r", "convcls"]).stdout
    assert "1.20× more MACs" in out and "0.0012× the params" in out
    many = write_yaml("input: [8, 7, 7]\nlayers: [gap, linear: {out: 10}]\n", "many.yaml")
    data = json.loads(runner.invoke(app, ["compare", str(many), "-r", "convcls", "-f", "json"]).stdout)
    assert data["variants"][1]["skipped"] == [{"path": "layers[1]", "why": "10 classes from 8 channels: convcls needs n ≤ C"}]


def test_gcwc_replaces_a_pointwise_fusion() -> None:
    """ChannelNets' group channel-wise module: a pointwise 64 → 64 becomes a grouped 1×1 (g = 2)
    and a group channel-wise conv of g·d_c = 2·8 = 16 weights (two GCWMs add 32, as the paper says)."""
    stack = convcost.loads("input: [64, 14, 14]\nlayers: [pwconv: {out: 64, bias: false}, pwconv: {out: 32, bias: false}]")
    result = rewrite(stack, "gcwc:2")
    report = convcost.analyze(result.stack)
    assert result.changed == ("layers[0]",) and dict(result.skipped) == {"layers[1]": "changes the channel count (64 → 32)"}
    assert [(r.kind, r.params, r.macs) for r in report.layers[:2]] == [
        ("pwconv", 64 * 32, 14 * 14 * 64 * 32),
        ("gchconv", 16, 14 * 14 * 64 * 8),
    ]
    torch = pytest.importorskip("torch")
    params, macs, _ = torch_counts(torch.nn.Conv2d(64, 64, 1, groups=2, bias=False), (64, 14, 14))
    assert (params, macs) == (report.layers[0].params, report.layers[0].macs)


def test_factorize_a_strided_5x5_both_ways() -> None:
    """64 → 64, 5×5, stride 2 on 56×56: stride on the last 3×3 keeps the field (5) but costs 1.8×
    the 5×5; stride on the first costs 0.72× and sees 7. Both keep the output shape."""
    stack = convcost.loads("input: [64, 56, 56]\nlayers: [conv: {out: 64, kernel: 5, stride: 2, padding: 2, bias: false}]")
    c = compare(stack, ["factorize", "factorize:first"])
    base, last, first = (v.report for v in c.variants)
    assert {r.layers[-1].output for r in (base, last, first)} == {(64, 28, 28)}
    assert (last.totals.macs / base.totals.macs, first.totals.macs / base.totals.macs) == (1.8, 0.72)
    assert (base.totals.rf.size, last.totals.rf.size, first.totals.rf.size) == ((5, 5), (5, 5), (7, 7))
    torch = pytest.importorskip("torch")
    nn = torch.nn
    truth = nn.Sequential(nn.Conv2d(64, 64, 3, 2, 1, bias=False), nn.Conv2d(64, 64, 3, 1, 1, bias=False))
    assert torch_counts(truth, (64, 56, 56)) == (first.totals.params, first.totals.macs, (64, 28, 28))
    path = LAYERS / "factorize_5x5.yaml"
    out = runner.invoke(app, ["compare", str(path), "-r", "factorize,factorize:first"]).stdout  # stride 1: both keep the field
    assert "factorize: 1.39× fewer MACs" in out and "receptive field" not in out


def test_the_5x5_zoo_file_factorizes_into_two_torch_3x3s() -> None:
    c = compare(convcost.load(LAYERS / "factorize_5x5.yaml"), ["factorize"])
    after = c.variants[1].report.totals
    assert (after.params, after.macs, after.rf.size) == (73_728, 231_211_008, (5, 5))
    torch = pytest.importorskip("torch")
    nn = torch.nn
    two = nn.Sequential(nn.Conv2d(64, 64, 3, padding=1, bias=False), nn.Conv2d(64, 64, 3, padding=1, bias=False))
    assert torch_counts(two, (64, 56, 56))[:2] == (after.params, after.macs)


@pytest.mark.parametrize("spec", ["separable:0", "factorize:last", "convcls:2", "gcwc:1", "gcwc", "separable:x", "grouped:9999999"])
def test_bad_seed_rewrites_exit_2(spec: str) -> None:
    result = runner.invoke(app, ["compare", str(LAYERS / "resnet18.yaml"), "-r", spec])
    assert result.exit_code == 2 and result.stderr.startswith("error: --rewrite: "), result.output


def test_every_seed_rewrite_executes_on_numpy_and_torch() -> None:
    pytest.importorskip("torch")
    from convcost.backends.execute import run_once

    stack = convcost.loads("""
input: [64, 16, 16]
defaults: {bias: false}
layers:
  - conv: {out: 64, kernel: 5, stride: 2, padding: 2}
  - pwconv: {out: 64}
  - gap
  - linear: {out: 10}
""")
    for spec in ("separable:2", "convcls", "gcwc:4", "factorize:first"):
        rewritten = rewrite(stack, spec).stack
        a, b = run_once(rewritten, "numpy", seed=3), run_once(rewritten, "torch", seed=3)
        assert a.shape == b.shape == (1, *rewritten.output) and abs(a - b).max() < 1e-3 * max(1.0, abs(b).max()), spec
