"""User-defined kinds through the `convcost.kinds` entry-point group: the README's worked example
(examples/channelscale), installed as a package would be, analysed, documented and executed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow  # real processes with an installed plugin

EXAMPLE = ROOT / "examples" / "channelscale"
MODEL = "input: [8, 16, 16]\nlayers:\n  - conv: {out: 8, kernel: 3, padding: 1}\n  - channelscale\n"


def installed(tmp_path: Path, entry: str = "channelscale = convcost_channelscale:ChannelScale") -> dict[str, str]:
    """A site folder holding the example package and its dist-info, as `pip install` leaves them."""
    site = tmp_path / "site"
    shutil.copytree(EXAMPLE / "convcost_channelscale", site / "convcost_channelscale")
    info = site / "convcost_channelscale-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: convcost-channelscale\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[convcost.kinds]\n{entry}\n")
    return {**os.environ, "PYTHONPATH": str(site)}


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from convcost.cli import entry; entry()", *args], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip


def test_a_plugin_kind_is_counted_documented_and_executed(tmp_path: Path) -> None:
    env = installed(tmp_path)
    model = tmp_path / "m.yaml"
    model.write_text(MODEL)
    done = cli(env, "analyze", str(model), "-f", "json")
    assert done.returncode == 0, done.stderr
    layers = json.loads(done.stdout)["layers"]
    assert [(r["kind"], r["params"], r["macs"]) for r in layers][-1] == ("channelscale", 8, 0)
    assert json.loads(done.stdout)["totals"]["params"] == 8 * 8 * 9 + 8 + 8
    described = cli(env, "kinds", "channelscale")
    assert described.returncode == 0 and "learned multiplier per channel" in described.stdout
    backends = ["numpy", "torch"] if __import__("importlib").util.find_spec("torch") else ["numpy"]
    for backend in backends:
        ran = cli(env, "analyze", str(model), "--execute", "--backend", backend, "--repeat", "1", "-f", "json")
        assert ran.returncode == 0 and json.loads(ran.stdout)["totals"]["measured"]["shape_ok"], ran.stderr


def test_without_the_plugin_the_kind_is_unknown(tmp_path: Path) -> None:
    model = tmp_path / "m.yaml"
    model.write_text(MODEL)
    done = cli({**os.environ, "PYTHONPATH": ""}, "analyze", str(model))
    assert done.returncode == 2 and "unknown layer kind 'channelscale'" in done.stderr


@pytest.mark.parametrize(("entry", "said"), [
    ("channelscale = convcost_channelscale:Missing", "cannot be loaded"),
    ("conv = convcost_channelscale:ChannelScale", "is not a Kind subclass with kind = 'conv'"),
])  # fmt: skip
def test_a_broken_plugin_is_one_line(tmp_path: Path, entry: str, said: str) -> None:
    env = installed(tmp_path, entry)
    model = tmp_path / "m.yaml"
    model.write_text(MODEL)
    done = cli(env, "analyze", str(model))
    assert done.returncode == 2 and said in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_the_readme_shows_the_example_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text()
    assert (EXAMPLE / "convcost_channelscale" / "__init__.py").read_text().strip() in readme
    assert '[project.entry-points."convcost.kinds"]\nchannelscale = "convcost_channelscale:ChannelScale"' in readme
