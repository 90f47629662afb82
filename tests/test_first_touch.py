"""Regressions a new user hit (issue: first touch): each defect, each refused flag, each located error."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app, run

from .conftest import LAYERS

runner = CliRunner()
SMALL = "input: [8, 16, 16]\nlayers: [conv: {out: 8, kernel: 3, padding: 1}]\n"


def test_gridding_across_residual_blocks_is_warned_and_fails_check(write_yaml) -> None:  # type: ignore[no-untyped-def]
    path = write_yaml("""
input: [8, 32, 32]
blocks:
  block:
    layers: [residual: {body: [conv: {out: 8, kernel: 3, dilation: 2, padding: 2, bn: true, act: relu}]}]
layers: [block, block, block]
""")
    report = convcost.analyze(convcost.load(path))
    # the same footprint the coverage shows: rates 2,2,2 read 7 of 13 offsets per axis → (7/13)² = 29 %
    assert float(report.totals.coverage) == pytest.approx((7 / 13) ** 2)
    assert len(report.warnings) == 1 and "block1.conv, block2.conv, block3.conv" in report.warnings[0]
    assert runner.invoke(app, ["check", str(path), "--no-gridding"]).exit_code == 1


def test_compare_without_macs_and_without_fields(write_yaml) -> None:  # type: ignore[no-untyped-def]
    a = write_yaml("input: [3, 8, 8]\nlayers: [relu, gap]\n", "a.yaml")
    b = write_yaml("input: [3, 8, 8]\nlayers: [conv: {out: 3, kernel: 1}, gap]\n", "b.yaml")
    for fmt in ("table", "markdown", "json", "csv"):
        result = runner.invoke(app, ["compare", str(a), str(b), "-f", fmt])
        assert result.exit_code == 0, result.output
    table = runner.invoke(app, ["compare", str(a), str(a)]).stdout
    assert "no MACs in either" in table and "receptive field" not in table


def test_markdown_compare_of_every_zoo_model() -> None:
    for path in sorted(LAYERS.glob("*.yaml")):
        result = runner.invoke(app, ["compare", str(path), "-f", "markdown"])
        assert result.exit_code == 0 and result.stdout.startswith("### "), path


def test_csv_shapes_are_plain_ascii() -> None:
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["analyze", str(LAYERS / "c3d.yaml"), "-f", "csv"]).stdout)))
    assert rows[0]["output"] == "64x16x112x112" and "×" not in "".join(r["output"] + r["rf_size"] for r in rows)


def test_check_reports_every_file_when_one_is_bad(write_yaml) -> None:  # type: ignore[no-untyped-def]
    good = write_yaml(SMALL + "budget: {params: 1M}\n", "good.yaml")
    bad = write_yaml("input: [3, 8, 8]\nlayers: [conv: {out: 4, kernel: 99}]\nbudget: {params: 1M}\n", "bad.yaml")
    result = runner.invoke(app, ["check", str(good), str(bad), "-f", "json"])
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert [m["ok"] for m in data["models"]] == [True, False] and "kernel" in data["models"][1]["error"]
    assert result.stderr.startswith(f"error: {bad}:2:")
    github = runner.invoke(app, ["check", str(good), str(bad), "-f", "github"])
    assert f"::error file={bad},line=2" in github.stdout and "::notice" in github.stdout


def test_check_growth_shows_growth_not_the_total(write_yaml) -> None:  # type: ignore[no-untyped-def]
    old = write_yaml("input: [8, 16, 16]\nlayers: [conv: {out: 8, kernel: 1, bias: false}]\n", "old.yaml")
    new = write_yaml("input: [8, 16, 16]\nlayers: [conv: {out: 8, kernel: 3, bias: false}]\n", "new.yaml")
    result = runner.invoke(app, ["check", str(new), "--baseline", str(old), "--max-increase", "5%"])
    assert result.exit_code == 1
    assert "params growth" in result.stdout and "576 (+800.00%)" in result.stdout  # 64 → 576 params: +800 %


@pytest.mark.parametrize(("args", "said"), [
    (["analyze", "M", "--backend", "torch"], "--backend: only takes effect with --execute"),
    (["analyze", "M", "--repeat", "3", "--seed", "1"], "--repeat, --seed: only take effect with --execute"),
    (["compare", "M", "--threads", "2"], "--threads: only takes effect with --execute"),
    (["compare", "M", "M", "--emit-yaml", "out"], "--emit-yaml: writes rewritten designs"),
    (["check", "M"], "nothing to check"),
    (["check", "M", "--max-params", "1M", "--max-increase", "5%"], "--max-increase: only takes effect with --baseline"),
    (["check", "M", "--baseline", "M", "--max-increase", "0.05"], "--max-increase: '0.05' has no unit; write a percentage with %"),
    (["check", "M", "--max-peak-memory", "64"], "--max-peak-memory: '64' has no unit; write 64B for bytes"),
    (["analyze", "M", "--execute", "--dtype", "int8"], "--dtype int8: --backend numpy on cpu executes in float32 or float64 only"),
    (["analyze", "M", "--execute", "--dtype", "float16"], "float16/bfloat16 run on --backend torch --device cuda"),
])  # fmt: skip
def test_flags_that_cannot_take_effect_are_refused(write_yaml, args: list[str], said: str) -> None:  # type: ignore[no-untyped-def]
    model = str(write_yaml(SMALL))
    result = runner.invoke(app, [model if a == "M" else a for a in args])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and said in result.stderr, result.output


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], write_yaml) -> None:  # type: ignore[no-untyped-def]
    model = str(write_yaml(SMALL))
    assert run(["analyze", model, "--execute", "--seed", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: Invalid value for '--seed'")
    assert run(["analyze", model, "--threads", "100000", "--execute"]) == 2
    assert run(["--version"]) == 0 and capsys.readouterr().out.strip() == f"convcost {convcost.__version__}"


def test_execute_in_float64_really_runs_in_it(write_yaml) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["analyze", str(write_yaml(SMALL)), "--execute", "--dtype", "float64", "--repeat", "1", "-f", "json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["totals"]["measured"]["dtype"] == "float64"
    assert data["totals"]["peak_memory_bytes"] == 2 * 8 * 16 * 16 * 8  # input and output alive, 8 bytes each


def test_deformconv_outside_2d_is_one_clear_line(write_yaml) -> None:  # type: ignore[no-untyped-def]
    path = write_yaml("input: [4, 32]\nlayers: [deformconv: {out: 4, kernel: 3, padding: 1}]\n")
    assert runner.invoke(app, ["analyze", str(path)]).exit_code == 0  # analysed in 1-D
    result = runner.invoke(app, ["analyze", str(path), "--execute"])
    assert result.exit_code == 2 and "deformconv executes in 2-D only" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize(("text", "where", "said"), [
    ("input: [3, 8]\n\tlayers: []\n", ":2:1:", "tabs are not allowed in YAML indentation; use spaces"),
    ("42\n", ":1:1:", "expected a mapping with 'input:' and 'layers:', found 42"),
    ("input: [3, 8]\nlayers: [residual: {body: 5}]\n", ":2:27:", "layers[0].body: expected a list of layers, found 5"),
    ("input: [3, 8]\nlayers: [repeat: {times: 2, layers: x}]\n", ":2:", "expected a list of layers"),
])  # fmt: skip
def test_errors_are_located(write_yaml, text: str, where: str, said: str) -> None:  # type: ignore[no-untyped-def]
    path = write_yaml(text)
    result = runner.invoke(app, ["analyze", str(path)])
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {path}{where}") and said in result.stderr, result.stderr


def test_output_never_replaces_an_input_model_and_is_atomic(write_yaml, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model = write_yaml(SMALL)
    result = runner.invoke(app, ["analyze", str(model), "-o", str(model)])
    assert result.exit_code == 2 and model.read_text() == SMALL
    out = tmp_path / "report.json"
    out.write_text("old")
    assert runner.invoke(app, ["analyze", str(model), "-f", "json", "-o", str(out)]).exit_code == 0
    assert json.loads(out.read_text())["totals"]["params"] == 8 * 8 * 9 + 8
    assert not list(tmp_path.glob(".report.json.*"))  # no temporary file left behind


def test_names_are_the_same_in_every_command(write_yaml) -> None:  # type: ignore[no-untyped-def]
    path = write_yaml("""
