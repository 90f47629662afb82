"""analyze --format dot | mermaid: the program as graph text, for Graphviz and for Markdown
renderers (GitHub's, GitLab's). One node per input and per layer, labelled with its name, kind,
output shape, params and MACs and filled darker the more of the model's MACs (or, with a
device profile, of its predicted time) it holds; one edge per tensor a layer reads, labelled
with the tensor's shape; the model's outputs drawn with a double border. Names are data: quoted
and escaped, never markup. Pure: no rich, no printing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..analysis.report import Report
from ..model.program import Program
from . import fmt

if TYPE_CHECKING:
    from ..device.roofline import Prediction

FORMATS = ("dot", "mermaid")
LIGHT, DARK = (255, 255, 255), (230, 120, 30)  #: fill of a node holding none / all of the heaviest node's cost


def fill(share: float) -> str:
    """The colour of a box holding ``share`` of the costliest layer's cost."""
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(LIGHT, DARK))
    return f"#{r:02x}{g:02x}{b:02x}"


def fills(report: Report, prediction: Prediction | None) -> list[str]:
    """Per layer, its fill: by MACs, or by predicted time with a device profile (the graph text and the HTML page alike)."""
    costs = [prediction.layers[r.path].ms if prediction is not None else r.macs for r in report.layers]
    top = max(costs, default=0) or 1
    return [fill(cost / top) for cost in costs]


def _nodes(report: Report, program: Program, prediction: Prediction | None) -> list[tuple[str, list[str], str]]:
    """(id, label lines, fill) of every input, then every layer."""
    nodes = [(f"t{i}", [name, fmt.shape(shape)], fill(0)) for i, (name, shape) in enumerate(program.inputs)]
    for j, (r, colour) in enumerate(zip(report.layers, fills(report, prediction))):
        lines = [r.name, f"{r.kind} → {fmt.shape(r.output)}", f"params {fmt.count(r.params)} · MACs {fmt.count(r.macs)}"]
        if prediction is not None:
            lines.append(f"{prediction.layers[r.path].ms:.4g} ms ({prediction.layers[r.path].bound})")
        nodes.append((f"t{len(program.inputs) + j}", lines, colour))
    return nodes


def _edges(program: Program) -> list[tuple[str, str, str]]:
    return [(f"t{t}", f"t{program.tensor(j)}", fmt.shape(program.shape(t))) for j, step in enumerate(program.steps) for t in step.inputs]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def dot(report: Report, program: Program, prediction: Prediction | None = None) -> str:
    """Graphviz's DOT language (``dot -Tsvg model.dot -o model.svg``)."""
    by = "predicted time" if prediction is not None else "MACs"
    out = [f"// {report.model}: fill = share of the costliest layer's {by}", f"digraph {_quoted(report.model)} {{",
           "  rankdir=TB;", '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
           '  edge [fontname="Helvetica", fontsize=9];']  # fmt: skip
    outputs = {f"t{t}" for t in program.outputs}
    for i, (node, lines, colour) in enumerate(_nodes(report, program, prediction)):
        shape = ", shape=oval" if i < len(program.inputs) else ""
        border = ", peripheries=2" if node in outputs else ""
        label = "\\n".join(_quoted(line)[1:-1] for line in lines)
        out.append(f'  {node} [label="{label}", fillcolor="{colour}"{shape}{border}];')
    out += [f"  {a} -> {b} [label={_quoted(shape)}];" for a, b, shape in _edges(program)]
    return "\n".join(out + ["}"]) + "\n"


def _mermaid_text(text: str) -> str:
    """Mermaid's entity codes for the characters that would end or open markup in a label."""
    return "".join({"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "|": "#124;"}.get(ch, ch) for ch in text)


def mermaid(report: Report, program: Program, prediction: Prediction | None = None) -> str:
    """A Mermaid flowchart (in Markdown: inside a ```mermaid block)."""
    by = "predicted time" if prediction is not None else "MACs"
    out = [f"%% {_mermaid_text(report.model)}: fill = share of the costliest layer's {by}", "flowchart TD"]
    styles = []
    outputs = {f"t{t}" for t in program.outputs}
    for i, (node, lines, colour) in enumerate(_nodes(report, program, prediction)):
        label = "<br/>".join(_mermaid_text(line) for line in lines)
        opening, closing = ("([", "])") if i < len(program.inputs) else ("[[", "]]") if node in outputs else ("[", "]")
        out.append(f'  {node}{opening}"{label}"{closing}')
        styles.append(f"  style {node} fill:{colour},stroke:#555")
    out += [f'  {a} -->|"{_mermaid_text(shape)}"| {b}' for a, b, shape in _edges(program)]
    return "\n".join(out + styles) + "\n"
