"""The roofline prediction in every output: a table (arithmetic intensity, predicted ms, the bound,
and bars of each layer's share of MACs and of predicted time), JSON keys, CSV columns."""

from __future__ import annotations

from typing import Any

from ..analysis.report import Report
from ..device.profiles import show_rate
from ..device.roofline import Predicted, Prediction
from ..errors import printable
from .fit import Column, Fitted, fit

COLUMNS = [Column("layer", right=False, keep=True), Column("FLOP/B"), Column("pred.\nms"), Column("bound", right=False),
           Column("share of MACs", right=False), Column("share of time", right=False)]  # fmt: skip
BAR = 12  #: characters of a share bar
_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(share: float, width: int = BAR) -> str:
    """A horizontal bar of ``share`` ∈ [0, 1] in eighths of a character, padded to ``width``."""
    eighths = round(max(0.0, min(1.0, share)) * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (_EIGHTHS[part] if part else "")).ljust(width)


def intensity(p: Predicted) -> str:
    return "—" if p.intensity is None else f"{p.intensity:.3g}"


def ms(value: float) -> str:
    return f"{value:.4f}" if value < 1 else f"{value:.3f}" if value < 100 else f"{value:,.1f}"


def heading(prediction: Prediction, batch: int) -> str:
    """The line above the prediction table; the profile's name and id are data: escaped to one line."""
    p = prediction.profile
    return printable(f"predicted on {p.name} ({p.id}), {prediction.dtype}, batch {batch}: peak {show_rate(prediction.peak, 'FLOP/s')}, "
                     f"bandwidth {show_rate(p.bandwidth, 'B/s')}" + (", calibrated" if p.efficiency else ""))  # fmt: skip


def rows(report: Report, prediction: Prediction) -> tuple[list[list[str]], list[str]]:
    total_macs = report.totals.macs or 1
    out = []
    for r in report.layers:
        p = prediction.layers[r.path]
        out.append(
            [
                r.name,
                intensity(p),
                ms(p.ms),
                p.bound,
                bar(r.macs / total_macs),
                bar(p.ms / prediction.total_ms if prediction.total_ms else 0),
            ]
        )
    return out, ["total", "", ms(prediction.total_ms), "", "", ""]


def predicted_table(report: Report, prediction: Prediction, width: int | None) -> Fitted:
    body, total = rows(report, prediction)
    return fit(COLUMNS, body, width, total=total)


def summary_line(prediction: Prediction) -> str:
    compute = sum(p.ms for p in prediction.layers.values() if p.bound == "compute")
    return (
        f"predicted {ms(prediction.total_ms)} ms: {ms(compute)} ms in compute-bound layers, "
        f"{ms(prediction.total_ms - compute)} ms in memory-bound ones (roofline: max(FLOPs ÷ peak, bytes ÷ bandwidth) per layer)"
    )


def layer_dict(p: Predicted) -> dict[str, Any]:
    return {"ms": p.ms, "bound": p.bound, "intensity": p.intensity}


def profile_dict(prediction: Prediction) -> dict[str, Any]:
    p = prediction.profile
    return {"id": p.id, "name": p.name, "dtype": prediction.dtype, "peak_flops": prediction.peak, "bandwidth": p.bandwidth,
            "efficiency": dict(p.efficiency), "source": p.source}  # fmt: skip
