"""convcost report: one self-contained HTML page. Its structure against the program (a box per
tensor, an edge per read, a row per layer), escaping, size; and, where Debian's chromium is
installed, a real headless browser with the network off: the script ran, a link to a layer
shows that layer's figures, and the screenshot is not blank."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app

from .conftest import LAYERS

runner = CliRunner()
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Page(HTMLParser):
    """Counts what the page draws, and keeps its JSON data."""

    def __init__(self) -> None:
        super().__init__()
        self.boxes: list[dict[str, Any]] = []
        self.rows = self.edges = 0
        self.external: list[str] = []
        self._json = False
        self.data = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "g" and "node" in (a.get("class") or ""):
            self.boxes.append(a)
        if tag == "tr" and "data-i" in a:
            self.rows += 1
        if tag == "path" and a.get("class") == "edge":
            self.edges += 1
        if tag in ("link", "img", "iframe") or (tag == "script" and "src" in a):
            self.external.append(tag)
        self._json = tag == "script" and a.get("type") == "application/json"

    def handle_data(self, data: str) -> None:
        if self._json:
            self.data += data

    def handle_endtag(self, tag: str) -> None:
        self._json = False


def _page(*args: str) -> tuple[str, Page]:
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 0, result.output
    page = Page()
    page.feed(result.output)
    return result.output, page


def test_resnet50_page_draws_the_program() -> None:
    text, page = _page(str(LAYERS / "resnet50.yaml"))
    # 1 input + 174 layers; 174 reads of the layer before + 16 shortcuts into the residual adds
    assert len(page.boxes) == 175 and page.rows == 174 and page.edges == 190
    assert sum("output" in (b.get("class") or "") for b in page.boxes) == 1 and "input" in page.boxes[0]["class"]
    data = json.loads(page.data)
    report = convcost.analyze(convcost.load(LAYERS / "resnet50.yaml"))
    assert [d["name"] for d in data["layers"]] == [r.name for r in report.layers]
    assert [int(d["shown"]["MACs"].replace(",", "")) for d in data["layers"]] == [r.macs for r in report.layers]
    assert page.external == [] and not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text)  # nothing fetched
    assert len(text.encode()) <= 1_000_000


def test_names_are_text(tmp_path: Path) -> None:
    model = tmp_path / "m.yaml"
    model.write_text('name: "<script>alert(1)</script>"\ninput: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, name: "</script><b>x"}\n')
    text, page = _page(str(model))
    assert text.count("<script") == 2  # the data block and the page's own script: no other
    assert "&lt;/script&gt;&lt;b&gt;x" in text and json.loads(page.data)["layers"][0]["name"] == "</script><b>x"


def test_prediction_and_output_file(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(LAYERS / "mobilenet_v2.yaml"), "-p", "t4", "-o", str(out)])
    assert result.exit_code == 0 and result.output == ""
    text = out.read_text()
    assert "predicted" in text and "fill: share of the costliest layer's predicted time" in text
    assert runner.invoke(app, ["report", str(LAYERS / "mobilenet_v2.yaml"), "-o", str(LAYERS / "mobilenet_v2.yaml")]).exit_code == 2


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (Debian: apt install chromium)")
def test_a_real_browser_renders_it_offline(tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    assert runner.invoke(app, ["report", str(LAYERS / "resnet18.yaml"), "-o", str(page)]).exit_code == 0
    offline = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
               "--window-size=1200,900"]  # fmt: skip
    index = [r.name for r in convcost.analyze(convcost.load(LAYERS / "resnet18.yaml")).layers].index("unit2.conv1")
    dom = subprocess.run([*offline, "--dump-dom", f"file://{page}#layer={index}"], capture_output=True, text=True, timeout=120).stdout
    assert 'data-ready="1"' in dom  # the script ran to its end
    detail = dom[dom.index('id="detail"') :]
    assert "<h2>unit2.conv1</h2>" in detail and "115,605,504" in detail  # its MACs: 64·64·9·56·56
    assert len(re.findall(r'<g class="node', dom)) == 69
    shot = tmp_path / "shot.png"
    subprocess.run([*offline, f"--screenshot={shot}", f"file://{page}"], capture_output=True, timeout=120)
    import matplotlib.image

    pixels = matplotlib.image.imread(str(shot))
    assert pixels.shape[0] > 100 and float(pixels[..., :3].min()) < 0.5 and float(pixels[..., :3].std()) > 0.02  # not blank


def test_roofline_chart_with_a_device_profile() -> None:
    from convcost.device.profiles import find
    from convcost.device.roofline import predict

    text, _ = _page(str(LAYERS / "mobilenet_v2.yaml"), "-p", "t4")
    chart = text[text.index('<svg id="roofline"') :]
    chart = chart[: chart.index("</svg>")]
    stack = convcost.load(LAYERS / "mobilenet_v2.yaml")
    report = convcost.analyze(stack)
    prediction = predict(stack, report, find("t4"))
    computing = [r for r in report.layers if r.macs and prediction.layers[r.path].intensity]
    assert chart.count('<circle class="layer"') == len(computing) == 52 + 1  # every conv and the classifier
    for r in computing:  # a prediction never beats its roof
        p = prediction.layers[r.path]
        assert 2 * r.macs / (p.ms / 1000) <= min(prediction.peak, prediction.profile.bandwidth * (p.intensity or 0)) * (1 + 1e-9)
    assert '<svg id="roofline"' not in _page(str(LAYERS / "mobilenet_v2.yaml"))[0]


def test_gridding_runs_are_marked() -> None:
    _, page = _page(str(LAYERS / "gridding_2_2_2.yaml"))
    marked = [b for b in page.boxes if "grids" in (b.get("class") or "").split()]
    report = convcost.analyze(convcost.load(LAYERS / "gridding_2_2_2.yaml"))
    dilated = [r for r in report.layers if r.kind == "conv"]
    assert len(marked) == len(dilated) == 3 and any("gridding" in w for w in report.warnings)
    assert not [b for b in _page(str(LAYERS / "hdc_1_2_5.yaml"))[1].boxes if "grids" in (b.get("class") or "")]


def test_rewrites_beside_the_drawn_design() -> None:
    from convcost.analysis.comparison import compare

    text, page = _page(str(LAYERS / "resnet18.yaml"), "-r", "separable,grouped:4")
    designs = text[text.index('<table id="designs">') :]
    designs = designs[: designs.index("</table>")]
    c = compare(convcost.load(LAYERS / "resnet18.yaml"), ["separable", "grouped:4"])
    assert designs.count("<tr>") == 1 + 3
    for v in c.variants:
        from convcost.render import fmt

        assert f"<td>{v.name}</td><td>{fmt.count(v.report.totals.params)}</td><td>{fmt.count(v.report.totals.macs)}</td>" in designs
    assert "separable: 8.13× fewer MACs" in text and len(page.boxes) == 69  # the standard design is the one drawn
    assert runner.invoke(app, ["report", str(LAYERS / "resnet18.yaml"), "-r", ","]).exit_code == 2
