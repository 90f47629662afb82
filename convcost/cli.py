"""The command line (typer): parse options, call the API, pick a renderer, map the result to an
exit code. This is the only place where errors become messages and exit codes.

Start-up is kept lean: every module beyond typer is imported inside the command that needs it.
typer is pinned below 0.29, whose option parsing imports pydantic on every run (~100 ms).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import typer

from . import __version__
from .errors import ConvcostError, ExitCode
from .gcpause import paused

app = typer.Typer(
    name="convcost",
    help="Exact costs of convolutional layer stacks described in YAML: shapes, params, MACs, memory, "
    "receptive fields, cheaper rewrites and dilation gridding.",
    epilog="Exit codes: 0 ok · 1 a check failed (over budget, gridding, shape mismatch) · 2 bad input · 130 interrupted.",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class CheckFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    github = "github"


class Backend(str, Enum):
    numpy = "numpy"
    torch = "torch"


class Device(str, Enum):
    cpu = "cpu"
    cuda = "cuda"
    auto = "auto"


class DType(str, Enum):
    float32 = "float32"
    float16 = "float16"
    bfloat16 = "bfloat16"
    float64 = "float64"
    int8 = "int8"


OUT = "Output"
EXEC = "Execution (with --execute)"
SIZE = "Size"

FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table (a terminal gets one fitted to its width; pipes and "
                                           "files get every column uncut), json, csv or markdown.", rich_help_panel=OUT)]  # fmt: skip
OutputOpt = Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to FILE (atomically) instead of standard output.",
                                                   dir_okay=False, rich_help_panel=OUT, show_default=False)]  # fmt: skip
BatchOpt = Annotated[int, typer.Option(min=1, max=10**9, help="Batch size in samples: MACs, activations, memory and bytes scale with it, "
                                       "params do not.", rich_help_panel=SIZE)]  # fmt: skip
DTypeOpt = Annotated[DType, typer.Option(help="Element type: the bytes per element of memory figures; with --execute also the "
                                         "type it runs in (numpy: float32/float64; torch: also float16/bfloat16 on cuda).",
                                         rich_help_panel=SIZE)]  # fmt: skip
ExecuteOpt = Annotated[bool, typer.Option("--execute", help="Build with random weights, run it, confirm every output shape, "
                                          "and time every layer.", rich_help_panel=EXEC)]  # fmt: skip
BackendOpt = Annotated[Optional[Backend], typer.Option(help="Where to run: numpy (always installed) or torch (convcost\\[torch]). "
                                                       "\\[default: numpy]", rich_help_panel=EXEC, show_default=False)]  # fmt: skip
DeviceOpt = Annotated[Optional[Device], typer.Option(help="cpu, cuda (torch only) or auto (cuda when torch sees a GPU). "
                                                     "\\[default: auto]", rich_help_panel=EXEC, show_default=False)]  # fmt: skip
WarmupOpt = Annotated[Optional[int], typer.Option(min=0, help="Untimed runs before timing, per layer. \\[default: 1]",
                                                  rich_help_panel=EXEC, show_default=False)]  # fmt: skip
RepeatOpt = Annotated[Optional[int], typer.Option(min=1, max=10_000, help="Timed runs per layer and end to end; the median is "
                                                  "shown with \\[min–max]. \\[default: 5]", rich_help_panel=EXEC, show_default=False)]  # fmt: skip
ThreadsOpt = Annotated[Optional[int], typer.Option(min=1, max=1024, help="CPU threads for BLAS / torch. \\[default: the library's]",
                                                   rich_help_panel=EXEC, show_default=False)]  # fmt: skip
PRED = "Prediction (roofline)"
ProfileOpt = Annotated[Optional[str], typer.Option("--device-profile", "-p", help="Predict each layer's time on this device: a "
                                                  "built-in id such as h100 or t4 "
                                                  "(`convcost profiles` lists them), a profile saved by `convcost calibrate`, or a profile "
                                                  "file (.yaml). Adds FLOPs per byte, predicted ms and the bound per layer.",
                                                  rich_help_panel=PRED, show_default=False)]  # fmt: skip
ROWS = "Rows (one model)"
DepthOpt = Annotated[Optional[int], typer.Option("--depth", min=1, max=64, help="Collapse the layers of each block below depth N into "
                                                 "one row named after the block (as torchinfo's depth=; depth = the parts of a "
                                                 "layer's name between dots).", rich_help_panel=ROWS, show_default=False)]  # fmt: skip
FoldOpt = Annotated[bool, typer.Option("--fold", help="Fold norms, activations and residual adds into the row of the layer they follow "
                                       "(conv+bn+relu).", rich_help_panel=ROWS)]  # fmt: skip
TopOpt = Annotated[Optional[int], typer.Option("--top", min=1, max=10**9, help="Only the N costliest rows: by MACs, or by predicted "
                                               "time with --device-profile.", rich_help_panel=ROWS, show_default=False)]  # fmt: skip
SummaryOpt = Annotated[bool, typer.Option("--summary", help="Totals and warnings only, no per-layer rows.", rich_help_panel=ROWS)]
SeedOpt = Annotated[Optional[int], typer.Option(min=0, max=2**63 - 1, help="Seed of the random weights and input. \\[default: 0]",
                                                rich_help_panel=EXEC, show_default=False)]  # fmt: skip


def fail(message: str, code: ExitCode = ExitCode.BAD_INPUT) -> NoReturn:
    """One line on stderr, then the exit code."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(int(code))


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """A ConvcostError becomes one line and its exit code; unwritable stdout one line and 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with paused():  # a command builds millions of small acyclic objects: see gcpause
                return func(*args, **kwargs)
        except ConvcostError as exc:
            fail(str(exc), exc.code)
        except BrokenPipeError:
            raise  # the reader went away (| head): typer exits quietly
        except OSError as exc:
            if exc.filename is None and exc.strerror:  # writing to stdout: a full disk, a closed descriptor
                fail(f"cannot write the output: {exc.strerror}")
            raise

    return wrapper


def version(value: bool) -> None:
    if value:
        typer.echo(f"convcost {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[bool, typer.Option("--version", callback=version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    """Exact costs of convolutional layer stacks described in YAML: shapes, params, MACs, memory, receptive fields, cheaper rewrites and dilation gridding."""


class Run:
    """The --execute settings, after refusing any that cannot take effect."""

    def __init__(self, execute: bool, **given: Any) -> None:
        flags = {k: v for k, v in given.items() if v is not None}
        if not execute and flags:
            names = ", ".join("--" + k for k in flags)
            fail(f"{names}: only take{'s' if len(flags) == 1 else ''} effect with --execute; add --execute or drop "
                 f"{'it' if len(flags) == 1 else 'them'}")  # fmt: skip
        self.execute = execute
        self.options = {"backend_name": (flags.get("backend") or Backend.numpy).value, "device": (flags.get("device") or Device.auto).value,
                        "warmup": flags.get("warmup", 1), "repeat": flags.get("repeat", 5), "threads": flags.get("threads"),
                        "seed": flags.get("seed", 0)}  # fmt: skip

    def __call__(self, stack: Any, report: Any, dtype: str) -> tuple[Any, list[str]]:
        """Execute with a progress bar on a terminal: (the measured report, shape mismatches)."""
        from rich.console import Console

        from .backends.execute import execute, merge_into

        console = Console(stderr=True)
        if not console.is_terminal:
            return merge_into(report, execute(stack, report, dtype=dtype, **self.options))
        from rich.progress import Progress

        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"executing {report.model}", total=None)

            def on_step(i: int, total: int, name: str) -> None:
                progress.update(task, completed=i, total=total, description=f"{report.model}: {name}")

            return merge_into(report, execute(stack, report, dtype=dtype, on_step=on_step, **self.options))


def want_profile(name: str | None, plot: Path | None = None) -> Any:
    """The --device-profile, loaded (a bad one is refused before any model is read)."""
    if plot is not None and name is None:
        fail("--plot: draws the roofline of a device; add --device-profile (e.g. -p h100)")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        fail(f"--plot {plot}: expected a .png or .svg file")
    if name is None:
        return None
    from .device.profiles import find

    return find(name)


def shape_failures(wrong: list[str]) -> None:
    if wrong:
        fail("executed shapes differ from the analysis: " + "; ".join(wrong), ExitCode.FAIL)


def refuse_overwriting_inputs(output: Path | None, inputs: list[Path], flag: str = "--output") -> None:
    if output is None:
        return
    for model in inputs:
        try:
            same = output.exists() and output.resolve() == model.resolve()
        except OSError:
            same = False
        if same:
            fail(f"{flag} {output}: that is an input model; refusing to overwrite it")


def render(fmt: str, output: Path | None, table: Callable[[int | None], Any], **texts: Callable[[], str]) -> None:
    """Emit with the renderer of the chosen format: ``table`` (rich, built for a width) or a text one."""
    from .output import emit

    if fmt == "table":
        emit(output, renderable=table)
    else:
        emit(output, texts[fmt]())


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
) -> None:
    """Per layer: output shape, params, MACs, activations, receptive field and coverage; totals with peak memory and bytes moved. --execute runs it too; --device-profile predicts its time."""
    from .zoo import resolve

    models = [resolve(str(m)) for m in models]
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
    refuse_overwriting_inputs(output, models)
    refuse_overwriting_inputs(plot, models, "--plot")
    if sum(str(m) == "-" for m in models) > 1:
        fail("-: standard input can be read only once; give - once")
    from .output import same_file

    if plot is not None and output is not None and same_file(plot, output):
        fail(f"--plot {plot}: is also the --output file; give them different paths")
    from .analysis.report import analyze as run_analysis
    from .render import machine
    from .yamlio.spec import load

    stacks = [load(model) for model in models]
    reports = [run_analysis(stack, batch=batch, dtype=dtype.value) for stack in stacks]
    wrong: list[str] = []
    if run.execute:
        for i, stack in enumerate(stacks):
            reports[i], bad = run(stack, reports[i], dtype.value)
            wrong += bad
    if len(reports) > 1:
        from .render import summary

        labels = summary.labels(reports, models)
        render(fmt.value, output, lambda width: summary.summary_table(reports, labels, width),
               json=lambda: machine.versioned({"models": [machine.report_dict(r) for r in reports]}),
               csv=lambda: summary.summary_csv(reports, labels), markdown=lambda: summary.summary_markdown(reports, labels))  # fmt: skip
    else:
        from .render.table import report_table

        report = reports[0]
        prediction = None
        if profile is not None:
            from .device.roofline import predict

            prediction = predict(stacks[0], report, profile)
            if plot is not None:
                from .device.plot import write_plot

                write_plot(plot, report, prediction)
        from .render.rows import select

        view = select(report, prediction, folded=fold, depth_n=depth, top_n=top, only_summary=summary_only)
        shown, shown_prediction = view.report, view.prediction
        render(fmt.value, output, lambda width: report_table(report, width, prediction, view),
               json=lambda: machine.versioned(machine.report_dict(shown, prediction=shown_prediction)),
               csv=lambda: machine.report_csv(shown, shown_prediction), markdown=lambda: machine.report_markdown(shown, shown_prediction))  # fmt: skip
    shape_failures(wrong)


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
) -> None:
    """The standard design beside its cheaper rewrites (or beside OTHER.yaml): params and MACs per layer with their ratios and closed forms, then a summary per design; --device-profile adds the predicted speed-up."""
    from .zoo import resolve

    model, other = resolve(str(model)), (resolve(str(other)) if other is not None else None)
    run = Run(execute, backend=backend, device=device, warmup=warmup, repeat=repeat, threads=threads, seed=seed)
    profile = want_profile(device_profile)
    if other is not None and rewrites:
        fail("--rewrite: give either OTHER.yaml or --rewrite, not both")
    if other is not None and emit_yaml is not None:
        fail("--emit-yaml: writes rewritten designs; comparing with OTHER.yaml rewrites nothing")
    refuse_overwriting_inputs(output, [model] + ([other] if other else []))
    from .analysis import comparison as comparing
    from .analysis.rewrite import DEFAULT
    from .render import compare as show
    from .render.machine import versioned
    from .yamlio.spec import load

    stack = load(model)
    if other is not None:
        result = comparing.compare_files(stack, load(other), other.stem, batch=batch, dtype=dtype.value)
    else:
        specs = [s for s in (rewrites.split(",") if rewrites else DEFAULT) if s.strip()]
        result = comparing.compare(stack, specs, batch=batch, dtype=dtype.value)
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
        from .yamlio.emit import write_rewrites

        write_rewrites(model, result, emit_yaml, output)
    render(fmt.value, output, lambda width: show.compare_table(result, width), json=lambda: versioned(show.compare_dict(result)),
           csv=lambda: show.compare_csv(result), markdown=lambda: show.compare_markdown(result))  # fmt: skip
    shape_failures(wrong)


@app.command("hdc-check")
@guarded
def hdc_check(
    rates: Annotated[
        str,
        typer.Argument(help="Dilation rates of the stacked stride-1 convs, comma-separated: 1,2,5.", metavar="RATES", show_default=False),
    ],  # fmt: skip
    kernel: Annotated[int, typer.Option("--kernel", "-k", min=1, max=10_001, help="Kernel size K (odd, in taps) of every layer.")] = 3,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Does a stack of dilated stride-1 convs with these rates grid? The HDC rules, the exact coverage, a map, and nearby rates that work. Exit 0: no holes; 1: grids."""
    from .analysis import hdc
    from .render import hdc as show
    from .render.machine import versioned

    report = hdc.check(hdc.parse_rates(rates), kernel)
    render(fmt.value, output, lambda width: show.hdc_table(report, width), json=lambda: versioned(show.hdc_dict(report)),
           csv=lambda: show.hdc_csv(report), markdown=lambda: show.hdc_markdown(report))  # fmt: skip
    raise typer.Exit(int(ExitCode.FAIL if report.gridding else ExitCode.OK))


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
    max_params: Annotated[
        Optional[str], typer.Option(help="At most this many parameters: 5M, 4.5M, 600K (K/M/G = 10³/10⁶/10⁹).", show_default=False)
    ] = None,  # fmt: skip
    max_macs: Annotated[Optional[str], typer.Option(help="At most this many multiply-accumulates: 600M, 4.1G.", show_default=False)] = None,
    max_flops: Annotated[Optional[str], typer.Option(help="At most this many FLOPs (2 × MACs): 1.2G.", show_default=False)] = None,
    max_peak_memory: Annotated[
        Optional[str],
        typer.Option(
            help="At most this peak activation memory, with a unit: 64MiB, 1.5GB (KiB/MiB/GiB = 2¹⁰/2²⁰/2³⁰ B; KB/MB/GB = 10³/10⁶/10⁹ B).",
            show_default=False,
        ),
    ] = None,  # fmt: skip
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
) -> None:
    """Budget guard for CI: each file's `budget:` (flags override it). Exit 0: within budget; 1: over; 2: bad input (every other file is still checked and reported)."""
    from .zoo import resolve

    models = [resolve(str(m)) for m in models]
    if (max_predicted_ms is None) != (device_profile is None):
        fail("--max-predicted-ms and --device-profile: each takes effect only with the other (e.g. --max-predicted-ms 5 -p t4)")
    profile = want_profile(device_profile)
    from .analysis import budget as rules
    from .render import check as show
    from .render.machine import versioned

    if max_increase is not None and baseline is None:
        fail("--max-increase: only takes effect with --baseline")
    refuse_overwriting_inputs(output, models)
    flags = {"params": max_params, "macs": max_macs, "flops": max_flops, "peak_memory": max_peak_memory, "min_rf": min_rf,
             "no_gridding": no_gridding}  # fmt: skip
    tolerance = rules.parse_increase(max_increase or "0%")
    rules.override(rules.Budget(), flags)  # a malformed flag is refused before any file is read
    predicted = (profile, max_predicted_ms) if profile is not None and max_predicted_ms is not None else None
    found = [rules.check_file(model, flags, baseline, tolerance, batch, dtype.value, predicted) for model in models]
    render(fmt.value, output, lambda width: show.check_table(found, width), json=lambda: versioned(show.check_json_data(found)),
           csv=lambda: show.check_csv(found), markdown=lambda: show.check_markdown(found), github=lambda: show.check_github(found))  # fmt: skip
    for f in found:
        if f.error:
            typer.echo(f"error: {f.error}", err=True)
    if any(f.error for f in found):
        raise typer.Exit(int(ExitCode.BAD_INPUT))
    raise typer.Exit(int(ExitCode.OK if all(f.ok for f in found) else ExitCode.FAIL))


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
    from .kinds import load_plugins
    from .render import kinds as show

    load_plugins()
    if fmt not in (Format.table, Format.markdown):
        fail(f"--format {fmt.value}: kinds prints table or markdown; `convcost schema` is the machine-readable form")
    if kind is not None:
        show.need(kind)
    render(fmt.value, output, lambda width: show.kinds_table(kind, width), markdown=lambda: show.kinds_markdown(kind))


