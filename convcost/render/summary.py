"""Several models, one row each: input, params, MACs, peak memory, receptive field, coverage."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..analysis import Report
from . import fmt
from .machine import md_table, rf_text

HEADER = ["model", "input", "params", "MACs", "peak memory", "RF /stride", "coverage"]


def rows(reports: list[Report]) -> list[list[str]]:
    return [[r.model, fmt.shape(r.input), f"{r.totals.params:,}", f"{r.totals.macs:,}", fmt.nbytes(r.totals.peak_memory_bytes),
             rf_text(r.totals.rf), fmt.percent(r.totals.coverage)] for r in reports]  # fmt: skip


def summary_markdown(reports: list[Report]) -> str:
    return md_table(HEADER, rows(reports), {2, 3, 4, 5, 6})


def summary_csv(reports: list[Report]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["model", "input", "params", "macs", "peak_memory_bytes", "rf_size", "rf_stride", "coverage"])
    for r in reports:
        t = r.totals
        writer.writerow([r.model, fmt.shape(r.input), t.params, t.macs, t.peak_memory_bytes, fmt.axes(t.rf.size) if t.rf else "",
                         fmt.axes(t.rf.stride) if t.rf else "", "" if t.coverage is None else fmt.number(t.coverage)])  # fmt: skip
    return out.getvalue()


def summary_table(reports: list[Report]) -> Any:
    from rich.table import Table

    table = Table(title=f"{len(reports)} models", header_style="bold")
    for i, name in enumerate(HEADER):
        table.add_column(name, justify="right" if i > 1 else "left")
    for row in rows(reports):
        table.add_row(*row)
    return table