input: [16, 16, 16]
blocks:
  unit:
    params: {c: 16}
    layers:
      - conv: {out: $c, kernel: 3, padding: 1, bn: true, act: relu}
      - conv: {out: $c, kernel: 3, padding: 1, bn: true}
layers:
  - repeat: {times: 2, name: stage2, layers: [unit: {}]}
  - concat: [[conv: {out: 8, kernel: 1}], [maxpool: {kernel: 3, stride: 1, padding: 1}]]
budget: {macs: 1}
""")
    analyzed = [layer["name"] for layer in json.loads(runner.invoke(app, ["analyze", str(path), "-f", "json"]).stdout)["layers"]]
    assert analyzed[:7] == ["stage2.0.conv1", "stage2.0.conv1.bn", "stage2.0.conv1.relu", "stage2.0.conv2", "stage2.0.conv2.bn",
                            "stage2.1.conv1", "stage2.1.conv1.bn"]  # fmt: skip
    assert analyzed[-3:] == ["branch1.conv", "branch2.maxpool", "concat"]
    compared = runner.invoke(app, ["compare", str(path), "-f", "csv"]).stdout
    assert "stage2.1.conv2" in compared
    checked = json.loads(runner.invoke(app, ["check", str(path), "--baseline", str(LAYERS / "seed_separable.yaml"), "-f", "json"]).stdout)
    assert "stage2.1.conv2" in {g["name"] for g in checked["growth"]}


@pytest.mark.slow
def test_interrupt_exits_130_and_ascii_terminals_get_ascii(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    big = tmp_path / "big.yaml"
    big.write_text("input: [64, 256, 256]\nlayers:\n" + "  - conv: {out: 64, kernel: 3, padding: 1}\n" * 40)
    cli = [sys.executable, "-c", "from convcost.cli import entry; entry()"]
    proc = subprocess.Popen([*cli, "analyze", str(big), "--execute", "--repeat", "100"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and b"Traceback" not in err
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = subprocess.run([*cli, "analyze", str(LAYERS / "c3d.yaml")], capture_output=True, env=env, timeout=60)
    assert done.returncode == 0 and b"3x16x112x112" in done.stdout and not done.stderr


def test_emit_yaml_keeps_the_models_blocks(tmp_path: Path) -> None:
    out = tmp_path / "emitted"
    specs = "separable,spatial,factorize,bottleneck:2,grouped:4+shuffle"
    result = runner.invoke(app, ["compare", str(LAYERS / "resnet50.yaml"), "-r", specs, "--emit-yaml", str(out), "-f", "json"])
    assert result.exit_code == 0, result.output
    totals = {v["name"]: v for v in json.loads(result.stdout)["variants"]}
    source_lines = len((LAYERS / "resnet50.yaml").read_text().splitlines())
    for name, kept in (("separable", True), ("spatial", True), ("factorize", True), ("bottleneck:2", False), ("grouped:4+shuffle", False)):
        path = out / f"resnet50.{name.replace(':', '-').replace('+', '-')}.yaml"
        text = path.read_text()
        assert ("in the model's own blocks" in text) is kept, name
        if kept:  # the blocks and repeats are the user's, rewritten where they are written
            assert "blocks:" in text and "repeat:" in text and len(text.splitlines()) < 2.2 * source_lines, name
        report = convcost.analyze(convcost.load(path))
        expected = totals[name]
        assert [(r.output, r.params, r.macs) for r in report.layers] == [
            (tuple(r["output"]), r["params"], r["macs"]) for r in expected["layers"]
        ], name
    separable = (out / "resnet50.separable.yaml").read_text()
    assert "- dwconv: {kernel: 3, stride: $stride, padding: 1}" in separable and "- pwconv: {out: $width, bn: true, act: relu}" in separable


def test_emit_yaml_falls_back_when_uses_of_an_entry_differ(write_yaml, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # the block's conv is rewritten 8→8 but not 8→6 or 6→8 (6 is not divisible by 4): one entry cannot say both
    path = write_yaml("""
