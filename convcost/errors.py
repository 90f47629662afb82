"""The one domain exception and the exit codes users and scripts rely on."""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple


class ExitCode(IntEnum):
    """Exit codes of every convcost command (SPEC §5)."""

    OK = 0  #: success: within budget, no gridding, shapes confirmed
    FAIL = 1  #: the check failed: over budget, gridding, a shape mismatch
    BAD_INPUT = 2  #: bad file, argument or option; nothing was analysed


class Mark(NamedTuple):
    """Where a value came from in a YAML file (1-based line and column)."""

    file: str | None
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file or '<text>'}:{self.line}:{self.col}"


class ConvcostError(Exception):
    """A user error: one clear line, located when it comes from YAML.

    Rendered as ``file:line:col: layers[3].conv.kernel: message``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        mark: Mark | None = None,
        code: ExitCode = ExitCode.BAD_INPUT,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.mark = mark
        self.code = code

    def located(self, path: str | None = None, mark: Mark | None = None) -> ConvcostError:
        """Fill in the location where it is still unknown; an inner path is kept as a suffix."""
        if path is not None:
            self.path = path if self.path is None else f"{path}.{self.path}"
        if self.mark is None:
            self.mark = mark
        return self

    def __str__(self) -> str:
        where = f"{self.mark}: " if self.mark else ""
        path = f"{self.path}: " if self.path else ""
        return printable(f"{where}{path}{self.message}")


def printable(text: str) -> str:
    """``text`` on one line: newlines, tabs, escape sequences and other control characters written
    as escapes (``\\n``, ``\\x1b``), so user-given names and kinds cannot split or colour a line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


def describe(value: object) -> str:
    """How a found value is shown in an error message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing (null)"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 40 else f"'{value[:37]}...'"
    if isinstance(value, int) and value.bit_length() > 200:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return repr(value)


def closest(name: str, options: object) -> str:
    """', did you mean X?' for the closest known name, or ''."""
    import difflib

    found = difflib.get_close_matches(str(name), [str(o) for o in options], n=1, cutoff=0.6)  # type: ignore[attr-defined]  # options: any iterable of names
    return f" (did you mean '{found[0]}'?)" if found else ""