@app.command()
@guarded
def profiles(fmt: Annotated[Format, typer.Option("--format", "-f", help="table, json, csv or markdown.", rich_help_panel=OUT)] = Format.table,
             output: OutputOpt = None) -> None:  # fmt: skip
    """The device profiles for --device-profile: built-in (with their datasheet sources) and those saved by `convcost calibrate`."""
    from .render import profiles as show

    rows = show.all_profiles()
    render(fmt.value, output, lambda width: show.profiles_table(rows, width), json=lambda: show.profiles_json(rows),
           csv=lambda: show.profiles_csv(rows), markdown=lambda: show.profiles_markdown(rows))  # fmt: skip


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
    from . import zoo as bundled

    if name is None:
        from .render import zoo as show

        entries = bundled.catalog()
        render(fmt.value, output, lambda width: show.zoo_table(entries, width), json=lambda: show.zoo_json(entries),
               csv=lambda: show.zoo_csv(entries), markdown=lambda: show.zoo_markdown(entries))  # fmt: skip
        return
    if fmt != Format.table:
        fail(f"--format {fmt.value}: with NAME, zoo prints the model's YAML; for its costs: convcost analyze zoo:{name} -f {fmt.value}")
    from .output import emit

    source = bundled.path(name)
    refuse_overwriting_inputs(output, [source])
    emit(output, source.read_text(encoding="utf-8"), utf8=True)


