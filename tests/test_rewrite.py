"""Rewrites keep shapes and (factorize, spatial) receptive fields; the seeds' numbers; the CLI."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from typer.testing import CliRunner

import convcost
from convcost.analysis.comparison import compare
from convcost.analysis.rewrite import rewrite
from convcost.cli import app
from convcost.model.graph import leaves

from .conftest import LAYERS
from .test_kinds import stacks

runner = CliRunner()
ALL = ["separable", "grouped:4", "grouped:2+shuffle", "bottleneck:4", "factorize", "spatial", "channelwise:16"]
ZOO = sorted(LAYERS.glob("*.yaml"))


def assert_shapes_kept(stack: convcost.Stack, spec: str) -> convcost.Stack:
    result = rewrite(stack, spec)
    assert result.stack.output == stack.output
    before = {leaf.path: leaf for leaf in leaves(stack.layers)}
    parts: dict[str, list] = {}
    for leaf in leaves(result.stack.layers):
        if "/" in leaf.path:
            parts.setdefault(leaf.path.split("/")[0], []).append(leaf)
    assert set(parts) == set(result.changed)
    for path, new in parts.items():
        assert new[-1].out_shape == before[path].out_shape, (spec, path)
        assert new[0].in_shape == before[path].in_shape
    return result.stack


def test_seed_numbers() -> None:
    sep = convcost.loads("input: [3, 12, 12]\nlayers: [conv: {out: 256, kernel: 5, bias: false}]")
    c = compare(sep, ["separable"])
    assert [v.report.totals.macs for v in c.variants] == [1_228_800, 53_952]
    assert c.ratio(1) == Fraction(1, 256) + Fraction(1, 25) and c.variants[1].closed_form_ok is True
    bneck = convcost.loads("input: [256, 56, 56]\nlayers: [conv: {out: 256, kernel: 3, padding: 1, bias: false}]")
    c = compare(bneck, ["bottleneck:4", "grouped:4"])
    assert [v.report.totals.params for v in c.variants] == [589_824, 69_632, 589_824 // 4]
    assert c.variants[2].closed_form_ok is True


@pytest.mark.parametrize("model", ZOO, ids=lambda p: p.stem)
@pytest.mark.parametrize("spec", ALL)
def test_every_rewrite_keeps_shapes_on_the_zoo(model: Path, spec: str) -> None:
    assert_shapes_kept(convcost.load(model), spec)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks())
def test_every_rewrite_keeps_shapes_on_random_stacks_and_matches_torch(text: str) -> None:
    pytest.importorskip("torch")
    from .helpers import assert_matches_torch

    try:
        stack = convcost.loads(text)
    except convcost.ConvcostError:
        assume(False)
        return
    for spec in ALL:
        assert_matches_torch(assert_shapes_kept(stack, spec))


@pytest.mark.parametrize(
    "conv",
    [
        "{out: 8, kernel: 5, padding: 2}",
        "{out: 8, kernel: 7, padding: 3, stride: 2}",
        "{out: 8, kernel: 5, stride: 2}",
        "{out: 8, kernel: 5, padding: [[1, 3], [2, 0]], dilation: 2, stride: 3}",
        "{out: 8, kernel: 9, padding: same, stride: 2}",
    ],
)
def test_factorize_and_spatial_keep_the_receptive_field(conv: str) -> None:
    stack = convcost.loads(f"input: [4, 40, 40]\nlayers: [conv: {conv}]")
    base = convcost.analyze(stack).totals
    for spec in ("factorize", "spatial"):
        new = convcost.analyze(assert_shapes_kept(stack, spec)).totals
        assert (new.rf.size, new.rf.stride, new.rf.padding, new.coverage) == (base.rf.size, base.rf.stride, base.rf.padding, base.coverage)
    k = int(conv.split("kernel: ")[1].split(",")[0])
    assert len(rewrite(stack, "factorize").stack.layers) == (k - 1) // 2
    kinds = [leaf.op.kernel for leaf in leaves(rewrite(stack, "spatial").stack.layers)]
    assert kinds == [(k, 1), (1, k)]


def test_channelwise_replaces_the_pointwise_conv_after_a_dwconv() -> None:
    stack = convcost.loads("""
input: [32, 14, 14]
layers:
  - dwconv: {kernel: 3, padding: 1, bias: false, bn: true, act: relu}
  - pwconv: {out: 32, bias: false}
  - pwconv: {out: 32, bias: false}
  - dwconv: {kernel: 3, padding: 1, bias: false}
  - pwconv: {out: 64, bias: false}
