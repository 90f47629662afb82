"""layers/: every model against an independent truth (hand-written torch nets, papers)."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app

from .conftest import LAYERS, ROOT

runner = CliRunner()
ZOO = sorted(LAYERS.glob("*.yaml"))

# Published figures (REFERENCES.md; the papers' tables): exact where the source is exact.
PUBLISHED = {
    "alexnet": (61_100_840, 714_188_480),
    "vgg16": (138_357_544, 15_470_264_320),
    "resnet18": (11_689_512, 1_814_073_344),
    "resnet50": (25_557_032, 4_089_184_256),
    "mobilenet_v1": (4_231_976, 568_740_352),
    "mobilenet_v2": (3_504_872, 300_774_272),
    "shufflenet_v2": (2_278_604, 144_907_992),
}
# torchvision's documentation: num_params exact, GFLOPS (in fact G MACs) to 3 decimals
TORCHVISION = {
    "mobilenet_v3_large": (5_483_032, 0.217),
    "mobilenet_v3_small": (2_542_856, 0.057),
    "efficientnet_b0": (5_288_548, 0.386),
    "regnet_y_400mf": (4_344_144, 0.402),
    "convnext_tiny": (28_589_128, 4.456),
    "resnext50_32x4d": (25_028_904, 4.230),
    "alexnet": (61_100_840, 0.714),
    "vgg16": (138_357_544, 15.470),
}
# (size, stride, padding) of the feature extractor's field: google-research/receptive_field where
# the layout is the same (VGG-16), autograd support on PyTorch-layout nets otherwise (REFERENCES.md).
FIELDS = {"vgg16": (212, 32, 90), "mobilenet_v1": (315, 32, 157), "resnet18": (435, 32, 217), "shufflenet_v2": (527, 32, 263)}


def header_totals(path: Path) -> tuple[int | None, int | None]:
    """The 'Expected: params N; MACs M' line of a file's header comment."""
    text = " ".join(line.lstrip("# ") for line in path.read_text().splitlines() if line.startswith("#"))
    params = re.search(r"Expected: params ([\d,]+)", text)
    macs = re.search(r"MACs ([\d,]+)", text[params.start() :] if params else text)
    return (int(params.group(1).replace(",", "")) if params else None, int(macs.group(1).replace(",", "")) if macs else None)


@pytest.mark.parametrize("path", ZOO, ids=lambda p: p.stem)
def test_header_names_a_source_and_the_totals(path: Path) -> None:
    params, macs = header_totals(path)
    assert params is not None and macs is not None, f"{path.name}: header lacks 'Expected: params …; MACs …'"
    totals = convcost.analyze(convcost.load(path)).totals
    assert (totals.params, totals.macs) == (params, macs)


def torch_nets() -> dict[str, Any]:
    from . import nets

    return {
        "vgg16": nets.vgg16, "resnet18": nets.resnet18, "resnet50": nets.resnet50, "mobilenet_v1": nets.mobilenet_v1,
        "mobilenet_v1_050": lambda: nets.mobilenet_v1(0.5), "mobilenet_v2": nets.mobilenet_v2, "shufflenet_v2": nets.shufflenet_v2,
        "inception_3a": nets.inception_3a, "densenet121_block1": nets.densenet121_block1, "se_resnet_block": nets.se_resnet_block,
        "deeplab_v3_head": nets.deeplab_v3_head, "unet_decoder": nets.unet, "kws_tc_resnet8": nets.tc_resnet8, "c3d": nets.c3d,
        "channelnet_style": nets.channelnet_style,
        "seed_separable": lambda: __import__("torch").nn.Conv2d(3, 256, 5, bias=False),
        "seed_bottleneck": lambda: __import__("torch").nn.Conv2d(256, 256, 3, padding=1, bias=False),
        "sobel_spatial": nets.sobel_spatial, "depthwise_multiplier": nets.depthwise_multiplier, "resnext_block": nets.ResNeXtUnit,
        "factorize_5x5": lambda: __import__("torch").nn.Conv2d(64, 64, 5, padding=2, bias=False),
        "dilated_rf_3_7_15": lambda: nets.dilated((1, 2, 4)), "gridding_2_2_2": lambda: nets.dilated((2, 2, 2)),
        "hdc_1_2_5": lambda: nets.dilated((1, 2, 5)), "alexnet": nets.alexnet, "resnext50_32x4d": nets.resnext50_32x4d,
        "mobilenet_v3_large": nets.mobilenet_v3_large, "mobilenet_v3_small": nets.mobilenet_v3_small,
        "efficientnet_b0": nets.efficientnet_b0, "regnet_y_400mf": nets.regnet_y_400mf,
        "convnext_tiny": nets.convnext_tiny, "fpn_resnet50": nets.FPNResNet50, "rgbd_fusion": nets.RGBDFusion,
        "yolov8n_pan": nets.YOLOv8nPAN, "hrnet_w18_small_stage3": nets.HRStage,
        "bifpn_d0": nets.BiFPN, "dla34": nets.dla34,
    }  # fmt: skip


