"""`convcost fit`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import app
from .console import fail, guarded, present, refuse_overwriting_inputs
from .options import (
    BatchOpt,
    DType,
    DTypeOpt,
    Format,
    FormatOpt,
    MaxFlopsOpt,
    MaxMacsOpt,
    MaxParamsOpt,
    MaxPeakMemoryOpt,
    MemoryPlanOpt,
    ModelArg,
    OutputOpt,
)

VARY = ("width", "resolution")


@app.command()
@guarded
def fit(
    model: ModelArg,
    max_macs: MaxMacsOpt = None,
    max_params: MaxParamsOpt = None,
    max_flops: MaxFlopsOpt = None,
    max_peak_memory: MaxPeakMemoryOpt = None,
    memory_plan: MemoryPlanOpt = None,
    vary: Annotated[
        Optional[str],
        typer.Option(
            help="What to vary: width, resolution, or both (comma-separated). \\[default: both; width alone for a model "
            "of several inputs or none spatial]",
            show_default=False,
        ),
    ] = None,  # fmt: skip
    widths: Annotated[
        Optional[str], typer.Option(help="Width multipliers to try: 0.5,0.75,1. \\[default: 0.1 to 2 in steps of 0.05]", show_default=False)
    ] = None,  # fmt: skip
    sizes: Annotated[
        Optional[str],
        typer.Option(
            help="Input sizes (the largest spatial axis; the others keep their ratio) to try: 128,160,192,224. "
            "\\[default: multiples of the network's total stride from half to 1.5 × the file's]",
            show_default=False,
        ),
    ] = None,  # fmt: skip
    divisor: Annotated[
        Optional[int],
        typer.Option(
            min=1,
            max=1024,
            help="Round every scaled channel count to a multiple of this (torchvision's _make_divisible). \\[default: 8]",
            show_default=False,
        ),
    ] = None,
    emit_yaml: Annotated[
        Optional[Path],
        typer.Option(
            "--emit-yaml",
            help="Write the best configuration that fits as DIR/MODEL.wALPHA.SIZE.yaml (layer by layer).",
            file_okay=False,
            show_default=False,
        ),
    ] = None,  # fmt: skip
    top: Annotated[int, typer.Option(min=1, max=10**6, help="Show the N largest configurations that fit.")] = 10,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    batch: BatchOpt = 1,
    dtype: DTypeOpt = DType.float32,
) -> None:
    """The largest configurations of a model that fit a budget: every width × input size of the grid analysed exactly (channels rounded as torchvision rounds them, the classifier's classes kept), the fitting ones largest MACs first, the Pareto front marked. Exit 0: one fits; 1: none does; 2: bad input."""
    from ..zoo import resolve

    model = resolve(str(model))
    varied = {v.strip() for v in (vary or "width,resolution").split(",") if v.strip()}
    unknown = varied - set(VARY)
    if unknown or not varied:
        fail(f"--vary: expected width, resolution or both, found '{vary}'")
    if divisor is not None and "width" not in varied:
        fail("--divisor: rounds scaled widths; takes effect only when --vary includes width")
    if widths is not None and "width" not in varied:
        fail("--widths: takes effect only when --vary includes width")
    if sizes is not None and "resolution" not in varied:
        fail("--sizes: takes effect only when --vary includes resolution")
    if memory_plan is not None and max_peak_memory is None:
        fail("--memory-plan: takes effect only with --max-peak-memory")
    refuse_overwriting_inputs(output, [model])
    from fractions import Fraction

    from ..analysis import budget as rules
    from ..analysis import fit as fitting
    from ..render import scalefit
    from ..yamlio.spec import load

    limits = rules.override(rules.Budget(), {"macs": max_macs, "params": max_params, "flops": max_flops, "peak_memory": max_peak_memory})
    stack = load(model)
    if vary is None and (len(stack.all_inputs) > 1 or len(stack.input) < 2):
        varied.discard("resolution")  # no one input to resize
    if "resolution" in varied and len(stack.all_inputs) > 1:
        fail(f"--vary resolution: {stack.name} has several inputs; vary width alone (--vary width)")
    grid_widths = (fitting.parse_widths(widths) if widths else fitting.default_widths()) if "width" in varied else [Fraction(1)]
    grid_sizes = (fitting.parse_sizes(sizes) if sizes else fitting.default_sizes(stack)) if "resolution" in varied else None
    if grid_sizes is not None and len(stack.input) < 2:
        fail(f"--vary resolution: {stack.name} has no spatial axes to scale")
    found = fitting.fit(stack, limits, grid_widths, grid_sizes, divisor=divisor or 8, batch=batch, dtype=dtype.value,
                        memory_plan=memory_plan.value if memory_plan else None)  # fmt: skip
    best = found.best
    if emit_yaml is not None and best is not None:
        from ..analysis.scaling import scaled
        from ..yamlio.emit import write_scaled

        spatial = tuple(best.input[1:]) if grid_sizes is not None else None
        label = f"w{float(best.width):g}" + (f".{'x'.join(map(str, best.input[1:]))}" if spatial else "")
        write_scaled(model, scaled(stack, best.width, spatial, divisor or 8), label, emit_yaml, output)
    present(scalefit.VIEW, scalefit.Shown(found, top), fmt.value, output)
    raise typer.Exit(0 if found.best is not None else 1)
