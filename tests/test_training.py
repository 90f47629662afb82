"""analyze --training: the backward MACs of one training step, against torch's autograd counted
by FlopCounterMode (forward + backward of ``sum(outputs)``) on the hand-written nets, every kind,
and layers frozen as ``requires_grad_(False)`` freezes them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.render import fmt

from .conftest import LAYERS
from .test_kinds import KIND_CASES
from .test_zoo import torch_nets

torch = pytest.importorskip("torch")
runner = CliRunner()


def _conv_backward(grad_out: Any, x: Any, w: Any, bias: Any, stride: Any, padding: Any, dilation: Any, transposed: bool,
                   output_padding: Any, groups: int, mask: Any, out_shape: Any, **kw: Any) -> int:  # fmt: skip
    """torch's own formula with one fix: torch 2.13 counts a grouped conv's weight gradient as if
    every input channel met every output channel (× groups too many; see the test below)."""
    from torch.utils import flop_counter

    conv_backward_flop: Any = flop_counter.conv_backward_flop  # its shape wrapper: out_val=, not out_shape
    args = (grad_out, x, w, bias, stride, padding, dilation, transposed, output_padding, groups)
    total = conv_backward_flop(*args, mask, out_val=out_shape)  # (torch's wrapper takes shapes too)
    if not mask[1]:
        return int(total)
    weights = conv_backward_flop(*args, [False, True, False], out_val=out_shape)
    return int(total - weights + weights // groups)


def step_flops(module: Any, shapes: Iterable[tuple[int, ...]], batch: int = 2) -> tuple[int, int, int]:
    """(forward FLOPs, forward + backward FLOPs, bytes saved for backward) of one step: autograd
    from sum(outputs), the module in training mode (batch statistics, dropout on). The saved bytes
    are the storages ``saved_tensors_hooks`` sees, each once, the module's weights and buffers aside."""
    from torch.utils.flop_counter import FlopCounterMode

    module.train()
    inputs = [torch.randn(batch, *shape) for shape in shapes]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(*inputs)
    forward = counter.get_total_flops()
    own = {t.untyped_storage().data_ptr() for t in [*module.parameters(), *module.buffers()]}
    kept: dict[int, int] = {}

    def pack(t: Any) -> Any:
        storage = t.untyped_storage()
        if storage.data_ptr() not in own:
            kept[storage.data_ptr()] = storage.nbytes()
        return t

    mapping = {torch.ops.aten.convolution_backward: _conv_backward}
    with FlopCounterMode(display=False, custom_mapping=mapping) as counter:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = module(*inputs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        if any(o.requires_grad for o in outs):
            sum(o.sum() for o in outs).backward()
    return forward, counter.get_total_flops(), sum(kept.values())


#: kinds whose saved tensors depend on how they are implemented (convcost warns and leaves them out)
UNSAVED = ("deformconv", "mhsa")


def assert_step(stack: convcost.Stack, module: Any, freeze: tuple[str, ...] = (), batch: int = 2) -> convcost.Report:
    report = convcost.analyze(stack, batch=batch, training=True, freeze=freeze)
    forward, step, saved = step_flops(module, (shape for _, shape in stack.all_inputs), batch)
    t = report.totals
    assert t.training is not None
    assert 2 * t.macs == forward
    assert 2 * (t.macs + t.training.macs) == step, (t.macs, t.training)
    if not any(r.kind in UNSAVED for r in report.layers):
        # tests/nets.py leaves stochastic depth out (the identity at inference); torchvision's keeps one number per sample
        dropped = sum(r.training.saved for r in report.layers if r.kind == "droppath" and r.training is not None)
        assert t.training.saved - dropped == saved
    return report


def test_torch_counts_a_grouped_weight_gradient_groups_times() -> None:
    """Why the truth above corrects torch: a 32-channel depthwise 3×3 on 8×8 (padding 1) has
    32·9·64 = 18,432 products per pass, and each gradient as many again (its input's, and its
    weights': each weight meets its own channel's 64 positions): 36,864 backward MACs. torch 2.13
    counts the weights' 32 times: 18,432 + 32 · 18,432 = 608,256."""
    from torch.utils.flop_counter import FlopCounterMode

    conv = torch.nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False)
    x = torch.randn(1, 32, 8, 8, requires_grad=True)
    with FlopCounterMode(display=False) as counter:
        conv(x).sum().backward()
    assert counter.get_total_flops() == 2 * (18_432 + 608_256)
    with FlopCounterMode(display=False, custom_mapping={torch.ops.aten.convolution_backward: _conv_backward}) as counter:
        conv(x).sum().backward()
    assert counter.get_total_flops() == 2 * (18_432 + 36_864)
    # convcost's model input needs no gradient: the weights' alone
    report = convcost.analyze(convcost.loads("input: [32, 8, 8]\nlayers: [dwconv: {kernel: 3, padding: 1}]"), training=True)
    assert report.totals.training == (0, 18_432, True, 32 * 8 * 8 * 4)  # (and it keeps its input: 8,192 B)


