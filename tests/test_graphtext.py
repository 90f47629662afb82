"""analyze --format dot | mermaid: the graph as the YAML wires it, labels escaped, fills by cost;
Graphviz itself parses and lays out the DOT when it is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app

from .conftest import LAYERS, ROOT

runner = CliRunner()
FPN = ROOT / "docs" / "fpn.yaml"
#: docs/fpn.yaml's wiring, read off the file by hand: (reader, what it reads)
FPN_EDGES = {("c2", "input"), ("c3", "c2"), ("c4", "c3"), ("lat4", "c4"), ("up4", "lat4"), ("lat3", "c3"), ("p3", "up4"),
             ("p3", "lat3"), ("out3", "p3"), ("out4", "lat4")}  # fmt: skip


def _run(*args: str) -> str:
    result = runner.invoke(app, ["analyze", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _mermaid_graph(text: str) -> tuple[dict[str, str], set[tuple[str, str, str]], dict[str, str]]:
    """(id → first label line, {(reader, read, shape)}, id → fill) of a flowchart."""
    names = {m[1]: m[2] for m in re.finditer(r'^  (t\d+)[\[(]+"([^"<]*)', text, re.M)}
    edges = {(names[m[3]], names[m[1]], m[2]) for m in re.finditer(r'^  (t\d+) -->\|"([^"]*)"\| (t\d+)$', text, re.M)}
    fills = {m[1]: m[2] for m in re.finditer(r"^  style (t\d+) fill:(#[0-9a-f]{6})", text, re.M)}
    return names, edges, fills


def test_mermaid_wires_the_fpn_as_written() -> None:
    names, edges, fills = _mermaid_graph(_run(str(FPN), "-f", "mermaid"))
    assert sorted(names.values()) == sorted(["input", "c2", "c3", "c4", "lat4", "up4", "lat3", "p3", "out3", "out4"])
    assert {(a, b) for a, b, _ in edges} == FPN_EDGES
    assert ("p3", "up4", "128×56×56") in edges and ("out4", "lat4", "128×28×28") in edges
    by_name = {names[i]: fill for i, fill in fills.items()}
    assert by_name["out3"] == "#e6781e" and by_name["up4"] == by_name["p3"] == "#ffffff"  # the costliest layer, and no MACs
    text = _run(str(FPN), "-f", "mermaid")
    assert re.search(r'^  t\d+\[\["out3<br/>', text, re.M) and re.search(r'^  t0\(\["input<br/>3×224×224"\]\)', text, re.M)


def test_dot_has_a_node_per_tensor_and_an_edge_per_read() -> None:
    text = _run(str(LAYERS / "resnet18.yaml"), "-f", "dot")
    nodes = re.findall(r"^  (t\d+) \[label=", text, re.M)
    edges = re.findall(r"^  (t\d+) -> (t\d+) \[label=\"([^\"]+)\"\];$", text, re.M)
    # 1 input + 68 layers; 8 residual adds read two tensors each: 68 + 8 reads
    assert len(nodes) == 69 and len(edges) == 76
    assert ("t0", "t1", "3×224×224") in edges and text.count("peripheries=2") == 1


def test_names_are_escaped(tmp_path: Path) -> None:
    model = tmp_path / "m.yaml"
    model.write_text('name: "a<b>\\"q\\""\ninput: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, name: "<script>x|y</script>"}\n'
                     '  - relu: {name: "back\\\\slash"}\n')  # fmt: skip
    mermaid = _run(str(model), "-f", "mermaid")
    assert "<script>" not in mermaid and "#lt;script#gt;x#124;y#lt;/script#gt;" in mermaid
    dot = _run(str(model), "-f", "dot")
    assert 'label="#lt;' not in dot and r'label="<script>x|y</script>\n' in dot and r"back\\slash" in dot
    assert r'digraph "a<b>\"q\""' in dot
    if shutil.which("dot"):
        svg = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, timeout=60)
        assert svg.returncode == 0 and "&lt;script&gt;" in svg.stdout


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed (apt install graphviz)")
def test_graphviz_lays_out_every_node() -> None:
    text = _run(str(LAYERS / "resnet50.yaml"), "-f", "dot")
    svg = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, timeout=120)
    assert svg.returncode == 0, svg.stderr
    assert svg.stdout.count('class="node"') == 1 + 174 and svg.stdout.count('class="edge"') == 174 + 16


def test_prediction_fills_by_time_and_refusals() -> None:
    text = _run(str(LAYERS / "resnet18.yaml"), "-f", "dot", "-p", "t4")
    assert "fill = share of the costliest layer's predicted time" in text and " ms (" in text
    path = str(LAYERS / "resnet18.yaml")
    for args, said in [(["--depth", "1"], "--format dot: draws every layer; --depth"),
                       (["--execute"], "--format dot: draws the analysis"),
                       (["--training"], "--format dot: draws the forward pass; --training"),
                       ([str(LAYERS / "vgg16.yaml")], "--format dot: draws one model at a time"),
                       (["--dtype", "int8"], "--format dot: shows no bytes, so --dtype takes effect only with -p")]:  # fmt: skip
        result = runner.invoke(app, ["analyze", path, "-f", "dot", *args])
        assert result.exit_code == 2 and said in result.output and len(result.output.strip().splitlines()) == 1, result.output
