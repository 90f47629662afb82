"""`convcost kinds`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .app import app
from .console import fail, guarded, present
from .options import OUT, Format, OutputOpt


@app.command()
@guarded
def kinds(
    kind: Annotated[
        Optional[str], typer.Argument(help="A layer kind (conv, dwconv, …) to describe in full.", metavar="[KIND]", show_default=False)
    ] = None,  # fmt: skip
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="table or markdown (json and csv: use `convcost schema`).", rich_help_panel=OUT)
    ] = Format.table,  # fmt: skip
    output: OutputOpt = None,
) -> None:
    """Every layer kind with a one-line description; with KIND, its arguments (type, default, meaning), cost formulas and a YAML example with what it gives."""
    from ..kinds import load_plugins
    from ..render import kinds as show

    load_plugins()
    if fmt not in (Format.table, Format.markdown):
        fail(f"--format {fmt.value}: kinds prints table or markdown; `convcost schema` is the machine-readable form")
    if kind is not None:
        show.need(kind)
    present(show.VIEW, kind, fmt.value, output)
