"""`convcost analyze`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import app
from .console import Run, fail, guarded, present, refuse_overwriting_inputs, shape_failures, want_profile
from .options import (
    PRED,
    AnalyzeFormat,
    AnalyzeFormatOpt,
    BackendOpt,
    BatchOpt,
    DepthOpt,
    DeviceOpt,
    DType,
    DTypeOpt,
    ExecuteOpt,
    FoldOpt,
    FreezeOpt,
    InputOpt,
    MemoryPlanOpt,
    OptimizerOpt,
    OutputOpt,
    ProfileOpt,
    RepeatOpt,
    SeedOpt,
    SummaryOpt,
    ThreadsOpt,
    TopOpt,
    TrainingOpt,
    WarmupOpt,
    WidthOpt,
)


@app.command()
@guarded
def analyze(
    models: Annotated[
        list[Path],
        typer.Argument(
            help="One or more model files (YAML), zoo:NAME for a bundled one, or - for standard input. Several: one summary row per model.",
            metavar="MODEL.yaml...",
            dir_okay=False,
            show_default=False,
        ),
    ],  # fmt: skip
    fmt: AnalyzeFormatOpt = AnalyzeFormat.table,
    output: OutputOpt = None,
    batch: BatchOpt = 1,
    dtype: DTypeOpt = DType.float32,
    memory_plan: MemoryPlanOpt = None,
    execute: ExecuteOpt = False,
    backend: BackendOpt = None,
    device: DeviceOpt = None,
    warmup: WarmupOpt = None,
    repeat: RepeatOpt = None,
    threads: ThreadsOpt = None,
    seed: SeedOpt = None,
    device_profile: ProfileOpt = None,
    plot: Annotated[
        Optional[Path],
        typer.Option(
            "--plot",
            help="With --device-profile: draw the roofline (every layer a point) "
            "and each layer's share of MACs and of predicted time into FILE.png or FILE.svg "
            "(matplotlib: convcost\\[plot]).",
            dir_okay=False,
            rich_help_panel=PRED,
            show_default=False,
        ),
    ] = None,  # fmt: skip
    depth: DepthOpt = None,
    fold: FoldOpt = False,
    top: TopOpt = None,
    summary_only: SummaryOpt = False,
    training: TrainingOpt = False,
    freeze: FreezeOpt = None,
    optimizer: OptimizerOpt = None,
    width: WidthOpt = None,
    input_shape: InputOpt = None,
) -> None:
    """Per layer: output shape, params, MACs, activations, receptive field and coverage; totals with peak memory and bytes moved. --execute runs it too; --device-profile predicts its time."""
    from ..zoo import resolve

    models = [resolve(str(m)) for m in models]
    frozen = tuple(name.strip() for given in freeze or () for name in given.split(",") if name.strip())
    if freeze is not None and not training:
        fail("--freeze: takes effect only with --training")
    if optimizer is not None and not training:
        fail("--optimizer: takes effect only with --training")
    if freeze is not None and not frozen:
        fail("--freeze: expected a layer's name, e.g. --freeze conv1")
    if training and len(models) > 1:
        fail("--training: analyze one model at a time with it (several models get one summary row each)")
    run = Run(execute, backend=backend, device=device, warmup=warmup, repeat=repeat, threads=threads, seed=seed)
    profile = want_profile(device_profile, plot)
    if profile is not None and len(models) > 1:
        fail("--device-profile: analyze one model at a time with it (for several, check --max-predicted-ms)")
    rows_asked = [flag for flag, given in (("--depth", depth is not None), ("--fold", fold), ("--top", top is not None),
                                           ("--summary", summary_only)) if given]  # fmt: skip
    if rows_asked and len(models) > 1:
        fail(f"{rows_asked[0]}: chooses the rows of one model's table; several models already get one summary row each")
    if summary_only and len(rows_asked) > 1:
        fail(
            f"--summary: shows no rows, so {rows_asked[0] if rows_asked[0] != '--summary' else rows_asked[1]} cannot take effect; drop one"
        )
    graph = fmt in (AnalyzeFormat.dot, AnalyzeFormat.mermaid)
    if graph:
        said = f"--format {fmt.value}"
        if len(models) > 1:
            fail(f"{said}: draws one model at a time")
        if rows_asked:
            fail(f"{said}: draws every layer; {rows_asked[0]} chooses table rows")
        if execute:
            fail(f"{said}: draws the analysis (fill by MACs, or predicted time with -p); --execute's timings show in the other formats")
        if training or memory_plan is not None:
            fail(f"{said}: draws the forward pass; {'--training' if training else '--memory-plan'} shows in the other formats")
        if dtype is not DType.float32 and device_profile is None:
            fail(f"{said}: shows no bytes, so --dtype takes effect only with -p (the predicted time it fills by)")
    refuse_overwriting_inputs(output, models)
    refuse_overwriting_inputs(plot, models, "--plot")
    if sum(str(m) == "-" for m in models) > 1:
        fail("-: standard input can be read only once; give - once")
    from ..output import same_file

    if plot is not None and output is not None and same_file(plot, output):
        fail(f"--plot {plot}: is also the --output file; give them different paths")
    from ..analysis.report import analyze as run_analysis
    from ..yamlio.spec import load

    stacks = [load(model) for model in models]
    if width is not None or input_shape is not None:
        from ..analysis.scaling import overridden

        stacks = [overridden(s, width, input_shape) for s in stacks]
    reports = [
        run_analysis(
            stack,
            batch=batch,
            dtype=dtype.value,
            training=training,
            freeze=frozen,
            memory_plan=memory_plan.value if memory_plan else None,
            optimizer=optimizer.value if optimizer else None,
        )
        for stack in stacks
    ]
    wrong: list[str] = []
    if run.execute:
        for i, stack in enumerate(stacks):
            reports[i], bad = run(stack, reports[i], dtype.value)
            wrong += bad
    if len(reports) > 1:
        from ..render import summary

        present(summary.VIEW, summary.Summary(reports, summary.labels(reports, models)), fmt.value, output)
    else:
        from ..render import table

        report = reports[0]
        prediction = None
        if profile is not None:
            from ..device.roofline import predict

            prediction = predict(stacks[0], report, profile)
            if plot is not None:
                from ..device.plot import write_plot

                write_plot(plot, report, prediction)
        from ..render.rows import select

        shown = select(report, prediction, folded=fold, depth_n=depth, top_n=top, only_summary=summary_only)
        program = None
        if graph:
            from ..model.program import lower

            program = lower(stacks[0])
        present(table.VIEW, table.Analyzed(report, prediction, shown, program), fmt.value, output)
    shape_failures(wrong)
