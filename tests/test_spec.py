"""Bad input: one located line on stderr, exit 2, never a traceback (SPEC §6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import convcost
from convcost.cli import app

runner = CliRunner()

# (file text, expected location "line:col", expected fragment of the message)
CASES = {
    "unknown argument": (
        "input: [3, 32, 32]\nlayers:\n  - conv: {out: 8, kernal: 3}\n",
        "3:28",
        "layers[0].conv.kernal: unknown argument 'kernal' for conv; expected kernel",
    ),
    "suggested kind": (
        "input: [3, 32, 32]\nlayers:\n  - convv: {out: 8, kernel: 3}\n",
        "3:5",
        "unknown layer kind 'convv' (did you mean 'conv'?)",
    ),
    "wrong type": (
        "input: [3, 32, 32]\nlayers:\n  - conv: {out: eight, kernel: 3}\n",
        "3:17",
        "layers[0].conv.out: expected a positive integer, found 'eight'",
    ),
    "misfit groups": (
        "input: [3, 32, 32]\nlayers:\n  - conv: {out: 8, kernel: 3, groups: 2}\n",
        "3:39",
        "C_in=3 is not divisible by groups=2",
    ),
    "misfit out": ("input: [4, 32, 32]\nlayers:\n  - conv: {out: 6, kernel: 3, groups: 4}\n", "3:39", "out=6 is not divisible by groups=4"),
    "kernel too large": ("input: [3, 4, 4]\nlayers:\n  - conv: {out: 8, kernel: 7}\n", "3:28", "larger than the padded input 4"),
    "residual mismatch": (
        "input: [3, 8, 8]\nlayers:\n  - residual: {body: [conv: {out: 4, kernel: 3}]}\n",
        "3:5",
        "residual body gives [4, 6, 6] but the shortcut gives [3, 8, 8]",
    ),
    "concat mismatch": ("input: [3, 8, 8]\nlayers:\n  - concat: [[conv: {out: 4, kernel: 3}], []]\n", "3:5", "spatial shapes must match"),
    "undefined block": ("input: [3, 8, 8]\nlayers:\n  - blk: {}\n", "3:5", "unknown layer kind 'blk'"),
    "recursive block": (
        "input: [3, 8, 8]\nblocks:\n  a: {layers: [b]}\n  b: {layers: [a]}\nlayers:\n  - a\n",
        "4:16",
        "recursive block: a → b → a",
    ),
    "undefined parameter": (
        "input: [3, 8, 8]\nblocks:\n  blk: {params: {out: 4}, layers: [conv: {out: $outt, kernel: 3}]}\nlayers:\n  - blk: {out: 8}\n",
        "3:48",
        "undefined parameter $outt",
    ),
    "missing parameter": (
        "input: [3, 8, 8]\nblocks:\n  blk: {params: {out: null}, layers: [conv: {out: $out, kernel: 3}]}\nlayers:\n  - blk: {}\n",
        "5:5",
        "block blk needs parameter 'out'",
    ),
    "yaml syntax": ("input: [3, 8, 8]\nlayers: [conv: {out: 4, kernel: 3]\n", "2:34", "YAML error"),
    "empty file": ("", "1:1", "empty file"),
    "object tag": (
        'input: [3, 8, 8]\nlayers:\n  - !!python/object/apply:os.system ["echo hi"]\n',
        "3:5",
        "tags that construct objects are not allowed",
    ),
    "expansion limit": (
        "input: [3, 8, 8]\nlayers:\n  - repeat: {times: 1000, layers: [repeat: {times: 1000, layers: [relu, relu]}]}\n",
        "3:5",
        "would expand past 1,000,000 layers, lists and merges",
    ),
    "duplicate key": ("input: [3, 8, 8]\nlayers: [relu]\nlayers: []\n", "3:1", "duplicate key 'layers'"),
    "padding length": ("input: [3, 8, 8]\nlayers:\n  - conv: {out: 8, kernel: 3, padding: [1, 2, 3]}\n", "3:40", "expected a padding"),
    "unread channels": ("input: [3, 8, 8]\nlayers:\n  - gchconv: {groups: 3, kernel: 2}\n", "3:34", "leaves input channels unread"),
    "rank": (
        "input: [3, 8, 8]\nlayers: [linear: {out: 3}, conv: {out: 3, kernel: 1}]\n",
        "2:28",
        "conv expects an input [C, 2 spatial dims], found [3]",
    ),
    "bad default": (
        "input: [3, 8, 8]\ndefaults: {biass: false}\nlayers: [relu]\n",
        "2:19",
        "no layer kind takes 'biass' (did you mean 'bias'?)",
    ),
    "bad activation": ("input: [3, 8, 8]\nlayers: [conv: {out: 3, kernel: 1, act: swish}]\n", "2:41", "expected one of relu"),
    "top-level key": ("input: [3, 8, 8]\nlayer:\n  - relu\n", "2:1", "unknown key 'layer'"),
    "bad input": ("input: [3, 0, 8]\nlayers: [relu]\n", "1:8", "input: expected a positive integer, found 0"),
    "not a layer": ("input: [3, 8, 8]\nlayers: [{conv: {out: 1, kernel: 1}, relu: null}]\n", "2:10", "expected a layer"),
    "classes": ("input: [8, 4, 4]\nlayers: [convcls: {classes: 9}]\n", "2:29", "classes=9 is more than the 8 input channels"),
    "output padding": (
        "input: [2, 4]\nlayers: [convtranspose: {out: 1, kernel: 3, stride: 2, output_padding: 2}]\n",
        "2:72",
        "output_padding 2 must be smaller",
    ),
    "bad suffix": ("input: [3, 8, 8]\nlayers: [conv: {out: 4.5K3, kernel: 1}]\n", "2:22", "expected a positive integer, found '4.5K3'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_located_line_and_exit_2(case: str, tmp_path: Path) -> None:
    text, where, fragment = CASES[case]
    path = tmp_path / "model.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["analyze", str(path)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(f"error: {path}:{where}: "), line
    assert fragment in line
    assert result.stdout == ""


def test_binary_and_missing_files(tmp_path: Path) -> None:
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\x00\x01\x02")
    result = runner.invoke(app, ["analyze", str(binary)])
    assert result.exit_code == 2 and "found binary data" in result.stderr
    latin = tmp_path / "l.yaml"
    latin.write_bytes(b"input: [3, 8, 8]\nname: caf\xe9\nlayers: [relu]\n")
    result = runner.invoke(app, ["analyze", str(latin)])
    assert result.exit_code == 2 and "expected UTF-8 text, found byte 0xe9" in result.stderr
    result = runner.invoke(app, ["analyze", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2 and "cannot read file" in result.stderr


def test_bad_options_exit_2() -> None:
    model = str(Path(__file__).parent.parent / "layers" / "mobilenet_v1.yaml")
    assert runner.invoke(app, ["analyze", model, "--dtype", "float7"]).exit_code == 2
    assert runner.invoke(app, ["analyze", model, "--batch", "0"]).exit_code == 2
    assert runner.invoke(app, ["analyze", model, "--format", "xml"]).exit_code == 2


GARBAGE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 300), st.text(max_size=6),
              st.sampled_from(["conv", "same", "$x", "1M", "relu", "gap", "residual", "concat", "repeat", "blk"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(
        st.sampled_from(["input", "layers", "conv", "out", "kernel", "stride", "padding", "body", "times", "groups", "blocks",
                         "params", "relu", "concat", "name", "defaults", "budget", "repeat", "residual", "x"]), inner, max_size=4)),
    max_leaves=25,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(GARBAGE)
def test_garbage_gives_a_convcost_error_never_a_traceback(data: object) -> None:
    import json

    text = json.dumps(data)  # JSON is YAML
    try:
        convcost.loads(text)
    except convcost.ConvcostError as exc:
        assert str(exc) and "\n" not in str(exc)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_garbage_text_gives_a_convcost_error(text: str) -> None:
    try:
        convcost.loads(text)
    except convcost.ConvcostError as exc:
        assert re.match(r"^(<text>:\d+:\d+: )?", str(exc))
