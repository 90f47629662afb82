"""convcost import (torch.fx, ONNX) and convcost export (PyTorch source), held against torch's own
counts: sum(p.numel()), FlopCounterMode / 2 and the output shape of the model that was imported
or exported — never against convcost's YAML."""

from __future__ import annotations

import sys
import types
import warnings
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from convcost.analysis.report import analyze
from convcost.cli import app
from convcost.errors import ConvcostError
from convcost.yamlio.spec import load, loads

from .conftest import LAYERS, ROOT

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from convcost.interop import aten_ops  # noqa: E402
from convcost.interop.export import source  # noqa: E402
from convcost.interop.read import to_yaml  # noqa: E402

from . import nets  # noqa: E402

runner = CliRunner()


def truth(model: nn.Module, *shapes: tuple[int, ...]) -> tuple[int, int, Any]:
    """params, MACs (FlopCounterMode / 2) and output shape (a tuple of them for several), by torch."""
    model = model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        y = model(*(torch.zeros(1, *shape) for shape in shapes))
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    shape = tuple(tuple(o.shape[1:]) for o in y) if isinstance(y, tuple) else tuple(y.shape[1:])
    return sum(p.numel() for p in model.parameters()), flops // 2, shape


def counted(text: str) -> tuple[int, int, Any]:
    """params, MACs and the output shape (a tuple of them for several outputs) of a YAML text."""
    stack = loads(text)
    report = analyze(stack)
    outputs = stack.output_shapes
    return report.totals.params, report.totals.macs, outputs if len(outputs) > 1 else outputs[0]


def outputs_of(stack: Any) -> Any:
    outputs = stack.output_shapes
    return outputs if len(outputs) > 1 else outputs[0]


def imported(model: nn.Module, shape: tuple[int, ...]) -> str:
    return to_yaml(aten_ops.read(model, shape), "model", "")


# (factory, input): every net written from its paper in tests/nets.py that imports
TORCH_NETS = [
    pytest.param(nets.resnet50, (3, 96, 96), marks=pytest.mark.slow),
    (nets.resnet18, (3, 64, 64)),
    (nets.mobilenet_v2, (3, 96, 96)),
    (nets.densenet121_block1, (64, 28, 28)),
    (nets.inception_3a, (192, 28, 28)),
    (nets.unet, (1, 64, 64)),
    (nets.se_resnet_block, (256, 28, 28)),
    (nets.shufflenet_v2, (3, 96, 96)),
    pytest.param(nets.mobilenet_v3_large, (3, 96, 96), marks=pytest.mark.slow),
    pytest.param(nets.efficientnet_b0, (3, 96, 96), marks=pytest.mark.slow),
    pytest.param(nets.regnet_y_400mf, (3, 96, 96), marks=pytest.mark.slow),
    (nets.convnext_tiny, (3, 64, 64)),
    pytest.param(nets.resnext50_32x4d, (3, 64, 64), marks=pytest.mark.slow),
    pytest.param(nets.vgg16, (3, 64, 64), marks=pytest.mark.slow),
    (nets.tc_resnet8, (40, 101)),
    pytest.param(nets.mobilenet_v1, (3, 96, 96), marks=pytest.mark.slow),
    pytest.param(nets.c3d, (3, 16, 112, 112), marks=pytest.mark.slow),  # its classifier fixes the input size
    pytest.param(nets.deeplab_v3_head, (1024, 33, 33), marks=pytest.mark.slow),
]


def _ids(cases: list[Any]) -> list[str]:
    return [(c.values[0] if hasattr(c, "values") else c[0]).__name__ for c in cases]


@pytest.mark.parametrize(("factory", "shape"), TORCH_NETS, ids=_ids(TORCH_NETS))
def test_torch_import_counts_what_torch_counts(factory: Any, shape: tuple[int, ...]) -> None:
    model = factory()
    text = imported(model, shape)
    assert counted(text) == truth(model, shape)
    modules = dict(model.named_modules())
    names = [r.name for r in analyze(loads(text)).layers if r.kind in ("conv", "pwconv", "dwconv", "linear", "bn", "convtranspose")]
    assert names and all(n in modules for n in names), [n for n in names if n not in modules][:3]  # the user's own module names


