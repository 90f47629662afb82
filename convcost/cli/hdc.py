"""`convcost hdc-check`."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import app
from .console import guarded, present
from .options import Format, FormatOpt, OutputOpt


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
    from ..analysis import hdc
    from ..render import hdc as show

    report = hdc.check(hdc.parse_rates(rates), kernel)
    present(show.VIEW, report, fmt.value, output)
    raise typer.Exit(int(report.exit_code))
