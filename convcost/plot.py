"""--plot: the roofline with every layer as a point, and each layer's share of MACs and of
predicted time as bars (matplotlib, the optional extra convcost[plot]; PNG or SVG by suffix)."""

from __future__ import annotations

from pathlib import Path

from .analysis import Report
from .errors import ConvcostError
from .roofline import Prediction


def write_plot(path: Path, report: Report, prediction: Prediction) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConvcostError("--plot: matplotlib is not installed (pip install 'convcost[plot]')") from None
    from .output import atomic_writer

    peak, bandwidth = prediction.peak, prediction.profile.bandwidth
    figure, (roof, bars) = plt.subplots(1, 2, figsize=(13, 5.5), gridspec_kw={"width_ratios": [1, 1.2]})
    points = [(p.intensity, 2 * r.macs / (p.ms / 1000), r) for r in report.layers if (p := prediction.layers[r.path]).intensity and r.macs]
    ridge = peak / bandwidth
    low = min([x for x, _, _ in points] + [ridge / 100])
    high = max([x for x, _, _ in points] + [ridge * 100])
    xs = [low / 2, ridge, high * 2]
    roof.loglog(xs, [min(peak, x * bandwidth) for x in xs], color="black", label=f"roofline (ridge {ridge:.3g} FLOP/B)")
    for bound, color in (("compute", "tab:red"), ("memory", "tab:blue")):
        chosen = [(x, y) for x, y, r in points if prediction.layers[r.path].bound == bound]
        if chosen:
            roof.scatter([x for x, _ in chosen], [y for _, y in chosen], s=14, color=color, label=f"{bound}-bound layers")
    roof.set_xlabel("arithmetic intensity (FLOPs per byte moved)")
    roof.set_ylabel("attainable FLOP/s")
    roof.set_title(f"{report.model} on {prediction.profile.name}, {prediction.dtype}, batch {report.batch}", fontsize=9)
    roof.legend(fontsize=8)
    roof.grid(True, which="both", alpha=0.3)
    total_macs, total_ms = report.totals.macs or 1, prediction.total_ms or 1
    layers = report.layers
    index = range(len(layers))
    bars.bar(index, [r.macs / total_macs for r in layers], width=0.9, alpha=0.6, label="share of MACs")
    bars.bar(index, [prediction.layers[r.path].ms / total_ms for r in layers], width=0.45, alpha=0.9, label="share of predicted time")
    bars.set_xlabel("layer (in order)")
    bars.set_ylabel("share of the whole stack")
    bars.set_title(f"predicted {prediction.total_ms:.3g} ms in total", fontsize=9)
    step = max(1, len(layers) // 40)
    bars.set_xticks(list(index)[::step], [layers[i].name for i in index][::step], rotation=90, fontsize=6)
    bars.legend(fontsize=8)
    figure.tight_layout()
    fmt = path.suffix.lower().lstrip(".")
    with atomic_writer(path, "--plot", binary=True) as handle:
        figure.savefig(handle, format=fmt)
    plt.close(figure)
