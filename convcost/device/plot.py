"""--plot: the roofline with every layer as a point, and each layer's share of MACs and of
predicted time as bars (matplotlib, the optional extra convcost[plot]; PNG or SVG by suffix).

Names (of the model, its layers, the profile) are data: drawn with mathtext off (a ``$`` is a
dollar sign) and control characters escaped. Each kind of mark is one artist (one scatter per
bound, one collection per kind of bar), so a stack of 10^4 layers draws in about a second."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from ..analysis.report import Report
from ..errors import ConvcostError, printable
from .roofline import Prediction

TICKS = 40  #: layer names written under the bars, at most
BEST_LEGEND = 1000  #: up to this many layers the legend goes where it hides least ("best" is slow on more)


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConvcostError("--plot: matplotlib is not installed (pip install 'convcost[plot]')") from None
    return plt


def _legend(axes: Any, count: int) -> None:
    axes.legend(fontsize=8, loc="best" if count <= BEST_LEGEND else "upper right")


def _roofline(axes: Any, report: Report, prediction: Prediction) -> None:
    peak, bandwidth = prediction.peak, prediction.profile.bandwidth
    points = [(p.intensity, 2 * r.macs / (p.ms / 1000), p.bound) for r in report.layers
              if (p := prediction.layers[r.path]).intensity and r.macs and p.ms]  # fmt: skip
    ridge = peak / bandwidth
    low = min([x for x, _, _ in points] + [ridge / 100])
    high = max([x for x, _, _ in points] + [ridge * 100])
    xs = [low / 2, ridge, high * 2]
    axes.loglog(xs, [min(peak, x * bandwidth) for x in xs], color="black", label=f"roofline (ridge {ridge:.3g} FLOP/B)")
    for bound, color in (("compute", "tab:red"), ("memory", "tab:blue")):
        chosen = [(x, y) for x, y, b in points if b == bound]
        if chosen:
            axes.scatter([x for x, _ in chosen], [y for _, y in chosen], s=14, color=color, label=f"{bound}-bound layers")
    axes.set_xlabel("arithmetic intensity (FLOPs per byte moved)")
    axes.set_ylabel("attainable FLOP/s")
    title = f"{report.model} on {prediction.profile.name}, {prediction.dtype}, batch {report.batch}"
    axes.set_title(printable(title), fontsize=9, parse_math=False)  # names are data: a $ is a dollar, not mathtext
    _legend(axes, len(points))
    axes.grid(True, which="both", alpha=0.3)


def _bars(axes: Any, heights: list[float], width: float, **style: Any) -> None:
    """Bars at 0, 1, 2, … as one collection (a Rectangle per bar is slow past a few thousand)."""
    from matplotlib.collections import PolyCollection

    half = width / 2
    boxes = [((i - half, 0), (i - half, h), (i + half, h), (i + half, 0)) for i, h in enumerate(heights) if h]
    axes.add_collection(PolyCollection(boxes, linewidths=0, **style))


def _shares(axes: Any, report: Report, prediction: Prediction) -> None:
    layers = report.layers
    total_macs, total_ms = report.totals.macs or 1, prediction.total_ms or 1
    macs = [r.macs / total_macs for r in layers]
    time = [prediction.layers[r.path].ms / total_ms for r in layers]
    _bars(axes, macs, 0.9, alpha=0.6, facecolor="tab:blue", label="share of MACs")
    _bars(axes, time, 0.45, alpha=0.9, facecolor="tab:orange", label="share of predicted time")
    axes.autoscale_view()
    axes.set_ylim(bottom=0)  # as bar() does: the bars stand on the axis
    axes.set_xlabel("layer (in order)")
    axes.set_ylabel("share of the whole stack")
    axes.set_title(f"predicted {prediction.total_ms:.3g} ms in total", fontsize=9)
    step = max(1, len(layers) // TICKS)
    ticks = range(0, len(layers), step)
    axes.set_xticks(list(ticks), [printable(layers[i].name) for i in ticks], rotation=90, fontsize=6, parse_math=False)
    _legend(axes, len(layers))


def write_plot(path: Path, report: Report, prediction: Prediction) -> None:
    plt = _pyplot()
    from ..output import atomic_writer

    figure, (roof, bars) = plt.subplots(1, 2, figsize=(13, 5.5), gridspec_kw={"width_ratios": [1, 1.2]})
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph .* missing from")  # a name in a script the font lacks: drawn as boxes
            _roofline(roof, report, prediction)
            _shares(bars, report, prediction)
            figure.tight_layout()
            fmt = path.suffix.lower().lstrip(".")
            with atomic_writer(path, "--plot", binary=True) as handle:
                figure.savefig(handle, format=fmt)
    finally:
        plt.close(figure)