#: a local run holds these against torch (CI: the whole zoo)
LOCAL = ("resnet18", "mobilenet_v2", "se_resnet_block", "kws_tc_resnet8", "resnext_block")
SKIP = {"deformable_head"}  #: torchvision's deform_conv2d does not load against the CPU torch (its compiled ops)


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in LOCAL else pytest.mark.slow) for n in sorted(torch_nets())])
def test_zoo_step_equals_autograd(name: str) -> None:
    path = LAYERS / f"{name}.yaml"
    if not path.exists() or name in SKIP:
        pytest.skip(f"{name}: no such bundled file")
    assert_step(convcost.load(path), torch_nets()[name]())


#: kinds whose torch module is built from the stack: torch's autograd still does the backward
LOCAL_KINDS = ("conv", "dwconv", "sepconv", "convtranspose", "mhsa", "se", "concat", "after-linear", "deformconv")


@pytest.mark.parametrize("case", [pytest.param(c, marks=() if c in LOCAL_KINDS else pytest.mark.slow) for c in sorted(KIND_CASES)])
def test_each_kind_step_equals_autograd(case: str) -> None:
    from convcost.backends.torch_build import build

    shape, layers = KIND_CASES[case].split("|")
    stack = convcost.loads(f"input: {shape}\nlayers: [{layers}]")
    assert_step(stack, build(stack))


def _frozen_resnet18(indices: Iterable[int]) -> Any:
    from . import nets

    module: Any = nets.resnet18()
    for i in indices:
        module[i].requires_grad_(False)
    return module


@pytest.mark.parametrize(
    ("freeze", "torch_children"),
    [
        (("conv", "unit1"), (0, 1, 2, 4)),  # the stem and the first block: nothing below them needs a gradient
        (("down1",), (6,)),  # a middle block: its input still needs one, its weights none
        (("layers[10]", "unit5.conv2"), (14,)),  # by path (the linear), and one conv with its bn
    ],
    ids=["stem+block", "middle-block", "path+conv"],
)
def test_freeze_equals_requires_grad_false(freeze: tuple[str, ...], torch_children: tuple[int, ...]) -> None:
    module = _frozen_resnet18(torch_children)
    if "unit5.conv2" in freeze:  # nets.resnet18's last Basic: body = conv, bn, relu, conv, bn: its second conv and that bn
        module[11].body[3].requires_grad_(False)
        module[11].body[4].requires_grad_(False)
    report = assert_step(convcost.load(LAYERS / "resnet18.yaml"), module, freeze)
    full = convcost.analyze(convcost.load(LAYERS / "resnet18.yaml"), batch=2, training=True).totals.training
    assert report.totals.training is not None and full is not None
    assert report.totals.training.macs < full.macs
    assert report.frozen == freeze


def test_first_layer_computes_no_input_gradient_and_frozen_layers_none() -> None:
    report = convcost.analyze(convcost.load(LAYERS / "resnet18.yaml"), training=True, freeze=("conv", "unit1"))
    rows = {r.name: r.training for r in report.layers}
    assert rows["conv"] == (0, 0, False, 0) and rows["unit1.conv1"] == (0, 0, False, 0)
    first_trained = rows["unit2.conv1"]
    assert first_trained is not None
    # its input needs no gradient (everything upstream is frozen), its weights do: as many MACs as the forward
    assert first_trained.grad_input == 0 and first_trained.grad_weights == report.layers[
        [r.name for r in report.layers].index("unit2.conv1")].macs  # fmt: skip
    trained = convcost.analyze(convcost.load(LAYERS / "resnet18.yaml"), training=True)
    assert {r.name: r.training for r in trained.layers}["conv"] == (0, 118_013_952, True, 3 * 224 * 224 * 4)


