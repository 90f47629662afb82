"""`convcost zoo`: the bundled models with their size, cost, input and what they are."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..errors import printable
from ..zoo import Entry
from . import fmt
from .fit import SEPARATOR, Column, fit, hidden_note, natural
from .machine import md_table, versioned
from .view import View

COLUMNS = [Column("name", right=False, keep=True), Column("params"), Column("MACs"), Column("input"),
           Column("what it is", right=False, keep=True)]  # fmt: skip


def rows(entries: list[Entry]) -> list[list[str]]:
    return [[e.name, fmt.count(e.params), fmt.count(e.macs), fmt.shape(e.input), printable(e.description)] for e in entries]


def zoo_table(entries: list[Entry], width: int | None = None) -> Any:
    """The list, fitted to ``width``: names and numbers whole, the description wrapped at word
    boundaries in what is left (at least 20 characters); uncut, one line each, for ``None``."""
    from rich.console import Group
    from rich.text import Text

    columns, cells = COLUMNS, rows(entries)
    table = fit(columns, _wrapped(columns, cells, width), width)
    if table.hidden:  # a narrow terminal: without the columns that do not fit, the description has more room
        kept = [i for i, c in enumerate(columns) if c.header.replace("\n", " ") not in table.hidden]
        columns, cells = [columns[i] for i in kept], [[row[i] for i in kept] for row in cells]
        table = fit(columns, _wrapped(columns, cells, width), width)._replace(hidden=table.hidden)
    parts: list[Any] = [Text("bundled models (zoo:NAME works wherever a MODEL.yaml does)", style="bold"), table.table]
    note = hidden_note(width, table)
    if note:
        parts.append(Text(note, style="yellow"))
    parts.append(Text("batch 1 · K/M/G = 10³/10⁶/10⁹ · convcost zoo NAME prints one, -o FILE writes it", style="dim"))
    return Group(*parts)


def _wrapped(columns: list[Column], cells: list[list[str]], width: int | None) -> list[list[str]]:
    """The last column (the description) wrapped into the width the others leave."""
    if width is None:
        return cells
    import textwrap

    others = sum(natural(c, [r[i] for r in cells]) for i, c in enumerate(columns[:-1])) + SEPARATOR * (len(columns) - 1)
    room = max(20, width - others)
    return [[*row[:-1], "\n".join(textwrap.wrap(row[-1], room))] for row in cells]


def zoo_json(entries: list[Entry]) -> str:
    return versioned({"models": [{"name": e.name, "path": str(e.path), "input": list(e.input), "params": e.params, "macs": e.macs,
                                  "description": e.description} for e in entries]})  # fmt: skip


def zoo_csv(entries: list[Entry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "params", "macs", "input", "description"])
    for e in entries:
        writer.writerow([e.name, e.params, e.macs, fmt.shape(e.input, sep="x"), e.description])
    return out.getvalue()


def zoo_markdown(entries: list[Entry]) -> str:
    header = ["name", "params", "MACs", "input", "what it is"]
    body = [[f"`{row[0]}`", *row[1:]] for row in rows(entries)]
    return "### Bundled models\n\n" + md_table(header, body, {1, 2, 3})


VIEW = View(zoo_table, zoo_json, zoo_csv, zoo_markdown)
