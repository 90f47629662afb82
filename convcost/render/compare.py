"""compare output: first a summary with one row per design, then, per design, the layers it
changes (params and MACs before and after, the ratio), each table fitted to the terminal."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..analysis.comparison import Comparison, Row, Variant
from ..errors import printable
from . import fmt
from .fit import LEGEND, Column, fit, hidden_note
from .machine import md_table, report_dict, versioned
from .view import View


def _ratio(value: int | float, base: int | float) -> str:
    return "—" if not base else fmt.ratio(value / base)


def _time_ratio(base: Any, totals: Any) -> str:
    if not (base.measured and totals.measured):
        return ""
    return _ratio(totals.measured["ms_median"], base.measured["ms_median"])


def _measured(c: Comparison) -> bool:
    return all(v.report.totals.measured for v in c.variants)


SUMMARY = [Column("design", right=False, keep=True), Column("params"), Column("MACs"), Column("×MACs"), Column("RF\n/stride"),
           Column("changed"), Column("left\nalone")]  # fmt: skip
TIMED = [Column("ms"), Column("×time")]
PREDICTED = [Column("pred.\nms"), Column("pred.\n×time")]
TRAINED = [Column("step\nMACs"), Column("×step"), Column("train\nmemory")]  #: with --training
PEAK = [Column("peak")]  #: with --memory-plan
FAR_BELOW = 2  #: a rewrite whose predicted speed-up is under its MAC ratio ÷ this "saves MACs, not time"


def _columns(c: Comparison) -> list[Column]:
    first = c.variants[0].report
    return (SUMMARY + (TIMED if _measured(c) else []) + (PREDICTED if c.predictions else [])
            + (TRAINED if first.totals.training is not None else []) + (PEAK if first.memory is not None else []))  # fmt: skip


def _step(report: Any) -> tuple[int, int]:
    """(MACs of one training step, its memory in bytes) of an analysis with training."""
    t, s = report.totals, report.state
    return t.macs + t.training.macs, t.training.saved + s.total


def summary_rows(c: Comparison, wrap: bool = True) -> list[list[str]]:
    """One row per design: params, MACs, ×MACs (MACs ÷ the standard's), RF, layers changed/skipped."""
    base = c.variants[0].report.totals
    out = []
    for i, v in enumerate(c.variants):
        t = v.report.totals
        row = [v.name, fmt.count(t.params), fmt.count(t.macs), _ratio(t.macs, base.macs) if i else "1",
               fmt.rf_text(t.rf, wrap), str(len(v.changed)) if i else "", str(len(v.skipped)) if i else ""]  # fmt: skip
        if t.measured:  # every variant is measured when one is (_measured)
            row += [f"{t.measured['ms_median']:.3f}", _time_ratio(base, t) if i else "1"]
        if c.predictions:
            from .predicted import ms

            row += [ms(c.predictions[i].total_ms), _ratio(c.predictions[i].total_ms, c.predictions[0].total_ms) if i else "1"]
        if t.training is not None:
            (macs, memory), (first, _) = _step(v.report), _step(c.variants[0].report)
            row += [fmt.count(macs), _ratio(macs, first) if i else "1", fmt.nbytes(memory)]
        if v.report.memory is not None:
            row.append(fmt.nbytes(t.peak_memory_bytes))
        out.append(row)
    return out


def _rf_changed(base: Any, t: Any) -> bool:
    if base.rf is None and t.rf is None:
        return False
    return base.rf is None or t.rf is None or base.rf.size != t.rf.size


def summary_lines(c: Comparison) -> list[str]:
    """Per design, in words: the MAC saving, what the measurement says, the closed form, and the
    layers each rewrite left alone, grouped by reason."""
    lines = []
    base = c.variants[0].report.totals
    names = {row.path: row.name for row in c.rows}
    for v in c.variants[1:]:
        t = v.report.totals
        if v.report.input != c.variants[0].report.input:
            lines.append(f"note: {v.name} takes input {fmt.shape(v.report.input)}, the standard {fmt.shape(c.variants[0].report.input)}")
        if not base.macs:
            reduction = "no MACs in either" if not t.macs else f"{t.macs:,} MACs where the standard has none"
        elif t.macs <= base.macs:
            reduction = f"{base.macs / t.macs:.2f}× fewer MACs" if t.macs else "no MACs"
        else:
            reduction = f"{t.macs / base.macs:.2f}× more MACs"
        line = f"{v.name}: {reduction}"
        if t.params != base.params and base.params:
            share = t.params / base.params
            line += f", {share:.3f}× the params" if share >= 0.01 else f", {share:.2g}× the params"
        if _rf_changed(base, t):
            line += f"; receptive field {fmt.rf_text(base.rf)} → {fmt.rf_text(t.rf)}"
        if t.measured and base.measured and t.measured["ms_median"] > 0:
            speed = base.measured["ms_median"] / t.measured["ms_median"]
            said = f"{speed:.2f}× faster" if speed >= 1 else f"{1 / speed:.2f}× slower"
            line += f"; measured {said}" + (f" (MACs say {base.macs / t.macs:.2f}× faster)" if t.macs and base.macs else "")
        speedup = c.predicted_speedup(c.variants.index(v))
        if speedup is not None:
            line += f"; predicted {speedup:.2f}× faster" if speedup >= 1 else f"; predicted {1 / speedup:.2f}× slower"
            if t.macs and base.macs and t.macs < base.macs and speedup < base.macs / t.macs / FAR_BELOW:
                line += " — saves MACs, not time"
        if v.closed_form:
            state = {True: "holds on every changed layer", False: "does not hold on a changed layer", None: "no layer changed"}
            line += f"; closed form {v.closed_form}: {state[v.closed_form_ok]}"
        lines.append(line)
        reasons: dict[str, list[str]] = {}
        for path, why in v.skipped:
            reasons.setdefault(why, []).append(path)
        for why, paths in list(reasons.items())[:REASONS]:
            shown = [names.get(p, p) for p in paths[:3]]
            more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
            lines.append(f"  left alone ({why}): {', '.join(shown)}{more}")
        rest = sum(len(paths) for paths in list(reasons.values())[REASONS:])
        if rest:
            lines.append(f"  left alone for {len(reasons) - REASONS} other reasons: {rest} more layers (-f json lists every one)")
    return lines


REASONS = 4  #: reasons listed per design; the rest are counted


DETAIL = [Column("layer", right=False, keep=True), Column("kind", right=False, keep=True), Column("params\nbefore"),
          Column("params\nafter"), Column("MACs\nbefore"), Column("MACs\nafter"), Column("×MACs")]  # fmt: skip


def _differs(row: Row, i: int) -> bool:
    return row.cells[i] != row.cells[0]


def detail_rows(c: Comparison, i: int, aligned: tuple[Row, ...]) -> tuple[list[list[str]], int]:
    """The layers design ``i`` changes against the standard, and how many it leaves as they were."""
    out, same = [], 0
    for row in aligned:
        if not _differs(row, i):
            same += row.cells[0] is not None and row.cells[0] != (0, 0)
            continue
        before, after = row.cells[0], row.cells[i]
        cell = [fmt.count(x) if x is not None else "—" for x in (before[0] if before else None, after[0] if after else None,
                                                                 before[1] if before else None, after[1] if after else None)]  # fmt: skip
        ratio = _ratio(after[1], before[1]) if before and after else ("new" if after else "gone")
        out.append([row.name, row.kind, *cell, ratio])
    return out, same


def _detail_total(c: Comparison, i: int) -> list[str]:
    b, t = c.variants[0].report.totals, c.variants[i].report.totals
    return ["total", "", fmt.count(b.params), fmt.count(t.params), fmt.count(b.macs), fmt.count(t.macs), _ratio(t.macs, b.macs)]


def prose(line: str, width: int | None) -> Any:
    """A line of words, wrapped to ``width`` with its continuation lines indented under its text."""
    import textwrap

    from rich.text import Text

    line = printable(line)
    if width is None or len(line) <= width:
        return Text(line)
    indent = " " * (len(line) - len(line.lstrip()) + 2)
    return Text("\n".join(textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False)))


