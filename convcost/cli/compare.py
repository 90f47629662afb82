"""`convcost compare`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .app import app
from .console import Run, fail, guarded, present, refuse_overwriting_inputs, shape_failures, want_profile
from .options import (
    OUT,
    BackendOpt,
    BatchOpt,
    DeviceOpt,
    DType,
    DTypeOpt,
    ExecuteOpt,
    Format,
    FormatOpt,
    InputOpt,
    MemoryPlanOpt,
    OptimizerOpt,
    OutputOpt,
    ProfileOpt,
    RepeatOpt,
    SeedOpt,
    ThreadsOpt,
    TrainingOpt,
    WarmupOpt,
    WidthOpt,
)


@app.command()
@guarded
def compare(
    model: Annotated[Path, typer.Argument(help="The standard design (YAML).", metavar="MODEL.yaml", dir_okay=False, show_default=False)],
    other: Annotated[
        Optional[Path],
        typer.Argument(
            help="Another design to put beside it, instead of rewrites.", metavar="[OTHER.yaml]", dir_okay=False, show_default=False
        ),
    ] = None,  # fmt: skip
    rewrites: Annotated[
        Optional[str],
        typer.Option(
            "--rewrite",
            "-r",
            help="Comma-separated rewrites: separable\\[:M], grouped:G\\[+shuffle], "
            "bottleneck:R, factorize\\[:first], spatial, channelwise\\[:D], gcwc:G, convcls. "
            "\\[default: separable,grouped:4,bottleneck:4]",
            show_default=False,
        ),
    ] = None,  # fmt: skip
    emit_yaml: Annotated[
        Optional[Path],
        typer.Option(
            "--emit-yaml",
            help="Write each rewritten design as YAML into DIR (MODEL.REWRITE.yaml).",
            file_okay=False,
            rich_help_panel=OUT,
            show_default=False,
        ),
    ] = None,  # fmt: skip
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    batch: BatchOpt = 1,
    dtype: DTypeOpt = DType.float32,
    execute: ExecuteOpt = False,
    backend: BackendOpt = None,
    device: DeviceOpt = None,
    warmup: WarmupOpt = None,
    repeat: RepeatOpt = None,
    threads: ThreadsOpt = None,
    seed: SeedOpt = None,
    device_profile: ProfileOpt = None,
    memory_plan: MemoryPlanOpt = None,
    training: TrainingOpt = False,
    optimizer: OptimizerOpt = None,
    width: WidthOpt = None,
    input_shape: InputOpt = None,
) -> None:
    """The standard design beside its cheaper rewrites (or beside OTHER.yaml): params and MACs per layer with their ratios and closed forms, then a summary per design; --device-profile adds the predicted speed-up."""
    from ..zoo import resolve

    model, other = resolve(str(model)), (resolve(str(other)) if other is not None else None)
    run = Run(execute, backend=backend, device=device, warmup=warmup, repeat=repeat, threads=threads, seed=seed)
    profile = want_profile(device_profile)
    if other is not None and rewrites:
        fail("--rewrite: give either OTHER.yaml or --rewrite, not both")
    if other is not None and emit_yaml is not None:
        fail("--emit-yaml: writes rewritten designs; comparing with OTHER.yaml rewrites nothing")
    if optimizer is not None and not training:
        fail("--optimizer: takes effect only with --training")
    refuse_overwriting_inputs(output, [model] + ([other] if other else []))
    options: dict[str, Any] = {"training": training, "optimizer": optimizer.value if optimizer else None,
               "memory_plan": memory_plan.value if memory_plan else None}  # fmt: skip
    from ..analysis import comparison as comparing
    from ..analysis.rewrite import DEFAULT
    from ..analysis.scaling import overridden
    from ..render import compare as show
    from ..yamlio.spec import load

    stack = overridden(load(model), width, input_shape)
    if other is not None:
        result = comparing.compare_files(
            stack, overridden(load(other), width, input_shape), other.stem, batch=batch, dtype=dtype.value, **options
        )
    else:
        specs = [s for s in (rewrites.split(",") if rewrites else DEFAULT) if s.strip()]
        result = comparing.compare(stack, specs, batch=batch, dtype=dtype.value, **options)
    wrong: list[str] = []
    if run.execute:
        measured = []
        for variant, variant_stack in zip(result.variants, result.stacks):
            report, bad = run(variant_stack, variant.report, dtype.value)
            measured.append(report)
            wrong += [f"{variant.name} {w}" for w in bad]
        result = result.with_reports(measured)
    if profile is not None:
        result = result.predicted(profile)
    if emit_yaml is not None:
        from ..yamlio.emit import write_rewrites

        write_rewrites(model, result, emit_yaml, output)
    present(show.VIEW, result, fmt.value, output)
    shape_failures(wrong)
