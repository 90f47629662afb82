"""Issue 22 (reliability round 3), item 1: no user string reaches generated PyTorch source as code.

Every name field a model can carry — the model's name, a layer's, a residual's, a concat's, a
block's (a prefix of its layers' names), the model file's own name, and an ONNX node's name kept
by `import` — is tried with payloads that end a comment or a docstring (newline, CR, unicode line
separators, triple quotes, backslashes, NUL, Python keywords). The exported file must compile,
and importing it, building it and running it must not create the marker file the payload would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from convcost.cli import run

torch = pytest.importorskip("torch")

#: each ends a `# name` comment or a docstring if written raw; `{mark}` is the marker file
PAYLOADS = {
    "newline": "a\nopen({mark!r}, 'w')\n#",
    "carriage-return": "a\ropen({mark!r}, 'w')\r#",
    "crlf": "a\r\nopen({mark!r}, 'w')\r\n#",
    "line-separator": "a\u2028open({mark!r}, 'w')\u2029#",
    "next-line": "a\x85open({mark!r}, 'w')\x0c#",
    "triple-double": 'a"""\nopen({mark!r}, "w")\n"""',
    "triple-single": "a'''\nopen({mark!r}, 'w')\n'''",
    "backslash-n": "a\\N{{x}}\\",
    "trailing-backslash": "name\\",
    "nul": "a\x00b",
    "quotes": "\"'\"'",
    "keyword": "class",
    "none": "None",
}

FIELDS = ("model", "layer", "residual", "concat", "block")


def yaml_text(field: str, name: str) -> str:
    """A small model whose ``field`` is called ``name`` (a YAML double-quoted scalar keeps any character)."""
    quoted = '"' + "".join(f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}" for c in name) + '"'
    named = {f: quoted if f == field else f'"{f}1"' for f in FIELDS}
    return (
        f"name: {named['model']}\n"
        "input: [3, 8, 8]\n"
        "blocks:\n"
        f"  unit: {{layers: [conv: {{out: 4, kernel: 3, padding: 1, name: {named['layer']}}}]}}\n"
        "layers:\n"
        f"  - unit: {{name: {named['block']}}}\n"
        f"  - residual: {{name: {named['residual']}, body: [conv: {{out: 4, kernel: 3, padding: 1}}]}}\n"
        f"  - concat: {{name: {named['concat']}, branches: [[], [relu]]}}\n"
    )


def exported_runs_clean(source_file: Path, mark: Path) -> None:
    """The file compiles; importing, building and running it creates no marker."""
    text = source_file.read_text(encoding="utf-8")
    code = compile(text, str(source_file), "exec")  # a SyntaxError or a NUL fails the test
    namespace: dict[str, object] = {"__name__": "exported"}
    exec(code, namespace)
    model = namespace["build"]()  # type: ignore[operator]
    model(torch.zeros(1, 3, 8, 8))
    assert not mark.exists(), f"{source_file}: a name ran as code"


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_no_name_field_reaches_the_source_as_code(field: str, payload: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mark = tmp_path / "MARK"
    name = PAYLOADS[payload].format(mark=str(mark))
    model = tmp_path / "model.yaml"
    model.write_text(yaml_text(field, name), encoding="utf-8")
    out = tmp_path / "model.py"
    code = run(["export", str(model), "-o", str(out)])
    err = capsys.readouterr().err
    if code == 2:  # the name may be refused as a name; then in one line, and nothing written
        assert err.count("\n") == 1 and err.startswith("error: ") and not out.exists(), err
        return
    assert code == 0, err
    exported_runs_clean(out, mark)


@pytest.mark.parametrize("payload", ["newline", "triple-double", "backslash-n"])
def test_the_model_file_name_is_escaped_too(payload: str, tmp_path: Path) -> None:
    mark = tmp_path / "MARK"
    name = PAYLOADS[payload].format(mark=str(mark)).replace("/", "_").replace("\x00", "")
    model = tmp_path / f"{name}.yaml"
    model.write_text(yaml_text("layer", "plain"), encoding="utf-8")
    out = tmp_path / "model.py"
    assert run(["export", str(model), "-o", str(out)]) == 0
    exported_runs_clean(out, mark)


def test_class_names_that_are_keywords_compile(tmp_path: Path) -> None:
    """`name: none` used to give `class None(nn.Module)`."""
    for name in ("none", "true", "false", "f", "helper"):
        model = tmp_path / f"{name}.yaml"
        model.write_text(f"name: '{name}'\ninput: [3, 8, 8]\nlayers: [relu]\n")
        out = tmp_path / f"{name}.py"
        assert run(["export", str(model), "-o", str(out)]) == 0
        exported_runs_clean(out, tmp_path / "MARK")


def test_an_onnx_node_name_kept_by_import_is_escaped_by_export(tmp_path: Path) -> None:
    """An untrusted ONNX file: a node's name is kept as the layer name by `import`, then `export`."""
    onnx = pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    mark = tmp_path / "MARK"
    evil = f'/a\nopen({str(mark)!r}, \'w\')\n#"""/Conv'
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["x", "w"], ["c"], name=evil, pads=[1, 1, 1, 1]),
            helper.make_node("Add", ["c", "x"], ["y"], name=f"/r\n{evil}/Add"),
        ],  # fmt: skip
        'g\n"""',
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])],
        [numpy_helper.from_array(np.zeros((3, 3, 3, 3), np.float32), "w")],
    )
    path = tmp_path / "evil.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    model, out = tmp_path / "evil.yaml", tmp_path / "evil.py"
    assert run(["import", str(path), "-o", str(model)]) == 0
    assert run(["export", str(model), "-o", str(out)]) == 0
    exported_runs_clean(out, mark)
