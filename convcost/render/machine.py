"""Reports as JSON, CSV and Markdown (SPEC §5.1)."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from ..analysis.report import LayerRecord, Output, Report, Rf
from ..analysis.training import Backward
from . import fmt

if TYPE_CHECKING:
    from ..device.roofline import Prediction


def rf_dict(rf: Rf | None) -> dict[str, list[int | float]] | None:
    if rf is None:
        return None
    return {"size": list(rf.size), "stride": [fmt.number(s) for s in rf.stride], "padding": [fmt.number(p) for p in rf.padding]}


def coverage(value: Any) -> int | float | None:
    return None if value is None else fmt.number(value)


def output_dict(o: Output) -> dict[str, Any]:
    return {"name": o.name, "output": list(o.shape), "rf": rf_dict(o.rf), "coverage": coverage(o.coverage)}


def training_dict(forward: int, b: Backward) -> dict[str, Any]:
    return {"forward_macs": forward, "grad_input_macs": b.grad_input, "grad_weights_macs": b.grad_weights,
            "step_macs": forward + b.macs, "trained": b.trained, "saved_bytes": b.saved}  # fmt: skip


def state_dict(report: Report) -> dict[str, Any]:
    s, t = report.state, report.totals.training
    assert s is not None and t is not None
    return {"optimizer": s.optimizer, "weights_bytes": s.weights, "gradients_bytes": s.gradients,
            "optimizer_state_bytes": s.optimizer_state, "master_weights_bytes": s.master, "memory_bytes": t.saved + s.total}  # fmt: skip


def peak_line(report: Report) -> str:
    """Where the memory plan's peak is reached and what is alive there."""
    m = report.memory
    assert m is not None
    alive = ", ".join(f"{name} {fmt.shape(shape)} ({fmt.nbytes(n)})" for name, shape, n in m.alive)
    return (
        f"{m.plan} memory plan: peak {report.totals.peak_memory_bytes:,} B {'at ' + m.at if m.at else 'before any layer'}; alive: {alive}"
    )


def memory_dict(report: Report) -> dict[str, Any]:
    m = report.memory
    assert m is not None
    return {"plan": m.plan, "peak_bytes": report.totals.peak_memory_bytes, "at": m.at or None,
            "alive": [{"name": name, "output": list(shape), "bytes": n} for name, shape, n in m.alive]}  # fmt: skip


def layer_dict(r: LayerRecord) -> dict[str, Any]:
    return {"path": r.path, "name": r.name, "kind": r.kind, "output": list(r.output), "params": r.params,
            "macs": r.macs, "flops": r.flops, "activations": r.activations, "bytes_moved": r.bytes_moved,
            "rf": rf_dict(r.rf), "coverage": coverage(r.coverage),
            "measured": dict(r.measured) if r.measured is not None else None}  | (
        {} if r.training is None else {"training": training_dict(r.macs, r.training)}) | (
        {} if r.live is None else {"live_bytes": r.live})  # fmt: skip