def measure(module: Any, *shapes: tuple[int, ...]) -> tuple[int, int, Any]:
    """params, FLOPs and the output shape (a tuple of them for a module returning several)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    module.eval()
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        out = module(*(torch.randn(1, *shape) for shape in shapes))
    shape = tuple(tuple(o.shape[1:]) for o in out) if isinstance(out, tuple) else tuple(out.shape[1:])
    return sum(p.numel() for p in module.parameters()), counter.get_total_flops(), shape


#: a local run holds these three against their torch definitions too (CI holds every one)
LOCAL = ("mobilenet_v1", "resnet18", "shufflenet_v2", "rgbd_fusion")


@pytest.mark.parametrize("path", [pytest.param(p, marks=() if p.stem in LOCAL else pytest.mark.slow) for p in ZOO], ids=lambda p: p.stem)
def test_zoo_equals_an_independent_torch_definition(path: Path) -> None:
    pytest.importorskip("torch")
    stack = convcost.load(path)
    report = convcost.analyze(stack)
    if path.stem == "deformable_head":
        from .nets import deformable_head_parts

        params = flops = 0
        for module, shape in deformable_head_parts():
            p, f, _ = measure(module, shape)
            params, flops = params + p, flops + f
        assert (report.totals.params, report.totals.flops) == (params, flops)
        return
    params, flops, out = measure(torch_nets()[path.stem](), *(shape for _, shape in stack.all_inputs))
    outputs = stack.output_shapes
    assert (report.totals.params, report.totals.flops, outputs if len(outputs) > 1 else outputs[0]) == (params, flops, out)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_figures(name: str) -> None:
    totals = convcost.analyze(convcost.load(LAYERS / f"{name}.yaml")).totals
    assert (totals.params, totals.macs) == PUBLISHED[name]


def test_papers_rounded_figures() -> None:
    def totals(stem: str) -> Any:
        return convcost.analyze(convcost.load(LAYERS / f"{stem}.yaml")).totals

    assert (
        round(totals("mobilenet_v1_050").params / 1e6, 2) == 1.33 and round(totals("mobilenet_v1_050").macs / 1e6) == 149
    )  # Table 6: 1.32 M, 149 M
    assert round(totals("inception_3a").macs / 1e6) == 128  # Table 1: 128M ops
    assert round((totals("inception_3a").params - 368) / 1024) == 160  # 159K in K = 1024, weights only (368 biases)
    # TC-ResNet8: the paper says 66K parameters; this layout gives 65,148 (1.3 % fewer): the
    # paper does not list its batch-norm or bias choices, so only the order of magnitude is shared
    assert abs(totals("kws_tc_resnet8").params - 66_000) / 66_000 < 0.02
    # ChannelNets: the convolutional classification layer replaces GAP + FC, 7×7×25 = 1,225 params
    assert convcost.analyze(convcost.load(LAYERS / "channelnet_style.yaml")).layers[-1].params == 1_225


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_receptive_fields_of_the_classic_nets(name: str) -> None:
    rf = convcost.analyze(convcost.load(LAYERS / f"{name}.yaml")).totals.rf
    assert (rf.size[0], rf.stride[0], rf.padding[0]) == FIELDS[name]


@pytest.mark.parametrize("path", ZOO, ids=lambda p: p.stem)
def test_every_command_runs_on_every_file(path: Path) -> None:
    assert runner.invoke(app, ["analyze", str(path)]).exit_code == 0
    assert runner.invoke(app, ["compare", str(path), "-f", "json"]).exit_code == 0
    assert runner.invoke(app, ["check", str(path), "--max-params", "1G"]).exit_code == 0


@pytest.mark.slow
def test_yolov8n_pan_equals_ultralytics_own_builder() -> None:
    """Where Ultralytics is installed (pip install --no-deps ultralytics opencv-python-headless):
    its own parse_model's rows 0–21 of yolov8n.yaml, run as its ``from`` column routes them."""
    import sys
    import types

    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    torch = pytest.importorskip("torch")
    tasks = pytest.importorskip("ultralytics.nn.tasks")
    from torch.utils.flop_counter import FlopCounterMode

    layers = tasks.DetectionModel("yolov8n.yaml", verbose=False).eval().model[:22]

    def run(x: Any) -> Any:
        y: list[Any] = []
        for layer in layers:
            if layer.f != -1:
                x = y[layer.f] if isinstance(layer.f, int) else [x if j == -1 else y[j] for j in layer.f]
            x = layer(x)
            y.append(x)
        return y[15], y[18], y[21]

    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        outs = run(torch.zeros(1, 3, 640, 640))
    stack = convcost.load(LAYERS / "yolov8n_pan.yaml")
    totals = convcost.analyze(stack).totals
    assert (totals.params, totals.flops) == (sum(p.numel() for p in layers.parameters()), counter.get_total_flops())
    assert stack.output_shapes == tuple(tuple(o.shape[1:]) for o in outs)


