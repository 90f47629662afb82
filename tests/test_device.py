"""Device profiles and the roofline (issue: predict time, not just MACs): hand-worked examples,
profile files, calibration on numpy with a short budget, and every output that shows a prediction."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.device.profiles import BUILTIN, Profile, find, parse_rate
from convcost.device.roofline import efficiency, predict
from convcost.errors import ConvcostError

from .conftest import LAYERS

runner = CliRunner()
T4 = BUILTIN["t4"]  # 8.1 TFLOP/s fp32, 320 GB/s


def only_layer(yaml: str, profile: Profile = T4) -> tuple[int, int, object]:
    stack = convcost.loads(yaml)
    report = convcost.analyze(stack)
    record = report.layers[0]
    return record.macs, record.bytes_moved, predict(stack, report, profile).layers[record.path]


def test_a_thin_pointwise_conv_is_memory_bound_worked_by_hand() -> None:
    """1×1 conv 32→32 on 112², no bias, float32, on a T4. MACs = 32·32·112·112 = 12,845,056, so
    25,690,112 FLOPs; bytes = (input 401,408 + output 401,408 elements + 1,024 weights) × 4 =
    3,215,360. Compute 25,690,112 / 8.1e12 = 3.17 µs < memory 3,215,360 / 320e9 = 10.048 µs."""
    macs, nbytes, p = only_layer("input: [32, 112, 112]\nlayers: [pwconv: {out: 32, bias: false}]")
    assert (macs, nbytes) == (12_845_056, 3_215_360)
    assert p.bound == "memory"
    assert p.ms == pytest.approx(0.010048, rel=1e-9)
    assert p.intensity == pytest.approx(25_690_112 / 3_215_360)  # 7.99 FLOP/B, below the T4's ridge of 25.3


def test_a_wide_3x3_conv_is_compute_bound_worked_by_hand() -> None:
    """3×3 conv 256→256 on 56², padding 1, no bias: MACs = 256·256·9·3136 = 1,849,688,064;
    bytes = (802,816 + 802,816 + 589,824) × 4 = 8,781,824. Compute 3,699,376,128 / 8.1e12 =
    456.71 µs > memory 27.44 µs."""
    macs, nbytes, p = only_layer("input: [256, 56, 56]\nlayers: [conv: {out: 256, kernel: 3, padding: 1, bias: false}]")
    assert (macs, nbytes) == (1_849_688_064, 8_781_824)
    assert p.bound == "compute"
    assert p.ms == pytest.approx(3_699_376_128 / 8.1e12 * 1000, rel=1e-12)
    assert p.ms == pytest.approx(0.45671, rel=1e-4)


def test_calibrated_efficiency_divides_the_roofline_and_grouped_widths_interpolate() -> None:
    slow = T4._replace(efficiency={"conv": 0.5, "grouped:4": 0.1, "grouped:16": 0.4})
    _, _, plain = only_layer("input: [256, 56, 56]\nlayers: [conv: {out: 256, kernel: 3, padding: 1, bias: false}]")
    _, _, halved = only_layer("input: [256, 56, 56]\nlayers: [conv: {out: 256, kernel: 3, padding: 1, bias: false}]", slow)
    assert halved.ms == pytest.approx(2 * plain.ms)
    assert efficiency(slow, "grouped", 8) == pytest.approx(0.2)  # geometric mean of 0.1 and 0.4, halfway on log2
    assert efficiency(slow, "grouped", 2) == 0.1 and efficiency(slow, "grouped", 64) == 0.4  # clamped at the ends
    assert efficiency(slow, "depthwise", 1) == 1.0  # not calibrated: the plain roofline


def test_rates_need_their_unit() -> None:
    assert parse_rate("19.5 TFLOP/s", "FLOP/s", "x") == 19.5e12
    assert parse_rate("2039 GB/s", "B/s", "x") == 2039e9
    assert parse_rate("1 GiB/s", "B/s", "x") == 2**30
    assert parse_rate("130 TOP/s", "FLOP/s", "x") == 130e12
    for bad in ("19.5", 19.5, "19.5 TB", "fast", "1 TiFLOP/s"):
        with pytest.raises(ConvcostError, match="with its unit"):
            parse_rate(bad, "FLOP/s", "peak.fp32")


def test_profile_files_and_lookup(tmp_path: Path) -> None:
    path = tmp_path / "mygpu.yaml"
    path.write_text("name: My GPU\npeak: {fp32: 10 TFLOP/s, fp16: 40 TFLOP/s}\nbandwidth: 500 GB/s\nefficiency: {conv: 0.7}\n")
    mine = find(str(path))
    assert (mine.id, mine.peak["fp32"], mine.peak["fp16"], mine.bandwidth, mine.efficiency) == ("mygpu", 10e12, 40e12, 500e9, {"conv": 0.7})
    assert find("H100") is BUILTIN["h100"]  # ids are case-insensitive
    with pytest.raises(ConvcostError, match="did you mean 'h100'"):
        find("h10")
    for text, words in (("peak: {fp32: 10}\nbandwidth: 1 GB/s\n", "with its unit"), ("peak: {fp33: 1 TFLOP/s}\nbandwidth: 1 GB/s\n", "unknown precision"),
                        ("peak: {fp32: 1 TFLOP/s}\n", "bandwidth"), ("peak: {fp32: 1 TFLOP/s}\nbandwidth: 1 GB/s\nefficiency: {conv: 2}\n", "(0, 1]"),
                        ("peak: {fp32: 1 TFLOP/s}\nbandwidth: 1 GB/s\nefficiency: {convv: 0.5}\n", "unknown layer class"),
                        ("peak: {fp32: 1 TFLOP/s}\nbandwidth: 1 GB/s\nefficiency: {'depthwise:4': 0.5}\n", "unknown layer class")):  # fmt: skip
        path.write_text(text)
        with pytest.raises(ConvcostError, match=words.replace("(", r"\(").replace("]", r"\]")):
            find(str(path))


def test_every_builtin_profile_cites_its_source() -> None:
    assert {"a100", "h100", "h200", "l4", "t4", "rtx4090", "cpu-laptop", "cpu-server"} <= set(BUILTIN)
    for p in BUILTIN.values():
        assert "datasheet" in p.source or "whitepaper" in p.source or p.source.startswith("nominal"), p.id
        assert p.peak["fp32"] and p.bandwidth > 0
    assert BUILTIN["h100"].peak["fp16"] == 989.4e12  # dense: half the datasheet's "with sparsity" 1,979
    assert BUILTIN["t4"].peak["bf16"] is None  # Turing has no bfloat16 units


def test_a_dtype_the_device_lacks_is_one_line() -> None:
    result = runner.invoke(app, ["analyze", str(LAYERS / "resnet18.yaml"), "-p", "t4", "--dtype", "bfloat16"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "has no peak" in result.stderr


def test_analyze_json_and_table_with_a_profile() -> None:
    result = runner.invoke(app, ["analyze", str(LAYERS / "mobilenet_v2.yaml"), "-p", "h100", "--batch", "8", "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["device_profile"]["id"] == "h100" and data["device_profile"]["peak_flops"] == 67e12
    assert data["device_profile"]["bandwidth"] == 3.35e12 and data["device_profile"]["dtype"] == "float32"
    layers = data["layers"]
    assert all(set(layer["predicted"]) == {"ms", "bound", "intensity"} for layer in layers)
    assert math.isclose(data["predicted_ms"], sum(layer["predicted"]["ms"] for layer in layers))
    first = layers[0]  # the stem conv: FLOPs and bytes from the analysis itself
    expected = max(2 * first["macs"] / 67e12, first["bytes_moved"] / 3.35e12) * 1000
    assert first["predicted"]["ms"] == pytest.approx(expected)
    for width in (80, 120):
        table = runner.invoke(app, ["analyze", str(LAYERS / "mobilenet_v2.yaml"), "-p", "h100"], env={"COLUMNS": str(width)})
        assert table.exit_code == 0 and "predicted on NVIDIA H100" in table.stdout and "share of time" in table.stdout
    csv = runner.invoke(app, ["analyze", str(LAYERS / "mobilenet_v2.yaml"), "-p", "h100", "-f", "csv"]).stdout
    assert csv.splitlines()[0].endswith("predicted_ms,bound,intensity")


def test_prediction_flags_that_cannot_take_effect_are_refused(tmp_path: Path) -> None:
    model = str(LAYERS / "resnet18.yaml")
    copy = tmp_path / "model.svg"  # an input model that --plot would overwrite
    copy.write_text((LAYERS / "resnet18.yaml").read_text())
    for args, words in ((["analyze", model, "--plot", str(tmp_path / "a.png")], "add --device-profile"),
                        (["analyze", model, "-p", "t4", "--plot", str(tmp_path / "a.jpg")], ".png or .svg"),
                        (["analyze", model, model, "-p", "t4"], "one model at a time"),
                        (["check", model, "--max-predicted-ms", "5"], "each takes effect only with the other"),
                        (["check", model, "-p", "t4", "--max-macs", "5G"], "each takes effect only with the other"),
                        (["analyze", model, "-p", "nosuch"], "no such profile"),
                        (["analyze", str(copy), "-p", "t4", "--plot", str(copy)], "--plot")):  # fmt: skip
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and result.stderr.count("\n") == 1 and words in result.stderr, (args, result.stderr)
    assert copy.read_text() == (LAYERS / "resnet18.yaml").read_text()  # nothing the user had is lost


def test_compare_predicts_the_speed_up_and_says_when_mac_savings_are_not_time() -> None:
    args = ["compare", str(LAYERS / "resnet50.yaml"), "-r", "grouped:32", "-p", "h100", "--batch", "32"]
    data = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)
    standard, grouped = data["variants"]
    assert grouped["predicted_speedup"] == pytest.approx(standard["predicted_ms"] / grouped["predicted_ms"])
    assert 1 < grouped["predicted_speedup"] < 16.75 / 2  # far below the 16.75× MAC ratio
    table = runner.invoke(app, args, env={"COLUMNS": "200"}).stdout
    assert "saves MACs, not time" in table and "pred." in table


def test_check_max_predicted_ms() -> None:
    model = str(LAYERS / "mobilenet_v2.yaml")
    assert runner.invoke(app, ["check", model, "--max-predicted-ms", "100", "-p", "t4"]).exit_code == 0
    over = runner.invoke(app, ["check", model, "--max-predicted-ms", "0.01", "-p", "t4", "-f", "json"])
    assert over.exit_code == 1
    (found,) = json.loads(over.stdout)["checks"]
    assert found["name"] == "predicted_ms" and found["limit"] == 0.01 and found["value"] > 0.01 and not found["ok"]


def test_plots_are_valid_png_and_svg(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    for suffix in ("png", "svg"):
        path = tmp_path / f"roof.{suffix}"
        result = runner.invoke(
            app, ["analyze", str(LAYERS / "resnet18.yaml"), "-p", "a100", "--plot", str(path), "-o", str(tmp_path / "t.txt")]
        )
        assert result.exit_code == 0, result.output
        data = path.read_bytes()
        if suffix == "png":
            assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
        else:
            import xml.etree.ElementTree as ET

            assert ET.fromstring(data).tag.endswith("svg")


@pytest.mark.slow
def test_calibrate_on_numpy_with_a_short_budget(tmp_path: Path) -> None:
    env = {"CONVCOST_CONFIG": str(tmp_path / "config")}
    result = runner.invoke(app, ["calibrate", "--seconds", "1", "--name", "quick"], env=env)
    assert result.exit_code == 0, result.output
    assert "[ 1/" in result.stderr and "efficiency" in result.stderr  # progress, step by step
    saved = tmp_path / "config" / "profiles" / "quick.yaml"
    profile = find(str(saved))
    assert profile.peak["fp32"] > 1e9 and profile.bandwidth > 1e8
    from convcost.device.calibrate import LAYERS as CALIBRATED

    assert set(profile.efficiency) == set(CALIBRATED) and all(0 < e <= 1 for e in profile.efficiency.values())
    listed = runner.invoke(app, ["profiles", "-f", "json"], env=env)
    assert "quick" in [p["id"] for p in json.loads(listed.stdout)["profiles"]]
    used = runner.invoke(app, ["analyze", str(LAYERS / "resnet18.yaml"), "-p", "quick", "-f", "json"], env=env)
    assert used.exit_code == 0 and json.loads(used.stdout)["device_profile"]["efficiency"] == profile.efficiency