def report_dict(report: Report, shared: dict[int, Any] | None = None, prediction: Prediction | None = None) -> dict[str, Any]:
    """The report as plain data. Reports that share ``shared`` (a dict) share the dict of every
    layer record they have in common (the same object), which ``to_json`` then encodes once.
    With a roofline ``prediction``: per layer ``predicted`` {ms, bound, intensity}, the
    ``device_profile`` and the total ``predicted_ms``."""
    t = report.totals
    if prediction is not None:
        from .predicted import layer_dict as predicted_dict
        from .predicted import profile_dict

        layers = [{**layer_dict(r), "predicted": predicted_dict(prediction.layers[r.path])} for r in report.layers]
    elif shared is None:
        layers = [layer_dict(r) for r in report.layers]
    else:
        layers = []
        for r in report.layers:
            seen = shared.get(id(r))
            if seen is None or seen[0] is not r:
                seen = shared[id(r)] = (r, layer_dict(r))
            layers.append(seen[1])
    return (
        {
            "model": report.model,
            "input": list(report.input),
            **({"inputs": {name: list(shape) for name, shape in report.inputs}} if report.inputs else {}),
            "dtype": report.dtype,
            "batch": report.batch,
            "layers": layers,
            "totals": {
                "params": t.params,
                "macs": t.macs,
                "flops": t.flops,
                "activations": t.activations,
                "peak_memory_bytes": t.peak_memory_bytes,
                "bytes_moved": t.bytes_moved,
                "rf": rf_dict(t.rf),
                "coverage": coverage(t.coverage),
                "measured": dict(t.measured) if t.measured is not None else None,
            },  # fmt: skip
            "warnings": list(report.warnings),
        }
        | ({} if not t.outputs else {"outputs": [output_dict(o) for o in t.outputs]})
        | (
            {}
            if t.training is None
            else {"training": {**training_dict(t.macs, t.training), "frozen": list(report.frozen), **state_dict(report)}}
        )
        | ({} if report.memory is None else {"memory_plan": memory_dict(report)})
        | ({} if prediction is None else {"device_profile": profile_dict(prediction), "predicted_ms": prediction.total_ms})
    )


SCHEMA_VERSION = 1  #: of every command's JSON output (docs/reference.md); raised when a key changes meaning or goes


def to_json(data: Any) -> str:
    """Indented JSON in which each record of a list (a layer, a design, a row) and each list of
    numbers sits on one line: as readable as ``indent=2`` and as fast as compact JSON (the
    one-line parts go through json's C encoder; ``indent`` forces its pure-Python one)."""
    return _dump(data, 0, {}) + "\n"


def _dump(value: Any, level: int, encoded: dict[int, tuple[Any, str]]) -> str:
    inner, close = "  " * (level + 1), "\n" + "  " * level
    if isinstance(value, dict) and value:
        return "{\n" + ",\n".join(f"{inner}{json.dumps(str(k))}: {_dump(v, level + 1, encoded)}" for k, v in value.items()) + close + "}"
    if isinstance(value, list) and _holds_records(value):
        if isinstance(value[0], dict) and not _holds_records(value[0]):  # flat records (a list's items share one shape)
            return "[\n" + ",\n".join(inner + _record(v, encoded) for v in value) + close + "]"
        return "[\n" + ",\n".join(inner + _dump(v, level + 1, encoded) for v in value) + close + "]"
    return json.dumps(value)


def _record(record: dict[str, Any], encoded: dict[int, tuple[Any, str]]) -> str:
    """One record's JSON; a record object met again (shared by two designs) is encoded once."""
    seen = encoded.get(id(record))
    if seen is None or seen[0] is not record:
        seen = encoded[id(record)] = (record, json.dumps(record))
    return seen[1]


def _holds_records(value: Any) -> bool:
    """Whether a list of mappings (records) is anywhere inside ``value``."""
    if isinstance(value, dict):
        return any(_holds_records(v) for v in value.values())
    if isinstance(value, list):
        return any(isinstance(v, dict) or _holds_records(v) for v in value)
    return False


def versioned(data: dict[str, Any]) -> str:
    """A command's JSON output, with ``schema_version`` first."""
    return to_json({"schema_version": SCHEMA_VERSION, **data})


TRAINING_CSV = ("grad_input_macs", "grad_weights_macs", "step_macs", "trained", "saved_bytes", "training_memory_bytes")


def training_cells(forward: int, b: Backward | None) -> list[Any]:
    """A layer's training cells; its training memory is the TOTAL row's alone (the state is the model's)."""
    return ["", "", "", "", "", ""] if b is None else [b.grad_input, b.grad_weights, forward + b.macs, "true" if b.trained else "false",
                                                       b.saved, ""]  # fmt: skip


def _total_training(report: Report) -> list[Any]:
    t, s = report.totals, report.state
    cells = training_cells(t.macs, t.training)
    return cells[:-1] + [t.training.saved + s.total] if t.training is not None and s is not None else cells


CSV_COLUMNS = ("path", "name", "kind", "output", "params", "macs", "flops", "activations", "bytes_moved",
               "rf_size", "rf_stride", "rf_padding", "coverage")  # fmt: skip


