"""Mistakes a newcomer makes (issue: newcomer errors): each one located line that says what to write."""

from __future__ import annotations

import io
import json
import sys

import pytest

from convcost.cli import run

TOP = "input: [3, 32, 32]\nlayers:\n"

# (file text, "line:col", fragments the one error line must hold)
CASES = {
    "item indented deeper": (
        TOP + "  - conv: {out: 8, kernel: 3}\n   - relu\n",
        "4:4",
        ["indentation", "'- relu' starts in column 4", "'- conv' above it in column 3", "(found items: conv)"],
    ),
    "item indented shallower": (
        TOP + "  - conv: {out: 8, kernel: 3}\n - relu\n",
        "4:2",
        ["indentation", "'- relu' starts in column 2", "column 3", "(found items: conv)"],
    ),
    "item deeper in a body": (
        TOP + "  - residual:\n      body:\n        - conv: {out: 3, kernel: 3, padding: 1}\n       - relu\n",
        "6:8",
        ["indentation", "'- relu' starts in column 8", "'- conv' above it in column 9", "(found items: conv)"],
    ),
    "top-level key indented": (
        "input: [3, 32, 32]\n  layers:\n  - relu\n",
        "2:3",
        ["indentation", "'layers' starts in column 3", "'input' above it in column 1", "(found keys: input)"],
    ),
    "first key indented": (
        "  input: [3, 32, 32]\nlayers:\n  - relu\n",
        "2:1",
        ["indentation", "'layers' starts in column 1", "'input' above it in column 3", "(found keys: input)"],
    ),
    "argument indented less": (
        TOP + "  - conv:\n      out: 8\n     kernel: 3\n",
        "5:6",
        ["indentation", "'kernel' starts in column 6", "'out' above it in column 7", "(found keys: out)"],
    ),
    "argument indented more": (
        TOP + "  - conv:\n      out: 8\n        kernel: 3\n",
        "5:9",
        ["indentation", "'kernel' starts in column 9", "'out' above it in column 7", "(found keys: out)"],
    ),
    "missing dash": (
        TOP + "  - conv: {out: 8, kernel: 3}\n  relu:\n",
        "4:3",
        ["indentation", "'relu' has no '- '", "'- conv' above it in the same column", "(found items: conv)"],
    ),
    "arguments not under the kind": (
        TOP + "  - conv:\n    out: 8\n    kernel: 3\n",
        "4:5",
        ["layers[0]: indentation: 'out' is at the level of 'conv'", "indent the arguments under conv", "(found keys: conv, out, kernel)"],
    ),
    "a layer at the level of the kind": (
        TOP + "  - conv: {out: 8, kernel: 3}\n    relu:\n",
        "4:5",
        ["layers[0]: indentation: 'relu' is at the level of 'conv'", "start 'relu' on its own line with '- '", "(found keys: conv, relu)"],
    ),
    "layers under defaults": (
        "input: [3, 32, 32]\ndefaults:\n  bias: false\n  layers:\n    - relu\n",
        "4:3",
        ["defaults.layers: indentation: 'layers' is indented under 'defaults'", "column 1", "(found top-level keys: input, defaults)"],
    ),
    "kernel 3x3": (TOP + "  - conv: {out: 8, kernel: 3x3}\n", "3:28", ["layers[0].conv.kernel", "found '3x3'; write 3 or [3, 3]"]),
    "kernel 3x5": (TOP + "  - conv: {out: 8, kernel: 3x5}\n", "3:28", ["found '3x5'; write [3, 5]"]),
    "stride 2x2": (TOP + "  - conv: {out: 8, kernel: 3, stride: 2x2}\n", "3:39", ["layers[0].conv.stride", "write 2 or [2, 2]"]),
    "padding 1x1": (TOP + "  - conv: {out: 8, kernel: 3, padding: 1x1}\n", "3:40", ["layers[0].conv.padding", "write 1 or [1, 1]"]),
    "pool kernel 3x3": (TOP + "  - maxpool: {kernel: 3x3}\n", "3:23", ["layers[0].maxpool.kernel", "write 3 or [3, 3]"]),
    "input 3x224x224": ("input: 3x224x224\nlayers: [relu]\n", "1:8", ["input:", "found '3x224x224'; write [3, 224, 224]"]),
    "input as a tuple": ("input: (3, 224, 224)\nlayers: [relu]\n", "1:8", ["write [3, 224, 224]"]),
    "out_channels": (
        TOP + "  - conv: {out_channels: 8, kernel: 3}\n",
        "3:26",
        ["layers[0].conv.out_channels: unknown argument 'out_channels'", "did you mean 'out'?"],
    ),
    "filters": (TOP + "  - conv: {filters: 8, kernel: 3}\n", "3:21", ["unknown argument 'filters'", "did you mean 'out'?"]),
    "channels": (TOP + "  - conv: {channels: 8, kernel: 3}\n", "3:22", ["unknown argument 'channels'", "did you mean 'out'?"]),
    "in_channels": (
        TOP + "  - conv: {in_channels: 3, out: 8, kernel: 3}\n",
        "3:25",
        ["unknown argument 'in_channels'", "input channels are inferred from the previous layer", "drop in_channels"],
    ),
    "kernel_size": (
        TOP + "  - conv: {out: 8, kernel_size: 3}\n",
        "3:33",
        ["unknown argument 'kernel_size'", "did you mean 'kernel'? convcost calls kernel_size kernel"],
    ),
    "out_features": (TOP + "  - gap\n  - linear: {out_features: 10}\n", "4:28", ["did you mean 'out'?"]),
    "default kernel_size": (
        "input: [3, 32, 32]\ndefaults: {kernel_size: 3}\nlayers: [relu]\n",
        "2:25",
        ["defaults.kernel_size", "did you mean 'kernel'? convcost calls kernel_size kernel"],
    ),
    "act swish": (TOP + "  - conv: {out: 8, kernel: 3, act: swish}\n", "3:36", ["layers[0].conv.act", "did you mean 'silu'?"]),
    "act hardswish": (TOP + "  - conv: {out: 8, kernel: 3, act: hardswish}\n", "3:36", ["did you mean 'hswish'?"]),
    "act hard_swish": (TOP + "  - conv: {out: 8, kernel: 3, act: hard_swish}\n", "3:36", ["did you mean 'hswish'?"]),
    "act relu_6": (TOP + "  - conv: {out: 8, kernel: 3, act: relu_6}\n", "3:36", ["did you mean 'relu6'?"]),
    "se act swish": (TOP + "  - se: {act: swish}\n", "3:15", ["layers[0].se.act", "did you mean 'silu'?"]),
    "se gate hard_sigmoid": (TOP + "  - se: {gate: hard_sigmoid}\n", "3:16", ["layers[0].se.gate", "did you mean 'hsigmoid'?"]),
    "kind swish": (TOP + "  - swish\n", "3:5", ["unknown layer kind 'swish' (did you mean 'silu'?"]),
    "kind hard_swish": (TOP + "  - hard_swish\n", "3:5", ["did you mean 'hswish'? convcost calls hard_swish hswish"]),
    "kind leaky_relu": (TOP + "  - leaky_relu\n", "3:5", ["did you mean 'leakyrelu'? convcost calls leaky_relu leakyrelu"]),
    "kind hard_sigmoid": (TOP + "  - hard_sigmoid\n", "3:5", ["did you mean 'hsigmoid'? convcost calls hard_sigmoid hsigmoid"]),
    "channels last misfit": (
        "input: [224, 224, 3]\nlayers:\n  - conv: {out: 64, kernel: 7, stride: 2}\n",
        "3:29",
        ["larger than the padded input 3", "looks channels last", "did you mean [3, 224, 224]?"],
    ),
}


