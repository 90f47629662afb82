"""--memory-plan: the peak under unfused, fused and inplace plans, against published figures
(MCUNetV2's MobileNetV2, TFLite Micro's person-detection arena) and a chain walk over the
shapes torch's hand-written nets produce."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app

from .conftest import LAYERS

runner = CliRunner()


def test_mobilenet_v2_int8_matches_mcunetv2() -> None:
    """MCUNetV2 (Lin et al., NeurIPS 2021, Fig. 1) gives MobileNetV2's per-layer inference a peak
    of 1,372 kB at int8 (kB = 1,024 B), with conv, BN and ReLU6 fused and depthwise convs done in
    place. It is block 1's expansion: its input 16×112×112 (200,704 B) beside its output
    96×112×112 (1,204,224 B) = 1,404,928 B = 1,372 × 1,024 exactly. Fused but not in place, the
    depthwise conv after it needs its own 96×56×56 output beside that 96×112×112: 1,505,280 B;
    unfused, BN and ReLU6 each get a buffer too: 2 × 1,204,224 = 2,408,448 B (the 1.71× of issue 29)."""
    stack = convcost.load(LAYERS / "mobilenet_v2.yaml")
    peaks = {plan: convcost.analyze(stack, dtype="int8", memory_plan=plan) for plan in ("unfused", "fused", "inplace")}
    assert peaks["inplace"].totals.peak_memory_bytes == 1_372 * 1024 == 16 * 112 * 112 + 96 * 112 * 112
    assert peaks["fused"].totals.peak_memory_bytes == 96 * 112 * 112 + 96 * 56 * 56
    assert peaks["unfused"].totals.peak_memory_bytes == 2 * 96 * 112 * 112 == convcost.analyze(stack, dtype="int8").totals.peak_memory_bytes
    memory = peaks["inplace"].memory
    assert memory is not None and memory.at == "ir1.pwconv1"
    assert [(shape, n) for _, shape, n in memory.alive] == [((16, 112, 112), 200_704), ((96, 112, 112), 1_204_224)]


PERSON_DETECTION = """\
name: person_detection
input: [1, 96, 96]
defaults: {bias: false}
blocks:
  dw: {params: {out: 8, stride: 1}, layers: [dwconv: {kernel: 3, stride: $stride, padding: same, bn: true, act: relu6},
                                            pwconv: {out: $out, bn: true, act: relu6}]}
layers:
  - conv: {out: 8, kernel: 3, stride: 2, padding: same, bn: true, act: relu6}
  - dw: {out: 16}
  - dw: {out: 32, stride: 2}
  - dw: {out: 32}
  - dw: {out: 64, stride: 2}
  - dw: {out: 64}
  - dw: {out: 128, stride: 2}
  - repeat: {times: 5, layers: [dw: {out: 128}]}
  - dw: {out: 256, stride: 2}
  - dw: {out: 256}
  - gap
  - linear: {out: 2}
  - softmax
"""


def test_person_detection_fits_the_tflite_micro_arena() -> None:
    """TFLite Micro's person-detection example (MobileNet v1 α = 0.25, 96×96 grayscale, int8)
    gives its interpreter a 136 KiB arena (kTensorArenaSize = 136 * 1024): the activations its
    planner lays out, plus persistent buffers (tensor and node structs, quantization parameters)
    and kernels' scratch. The activations alone, fused as TFLite fuses them, peak at the first
    pointwise conv: its input 8×48×48 beside its output 16×48×48 = 55,296 B."""
    stack = convcost.loads(PERSON_DETECTION)
    report = convcost.analyze(stack, dtype="int8", memory_plan="fused")
    assert report.totals.peak_memory_bytes == 8 * 48 * 48 + 16 * 48 * 48 <= 136 * 1024
    assert report.memory is not None and report.memory.at == "dw1.pwconv"


# --- a chain walk over torch's own shapes ------------------------------------------------------
def _leaves(module: Any, shape: tuple[int, ...]) -> tuple[int, list[tuple[Any, int]]]:
    """The input's elements and, per leaf module in the order it runs, (module, output elements)."""
    import torch

    seen: list[tuple[Any, int]] = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append((m, o.numel()))) for m in module.modules() if not list(m.children())]
    module.eval()
    with torch.no_grad():
        module(torch.randn(1, *shape))
    for h in hooks:
        h.remove()
    return prod(shape), seen