""")
    result = rewrite(stack, "channelwise:8")
    assert result.changed == ("layers[1]",)
    assert dict(result.skipped) == {"layers[2]": "not right after a dwconv", "layers[4]": "changes the channel count (32 → 64)"}
    report = convcost.analyze(result.stack)
    assert report.totals.params == 2 * (9 * 32) + 64 + 8 + 32 * 32 + 32 * 64  # dw, bn, chconv d_c = 8, the rest


def test_skipped_layers_say_why() -> None:
    stack = convcost.loads(
        "input: [3, 16, 16]\nlayers: [conv: {out: 8, kernel: 3}, conv: {out: 8, kernel: 1}, conv: {out: 6, kernel: 3, groups: 2}]"
    )
    assert dict(rewrite(stack, "grouped:4").skipped) == {
        "layers[0]": "C_in=3 is not divisible by 4",
        "layers[2]": "already grouped (groups=2)",
    }
    assert dict(rewrite(stack, "separable").skipped) == {"layers[1]": "a 1×1 kernel", "layers[2]": "already grouped (groups=2)"}


def test_cli_default_rewrites_json_and_markdown() -> None:
    result = runner.invoke(app, ["compare", str(LAYERS / "resnet50.yaml"), "-f", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [v["name"] for v in data["variants"]] == ["standard", "separable", "grouped:4", "bottleneck:4"]
    v = data["variants"][2]
    assert {"changed", "skipped", "layers", "totals"} <= set(v) and v["skipped"] == [
        {"path": "layers[0]", "why": "C_in=3 is not divisible by 4"}
    ]
    assert data["variants"][0]["totals"]["params"] == 25_557_032
    table = runner.invoke(app, ["compare", str(LAYERS / "resnet50.yaml"), "-r", "grouped:8+shuffle,factorize"])
    assert "grouped:8+shuffle" in table.stdout and "closed form 1/G" in table.stdout and "more MACs" in table.stdout
    md = runner.invoke(app, ["compare", str(LAYERS / "mobilenet_v1.yaml"), "-f", "markdown", "-r", "channelwise"])
    assert md.stdout.startswith("### mobilenet_v1: designs compared") and "channelwise:64" in md.stdout
    csv_out = runner.invoke(app, ["compare", str(LAYERS / "mobilenet_v1.yaml"), "-f", "csv"]).stdout.splitlines()
    assert csv_out[0].startswith("path,name,kind,standard_params,standard_macs,separable_params")


def test_cli_two_files(write_yaml) -> None:  # type: ignore[no-untyped-def]
    a = write_yaml("input: [3, 16, 16]\nlayers: [conv: {out: 8, kernel: 3}, conv: {out: 8, kernel: 3}]\n", "a.yaml")
    b = write_yaml("input: [3, 16, 16]\nlayers: [conv: {out: 8, kernel: 3}, dwconv: {kernel: 3}, pwconv: {out: 8}]\n", "b.yaml")
    data = json.loads(runner.invoke(app, ["compare", str(a), str(b), "-f", "json"]).stdout)
    assert [v["name"] for v in data["variants"]] == ["standard", "b"]
    table = runner.invoke(app, ["compare", str(a), str(b)])
    assert table.exit_code == 0 and "pwconv" in table.stdout and "new" in table.stdout  # a row only b has
    timed = runner.invoke(app, ["compare", str(a), str(b), "--execute", "--repeat", "1", "-f", "json"])
    assert timed.exit_code == 0, timed.output
    variants = json.loads(timed.stdout)["variants"]
    assert [v["name"] for v in variants] == ["standard", "b"] and all(v["totals"]["measured"]["shape_ok"] for v in variants)


def test_emit_yaml_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "emitted"
    specs = "separable,grouped:4+shuffle,bottleneck:2,factorize,spatial"
    result = runner.invoke(app, ["compare", str(LAYERS / "resnet50.yaml"), "-r", specs, "--emit-yaml", str(out), "-f", "json"])
    assert result.exit_code == 0
    variants = {v["name"]: v["totals"] for v in json.loads(result.stdout)["variants"]}
    files = sorted(out.glob("*.yaml"))
    assert len(files) == 5
    for f in files:
        stack = convcost.load(f)
        totals = convcost.analyze(stack).totals
        name = stack.name.split("[")[1].rstrip("]")
        assert (totals.params, totals.macs, totals.peak_memory_bytes) == (
            variants[name]["params"],
            variants[name]["macs"],
            variants[name]["peak_memory_bytes"],
        )


@pytest.mark.parametrize("spec", ["separabel", "grouped", "grouped:1", "bottleneck:x", "factorize:3", "grouped:4+shuffel"])
def test_bad_rewrites_exit_2(spec: str) -> None:
    result = runner.invoke(app, ["compare", str(LAYERS / "vgg16.yaml"), "-r", spec])
    assert result.exit_code == 2 and result.stderr.startswith("error: --rewrite: "), result.output
