"""`convcost report`: the page's generation time beyond the analysis, and its size, on ResNet-50
and a generated 10k-layer stack; with Debian's chromium installed, how long a headless browser
takes to load it (network off), beside an empty page. Prints figures; asserts nothing.

    python benchmarks/bench_report.py
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import convcost
from convcost.analysis.report import analyze
from convcost.model.program import lower
from convcost.render.html import report_html

ROOT = Path(__file__).resolve().parent.parent
BIG = "input: [16, 32, 32]\nlayers:\n  - repeat: {times: 5000, layers: [conv: {out: 16, kernel: 3, padding: 1}, relu]}\n"


def browser_s(page: Path) -> float | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return None
    start = time.perf_counter()
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9", "--dump-dom",
                    page.as_uri()], check=True, capture_output=True, timeout=300)  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.html"
        empty.write_text("<!doctype html><title>x</title>")
        base = browser_s(empty)
        for name, stack in (
            ("resnet50", convcost.load(ROOT / "convcost" / "layers" / "resnet50.yaml")),
            ("10k layers", convcost.loads(BIG)),
        ):
            start = time.perf_counter()
            report = analyze(stack)
            analysed = time.perf_counter()
            page = report_html(report, lower(stack))
            done = time.perf_counter()
            path = Path(tmp) / "r.html"
            path.write_text(page)
            opened = browser_s(path)
            said = "" if opened is None or base is None else f", headless chromium {opened:.2f} s (an empty page {base:.2f} s)"
            print(f"{name}: analyze {analysed - start:.3f} s, page {done - analysed:.3f} s, {len(page.encode()) / 1e6:.2f} MB{said}")


if __name__ == "__main__":
    main()
