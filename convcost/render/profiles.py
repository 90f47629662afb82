"""`convcost profiles`: every device profile with its peaks, bandwidth and source."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..device.profiles import BUILTIN, PRECISIONS, Profile, load, saved
from ..errors import ConvcostError, printable
from .fit import Column, fit, hidden_note
from .machine import md_table, versioned
from .view import View

COLUMNS = [Column("id", right=False, keep=True), *(Column(f"{p}\nTFLOP/s" if p != "int8" else "int8\nTOP/s") for p in PRECISIONS),
           Column("memory\nGB/s"), Column("name", right=False)]  # fmt: skip


def all_profiles() -> list[tuple[Profile, str]]:
    """(profile, where it comes from): the built-in ones, then the saved ones (a broken file: its error)."""
    found: list[tuple[Profile, str]] = [(p, "built-in") for p in BUILTIN.values()]
    for key, path in saved().items():
        try:
            found.append((load(path), str(path)))
        except ConvcostError as exc:
            found.append((Profile(key, f"unreadable: {exc}", {}, 1.0, str(path)), str(path)))
    return found


def _rate(value: float | None, scale: float) -> str:
    return "—" if not value else f"{value / scale:,.4g}"


def rows(found: list[tuple[Profile, str]]) -> list[list[str]]:
    """One row per profile; the id (a file's name) and the name are data: escaped to one line."""
    return [[printable(p.id), *(_rate(p.peak.get(k), 1e12) for k in PRECISIONS), _rate(p.bandwidth, 1e9), printable(p.name)]
            for p, _ in found]  # fmt: skip


def profiles_table(found: list[tuple[Profile, str]], width: int | None = None) -> Any:
    from rich.console import Group
    from rich.text import Text

    table = fit(COLUMNS, rows(found), width)
    parts: list[Any] = [Text("device profiles (--device-profile ID, or a profile file)", style="bold"), table.table]
    note = hidden_note(width, table)
    if note:
        parts.append(Text(note, style="yellow"))
    parts.append(Text("dense peaks (no sparsity); — = no such units. Sources:", style="dim"))
    parts += [Text(printable(f"  {p.id}: {p.source}"), style="dim") for p, _ in found]
    return Group(*parts)


def profiles_json(found: list[tuple[Profile, str]]) -> str:
    return versioned({"profiles": [{"id": p.id, "name": p.name, "peak_flops": {k: p.peak.get(k) for k in PRECISIONS},
                                    "bandwidth": p.bandwidth, "efficiency": dict(p.efficiency), "source": p.source, "from": where}
                                   for p, where in found]})  # fmt: skip


def profiles_csv(found: list[tuple[Profile, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", *(f"{k}_flops" for k in PRECISIONS), "bandwidth_bytes_per_s", "name", "source"])
    for p, _ in found:
        writer.writerow([p.id, *(p.peak.get(k) or "" for k in PRECISIONS), p.bandwidth, p.name, p.source])
    return out.getvalue()


def profiles_markdown(found: list[tuple[Profile, str]]) -> str:
    header = [c.header.replace("\n", " ") for c in COLUMNS] + ["source"]
    body = [row + [printable(p.source)] for row, (p, _) in zip(rows(found), found)]
    return "### Device profiles\n\n" + md_table(header, body, set(range(1, 7)))


VIEW = View(profiles_table, profiles_json, profiles_csv, profiles_markdown)