@pytest.mark.slow
def test_dla34_equals_timm() -> None:
    """Where timm is installed (pip install --no-deps timm==1.0.31 safetensors): its own dla34."""
    import sys
    import types

    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    pytest.importorskip("torch")
    timm = pytest.importorskip("timm")
    params, flops, out = measure(timm.create_model("dla34"), (3, 224, 224))
    totals = convcost.analyze(convcost.load(LAYERS / "dla34.yaml")).totals
    assert (totals.params, totals.flops, totals.output) == (params, flops, out)


def test_hdc_check_on_the_dilated_zoo() -> None:
    # the DeepLab head's HDC-style stage uses rates 1,2,5 with 3×3 kernels
    assert runner.invoke(app, ["hdc-check", "1,2,5"]).exit_code == 0
    assert runner.invoke(app, ["hdc-check", "6,12,18"]).exit_code == 1  # ASPP rates stacked would grid (gcd 6)
    # checked along every path: the 1,2,5 stage alone reads every offset, and so do its paths through
    # ASPP's 1×1 and rates 6 and 12; through rate 18 the field (53 wide) misses 2 offsets per axis
    # (brute force below: every sum of one tap j·d, j < 3, per layer)
    sums = {0}
    for d in (1, 2, 5, 18):
        sums = {s + j * d for s in sums for j in range(3)}
    assert (max(sums) + 1, max(sums) + 1 - len(sums)) == (53, 2)
    (warning,) = convcost.analyze(convcost.load(LAYERS / "deeplab_v3_head.yaml")).warnings
    assert "(dilation rates 1,2,5,18)" in warning and "2 of 53, 2 of 53 offsets unread" in warning


def test_readme_zoo_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index("<!-- zoo:start -->"), readme.index("<!-- zoo:end -->")
    current = readme[start + len("<!-- zoo:start -->") : end].strip()
    result = runner.invoke(app, ["analyze", *map(str, ZOO), "--format", "markdown"])
    assert result.exit_code == 0
    assert current == result.stdout.strip(), "README zoo table is stale: regenerate with `convcost analyze layers/*.yaml -f markdown`"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "factory", "head", "size", "u"), [("resnet50", "resnet50", 3, 480, 7), ("mobilenet_v2", "mobilenet_v2", 4, 544, 8)]
)
def test_receptive_field_by_autograd_on_the_torch_definition(name: str, factory: str, head: int, size: int, u: int) -> None:
    """Where no table has the layout: the gradient support of one output of the hand-written net
    (max pools swapped for average pools of the same window and activations for identities, so
    that every path counts; weights positive), on an input large enough to hold the field."""
    torch = pytest.importorskip("torch")
    from . import nets

    net = getattr(nets, factory)()
    features = torch.nn.Sequential(*list(net.children())[:-head]).double().eval()
    for parent in list(features.modules()):
        for key, child in parent.named_children():
            if isinstance(child, torch.nn.MaxPool2d):
                setattr(parent, key, torch.nn.AvgPool2d(child.kernel_size, child.stride, child.padding))
            elif isinstance(child, (torch.nn.ReLU, torch.nn.ReLU6)):
                setattr(parent, key, torch.nn.Identity())
    with torch.no_grad():
        for p in features.parameters():
            p.copy_(torch.rand_like(p) + 0.1)
    x = torch.ones(1, 3, size, size, dtype=torch.float64, requires_grad=True)
    features(x)[0, :, u, u].sum().backward()
    rows = torch.nonzero(x.grad[0].abs().sum(0).sum(1)).flatten()
    rf = convcost.analyze(convcost.load(LAYERS / f"{name}.yaml")).totals.rf
    assert (int(rows[-1] - rows[0]) + 1, int(rows[0])) == (rf.size[0], u * rf.stride[0] - rf.padding[0])