@app.command()
@guarded
def calibrate(
    backend: Annotated[Backend, typer.Option(help="The backend to measure: numpy or torch.")] = Backend.numpy,
    device: Annotated[Device, typer.Option(help="cpu, cuda (torch only) or auto.")] = Device.cpu,
    name: Annotated[
        Optional[str], typer.Option(help="Save as this profile name. \\[default: this-BACKEND-DEVICE]", show_default=False)
    ] = None,  # fmt: skip
    batch: Annotated[int, typer.Option(min=1, max=4096, help="Batch size of the calibration layers, in samples.")] = 1,
    seconds: Annotated[float, typer.Option(min=0.5, max=3600, help="Time to spend measuring, in seconds (about).")] = 20.0,
    output: Annotated[
        Optional[Path],
        typer.Option(
            "--output", "-o", help="Write the profile (YAML) to FILE instead of the config directory.", dir_okay=False, show_default=False
        ),
    ] = None,  # fmt: skip
) -> None:
    """Measure this machine (matmul throughput, memory bandwidth, each layer class's efficiency) and save it as a device profile."""
    import re

    from .backends.execute import backend as make_backend
    from .device.calibrate import calibrate as measure
    from .device.profiles import check_new_name, config_dir, to_data
    from .output import atomic_writer
    from .yamlio.read import dump

    if backend == Backend.numpy and device == Device.cuda:
        fail("--device cuda: the numpy backend runs on the CPU only; use --backend torch")
    runner = make_backend(backend.value, device.value)  # refuses a missing torch or GPU before any measuring
    label = name or f"this-{backend.value}-{runner.device}"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", label):
        fail(f"--name {label!r}: use letters, digits, '.', '_' and '-' (it becomes a file name)")
    if output is None:
        check_new_name(label)  # a saved profile under a built-in's id could never be used
    profile = measure(label, backend.value, runner.device, batch, seconds, lambda line: typer.echo(line, err=True))
    target = output or config_dir() / f"{profile.id}.yaml"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(target) as handle:
            handle.write(dump(to_data(profile), "# convcost device profile, measured by `convcost calibrate`\n"))
    except OSError as exc:
        fail(f"cannot write the profile {target}: {exc.strerror or exc}")
    typer.echo(f"saved {target}: use it with --device-profile {profile.id if output is None else target}")


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
            help="Write ops with no convcost kind as `unknown` layers (their output shape kept, "
            "counted as 0 and marked uncounted in every table) instead of refusing.",
        ),
    ] = False,
) -> None:
    """A PyTorch model (traced with torch.fx) or an ONNX graph → a convcost YAML layer stack, with the model's own layer names. Every layer's output shape and params are checked against the model before anything is written."""
    from .errors import printable
    from .interop.read import parse_input, read_source, to_yaml
    from .output import emit

    refuse_overwriting_inputs(output, [Path(source.rsplit(":", 1)[0] if ":" in source else source)])
    shape = parse_input(input_shape) if input_shape is not None else None
    ops, default_name, shape = read_source(source, shape, allow_unknown)
    header = (f"# Imported by convcost from {printable(source)}, input {list(shape)}.\n"
              "# Every layer's output shape and params were checked against the model.\n")  # fmt: skip
    text = to_yaml(ops, name or default_name, header)
    emit(output, text, utf8=True)


