"""fit output: the configurations that fit, largest first, with the Pareto front marked."""

from __future__ import annotations

import csv
import io
from typing import Any, NamedTuple

from ..analysis.fit import Fitted, Point, point_dict
from . import fmt
from .fit import LEGEND, Column, fit, hidden_note
from .machine import md_table, versioned
from .view import View

COLUMNS = [Column("#", right=False, keep=True), Column("width"), Column("input"), Column("params"), Column("MACs"),
           Column("peak\nmemory"), Column("front", right=False)]  # fmt: skip


class Shown(NamedTuple):
    fitted: Fitted
    top: int


def _limit(name: str, value: int) -> str:
    return f"{name} ≤ {fmt.nbytes(value) if name == 'peak_memory' else f'{value:,}'}"


def _row(i: int, p: Point, front: bool) -> list[str]:
    v = p.values or {}
    return [str(i + 1), f"{float(p.width):g}", fmt.shape(p.input[1:]), fmt.count(v["params"]), fmt.count(v["macs"]),
            fmt.nbytes(v["peak_memory"]), "●" if front else ""]  # fmt: skip


def lines(f: Fitted) -> list[str]:
    fitting = [p for p in f.points if p.fits]
    plan = f" (peak memory under the {f.memory_plan} plan)" if f.memory_plan else ""
    said = [f"{f.model}: {len(fitting)} of {len(f.points)} configurations fit {', '.join(_limit(k, v) for k, v in f.limits.items())}{plan}"]
    best = f.best
    if best is not None and best.values:
        v = best.values
        said.append(f"best: width {float(best.width):g} at {fmt.shape(best.input[1:])}: MACs {v['macs']:,}, params {v['params']:,}, "
                    f"peak memory {fmt.nbytes(v['peak_memory'])}")  # fmt: skip
    else:
        built = [p for p in f.points if p.values]
        if built:
            for name in f.limits:
                least = min(built, key=lambda p: (p.values or {})[name])
                value = (least.values or {})[name]
                shown = fmt.nbytes(value) if name == "peak_memory" else f"{value:,}"
                said.append(
                    f"nothing fits: the least {name} on the grid is {shown} (width {float(least.width):g} at {fmt.shape(least.input[1:])})"
                )
    broken = [p for p in f.points if p.error]
    if broken:
        said.append(f"{len(broken)} configurations do not build, e.g. width {float(broken[0].width):g}: {broken[0].error}")
    return said


def table(s: Shown, width: int | None) -> Any:
    from rich.console import Group
    from rich.text import Text

    f = s.fitted
    rows = [_row(i, p, i in f.front) for i, p in enumerate(f.points[: s.top]) if p.fits]
    parts: list[Any] = []
    tables = []
    if rows:
        fitted = fit(COLUMNS, rows, width)
        parts.append(fitted.table)
        tables.append(fitted)
    note = hidden_note(width, *tables)
    parts += [Text(note, style="yellow")] if note else []
    parts += [Text(line) for line in lines(f)]
    parts.append(Text("● the Pareto front: no other fitting configuration has as many MACs with as few params and as little peak memory"))
    parts.append(Text(LEGEND, style="dim"))
    return Group(*parts)


def _json(s: Shown) -> str:
    f = s.fitted
    shown = [point_dict(p, i in f.front) for i, p in enumerate(f.points) if p.fits][: s.top]
    best = point_dict(f.best, 0 in f.front) if f.best else None
    return versioned(
        {"model": f.model, "limits": f.limits, "memory_plan": f.memory_plan, "points": shown, "best": best, "grid": len(f.points)}
    )


def _csv(s: Shown) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["width", "input", "params", "macs", "flops", "peak_memory_bytes", "pareto"])
    for i, p in enumerate(s.fitted.points[: s.top]):
        if p.fits and p.values:
            v = p.values
            writer.writerow([f"{float(p.width):g}", fmt.shape(p.input, "x"), v["params"], v["macs"], v["flops"], v["peak_memory"],
                             "true" if i in s.fitted.front else "false"])  # fmt: skip
    return out.getvalue()


def _markdown(s: Shown) -> str:
    f = s.fitted
    rows = [_row(i, p, i in f.front) for i, p in enumerate(f.points[: s.top]) if p.fits]
    text = f"## fit: {f.model}\n\n" + (md_table([c.header.replace("\n", " ") for c in COLUMNS], rows, {1, 3, 4, 5}) if rows else "")
    return text + "\n" + "\n".join(f"- {line}" for line in lines(f)) + "\n"


VIEW = View(table, _json, _csv, _markdown)
