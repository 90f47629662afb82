"""The command line through typer's CliRunner and real subprocesses."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import convcost
from convcost.cli import app

from .conftest import LAYERS

runner = CliRunner()
MOBILENET = str(LAYERS / "mobilenet_v1.yaml")


def test_help_and_version() -> None:
    for args in (["--help"], ["-h"], ["analyze", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage" in result.stdout
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"convcost {convcost.__version__}"


def test_table_shows_rows_totals_and_summary() -> None:
    result = runner.invoke(app, ["analyze", MOBILENET])
    assert result.exit_code == 0
    out = result.stdout
    assert "mobilenet_v1" in out and "dwconv" in out and "total" in out
    assert "4.23M" in out and "569M" in out  # human-readable counts
    assert "params 4,231,976" in out and "MACs 568,740,352" in out


def test_json_follows_the_schema() -> None:
    result = runner.invoke(app, ["analyze", MOBILENET, "--format", "json"])
    data = json.loads(result.stdout)
    assert (
        set(data) == {"schema_version", "model", "input", "dtype", "batch", "layers", "totals", "warnings"} and data["schema_version"] == 1
    )
    layer = data["layers"][0]
    assert set(layer) == {
        "path",
        "name",
        "kind",
        "output",
        "params",
        "macs",
        "flops",
        "activations",
        "bytes_moved",
        "rf",
        "coverage",
        "measured",
    }
    assert set(data["totals"]) == {
        "params",
        "macs",
        "flops",
        "activations",
        "peak_memory_bytes",
        "bytes_moved",
        "rf",
        "coverage",
        "measured",
    }
    assert data["totals"]["params"] == 4_231_976 and data["totals"]["flops"] == 2 * 568_740_352
    assert data["layers"][-1]["rf"] is None and data["layers"][-1]["coverage"] is None
    assert data["totals"]["rf"] == {"size": [315, 315], "stride": [32, 32], "padding": [157, 157]}
    assert all(isinstance(r["macs"], int) for r in data["layers"])


def test_csv_and_markdown() -> None:
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["analyze", MOBILENET, "-f", "csv"]).stdout)))
    assert rows[-1]["path"] == "TOTAL" and int(rows[-1]["params"]) == 4_231_976
    assert sum(int(r["macs"]) for r in rows[:-1]) == 568_740_352
    md = runner.invoke(app, ["analyze", MOBILENET, "-f", "markdown"]).stdout
    assert md.startswith("### mobilenet_v1") and "| layer |" in md and "params 4,231,976" in md


def test_output_file_batch_and_dtype(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["analyze", MOBILENET, "-f", "json", "-o", str(out), "--batch", "8", "--dtype", "float16"])
    assert result.exit_code == 0 and result.stdout == ""
    data = json.loads(out.read_text())
    one = convcost.analyze(convcost.load(MOBILENET))
    assert data["totals"]["macs"] == 8 * one.totals.macs and data["totals"]["params"] == one.totals.params
    assert data["totals"]["peak_memory_bytes"] == 8 * one.totals.peak_memory_bytes // 2
    table = tmp_path / "t.txt"
    assert runner.invoke(app, ["analyze", MOBILENET, "-o", str(table)]).exit_code == 0
    assert "total" in table.read_text()


def test_gridding_warning_is_shown() -> None:
    text = "input: [8, 64, 64]\nlayers:\n" + "".join(
        "  - conv: {out: 8, kernel: 3, dilation: 2, padding: 2, bn: true, act: relu}\n" for _ in range(3)
    )
    report = convcost.analyze(convcost.loads(text))
    assert len(report.warnings) == 1
    assert "gridding" in report.warnings[0] and "2,2,2" in report.warnings[0] and "hdc-check 2,2,2 --kernel 3" in report.warnings[0]
    fine = "input: [8, 64, 64]\nlayers:\n" + "".join(f"  - conv: {{out: 8, kernel: 3, dilation: {r}, padding: {r}}}\n" for r in (1, 2, 5))
    assert convcost.analyze(convcost.loads(fine)).warnings == ()


def test_python_m_and_no_numpy_or_torch_on_analyze() -> None:
    code = (f"import sys, runpy; sys.argv = ['convcost', 'analyze', {MOBILENET!r}, '-f', 'json'];\n"
            "try:\n    runpy.run_module('convcost', run_name='__main__')\nexcept SystemExit as e:\n    assert not e.code\n"
            "heavy = [m for m in ('numpy', 'torch') if m in sys.modules]\nassert not heavy, heavy")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["params"] == 4_231_976
    helped = subprocess.run([sys.executable, "-c", "import sys\nsys.argv=['convcost','--help']\nimport runpy\ntry:\n    runpy.run_module('convcost', run_name='__main__')\n"
                             "except SystemExit:\n    pass\nassert 'numpy' not in sys.modules and 'torch' not in sys.modules"], capture_output=True, text=True)  # fmt: skip
    assert helped.returncode == 0, helped.stderr
    module = subprocess.run([sys.executable, "-m", "convcost", "--version"], capture_output=True, text=True)
    assert module.stdout.startswith("convcost ")


def test_api_load_from_text_and_path() -> None:
    assert convcost.load(MOBILENET).name == "mobilenet_v1"
    stack = convcost.loads("input: [3, 8, 8]\nlayers: [conv: {out: 2, kernel: 3}]", name="t")
    assert stack.name == "t" and stack.output == (2, 6, 6)
