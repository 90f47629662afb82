"""`convcost check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import app
from .console import fail, guarded, present, refuse_overwriting_inputs, want_profile
from .options import (
    OUT,
    PRED,
    BatchOpt,
    CheckFormat,
    DType,
    DTypeOpt,
    InputOpt,
    MaxFlopsOpt,
    MaxMacsOpt,
    MaxParamsOpt,
    MaxPeakMemoryOpt,
    MemoryPlanOpt,
    OptimizerOpt,
    OutputOpt,
    ProfileOpt,
    WidthOpt,
)


@app.command()
@guarded
def check(
    models: Annotated[
        list[Path],
        typer.Argument(
            help="One or more model files (YAML), each checked against its budget.",
            metavar="MODEL.yaml...",
            dir_okay=False,
            show_default=False,
        ),
    ],  # fmt: skip
    max_params: MaxParamsOpt = None,
    max_macs: MaxMacsOpt = None,
    max_flops: MaxFlopsOpt = None,
    max_training_macs: Annotated[
        Optional[str],
        typer.Option(
            help="At most this many MACs in one training step (forward + backward, as analyze --training): 12G.", show_default=False
        ),
    ] = None,  # fmt: skip
    max_peak_memory: MaxPeakMemoryOpt = None,
    max_training_memory: Annotated[
        Optional[str],
        typer.Option(
            help="At most this much memory for one training step, with a unit: saved for backward + weights + gradients "
            "+ optimizer state (as analyze --training): 2GiB.",
            show_default=False,
        ),
    ] = None,  # fmt: skip
    optimizer: OptimizerOpt = None,
    min_rf: Annotated[
        Optional[str], typer.Option(help="At least this receptive field, in input positions along the smallest axis.", show_default=False)
    ] = None,  # fmt: skip
    no_gridding: Annotated[
        Optional[bool], typer.Option("--no-gridding", help="Fail when a run of dilated convs leaves holes.", show_default=False)
    ] = None,  # fmt: skip
    baseline: Annotated[
        Optional[str], typer.Option(help="OLD.yaml, or git:REF for the same path at a git revision.", show_default=False)
    ] = None,  # fmt: skip
    max_increase: Annotated[
        Optional[str],
        typer.Option(
            help="With --baseline: how much params and MACs may grow, as a percentage with %: 5%, 0.5%. \\[default: 0%]", show_default=False
        ),
    ] = None,  # fmt: skip
    fmt: Annotated[
        CheckFormat,
        typer.Option(
            "--format", "-f", help="table, json, csv, markdown, or github (workflow annotations at the budget: line).", rich_help_panel=OUT
        ),
    ] = CheckFormat.table,  # fmt: skip
    output: OutputOpt = None,
    batch: BatchOpt = 1,
    dtype: DTypeOpt = DType.float32,
    memory_plan: MemoryPlanOpt = None,
    max_predicted_ms: Annotated[
        Optional[float],
        typer.Option(
            min=1e-9,
            help="At most this many milliseconds predicted for the whole stack on --device-profile (roofline).",
            rich_help_panel=PRED,
            show_default=False,
        ),
    ] = None,  # fmt: skip
    device_profile: ProfileOpt = None,
    width: WidthOpt = None,
    input_shape: InputOpt = None,
) -> None:
    """Budget guard for CI: each file's `budget:` (flags override it). Exit 0: within budget; 1: over; 2: bad input (every other file is still checked and reported)."""
    from ..zoo import resolve

    models = [resolve(str(m)) for m in models]
    if (max_predicted_ms is None) != (device_profile is None):
        fail("--max-predicted-ms and --device-profile: each takes effect only with the other (e.g. --max-predicted-ms 5 -p t4)")
    profile = want_profile(device_profile)
    from ..analysis import budget as rules
    from ..render import check as show

    if max_increase is not None and baseline is None:
        fail("--max-increase: only takes effect with --baseline")
    refuse_overwriting_inputs(output, models)
    flags = {"params": max_params, "macs": max_macs, "flops": max_flops, "peak_memory": max_peak_memory, "min_rf": min_rf,
             "no_gridding": no_gridding, "training_macs": max_training_macs,
             "memory_plan": memory_plan.value if memory_plan else None, "training_memory": max_training_memory,
             "optimizer": optimizer.value if optimizer else None}  # fmt: skip
    tolerance = rules.parse_increase(max_increase or "0%")
    rules.override(rules.Budget(), flags)  # a malformed flag is refused before any file is read
    predicted = (profile, max_predicted_ms) if profile is not None and max_predicted_ms is not None else None
    from ..analysis.scaling import overridden

    reshape = None if width is None and input_shape is None else (lambda stack: overridden(stack, width, input_shape))
    found = [rules.check_file(model, flags, baseline, tolerance, batch, dtype.value, predicted, reshape) for model in models]
    present(show.VIEW, found, fmt.value, output)
    for f in found:
        if f.error:
            typer.echo(f"error: {f.error}", err=True)
    raise typer.Exit(int(max(f.exit_code for f in found)))  # a bad file (2) outranks one over budget (1)
