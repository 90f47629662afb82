"""check output: a row per limit (limit, value, headroom, pass/fail), growth against a baseline."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..analysis.budget import Check, Findings
from . import fmt
from .fit import Column, fit, hidden_note
from .machine import md_table, versioned
from .view import View


def shown(check: Check, value: int | float) -> str:
    base = check.name.removesuffix("_increase")
    if base in ("peak_memory", "training_memory"):
        return fmt.nbytes(int(value))
    if base in ("params", "macs", "flops", "training_macs"):
        return fmt.count(int(value))
    if base == "predicted_ms":
        return f"{value:.4g} ms"
    return str(value)


def growth(c: Check) -> str:
    """How much a total grew over its baseline, as a percentage."""
    if c.baseline is None:
        return ""
    if not c.baseline:
        return " (new)" if c.value else " (+0%)"
    return f" ({(c.value - c.baseline) / c.baseline * 100:+.2f}%)"


def rows(f: Findings) -> list[list[str]]:
    out = []
    for c in f.checks:
        head = c.headroom
        name = f"{c.name.removesuffix('_increase')} growth" if c.baseline is not None else c.name
        out.append([name, ("≥ " if c.minimum else "≤ ") + shown(c, c.limit), shown(c, c.value) + growth(c),
                    "—" if head is None else f"{float(head) * 100:+.1f}%", "pass" if c.ok else "FAIL"])  # fmt: skip
    return out


HEADER = ["check", "limit", "value", "headroom", "result"]
COLUMNS = [Column("check", right=False, keep=True), Column("limit"), Column("value"), Column("headroom"),
           Column("result", right=False, keep=True)]  # fmt: skip
GROWTH = [Column("layer", right=False, keep=True), Column("kind", right=False, keep=True), Column("params"), Column("MACs")]


def check_table(all_findings: list[Findings], width: int | None = None) -> Any:
    from rich.console import Group
    from rich.text import Text

    parts: list[Any] = []
    tables: list[Any] = []
    for f in all_findings:
        parts.append(Text(f"{f.model} ({f.source})" if f.source else f.model, style="bold"))
        if f.error:
            parts.append(Text(f"error: {f.error}", style="bold red"))
            continue
        body = rows(f)
        fitted = fit(COLUMNS, body, width, styles=["green" if r[-1] == "pass" else "bold red" for r in body])
        parts.append(fitted.table)
        tables.append(fitted)
        parts += [Text(n, style="dim") for n in f.notes]
        if f.growth:
            parts.append(Text("what grew", style="bold"))
            grew = [[g.name, g.kind, f"{fmt.count(g.params[0])} → {fmt.count(g.params[1])}",
                     f"{fmt.count(g.macs[0])} → {fmt.count(g.macs[1])}"] for g in f.growth]  # fmt: skip
            fitted = fit(GROWTH, grew, width)
            parts.append(fitted.table)
            tables.append(fitted)
    note = hidden_note(width, *tables)
    if note:
        parts.append(Text(note, style="yellow"))
    parts.append(Text(verdict(all_findings), style="bold green" if all(f.ok for f in all_findings) else "bold red"))
    return Group(*parts)


def verdict(all_findings: list[Findings]) -> str:
    failed = [f.model for f in all_findings if not f.ok and not f.error]
    broken = [f.model for f in all_findings if f.error]
    ok = len(all_findings) - len(failed) - len(broken)
    return (f"{ok} of {len(all_findings)} within budget" + (f"; over: {', '.join(failed)}" if failed else "")
            + (f"; could not check: {', '.join(broken)}" if broken else ""))  # fmt: skip


def findings_dict(f: Findings) -> dict[str, Any]:
    if f.error:
        return {"model": f.model, "ok": False, "checks": [], "error": f.error}
    data: dict[str, Any] = {"model": f.model, "ok": f.ok,
                            "checks": [{"name": c.name, "limit": c.limit, "value": c.value, "ok": c.ok} for c in f.checks]}  # fmt: skip
    if f.growth:
        data["growth"] = [
            {"path": g.path, "name": g.name, "kind": g.kind, "params": list(g.params), "macs": list(g.macs)} for g in f.growth
        ]
    return data


def check_json_data(all_findings: list[Findings]) -> dict[str, Any]:
    if len(all_findings) == 1:
        return findings_dict(all_findings[0])
    return {"ok": all(f.ok for f in all_findings), "models": [findings_dict(f) for f in all_findings]}


def check_markdown(all_findings: list[Findings]) -> str:
    text = ""
    for f in all_findings:
        icon = "✅" if f.ok else "❌"
        if f.error:
            text += f"### {icon} {f.model}\n\nerror: {f.error}\n\n"
            continue
        text += f"### {icon} {f.model}\n\n" + md_table(HEADER, rows(f), {1, 2, 3}) + "".join(f"\n_{n}_\n" for n in f.notes)
        if f.growth:
            text += "\n**what grew**\n\n" + md_table(["layer", "kind", "params", "MACs"], [
                [g.name, g.kind, f"{g.params[0]:,} → {g.params[1]:,}", f"{g.macs[0]:,} → {g.macs[1]:,}"] for g in f.growth], {2, 3})  # fmt: skip
        text += "\n"
    return text


def check_csv(all_findings: list[Findings]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["model", "check", "limit", "value", "ok"])
    for f in all_findings:
        if f.error:
            writer.writerow([f.model, "error", "", f.error, False])
        writer.writerows([f.model, c.name, c.limit, c.value, c.ok] for c in f.checks)
    return out.getvalue()


def _escape(text: str) -> str:
    """GitHub workflow-command data: %, CR and LF escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def check_github(all_findings: list[Findings]) -> str:
    """GitHub Actions workflow commands: an error per failed check at its `budget:` line."""
    lines = []
    for f in all_findings:
        if f.error:
            where = f.error.split(": ", 1)[0].split(":")
            line = where[1] if len(where) >= 2 and where[1].isascii() and where[1].isdigit() else "1"
            lines.append(f"::error file={f.source},line={line},title=convcost::{_escape(f.error)}")
            continue
        for c in f.checks:
            if c.ok:
                continue
            at = c.mark.line if c.mark else 1
            bound = ("at least " if c.minimum else "at most ") + shown(c, c.limit)
            lines.append(
                f"::error file={f.source},line={at},title=convcost {c.name}::{f.model}: {c.name} is {shown(c, c.value)}, budget {bound}"
            )
        if f.ok:
            lines.append(f"::notice file={f.source},title=convcost::{f.model}: within budget ({len(f.checks)} checks)")
    return "\n".join(lines) + "\n"


VIEW = View(check_table, lambda found: versioned(check_json_data(found)), check_csv, check_markdown, check_github)