def test_import_keeps_torchvision_names_and_nests_long_skips() -> None:
    sys.path.insert(0, str(ROOT / "examples" / "import"))
    try:
        import torch_models  # type: ignore[import-not-found]  # examples/import, on sys.path here
    finally:
        sys.path.pop(0)
    text = imported(torch_models.resnet18(), (3, 224, 224))
    assert counted(text) == (11_689_512, 1_814_073_344, (1000,))  # torchvision's published resnet18 figures
    names = [r.name for r in analyze(loads(text)).layers]
    assert names[:4] == ["conv1", "bn1", "relu", "maxpool"] and "layer2.1.conv2" in names and "layer2.0.downsample.0" in names
    unet = torch_models.unet()
    text = imported(unet, (1, 128, 128))
    assert counted(text) == truth(unet, (1, 128, 128))
    assert text.count("concat:") == 2  # the encoder's features reach the decoder through nested concats


def test_densenet_feature_lists_read_as_chained_concats() -> None:
    class Dense(nn.Module):  # torchvision _DenseBlock: every layer reads cat(all earlier features)
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(
                nn.Sequential(nn.BatchNorm2d(16 + 8 * i), nn.ReLU(), nn.Conv2d(16 + 8 * i, 8, 3, padding=1, bias=False)) for i in range(4)
            )

        def forward(self, x: Any) -> Any:
            features = [x]
            for layer in self.layers:
                features.append(layer(torch.cat(features, 1)))
            return torch.cat(features, 1)

    model = Dense()
    text = imported(model, (16, 20, 20))
    assert counted(text) == truth(model, (16, 20, 20)) and text.count("concat:") == 4


def test_a_skip_that_does_not_nest_imports_with_from() -> None:
    """Once refused ("a long skip"): the graph is written flat, each layer reading its producer."""

    class Crossing(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b, self.c = nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 1)

        def forward(self, x: Any) -> Any:
            a = self.a(x)
            return torch.cat([a + self.b(x), self.c(a)], 1)

    text = imported(Crossing(), (4, 8, 8))
    assert "from: [a, b]" in text.replace("from: [b, a]", "from: [a, b]") and "from: a" in text
    assert counted(text) == truth(Crossing(), (4, 8, 8))


class Rolled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv, self.head = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 4, 1)

    def forward(self, x: Any) -> Any:
        return self.head(torch.roll(self.conv(x), 1, 2))


def test_unknown_ops_are_refused_or_marked_uncounted(tmp_path: Path) -> None:
    with pytest.raises(ConvcostError, match="roll 'roll' has no convcost kind.*--allow-unknown"):
        imported(Rolled(), (3, 16, 16))
    text = to_yaml(aten_ops.read(Rolled(), (3, 16, 16), allow_unknown=True), "rolled", "")
    report = analyze(loads(text))
    assert [r.kind for r in report.layers] == ["conv", "unknown", "pwconv"]
    assert report.totals.params == 224 + 36 and any("roll: op aten.roll is not counted" in w for w in report.warnings)
    path = tmp_path / "rolled.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["analyze", str(path), "--execute"])
    assert result.exit_code == 2 and "unknown" in result.stderr and "Traceback" not in result.stderr


def test_reshape_flatten_layer_scale_and_padding_map_to_kinds() -> None:
    class Mixed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, stride=2, bias=False)
            self.gamma = nn.Parameter(torch.ones(8, 1, 1))
            self.pool = nn.MaxPool2d(2, ceil_mode=True)
            self.fc = nn.Linear(8 * 4 * 4, 10)

        def forward(self, x: Any) -> Any:
            y = self.conv(nn.functional.pad(x, (0, 1, 0, 1)))  # TensorFlow's 'same' for stride 2
            y = self.pool(self.gamma * nn.functional.hardtanh(y, 0.0, 6.0))
            return nn.functional.softmax(self.fc(y.view(y.size(0), -1)), dim=1)

    model = Mixed()
    text = imported(model, (3, 15, 15))
    assert counted(text) == truth(model, (3, 15, 15))
    kinds = [r.kind for r in analyze(loads(text)).layers]
    assert kinds == ["conv", "relu6", "layerscale", "maxpool", "flatten", "linear", "softmax"]
    assert next(iter(loads(text).layers)).op.padding == ((0, 1), (0, 1))  # F.pad before the conv is the conv's own padding


