"""Issue 23 item 1: the first screen answers — analyze --fold, --depth N, --top N, --summary, and
compare's summary last, its prose wrapped under its own indent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convcost.cli import run

from .conftest import LAYERS

RESNET50 = str(LAYERS / "resnet50.yaml")


def analyzed(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    assert run(["analyze", *args, "-f", "json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_fold_puts_norms_activations_and_adds_in_the_row_before(capsys: pytest.CaptureFixture[str]) -> None:
    every = analyzed(capsys, RESNET50)
    folded = analyzed(capsys, RESNET50, "--fold")
    rows = {r["name"]: r for r in folded["layers"]}
    # torchvision's conv1 (7·7·3·64 weights) with bn1 (2·64): one row, conv1's MACs at 112×112
    assert rows["conv"]["kind"] == "conv+bn+relu" and rows["conv"]["params"] == 7 * 7 * 3 * 64 + 2 * 64
    assert rows["conv"]["macs"] == 7 * 7 * 3 * 64 * 112 * 112
    # the projection shortcut (1·1·64·256 + bn) takes the add and the block's last relu
    assert rows["down1.shortcut.conv"]["kind"] == "conv+bn+residual+relu"
    assert rows["down1.shortcut.conv"]["params"] == 64 * 256 + 2 * 256
    # ResNet-50: 53 convs, a max pool, a global pool and the fc remain (no bn, relu or add row)
    kinds = [r["kind"].split("+")[0] for r in folded["layers"]]
    assert kinds.count("conv") == 53 and len(folded["layers"]) == 53 + 3
    assert folded["totals"] == every["totals"]
    for key in ("params", "macs", "activations", "bytes_moved"):
        assert sum(r[key] for r in folded["layers"]) == sum(r[key] for r in every["layers"])


def test_depth_collapses_blocks_by_the_parts_of_their_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "named.yaml"
    model.write_text(
        "input: [3, 32, 32]\nnames: as-written\nlayers:\n"
        "  - conv: {out: 8, kernel: 3, padding: 1, name: stem}\n"
        "  - conv: {out: 8, kernel: 3, padding: 1, name: layer1.0.conv1}\n"
        "  - relu: {name: layer1.0.relu}\n"
        "  - conv: {out: 8, kernel: 3, padding: 1, name: layer1.1.conv1}\n"
        "  - conv: {out: 16, kernel: 3, stride: 2, padding: 1, name: layer2.0.conv1}\n"
        "  - gap: {name: pool}\n"
    )
    one = analyzed(capsys, str(model), "--depth", "1")["layers"]
    assert [(r["name"], r["kind"]) for r in one] == [("stem", "conv"), ("layer1", "3 layers"), ("layer2", "conv"), ("pool", "gap")]
    assert one[1]["params"] == 2 * (8 * 8 * 9 + 8) and one[1]["macs"] == 2 * 8 * 8 * 9 * 32 * 32 and one[1]["output"] == [8, 32, 32]
    two = analyzed(capsys, str(model), "--depth", "2")["layers"]
    assert [r["name"] for r in two] == ["stem", "layer1.0", "layer1.1", "layer2.0", "pool"]
    assert [r["name"] for r in analyzed(capsys, str(model), "--depth", "3")["layers"]] == [
        "stem", "layer1.0.conv1", "layer1.0.relu", "layer1.1.conv1", "layer2.0.conv1", "pool"]  # fmt: skip


def test_top_lists_the_costliest_layers_first(capsys: pytest.CaptureFixture[str]) -> None:
    every = analyzed(capsys, RESNET50)["layers"]
    top = analyzed(capsys, RESNET50, "--top", "4")["layers"]
    assert len(top) == 4 and top[0]["name"] == "conv" and top[0]["macs"] == 7 * 7 * 3 * 64 * 112 * 112
    assert [r["macs"] for r in top] == sorted((r["macs"] for r in every), reverse=True)[:4]
    assert run(["analyze", RESNET50, "--top", "3"]) == 0
    assert "the 3 costliest of 174 rows by MACs" in capsys.readouterr().out


def test_top_with_a_profile_ranks_by_predicted_time(capsys: pytest.CaptureFixture[str]) -> None:
    data = analyzed(capsys, RESNET50, "--top", "5", "-p", "t4")
    times = [r["predicted"]["ms"] for r in data["layers"]]
    every = analyzed(capsys, RESNET50, "-p", "t4")
    assert times == sorted((r["predicted"]["ms"] for r in every["layers"]), reverse=True)[:5]
    assert data["predicted_ms"] == every["predicted_ms"]


def test_summary_shows_totals_and_warnings_only(capsys: pytest.CaptureFixture[str]) -> None:
    gridding = str(LAYERS / "gridding_2_2_2.yaml")
    assert run(["analyze", gridding, "--summary"]) == 0
    out = capsys.readouterr().out
    assert "params " in out and "warning: gridding" in out and "conv" not in out.split("params ")[0].split("\n", 2)[-1]
    data = analyzed(capsys, gridding, "--summary")
    assert data["layers"] == [] and data["warnings"] and data["totals"] == analyzed(capsys, gridding)["totals"]


@pytest.mark.parametrize(
    ("args", "said"),
    [(["--summary", "--top", "3"], "--summary"), (["--fold", str(LAYERS / "vgg16.yaml")], "one model")],
)
def test_row_options_that_cannot_take_effect_are_refused(args: list[str], said: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["analyze", RESNET50, *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and said in err, err


@pytest.mark.parametrize("fmt", ["csv", "markdown"])
def test_the_total_row_is_the_models_output_whatever_rows_are_shown(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["analyze", RESNET50, "--top", "2", "-f", fmt]) == 0
    total = [line for line in capsys.readouterr().out.splitlines() if "TOTAL" in line or "**total**" in line]
    assert total and "1000" in total[0] and "112" not in total[0]


def screen(width: int, *args: str) -> str:
    import convcost.output as output

    saved = output.terminal_width
    output.terminal_width = lambda: width
    try:
        import io
        from contextlib import redirect_stdout

        buffer = io.StringIO()
        with redirect_stdout(buffer):
            assert run(list(args)) == 0
        return buffer.getvalue()
    finally:
        output.terminal_width = saved


@pytest.mark.parametrize("width", [60, 80, 200])
def test_compare_prints_its_summary_last_and_wraps_prose_under_its_indent(width: int) -> None:
    text = screen(width, "compare", RESNET50)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), max(map(len, lines))
    summary = next(i for i, line in enumerate(lines) if line.startswith("design "))
    last_detail = max(i for i, line in enumerate(lines) if "per layer:" in line)
    assert summary > last_detail  # the answer is where the terminal leaves the reader
    said = next(i for i, line in enumerate(lines) if line.startswith("separable: "))
    assert said > summary
    for i in range(said + 1, len(lines)):
        if lines[i].startswith(("grouped", "K/M/G")):
            break
        assert lines[i].startswith("  "), lines[i]  # continuation and 'left alone' lines stay indented


@pytest.mark.parametrize("width", [80, 120, 200])
def test_folded_rows_fit_the_terminal(width: int) -> None:
    lines = screen(width, "analyze", RESNET50, "--fold", "--depth", "2").splitlines()
    assert all(len(line) <= width for line in lines)
    if width >= 120:
        assert any(line.startswith("down1.shortcut ") for line in lines)  # names uncut where there is room
