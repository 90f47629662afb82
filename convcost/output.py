"""Where rendered output goes: a terminal (fitted to its width), or a pipe or file (never cut).

Files are written atomically: a temporary file beside the target, renamed over it only when
everything was written, so a failure midway leaves the old file as it was.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import ConvcostError

UNCUT = 1_000_000  #: console width for pipes and files: lines are as long as their content


@contextlib.contextmanager
def atomic_writer(target: Path, what: str = "--output", binary: bool = False) -> Iterator[IO[Any]]:
    """Write ``target`` through a temporary file in its folder; replace it only on success."""
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ConvcostError(f"{what}: cannot write {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
        os.replace(temp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise ConvcostError(f"{what}: cannot write {target}: {exc.strerror}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def terminal_width() -> int | None:
    """The terminal's width when standard output is one, else None (a pipe or a file)."""
    from rich.console import Console

    console = Console()
    return console.width if console.is_terminal else None


def emit(output: Path | None, text: str | None = None, renderable: Callable[[int | None], Any] | None = None) -> None:
    """Write machine text, or a rich renderable built for a width (None: uncut), to stdout or ``output``."""
    if renderable is not None:
        from rich.console import Console

        if output is None:
            width = terminal_width()
            console = Console(width=width) if width else Console(width=UNCUT, no_color=True, soft_wrap=False)
            console.print(renderable(width))
            return
        with atomic_writer(output) as handle:
            Console(file=handle, width=UNCUT, no_color=True).print(renderable(None))
        return
    if output is None:
        sys.stdout.write(text or "")
        sys.stdout.flush()
        return
    with atomic_writer(output) as handle:
        handle.write(text or "")