def report_csv(report: Report, prediction: Prediction | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    training, live = report.totals.training is not None, report.memory is not None
    writer.writerow(CSV_COLUMNS + (("predicted_ms", "bound", "intensity") if prediction else ())
                    + (TRAINING_CSV if training else ()) + (("live_bytes",) if live else ()))  # fmt: skip
    for r in report.layers:
        rf = r.rf
        p = prediction.layers[r.path] if prediction else None
        writer.writerow([r.path, r.name, r.kind, fmt.shape(r.output, "x"), r.params, r.macs, r.flops, r.activations,
                         r.bytes_moved, fmt.axes(rf.size, "x") if rf else "", fmt.axes(rf.stride, "x") if rf else "",
                         fmt.axes(rf.padding, "x") if rf else "", "" if r.coverage is None else fmt.number(r.coverage)]
                        + ([p.ms, p.bound, "" if p.intensity is None else p.intensity] if p else [])
                        + (training_cells(r.macs, r.training) if training else []) + ([r.live] if live else []))  # fmt: skip
    t = report.totals
    writer.writerow(["TOTAL", report.model, "", fmt.shape(report.totals.output, "x"), t.params, t.macs, t.flops,
                     t.activations, t.bytes_moved, fmt.axes(t.rf.size, "x") if t.rf else "",
                     fmt.axes(t.rf.stride, "x") if t.rf else "", fmt.axes(t.rf.padding, "x") if t.rf else "",
                     "" if t.coverage is None else fmt.number(t.coverage)]
                    + ([prediction.total_ms, "", ""] if prediction else [])
                    + (_total_training(report) if training else []) + ([t.peak_memory_bytes] if live else []))  # fmt: skip
    return out.getvalue()


def md_table(header: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    right = right or set()
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def report_markdown(report: Report, prediction: Prediction | None = None) -> str:
    rows = [[r.name, r.kind, fmt.shape(r.output), fmt.count(r.params), fmt.count(r.macs), fmt.count(r.activations),
             fmt.rf_text(r.rf), fmt.percent(r.coverage)] for r in report.layers]  # fmt: skip
    t = report.totals
    rows.append(["**total**", "", fmt.shape(report.totals.output), f"**{fmt.count(t.params)}**",
                 f"**{fmt.count(t.macs)}**", fmt.count(t.activations), fmt.rf_text(t.rf), fmt.percent(t.coverage)])  # fmt: skip
    text = f"### {report.model} — input {fmt.shape(report.input)}, batch {report.batch}, {report.dtype}\n\n"
    text += md_table(["layer", "kind", "output", "params", "MACs", "activations", "RF /stride", "coverage"], rows, {3, 4, 5, 7})
    text += (f"\nparams {t.params:,} · MACs {t.macs:,} · FLOPs {t.flops:,} · peak memory {fmt.nbytes(t.peak_memory_bytes)}"
             f" · bytes moved {fmt.nbytes(t.bytes_moved)}\n")  # fmt: skip
    if report.memory is not None:
        text += f"\n{peak_line(report)}\n"
    if t.training is not None:
        from .training import TRAINING, memory_line, training_line, training_rows

        body, total = training_rows(report)
        text += f"\n{training_line(report)}\n\n{memory_line(report)}\n\n" + md_table(
            [c.header for c in TRAINING], body + [total], {1, 2, 3, 4, 5}
        )
    text += "".join(f"\n> ⚠ {w}" for w in report.warnings) + ("\n" if report.warnings else "")
    if prediction is not None:
        from . import predicted

        body, total = predicted.rows(report, prediction)
        text += f"\n#### {predicted.heading(prediction, report.batch)}\n\n"
        text += md_table([c.header.replace("\n", " ") for c in predicted.COLUMNS], [[f"`{c}`" if i >= 4 else c for i, c in enumerate(row)]
                         for row in body] + [total], {1, 2})  # fmt: skip
        text += f"\n{predicted.summary_line(prediction)}\n"
    return text