@app.command()
@guarded
def export(
    model: Annotated[Path, typer.Argument(help="A model file (YAML).", metavar="MODEL.yaml", dir_okay=False, show_default=False)],
    output: OutputOpt = None,
) -> None:
    """PyTorch source of a model: one nn.Module with the layers as attributes named after them, a forward() with residuals as + and concats as torch.cat, and def build() -> nn.Module. Needs torch (convcost\\[torch])."""
    from .zoo import resolve

    model = resolve(str(model))
    from .analysis.report import analyze as run_analysis
    from .output import emit
    from .yamlio.spec import load

    refuse_overwriting_inputs(output, [model])
    stack = load(model)
    try:
        from .interop.export import source
    except ImportError:
        fail("export writes PyTorch modules and needs torch to build them: pip install 'convcost[torch]'")
    report = run_analysis(stack)
    emit(output, source(stack, model.name, (report.totals.params, report.totals.macs)), utf8=True)


@app.command()
@guarded
def schema(output: OutputOpt = None) -> None:
    """The JSON Schema (draft 2020-12) of a model file, for editors and CI (check-jsonschema)."""
    from .kinds import load_plugins
    from .reference import schema as make
    from .render.machine import to_json

    load_plugins()
    render("json", output, lambda width: None, json=lambda: to_json(make()))


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; usage errors are one line (``error: …``) with exit 2. Returns the exit code."""
    try:
        from typer._click.exceptions import ClickException  # typer ≥ 0.26 vendors click
    except ImportError:  # pragma: no cover
        from click.exceptions import ClickException  # type: ignore[no-redef,assignment]  # typer < 0.26 used click's own

    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="convcost", standalone_mode=False)
    except ClickException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # plain `convcost`: the help was the answer
            sys.stderr.write(exc.format_message() + "\n")
            return 0
        hint = exc.ctx.command_path if getattr(exc, "ctx", None) else "convcost"  # type: ignore[attr-defined]  # click sets ctx on errors raised in a context
        sys.stderr.write(f"error: {exc.format_message()} (see '{hint} --help')\n")
        return int(exc.exit_code)
    except typer.Abort:
        return 130
    except KeyboardInterrupt:
        return 130
    return int(code or 0)


ASCII = {"×": "x", "—": "-", "–": "-", "…": "...", "·": "*", "✓": "ok", "✗": "X", "→": "->", "≤": "<=", "≥": ">=", "÷": "/",
         "±": "+-", "⚠": "!", "²": "^2", "³": "^3", "⁶": "^6", "⁹": "^9", "¹": "^1", "⁰": "^0", "░": ".", "▒": ":", "▓": "+",
         "█": "#", "─": "-", "━": "-", "│": "|", "┃": "|"}  # fmt: skip


def _ascii_fallback(error: UnicodeError) -> tuple[str, int]:
    """An output encoding that cannot show ×, —, … (ascii, latin-1) gets ASCII stand-ins."""
    assert isinstance(error, UnicodeEncodeError)
    text = error.object[error.start : error.end]
    return "".join(ASCII.get(ch, "?") for ch in text), error.end


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM, SIGHUP: unwind like an interrupt, so a file being written is removed, not left behind."""
    raise SystemExit(128 + signum)


def entry() -> None:
    """Console-script entry point."""
    import codecs
    import signal

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _terminated)
    codecs.register_error("convcost-ascii", _ascii_fallback)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="convcost-ascii")
    sys.exit(run())


__all__ = ["ExitCode", "app", "entry", "run"]