# ---- export ---------------------------------------------------------------------------------


def built(path: Path) -> tuple[Any, Any]:
    stack = load(path)
    report = analyze(stack)
    module = types.ModuleType("exported")
    exec(compile(source(stack, path.name, (report.totals.params, report.totals.macs)), str(path), "exec"), module.__dict__)  # noqa: S102 — the file under test
    return stack, module.build()


ZOO = sorted(LAYERS.glob("*.yaml"))
HEAVY = {"vgg16", "c3d", "alexnet", "deeplab_v3_head", "resnet50", "resnext50_32x4d"}  # seconds each in torch: CI runs them


def _zoo() -> list[Any]:
    return [pytest.param(p, marks=pytest.mark.slow) if p.stem in HEAVY else p for p in ZOO]


@pytest.mark.parametrize("path", _zoo(), ids=[p.stem for p in ZOO])
def test_export_builds_what_convcost_counted(path: Path) -> None:
    """YAML → export → torch: torch's params, FLOPs / 2 and output shape are the analysis's."""
    stack, model = built(path)
    report = analyze(stack)
    outputs = stack.output_shapes
    shapes = (shape for _, shape in stack.all_inputs)
    assert truth(model, *shapes) == (report.totals.params, report.totals.macs, outputs if len(outputs) > 1 else outputs[0])


SEVERAL_INPUTS = {"rgbd_fusion", "hrnet_w18_small_stage3", "bifpn_d0"}  #: a model of several inputs: the importers read one
UNTRACEABLE = {"channelnet_style", "deformable_head"}  # channel-wise convs and deformable sampling: ops with no kind


@pytest.mark.slow
@pytest.mark.parametrize("path", ZOO, ids=[p.stem for p in ZOO])
def test_export_then_import_gives_the_same_numbers(path: Path) -> None:
    stack, model = built(path)
    report = analyze(stack)
    if path.stem in UNTRACEABLE:
        with pytest.raises(
            ConvcostError, match="aten.(view|select) '[^']*' has no convcost kind: (a reshape from|ATen op aten.select has no entry)"
        ):
            imported(model, stack.input)
        return
    if path.stem in SEVERAL_INPUTS:  # the importers read one input
        names = ", ".join(name for name, _ in stack.all_inputs)
        with pytest.raises(ConvcostError, match=rf"takes {len(stack.all_inputs)} inputs \({names}\); convcost imports models of one input"):
            imported(model, stack.input)
        return
    assert counted(imported(model, stack.input)) == (report.totals.params, report.totals.macs, outputs_of(stack))