def test_errors_are_one_line() -> None:
    stack = convcost.load(LAYERS / "resnet18.yaml")
    with pytest.raises(convcost.ConvcostError, match="--freeze: takes effect only with --training"):
        convcost.analyze(stack, freeze=("conv",))
    with pytest.raises(convcost.ConvcostError, match="--freeze nosuch: no layer of resnet18"):
        convcost.analyze(stack, training=True, freeze=("nosuch",))
    for args, said in [
        (["--freeze", "conv"], "--freeze: takes effect only with --training"),
        (["--training", "--freeze", "nosuch"], "--freeze nosuch: no layer"),
        (["--training", "--freeze", ","], "--freeze: expected a layer's name"),
    ]:
        result = runner.invoke(app, ["analyze", str(LAYERS / "resnet18.yaml"), *args])
        assert result.exit_code == 2 and said in result.output and len(result.output.strip().splitlines()) == 1, result.output
    two = runner.invoke(app, ["analyze", str(LAYERS / "resnet18.yaml"), str(LAYERS / "vgg16.yaml"), "--training"])
    assert two.exit_code == 2 and "--training: analyze one model at a time" in two.output


def test_freezing_everything_warns() -> None:
    report = convcost.analyze(convcost.load(LAYERS / "kws_tc_resnet8.yaml"), training=True,
                              freeze=("conv", "block1", "block2", "block3", "linear"))  # fmt: skip
    assert report.totals.training == (0, 0, False, 0)
    assert any("freezes every layer with weights" in w for w in report.warnings)