def prod(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def chain_peak(module: Any, shape: tuple[int, ...], plan: str) -> int:
    """In a chain only a layer's input and its output are alive; a fused layer (a norm or an
    activation right after a conv or linear, or after another fused one), or with ``inplace`` any
    of them and a depthwise conv, writes over its input instead. Flatten is a view in torch, a
    copy of its own in the unfused plan."""
    from torch import nn

    elementwise = (nn.BatchNorm2d, nn.ReLU, nn.ReLU6, nn.Dropout, nn.Hardswish, nn.SiLU)
    buffer, leaves = _leaves(module, shape)
    peak, computes = buffer, False
    for m, out in leaves:
        depthwise = isinstance(m, nn.Conv2d) and m.groups == m.in_channels == m.out_channels
        over = isinstance(m, elementwise) and (plan == "inplace" or (plan == "fused" and computes))
        over = over or (plan == "inplace" and depthwise)
        if over and out <= buffer:
            peak = max(peak, buffer)
        else:
            peak, buffer = max(peak, buffer + out), out
        computes = isinstance(m, (nn.Conv2d, nn.Linear)) or (over and computes)
    return peak


@pytest.mark.parametrize("name", ["mobilenet_v1", "alexnet", "mobilenet_v1_050", pytest.param("vgg16", marks=pytest.mark.slow)])
def test_chain_nets_peak_equals_the_walk_over_torch_shapes(name: str) -> None:
    pytest.importorskip("torch")
    from .test_zoo import torch_nets

    stack = convcost.load(LAYERS / f"{name}.yaml")
    module = torch_nets()[name]()
    for plan in ("unfused", "fused", "inplace"):
        assert convcost.analyze(stack, memory_plan=plan).totals.peak_memory_bytes == 4 * chain_peak(module, stack.input, plan), plan


def test_plans_never_grow_the_peak() -> None:
    for path in sorted(LAYERS.glob("*.yaml")):
        stack = convcost.load(path)
        unfused, fused, inplace = (convcost.analyze(stack, memory_plan=p).totals.peak_memory_bytes for p in ("unfused", "fused", "inplace"))
        assert inplace <= fused <= unfused, path.stem


def test_residual_add_fuses_its_activation_and_branches_stay_alive() -> None:
    """ResNet-18's first block: unfused, bn and relu take buffers of their own (the add writes
    over its body's output); fused, conv+bn+relu and add+relu are one tensor each. The shortcut
    (the block's input) stays alive beside the body throughout."""
    stack = convcost.load(LAYERS / "resnet18.yaml")
    report = convcost.analyze(stack, memory_plan="fused")
    live = {r.name: r.live for r in report.layers}
    block = 64 * 56 * 56 * 4
    assert live["unit1.conv1"] == live["unit1.conv1.bn"] == live["unit1.conv1.relu"] == 2 * block  # the block's input, conv1's output
    assert live["unit1.conv2"] == 3 * block  # the shortcut, conv2's input, its output
    assert live["unit1.conv2.bn"] == live["unit1.residual"] == 2 * block  # the add writes over the body; the shortcut dies there
    assert live["unit1.relu"] == block
    unfused = {r.name: r.live for r in convcost.analyze(stack, memory_plan="unfused").layers}
    assert unfused["unit1.conv1.bn"] == 3 * block


def test_cli_table_json_csv_markdown() -> None:
    path = str(LAYERS / "mobilenet_v2.yaml")
    data = json.loads(runner.invoke(app, ["analyze", path, "--memory-plan", "inplace", "--dtype", "int8", "-f", "json"]).output)
    assert data["memory_plan"] == {"plan": "inplace", "peak_bytes": 1_404_928, "at": "ir1.pwconv1",
                                   "alive": [{"name": "pwconv1.bn", "output": [16, 112, 112], "bytes": 200_704},
                                             {"name": "ir1.pwconv1", "output": [96, 112, 112], "bytes": 1_204_224}]}  # fmt: skip
    assert data["totals"]["peak_memory_bytes"] == 1_404_928 == max(layer["live_bytes"] for layer in data["layers"])
    plain = json.loads(runner.invoke(app, ["analyze", path, "-f", "json"]).output)
    assert "memory_plan" not in plain and "live_bytes" not in plain["layers"][0]
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["analyze", path, "--memory-plan", "fused", "-f", "csv"]).output)))
    assert rows[-1]["live_bytes"] == str(4 * 1_505_280) and all(r["live_bytes"] for r in rows)
    text = runner.invoke(app, ["analyze", path, "--memory-plan", "fused", "-f", "markdown"]).output
    assert "fused memory plan: peak 6,021,120 B at ir1.dwconv" in text