def test_exported_source_reads_like_pytorch(tmp_path: Path) -> None:
    out = tmp_path / "resnet18.py"
    result = runner.invoke(app, ["export", str(LAYERS / "resnet18.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert "def build() -> nn.Module:" in text and "class Resnet18(nn.Module):" in text
    assert "self.down1_conv1 = nn.Conv2d(64, 128, 3, stride=2, padding=1, bias=False)" in text
    assert "x = self.down1_shortcut_conv(x)" in text and "x = y3 + x  # down1.residual" in text and "import convcost" not in text
    assert max(len(line) for line in text.splitlines()) < 160
    result = runner.invoke(app, ["export", str(LAYERS / "resnet18.yaml"), "-o", str(LAYERS / "resnet18.yaml")])
    assert result.exit_code == 2 and "input model" in result.stderr


def test_export_of_rewritten_design(tmp_path: Path) -> None:
    """compare --emit-yaml + export: the rewritten network as code, with the rewrite's counts."""
    result = runner.invoke(app, ["compare", str(LAYERS / "mobilenet_v2.yaml"), "-r", "grouped:4", "--emit-yaml", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    (rewritten,) = tmp_path.glob("*.yaml")
    stack, model = built(rewritten)
    report = analyze(stack)
    assert truth(model, stack.input) == (report.totals.params, report.totals.macs, tuple(stack.output))


# ---- ONNX -----------------------------------------------------------------------------------


def onnx_of(model: nn.Module, shape: tuple[int, ...], path: Path, keep_bn: bool = True) -> Path:
    pytest.importorskip("onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mode = torch.onnx.TrainingMode.TRAINING if keep_bn else torch.onnx.TrainingMode.EVAL
        # batch 2: batch norm in training mode needs more than one value per channel
        torch.onnx.export(model.eval(), (torch.zeros(2, *shape),), str(path), dynamo=False, training=mode)
    return path


def onnx_imported(path: Path, shape: tuple[int, ...] | None = None) -> str:
    from convcost.interop import from_onnx

    return to_yaml(from_onnx.read(str(path), shape), "model", "")


ONNX_NETS = [
    (nets.resnet18, (3, 64, 64)),
    pytest.param(nets.mobilenet_v2, (3, 64, 64), marks=pytest.mark.slow),
    (nets.densenet121_block1, (64, 16, 16)),
    (nets.inception_3a, (192, 14, 14)),
    (nets.unet, (1, 32, 32)),
    pytest.param(nets.se_resnet_block, (256, 14, 14), marks=pytest.mark.slow),
    pytest.param(nets.efficientnet_b0, (3, 64, 64), marks=pytest.mark.slow),
    pytest.param(nets.mobilenet_v3_large, (3, 64, 64), marks=pytest.mark.slow),
    (nets.tc_resnet8, (40, 101)),
    pytest.param(nets.regnet_y_400mf, (3, 64, 64), marks=pytest.mark.slow),
    (nets.convnext_tiny, (3, 64, 64)),
    (nets.shufflenet_v2, (3, 64, 64)),  # chunk as Slice with bounds computed from Shape(x): folded
]


@pytest.mark.parametrize(("factory", "shape"), ONNX_NETS, ids=_ids(ONNX_NETS))
def test_onnx_import_counts_what_torch_counts(factory: Any, shape: tuple[int, ...], tmp_path: Path) -> None:
    model = factory()
    path = onnx_of(model, shape, tmp_path / "m.onnx")
    assert counted(onnx_imported(path)) == truth(model, shape)


def test_onnx_with_batch_norm_folded_into_convs(tmp_path: Path) -> None:
    """An eval-mode export folds each BN into its conv: the MACs stay, each BN's 2·C params
    become C conv biases."""
    model = nets.resnet18()
    path = onnx_of(model, (3, 64, 64), tmp_path / "m.onnx", keep_bn=False)
    params, macs, shape = truth(model, (3, 64, 64))
    folded = sum(m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    text = onnx_imported(path)
    assert counted(text) == (params - folded, macs, shape) and "bn:" not in text


@pytest.mark.parametrize("path", [LAYERS / f"{n}.yaml" for n in ("resnet18", "shufflenet_v2", "unet_decoder", "inception_3a", "kws_tc_resnet8")],
                         ids=lambda p: p.stem)  # fmt: skip
def test_export_onnx_import_round_trip(path: Path, tmp_path: Path) -> None:
    stack, model = built(path)
    report = analyze(stack)
    onnx_file = onnx_of(model, stack.input, tmp_path / "m.onnx")
    assert counted(onnx_imported(onnx_file)) == (report.totals.params, report.totals.macs, outputs_of(stack))


def test_bundled_onnx_example_without_weights(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    bundled = ROOT / "examples" / "import" / "resnet18.onnx"
    assert bundled.stat().st_size < 100_000  # the graph and weights' shapes only
    assert counted(onnx_imported(bundled)) == (11_689_512, 1_814_073_344, (1000,))
    sys.path.insert(0, str(bundled.parent))
    try:
        import torch_models  # type: ignore[import-not-found]  # examples/import, on sys.path here
    finally:
        sys.path.pop(0)
    assert counted(onnx_imported(bundled, (3, 112, 112))) == truth(torch_models.resnet18(), (3, 112, 112))  # --input overrides the graph's
    result = runner.invoke(app, ["import", str(bundled), "-o", str(tmp_path / "r.yaml")])
    assert result.exit_code == 0 and (tmp_path / "r.yaml").read_text().startswith("# Imported by convcost")


# ---- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tests/nets.py:resnet18"], "needs --input C,H,W"),
        (["tests/nets.py:resnet18", "-i", "3,x"], "--input '3,x': expected C,H,W"),
        (["tests/nets.py:resnet18", "-i", "100000,100000,100000"], "may have at most 268,435,456"),
        (["tests/nets.py:nope", "-i", "3,32,32"], "has no callable 'nope'"),
        (["tests/missing.py:f", "-i", "3,32,32"], "no such Python file"),
        (["tests/nets.py:conv_bn", "-i", "3,32,32"], "building the model raised TypeError"),
        (["tests/nets.py:channelnet_style", "-i", "3,224,224"], "has no convcost kind: a reshape from"),
        (["tests/nets.py:resnet18", "-i", "5,32,32"], "the model fails on this input"),
        (["README.md"], "expected FILE.onnx, FILE.py:FACTORY"),
        (["torch.nn:Identity", "-i", "3,8,8"], "the model has no layers"),
        (["torch.nn:Module", "-i", "3,8,8"], 'missing the required "forward" function'),
        (["README.md.onnx"], "no such file"),
        (["missing.onnx"], "no such file"),
    ],
)
def test_import_errors_are_one_line(args: list[str], message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["import", *args])
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_import_by_module_path_writes_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "r.yaml"
    result = runner.invoke(app, ["import", "tests.nets:resnet18", "--input", "3,32,32", "-o", str(out), "--name", "r18"])
    assert result.exit_code == 0, result.stderr
    assert load(out).name == "r18" and counted(out.read_text()) == truth(nets.resnet18(), (3, 32, 32))


def test_without_the_extras_the_commands_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import convcost.interop

    for module in ("onnx", "convcost.interop.from_onnx"):
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.delattr(convcost.interop, "from_onnx", raising=False)
    monkeypatch.delattr(convcost.interop, "from_torch", raising=False)
    monkeypatch.delattr(convcost.interop, "export", raising=False)
    result = runner.invoke(app, ["import", str(ROOT / "examples" / "import" / "resnet18.onnx")])
    assert result.exit_code == 2 and "pip install 'convcost[onnx]'" in result.stderr
    for module in ("torch", "convcost.interop.from_torch", "convcost.interop.export"):
        monkeypatch.setitem(sys.modules, module, None)
    result = runner.invoke(app, ["import", "tests/nets.py:resnet18", "-i", "3,32,32"])
    assert result.exit_code == 2 and "pip install 'convcost[torch]'" in result.stderr
    result = runner.invoke(app, ["export", str(LAYERS / "resnet18.yaml")])
    assert result.exit_code == 2 and "pip install 'convcost[torch]'" in result.stderr


def test_names_as_written() -> None:
    text = """
input: [3, 8, 8]
names: as-written
layers:
  - concat:
      name: stem.cat
      branches:
        - [conv: {name: stem.a, out: 4, kernel: 1}]
        - [conv: {out: 4, kernel: 1}]
"""
    names = [r.name for r in analyze(loads(text)).layers]
    assert names == ["stem.a", "stem.cat.branch2.conv", "stem.cat"]  # explicit names as written; automatic ones keep their namespace
    with pytest.raises(ConvcostError, match="names: expected one of nested, as-written"):
        loads("input: [3, 8, 8]\nnames: flat\nlayers: [relu]")


@pytest.mark.slow
@pytest.mark.parametrize("path", ZOO, ids=[p.stem for p in ZOO])
def test_every_zoo_model_through_onnx(path: Path, tmp_path: Path) -> None:
    """YAML → export → torch.onnx → import: the same params, MACs and output shape, or (channel-wise
    and deformable convs, which ONNX spells as pads and gathers) one clear refusal."""
    stack, model = built(path)
    report = analyze(stack)
    if path.stem in SEVERAL_INPUTS:  # the importers read one input
        return
    onnx_file = onnx_of(model, stack.input, tmp_path / "m.onnx")
    if path.stem in UNTRACEABLE:
        with pytest.raises(ConvcostError, match=r"^(Reshape|Gather) '[^']*'(:| has no convcost kind:) (op Gather|a reshape from)"):
            onnx_imported(onnx_file)
        return
    assert counted(onnx_imported(onnx_file)) == (report.totals.params, report.totals.macs, outputs_of(stack))


def test_onnx_constants_of_other_ops_are_not_params(tmp_path: Path) -> None:
    """Clip's bounds stored as float initializers (as some exporters write ReLU6) are not learned:
    the conv's 8·3·3·3 + 8 weights are the only params."""
    onnx = pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(np.zeros((8, 3, 3, 3), np.float32), "w"), numpy_helper.from_array(np.zeros(8, np.float32), "b"),
             numpy_helper.from_array(np.array(0.0, np.float32), "lo"), numpy_helper.from_array(np.array(6.0, np.float32), "hi")]  # fmt: skip
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["x", "w", "b"], ["c"], name="/conv/Conv", pads=[1, 1, 1, 1]),
            helper.make_node("Clip", ["c", "lo", "hi"], ["y"], name="/act/Clip"),
        ],  # fmt: skip
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16, 16])],
        inits,
    )
    path = tmp_path / "clip.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    text = onnx_imported(path)
    assert counted(text) == (8 * 27 + 8, 8 * 27 * 16 * 16, (8, 16, 16)) and "relu6" in text


