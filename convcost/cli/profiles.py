"""`convcost profiles`."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import app
from .console import guarded, present
from .options import OUT, Format, OutputOpt


@app.command()
@guarded
def profiles(fmt: Annotated[Format, typer.Option("--format", "-f", help="table, json, csv or markdown.", rich_help_panel=OUT)] = Format.table,
             output: OutputOpt = None) -> None:  # fmt: skip
    """The device profiles for --device-profile: built-in (with their datasheet sources) and those saved by `convcost calibrate`."""
    from ..render import profiles as show

    present(show.VIEW, show.all_profiles(), fmt.value, output)
