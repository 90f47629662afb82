"""Where rendered output goes: a terminal (fitted to its width), or a pipe or file (never cut).

How a target is written depends on what it is:

- a regular file, or a path that does not exist yet: atomically — a temporary file beside it,
  renamed over it only when everything was written, so a failure midway (or SIGTERM) leaves the
  old file as it was. An overwritten file keeps its mode (and, where allowed, its owner); a new
  one gets the mode the umask gives (0666 & ~umask), as a shell redirection would;
- a symbolic link: followed; its target is written by these rules and the link is kept;
- a character device (``/dev/null``, a terminal), a FIFO, or ``/dev/stdout``, ``/dev/fd/N``: written
  through, as ``>`` in a shell writes them — never replaced by a regular file;
- a directory, a block device or a socket: refused.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, TextIO

from .errors import ConvcostError

UNCUT = 1_000_000  #: console width for pipes and files: lines are as long as their content
STREAMS = ("/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/self/fd/")  #: paths that name an open descriptor


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _status(target: str, what: str) -> os.stat_result | None:
    """What ``target`` is (links followed), None for a new path; unreadable status is refused."""
    try:
        return os.stat(target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConvcostError(f"{what}: cannot write {target}: {exc.strerror}") from None


@contextlib.contextmanager
def atomic_writer(target: Path, what: str = "--output", binary: bool = False) -> Iterator[IO[Any]]:
    """Write ``target`` as the module's docstring says: atomically, or through for streams."""
    given = os.fspath(target)
    old = _status(given, what)
    if given.startswith(STREAMS) or (old is not None and (stat.S_ISCHR(old.st_mode) or stat.S_ISFIFO(old.st_mode))):
        try:
            with open(given, "wb") if binary else open(given, "w", encoding="utf-8") as handle:
                yield handle
        except OSError as exc:
            raise ConvcostError(f"{what}: cannot write {target}: {exc.strerror}") from None
        return
    real = os.path.realpath(given)  # a symlink is followed: its target is replaced, the link kept
    if old is not None and not stat.S_ISREG(old.st_mode):
        kind = "a directory" if stat.S_ISDIR(old.st_mode) else "a block device" if stat.S_ISBLK(old.st_mode) else "not a regular file"
        raise ConvcostError(f"{what}: {real} is {kind}; refusing to write it")
    folder = os.path.dirname(real) or "."
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{os.path.basename(real)}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ConvcostError(f"{what}: cannot write {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
        os.chmod(temp, stat.S_IMODE(old.st_mode) if old else 0o666 & ~_umask())
        if old is not None and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
            with contextlib.suppress(OSError):  # root keeps the owner; anyone else cannot, and need not
                os.chown(temp, old.st_uid, old.st_gid)
        os.replace(temp, real)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise ConvcostError(f"{what}: cannot write {target}: {exc.strerror}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def same_file(a: Path, b: Path) -> bool:
    """Whether two output paths name one file (after following links), existing or not."""
    return os.path.realpath(a) == os.path.realpath(b)


def stdout() -> TextIO:
    """Standard output, or a located error when it is closed (``>&-``): nothing would be written."""
    if sys.stdout is None:
        raise ConvcostError("standard output is closed: nothing can be written; use --output FILE")
    return sys.stdout


def terminal_width() -> int | None:
    """The terminal's width when standard output is one, else None (a pipe or a file)."""
    from rich.console import Console

    console = Console(file=stdout())
    return console.width if console.is_terminal else None


def _write_text(text: str, utf8: bool) -> None:
    """To standard output; ``utf8`` text (YAML, Python source: formats that are UTF-8 by definition)
    goes out as UTF-8 bytes when the stream's own encoding (PYTHONIOENCODING=ascii) cannot hold it,
    instead of as lossy stand-ins."""
    out = stdout()
    if utf8 and getattr(out, "buffer", None) is not None:
        try:
            text.encode(out.encoding or "utf-8")
        except UnicodeEncodeError:
            out.flush()
            out.buffer.write(text.encode("utf-8"))
            out.buffer.flush()
            return
        except LookupError:
            pass
    out.write(text)
    out.flush()


def emit(output: Path | None, text: str | None = None, renderable: Callable[[int | None], Any] | None = None, utf8: bool = False) -> None:
    """Write machine text, or a rich renderable built for a width (None: uncut), to stdout or ``output``."""
    if renderable is not None:
        from rich.console import Console

        if output is None:
            width = terminal_width()
            console = Console(file=stdout(), width=width) if width else Console(file=stdout(), width=UNCUT, no_color=True, soft_wrap=False)
            console.print(renderable(width))
            return
        with atomic_writer(output) as handle:
            Console(file=handle, width=UNCUT, no_color=True).print(renderable(None))
        return
    if output is None:
        _write_text(text or "", utf8)
        return
    with atomic_writer(output) as handle:
        handle.write(text or "")