# ---- what only the ATen route reads ---------------------------------------------------------


class Functional(nn.Module):
    """What torch.fx could not read: "same" padding computed from the input's shape (timm's
    Conv2dSame), a weight standardised at run time (NFNet), ``F.batch_norm`` (timm's
    BatchNormAct2d), a scale by a number, and unequal channel groups."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(8, 3, 3, 3))
        self.gain = nn.Parameter(torch.ones(8, 1, 1, 1))
        self.bn_weight, self.bn_bias = nn.Parameter(torch.ones(8)), nn.Parameter(torch.zeros(8))
        self.register_buffer("mean", torch.zeros(8))
        self.register_buffer("var", torch.ones(8))
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x: Any) -> Any:
        h, w = x.shape[-2:]
        pad_h, pad_w = max((-(-h // 2) - 1) * 2 + 3 - h, 0), max((-(-w // 2) - 1) * 2 + 3 - w, 0)
        x = torch.nn.functional.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        weight = (self.weight - self.weight.mean((1, 2, 3), keepdim=True)) / self.weight.std((1, 2, 3), keepdim=True)
        x = torch.nn.functional.conv2d(x, weight * self.gain, stride=2)
        x = torch.relu(torch.nn.functional.batch_norm(x, self.mean, self.var, self.bn_weight, self.bn_bias)) * 1.7
        a, b = torch.split(x, [3, 5], dim=1)
        x = torch.cat([b / 2, a], dim=1)[:, 1:7]
        return self.head(torch.cat([x, x[:, :2]], dim=1))


def test_the_aten_route_reads_what_forward_computes() -> None:
    text = imported(Functional(), (3, 15, 16))
    assert counted(text) == truth(Functional(), (3, 15, 16))
    kinds = [r.kind for r in analyze(loads(text)).layers]
    assert kinds[:5] == ["conv", "layerscale", "bn", "relu", "scale"], kinds  # the gain: a scale per output channel
    assert {"slice", "concat"} <= set(kinds) and "unknown" not in kinds


class Attention(nn.Module):
    """A product of two tensors of the model (as attention computes), on a 1-D input."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.head = nn.Conv1d(3, 8, 3, padding=1), nn.Conv1d(8, 4, 1)

    def forward(self, x: Any) -> Any:
        y = self.conv(x)  # [1, 8, 16]
        return self.head(torch.bmm(y, y.transpose(1, 2)))  # [1, 8, 8] → [1, 4, 8]


