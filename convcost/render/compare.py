"""compare output: a row per layer, a column group per design (params, MACs, ratio), totals."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..compare import Comparison, Variant
from . import fmt
from .machine import md_table, report_dict, rf_text


def speedups(base: Any, totals: Any) -> tuple[float, float]:
    """(theoretical speed-up: the MAC ratio, measured speed-up: the time ratio) over the standard."""
    theory = base.macs / totals.macs if totals.macs else float("inf")
    return theory, base.measured["ms_median"] / totals.measured["ms_median"]


def _ratio(value: int, base: int) -> str:
    return "—" if not base else fmt.ratio(value / base)


def cells(c: Comparison) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, body rows and the totals row, as text."""
    header = ["layer", "kind"]
    for i, v in enumerate(c.variants):
        header += [f"{v.name} params", f"{v.name} MACs"] + ([] if i == 0 else [f"{v.name} ×MACs"])
    body = []
    for row in c.rows:
        if all(cell is None or cell == (0, 0) for cell in row.cells):
            continue  # pooling, activations, merges: nothing to compare
        line = [row.path, row.kind]
        base = row.cells[0]
        for i, cell in enumerate(row.cells):
            if cell is None:
                line += ["—", "—"] + ([] if i == 0 else ["—"])
                continue
            line += [fmt.count(cell[0]), fmt.count(cell[1])]
            if i:
                line.append(_ratio(cell[1], base[1]) if base is not None else "new")
        body.append(line)
    total = ["total", ""]
    base_macs = c.variants[0].report.totals.macs
    for i, v in enumerate(c.variants):
        t = v.report.totals
        total += [fmt.count(t.params), fmt.count(t.macs)] + ([] if i == 0 else [_ratio(t.macs, base_macs)])
    return header, body, total


def summary_lines(c: Comparison) -> list[str]:
    lines = []
    base = c.variants[0].report.totals
    for i, v in enumerate(c.variants):
        t = v.report.totals
        rf = rf_text(t.rf)
        if i == 0:
            timed = f"; measured {t.measured['ms_median']:.3f} ms on {t.measured['backend']}/{t.measured['device']}" if t.measured else ""
            lines.append(f"{v.name}: params {t.params:,}, MACs {t.macs:,}, receptive field {rf}{timed}")
            continue
        if t.macs <= base.macs:
            reduction = f"{base.macs / t.macs:.2f}× fewer MACs" if t.macs else "no MACs"
        else:
            reduction = f"{t.macs / base.macs:.2f}× more MACs"
        rf_note = "" if (t.rf and base.rf and t.rf.size == base.rf.size) else " (receptive field changed!)"
        line = f"{v.name}: params {t.params:,}, MACs {t.macs:,} — {reduction}; receptive field {rf}{rf_note}"
        if t.measured and base.measured:
            theory, speedup = speedups(base, t)
            line += f"; measured {t.measured['ms_median']:.3f} ms: speed-up ×{speedup:.2f} measured vs ×{theory:.2f} in MACs"
        if v.closed_form:
            state = {True: "every changed layer matches it", False: "a changed layer does not match it", None: "no layer changed"}[
                v.closed_form_ok
            ]
            line += f"; closed form {v.closed_form}: {state}"
        lines.append(line)
        if v.changed or v.skipped:
            lines.append(f"  changed {len(v.changed)} layer(s)" + (f"; left {len(v.skipped)} alone:" if v.skipped else ""))
            reasons: dict[str, list[str]] = {}
            for path, why in v.skipped:
                reasons.setdefault(why, []).append(path)
            for why, paths in reasons.items():
                more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
                lines.append(f"    {v.name} skips {', '.join(paths[:3])}{more}: {why}")
    return lines


def speedup_rows(c: Comparison) -> list[list[str]]:
    """Per design: measured time, theoretical speed-up (MAC ratio) and measured speed-up."""
    base = c.variants[0].report.totals
    if not base.measured:
        return []
    rows = []
    for v in c.variants:
        t = v.report.totals
        if not t.measured:
            continue
        theory, measured = speedups(base, t)
        rows.append([v.name, f"{t.measured['ms_median']:.3f}", f"×{theory:.2f}", f"×{measured:.2f}"])
    return rows


SPEEDUP_HEADER = ["design", "measured ms", "speed-up in MACs", "measured speed-up"]


def compare_table(c: Comparison) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    header, body, total = cells(c)
    table = Table(title=f"{c.variants[0].report.model}: designs compared (×MACs = ratio to standard)", header_style="bold")
    for i, name in enumerate(header):
        table.add_column(name.replace(" ", "\n", 1) if i > 1 else name, justify="right" if i > 1 else "left", no_wrap=i > 1)
    for line in body:
        table.add_row(*line)
    table.add_section()
    table.add_row(*total, style="bold")
    parts: list[Any] = [table]
    speed = speedup_rows(c)
    if speed:
        m = c.variants[0].report.totals.measured
        timing = Table(
            title=f"measured on {m['backend']}/{m['device']}, batch {m['batch']} (median of {m['repeats']})", header_style="bold"
        )
        for i, name in enumerate(SPEEDUP_HEADER):
            timing.add_column(name, justify="right" if i else "left")
        for row in speed:
            timing.add_row(*row)
        parts.append(timing)
    return Group(*parts, *(Text(line) for line in summary_lines(c)))


def variant_dict(v: Variant) -> dict[str, Any]:
    data = report_dict(v.report)
    data = {"name": v.name, **data, "changed": list(v.changed), "skipped": [{"path": p, "why": w} for p, w in v.skipped]}
    if v.closed_form:
        data["closed_form"] = {"formula": v.closed_form, "holds": v.closed_form_ok}
    return data


def compare_dict(c: Comparison) -> dict[str, Any]:
    return {"variants": [variant_dict(v) for v in c.variants]}


def compare_markdown(c: Comparison) -> str:
    header, body, total = cells(c)
    text = f"### {c.variants[0].report.model}: designs compared\n\n"
    text += md_table(header, body + [[f"**{x}**" if x else x for x in total]], set(range(2, len(header))))
    if speedup_rows(c):
        text += "\n" + md_table(SPEEDUP_HEADER, speedup_rows(c), {1, 2, 3})
    return text + "\n" + "\n".join(f"- {line.strip()}" for line in summary_lines(c)) + "\n"


def compare_csv(c: Comparison) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["layer", "kind", *(f"{v.name}_{x}" for v in c.variants for x in ("params", "macs"))])
    for row in c.rows:
        writer.writerow([row.path, row.kind, *(x for cell in row.cells for x in (cell if cell else ("", "")))])
    writer.writerow(["TOTAL", "", *(x for v in c.variants for x in (v.report.totals.params, v.report.totals.macs))])
    return out.getvalue()
