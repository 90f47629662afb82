"""--execute: numpy and torch agree numerically; shapes confirmed; timings; clear errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

import convcost
from convcost.backends.execute import execute, merge_into, run_once
from convcost.cli import app

from .conftest import LAYERS
from .test_kinds import KIND_CASES

runner = CliRunner()
SMALL = str(LAYERS / "seed_separable.yaml")


def has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@pytest.mark.parametrize("case", sorted(KIND_CASES))
def test_numpy_and_torch_agree_for_every_kind(case: str) -> None:
    pytest.importorskip("torch")
    shape, layers = KIND_CASES[case].split("|")
    stack = convcost.loads(f"input: {shape}\nlayers: [{layers}]")
    a = run_once(stack, "numpy", seed=3, batch=2)
    b = run_once(stack, "torch", seed=3, batch=2)
    assert a.shape == b.shape == (2, *stack.output)
    np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-4)


ZOO_RUNS = ["mobilenet_v2", "shufflenet_v2", "unet_decoder", "kws_tc_resnet8", "channelnet_style", "inception_3a", "sobel_spatial",
            "depthwise_multiplier", "resnext_block", "factorize_5x5", "dilated_rf_3_7_15", "gridding_2_2_2", "hdc_1_2_5",
            "mobilenet_v3_large", "mobilenet_v3_small", "alexnet", "efficientnet_b0", "regnet_y_400mf", "convnext_tiny", "resnext50_32x4d"]  # fmt: skip
LOCAL_RUNS = ("inception_3a", "resnext_block", "kws_tc_resnet8")  #: a local run executes these on both backends too (CI: every one)


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in LOCAL_RUNS else pytest.mark.slow) for n in ZOO_RUNS])
def test_numpy_and_torch_agree_on_zoo_models(name: str) -> None:
    pytest.importorskip("torch")
    stack = convcost.load(LAYERS / f"{name}.yaml")
    a, b = run_once(stack, "numpy", seed=1), run_once(stack, "torch", seed=1)
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3 * float(np.abs(b).max()))


def test_sobel_is_spatially_separable() -> None:
    """Seed 000: the Sobel 3×3 kernel equals a 3×1 conv [1, 2, 1]ᵀ followed by a 1×3 conv [-1, 0, 1]."""
    from convcost.ops import numpy_ops as ops

    x = np.random.default_rng(0).standard_normal((1, 1, 16, 16)).astype(np.float32)
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32).reshape(1, 1, 3, 3)
    full = ops.conv(x, sobel, None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    tall = ops.conv(x, np.array([1, 2, 1], dtype=np.float32).reshape(1, 1, 3, 1), None, (1, 1), ((1, 1), (0, 0)), (1, 1), 1)
    both = ops.conv(tall, np.array([-1, 0, 1], dtype=np.float32).reshape(1, 1, 1, 3), None, (1, 1), ((0, 0), (1, 1)), (1, 1), 1)
    np.testing.assert_allclose(full, both, atol=1e-5)
    # and the analysis: the spatial rewrite of a 3×3 conv keeps its shape and costs 2/3
    stack = convcost.loads("input: [1, 16, 16]\nlayers: [conv: {out: 1, kernel: 3, padding: 1, bias: false}]")
    from fractions import Fraction

    from convcost.analysis.comparison import compare

    assert compare(stack, ["spatial"]).ratio(1) == Fraction(2, 3)


def test_execute_confirms_shapes_and_times_every_layer() -> None:
    stack = convcost.load(LAYERS / "resnet18.yaml")
    report = convcost.analyze(stack, batch=2)
    timing = execute(stack, report, backend_name="numpy", warmup=0, repeat=2)
    merged, wrong = merge_into(report, timing)
    assert wrong == [] and timing.batch == 2 and len(timing.total_ms) == 2
    assert all(r.measured["shape_ok"] and r.measured["ms_min"] <= r.measured["ms_median"] <= r.measured["ms_max"] for r in merged.layers)
    assert merged.totals.measured["sum_layers_ms"] > 0 and merged.layers[0].measured["gmacs_per_s"] > 0


def test_a_shape_mismatch_exits_1_naming_the_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    from convcost.backends import numpy_backend

    original = numpy_backend.compile_leaf

    def broken(op, shape, w):  # type: ignore[no-untyped-def]
        fn = original(op, shape, w)
        return (lambda x: fn(x)[:, :, :-1]) if op.kind == "conv" else fn

    monkeypatch.setattr(numpy_backend, "compile_leaf", broken)
    result = runner.invoke(app, ["analyze", SMALL, "--execute", "--repeat", "1"])
    assert result.exit_code == 1
    assert "conv: analysis [256, 8, 8], executed [256, 7, 8]" in result.stderr
    assert "✗" in result.stdout


def test_cli_json_has_measured_objects() -> None:
    result = runner.invoke(app, ["analyze", SMALL, "--execute", "--repeat", "2", "--warmup", "0", "-f", "json", "--batch", "3"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    m = data["layers"][0]["measured"]
    assert {"ms_median", "ms_min", "ms_max", "repeats", "backend", "device", "shape_ok"} <= set(m)
    assert m["backend"] == "numpy" and m["device"] == "cpu" and m["repeats"] == 2 and m["output"] == [256, 8, 8]
    assert data["totals"]["measured"]["shape_ok"] is True and data["totals"]["measured"]["batch"] == 3


def test_compare_execute_shows_theoretical_and_measured_speedups() -> None:
    result = runner.invoke(app, ["compare", str(LAYERS / "seed_bottleneck.yaml"), "-r", "grouped:4", "--execute", "--repeat", "2"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "×time" in out and "MACs say 4.00× faster" in out and re.search(r"measured \d+\.\d\d× (faster|slower)", out)
    data = json.loads(runner.invoke(app, ["compare", SMALL, "--execute", "--repeat", "1", "-f", "json"]).stdout)
    assert all(v["totals"]["measured"]["shape_ok"] for v in data["variants"])


def test_torch_backend_on_cpu() -> None:
    pytest.importorskip("torch")
    result = runner.invoke(app, ["analyze", str(LAYERS / "mobilenet_v1_050.yaml"), "--execute", "--backend", "torch", "--device", "cpu",
                                 "--repeat", "2", "--threads", "1", "-f", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["measured"]["device"] == "cpu"


def test_clear_errors_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["analyze", SMALL, "--execute", "--device", "cuda"])
    assert result.exit_code == 2 and "numpy backend runs on the CPU only" in result.stderr
    if not has_cuda():
        result = runner.invoke(app, ["analyze", SMALL, "--execute", "--backend", "torch", "--device", "cuda"])
        assert result.exit_code == 2 and "--device cuda: no CUDA GPU" in result.stderr
    import builtins

    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "torch":
            raise ImportError("no torch")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    result = runner.invoke(app, ["analyze", SMALL, "--execute", "--backend", "torch"])
    assert result.exit_code == 2 and "pip install 'convcost[torch]'" in result.stderr


def test_memory_is_checked_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    from convcost.backends import execute as harness

    monkeypatch.setattr(harness, "available_memory", lambda: 10**6)
    monkeypatch.setattr(harness, "program", lambda *a: pytest.fail("work started"))
    result = runner.invoke(app, ["analyze", str(LAYERS / "vgg16.yaml"), "--execute", "--batch", "64"])
    assert result.exit_code == 2 and "lower --batch" in result.stderr


@pytest.mark.skipif(not has_cuda(), reason="no CUDA GPU")
def test_cuda_execution_matches_cpu() -> None:
    stack = convcost.load(LAYERS / "resnet18.yaml")
    np.testing.assert_allclose(run_once(stack, "torch", device="cuda"), run_once(stack, "torch", device="cpu"), rtol=1e-2, atol=1e-2)
    result = runner.invoke(
        app, ["analyze", str(LAYERS / "resnet18.yaml"), "--execute", "--backend", "torch", "--device", "cuda", "-f", "json"]
    )
    assert result.exit_code == 0 and json.loads(result.stdout)["totals"]["measured"]["device"] == "cuda"


def test_analysis_alone_never_imports_numpy() -> None:
    import subprocess
    import sys

    code = f"import sys, convcost; convcost.analyze(convcost.load({SMALL!r})); assert 'numpy' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_deformable_sampling_matches_grid_sample() -> None:
    """Both backends' bilinear sampling (zero outside) against torch's grid_sample, an independent
    implementation: align_corners=True puts −1 and 1 on the centres of the first and last pixels."""
    torch = pytest.importorskip("torch")
    from convcost.ops import numpy_ops as ops
    from convcost.ops import torch_modules as tb

    rng = np.random.default_rng(5)
    n, g, c, h, w = 2, 2, 3, 6, 7
    x = rng.standard_normal((n, g, c, h, w)).astype(np.float32)
    py = rng.uniform(-3, h + 2, (n, g, 40)).astype(np.float32)  # inside, on the rim and far outside
    px = rng.uniform(-3, w + 2, (n, g, 40)).astype(np.float32)
    grid = torch.from_numpy(np.stack([px / (w - 1) * 2 - 1, py / (h - 1) * 2 - 1], axis=-1)).reshape(n * g, 1, 40, 2)
    truth = torch.nn.functional.grid_sample(torch.from_numpy(x).reshape(n * g, c, h, w), grid, align_corners=True, padding_mode="zeros")
    truth = truth.reshape(n, g, c, 40).permute(0, 1, 3, 2).numpy()
    np.testing.assert_allclose(ops.bilinear_gather(x, py, px), truth, atol=1e-5)
    ours = tb._bilinear(torch.from_numpy(x), torch.from_numpy(py), torch.from_numpy(px)).numpy()
    np.testing.assert_allclose(ours, truth, atol=1e-5)


def test_deformable_conv_with_zero_offsets_is_the_plain_conv() -> None:
    torch = pytest.importorskip("torch")
    from convcost.ops import numpy_ops as ops

    stack = convcost.loads("input: [4, 9, 8]\nlayers: [deformconv: {out: 6, kernel: 3, stride: 2, padding: 1, dilation: 2, groups: 2}]")
    op = stack.layers[0].op
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 9, 8)).astype(np.float32)
    offset_w = np.zeros((op.offset_channels(), 4, 3, 3), dtype=np.float32)
    main_w, main_b = rng.standard_normal((6, 2, 3, 3)).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    ours = ops.deform_conv2d(x, [offset_w, np.zeros(op.offset_channels(), np.float32), main_w, main_b], op)
    truth = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(main_w), torch.from_numpy(main_b), 2, 1, 2, 2).numpy()
    np.testing.assert_allclose(ours, truth, atol=1e-4)