def _error_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    code = run(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


@pytest.mark.parametrize("name", list(CASES))
def test_newcomer_mistake_is_one_located_line_with_the_fix(name: str, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    text, where, fragments = CASES[name]
    path = tmp_path / "model.yaml"
    path.write_text(text)
    line = _error_line(capsys, ["analyze", str(path)])
    assert line.startswith(f"error: {path}:{where}: "), line
    for fragment in fragments:
        assert fragment in line, line


def test_only_indentation_mistakes_say_indentation(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "model.yaml"
    for text in ("name: a: b\ninput: [3, 8, 8]\nlayers: [relu]\n", TOP + "  - conv:\n      out: 3: 4\n"):  # a colon too many
        path.write_text(text)
        line = _error_line(capsys, ["analyze", str(path)])
        assert "YAML error: mapping values are not allowed" in line and ": indentation" not in line, line
    path.write_text(TOP + "  - conv:\n      out: 3\n        kernel: 3\n")  # the same error, from an indentation
    assert "model.yaml:5:9: indentation: 'kernel' starts in column 9" in _error_line(capsys, ["analyze", str(path)])


def _warnings(path, shape: list[int], capsys: pytest.CaptureFixture[str]) -> list[str]:  # type: ignore[no-untyped-def]
    path.write_text(f"input: {shape}\nlayers: [relu]\n")
    assert run(["analyze", str(path), "-f", "json"]) == 0
    return json.loads(capsys.readouterr().out)["warnings"]  # type: ignore[no-any-return]


def test_channels_last_input_is_warned_and_channels_first_is_not(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "model.yaml"
    for shape, turned in (([224, 224, 3], [3, 224, 224]), ([64, 64, 1], [1, 64, 64]), ([32, 32, 32, 4], [4, 32, 32, 32])):
        warnings = _warnings(path, shape, capsys)
        assert any(
            f"input {shape} looks channels last" in w and "channels first" in w and f"did you mean {turned}?" in w for w in warnings
        ), warnings
    # the first axis small (or not 4× the last), or the last not 1, 3 or 4
    for shape in ([3, 224, 224], [16, 16, 4], [8, 32, 3], [15, 64, 1], [64, 8, 8], [17, 5, 5]):
        assert not any("channels last" in w for w in _warnings(path, shape, capsys)), shape


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))


def test_analyze_reads_the_model_from_standard_input(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    _stdin(monkeypatch, "input: [3, 8, 8]\nlayers: [conv: {out: 4, kernel: 3}]\n")
    assert run(["analyze", "-", "-f", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == "stdin" and report["totals"]["params"] == 4 * 3 * 9 + 4


def test_standard_input_errors_are_located_in_stdin(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    _stdin(monkeypatch, TOP + "  - conv: {out: 8, kernel: 3}\n   - relu\n")
    line = _error_line(capsys, ["analyze", "-"])
    assert line.startswith("error: <stdin>:4:4: indentation: "), line


def test_standard_input_has_the_file_size_limit(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from convcost.yamlio.read import MAX_FILE_BYTES

    _stdin(monkeypatch, "#" * (MAX_FILE_BYTES + 10))
    line = _error_line(capsys, ["analyze", "-"])
    assert line.startswith("error: <stdin>:1:1: ") and "larger than 4 MiB" in line, line
