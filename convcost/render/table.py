"""Rich tables for the terminal: numbers right-justified, counts in SI, bytes in binary units."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..analysis import Report
from . import fmt
from .machine import rf_text


def measured_cells(m: Any) -> list[str]:
    """shape ✓/✗, median ms ± half the spread, achieved GMAC/s."""
    if not m:
        return ["", "", ""]
    spread = (m["ms_max"] - m["ms_min"]) / 2
    rate = m.get("gmacs_per_s")
    return ["✓" if m["shape_ok"] else "✗", f"{m['ms_median']:.3f} ±{spread:.3f}", f"{rate:.1f}" if rate else ""]


def measured_line(m: Any) -> str:
    return (f"measured on {m['backend']}/{m['device']}, batch {m['batch']}: end to end {m['ms_median']:.3f} ms "
            f"(median of {m['repeats']}, {m['ms_min']:.3f}–{m['ms_max']:.3f}); sum of the layers {m['sum_layers_ms']:.3f} ms")  # fmt: skip


def report_table(report: Report) -> RenderableType:
    measured = any(r.measured for r in report.layers)
    table = Table(title=f"{report.model} — input {fmt.shape(report.input)}, batch {report.batch}, {report.dtype}",
                  show_footer=False, header_style="bold")  # fmt: skip
    table.add_column("layer", overflow="fold", ratio=1, min_width=12)
    table.add_column("kind", no_wrap=True)
    for name in ("output", "params", "MACs", "activations", "RF /stride", "coverage", *(("shape", "ms", "GMAC/s") if measured else ())):
        table.add_column(name, justify="right", no_wrap=True)
    for r in report.layers:
        row = [r.name, r.kind, fmt.shape(r.output), fmt.count(r.params), fmt.count(r.macs), fmt.count(r.activations),
               rf_text(r.rf), fmt.percent(r.coverage)]  # fmt: skip
        table.add_row(*row, *(measured_cells(r.measured) if measured else []))
    t = report.totals
    table.add_section()
    total = ["total", "", fmt.shape(report.layers[-1].output), fmt.count(t.params), fmt.count(t.macs),
             fmt.count(t.activations), rf_text(t.rf), fmt.percent(t.coverage)]  # fmt: skip
    table.add_row(*total, *(measured_cells(t.measured)[:2] + [""] if measured else []), style="bold")
    summary = Text(f"params {t.params:,} · MACs {t.macs:,} · FLOPs {t.flops:,} · peak memory "
                   f"{fmt.nbytes(t.peak_memory_bytes)} · bytes moved {fmt.nbytes(t.bytes_moved)}")  # fmt: skip
    parts: list[RenderableType] = [table, summary]
    if t.measured:
        parts.append(Text(measured_line(t.measured)))
    parts += [Text(f"warning: {w}", style="yellow") for w in report.warnings]
    return Group(*parts)
