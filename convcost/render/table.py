"""Rich tables for the terminal: numbers right-justified, counts in SI, bytes in binary units."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..analysis import Report
from . import fmt
from .machine import rf_text


def measured_text(measured: object) -> str:
    if not measured:
        return ""
    m = measured  # type: ignore[assignment]
    ok = "✓" if m.get("shape_ok", True) else "✗"  # type: ignore[attr-defined]
    return f"{ok} {m['ms_median']:.3f} ms"  # type: ignore[index]


def report_table(report: Report) -> RenderableType:
    measured = any(r.measured for r in report.layers)
    table = Table(title=f"{report.model} — input {fmt.shape(report.input)}, batch {report.batch}, {report.dtype}",
                  show_footer=False, header_style="bold")  # fmt: skip
    table.add_column("layer", overflow="fold", ratio=1, min_width=12)
    table.add_column("kind", no_wrap=True)
    for name in ("output", "params", "MACs", "activations", "RF /stride", "coverage", *(("measured",) if measured else ())):
        table.add_column(name, justify="right", no_wrap=True)
    for r in report.layers:
        row = [r.name, r.kind, fmt.shape(r.output), fmt.count(r.params), fmt.count(r.macs), fmt.count(r.activations),
               rf_text(r.rf), fmt.percent(r.coverage)]  # fmt: skip
        table.add_row(*row, *([measured_text(r.measured)] if measured else []))
    t = report.totals
    table.add_section()
    total = ["total", "", fmt.shape(report.layers[-1].output), fmt.count(t.params), fmt.count(t.macs),
             fmt.count(t.activations), rf_text(t.rf), fmt.percent(t.coverage)]  # fmt: skip
    table.add_row(*total, *([measured_text(t.measured)] if measured else []), style="bold")
    summary = Text(f"params {t.params:,} · MACs {t.macs:,} · FLOPs {t.flops:,} · peak memory "
                   f"{fmt.nbytes(t.peak_memory_bytes)} · bytes moved {fmt.nbytes(t.bytes_moved)}")  # fmt: skip
    parts: list[RenderableType] = [table, summary]
    parts += [Text(f"warning: {w}", style="yellow") for w in report.warnings]
    return Group(*parts)
