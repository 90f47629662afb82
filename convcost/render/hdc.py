"""hdc-check output: verdict, rules, coverage map, suggestions."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..analysis.hdc import HdcReport, receptive_field
from . import fmt
from .machine import versioned
from .view import View

SHADES = "░▒▓█"
MAP_2D_MAX = 41  # a larger field is drawn as a 1-D strip
STRIP_MAX = 4000
UNCUT_LINE = 100  # strip line length in pipes and files


def rates_text(rates: tuple[int, ...]) -> str:
    return ",".join(map(str, rates))


def verdict(r: HdcReport) -> str:
    state = f"grids: {len(r.holes)} holes per axis" if r.gridding else "no gridding"
    return f"rates {rates_text(r.rates)} (kernel {r.kernel}): receptive field {r.receptive_field} — {state}"


def _sawtooth(r: HdcReport) -> str:
    teeth = r.groups
    if not r.sawtooth:
        return "no: the groups differ or are single rates"
    if len(teeth) == 1:
        return f"one increasing group ({rates_text(teeth[0])})"
    return f"an increasing group ({rates_text(teeth[0])}) repeated ×{len(teeth)}"


def rules(r: HdcReport) -> list[tuple[str, str, str]]:
    """(rule, value, what it says) rows."""
    grouped = " | ".join(rates_text(g) for g in r.groups)
    return [
        ("common factor", f"gcd = {r.gcd}", "grids (always)" if r.gcd > 1 else "none (gridding still possible)"),
        ("M rule, per group", f"groups {grouped}; largest M_2 = {r.m2}, K = {r.kernel}", "ok (M_2 ≤ K)" if r.hdc_ok else "fails (M_2 > K)"),
        ("saw-tooth", "yes" if r.sawtooth else "no", _sawtooth(r)),
        ("ground truth", f"{len(r.holes)} holes, coverage {fmt.percent(r.coverage)}", "grids" if r.gridding else "no holes"),
    ]


def _shade(count: int, top: int) -> int:
    return min(len(SHADES) - 1, (count * len(SHADES) - 1) // top) if count else -1


def map_lines(r: HdcReport, width: int | None = None) -> list[tuple[str, str | None]]:
    """(text, style) lines: a 2-D map shaded by the number of paths, holes as '·' (two characters
    a cell when they fit in ``width``, else one); or a 1-D strip wrapped to ``width``."""
    paths, top = r.paths, max(r.paths)
    cells = [(SHADES[_shade(n, top)], None) if n else ("·", "bold red") for n in paths]
    room = width or 2 * MAP_2D_MAX
    lines: list[tuple[str, str | None]] = []
    if len(paths) <= min(MAP_2D_MAX, room):
        cell = 2 if 2 * len(paths) <= room else 1
        for a in paths:
            row = "".join("·" * cell if not (a and b) else SHADES[_shade(a * b, top * top)] * cell for b in paths)
            lines.append((row, None))
        title: tuple[str, str | None] = (
            f"coverage map, {r.receptive_field}×{r.receptive_field} (shade = paths reaching the offset; · = hole):",
            "bold",
        )
        return [title, *lines]
    strip = "".join(c for c, _ in cells[:STRIP_MAX])
    line = min(width or UNCUT_LINE, UNCUT_LINE)
    lines = [(f"coverage strip per axis, {r.receptive_field} offsets (shade = paths; · = hole):", "bold")]
    lines += [(strip[i : i + line], None) for i in range(0, len(strip), line)]
    if len(paths) > STRIP_MAX:
        lines.append((f"… {len(paths) - STRIP_MAX} more offsets", None))
    return lines


def hdc_table(r: HdcReport, width: int | None = None) -> Any:
    from rich.console import Group
    from rich.text import Text

    head = Text(verdict(r), style="bold red" if r.gridding else "bold green")
    parts: list[Any] = [head]
    for rule, value, said in rules(r):  # one rule a line: long values wrap in a terminal, nothing is cut
        parts.append(Text.assemble((f"{rule}: ", "bold"), f"{value} — {said}"))
    parts += [Text(f"note: {n}", style="yellow") for n in r.notes]
    parts += [Text(line, style=style or "") for line, style in map_lines(r, width)]
    if r.gridding:
        if r.suggestions:
            parts.append(Text("rates that would work (no holes, M rule ok), best first:", style="bold"))
            parts += [Text(f"  {rates_text(s)}  (receptive field {receptive_field(s, r.kernel)})") for s in r.suggestions]
        else:
            parts.append(Text("no nearby rate list found that has no holes and passes the M rule"))
    return Group(*parts)


def hdc_dict(r: HdcReport) -> dict[str, Any]:
    return {"rates": list(r.rates), "kernel": r.kernel, "gcd": r.gcd, "M": list(r.M), "m2": r.m2, "hdc_ok": r.hdc_ok,
            "receptive_field": r.receptive_field, "coverage": fmt.number(r.coverage), "holes": list(r.holes),
            "gridding": r.gridding, "suggestions": [list(s) for s in r.suggestions], "sawtooth": r.sawtooth,
            "notes": list(r.notes)}  # fmt: skip


def hdc_csv(r: HdcReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("rule", "value", "verdict"))
    writer.writerows(rules(r))
    writer.writerow(("suggestions", " ".join(rates_text(s) for s in r.suggestions), ""))
    return out.getvalue()


def hdc_markdown(r: HdcReport) -> str:
    from .machine import md_table

    text = f"### {verdict(r)}\n\n" + md_table(["rule", "value", "verdict"], [list(row) for row in rules(r)])
    text += "".join(f"\n> {n}\n" for n in r.notes)
    text += "\n```\n" + "\n".join(line for line, _ in map_lines(r)) + "\n```\n"
    if r.suggestions:
        text += "\nrates that would work: " + "; ".join(f"`{rates_text(s)}`" for s in r.suggestions) + "\n"
    return text


VIEW = View(hdc_table, lambda r: versioned(hdc_dict(r)), hdc_csv, hdc_markdown)
