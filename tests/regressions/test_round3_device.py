"""Device profiles and the roofline plot (issue: reliability, round 3): a profile's name, source and
rates are data and are refused at load when no device has them (one located line, exit 2); names
reach tables and plots escaped and as written ($ is a dollar); a plot of 2×10^4 layers is quick."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from convcost.cli import app
from convcost.device.profiles import BUILTIN, Profile, find, from_data, parse_rate, to_data
from convcost.device.roofline import Prediction
from convcost.errors import ConvcostError
from convcost.render import predicted as predicted_render
from convcost.render import profiles as profiles_render
from convcost.yamlio.read import dump, parse_yaml

from .test_round2_hostile import cli

runner = CliRunner()
RATES = "peak: {fp32: 1 TFLOP/s}\nbandwidth: 1 GB/s\n"
MODEL = "input: [8, 32, 32]\nlayers:\n  - conv: {out: 8, kernel: 1}\n  - relu\n"
EVIL = "evil\x1b[31mRED\nnext"


def _files(tmp_path: Path, profile: str) -> tuple[Path, Path]:
    model, device = tmp_path / "model.yaml", tmp_path / "device.yaml"
    model.write_text(MODEL)
    device.write_text(profile)
    return model, device


def _refused(device: Path, *args: str, at: str = "") -> str:
    """The command refuses the profile: exit 2, one line naming the file (and the line:col), no traceback."""
    code, out, err, _ = cli(*args)
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1, (code, err)
    assert err.startswith(f"error: {device}:{at}"), err
    assert out == "", out
    return err


BAD_PROFILES = {
    "escape_in_name": (f'name: "{EVIL.encode("unicode_escape").decode()}"\n{RATES}', "1:7", "control characters"),
    "newline_in_source": (f'{RATES}source: "line one\\nline two"\n', "3:9", "source"),
    "mapping_name": (f"name: {{a: 1}}\n{RATES}", "1:7", "name: expected text"),
    "list_name": (f"name: [x, y]\n{RATES}", "1:7", "name: expected text"),
    "list_source": (f"{RATES}source: [a]\n", "3:9", "source: expected text"),
    "infinite_peak": ("peak: {fp32: 1e999 TFLOP/s}\nbandwidth: 1 GB/s\n", "1:14", "peak.fp32"),
    "5000_digit_bandwidth": (f"peak: {{fp32: 1 TFLOP/s}}\nbandwidth: 1{'0' * 5000} GB/s\n", "2:12", "bandwidth"),
    "vanishing_bandwidth": ("peak: {fp32: 1 TFLOP/s}\nbandwidth: 1e-300 GB/s\n", "2:12", "bandwidth"),
    "superscript_group_width": (f"{RATES}efficiency: {{'grouped:²': 0.5}}\n", "3:14", "efficiency.grouped:²"),
}


@pytest.mark.parametrize("case", sorted(BAD_PROFILES))
def test_a_profile_no_device_has_is_one_located_line(tmp_path: Path, case: str) -> None:
    text, at, words = BAD_PROFILES[case]
    model, device = _files(tmp_path, text)
    err = _refused(device, "analyze", str(model), "-p", str(device), "-f", "json", at=at)
    assert words in err and "\x1b" not in err, err


def test_compare_refuses_a_profile_name_with_escape_codes(tmp_path: Path) -> None:
    model, device = _files(tmp_path, BAD_PROFILES["escape_in_name"][0])
    _refused(device, "compare", str(model), "-p", str(device), at="1:7")


def test_a_digit_run_in_a_rate_is_refused_at_once(tmp_path: Path) -> None:
    """The old rate pattern backtracked quadratically over a long run of digits (hours for a 4 MiB file)."""
    model, device = _files(tmp_path, f"peak: {{fp32: 1 TFLOP/s}}\nbandwidth: {'1' * 200_000} X\n")
    code, _, err, took = cli("analyze", str(model), "-p", str(device), timeout=10)
    assert code == 2 and err.startswith(f"error: {device}:2:12: bandwidth:") and err.count("\n") == 1, err
    assert took < 5, took


def test_parse_rate_refuses_overflow_and_keeps_every_sane_rate() -> None:
    for bad in ("1e999 TFLOP/s", f"1{'0' * 5000} TFLOP/s", "0 TFLOP/s", "1e-300 TFLOP/s", "1e30 PFLOP/s"):
        with pytest.raises(ConvcostError, match="peak.fp32"):
            parse_rate(bad, "FLOP/s", "peak.fp32")
    assert parse_rate("1 kFLOP/s", "FLOP/s", "x") == 1e3 and parse_rate("1000000 PB/s", "B/s", "x") == 1e21
    assert parse_rate(".5 TFLOP/s", "FLOP/s", "x") == 0.5e12  # the numbers the old pattern read still read the same


def test_a_saved_profile_with_a_bad_name_is_listed_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "config" / "profiles"
    folder.mkdir(parents=True)
    (folder / "evil.yaml").write_text(BAD_PROFILES["escape_in_name"][0])
    env = {"CONVCOST_CONFIG": str(tmp_path / "config")}
    for fmt in ("table", "markdown"):
        result = runner.invoke(app, ["profiles", "-f", fmt], env=env)
        assert result.exit_code == 0 and "\x1b" not in result.stdout and "\nnext" not in result.stdout, result.stdout
        assert "evil" in result.stdout


def _rendered(renderable: object) -> str:
    console = Console(width=200, file=None, force_terminal=False, color_system=None, record=True)
    with console.capture() as captured:
        console.print(renderable)
    return captured.get()


def test_names_and_sources_are_escaped_where_they_are_rendered() -> None:
    """A profile built in Python (not loaded) still cannot split or colour a line of a table or heading."""
    evil = Profile("ev\x1bil", EVIL, {"fp32": 1e12}, 1e9, "source\x1b[2J\nsecond line")
    found = [(evil, "built-in")]
    for text in (_rendered(profiles_render.profiles_table(found, 200)), profiles_render.profiles_markdown(found)):
        assert "\x1b" not in text and "\nnext" not in text and "\nsecond line" not in text, text
    heading = predicted_render.heading(Prediction(evil, "float32", 1e12, {}, 0.0), 1)
    assert heading.isprintable() and "evil\\x1b[31mRED\\nnext" in heading, heading


def test_calibrate_cannot_save_a_profile_that_a_built_in_hides() -> None:
    from convcost.device.profiles import check_new_name

    for label in ("h100", "H100", "t4", "mine.yaml", "mine.YML"):
        with pytest.raises(ConvcostError, match=f"--name {label}: "):
            check_new_name(label)
    for label in ("h100-mine", "this-numpy-cpu", "a100x"):
        check_new_name(label)  # usable names pass


def test_a_tiny_calibrated_efficiency_survives_saving() -> None:
    """Rounded to 4 decimals it was saved as 0.0, which loading refuses: the profile could not be used."""
    mine = Profile("mine", "this machine", {"fp32": 1e11}, 1e10, "calibrate", {"memory": 0.00004, "conv": 0.5})
    back = from_data(parse_yaml(dump(to_data(mine)), "mine.yaml"), "mine", "mine.yaml")
    assert back.efficiency["memory"] == pytest.approx(0.00004) and back.efficiency["conv"] == 0.5


@pytest.mark.slow
def test_calibrated_source_is_one_printable_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import platform

    from convcost.device.calibrate import calibrate

    monkeypatch.setattr(platform, "node", lambda: "host\x1b[31m\nname")
    profile = calibrate("quick", "numpy", "cpu", 1, 0.5, lambda line: None)
    assert profile.source.isprintable(), profile.source
    path = tmp_path / "quick.yaml"
    path.write_text(dump(to_data(profile)))
    assert find(str(path)).source == profile.source  # the saved file loads


@pytest.mark.slow
def test_dollar_signs_in_names_are_drawn_as_written(tmp_path: Path) -> None:
    model = tmp_path / "model.yaml"
    model.write_text('name: "$\\\\alpha^{$"\ninput: [8, 32, 32]\nlayers:\n  - conv: {out: 8, kernel: 3, name: "$x_{$"}\n'
                     '  - relu: {name: "a$b$c\\\\frac"}\n')  # fmt: skip
    device = tmp_path / "device.yaml"
    device.write_text(f'name: "$\\\\frac{{a$ GPU"\n{RATES}')
    for suffix in ("png", "svg"):
        plot = tmp_path / f"roofline.{suffix}"
        result = runner.invoke(app, ["analyze", str(model), "-p", str(device), "--plot", str(plot), "-f", "json"])
        assert result.exit_code == 0 and "Traceback" not in result.output, result.output
        assert json.loads(result.stdout)["device_profile"]["name"] == "$\\frac{a$ GPU"
        assert plot.stat().st_size > 1000


@pytest.mark.slow
def test_a_plot_of_20000_layers_is_quick_and_has_no_artist_per_layer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    import convcost
    from convcost.device.plot import write_plot
    from convcost.device.roofline import predict

    stack = convcost.loads("input: [8, 32, 32]\nlayers:\n  - repeat: {times: 10000, layers: [{conv: {out: 8, kernel: 1}}, relu]}\n")
    report = convcost.analyze(stack)
    prediction = predict(stack, report, BUILTIN["t4"])
    figures = []
    close = plt.close
    monkeypatch.setattr(plt, "close", lambda figure: (figures.append(figure), close(figure)))
    start = time.perf_counter()
    write_plot(tmp_path / "big.png", report, prediction)
    took = time.perf_counter() - start
    assert (tmp_path / "big.png").stat().st_size > 1000
    artists = sum(len(axes.patches) + len(axes.collections) + len(axes.lines) for axes in figures[0].axes)
    assert artists < 100, artists  # was 40,000 bar rectangles
    assert took < 10, took  # 32 s before; about 1.5 s (0.8 of it importing matplotlib)


def test_a_profile_file_named_with_escape_codes_is_shown_escaped(tmp_path: Path) -> None:
    model, _ = _files(tmp_path, RATES)
    device = tmp_path / "ev\x1b[31mil.yaml"  # the id and default name come from the file's name
    device.write_text(RATES)
    for args in (["check", str(model), "--max-predicted-ms", "5"], ["analyze", str(model)], ["compare", str(model)]):
        result = runner.invoke(app, [*args, "-p", str(device)])
        assert result.exit_code == 0 and "\x1b" not in result.output and "ev\\x1b[31mil" in result.output, (args, result.output)
