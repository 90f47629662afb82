"""The command line: parse options, call the API, pick a renderer, map the result to an exit code.

This is the only place where errors become messages and exit codes. Built on click directly:
typer (which wraps click) now imports pydantic on every run, about 100 ms we do not spend.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import ConvcostError, ExitCode

FORMATS = ("table", "json", "csv", "markdown")
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="convcost", message="%(prog)s %(version)s")
def app() -> None:
    """Exact costs of convolutional layer stacks described in YAML: shapes, params, MACs,
    memory, receptive fields, cheaper rewrites and dilation gridding."""


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn a ConvcostError into one line on stderr and its exit code."""
    try:
        yield
    except ConvcostError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(int(exc.code))


def output_options(func: Callable[..., Any], formats: tuple[str, ...] = FORMATS) -> Callable[..., Any]:
    """--format and --output, shared by every command."""
    func = click.option(
        "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of standard output."
    )(func)
    func = click.option("--format", "-f", "fmt", type=click.Choice(formats), default="table", show_default=True, help="Output format.")(
        func
    )
    return func


def emit(fmt: str, output: Path | None, text: str | None = None, renderable: Any = None) -> None:
    """Write machine text, or render a rich renderable, to stdout or to ``output``."""
    if fmt == "table" and renderable is not None:
        from rich.console import Console

        if output is None:
            console = Console()
            if not console.is_terminal:
                console = Console(width=160)
            console.print(renderable)
            return
        try:
            with open(output, "w", encoding="utf-8") as handle:
                Console(file=handle, width=160, no_color=True).print(renderable)
        except OSError as exc:
            raise ConvcostError(f"--output: cannot write {output}: {exc.strerror}") from None
        return
    if output is None:
        sys.stdout.write(text or "")
        return
    try:
        Path(output).write_text(text or "", encoding="utf-8")
    except OSError as exc:
        raise ConvcostError(f"--output: cannot write {output}: {exc.strerror}") from None


def emit_as(fmt: str, output: Path | None, table: Callable[[], Any], **texts: Callable[[], str]) -> None:
    """Render with the renderer of the chosen format: ``table`` (a rich renderable) or a text one."""
    if fmt == "table":
        emit(fmt, output, renderable=table())
    else:
        emit(fmt, output, texts[fmt]())


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with user_errors():
            return func(*args, **kwargs)

    return wrapper


MODEL = click.argument("model", type=click.Path(dir_okay=False, path_type=Path))