def _support(module: Any, shape: tuple[int, ...], u: int) -> Any:
    """Which input positions (per row) reach output (u, u): the gradient support of the hand-
    written torch net, with positive weights and activations as identities."""
    import torch

    module = module.double().eval()
    for parent in list(module.modules()):
        for key, child in parent.named_children():
            if isinstance(child, torch.nn.ReLU):
                setattr(parent, key, torch.nn.Identity())
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand_like(p) + 0.1)
    x = torch.ones(1, *shape, dtype=torch.float64, requires_grad=True)
    module(x)[0, :, u, u].sum().backward()
    return x.grad[0].abs().sum(0) > 0


@pytest.mark.parametrize(("stem", "rates", "size", "holes"), [("dilated_rf_3_7_15", (1, 2, 4), 15, 0),
                                                              ("gridding_2_2_2", (2, 2, 2), 13, 6), ("hdc_1_2_5", (1, 2, 5), 17, 0)])  # fmt: skip
def test_dilated_zoo_fields_and_holes_by_autograd(stem: str, rates: tuple[int, ...], size: int, holes: int) -> None:
    """Seed 003's fields 3, 7, 15 and the gridding of 2,2,2, from the torch net's gradient support:
    analyze's field, coverage and warning must agree with it."""
    pytest.importorskip("torch")
    from . import nets

    support = _support(nets.dilated(rates), (64, 64, 64), 32)
    rows = support.any(1).nonzero().flatten()
    field = int(rows[-1] - rows[0]) + 1
    read_per_axis = int(support[32].sum())  # the centre row of a square footprint
    report = convcost.analyze(convcost.load(LAYERS / f"{stem}.yaml"))
    assert (field, field - read_per_axis) == (size, holes)
    assert report.totals.rf.size == (size, size) and report.totals.coverage == Fraction(read_per_axis, size) ** 2
    assert bool(report.warnings) == (holes > 0)
    if stem == "dilated_rf_3_7_15":
        assert [r.rf.size[0] for r in report.layers if r.kind == "conv"] == [3, 7, 15]


def test_sobel_file_equals_the_3x3_sobel_on_torch() -> None:
    """Seed 000: the zoo's 3×1 then 1×3 stack, given the weights [1, 2, 1]ᵀ and [-1, 0, 1], is the
    3×3 Sobel conv — built from the file by convcost's torch backend."""
    torch = pytest.importorskip("torch")
    from convcost.backends.torch_build import build

    module = build(convcost.load(LAYERS / "sobel_spatial.yaml")).eval()
    weights = [p for p in module.parameters()]
    with torch.no_grad():
        weights[0].copy_(torch.tensor([1.0, 2.0, 1.0]).reshape(1, 1, 3, 1))
        weights[1].copy_(torch.tensor([-1.0, 0.0, 1.0]).reshape(1, 1, 1, 3))
        x = torch.randn(1, 1, 64, 64)
        sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]).reshape(1, 1, 3, 3)
        assert torch.allclose(module(x), torch.nn.functional.conv2d(x, sobel, padding=1), atol=1e-5)


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_torchvision_documented_figures(name: str) -> None:
    totals = convcost.analyze(convcost.load(LAYERS / f"{name}.yaml")).totals
    params, gmacs = TORCHVISION[name]
    assert totals.params == params and round(totals.macs / 1e9, 3) == gmacs