@pytest.mark.parametrize("width", [80, 200])
def test_table_shows_live_and_where(width: int) -> None:
    from convcost.render import table
    from convcost.render.rows import select

    from .test_render import draw

    report = convcost.analyze(convcost.load(LAYERS / "mobilenet_v2.yaml"), dtype="int8", memory_plan="inplace")
    for shown in (None, select(report, None, folded=True)):
        lines = draw(table.report_table(report, width, None, shown), width)
        assert max(map(len, lines)) <= width
        text = " ".join(" ".join(lines).split())
        assert "inplace memory plan: peak 1,404,928 B at ir1.pwconv1; alive: pwconv1.bn 16×112×112 (196.0 KiB)" in text
        if width == 200:
            assert lines[1].split()[-1] == "live" or any(line.split()[-1:] == ["live"] for line in lines[:4])
    folded = select(report, None, folded=True).report
    # a folded row is alive at most as its costliest part: conv+bn+relu6 of the stem holds its input beside its output
    assert next(r for r in folded.layers if r.name == "conv").live == 3 * 224 * 224 + 32 * 112 * 112


def test_check_plan_flag_and_budget_key(tmp_path: Any) -> None:
    path = str(LAYERS / "mobilenet_v2.yaml")
    args = ["check", path, "--max-peak-memory", "1372KiB", "--dtype", "int8"]
    assert runner.invoke(app, [*args, "--memory-plan", "inplace"]).exit_code == 0
    over = runner.invoke(app, [*args, "--memory-plan", "fused"])
    assert over.exit_code == 1 and "fused memory plan at ir1.dwconv" in over.output
    model = tmp_path / "m.yaml"
    model.write_text(
        "input: [8, 16, 16]\nbudget: {peak_memory: 4KiB, memory_plan: inplace}\nlayers: [bn, relu, dwconv: {kernel: 3, padding: 1}]\n"
    )
    assert runner.invoke(app, ["check", str(model), "--dtype", "int8"]).exit_code == 0  # one 2,048 B buffer throughout
    assert runner.invoke(app, ["check", str(model), "--dtype", "int8", "--memory-plan", "unfused"]).exit_code == 0  # 4,096 B
    assert runner.invoke(app, ["check", str(model), "--memory-plan", "unfused"]).exit_code == 1  # float32: 16 KiB
    model.write_text("input: [8, 16, 16]\nbudget: {macs: 1M, memory_plan: inplace}\nlayers: [bn]\n")
    bad = runner.invoke(app, ["check", str(model)])
    assert bad.exit_code == 2 and "takes effect only with a peak_memory limit" in bad.output
    model.write_text("input: [8, 16, 16]\nbudget: {peak_memory: 1MiB, memory_plan: fuzed}\nlayers: [bn]\n")
    bad = runner.invoke(app, ["check", str(model)])
    assert bad.exit_code == 2 and "m.yaml:2" in bad.output and "expected one of unfused, fused, inplace" in bad.output
    wrong = runner.invoke(app, ["analyze", path, "--memory-plan", "tight"])
    assert wrong.exit_code == 2 and "tight" in wrong.output


def test_an_add_fuses_its_activation_too() -> None:
    """add+act is one tensor under fused, whichever add it is (a residual's, or an FPN's add:)."""
    text = "input: [4, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 1, name: a}\n  - conv: {out: 4, kernel: 1, from: input, name: b}\n" \
           "  - add: {from: [a, b], name: s}\n  - relu: {name: r}\n"  # fmt: skip
    live = {r.name: r.live for r in convcost.analyze(convcost.loads(text), memory_plan="fused").layers}
    # the add writes a tensor of its own (a, b and s: 3 × 256 × 4 B); the relu writes over it
    assert live["s"] == 3 * 256 * 4 and live["r"] == 256 * 4
