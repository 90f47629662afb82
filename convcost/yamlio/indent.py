"""Plain words for a YAML indentation mistake: which line is off, and what it should line up with.

PyYAML reports a misindented line as "did not find expected key", "expected <block end>" or
"mapping values are not allowed"; this reads the lines above the error to say instead which key
(or list item) starts in the wrong column and which keys (or items) it found at that level.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

#: What PyYAML (C or Python loader) says when a line starts in the wrong column.
INDENT_PROBLEMS = (
    "did not find expected key",
    "did not find expected '-' indicator",
    "expected <block end>",
    "mapping values are not allowed",
    "did not find expected <document start>",
    "expected '<document start>'",
)
_KEY = re.compile(r"""(?:'([^']*)'|"([^"]*)"|([^\s'"\[\]{}#,:-][^#:]*?|-[^\s#:][^#:]*?))\s*:(?:\s|$)""")


class Line(NamedTuple):
    """A line that opens a key or a list item: the columns (0-based) of its '-' and of its key."""

    dash: int | None  #: the column of '- ' (a list item), else None
    key: int | None  #: the column of the key (after '- ' on an item line), else None
    name: str  #: the key, or an item's scalar

    @property
    def col(self) -> int:
        return self.dash if self.dash is not None else self.key  # type: ignore[return-value]  # one of them is set


def parse_line(raw: str) -> Line | None:
    """The key or item a line opens, or None (blank, a comment, a continued value)."""
    body = raw.lstrip(" ")
    if not body or body.startswith("#"):
        return None
    col = len(raw) - len(body)
    dash = None
    if body == "-" or body.startswith("- "):
        dash, rest = col, body[1:].lstrip(" ")
        col, body = col + len(body) - len(rest), rest
    found = _KEY.match(body)
    if found:
        return Line(dash, col, next(g for g in found.groups() if g is not None).strip())
    if dash is None:
        return None
    return Line(dash, None, body.split(" #")[0].strip())


def _open(lines: list[Line]) -> Iterator[Line]:
    """The lines above whose blocks are still open at the end, nearest first (a key whose list
    of items starts in its own column included)."""
    floor, below = 1 << 30, None
    for line in reversed(lines):
        if line.col < floor or (line.col == floor and line.dash is None and below is not None and below.dash is not None):
            yield line
            floor, below = line.col, line


def _level(lines: list[Line], col: int, items: bool) -> list[str]:
    """The names of the keys (or items) in the block at ``col`` that holds the last line, in file order."""
    names: list[str] = []
    for line in reversed(lines):
        at = line.dash if items else line.key
        if at == col and line.name not in names:
            names.insert(0, line.name)
        if line.col < col or (items and line.col == col and at != col):  # a key's items may share its column
            break
    return names


def _found(names: list[str], items: bool) -> str:
    return f"(found {'items' if items else 'keys'}: {', '.join(names)})"


def explain(text: str, number: int, column: int, problem: str) -> tuple[str, int] | None:
    """A message and the 1-based column for a misindented line ``number`` (0-based; the error's
    ``column``, 0-based too), else None when the error is not one of indentation."""
    if not any(p in problem for p in INDENT_PROBLEMS):
        return None
    lines = text.splitlines()
    raw = lines[number] if number < len(lines) else ""
    bad = parse_line(raw)
    if bad is None or ("mapping values" in problem and ":" in raw[:column]):
        return None  # `out: 3: 4` is a colon too many, not an indentation
    above = [line for written in lines[:number] if (line := parse_line(written)) is not None]
    message = _mixed(bad, above) or _shifted(bad, above)
    return (message, bad.col + 1) if message else None


def _mixed(bad: Line, above: list[Line]) -> str | None:
    """A key where the level holds list items, or an item among keys: a '- ' missing or extra."""
    items = bad.dash is None  # the level's kind: the other one
    for line in _open(above):
        if items and line.dash == bad.col:
            return (f"indentation: '{bad.name}' has no '- ' but '- {line.name}' above it in the same column is a list item; "
                    f"start it with '- ' {_found(_level(above, bad.col, True), True)}")  # fmt: skip
        if not items and line.dash is None and line.key == bad.col:
            return (f"indentation: '- {bad.name}' is a list item but '{line.name}' above it in the same column is a key; "
                    f"a mapping's keys and a list's items cannot share a level {_found(_level(above, bad.col, False), False)}")  # fmt: skip
    return None


def _shifted(bad: Line, above: list[Line]) -> str | None:
    """A key (or item) that starts a column or more off from the nearest one it should line up with."""
    items = bad.dash is not None
    options = [(line, at) for line in _open(above) if (at := line.dash if items else line.key) is not None]
    if not options:
        return None
    line, col = min(options, key=lambda option: abs(option[1] - bad.col))  # the nearest wins a tie: min keeps the first
    if col == bad.col:
        return None
    dash = "- " if items else ""
    what = "items of one list" if items else "keys of one mapping"
    return (f"indentation: '{dash}{bad.name}' starts in column {bad.col + 1} but '{dash}{line.name}' above it in column {col + 1}; "
            f"{what} start in the same column {_found(_level(above, col, items), items)}")  # fmt: skip
