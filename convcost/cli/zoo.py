"""`convcost zoo`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .app import app
from .console import fail, guarded, present, refuse_overwriting_inputs
from .options import OUT, Format, OutputOpt


@app.command()
@guarded
def zoo(
    name: Annotated[
        Optional[str],
        typer.Argument(help="A bundled model to print (or write with -o), e.g. resnet50.", metavar="[NAME]", show_default=False),
    ] = None,  # fmt: skip
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="The list as table, json, csv or markdown (with NAME: its YAML).", rich_help_panel=OUT)
    ] = Format.table,  # fmt: skip
    output: OutputOpt = None,
) -> None:
    """The bundled models with params, MACs, input and what they are; with NAME, that model's YAML to copy and edit. zoo:NAME names one wherever a MODEL.yaml is taken: convcost analyze zoo:resnet50."""
    from .. import zoo as bundled

    if name is None:
        from ..render import zoo as show

        present(show.VIEW, bundled.catalog(), fmt.value, output)
        return
    if fmt != Format.table:
        fail(f"--format {fmt.value}: with NAME, zoo prints the model's YAML; for its costs: convcost analyze zoo:{name} -f {fmt.value}")
    from ..output import emit

    source = bundled.path(name)
    refuse_overwriting_inputs(output, [source])
    emit(output, source.read_text(encoding="utf-8"), utf8=True)
