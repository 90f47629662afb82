"""The analyze table for the terminal: numbers right-justified, counts in SI, bytes in binary
units, fitted to the terminal's width (names shortened from the left, never a number)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ..analysis.report import Report
from ..errors import printable
from . import fmt
from .fit import LEGEND, Column, fit, hidden_note
from .machine import peak_line, report_csv, report_dict, report_markdown, versioned
from .rows import Shown
from .training import TRAINING, memory_line, training_line, training_rows
from .view import View

COLUMNS = [Column("layer", right=False, keep=True), Column("kind", right=False, keep=True), Column("output"), Column("params"),
           Column("MACs"), Column("acts"), Column("RF\n/stride"), Column("cov.")]  # fmt: skip
MEASURED = [Column("shape"), Column("ms"), Column("min–max"), Column("GMAC/s")]
LIVE = Column("live")  #: with --memory-plan: the bytes alive while the layer runs
SPREAD = 0.25  #: (max − min) / median above this is flagged as a noisy timing

if TYPE_CHECKING:
    from ..device.roofline import Prediction
    from ..model.program import Program


def noisy(m: Any) -> bool:
    return m["ms_median"] > 0 and (m["ms_max"] - m["ms_min"]) / m["ms_median"] > SPREAD


def measured_cells(m: Any) -> list[str]:
    """shape ✓/✗, median ms (``!`` when the spread is large), [min–max], achieved GMAC/s."""
    if not m:
        return ["", "", "", ""]
    rate = m.get("gmacs_per_s")
    return ["✓" if m["shape_ok"] else "✗", f"{m['ms_median']:.3f}{'!' if noisy(m) else ''}",
            f"{m['ms_min']:.3f}–{m['ms_max']:.3f}", f"{rate:.1f}" if rate else ""]  # fmt: skip


def measured_line(m: Any) -> str:
    line = (f"measured on {m['backend']}/{m['device']}, batch {m['batch']}, {m.get('dtype', 'float32')}: end to end "
            f"{m['ms_median']:.3f} ms (median of {m['repeats']}, [{m['ms_min']:.3f}–{m['ms_max']:.3f}]); "
            f"sum of the layers {m['sum_layers_ms']:.3f} ms")  # fmt: skip
    return line + (" — large spread: rerun with more --repeat" if noisy(m) else "")


def heading(report: Report) -> str:
    shown = ", ".join(f"{name} {fmt.shape(shape)}" for name, shape in report.inputs) if report.inputs else fmt.shape(report.input)
    return f"{report.model} — input{'s' if report.inputs else ''} {shown}, batch {report.batch}, {report.dtype}"


def layer_rows(report: Report, measured: bool, wrap: bool = True) -> tuple[list[list[str]], list[str]]:
    rows = []
    live = report.memory is not None
    for r in report.layers:
        row = [r.name, r.kind, fmt.shape(r.output), fmt.count(r.params), fmt.count(r.macs), fmt.count(r.activations),
               fmt.rf_text(r.rf, wrap), fmt.percent(r.coverage)] + ([fmt.nbytes(r.live or 0)] if live else [])  # fmt: skip
        rows.append(row + (measured_cells(r.measured) if measured else []))
    t = report.totals
    total = ["total", "", fmt.shape(report.totals.output), fmt.count(t.params), fmt.count(t.macs), fmt.count(t.activations),
             fmt.rf_text(t.rf, wrap), fmt.percent(t.coverage)] + ([fmt.nbytes(t.peak_memory_bytes)] if live else [])  # fmt: skip
    if measured:
        total += measured_cells(t.measured)[:3] + [""]
    return rows, total


def report_table(report: Report, width: int | None = None, prediction: Prediction | None = None, view: Shown | None = None) -> Any:
    """The per-layer table, totals, legend, timings, the roofline prediction and warnings, for
    ``width`` columns (None: uncut); ``view``: the rows to show, when not every layer (render.rows)."""
    from rich.console import Group
    from rich.text import Text

    shown, shown_prediction = (view.report, view.prediction) if view is not None else (report, prediction)
    measured = any(r.measured for r in shown.layers)
    rows, total = layer_rows(shown, measured, wrap=width is not None)
    columns = COLUMNS + ([LIVE] if report.memory is not None else [])
    costs = len(columns)
    t = report.totals
    parts: list[Any] = [Text(heading(report), style="bold")]
    tables = []
    if view is not None and view.note:
        parts.append(Text(view.note, style="dim"))
    if shown.layers:
        fitted = fit(columns, [row[:costs] for row in rows], width, total=total[:costs])
        parts.append(fitted.table)
        tables.append(fitted)
    if measured:  # the timings in a table of their own, so that both fit a terminal
        timing = fit([columns[0], *MEASURED], [[row[0], *row[costs:]] for row in rows], width, total=[total[0], *total[costs:]])
        parts += [Text(f"measured: ms per layer (median of {t.measured['repeats'] if t.measured else '?'})", style="bold"), timing.table]
        tables.append(timing)
    if prediction is not None and shown_prediction is not None:
        from . import predicted

        parts.append(Text(predicted.heading(prediction, report.batch), style="bold"))
        if shown.layers:
            table = predicted.predicted_table(shown, shown_prediction, width)
            parts.append(table.table)
            tables.append(table)
        parts.append(Text(predicted.summary_line(prediction)))
    if t.training is not None and shown.layers:
        parts.append(Text("training step: MACs per layer (∂ = gradient of)", style="bold"))
        body, total_row = training_rows(shown)
        table = fit(TRAINING, body, width, total=total_row)
        parts.append(table.table)
        tables.append(table)
    note = hidden_note(width, *tables)
    if note:
        parts.append(Text(note, style="yellow"))
    parts.append(Text(f"params {t.params:,} · MACs {t.macs:,} · FLOPs {t.flops:,}"))
    parts.append(Text(f"peak memory {fmt.nbytes(t.peak_memory_bytes)} · bytes moved {fmt.nbytes(t.bytes_moved)}"))
    if report.memory is not None:
        parts.append(Text(printable(peak_line(report))))
    if t.training is not None:
        parts.append(Text(printable(training_line(report))))
        parts.append(Text(printable(memory_line(report))))
    if t.outputs:
        said = (f"{o.name} {fmt.shape(o.shape)}" + (f" (RF {fmt.rf_text(o.rf)})" if o.rf is not None else "") for o in t.outputs)
        parts.append(Text(printable(f"outputs: {', '.join(said)}")))
    if t.measured:
        parts.append(Text(measured_line(t.measured)))
    parts += [Text(printable(f"warning: {w}"), style="yellow") for w in report.warnings]
    parts.append(Text(f"{LEGEND} · acts = output elements · RF /stride in input positions · cov. = share of the field read"
                      + (" · ms ! = spread over 25% of the median" if measured else ""), style="dim"))  # fmt: skip
    return Group(*parts)


class Analyzed(NamedTuple):
    """One model's report, its prediction (or None) and the rows to show (render.rows)."""

    report: Report
    prediction: Prediction | None
    rows: Shown
    program: Program | None = None  #: for the graph formats (dot, mermaid)


def _graph(a: Analyzed, fmt: str) -> str:
    from . import graphtext

    assert a.program is not None
    return getattr(graphtext, fmt)(a.report, a.program, a.prediction)  # type: ignore[no-any-return]  # dot or mermaid: both str


VIEW = View(lambda a, width: report_table(a.report, width, a.prediction, a.rows),
            lambda a: versioned(report_dict(a.rows.report, prediction=a.rows.prediction)),
            lambda a: report_csv(a.rows.report, a.rows.prediction), lambda a: report_markdown(a.rows.report, a.rows.prediction),
            dot=lambda a: _graph(a, "dot"), mermaid=lambda a: _graph(a, "mermaid"))  # fmt: skip
