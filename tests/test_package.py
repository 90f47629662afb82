"""The package is real: the bundled models ship inside it (convcost.zoo, `zoo:NAME`), and the wheel
holds them with the licence, the type marker and the one version."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import typer

import convcost
from convcost import zoo
from convcost.cli import app, run
from convcost.errors import ConvcostError
from convcost.render import zoo as show

from .conftest import LAYERS, ROOT

NAMES = sorted(p.stem for p in LAYERS.glob("*.yaml"))


def test_the_zoo_is_the_layers_folder() -> None:
    """layers/ in a clone is a link to the packaged folder: one copy of each file in git."""
    assert zoo.names() == NAMES and len(NAMES) >= 30
    assert (ROOT / "layers").is_symlink() and os.readlink(ROOT / "layers") == "convcost/layers"
    for name in NAMES:
        assert zoo.path(name).read_bytes() == (LAYERS / f"{name}.yaml").read_bytes(), name


def test_path_and_resolve() -> None:
    assert zoo.path("resnet50") == zoo.path("resnet50.yaml") and zoo.path("resnet50").name == "resnet50.yaml"
    assert zoo.resolve("zoo:resnet50") == zoo.path("resnet50") and zoo.resolve("zoo:resnet50").is_file()
    assert zoo.resolve("layers/resnet50.yaml") == Path("layers/resnet50.yaml")  # anything else: unchanged
    assert zoo.resolve("resnet50") == Path("resnet50")
    assert zoo.text("seed_separable") == (LAYERS / "seed_separable.yaml").read_text()


@pytest.mark.parametrize(("arg", "message"), [
    ("zoo:resnet5", "zoo:resnet5: no bundled model named 'resnet5' (did you mean 'resnet50'?); `convcost zoo` lists them"),
    ("zoo:mobilnet_v2", "(did you mean 'mobilenet_v2'?)"),
    ("zoo:", "zoo:: no bundled model named nothing; `convcost zoo` lists them"),
    ("zoo:../README", "no bundled model named '../README'"),
])  # fmt: skip
def test_an_unknown_name_is_one_clear_line(arg: str, message: str) -> None:
    with pytest.raises(ConvcostError) as caught:
        zoo.resolve(arg)
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("name", NAMES)
def test_every_zoo_model_loads_and_analyses(name: str) -> None:
    report = convcost.analyze(convcost.load(zoo.path(name)))
    assert report.totals.params > 0 and report.totals.macs > 0 and report.layers


def test_catalog() -> None:
    entries = zoo.catalog()
    assert [e.name for e in entries] == NAMES
    resnet50 = next(e for e in entries if e.name == "resnet50")
    assert (resnet50.params, resnet50.macs, resnet50.input) == (25_557_032, 4_089_184_256, (3, 224, 224))
    assert resnet50.description == "ResNet-50 v1.5 (torchvision layout: stride on the 3×3 conv), 224×224"
    assert all(e.description and len(e.description) < 120 for e in entries)


@pytest.mark.parametrize(("text", "expected"), [
    ("# ResNet-18, 224×224 — He et al. 2016.\n# more\ninput: [3, 8, 8]\n", "ResNet-18, 224×224"),
    ("# A head (stride 16: 513×513) for\n# segmentation: ASPP\n", "A head (stride 16: 513×513) for segmentation"),
    ("# yaml-language-server: $schema=schema.json\n# Tiny net. Second sentence.\n", "Tiny net"),
    ("# v1.5 of it\n", "v1.5 of it"),
    ("input: [3, 8, 8]\n# a comment after the start\n", ""),
])  # fmt: skip
def test_description_is_the_first_phrase_of_the_header(text: str, expected: str) -> None:
    assert zoo.description(text) == expected


def test_zoo_renderers() -> None:
    from rich.console import Console

    entries = zoo.catalog()
    for width in (60, 80, 120):
        buffer = io.StringIO()
        Console(file=buffer, width=width, no_color=True).print(show.zoo_table(entries, width))
        lines = buffer.getvalue().splitlines()
        assert max(len(line.rstrip()) for line in lines) <= width, width
        assert all(any(line.startswith(e.name + " ") for line in lines) for e in entries), width  # names are never cut
        assert any("25.6M" in line and "4.09G" in line for line in lines)
    narrow = io.StringIO()
    Console(file=narrow, width=60, no_color=True).print(show.zoo_table(entries, 60))
    assert "not shown at 60 columns: input" in narrow.getvalue()
    uncut = io.StringIO()
    Console(file=uncut, width=10_000, no_color=True).print(show.zoo_table(entries, None))
    assert "ResNet-50 v1.5 (torchvision layout: stride on the 3×3 conv), 224×224" in uncut.getvalue()
    data = json.loads(show.zoo_json(entries))
    assert data["schema_version"] == 1 and [m["name"] for m in data["models"]] == NAMES
    resnet18 = data["models"][NAMES.index("resnet18")]
    assert {"name": "resnet18", "input": [3, 224, 224], "params": 11_689_512, "macs": 1_814_073_344}.items() <= resnet18.items()
    rows = list(csv.DictReader(io.StringIO(show.zoo_csv(entries))))
    assert len(rows) == len(NAMES) and rows[NAMES.index("c3d")]["input"] == "3x16x112x112"
    markdown = show.zoo_markdown(entries).splitlines()
    assert markdown[2] == "| name | params | MACs | input | what it is |" and len(markdown) == 4 + len(NAMES)


def test_baseline_from_the_zoo(write_yaml) -> None:  # type: ignore[no-untyped-def]
    """check --baseline zoo:NAME: the bundled file is the baseline."""
    same = write_yaml(zoo.text("seed_separable"), "mine.yaml")
    assert run(["check", str(same), "--baseline", "zoo:seed_separable"]) == 0
    grown = write_yaml(zoo.text("seed_separable").replace("out: 256", "out: 300"), "grown.yaml")
    assert run(["check", str(grown), "--baseline", "zoo:seed_separable"]) == 1


def _wired() -> bool:
    return "zoo" in typer.main.get_command(app).commands  # type: ignore[attr-defined]  # a Typer app with commands is a group


needs_command = pytest.mark.skipif(not _wired(), reason="`convcost zoo` and zoo:NAME are not wired into cli.py yet")


@needs_command
def test_zoo_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["zoo", "-f", "csv"]) == 0
    assert [r["name"] for r in csv.DictReader(io.StringIO(capsys.readouterr().out))] == NAMES
    assert run(["zoo", "resnet50"]) == 0 and capsys.readouterr().out == zoo.text("resnet50")
    target = tmp_path / "model.yaml"
    assert run(["zoo", "resnet50", "-o", str(target)]) == 0 and target.read_text() == zoo.text("resnet50")
    assert run(["analyze", str(target), "-f", "json"]) == 0 and json.loads(capsys.readouterr().out)["totals"]["params"] == 25_557_032
    assert run(["zoo", "resnet5"]) == 2 and "did you mean 'resnet50'" in capsys.readouterr().err


@needs_command
def test_zoo_names_work_as_model_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["analyze", "zoo:resnet50", "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["params"] == 25_557_032
    assert run(["analyze", "zoo:resnet18", "zoo:resnet50", "-f", "csv"]) == 0 and len(capsys.readouterr().out.splitlines()) == 3
    assert run(["compare", "zoo:seed_separable", "-r", "separable", "-f", "json"]) == 0
    variants = json.loads(capsys.readouterr().out)["variants"]
    assert [v["name"] for v in variants] == ["standard", "separable"] and variants[0]["totals"]["params"] == 19_200
    assert run(["compare", "zoo:gridding_2_2_2", "zoo:hdc_1_2_5"]) == 0
    capsys.readouterr()
    assert run(["check", "zoo:mobilenet_v1", "--max-params", "4M"]) == 1 and "4.23M" in capsys.readouterr().out
    assert run(["analyze", "zoo:resnet5"]) == 2 and "did you mean 'resnet50'" in capsys.readouterr().err


def _copy_project(target: Path) -> Path:
    """What a build reads, away from the working tree (no build/ or egg-info is left in it)."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, target / name)
    shutil.copytree(ROOT / "convcost", target / "convcost", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return target


@pytest.mark.slow
def test_the_wheel_ships_the_zoo_the_licence_and_the_marker(tmp_path: Path) -> None:
    source = _copy_project(tmp_path / "src")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(tmp_path / "dist"), "-v"],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "project.license` as a TOML table is deprecated" not in done.stdout + done.stderr
    (wheel,) = (tmp_path / "dist").glob("convcost-*.whl")
    assert wheel.name == f"convcost-{convcost.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"convcost-{convcost.__version__}.dist-info"
        metadata = archive.read(f"{info}/METADATA").decode()
        assert archive.read(f"{info}/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
    assert "convcost/py.typed" in names
    assert {n for n in names if n.startswith("convcost/layers/")} == {f"convcost/layers/{n}.yaml" for n in NAMES}
    assert re.search(r"^License-Expression: MIT$", metadata, re.M) and re.search(r"^License-File: LICENSE$", metadata, re.M)
    assert re.search(rf"^Version: {re.escape(convcost.__version__)}$", metadata, re.M)
    # installed from the wheel (not the working tree), the zoo is found where it was installed
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=600)  # fmt: skip
    probe = "from convcost import zoo; p = zoo.resolve('zoo:resnet50'); print(len(zoo.names()), p, p.is_file())"
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                           env={**os.environ, "PYTHONPATH": str(site)}, timeout=60)  # fmt: skip
    count, where, exists = shown.stdout.split()
    assert (int(count), exists) == (len(NAMES), "True") and Path(where).is_relative_to(site), shown.stdout + shown.stderr


def test_version_is_one_place() -> None:
    """pyproject reads the version from convcost/__init__.py; nothing else states it."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "convcost.__version__"}
    assert project["project"]["license"] == "MIT" and project["project"]["license-files"] == ["LICENSE"]
    assert "setuptools>=77" in project["build-system"]["requires"][0]
    assert re.fullmatch(r"\d+\.\d+\.\d+", convcost.__version__)
    assert "Copyright (c) 2026 the convcost authors" in (ROOT / "LICENSE").read_text()
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog and "Keep a Changelog" in changelog
