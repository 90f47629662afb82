"""analyze --training's rows and line: forward, ∂input, ∂weights and step MACs per layer."""

from __future__ import annotations

from ..analysis.report import Report
from ..analysis.training import Backward
from . import fmt
from .fit import Column

TRAINING = [Column("layer", right=False, keep=True), Column("forward"), Column("∂input"), Column("∂weights"), Column("step"),
            Column("saved"), Column("weights", right=False)]  # fmt: skip


def training_rows(report: Report) -> tuple[list[list[str]], list[str]]:
    """Per layer: forward MACs, the backward's gradients of activations and of weights, their sum;
    whether its weights are trained (frozen, or none)."""

    def cells(name: str, params: int, macs: int, b: Backward) -> list[str]:
        state = "" if not params else "trained" if b.trained else "frozen"
        return [name, fmt.count(macs), fmt.count(b.grad_input), fmt.count(b.grad_weights), fmt.count(macs + b.macs), fmt.nbytes(b.saved),
                state]  # fmt: skip

    rows = [cells(r.name, r.params, r.macs, r.training) for r in report.layers if r.training is not None]
    t = report.totals
    return rows, cells("total", 0, t.macs, t.training) if t.training is not None else []


def training_line(report: Report) -> str:
    t = report.totals
    assert t.training is not None
    b, step = t.training, t.macs + t.training.macs
    ratio = f" ({step / t.macs:.2f}× the forward)" if t.macs else ""
    frozen = f"; frozen: {', '.join(report.frozen)}" if report.frozen else ""
    return (f"training step, batch {report.batch}: MACs {step:,} = forward {t.macs:,} + ∂input {b.grad_input:,} + ∂weights "
            f"{b.grad_weights:,}{ratio}{frozen}")  # fmt: skip


def memory_line(report: Report) -> str:
    """The training step's memory: what the backward needs kept, and the model's state."""
    t, s = report.totals.training, report.state
    assert t is not None and s is not None
    master = f" + float32 master weights {fmt.nbytes(s.master)}" if s.master else ""
    return (f"training memory: saved for backward {fmt.nbytes(t.saved)} + weights {fmt.nbytes(s.weights)} + gradients "
            f"{fmt.nbytes(s.gradients)} + {s.optimizer} state {fmt.nbytes(s.optimizer_state)}{master} = "
            f"{fmt.nbytes(t.saved + s.total)} ({t.saved + s.total:,} B)")  # fmt: skip