input: [8, 16, 16]
budget: {params: 10K}
blocks:
  b: {params: {c: 8}, layers: [conv: {out: $c, kernel: 3, padding: 1}]}
layers: [b: {c: 8}, b: {c: 6}, b: {c: 8}]
""")
    out = tmp_path / "e"
    assert runner.invoke(app, ["compare", str(path), "-r", "grouped:4", "--emit-yaml", str(out)]).exit_code == 0
    text = (out / "model.grouped-4.yaml").read_text()
    assert "layer by layer" in text and "budget:" in text and "name: b1.conv" in text
    stack = convcost.load(out / "model.grouped-4.yaml")
    assert convcost.analyze(stack).totals.params == (8 * 2 * 9 + 8) + (6 * 8 * 9 + 6) + (8 * 6 * 9 + 8)  # 8→8 grouped; 8→6, 6→8 not


def test_help_says_every_default_and_keeps_brackets() -> None:
    import re

    wide = {"COLUMNS": "200"}
    analyze = runner.invoke(app, ["analyze", "--help"], env=wide).stdout
    for said in ("[default: numpy]", "[default: auto]", "[default: 1]", "[default: 5]", "[default: 0]", "[min–max]",
                 "convcost[torch]", "[default: float32]", "[default: table]"):  # fmt: skip
        assert said in analyze, said
    compare = runner.invoke(app, ["compare", "--help"], env={"COLUMNS": "1000"}).stdout
    assert "grouped:G[+shuffle]" in compare and "channelwise[:D]" in compare and "[default: separable,grouped:4,bottleneck:4]" in compare
    check = runner.invoke(app, ["check", "--help"], env=wide).stdout
    assert "[default: 0%]" in check and re.search(r"KiB/MiB/GiB", check)
