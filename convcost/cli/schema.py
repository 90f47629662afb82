"""`convcost schema`."""

from __future__ import annotations

from .app import app
from .console import guarded
from .options import OutputOpt


@app.command()
@guarded
def schema(output: OutputOpt = None) -> None:
    """The JSON Schema (draft 2020-12) of a model file, for editors and CI (check-jsonschema)."""
    from ..kinds import load_plugins
    from ..output import emit
    from ..reference import schema as make
    from ..render.machine import to_json

    load_plugins()
    emit(output, to_json(make()))
