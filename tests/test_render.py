"""Every screen at 60, 80, 120 and 200 columns: no line longer than the terminal, every header
present, every number whole (only names are shortened, from the left); pipes and files uncut."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import convcost
from convcost.analysis import hdc
from convcost.analysis.budget import check_file
from convcost.analysis.comparison import compare
from convcost.cli import app
from convcost.render import check as check_render
from convcost.render import compare as compare_render
from convcost.render import hdc as hdc_render
from convcost.render import summary, table
from convcost.render.fit import ELLIPSIS, fit

from .conftest import LAYERS

WIDTHS = (60, 80, 120, 200)
ZOO = sorted(LAYERS.glob("*.yaml"))
runner = CliRunner()


def draw(renderable: object, width: int) -> list[str]:
    buffer = io.StringIO()
    Console(file=buffer, width=width, no_color=True, color_system=None).print(renderable)
    return buffer.getvalue().splitlines()


def assert_rows_whole(lines: list[str], rows: list[list[str]], shown: int) -> None:
    """Each row appears on its own line with every visible cell after the name exactly as text
    (whole numbers), and the name either whole or shortened from the left with its end kept."""
    flat = [" ".join(line.split()) for line in lines]
    for row in rows:
        expected = " ".join(t for cell in row[1:shown] for t in cell.split("\n")[0].split())  # a wrapped cell: its first line
        names = [line[: len(line) - len(expected)].strip() for line in flat if line.endswith(" " + expected)]
        assert names, f"row {row[0]} not found whole: {expected}"
        full = " ".join(row[0].split())
        assert any(n == full or (n.startswith(ELLIPSIS) and full.endswith(n[1:])) for n in names), (row[0], names)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    "path", [LAYERS / "resnet50.yaml", LAYERS / "shufflenet_v2.yaml", LAYERS / "unet_decoder.yaml"], ids=lambda p: p.stem
)
def test_analyze_fits(path: Path, width: int) -> None:
    report = convcost.analyze(convcost.load(path))
    lines = draw(table.report_table(report, width), width)
    assert max(map(len, lines)) <= width
    rows, total = table.layer_rows(report, measured=False)
    fitted = fit(table.COLUMNS, rows, width, total=total)
    shown = len(table.COLUMNS) - len(fitted.hidden)
    text = "\n".join(lines)
    for column in table.COLUMNS[:shown]:
        assert column.header.split("\n")[-1] in text
    if width >= 80:
        assert not fitted.hidden, "every analyze column fits at 80"
    else:
        assert "not shown at 60 columns" in text or not fitted.hidden
    assert_rows_whole(lines, rows, shown)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", ZOO, ids=lambda p: p.stem)
def test_compare_fits_every_zoo_model(path: Path, width: int) -> None:
    c = compare(convcost.load(path), ["separable", "grouped:4", "bottleneck:4"])
    lines = draw(compare_render.compare_table(c, width), width)
    assert max(map(len, lines)) <= width, path
    text = "\n".join(lines)
    assert all(h in text for h in ("design", "params", "MACs", "×MACs", "changed", "alone"))
    if width >= 80:
        assert "not shown at" not in text  # the summary and the per-layer tables keep every column
    if width >= 80:
        assert_rows_whole(lines, compare_render.summary_rows(c), len(compare_render.SUMMARY))
    for i in range(1, len(c.variants)):
        rows, _ = compare_render.detail_rows(c, i, c.rows)
        assert_rows_whole(lines, rows, len(compare_render.DETAIL))


@pytest.mark.parametrize("width", WIDTHS)
def test_summary_of_many_files_fits(width: int) -> None:
    reports = [convcost.analyze(convcost.load(p)) for p in ZOO]
    names = summary.labels(reports, ZOO)
    lines = draw(summary.summary_table(reports, names, width), width)
    assert max(map(len, lines)) <= width
    if width >= 80:
        assert_rows_whole(lines, summary.rows(reports, names), len(summary.COLUMNS) - 1)
    text = "\n".join(lines)
    assert "warning: gridding_2_2_2" in text  # warnings are kept, under the table


def test_summary_names_are_unique(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    files = []
    for folder in ("a", "b"):
        path = tmp_path / folder / "net.yaml"
        path.write_text("input: [3, 8, 8]\nlayers: [conv: {out: 4, kernel: 3}]\n")
        files.append(path)
    reports = [convcost.analyze(convcost.load(p)) for p in files]
    assert summary.labels(reports, files) == [str(f) for f in files]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("rates", ["1,2,5", "2,2,2", "1,2,9", ",".join(["1", "2", "5"] * 6)])
def test_hdc_fits(rates: str, width: int) -> None:
    lines = draw(hdc_render.hdc_table(hdc.check(hdc.parse_rates(rates), 3), width), width)
    assert max(map(len, lines)) <= width
    assert any("ground truth" in line for line in lines)


@pytest.mark.parametrize("width", WIDTHS)
def test_check_fits(width: int) -> None:
    found = [check_file(LAYERS / "resnet50.yaml", {"params": "30M", "macs": "1G"}, str(LAYERS / "resnet18.yaml"), 0, 1, "float32")]
    lines = draw(check_render.check_table(found, width), width)
    assert max(map(len, lines)) <= width
    assert_rows_whole(lines, check_render.rows(found[0]), 5)


def test_pipes_and_files_are_never_cut(tmp_path: Path) -> None:
    """Not a terminal: every full name and every column, however long the names."""
    long = "a_rather_long_layer_name_that_a_person_gave_" * 3
    model = tmp_path / "long.yaml"
    model.write_text(f"input: [3, 16, 16]\nlayers:\n  - conv: {{out: 8, kernel: 3, name: {long}}}\n  - conv: {{out: 8, kernel: 3}}\n")
    result = runner.invoke(app, ["analyze", str(model)])
    assert result.exit_code == 0 and long in result.stdout and ELLIPSIS not in result.stdout
    out = tmp_path / "compare.txt"
    assert runner.invoke(app, ["compare", str(model), "-o", str(out)]).exit_code == 0
    text = out.read_text()
    assert long in text and "cov." not in text and "×MACs" in text and ELLIPSIS not in text
    resnet = runner.invoke(app, ["compare", str(LAYERS / "resnet50.yaml")]).stdout
    report = convcost.analyze(convcost.load(LAYERS / "resnet50.yaml"))
    assert all(r.name in resnet for r in report.layers if r.kind == "conv")


def test_names_are_markup_free_data(tmp_path: Path) -> None:
    model = tmp_path / "m.yaml"
    model.write_text("input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, name: '[bold]x[/]'}\n")
    result = runner.invoke(app, ["analyze", str(model)])
    assert result.exit_code == 0 and "[bold]x[/]" in result.stdout


def test_readme_shows_real_compare_output_at_80_columns() -> None:
    from convcost.refdoc import block

    from .readme_blocks import compare_80

    shown = block((LAYERS.parent / "README.md").read_text(), "compare80")
    assert shown == compare_80(), "README compare block is stale: python -m tests.readme_blocks"


def test_readme_graph_block_is_current_and_fits_80_columns() -> None:
    from convcost.refdoc import block

    from .readme_blocks import graph_80

    shown = block((LAYERS.parent / "README.md").read_text(), "graph80")
    assert shown == graph_80(), "README graph block is stale: python -m tests.readme_blocks"
    assert max(len(line) for line in shown.splitlines()) <= 80
    assert max(len(line) for line in shown.splitlines()[2:-1]) <= 80


@pytest.mark.parametrize("width", (80, 120))
def test_analyze_with_timings_fits_without_hiding(width: int) -> None:
    from convcost.backends.execute import execute, merge_into

    stack = convcost.load(LAYERS / "resnext_block.yaml")
    report, wrong = merge_into(convcost.analyze(stack), execute(stack, convcost.analyze(stack), warmup=0, repeat=1))
    lines = draw(table.report_table(report, width), width)
    text = "\n".join(lines)
    assert not wrong and max(map(len, lines)) <= width and "not shown" not in text
    assert all(h in text for h in ("ms", "min–max", "GMAC/s", "shape", "cov."))