def test_unknown_layers_keep_torchs_own_flop_count() -> None:
    with pytest.raises(ConvcostError, match=r"^aten.bmm 'bmm' has no convcost kind: .*--allow-unknown"):
        imported(Attention(), (3, 16))
    ops = aten_ops.read(Attention(), (3, 16), allow_unknown=True)
    report = analyze(loads(to_yaml(ops, "m", "")))
    assert [r.kind for r in report.layers] == ["conv", "unknown", "pwconv"]
    assert (report.totals.params, report.totals.macs, report.layers[-1].output) == truth(Attention(), (3, 16))
    assert report.layers[1].macs == 8 * 16 * 8  # bmm by torch's own formula: FLOPs ÷ 2
    assert ops.notes == ["ops with no convcost kind, written as unknown: aten.bmm ×1"]
    assert any("bmm: op aten.bmm (1,024 MACs by torch's own count) has no convcost kind" in w for w in report.warnings)


class Parts(nn.Module):
    """Unequal channel groups, a scale by a number, a division by one, a learned number."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.head = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(7, 4, 1)
        self.gain = nn.Parameter(torch.ones(1))

    def forward(self, x: Any) -> Any:
        a, b = torch.split(self.conv(x) * 1.7, [3, 5], dim=1)
        return self.head(torch.cat([b / 2, a[:, 1:3] * self.gain], dim=1))


@pytest.mark.parametrize("route", ["torch", "onnx"])
def test_slices_and_scales_import_from_both_readers(route: str, tmp_path: Path) -> None:
    text = imported(Parts(), (3, 8, 8)) if route == "torch" else onnx_imported(onnx_of(Parts(), (3, 8, 8), tmp_path / "p.onnx"))
    assert counted(text) == truth(Parts(), (3, 8, 8))
    report = analyze(loads(text))
    scales = [(r.kind, r.params) for r in report.layers if r.kind in ("scale", "slice")]
    assert sorted(scales) == [("scale", 0), ("scale", 0), ("scale", 1), ("slice", 0), ("slice", 0), ("slice", 0)], scales
    assert "by: 0.5" in text and "by: 1.7" in text and "learned: true" in text


def dynamo_of(model: nn.Module, shape: tuple[int, ...], path: Path) -> Path:
    """The default exporter since torch 2.9 (``dynamo=True``), unoptimised: its optimiser folds
    every batch norm into the conv before it, as the legacy exporter does in eval mode."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    import contextlib
    import io
    import logging

    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            torch.onnx.export(model.eval(), (torch.zeros(1, *shape),), str(path), dynamo=True, optimize=False)
    finally:
        logging.disable(logging.NOTSET)
    return path


