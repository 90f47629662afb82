"""`convcost import`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import app
from .console import guarded, refuse_overwriting_inputs
from .options import OutputOpt


@app.command("import")
@guarded
def import_(
    source: Annotated[
        str,
        typer.Argument(
            help="FILE.onnx, FILE.py:FACTORY or package.module:FACTORY (a function or class that builds the nn.Module).",
            metavar="SOURCE",
            show_default=False,
        ),
    ],
    input_shape: Annotated[
        Optional[str],
        typer.Option(
            "--input",
            "-i",
            help="Shape of one sample, channels first, no batch: C,H,W (C,L in 1-D, C,D,H,W in 3-D). "
            "Required for PyTorch; for ONNX, the graph's own input shape unless given.",
            metavar="C,H,W",
            show_default=False,
        ),
    ] = None,
    output: OutputOpt = None,
    name: Annotated[
        Optional[str], typer.Option("--name", help="The model's name. \\[default: the factory or file name]", show_default=False)
    ] = None,
    allow_unknown: Annotated[
        bool,
        typer.Option(
            "--allow-unknown",
            help="Write ops with no convcost kind as `unknown` layers (their output shape kept, their "
            "MACs by torch's own FLOP formula where it has one, else 0; marked in every table) instead of refusing.",
        ),
    ] = False,
) -> None:
    """A PyTorch model (run once, every ATen op recorded) or an ONNX graph → a convcost YAML layer stack, with the model's own layer names. Every layer's output shape and params are checked against the model before anything is written."""
    from ..errors import printable
    from ..interop.read import parse_input, read_source, to_yaml
    from ..output import emit

    refuse_overwriting_inputs(output, [Path(source.rsplit(":", 1)[0] if ":" in source else source)])
    shape = parse_input(input_shape) if input_shape is not None else None
    ops, default_name, shape = read_source(source, shape, allow_unknown)
    notes = [printable(note) for note in getattr(ops, "notes", [])]
    header = (f"# Imported by convcost from {printable(source)}, input {list(shape)}.\n"
              "# Every layer's output shape and params were checked against the model.\n"
              + "".join(f"# Note: {note}.\n" for note in notes))  # fmt: skip
    text = to_yaml(ops, printable(name or default_name), header, origin=source)
    emit(output, text, utf8=True)
    for note in notes:
        typer.echo(f"note: {note}", err=True)