def compare_table(c: Comparison, width: int | None = None) -> Any:
    """Per design, the layers it changes; then, last, where a terminal leaves the reader, the
    summary that answers "which design?": one row per design and a line of words each."""
    from rich.console import Group
    from rich.text import Text

    model = c.variants[0].report.model
    parts: list[Any] = [Text(f"{model}: {len(c.variants)} designs compared — per layer first, the summary last", style="bold")]
    tables = []
    aligned = c.rows
    for i, v in enumerate(c.variants[1:], start=1):
        rows, same = detail_rows(c, i, aligned)
        parts.append(Text(""))
        title = f"{v.name} against {c.variants[0].name}, per layer: {len(rows)} differ"
        parts.append(Text(title + (f", {same} unchanged left out" if same else ""), style="bold"))
        if rows:
            detail = fit(DETAIL, rows, width, total=_detail_total(c, i))
            parts.append(detail.table)
            tables.append(detail)
    summary = fit(_columns(c), summary_rows(c, wrap=width is not None), width)
    parts += [Text(""), Text(f"{model}: the designs (×MACs = MACs ÷ the standard's)", style="bold"), summary.table]
    tables.append(summary)
    parts += [prose(line, width) for line in summary_lines(c)]
    m = c.variants[0].report.totals.measured
    if c.predictions:
        from .predicted import heading

        parts.append(prose(heading(c.predictions[0], c.variants[0].report.batch) + "; ×time = time ÷ the standard's", width))
    if m and _measured(c):
        parts.append(prose(f"ms: end to end on {m['backend']}/{m['device']}, batch {m['batch']}, median of {m['repeats']}; "
                           "×time = time ÷ the standard's", width))  # fmt: skip
    note = hidden_note(width, *tables)
    if note:
        parts.append(Text(note, style="yellow"))
    parts.append(Text(f"{LEGEND} · RF /stride in input positions", style="dim"))
    return Group(*parts)


