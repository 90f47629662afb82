"""Several models, one row each: input, params, MACs, peak memory, receptive field, coverage,
warnings and (with --execute) the measured time; each warning listed under the table."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, NamedTuple

from ..analysis.report import Report
from ..errors import printable
from . import fmt
from .fit import LEGEND, Column, fit, hidden_note
from .machine import md_table, report_dict, versioned
from .view import View

COLUMNS = [Column("model", right=False, keep=True), Column("input"), Column("params"), Column("MACs"), Column("peak\nmemory"),
           Column("RF\n/stride"), Column("cov."), Column("warn-\nings"), Column("ms")]  # fmt: skip


def labels(reports: list[Report], files: list[Path]) -> list[str]:
    """Each model's name, or its file where two models share a name."""
    names = [r.model for r in reports]
    return [str(f) if names.count(n) > 1 else n for n, f in zip(names, files)]


def _ms(r: Report) -> str:
    m = r.totals.measured
    return f"{m['ms_median']:.3f}" if m else ""


def rows(reports: list[Report], names: list[str], exact: bool = False, wrap: bool = True) -> list[list[str]]:
    number = (lambda n: f"{n:,}") if exact else fmt.count
    return [[name, fmt.shape(r.input), number(r.totals.params), number(r.totals.macs), fmt.nbytes(r.totals.peak_memory_bytes),
             fmt.rf_text(r.totals.rf, wrap), fmt.percent(r.totals.coverage), str(len(r.warnings)), _ms(r)]
            for r, name in zip(reports, names)]  # fmt: skip


def _columns(reports: list[Report]) -> list[Column]:
    return COLUMNS if any(r.totals.measured for r in reports) else COLUMNS[:-1]


def warning_lines(reports: list[Report], names: list[str]) -> list[str]:
    return [f"{name}: {w}" for r, name in zip(reports, names) for w in r.warnings]


def summary_markdown(reports: list[Report], names: list[str]) -> str:
    columns = _columns(reports)
    table = md_table([c.header.replace("\n", " ").replace("- ", "") for c in columns],
                     [row[: len(columns)] for row in rows(reports, names, exact=True, wrap=False)], set(range(1, len(columns))))  # fmt: skip
    return table + "".join(f"\n> ⚠ {line}\n" for line in warning_lines(reports, names))


def summary_csv(reports: list[Report], names: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["model", "input", "params", "macs", "peak_memory_bytes", "rf_size", "rf_stride", "coverage", "warnings", "ms_median"])
    for r, name in zip(reports, names):
        t = r.totals
        writer.writerow([name, fmt.shape(r.input, "x"), t.params, t.macs, t.peak_memory_bytes, fmt.axes(t.rf.size, "x") if t.rf else "",
                         fmt.axes(t.rf.stride, "x") if t.rf else "", "" if t.coverage is None else fmt.number(t.coverage),
                         " | ".join(r.warnings), t.measured["ms_median"] if t.measured else ""])  # fmt: skip
    return out.getvalue()


def summary_table(reports: list[Report], names: list[str], width: int | None = None) -> Any:
    from rich.console import Group
    from rich.text import Text

    columns = _columns(reports)
    fitted = fit(columns, [row[: len(columns)] for row in rows(reports, names, wrap=width is not None)], width)
    parts: list[Any] = [Text(f"{len(reports)} models", style="bold"), fitted.table]
    note = hidden_note(width, fitted)
    if note:
        parts.append(Text(note, style="yellow"))
    parts += [Text(printable(f"warning: {line}"), style="yellow") for line in warning_lines(reports, names)]
    measured = [r.totals.measured for r in reports if r.totals.measured]
    if measured:
        m = measured[0]
        parts.append(Text(f"ms: end to end on {m['backend']}/{m['device']}, batch {m['batch']}, median of {m['repeats']}"))
    parts.append(Text(f"{LEGEND} · RF /stride in input positions · cov. = share of the field read", style="dim"))
    return Group(*parts)


class Summary(NamedTuple):
    """Several models' reports, labelled: one row each."""

    reports: list[Report]
    labels: list[str]


VIEW = View(lambda s, width: summary_table(s.reports, s.labels, width),
            lambda s: versioned({"models": [report_dict(r) for r in s.reports]}), lambda s: summary_csv(s.reports, s.labels),
            lambda s: summary_markdown(s.reports, s.labels))  # fmt: skip
