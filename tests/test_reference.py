"""The reference lives in the repo, comes from the code and cannot drift (issue: the reference)."""

from __future__ import annotations

import functools
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from convcost.cli import app, run
from convcost.kinds import KINDS
from convcost.kinds.base import ARGUMENT_DOCS
from convcost.refdoc import REFERENCE, block, generated

from .conftest import LAYERS, ROOT

runner = CliRunner()


def test_generated_parts_of_the_reference_are_current() -> None:
    text = REFERENCE.read_text()
    for name, body in generated().items():
        assert block(text, name) == body.strip(), f"docs/reference.md '{name}' is stale: python -m convcost.refdoc"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_is_documented_and_its_example_runs(kind: str) -> None:
    cls = KINDS[kind]
    assert (cls.__doc__ or "").strip() and cls.COST and cls.EXAMPLE, kind
    assert all(a in cls.ARG_DOCS or a in ARGUMENT_DOCS for a in cls.arguments()), kind
    result = runner.invoke(app, ["kinds", kind])
    assert result.exit_code == 0 and "cost:" in result.stdout and "on a 16×32×32 input: output" in result.stdout
    import io

    from rich.console import Console

    from convcost.render.kinds import kinds_table

    for width in (60, 80):
        buffer = io.StringIO()
        Console(file=buffer, width=width).print(kinds_table(kind, width))
        assert max(len(line) for line in buffer.getvalue().splitlines()) <= width
    assert f"### `{kind}`" in REFERENCE.read_text()


def test_kinds_lists_every_kind_and_refuses_unknown_ones() -> None:
    listing = runner.invoke(app, ["kinds"]).stdout
    assert all(re.search(rf"^{re.escape(k)}\s", listing, re.M) for k in KINDS)
    bad = runner.invoke(app, ["kinds", "convv"])
    assert bad.exit_code == 2 and "did you mean 'conv'" in bad.stderr


@functools.cache
def validator():  # type: ignore[no-untyped-def]
    """One validator of `convcost schema` for the whole run (checking the schema takes a second)."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", sorted(LAYERS.glob("*.yaml")), ids=lambda p: p.stem)
def test_schema_validates_the_zoo(path: Path) -> None:
    errors = list(validator().iter_errors(yaml.safe_load(path.read_text())))
    assert not errors, errors[0].message


@pytest.mark.parametrize("text", [
    "input: [3, 8, 8]\nlayers: [convv: {out: 4, kernel: 3}]\n",            # a wrong kind
    "input: [3, 8, 8]\nlayers: [conv: {out: 4, kernel: 3, strde: 2}]\n",   # a wrong argument
    "input: [3, 8, 8]\nlayers: [conv: {out: four, kernel: 3}]\n",          # a wrong type
    "input: [3, 8, 8]\nlayers: [conv: {kernel: 3}]\n",                     # a missing argument
    "input: [3, 8, 8]\nlayers: [conv]\n",                                   # a kind that needs arguments, bare
    "input: [3, 8, 8]\nlayers: [upsample: {scale: 2, mode: cubic}]\n",     # not one of the choices
    "input: [3, 8, 8]\nlayer: [relu]\n",                                    # a wrong top-level key
    "input: [3, 8, 8]\nlayers: [relu]\nbudget: {parms: 1M}\n",              # a wrong budget
    "input: [3, 8, 8]\nblocks: {b: {layers: [relu]}}\nlayers: [b, conv: {out: 4, kernel: 3, strde: 2}]\n",  # with blocks too
])  # fmt: skip
def test_schema_rejects_broken_files(text: str) -> None:
    assert not validator().is_valid(yaml.safe_load(text))


@pytest.mark.parametrize("text", [
    "input: [3, 8, 8]\nlayers: [convv: {out: 4, kernel: 3}]\n",
    "input: [3, 8, 8]\nlayers: [conv: {out: four, kernel: 3}]\n",
])  # fmt: skip
def test_what_the_schema_rejects_analyze_refuses(text: str, tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    assert run(["analyze", str(path)]) == 2


def _readme_commands() -> list[str]:
    """Every `convcost …` command in the README's code blocks that runs on a bundled file; the
    convcost commands of one line chained with && stay together (a later one reads what an
    earlier one wrote)."""
    readme = (ROOT / "README.md").read_text()
    commands = []
    for body in re.findall(r"```(?:bash|console|sh)\n(.*?)```", readme, re.S):
        for line in body.splitlines():
            line = line.strip().removeprefix("$ ").split("  #")[0]
            parts = [p.strip() for p in line.split("&&")]
            chain = [p for p in parts if p.startswith("convcost ") and "models/" not in p and "MODEL" not in p]
            if chain:
                commands.append(" && ".join(chain))
    return commands


def needs(command: str) -> list[str]:
    """The optional modules a README command needs: torch to import a .py factory, to export or to run
    on torch; onnx to import a .onnx file; matplotlib to --plot."""
    wanted = []
    if re.search(r"convcost import \S+\.py:", command) or "convcost export" in command or "--backend torch" in command:
        wanted.append("torch")
    if re.search(r"convcost import \S+\.onnx", command):
        wanted.append("onnx")
    if "--plot" in command:
        wanted.append("matplotlib")
    return wanted


def test_the_readme_has_commands_to_run() -> None:
    assert len(_readme_commands()) >= 3


@pytest.mark.parametrize("command", _readme_commands())
def test_readme_commands_run(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Each runs as written from the repository root: exit 0, or 1 where it checks a budget or rates.
    A line that needs an optional extra (torch, onnx, matplotlib) is skipped, saying which, where it
    is not installed; calibrate measures for a moment only (the README's --seconds is for users)."""
    monkeypatch.chdir(ROOT)
    import glob

    for module in needs(command):
        pytest.importorskip(module, reason=f"the README line needs {module}: {command}")
    import io

    for part in command.split(" && "):
        piped = None  # `convcost A | convcost B`: what A printed is B's standard input
        for stage in part.split(" | "):
            args = []
            for a in shlex.split(stage)[1:]:
                a = a.replace("out/", str(tmp_path) + "/")
                args += sorted(glob.glob(a)) if "*" in a else [a]
            if args[0] == "calibrate" and "--seconds" in args:
                args[args.index("--seconds") + 1] = "0.5"
            if piped is not None:
                monkeypatch.setattr("sys.stdin", io.StringIO(piped))
            capsys.readouterr()
            code = run(args)
            piped = capsys.readouterr().out
            assert code in ((0, 1) if args[0] in ("check", "hdc-check") else (0,)), stage