DYNAMO_NETS = [(nets.resnet18, (3, 32, 32)), (nets.mobilenet_v3_large, (3, 32, 32)), (nets.efficientnet_b0, (3, 32, 32)),
               (nets.inception_3a, (192, 14, 14)), (nets.unet, (1, 32, 32)), (nets.densenet121_block1, (64, 16, 16)),
               (nets.se_resnet_block, (256, 14, 14)), (nets.regnet_y_400mf, (3, 32, 32))]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("factory", "shape"), DYNAMO_NETS, ids=_ids(DYNAMO_NETS))
def test_both_onnx_exporters_give_what_torch_counts(factory: Any, shape: tuple[int, ...], tmp_path: Path) -> None:
    want = truth(factory(), shape)
    assert counted(onnx_imported(dynamo_of(factory(), shape, tmp_path / "dynamo.onnx"))) == want
    assert counted(onnx_imported(onnx_of(factory(), shape, tmp_path / "legacy.onnx"))) == want


@pytest.mark.slow
@pytest.mark.parametrize("where", ["factory", "forward"])
def test_a_model_that_hangs_stops_on_ctrl_c_with_130(where: str, tmp_path: Path) -> None:
    import signal
    import subprocess
    import time

    path = tmp_path / "hangs.py"
    path.write_text(
        "import time\nimport torch\n\n"
        "class Hangs(torch.nn.Module):\n    def forward(self, x):\n        while True:\n            time.sleep(0.05)\n\n"
        f"def make():\n    {'time.sleep(3600)' if where == 'factory' else 'pass'}\n    return Hangs()\n"
    )
    proc = subprocess.Popen([sys.executable, "-m", "convcost", "import", f"{path}:make", "-i", "3,8,8"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)  # fmt: skip
    time.sleep(6)  # torch is imported and the model is building or running
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and out == b"" and b"Traceback" not in err, err