def variant_dict(v: Variant, shared: dict[int, Any] | None = None, prediction: Any = None) -> dict[str, Any]:
    data = report_dict(v.report, None if prediction else shared, prediction)
    data = {"name": v.name, **data, "changed": list(v.changed), "skipped": [{"path": p, "why": w} for p, w in v.skipped]}
    if v.closed_form:
        data["closed_form"] = {"formula": v.closed_form, "holds": v.closed_form_ok}
    return data


def compare_dict(c: Comparison) -> dict[str, Any]:
    shared: dict[int, Any] = {}  # the designs share most layer records: each is converted once
    predictions = c.predictions or (None,) * len(c.variants)
    return {"variants": [variant_dict(v, shared, p) | ({"predicted_speedup": c.predicted_speedup(i)} if p else {})
                         for i, (v, p) in enumerate(zip(c.variants, predictions))]}  # fmt: skip


def compare_markdown(c: Comparison) -> str:
    columns = _columns(c)
    header = [col.header.replace("\n", " ") for col in columns]
    text = f"### {c.variants[0].report.model}: designs compared\n\n" + md_table(
        header, summary_rows(c, wrap=False), set(range(1, len(header)))
    )
    text += "\n" + "".join(f"- {line.strip()}\n" for line in summary_lines(c))
    aligned = c.rows
    for i, v in enumerate(c.variants[1:], start=1):
        rows, same = detail_rows(c, i, aligned)
        text += f"\n#### {v.name}: {len(rows)} layers differ" + (f", {same} unchanged" if same else "") + "\n\n"
        if rows:
            total = [f"**{x}**" if x else x for x in _detail_total(c, i)]
            text += md_table([col.header.replace("\n", " ") for col in DETAIL], rows + [total], set(range(2, len(DETAIL))))
    return text


def compare_csv(c: Comparison) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    first = c.variants[0].report
    extra = (("step_macs", "training_memory_bytes") if first.totals.training is not None else ()) + (
        ("peak_memory_bytes",) if first.memory is not None else ()
    )  # totals only: the TOTAL row has them
    writer.writerow(["path", "name", "kind", *(f"{v.name}_{x}" for v in c.variants for x in ("params", "macs")),
                     *(f"{v.name}_{x}" for v in c.variants for x in extra)])  # fmt: skip
    for row in c.rows:
        writer.writerow([row.path, row.name, row.kind, *(x for cell in row.cells for x in (cell if cell else ("", ""))),
                         *([""] * len(extra) * len(c.variants))])  # fmt: skip
    totals: list[Any] = []
    for v in c.variants:
        if first.totals.training is not None:
            totals += list(_step(v.report))
        if first.memory is not None:
            totals.append(v.report.totals.peak_memory_bytes)
    writer.writerow(["TOTAL", "", "", *(x for v in c.variants for x in (v.report.totals.params, v.report.totals.macs)), *totals])
    return out.getvalue()


VIEW = View(compare_table, lambda c: versioned(compare_dict(c)), compare_csv, compare_markdown)