def test_no_link_leaves_the_repository() -> None:
    for path in (ROOT / "README.md", REFERENCE):
        text = path.read_text()
        links = re.findall(r"\]\(([^)]+)\)", text)
        assert all(not link.startswith(("http", "../", "/")) for link in links), (path.name, links)
        assert "shared/" not in text and "SPEC" not in text and "OWNER" not in text, path.name


def test_no_kind_costs_nothing_by_accident() -> None:
    """Every registered kind states params and MACs (elementwise ones through Costless, on
    purpose); a kind that forgets a formula fails loudly instead of counting 0."""
    from typing import ClassVar

    from convcost.kinds.base import Costless, Kind

    for name, cls in KINDS.items():
        assert cls.params is not Kind.params and cls.macs is not Kind.macs, name
        if issubclass(cls, Costless):  # its documentation says the same
            assert "0 MACs" in cls.COST and "MACs =" not in cls.COST, name

    class Forgetful(Kind):
        kind: ClassVar[str] = "forgetful"

    with pytest.raises(NotImplementedError, match="states no params formula"):
        Forgetful(ndim=2).params((3, 8, 8))


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(k for k, cls in KINDS.items() if not cls.UNCOUNTED))  # unknown: refused (test_interop)
def test_every_kind_runs_alike_on_numpy_and_torch(kind: str) -> None:
    """A kind is one place: its example runs through its own numpy function and its own torch
    module on the same weights, with the same output; the torch module's parameters have the
    kind's shapes and sum to its params formula."""
    pytest.importorskip("torch")
    import numpy as np

    import convcost
    from convcost.backends.execute import run_once
    from convcost.backends.torch_build import build
    from convcost.reference import EXAMPLE_INPUT

    stack = convcost.loads(f"input: {EXAMPLE_INPUT}\nlayers:\n  - {KINDS[kind].EXAMPLE}\n")
    a, b = run_once(stack, "numpy", seed=5, batch=2), run_once(stack, "torch", seed=5, batch=2)
    assert a.shape == b.shape == (2, *stack.output)
    np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-4 * max(1.0, float(np.abs(b).max())))
    leaf = stack.layers[0]
    module = build(stack)
    shapes = [tuple(p.shape) for p in module.items[0].parameters()]
    assert shapes == leaf.op.param_shapes(leaf.in_shape)
    assert sum(p.numel() for p in module.items[0].parameters()) == leaf.op.params(leaf.in_shape)