def execute_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--execute and its settings, shared by analyze and compare."""
    options = [
        click.option("--execute", is_flag=True, help="Build with random weights, run, confirm every shape, and time it."),
        click.option("--backend", type=click.Choice(["numpy", "torch"]), default="numpy", show_default=True),
        click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default="auto", show_default=True),
        click.option("--warmup", type=click.IntRange(min=0), default=1, show_default=True),
        click.option("--repeat", type=click.IntRange(min=1), default=5, show_default=True),
        click.option("--threads", type=click.IntRange(min=1), default=None, help="CPU threads (BLAS / torch)."),
        click.option("--seed", type=int, default=0, show_default=True),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def run_execute(stack: Any, report: Any, settings: dict[str, Any]) -> Any:
    """Execute with a progress bar on a terminal; a shape mismatch prints the paths and exits 1
    after the report is shown (returned here as the report and the mismatches)."""
    from .backends.execute import execute, merge_into

    keys = ("backend", "device", "warmup", "repeat", "threads", "seed")
    options = {k: settings[k] for k in keys}
    options["backend_name"] = options.pop("backend")
    from rich.console import Console

    console = Console(stderr=True)
    if console.is_terminal:
        from rich.progress import Progress

        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"executing {report.model}", total=None)

            def on_step(i: int, total: int, path: str) -> None:
                progress.update(task, completed=i, total=total, description=f"{report.model}: {path}")

            timing = execute(stack, report, on_step=on_step, **options)
    else:
        timing = execute(stack, report, **options)
    return merge_into(report, timing)


def shape_failures(wrong: list[str]) -> None:
    if wrong:
        click.echo("error: executed shapes differ from the analysis: " + "; ".join(wrong), err=True)
        sys.exit(int(ExitCode.FAIL))


@app.command()
@click.argument("models", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@output_options
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Batch size (counts scale with it; params do not).")
@click.option("--dtype", default="float32", show_default=True, help="Element type for bytes: float32, float16, bfloat16, float64, int8.")
@execute_options
@guarded
def analyze(models: tuple[Path, ...], fmt: str, output: Path | None, batch: int, dtype: str, **settings: Any) -> None:
    """Per-layer output shape, params, MACs, activations, memory and receptive field. With
    several files: one summary row per model. --execute runs it too."""
    from .analysis import analyze as run_analysis
    from .render import machine
    from .spec import load

    stacks = [load(model) for model in models]
    reports = [run_analysis(stack, batch=batch, dtype=dtype) for stack in stacks]
    wrong: list[str] = []
    if settings["execute"]:
        for i, stack in enumerate(stacks):
            reports[i], bad = run_execute(stack, reports[i], settings)
            wrong += bad
    if len(reports) > 1:
        from .render import summary

        emit_as(fmt, output, lambda: summary.summary_table(reports),
                json=lambda: machine.to_json({"models": [machine.report_dict(r) for r in reports]}),
                csv=lambda: summary.summary_csv(reports), markdown=lambda: summary.summary_markdown(reports))  # fmt: skip
        shape_failures(wrong)
        return
    report = reports[0]

    def table() -> Any:
        from .render.table import report_table

        return report_table(report)

    emit_as(fmt, output, table, json=lambda: machine.to_json(machine.report_dict(report)), csv=lambda: machine.report_csv(report),
            markdown=lambda: machine.report_markdown(report))  # fmt: skip
    shape_failures(wrong)


@app.command()
@MODEL
@click.argument("other", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rewrite", "-r", "rewrites", help="Comma-separated rewrites: separable, grouped:G[+shuffle], bottleneck:R, factorize, spatial, "
              "channelwise[:D]. Default: separable,grouped:4,bottleneck:4.")  # fmt: skip
@click.option("--emit-yaml", type=click.Path(file_okay=False, path_type=Path), help="Write each rewritten stack as YAML into DIR.")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--dtype", default="float32", show_default=True)
@output_options
@execute_options
@guarded
def compare(model: Path, other: Path | None, rewrites: str | None, emit_yaml: Path | None, batch: int, dtype: str, fmt: str,
            output: Path | None, **settings: Any) -> None:  # fmt: skip
    """The standard design beside its cheaper rewrites (or beside OTHER.yaml): params, MACs and
    their ratios per layer and in total, with the closed forms."""
    from . import compare as comparing
    from .render import compare as show
    from .render.machine import to_json
    from .rewrite import DEFAULT
    from .spec import load

    stack = load(model)
    if other is not None:
        if rewrites:
            raise ConvcostError("--rewrite: give either OTHER.yaml or --rewrite, not both")
        result = comparing.compare_files(stack, load(other), other.stem, batch=batch, dtype=dtype)
    else:
        specs = [s for s in (rewrites.split(",") if rewrites else DEFAULT) if s.strip()]
        result = comparing.compare(stack, specs, batch=batch, dtype=dtype)
        if emit_yaml is not None:
            from .emit import stack_data
            from .yamlio import dump

            try:
                emit_yaml.mkdir(parents=True, exist_ok=True)
                for variant, rewritten in zip(result.variants[1:], result.stacks[1:]):
                    target = emit_yaml / f"{model.stem}.{variant.name.replace(':', '-').replace('+', '-')}.yaml"
                    target.write_text(dump(stack_data(rewritten), f"# {model.name} rewritten by convcost ({variant.name})\n"))
            except OSError as exc:
                raise ConvcostError(f"--emit-yaml: cannot write into {emit_yaml}: {exc.strerror}") from None
    wrong: list[str] = []
    if settings["execute"]:
        measured = []
        for variant, variant_stack in zip(result.variants, result.stacks):
            report, bad = run_execute(variant_stack, variant.report, settings)
            measured.append(report)
            wrong += [f"{variant.name} {w}" for w in bad]
        result = result.with_reports(measured)
    emit_as(fmt, output, lambda: show.compare_table(result), json=lambda: to_json(show.compare_dict(result)),
            csv=lambda: show.compare_csv(result), markdown=lambda: show.compare_markdown(result))  # fmt: skip
    shape_failures(wrong)


@app.command("hdc-check")
@click.argument("rates")
@click.option("--kernel", "-k", type=int, default=3, show_default=True, help="Kernel size K (odd) of every layer.")
@output_options
@guarded
def hdc_check(rates: str, kernel: int, fmt: str, output: Path | None) -> None:
    """Does a stack of dilated stride-1 convs with these rates (1,2,5) grid? The HDC rules, the
    exact coverage, a map, and nearby rates that work. Exit 0: no holes; 1: grids."""
    from . import hdc
    from .render import hdc as show
    from .render.machine import to_json

    report = hdc.check(hdc.parse_rates(rates), kernel)
    emit_as(fmt, output, lambda: show.hdc_table(report), json=lambda: to_json(show.hdc_dict(report)),
            csv=lambda: show.hdc_csv(report), markdown=lambda: show.hdc_markdown(report))  # fmt: skip
    sys.exit(int(ExitCode.FAIL if report.gridding else ExitCode.OK))


@app.command()
@click.argument("models", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--max-params", help="At most this many parameters (5M, 4.5M, 600K).")
@click.option("--max-macs", help="At most this many multiply-accumulates.")
@click.option("--max-flops", help="At most this many flops (2 × MACs).")
@click.option("--max-peak-memory", help="At most this peak activation memory (64MiB, 1.5GB).")
@click.option("--min-rf", help="At least this receptive field (the smallest axis).")
@click.option("--no-gridding", is_flag=True, default=None, help="Fail when a dilated run has holes.")
@click.option("--baseline", help="OLD.yaml, or git:REF for the same path at a git revision.")
@click.option("--max-increase", default="0%", show_default=True, help="With --baseline: how much params and MACs may grow.")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--dtype", default="float32", show_default=True)
@functools.partial(output_options, formats=(*FORMATS, "github"))
@guarded
def check(models: tuple[Path, ...], max_params: str | None, max_macs: str | None, max_flops: str | None, max_peak_memory: str | None,
          min_rf: str | None, no_gridding: bool | None, baseline: str | None, max_increase: str, batch: int, dtype: str,
          fmt: str, output: Path | None) -> None:  # fmt: skip
    """Budget guard for CI: enforce each file's `budget:` (flags override it). Exit 0: within
    budget; 1: over; 2: bad input."""
    from . import budget as rules
    from .analysis import analyze as run_analysis
    from .render import check as show
    from .render.machine import to_json
    from .runs import dilated_runs
    from .spec import load

    flags = {
        "params": max_params,
        "macs": max_macs,
        "flops": max_flops,
        "peak_memory": max_peak_memory,
        "min_rf": min_rf,
        "no_gridding": no_gridding,
    }
    tolerance = rules.parse_increase(max_increase)
    found = []
    for model in models:
        stack = load(model)
        report = run_analysis(stack, batch=batch, dtype=dtype)
        findings = rules.evaluate(report, dilated_runs(stack.layers), rules.override(stack.budget, flags), str(model))
        if baseline is not None:
            from .baseline import load_baseline

            before, label = load_baseline(baseline, model)
            if before is None:
                findings = findings._replace(notes=findings.notes + (f"new at {label.split(' at ')[-1]}: no baseline",))
            else:
                findings = rules.against_baseline(findings, report, run_analysis(before, batch=batch, dtype=dtype), tolerance, label)
        found.append(findings)
    emit_as(fmt, output, lambda: show.check_table(found), json=lambda: to_json(show.check_json_data(found)),
            csv=lambda: show.check_csv(found), markdown=lambda: show.check_markdown(found), github=lambda: show.check_github(found))  # fmt: skip
    sys.exit(int(ExitCode.OK if all(f.ok for f in found) else ExitCode.FAIL))


def run() -> None:
    """Console-script entry point."""
    app(prog_name="convcost")


__all__ = ["app", "run", "ExitCode"]
