"""The README's generated blocks: real output, kept current by tests (regenerate with
`python -m tests.readme_blocks`)."""

from __future__ import annotations

import io

from rich.console import Console

import convcost
from convcost.analysis.comparison import compare
from convcost.refdoc import replace_block
from convcost.render.compare import compare_table

from .conftest import LAYERS, ROOT

COMPARE_80 = ("convcost compare layers/resnet18.yaml -r separable", LAYERS / "resnet18.yaml", ["separable"])


def compare_80() -> str:
    command, path, rewrites = COMPARE_80
    buffer = io.StringIO()
    Console(file=buffer, width=80, no_color=True, color_system=None).print(compare_table(compare(convcost.load(path), rewrites), 80))
    body = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())
    return f"```console\n$ {command}\n{body}\n```"


GRAPH = ROOT / "docs" / "fpn.yaml"  #: the README's graph example


def graph_80() -> str:
    """The README's graph example: the file, and its analysis at 80 columns."""
    from convcost.render.table import report_table

    buffer = io.StringIO()
    report = convcost.analyze(convcost.load(GRAPH))
    Console(file=buffer, width=80, no_color=True, color_system=None).print(report_table(report, 80))
    body = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())
    return f"```yaml\n# docs/fpn.yaml\n{GRAPH.read_text()}```\n\n```console\n$ convcost analyze docs/fpn.yaml\n{body}\n```"


if __name__ == "__main__":
    readme = (ROOT / "README.md").read_text()
    readme = replace_block(readme, "compare80", compare_80())
    (ROOT / "README.md").write_text(replace_block(readme, "graph80", graph_80()))
