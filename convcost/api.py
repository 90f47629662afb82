"""The Python API: what the commands do, as functions that return results instead of printing.

``summary(model, input_size)`` takes a live ``torch.nn.Module`` (the way torchinfo, fvcore and
ptflops are called), through the same reader and checks as ``convcost import``; the others take
a model file's path, YAML text through ``loads``, or a loaded ``Stack``. Results are frozen
values; a ``Summary`` prints as the table, converts to plain data, and shows as HTML in a notebook.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analysis.report import Report
from .analysis.report import analyze as _analyze
from .model.graph import Stack

if TYPE_CHECKING:
    from .analysis.budget import Findings
    from .analysis.comparison import Comparison
    from .analysis.hdc import HdcReport
    from .device.roofline import Prediction

Model = Stack | str | Path  #: a loaded stack, or a model file's path


def _stack(model: Model) -> Stack:
    if isinstance(model, Stack):
        return model
    from .yamlio.spec import load

    return load(Path(model))


class Summary:
    """A model's analysis (and its roofline prediction, with a device profile): ``print()`` shows
    the per-layer table, ``to_dict()`` the JSON data, ``_repr_html_`` a table in a notebook."""

    def __init__(self, stack: Stack, report: Report, prediction: Prediction | None = None) -> None:
        self.stack, self.report, self.prediction = stack, report, prediction

    @property
    def totals(self) -> Any:
        return self.report.totals

    @property
    def layers(self) -> tuple[Any, ...]:
        return self.report.layers

    def __str__(self) -> str:
        import io

        from rich.console import Console

        from .output import UNCUT
        from .render.table import report_table

        out = io.StringIO()
        Console(file=out, width=UNCUT, no_color=True, color_system=None).print(report_table(self.report, None, self.prediction))
        return out.getvalue()

    def __repr__(self) -> str:
        t = self.report.totals
        return f"<convcost.Summary {self.report.model}: {t.params:,} params, {t.macs:,} MACs, output {list(t.output)}>"

    def to_dict(self) -> dict[str, Any]:
        from .render.machine import report_dict

        return report_dict(self.report, prediction=self.prediction)

    def _repr_html_(self) -> str:
        from html import escape

        from .render.table import COLUMNS, layer_rows

        rows, total = layer_rows(self.report, measured=False, wrap=False)
        head = "".join(f"<th>{escape(c.header.replace(chr(10), ' '))}</th>" for c in COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in [*rows, total])
        t = self.report.totals
        return (f"<p><b>{escape(self.report.model)}</b>: {t.params:,} params, {t.macs:,} MACs</p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")  # fmt: skip


def summary(model: Any, input_size: Sequence[int], *, batch: int = 1, dtype: str = "float32", device_profile: str | None = None,
            name: str | None = None, allow_unknown: bool = False) -> Summary:  # fmt: skip
    """The analysis of a live ``torch.nn.Module`` for one sample of ``input_size`` (channels first,
    no batch: ``(3, 224, 224)``): traced as ``convcost import`` traces it, every layer's output
    shape and params checked against the module. A ConvcostError says what cannot be read."""
    from .errors import ConvcostError
    from .interop import aten_ops
    from .interop.read import parse_input, to_yaml
    from .yamlio.spec import loads

    if isinstance(input_size, (str, bytes)) or not all(isinstance(n, int) and not isinstance(n, bool) for n in input_size):
        raise ConvcostError(f"input_size: expected a sequence of ints such as (3, 224, 224), found {input_size!r}")
    shape = parse_input(",".join(str(n) for n in input_size))
    ops = aten_ops.read(model, shape, allow_unknown=allow_unknown)
    stack = loads(to_yaml(ops, name or type(model).__name__, ""))
    return _summarised(stack, batch, dtype, device_profile)


def _summarised(stack: Stack, batch: int, dtype: str, device_profile: str | None) -> Summary:
    report = _analyze(stack, batch=batch, dtype=dtype)
    return Summary(stack, report, predict(stack, device_profile, report=report) if device_profile else None)


def analyze(model: Model, *, batch: int = 1, dtype: str = "float32", memo: dict[Any, Any] | None = None, training: bool = False,
            freeze: Sequence[str] = (), memory_plan: str | None = None, optimizer: str | None = None) -> Report:  # fmt: skip
    """Per-layer records, totals and warnings of a model (a Stack or a model file's path); with
    ``training``, each layer's backward MACs (``record.training``), the layers ``freeze`` names
    not trained (as ``--training --freeze``) and ``optimizer``'s state (``report.state``); with ``memory_plan`` (``"unfused"``, ``"fused"``,
    ``"inplace"``), the peak under that plan (``report.memory``, ``record.live``)."""
    return _analyze(_stack(model), batch=batch, dtype=dtype, memo=memo, training=training, freeze=tuple(freeze),
                    memory_plan=memory_plan, optimizer=optimizer)  # fmt: skip


def predict(model: Model, device_profile: str, *, batch: int = 1, dtype: str = "float32", report: Report | None = None) -> Prediction:
    """The roofline prediction on a device profile (a built-in id such as ``"t4"``, a saved one, or a file)."""
    from .device.profiles import find
    from .device.roofline import predict as roofline

    stack = _stack(model)
    return roofline(stack, report or _analyze(stack, batch=batch, dtype=dtype), find(device_profile))


def compare(model: Model, rewrites: Sequence[str] | None = None, *, other: Model | None = None, batch: int = 1,
            dtype: str = "float32", training: bool = False, optimizer: str | None = None,
            memory_plan: str | None = None) -> Comparison:  # fmt: skip
    """The model beside its rewrites (default separable, grouped:4, bottleneck:4) or beside ``other``;
    ``training``, ``optimizer`` and ``memory_plan`` as analyze takes them."""
    options: dict[str, Any] = {"training": training, "optimizer": optimizer, "memory_plan": memory_plan}
    from .analysis import comparison as comparing
    from .analysis.rewrite import DEFAULT

    stack = _stack(model)
    if other is not None:
        second = _stack(other)
        return comparing.compare_files(stack, second, second.name, batch=batch, dtype=dtype, **options)
    return comparing.compare(stack, list(rewrites or DEFAULT), batch=batch, dtype=dtype, **options)


def check(model: str | Path, *, baseline: str | None = None, max_increase: str = "0%", batch: int = 1, dtype: str = "float32",
          **limits: str | bool | None) -> Findings:  # fmt: skip
    """A model file against its ``budget:``; ``limits`` override it as the flags do: ``params="5M"``,
    ``macs``, ``flops``, ``peak_memory="64MiB"``, ``min_rf``, ``no_gridding=True``, ``training_macs``. The result's
    ``ok`` and ``exit_code`` say what ``convcost check`` would."""
    from .analysis import budget as rules
    from .errors import ConvcostError

    known = [f for f in rules.Budget._fields if f != "marks"]  # the limits a budget: or a --max-… flag sets
    unknown = set(limits) - set(known)
    if unknown:
        raise ConvcostError(f"check: unknown limit '{sorted(unknown)[0]}' ({', '.join(known)})")
    rules.override(rules.Budget(), dict(limits))
    return rules.check_file(Path(model), dict(limits), baseline, rules.parse_increase(max_increase), batch, dtype)


def hdc_check(rates: str | Sequence[int], kernel: int = 3) -> HdcReport:
    """Does a stack of dilated stride-1 convs with these rates (``"1,2,5"`` or ``[1, 2, 5]``) grid?"""
    from .analysis import hdc

    return hdc.check(hdc.parse_rates(rates) if isinstance(rates, str) else tuple(rates), kernel)
