"""`convcost report`."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from .app import app
from .console import fail, guarded, refuse_overwriting_inputs, want_profile
from .options import BatchOpt, DType, DTypeOpt, ModelArg, OutputOpt, ProfileOpt


@app.command()
@guarded
def report(
    model: ModelArg,
    output: OutputOpt = None,
    batch: BatchOpt = 1,
    dtype: DTypeOpt = DType.float32,
    device_profile: ProfileOpt = None,
    rewrites: Annotated[
        Optional[str],
        typer.Option(
            "--rewrite",
            "-r",
            help="Add compare's designs beside the drawn one: separable,grouped:4,… (as compare takes them).",
            show_default=False,
        ),
    ] = None,  # fmt: skip
) -> None:
    """One self-contained HTML page (no network needed): the network drawn as a graph, boxes filled by MACs (predicted time with -p), zoom, pan, a click shows a layer's figures; the per-layer table, sortable; totals and warnings. Write it with -o FILE.html."""
    from ..zoo import resolve

    model = resolve(str(model))
    if output is None and sys.stdout.isatty():
        fail("report: writes an HTML page; give -o FILE.html (or pipe it: convcost report m.yaml > m.html)")
    refuse_overwriting_inputs(output, [model])
    profile = want_profile(device_profile)
    from ..analysis.report import analyze as run_analysis
    from ..model.program import lower
    from ..output import emit
    from ..render.html import report_html
    from ..yamlio.spec import load

    stack = load(model)
    result = run_analysis(stack, batch=batch, dtype=dtype.value)
    prediction = None
    if profile is not None:
        from ..device.roofline import predict

        prediction = predict(stack, result, profile)
    comparison = None
    if rewrites is not None:
        from ..analysis.comparison import compare

        specs = [s for s in rewrites.split(",") if s.strip()]
        if not specs:
            fail("--rewrite: expected rewrites such as separable,grouped:4")
        comparison = compare(stack, specs, batch=batch, dtype=dtype.value)
        if profile is not None:
            comparison = comparison.predicted(profile)
    emit(output, report_html(result, lower(stack), prediction, comparison), utf8=True)
