"""Tables that fit a terminal: every column keeps its natural width (numbers are never cut);
only the name column shrinks, shortened from the left so the identifying end stays
(``…unit7.conv2``). ``width=None`` is a pipe or a file: nothing is shortened.

When even the shortest names leave too little room, columns are hidden from the right, and
the caller is told which, so it can say so under the table.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..errors import printable

SEPARATOR = 2  #: characters between two columns (padding collapsed, plus the divider)
MIN_NAME = 12  #: the name column never shrinks below this
ELLIPSIS = "…"


class Column(NamedTuple):
    header: str
    right: bool = True  #: numbers are right-justified
    keep: bool = False  #: never hidden (the name and what identifies a row)


class Fitted(NamedTuple):
    table: Any  #: a rich Table
    hidden: tuple[str, ...]  #: headers of the columns left out for lack of width


def shorten(text: str, width: int) -> str:
    """``text`` cut from the left to ``width`` characters, with an ellipsis: the end stays."""
    if len(text) <= width:
        return text
    return ELLIPSIS + text[len(text) - width + 1 :] if width > 1 else ELLIPSIS


def natural(column: Column, cells: list[str]) -> int:
    widths = [len(part) for text in (column.header, *cells) for part in text.split("\n")]
    return max(widths)


def fit(columns: list[Column], rows: list[list[str]], width: int | None, *, total: list[str] | None = None,
        styles: list[str | None] | None = None, wrap: bool = False) -> Fitted:  # fmt: skip
    """A compact table of ``rows`` (column 0 is the name) fitted to ``width`` characters.
    ``wrap``: a table of prose, whose last column wraps at word boundaries instead."""
    if wrap and width is not None:
        return _wrapped(columns, rows, width)
    from rich import box
    from rich.table import Table

    rows = [[printable(row[0]), *row[1:]] for row in rows]  # names are data: no newline or escape sequence reaches the terminal
    every = rows + ([total] if total else [])
    keep = list(range(len(columns)))
    hidden: list[str] = []
    name_width = natural(columns[0], [r[0] for r in every])
    if width is not None:
        while True:
            others = sum(natural(columns[i], [r[i] for r in every]) for i in keep[1:]) + SEPARATOR * (len(keep) - 1)
            room = width - others
            if room >= min(MIN_NAME, name_width) or all(columns[i].keep for i in keep):
                break
            drop = max(i for i in keep if not columns[i].keep)
            keep.remove(drop)
            hidden.insert(0, columns[drop].header.replace("\n", " "))
        name_width = max(1, min(name_width, room))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), header_style="bold", collapse_padding=True)
    for i in keep:
        column = columns[i]
        table.add_column(column.header, justify="right" if column.right else "left", no_wrap=True,
                         overflow="crop", min_width=name_width if i == 0 else None)  # fmt: skip
    for n, row in enumerate(rows):
        table.add_row(*_cells(row, keep, name_width), style=styles[n] if styles else None)
    if total:
        table.add_section()
        table.add_row(*_cells(total, keep, name_width), style="bold")
    return Fitted(table, tuple(hidden))


def _wrapped(columns: list[Column], rows: list[list[str]], width: int) -> Fitted:
    """Every column at its natural width but the last, which wraps in what is left (at least 20)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    others = sum(natural(c, [r[i] for r in rows]) for i, c in enumerate(columns[:-1])) + SEPARATOR * (len(columns) - 1)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), header_style="bold", collapse_padding=True)
    for i, column in enumerate(columns):
        last = i == len(columns) - 1
        table.add_column(column.header, no_wrap=not last, overflow="fold", max_width=max(20, width - others) if last else None)
    for row in rows:
        table.add_row(*(Text(printable(cell)) for cell in row))
    return Fitted(table, ())


def _cells(row: list[str], keep: list[int], name_width: int) -> list[Any]:
    from rich.text import Text

    return [Text(shorten(row[i], name_width) if i == 0 else row[i]) for i in keep]


def hidden_note(width: int | None, *tables: Fitted) -> str | None:
    """What a terminal of this width could not show in these tables, and how to see it."""
    hidden = list(dict.fromkeys(h for t in tables for h in t.hidden))
    if not hidden:
        return None
    return (f"not shown at {width} columns: {', '.join(hidden)} — widen the terminal, or use "
            "-f csv / -f json, or pipe (| less -S) for every column")  # fmt: skip


LEGEND = "K/M/G = 10³/10⁶/10⁹ · MiB = 2²⁰ B · MACs = multiply-accumulates, FLOPs = 2 × MACs"
