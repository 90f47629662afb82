"""The command line: parse options, call the API, pick a renderer, map the result to an exit code.

This is the only place where errors become messages and exit codes. Built on click directly:
typer (which wraps click) now imports pydantic on every run, about 100 ms we do not spend.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import ConvcostError, ExitCode

FORMATS = ("table", "json", "csv", "markdown")
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="convcost", message="%(prog)s %(version)s")
def app() -> None:
    """Exact costs of convolutional layer stacks described in YAML: shapes, params, MACs,
    memory, receptive fields, cheaper rewrites and dilation gridding."""


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn a ConvcostError into one line on stderr and its exit code."""
    try:
        yield
    except ConvcostError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(int(exc.code))


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--format and --output, shared by every command."""
    func = click.option(
        "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of standard output."
    )(func)
    func = click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format.")(
        func
    )
    return func


def emit(fmt: str, output: Path | None, text: str | None = None, renderable: Any = None) -> None:
    """Write machine text, or render a rich renderable, to stdout or to ``output``."""
    if fmt == "table" and renderable is not None:
        from rich.console import Console

        if output is None:
            console = Console()
            if not console.is_terminal:
                console = Console(width=160)
            console.print(renderable)
            return
        try:
            with open(output, "w", encoding="utf-8") as handle:
                Console(file=handle, width=160, no_color=True).print(renderable)
        except OSError as exc:
            raise ConvcostError(f"--output: cannot write {output}: {exc.strerror}") from None
        return
    if output is None:
        sys.stdout.write(text or "")
        return
    try:
        Path(output).write_text(text or "", encoding="utf-8")
    except OSError as exc:
        raise ConvcostError(f"--output: cannot write {output}: {exc.strerror}") from None


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with user_errors():
            return func(*args, **kwargs)

    return wrapper


MODEL = click.argument("model", type=click.Path(dir_okay=False, path_type=Path))


@app.command()
@MODEL
@output_options
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Batch size (counts scale with it; params do not).")
@click.option("--dtype", default="float32", show_default=True, help="Element type for bytes: float32, float16, bfloat16, float64, int8.")
@guarded
def analyze(model: Path, fmt: str, output: Path | None, batch: int, dtype: str) -> None:
    """Per-layer output shape, params, MACs, activations, memory and receptive field."""
    from .analysis import analyze as run_analysis
    from .spec import load

    report = run_analysis(load(model), batch=batch, dtype=dtype)
    from .render import machine

    if fmt == "table":
        from .render.table import report_table

        emit(fmt, output, renderable=report_table(report))
    elif fmt == "json":
        emit(fmt, output, machine.to_json(machine.report_dict(report)))
    elif fmt == "csv":
        emit(fmt, output, machine.report_csv(report))
    else:
        emit(fmt, output, machine.report_markdown(report))


@app.command("hdc-check")
@click.argument("rates")
@click.option("--kernel", "-k", type=int, default=3, show_default=True, help="Kernel size K (odd) of every layer.")
@output_options
@guarded
def hdc_check(rates: str, kernel: int, fmt: str, output: Path | None) -> None:
    """Does a stack of dilated stride-1 convs with these rates (1,2,5) grid? The HDC rules, the
    exact coverage, a map, and nearby rates that work. Exit 0: no holes; 1: grids."""
    from . import hdc
    from .render import hdc as show
    from .render.machine import to_json

    report = hdc.check(hdc.parse_rates(rates), kernel)
    if fmt == "table":
        emit(fmt, output, renderable=show.hdc_table(report))
    else:
        emit(fmt, output, {"json": lambda: to_json(show.hdc_dict(report)), "csv": lambda: show.hdc_csv(report),
                           "markdown": lambda: show.hdc_markdown(report)}[fmt]())  # fmt: skip
    sys.exit(int(ExitCode.FAIL if report.gridding else ExitCode.OK))


def run() -> None:
    """Console-script entry point."""
    app(prog_name="convcost")


__all__ = ["app", "run", "ExitCode"]
