"""`convcost export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import app
from .console import fail, guarded, refuse_overwriting_inputs
from .options import OutputOpt


@app.command()
@guarded
def export(
    model: Annotated[Path, typer.Argument(help="A model file (YAML).", metavar="MODEL.yaml", dir_okay=False, show_default=False)],
    output: OutputOpt = None,
) -> None:
    """PyTorch source of a model: one nn.Module with the layers as attributes named after them, a forward() with residuals as + and concats as torch.cat, and def build() -> nn.Module. Needs torch (convcost\\[torch])."""
    from ..zoo import resolve

    model = resolve(str(model))
    from ..analysis.report import analyze as run_analysis
    from ..output import emit
    from ..yamlio.spec import load

    refuse_overwriting_inputs(output, [model])
    stack = load(model)
    try:
        from ..interop.export import source
    except ImportError:
        fail("export writes PyTorch modules and needs torch to build them: pip install 'convcost[torch]'")
    report = run_analysis(stack)
    emit(output, source(stack, model.name, (report.totals.params, report.totals.macs)), utf8=True)
