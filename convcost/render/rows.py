"""Which rows a per-layer view shows: every layer (the default), or

- ``fold``: norms, activations and other shape-keeping per-position layers, and the adds that
  close residuals, folded into the row of the layer they follow (``conv+bn+relu``);
- ``depth=N``: the layers of each block below depth N collapsed into one row named after the
  block, as torchinfo's ``depth=`` does (depth = dot-separated parts of a layer's name:
  ``layer1.0.conv1`` is at depth 3);
- ``top=N``: the N costliest rows, by MACs, or by predicted time when there is a prediction.

A merged row is exact: params, MACs, activations and bytes moved are the sums of its layers;
its output, receptive field and coverage are its last layer's; predicted and measured times
and backward MACs are sums; the bytes alive under a memory plan, the most during any of them. Totals never change. Pure: no rich, no printing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from ..analysis.report import LayerRecord, Report
from ..analysis.training import Backward
from ..device.roofline import Predicted, Prediction
from ..kinds.groups import folds_into_previous


class Shown(NamedTuple):
    """A report and its prediction with the rows to show (totals as they were)."""

    report: Report
    prediction: Prediction | None
    note: str | None  #: what the rows are, when they are not every layer


def _measured(records: Sequence[LayerRecord], macs: int) -> dict[str, Any] | None:
    measured = [r.measured for r in records if r.measured]
    if len(measured) < len(records):
        return None
    first = dict(measured[0])
    for key in ("ms_median", "ms_min", "ms_max"):
        first[key] = sum(m[key] for m in measured)
    first["shape_ok"] = all(m["shape_ok"] for m in measured)
    first["output"] = measured[-1]["output"]
    first["gmacs_per_s"] = macs / (first["ms_median"] / 1000) / 1e9 if first["ms_median"] > 0 and macs else None
    return first


def merged(records: Sequence[LayerRecord], name: str, kind: str) -> LayerRecord:
    """One row for consecutive ``records`` (see the module's docstring); its path is the first's."""
    if len(records) == 1 and records[0].name == name and records[0].kind == kind:
        return records[0]
    last = records[-1]
    macs = sum(r.macs for r in records)
    return LayerRecord(records[0].path, name, kind, last.output, sum(r.params for r in records), macs,
                       sum(r.activations for r in records), sum(r.bytes_moved for r in records), last.rf, last.coverage,
                       _measured(records, macs), _training(records), _live(records))  # fmt: skip


def _live(records: Sequence[LayerRecord]) -> int | None:
    """A merged row's live bytes: the most alive during any of its layers."""
    lives = [r.live for r in records if r.live is not None]
    return max(lives) if lives else None


def _training(records: Sequence[LayerRecord]) -> Backward | None:
    passes = [r.training for r in records if r.training is not None]
    if not passes:
        return None
    return Backward(sum(b.grad_input for b in passes), sum(b.grad_weights for b in passes), any(b.trained for b in passes),
                    sum(b.saved for b in passes))  # fmt: skip


def _predicted(groups: list[list[LayerRecord]], prediction: Prediction | None) -> Prediction | None:
    if prediction is None:
        return None
    layers = {}
    for group in groups:
        parts = [prediction.layers[r.path] for r in group]
        flops = sum(2 * r.macs for r in group)
        nbytes = sum(r.bytes_moved for r in group)
        slowest = max(parts, key=lambda p: p.ms)
        layers[group[0].path] = Predicted(sum(p.ms for p in parts), slowest.bound, flops / nbytes if nbytes else None)
    return prediction._replace(layers=layers)


def _many(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _regrouped(view: Shown, groups: list[list[LayerRecord]], rows: list[LayerRecord], note: str) -> Shown:
    return Shown(view.report._replace(layers=tuple(rows)), _predicted(groups, view.prediction), note)


def fold(view: Shown) -> Shown:
    groups: list[list[LayerRecord]] = []
    for record in view.report.layers:
        if groups and folds_into_previous(record.kind) and record.output == groups[-1][-1].output:
            groups[-1].append(record)
        else:
            groups.append([record])
    rows = [merged(g, g[0].name, "+".join(dict.fromkeys(r.kind for r in g))) for g in groups]
    return _regrouped(view, groups, rows, f"{_many(len(rows), 'row')} for {_many(len(view.report.layers), 'layer')}: norms, activations and adds folded "
                                          "into the layer before them")  # fmt: skip


def depth(view: Shown, n: int) -> Shown:
    groups: list[list[LayerRecord]] = []
    keys: list[str] = []
    for record in view.report.layers:
        parts = record.name.split(".")
        key = ".".join(parts[:n]) if len(parts) > n else record.name
        if keys and key == keys[-1] and len(parts) > n:
            groups[-1].append(record)
        else:
            groups.append([record])
            keys.append(key)
    rows = [merged(g, key, g[0].kind if len(g) == 1 else _many(len(g), "layer")) for g, key in zip(groups, keys)]
    return _regrouped(view, groups, rows, f"{_many(len(rows), 'row')} for {_many(len(view.report.layers), 'layer')}: blocks below depth {n} collapsed "
                                          "(depth = the parts of a name between dots)")  # fmt: skip


def top(view: Shown, n: int) -> Shown:
    report, prediction = view.report, view.prediction
    by_time = prediction is not None

    def cost(r: LayerRecord) -> float:
        return prediction.layers[r.path].ms if prediction is not None else r.macs

    chosen = sorted(report.layers, key=cost, reverse=True)[:n]
    whole = sum(cost(r) for r in report.layers)
    share = sum(cost(r) for r in chosen) / whole if whole else 0.0
    what = "predicted time" if by_time else "MACs"
    note = f"the {len(chosen)} costliest of {_many(len(report.layers), 'row')} by {what}, costliest first: {share:.1%} of the {what}"
    if prediction is not None:
        prediction = prediction._replace(layers={r.path: prediction.layers[r.path] for r in chosen})
    return Shown(report._replace(layers=tuple(chosen)), prediction, note if view.note is None else f"{view.note}; {note}")


def summary(view: Shown) -> Shown:
    """No rows at all: totals and warnings only."""
    prediction = view.prediction._replace(layers={}) if view.prediction is not None else None
    return Shown(view.report._replace(layers=()), prediction, "totals only (--summary)")


def select(report: Report, prediction: Prediction | None, *, folded: bool = False, depth_n: int | None = None,
           top_n: int | None = None, only_summary: bool = False) -> Shown:  # fmt: skip
    """The view the options ask for: fold or depth first, then top; or the summary alone."""
    view = Shown(report, prediction, None)
    if only_summary:
        return summary(view)
    if depth_n is not None:
        view = depth(view, depth_n)
    if folded:
        view = fold(view)
    if top_n is not None:
        view = top(view, top_n)
    return view
