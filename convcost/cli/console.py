"""What every command shares: one line and an exit code for errors (the only place errors become
messages), the --execute runner with its progress bar, refusals of outputs that would replace an
input, the renderer call, and the terminal's encodings and signals."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import typer

from ..errors import ConvcostError, ExitCode
from ..gcpause import paused
from .options import Backend, Device


def fail(message: str, code: ExitCode = ExitCode.BAD_INPUT) -> NoReturn:
    """One line on stderr, then the exit code."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(int(code))


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """A ConvcostError becomes one line and its exit code; unwritable stdout one line and 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with paused():  # a command builds millions of small acyclic objects: see gcpause
                return func(*args, **kwargs)
        except ConvcostError as exc:
            fail(str(exc), exc.code)
        except BrokenPipeError:
            raise  # the reader went away (| head): typer exits quietly
        except OSError as exc:
            if exc.filename is None and exc.strerror:  # writing to stdout: a full disk, a closed descriptor
                fail(f"cannot write the output: {exc.strerror}")
            raise

    return wrapper


class Run:
    """The --execute settings, after refusing any that cannot take effect."""

    def __init__(self, execute: bool, **given: Any) -> None:
        flags = {k: v for k, v in given.items() if v is not None}
        if not execute and flags:
            names = ", ".join("--" + k for k in flags)
            fail(f"{names}: only take{'s' if len(flags) == 1 else ''} effect with --execute; add --execute or drop "
                 f"{'it' if len(flags) == 1 else 'them'}")  # fmt: skip
        self.execute = execute
        self.options = {"backend_name": (flags.get("backend") or Backend.numpy).value, "device": (flags.get("device") or Device.auto).value,
                        "warmup": flags.get("warmup", 1), "repeat": flags.get("repeat", 5), "threads": flags.get("threads"),
                        "seed": flags.get("seed", 0)}  # fmt: skip

    def __call__(self, stack: Any, report: Any, dtype: str) -> tuple[Any, list[str]]:
        """Execute with a progress bar on a terminal: (the measured report, shape mismatches)."""
        from rich.console import Console

        from ..backends.execute import execute, merge_into

        console = Console(stderr=True)
        if not console.is_terminal:
            return merge_into(report, execute(stack, report, dtype=dtype, **self.options))
        from rich.progress import Progress

        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"executing {report.model}", total=None)

            def on_step(i: int, total: int, name: str) -> None:
                progress.update(task, completed=i, total=total, description=f"{report.model}: {name}")

            return merge_into(report, execute(stack, report, dtype=dtype, on_step=on_step, **self.options))


def want_profile(name: str | None, plot: Path | None = None) -> Any:
    """The --device-profile, loaded (a bad one is refused before any model is read)."""
    if plot is not None and name is None:
        fail("--plot: draws the roofline of a device; add --device-profile (e.g. -p h100)")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        fail(f"--plot {plot}: expected a .png or .svg file")
    if name is None:
        return None
    from ..device.profiles import find

    return find(name)


def shape_failures(wrong: list[str]) -> None:
    if wrong:
        fail("executed shapes differ from the analysis: " + "; ".join(wrong), ExitCode.FAIL)


def refuse_overwriting_inputs(output: Path | None, inputs: list[Path], flag: str = "--output") -> None:
    if output is None:
        return
    from ..output import same_file

    for model in inputs:
        if output.exists() and same_file(output, model):
            fail(f"{flag} {output}: that is an input model; refusing to overwrite it")


def present(view: Any, result: Any, fmt: str, output: Path | None) -> None:
    """Emit ``result`` through its ``view`` (render.view.View) in the chosen format: a table fitted
    to the terminal (uncut in pipes and files), or the view's text for a machine format."""
    from ..output import emit

    if fmt == "table":
        emit(output, renderable=lambda width: view.table(result, width))
        return
    make = view.text(fmt)
    if make is None:
        fail(f"--format {fmt}: not available here")
    emit(output, make(result))


ASCII = {"×": "x", "—": "-", "–": "-", "…": "...", "·": "*", "✓": "ok", "✗": "X", "→": "->", "≤": "<=", "≥": ">=", "÷": "/",
         "±": "+-", "⚠": "!", "²": "^2", "³": "^3", "⁶": "^6", "⁹": "^9", "¹": "^1", "⁰": "^0", "░": ".", "▒": ":", "▓": "+",
         "█": "#", "─": "-", "━": "-", "│": "|", "┃": "|"}  # fmt: skip


def _ascii_fallback(error: UnicodeError) -> tuple[str, int]:
    """An output encoding that cannot show ×, —, … (ascii, latin-1) gets ASCII stand-ins."""
    assert isinstance(error, UnicodeEncodeError)
    text = error.object[error.start : error.end]
    return "".join(ASCII.get(ch, "?") for ch in text), error.end


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM, SIGHUP: unwind like an interrupt, so a file being written is removed, not left behind."""
    raise SystemExit(128 + signum)
