"""check output: a row per limit (limit, value, headroom, pass/fail), growth against a baseline."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..budget import Check, Findings
from . import fmt
from .machine import md_table


def shown(check: Check, value: int | float) -> str:
    base = check.name.removesuffix("_increase")
    if base == "peak_memory":
        return fmt.nbytes(int(value))
    if base in ("params", "macs", "flops"):
        return fmt.count(int(value))
    return str(value)


def rows(f: Findings) -> list[list[str]]:
    out = []
    for c in f.checks:
        head = c.headroom
        out.append([c.name, ("≥ " if c.minimum else "≤ ") + shown(c, c.limit), shown(c, c.value),
                    "—" if head is None else f"{float(head) * 100:+.1f}%", "pass" if c.ok else "FAIL"])  # fmt: skip
    return out


HEADER = ["check", "limit", "value", "headroom", "result"]


def check_table(all_findings: list[Findings]) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    for f in all_findings:
        table = Table(title=f"{f.model} ({f.source})" if f.source else f.model, header_style="bold", title_justify="left")
        for i, name in enumerate(HEADER):
            table.add_column(name, justify="right" if 0 < i < 4 else "left")
        for row in rows(f):
            table.add_row(*row[:-1], Text(row[-1], style="green" if row[-1] == "pass" else "bold red"))
        parts.append(table)
        parts += [Text(n, style="dim") for n in f.notes]
        if f.growth:
            grew = Table(title="what grew", header_style="bold", title_justify="left")
            for name in ("layer", "kind", "params", "MACs"):
                grew.add_column(name, justify="right" if name in ("params", "MACs") else "left")
            for g in f.growth:
                grew.add_row(
                    g.path,
                    g.kind,
                    f"{fmt.count(g.params[0])} → {fmt.count(g.params[1])}",
                    f"{fmt.count(g.macs[0])} → {fmt.count(g.macs[1])}",
                )
            parts.append(grew)
    failed = [f.model for f in all_findings if not f.ok]
    summary = f"{len(all_findings) - len(failed)} of {len(all_findings)} within budget" + (f"; over: {', '.join(failed)}" if failed else "")
    parts.append(Text(summary, style="bold red" if failed else "bold green"))
    return Group(*parts)


def findings_dict(f: Findings) -> dict[str, Any]:
    data: dict[str, Any] = {"model": f.model, "ok": f.ok,
                            "checks": [{"name": c.name, "limit": c.limit, "value": c.value, "ok": c.ok} for c in f.checks]}  # fmt: skip
    if f.growth:
        data["growth"] = [{"path": g.path, "kind": g.kind, "params": list(g.params), "macs": list(g.macs)} for g in f.growth]
    return data


def check_json_data(all_findings: list[Findings]) -> dict[str, Any]:
    if len(all_findings) == 1:
        return findings_dict(all_findings[0])
    return {"ok": all(f.ok for f in all_findings), "models": [findings_dict(f) for f in all_findings]}


def check_markdown(all_findings: list[Findings]) -> str:
    text = ""
    for f in all_findings:
        icon = "✅" if f.ok else "❌"
        text += f"### {icon} {f.model}\n\n" + md_table(HEADER, rows(f), {1, 2, 3}) + "".join(f"\n_{n}_\n" for n in f.notes)
        if f.growth:
            text += "\n**what grew**\n\n" + md_table(["layer", "kind", "params", "MACs"], [
                [g.path, g.kind, f"{g.params[0]:,} → {g.params[1]:,}", f"{g.macs[0]:,} → {g.macs[1]:,}"] for g in f.growth], {2, 3})  # fmt: skip
        text += "\n"
    return text


def check_csv(all_findings: list[Findings]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["model", "check", "limit", "value", "ok"])
    for f in all_findings:
        writer.writerows([f.model, c.name, c.limit, c.value, c.ok] for c in f.checks)
    return out.getvalue()


def check_github(all_findings: list[Findings]) -> str:
    """GitHub Actions workflow commands: an error per failed check at its `budget:` line."""
    lines = []
    for f in all_findings:
        for c in f.checks:
            if c.ok:
                continue
            line = c.mark.line if c.mark else 1
            bound = ("at least " if c.minimum else "at most ") + shown(c, c.limit)
            lines.append(
                f"::error file={f.source},line={line},title=convcost {c.name}::{f.model}: {c.name} is {shown(c, c.value)}, budget {bound}"
            )
        if f.ok:
            lines.append(f"::notice file={f.source},title=convcost::{f.model}: within budget ({len(f.checks)} checks)")
    return "\n".join(lines) + "\n"
