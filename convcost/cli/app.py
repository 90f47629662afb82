"""The typer application and its callback (--version); the commands register on it."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import __version__

app = typer.Typer(
    name="convcost",
    help="Exact costs of convolutional layer stacks described in YAML: shapes, params, MACs, memory, "
    "receptive fields, cheaper rewrites and dilation gridding.",
    epilog="Exit codes: 0 ok · 1 a check failed (over budget, gridding, shape mismatch) · 2 bad input · 130 interrupted.",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def version(value: bool) -> None:
    if value:
        typer.echo(f"convcost {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[bool, typer.Option("--version", callback=version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    """Exact costs of convolutional layer stacks described in YAML: shapes, params, MACs, memory, receptive fields, cheaper rewrites and dilation gridding."""
