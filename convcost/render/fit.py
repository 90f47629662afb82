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
    cells = [[shorten(row[i], name_width) if i == 0 else row[i] for i in keep] for row in rows]
    footer = [shorten(total[i], name_width) if i == 0 else total[i] for i in keep] if total else None
    return Fitted(_laid_out([columns[i] for i in keep], cells, footer, name_width, styles), tuple(hidden))


def _laid_out(columns: list[Column], rows: list[list[str]], total: list[str] | None, name_width: int,
              styles: list[str | None] | None) -> Any:  # fmt: skip
    """The table as lines of text, laid out as rich's SIMPLE_HEAD table without edges would draw
    it (headers bold and bottom-aligned, a rule under them, a blank line above the bold total),
    at a fraction of its cost: no cell wraps, so the layout is plain arithmetic."""
    every = rows + ([total] if total else [])
    widths = [name_width] + [natural(c, [r[i] for r in every]) for i, c in enumerate(columns) if i]
    full = sum(widths) + SEPARATOR * (len(widths) - 1)

    def line(cells: list[str]) -> str:
        return (" " * SEPARATOR).join(c.rjust(w) if col.right else c.ljust(w) for c, w, col in zip(cells, widths, columns)).ljust(full)

    heads = [c.header.split("\n") for c in columns]
    depth = max(map(len, heads))
    lines = [(line([h[k - depth + len(h)] if k >= depth - len(h) else "" for h in heads]), "bold") for k in range(depth)]
    lines.append(("─" * full, ""))
    for n, row in enumerate(rows):
        lines += [(content, (styles[n] if styles else None) or "") for content in _row_lines(row, line)]
    if total:
        lines += [(" " * full, "")] + [(content, "bold") for content in _row_lines(total, line)]
    return Lines(lines)


class Lines:
    """Laid-out lines as a rich renderable: each line one segment, never wrapped or cropped.
    (One ``Text`` holding every line is split by rich one line at a time, copying the rest each
    time: quadratic, 29 s for a table of 10⁵ rows.)"""

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.segment import Segment

        styles: dict[str, Any] = {}
        newline = Segment.line()
        for content, style in self.lines:
            if style not in styles:
                styles[style] = console.get_style(style) if style else None
            yield Segment(content, styles[style])
            yield newline

    def __rich_measure__(self, console: Any, options: Any) -> Any:
        from rich.measure import Measurement

        width = max((len(content) for content, _ in self.lines), default=0)
        return Measurement(width, width)


def _row_lines(row: list[str], line: Any) -> list[str]:
    """A row whose cells may hold several lines (a wrapped field), top-aligned."""
    if not any("\n" in cell for cell in row):
        return [line(row)]
    parts = [cell.split("\n") for cell in row]
    return [line([p[k] if k < len(p) else "" for p in parts]) for k in range(max(map(len, parts)))]


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


def hidden_note(width: int | None, *tables: Fitted) -> str | None:
    """What a terminal of this width could not show in these tables, and how to see it."""
    hidden = list(dict.fromkeys(h for t in tables for h in t.hidden))
    if not hidden:
        return None
    return (f"not shown at {width} columns: {', '.join(hidden)} — widen the terminal, or use "
            "-f csv / -f json, or pipe (| less -S) for every column")  # fmt: skip


LEGEND = "K/M/G = 10³/10⁶/10⁹ · MiB = 2²⁰ B · MACs = multiply-accumulates, FLOPs = 2 × MACs"
