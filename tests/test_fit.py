"""convcost fit and the scaling under it: MobileNet v1 at every TF-Slim width × resolution
against torch's own count of the same net, the TF-Slim table itself (and where it is wrong), and
fit's answer against a brute-force search of its grid."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

import convcost
from convcost.analysis.fit import fit
from convcost.analysis.scaling import scaled
from convcost.cli import app
from convcost.model.graph import Budget

from .conftest import LAYERS

runner = CliRunner()
MOBILENET = LAYERS / "mobilenet_v1.yaml"

#: research/slim/nets/mobilenet_v1.md (tensorflow/models): million MACs, million params
TF_SLIM = {(1.0, 224): (569, 4.24), (1.0, 192): (418, 4.24), (1.0, 160): (291, 4.24), (1.0, 128): (186, 4.24),
           (0.75, 224): (317, 2.59), (0.75, 192): (233, 2.59), (0.75, 160): (162, 2.59), (0.75, 128): (104, 2.59),
           (0.5, 224): (150, 1.34), (0.5, 192): (110, 1.34), (0.5, 160): (77, 1.34), (0.5, 128): (49, 1.34),
           (0.25, 224): (41, 0.47), (0.25, 192): (34, 0.47), (0.25, 160): (21, 0.47), (0.25, 128): (14, 0.47)}  # fmt: skip
#: where the table disagrees with the network its own depth rule builds (max(int(d · α), 8) channels):
#: every α = 0.75 entry is 2.5–2.9 % low (325.4 / 239.3 / 166.4 / 106.8 M; torch counts the same as
#: convcost), and 0.25 at 192 says 34 where the MACs, which scale as ρ², are 30.2 M (41.0 · (192/224)²)
TF_SLIM_WRONG = {(0.75, 224), (0.75, 192), (0.75, 160), (0.75, 128), (0.25, 192)}


@pytest.mark.parametrize(("alpha", "size"), sorted(TF_SLIM))
def test_mobilenet_v1_scaled_equals_torch(alpha: float, size: int) -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    from . import nets

    report = convcost.analyze(scaled(convcost.load(MOBILENET), Fraction(alpha), (size, size)))
    module = nets.mobilenet_v1(alpha).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.randn(1, 3, size, size))
    assert (report.totals.params, 2 * report.totals.macs) == (sum(p.numel() for p in module.parameters()), counter.get_total_flops())
    macs, params = TF_SLIM[(alpha, size)]
    # TF-Slim's params: 1001 classes and BN without its scale; ours: 1000 classes and BN scale and shift (torchvision's)
    assert abs(report.totals.params / 1e6 - params) <= 0.011
    # the table rounds to the nearest million (0.5 at 224: 149.497 M, shown as 150); a wrong entry is off by more than 2 M
    off = abs(report.totals.macs / 1e6 - macs)
    assert off > 2 if (alpha, size) in TF_SLIM_WRONG else off < 0.51


def test_width_keeps_the_classifier_and_rounds_as_torchvision() -> None:
    stack = scaled(convcost.load(LAYERS / "mobilenet_v2.yaml"), Fraction(1, 2))
    report = convcost.analyze(stack)
    assert report.totals.output == (1000,)
    convs = [r for r in report.layers if r.kind == "conv"]
    assert convs[0].output[0] == 16
    assert convcost.analyze(scaled(convcost.load(LAYERS / "mobilenet_v2.yaml"), Fraction(1))).totals.macs == 300_774_272


def test_fit_answer_is_the_best_point_of_its_grid() -> None:
    stack = convcost.load(MOBILENET)
    widths, sizes = [Fraction(k, 4) for k in range(1, 6)], [128, 160, 192, 224]
    found = fit(stack, Budget(macs=200_000_000, params=3_000_000), widths, sizes)
    brute = []
    for w in widths:
        for s in sizes:
            t = convcost.analyze(scaled(stack, w, (s, s))).totals
            if t.macs <= 200_000_000 and t.params <= 3_000_000:
                brute.append((t.macs, -t.params, w, s))
    best = max(brute)
    assert found.best is not None and (found.best.width, found.best.input[1]) == (best[2], best[3])
    assert sum(p.fits for p in found.points) == len(brute) and len(found.points) == 20


def test_cli_fit_and_its_refusals() -> None:
    path = str(MOBILENET)
    result = runner.invoke(app, ["fit", path, "--max-macs", "300M", "--widths", "0.5,0.75,1", "--sizes", "160,192,224", "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["best"]["width"] == 1 and data["best"]["input"] == [3, 160, 160] and data["best"]["macs"] == 290_675_200
    assert data["grid"] == 9 and all(p["macs"] <= 300_000_000 for p in data["points"])
    none = runner.invoke(app, ["fit", path, "--max-macs", "1M", "--widths", "0.25", "--sizes", "128"])
    assert none.exit_code == 1 and "nothing fits: the least macs on the grid is 13,570,048" in none.output
    for args, said in [([], "fit: give a limit"), (["--max-macs", "1G", "--widths", "0"], "--widths: a width multiplier is from 0.01 to 16, found 0"),
                       (["--max-macs", "1G", "--vary", "resolution", "--divisor", "4"], "--divisor: rounds scaled widths"),
                       (["--max-macs", "1G", "--vary", "resolution", "--widths", "1"], "--widths: takes effect only"),
                       (["--max-macs", "1G", "--vary", "depth"], "--vary: expected width, resolution or both"),
                       (["--max-macs", "1G", "--memory-plan", "fused"], "--memory-plan: takes effect only with --max-peak-memory")]:  # fmt: skip
        bad = runner.invoke(app, ["fit", path, *args])
        assert bad.exit_code == 2 and said in bad.output and len(bad.output.strip().splitlines()) == 1, bad.output


@pytest.mark.parametrize("width", [80, 200])
def test_fit_table_fits(width: int) -> None:
    from convcost.render import scalefit

    from .test_render import draw

    found = fit(convcost.load(MOBILENET), Budget(macs=300_000_000), [Fraction(k, 20) for k in range(5, 21)], [160, 192, 224])
    lines = draw(scalefit.table(scalefit.Shown(found, 10), width), width)
    assert max(map(len, lines)) <= width
    assert lines[0].split() == ["peak"] and lines[1].split() == ["#", "width", "input", "params", "MACs", "memory", "front"]


def test_analyze_width_and_input_overrides() -> None:
    result = runner.invoke(app, ["analyze", str(MOBILENET), "--width", "0.5", "--input", "3,160,160", "-f", "json", "--summary"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["input"] == [3, 160, 160] and (data["totals"]["params"], data["totals"]["macs"]) == (
        1_331_592,
        76_524_800,
    )  # TF-Slim: 1.34 M, 77 M
    gray = json.loads(runner.invoke(app, ["analyze", str(MOBILENET), "--input", "1,96,96", "-f", "json", "--summary"]).output)
    assert gray["totals"]["params"] == 4_231_976 - 2 * 9 * 32  # the stem reads one channel, not three
    for args, said in [(["--width", "0"], "--width: expected a multiplier from 0.01 to 16, found 0"),
                       (["--width", "nan"], "--width: expected a multiplier from 0.01 to 16, found nan"),
                       (["--width", "1e308"], "found 1e+308"), (["--input", "3,a,b"], "--input: expected C,H,W"),
                       (["--input", "3,160"], "--input: mobilenet_v1 takes 2 spatial sizes, found 1")]:  # fmt: skip
        bad = runner.invoke(app, ["analyze", str(MOBILENET), *args])
        assert bad.exit_code == 2 and said in bad.output, bad.output


def test_compare_and_check_take_the_overrides_too() -> None:
    path = str(MOBILENET)
    data = json.loads(
        runner.invoke(app, ["compare", path, "-r", "grouped:2", "--width", "0.5", "--input", "3,160,160", "-f", "json"]).output
    )
    assert data["variants"][0]["input"] == [3, 160, 160] and data["variants"][0]["totals"]["macs"] == 76_524_800
    assert runner.invoke(app, ["check", path, "--max-macs", "80M", "--width", "0.5", "--input", "3,160,160"]).exit_code == 0
    assert runner.invoke(app, ["check", path, "--max-macs", "80M"]).exit_code == 1  # the file as written: 569 M


def test_segmentation_classes_kept_and_several_inputs_vary_width_alone() -> None:
    """A model of one output keeps the conv that gives it its classes (a segmentation head's 1×1);
    one of several outputs (an FPN, a detector's neck) scales them."""
    from convcost.analysis.scaling import overridden

    assert overridden(convcost.load(LAYERS / "unet_decoder.yaml"), 0.5, None).output_shapes == ((2, 128, 128),)
    assert overridden(convcost.load(LAYERS / "deeplab_v3_head.yaml"), 0.5, None).output_shapes == ((21, 33, 33),)
    assert overridden(convcost.load(LAYERS / "yolov8n_pan.yaml"), 0.5, None).output_shapes == ((32, 80, 80), (64, 40, 40), (128, 20, 20))
    two = runner.invoke(app, ["fit", str(LAYERS / "rgbd_fusion.yaml"), "--max-macs", "300M", "--widths", "0.5,1", "-f", "json"])
    assert two.exit_code == 0 and json.loads(two.output)["grid"] == 2  # widths alone: no one input to resize
    bad = runner.invoke(app, ["fit", str(LAYERS / "rgbd_fusion.yaml"), "--max-macs", "300M", "--vary", "resolution"])
    assert bad.exit_code == 2 and "has several inputs; vary width alone" in bad.output


def test_widths_that_round_alike_are_one_point() -> None:
    found = fit(convcost.load(MOBILENET), Budget(macs=10**12), [Fraction(1), Fraction(1002, 1000)], None)
    assert [p.width for p in found.points] == [1]  # 1.002 rounds every channel back to 1's


def test_emit_yaml_writes_the_best_and_reads_back(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    args = ["fit", str(MOBILENET), "--max-macs", "250M", "--widths", "0.5,0.75,1", "--sizes", "160,192,224", "--emit-yaml", str(folder)]
    result = runner.invoke(app, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    best = json.loads(result.output)["best"]
    assert (best["width"], best["input"]) == (0.75, [3, 192, 192])
    written = folder / "mobilenet_v1.w0.75.192x192.yaml"
    t = convcost.analyze(convcost.load(written)).totals
    assert (t.params, t.macs) == (best["params"], best["macs"]) == (2_585_560, 239_273_472)
    none = runner.invoke(
        app, ["fit", str(MOBILENET), "--max-macs", "1M", "--widths", "0.25", "--sizes", "128", "--emit-yaml", str(tmp_path / "n")]
    )
    assert none.exit_code == 1 and not (tmp_path / "n").exists()  # nothing fits: nothing written