def _cli(*args: str, width: int = 200) -> str:
    result = runner.invoke(app, ["analyze", str(LAYERS / "resnet18.yaml"), "--training", *args], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    return result.output


def test_json_csv_markdown_carry_the_step() -> None:
    report = convcost.analyze(convcost.load(LAYERS / "resnet18.yaml"), training=True, freeze=("conv",))
    t = report.totals
    assert t.training is not None
    data = json.loads(_cli("--freeze", "conv", "--optimizer", "momentum", "-f", "json"))
    trained = t.params - 9408 - 128  # conv and conv.bn frozen
    state = {"optimizer": "momentum", "weights_bytes": 4 * t.params, "gradients_bytes": 4 * trained, "optimizer_state_bytes": 4 * trained,
             "master_weights_bytes": 0}  # fmt: skip
    assert data["training"] == {"forward_macs": t.macs, "grad_input_macs": t.training.grad_input,
                                "grad_weights_macs": t.training.grad_weights, "step_macs": t.macs + t.training.macs,
                                "trained": True, "saved_bytes": t.training.saved, "frozen": ["conv"], **state,
                                "memory_bytes": t.training.saved + 4 * (t.params + 2 * trained)}  # fmt: skip
    # nothing upstream of the frozen stem needs a gradient: it keeps nothing for a backward that never reaches it
    assert data["layers"][0]["training"] == {"forward_macs": 118_013_952, "grad_input_macs": 0, "grad_weights_macs": 0,
                                             "step_macs": 118_013_952, "trained": False, "saved_bytes": 0}  # fmt: skip
    assert "training" not in json.loads(runner.invoke(app, ["analyze", str(LAYERS / "resnet18.yaml"), "-f", "json"]).output)
    rows = list(csv.DictReader(io.StringIO(_cli("-f", "csv"))))
    assert sum(int(r["grad_input_macs"]) for r in rows[:-1]) == int(rows[-1]["grad_input_macs"])
    # conv trained here: its weights' gradient, and unit1.conv1's input gradient (118,013,952 + 115,605,504)
    assert rows[-1]["step_macs"] == str(t.macs + t.training.macs + 118_013_952 + 115_605_504)
    text = _cli("-f", "markdown")
    assert "| layer | forward | ∂input | ∂weights | step | saved | weights |" in text and "training step, batch 1: MACs" in text
    assert "training memory: saved for backward" in text and int(rows[-1]["saved_bytes"]) == sum(int(r["saved_bytes"]) for r in rows[:-1])
    assert rows[0]["training_memory_bytes"] == "" and int(rows[-1]["training_memory_bytes"]) > int(rows[-1]["saved_bytes"])


@pytest.mark.parametrize("width", [80, 200])
def test_table_fits_and_rows_sum(width: int) -> None:
    from convcost.render import table
    from convcost.render.rows import select

    from .test_render import draw

    report = convcost.analyze(convcost.load(LAYERS / "resnet18.yaml"), training=True, freeze=("conv",))
    shown = select(report, None, depth_n=1)
    lines = draw(table.report_table(report, width, None, shown), width)
    assert max(map(len, lines)) <= width
    start = lines.index(next(line for line in lines if line.startswith("training step: MACs per layer")))
    body = lines[start + 1 :]
    assert body[0].split() == ["layer", "forward", "∂input", "∂weights", "step", "saved", "weights"]
    unit1 = next(r for r in shown.report.layers if r.name == "unit1").training
    assert unit1 is not None
    assert next(line for line in body if line.startswith("unit1 ")).split() == ["unit1", "231M", "116M", "231M", "578M",
                                                                               *fmt.nbytes(unit1.saved).split(), "trained"]  # fmt: skip
    assert next(line for line in body if line.startswith("conv ")).split() == ["conv", "118M", "0", "0", "118M", "0", "B", "frozen"]
    assert "frozen: conv" in " ".join(" ".join(lines).split())


def test_merged_rows_sum_their_layers() -> None:
    from convcost.render.rows import select

    report = convcost.analyze(convcost.load(LAYERS / "mobilenet_v2.yaml"), training=True)
    for rows in (select(report, None, folded=True), select(report, None, depth_n=1)):
        merged: Callable[[Any], int] = lambda r: r.training.macs  # noqa: E731
        assert sum(map(merged, rows.report.layers)) == report.totals.training.macs  # type: ignore[union-attr]


def test_readme_quotes_the_step_and_the_budget_holds_it() -> None:
    from .conftest import ROOT

    report = convcost.analyze(convcost.load(LAYERS / "resnet18.yaml"), training=True)
    t = report.totals
    assert t.training is not None
    said = (
        f"forward {t.macs:,} + ∂input {t.training.grad_input:,} + ∂weights\n{t.training.grad_weights:,} = {t.macs + t.training.macs:,} MACs"
    )
    assert said in (ROOT / "README.md").read_text()
    for limit, code in (("6G", 0), ("5.3G", 1)):
        result = runner.invoke(app, ["check", str(LAYERS / "resnet18.yaml"), "--max-training-macs", limit])
        assert result.exit_code == code, result.output
    found = convcost.check(LAYERS / "resnet18.yaml", training_macs="5.4G", batch=2)
    assert [(c.name, c.value, c.ok) for c in found.checks] == [("training_macs", 2 * 5_324_206_080, False)]
    bad = runner.invoke(app, ["check", str(LAYERS / "resnet18.yaml"), "--max-training-macs", "lots"])
    assert bad.exit_code == 2 and "--max-training-macs" in bad.output


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adamw"])
def test_state_equals_torch_optimizers(optimizer: str) -> None:
    """Weights, gradients and optimizer state against torch.optim after one step on the
    hand-written ResNet-18, its stem frozen (only trained weights get gradients and state)."""
    module = _frozen_resnet18((0, 1))
    trained = [p for p in module.parameters() if p.requires_grad]
    make = {"sgd": lambda: torch.optim.SGD(trained, lr=0.1), "momentum": lambda: torch.optim.SGD(trained, lr=0.1, momentum=0.9),
            "adam": lambda: torch.optim.Adam(trained), "adamw": lambda: torch.optim.AdamW(trained)}[optimizer]  # fmt: skip
    opt = make()
    module.train()
    module(torch.randn(2, 3, 64, 64)).sum().backward()
    opt.step()
    state = sum(t.untyped_storage().nbytes() for s in opt.state.values() for t in s.values() if isinstance(t, torch.Tensor))
    report = convcost.analyze(convcost.load(LAYERS / "resnet18.yaml"), training=True, freeze=("conv",), optimizer=optimizer)
    assert report.state is not None
    assert report.state.weights == sum(p.numel() * 4 for p in module.parameters())
    assert report.state.gradients == sum(p.grad.numel() * 4 for p in module.parameters() if p.grad is not None)
    assert (report.state.optimizer_state, report.state.master) == (state, 0)


def test_mixed_precision_keeps_float32_master_weights_and_state() -> None:
    """Under bfloat16 the weights and gradients are 2 bytes, the optimizer works on float32
    master copies of the trained weights and keeps float32 state (torch.amp, Megatron)."""
    stack = convcost.load(LAYERS / "resnet18.yaml")
    wide = convcost.analyze(stack, training=True, optimizer="adam")
    half = convcost.analyze(stack, training=True, optimizer="adam", dtype="bfloat16")
    assert wide.state is not None and half.state is not None and wide.totals.training is not None and half.totals.training is not None
    n = wide.totals.params
    assert (half.state.weights, half.state.gradients, half.state.master) == (2 * n, 2 * n, 4 * n)
    assert half.state.optimizer_state == wide.state.optimizer_state == 8 * n + 4 * 62  # two moments, a step count per tensor
    indices = 64 * 56 * 56 * 8  # the max pool's int64 argmax keeps its 8 bytes
    assert 2 * (half.totals.training.saved - indices) == wide.totals.training.saved - indices


def test_training_memory_flags_and_budget(tmp_path: Path) -> None:
    path = str(LAYERS / "resnet18.yaml")
    for args, said in [(["--optimizer", "adam"], "--optimizer: takes effect only with --training"),
                       (["--training", "--dtype", "int8"], "--training: int8 is an inference type")]:  # fmt: skip
        result = runner.invoke(app, ["analyze", path, *args])
        assert result.exit_code == 2 and said in result.output and len(result.output.strip().splitlines()) == 1, result.output
    report = convcost.analyze(convcost.load(LAYERS / "resnet18.yaml"), training=True, optimizer="adam")
    assert report.state is not None and report.totals.training is not None
    total = report.totals.training.saved + report.state.total
    assert "= 199.6 MiB (209,250,680 B)" in _cli("--optimizer", "adam") and total == 209_250_680
    assert runner.invoke(app, ["check", path, "--max-training-memory", "200MiB", "--optimizer", "adam"]).exit_code == 0
    assert runner.invoke(app, ["check", path, "--max-training-memory", "199MiB", "--optimizer", "adam"]).exit_code == 1
    model = tmp_path / "m.yaml"
    model.write_text("input: [3, 32, 32]\nbudget: {training_memory: 1MiB, optimizer: adamw}\nlayers: [conv: {out: 8, kernel: 3}]\n")
    found = convcost.check(model)
    assert [c.name for c in found.checks] == ["training_memory"] and found.ok
    # saved: the image, 3·32·32·4 = 12,288 B; weights 8·27 + 8 = 224 → 896 B, as many gradients, 2 × 896 + 2 · 4 state
    assert found.checks[0].value == 12_288 + 896 + 896 + 2 * 896 + 8
    bad = runner.invoke(app, ["check", path, "--max-macs", "2G", "--optimizer", "adam"])
    assert bad.exit_code == 2 and "takes effect only with a training_memory limit" in bad.output


@pytest.mark.parametrize("width", [80, 200])
def test_compare_adds_the_step_and_the_plan(width: int) -> None:
    from convcost.analysis.comparison import compare
    from convcost.render.compare import compare_table, summary_rows

    from .test_render import draw

    stack = convcost.load(LAYERS / "resnet18.yaml")
    c = compare(stack, ["separable", "grouped:4"], training=True, optimizer="adam", memory_plan="fused")
    rows = summary_rows(c)
    for row, variant_stack in zip(rows, c.stacks):
        alone = convcost.analyze(variant_stack, training=True, optimizer="adam", memory_plan="fused")
        assert alone.totals.training is not None and alone.state is not None
        step = alone.totals.macs + alone.totals.training.macs
        assert row[-4] == fmt.count(step) and row[-2] == fmt.nbytes(alone.totals.training.saved + alone.state.total)
        assert row[-1] == fmt.nbytes(alone.totals.peak_memory_bytes)
    assert rows[0][-3] == "1" and float(rows[1][-3]) < 0.2  # separable: about an eighth of the step
    lines = draw(compare_table(c, width), width)
    assert max(map(len, lines)) <= width
    data = json.loads(runner.invoke(app, ["compare", str(LAYERS / "resnet18.yaml"), "--training", "-f", "json"]).output)
    assert all("training" in v for v in data["variants"])
    table = list(csv.reader(io.StringIO(runner.invoke(app, ["compare", str(LAYERS / "resnet18.yaml"), "-r", "separable", "--training",
                                                          "--memory-plan", "fused", "-f", "csv"]).output)))  # fmt: skip
    assert table[0][-6:] == ["standard_step_macs", "standard_training_memory_bytes", "standard_peak_memory_bytes",
                             "separable_step_macs", "separable_training_memory_bytes", "separable_peak_memory_bytes"]  # fmt: skip
    assert table[-1][-6] == "5324206080" and table[1][-6:] == [""] * 6
    bad = runner.invoke(app, ["compare", str(LAYERS / "resnet18.yaml"), "--optimizer", "adam"])
    assert bad.exit_code == 2 and "--optimizer: takes effect only with --training" in bad.output
