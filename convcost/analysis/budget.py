"""Report + Budget → Findings: each limit checked, and growth against a baseline."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ..errors import ConvcostError, ExitCode, Mark
from ..model.graph import MEMORY_PLANS, OPTIMIZERS, Budget, Stack
from ..model.runs import Run
from ..units import parse_bytes, parse_count
from .report import Report

if TYPE_CHECKING:
    from ..device.profiles import Profile


class Check(NamedTuple):
    name: str  #: params, macs, flops, peak_memory, min_rf, gridding, predicted_ms, or growth of params/macs
    limit: int | float
    value: int | float
    ok: bool
    minimum: bool = False  #: a floor (min_rf) rather than a ceiling
    mark: Mark | None = None  #: where the limit is set in the YAML (None: from a flag)
    baseline: int | None = None  #: growth checks: the baseline's total (the limit allows the tolerance on top)

    @property
    def headroom(self) -> Fraction | None:
        """(limit − value) / limit, or (value − limit) / limit for a floor; None without a limit."""
        if not self.limit:
            return None
        gap = self.value - self.limit if self.minimum else self.limit - self.value
        return Fraction(gap) / Fraction(self.limit)


class Growth(NamedTuple):
    path: str
    name: str
    kind: str
    params: tuple[int, int]  #: (baseline, now)
    macs: tuple[int, int]


class Findings(NamedTuple):
    model: str
    source: str | None
    checks: tuple[Check, ...]
    growth: tuple[Growth, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None  #: the file could not be checked (bad input): this line says why

    @property
    def ok(self) -> bool:
        return self.error is None and all(c.ok for c in self.checks)

    @property
    def exit_code(self) -> ExitCode:
        """What ``convcost check`` exits with for this file: 0 within, 1 over, 2 bad input."""
        return ExitCode.BAD_INPUT if self.error else ExitCode.OK if self.ok else ExitCode.FAIL


def parse_increase(text: str) -> Fraction:
    """'5%' → 1/20; '0.5%' → 1/200. A bare number is refused: 0.05 could mean 5 % or 0.05 %."""
    if not text.strip().endswith("%"):
        raise ConvcostError(f"--max-increase: '{text}' has no unit; write a percentage with %, e.g. {text.strip()}% or "
                            f"{_as_percent(text)}")  # fmt: skip
    raw = text.strip().removesuffix("%").strip()
    try:
        value = Fraction(raw)
    except (ValueError, ZeroDivisionError):
        raise ConvcostError(f"--max-increase: expected a percentage such as 5%, found '{text}'") from None
    if value < 0:
        raise ConvcostError(f"--max-increase: expected a non-negative percentage, found '{text}'")
    return value / 100


def _as_percent(text: str) -> str:
    try:
        return f"{float(Fraction(text.strip()) * 100):g}% if you meant a fraction"
    except (ValueError, ZeroDivisionError):
        return "5%"


def override(budget: Budget, flags: dict[str, str | bool | None]) -> Budget:
    """The YAML budget with command-line limits on top (flags win; their marks are dropped)."""
    parsers = {"params": parse_count, "macs": parse_count, "flops": parse_count, "peak_memory": parse_bytes,
               "min_rf": parse_count, "training_macs": parse_count, "training_memory": parse_bytes}  # fmt: skip
    values, marks = budget._asdict(), dict(budget.marks)
    for name, raw in flags.items():
        if raw is None or raw is False:
            continue
        if name == "no_gridding":
            values[name] = True
        elif name in ("memory_plan", "optimizer"):
            options = MEMORY_PLANS if name == "memory_plan" else OPTIMIZERS
            if raw not in options:
                raise ConvcostError(f"--{name.replace('_', '-')}: expected one of {', '.join(options)}, found '{raw}'")
            values[name] = raw
        else:
            flag = "--min-rf" if name == "min_rf" else f"--max-{name.replace('_', '-')}"
            digits = str(raw).strip().replace("_", "")
            if name in ("peak_memory", "training_memory") and digits.isascii() and digits.isdigit():
                raise ConvcostError(f"{flag}: '{raw}' has no unit; write {raw}B for bytes, or {raw}MiB, {raw}MB, …")
            try:
                values[name] = parsers[name](raw)
            except ConvcostError as exc:
                raise ConvcostError(f"{flag}: {exc.message}") from None
        marks.pop(name, None)
    values["marks"] = marks
    return Budget(**values)


def evaluate(report: Report, runs: list[Run], budget: Budget, source: str | None = None) -> Findings:
    t, marks = report.totals, budget.marks
    checks: list[Check] = []
    step = t.macs + t.training.macs if t.training is not None else None
    memory = t.training.saved + report.state.total if t.training is not None and report.state is not None else None
    for name, value in (("params", t.params), ("macs", t.macs), ("flops", t.flops), ("peak_memory", t.peak_memory_bytes),
                        ("training_macs", step), ("training_memory", memory)):  # fmt: skip
        limit = getattr(budget, name)
        if limit is not None and value is not None:
            checks.append(Check(name, limit, value, value <= limit, mark=marks.get(name)))
    if budget.min_rf is not None:
        value = min(t.rf.size) if t.rf is not None else 0
        checks.append(Check("min_rf", budget.min_rf, value, value >= budget.min_rf, minimum=True, mark=marks.get("min_rf")))
    if budget.no_gridding:
        gridding = sum(1 for run in runs if run.grids)
        checks.append(Check("gridding", 0, gridding, gridding == 0, mark=marks.get("no_gridding")))
    return Findings(report.model, source, tuple(checks))


def against_baseline(findings: Findings, now: Report, before: Report, tolerance: Fraction, label: str) -> Findings:
    """Fail when params or MACs grew past ``tolerance`` (a fraction) over the baseline."""
    checks = list(findings.checks)
    for name in ("params", "macs"):
        old, new = getattr(before.totals, name), getattr(now.totals, name)
        limit = old * (1 + tolerance)
        bound = int(limit) if limit.denominator == 1 else float(limit)
        checks.append(Check(f"{name}_increase", bound, new, new <= limit, baseline=old))
    old_layers = {r.name: r for r in before.layers}
    growth = []
    for r in now.layers:
        prior = old_layers.get(r.name)
        was = (prior.params, prior.macs) if prior else (0, 0)
        if r.params > was[0] or r.macs > was[1]:
            growth.append(Growth(r.path, r.name, r.kind, (was[0], r.params), (was[1], r.macs)))
    return findings._replace(
        checks=tuple(checks),
        growth=tuple(growth),
        notes=findings.notes
        + (f"baseline: {label}: params {before.totals.params:,}, MACs {before.totals.macs:,}; growth = (now − baseline) ÷ baseline",),
    )


def check_file(model: Path, flags: dict[str, str | bool | None], baseline: str | None, tolerance: Fraction, batch: int,
               dtype: str, predicted: tuple[Profile, float] | None = None,
               reshape: Callable[[Stack], Stack] | None = None) -> Findings:  # fmt: skip
    """Load, analyse and check one file; a bad file becomes Findings with ``error`` set, so the
    other files are still checked and reported. ``predicted``: (a device profile, the most
    milliseconds the roofline may predict for the whole stack on it); ``reshape``: --width and
    --input, applied to the file and its baseline alike."""
    from ..model.program import lower
    from ..model.runs import dilated_runs
    from ..yamlio.spec import load
    from .baseline import load_baseline
    from .report import analyze

    try:
        stack = load(model)
        stack = reshape(stack) if reshape is not None else stack
        budget = override(stack.budget, flags)
        if budget.memory_plan is not None and budget.peak_memory is None:
            raise ConvcostError(
                f"memory plan {budget.memory_plan} (--memory-plan, budget memory_plan): takes effect only with a "
                "peak_memory limit (--max-peak-memory, budget peak_memory)"
            )
        if budget.optimizer is not None and budget.training_memory is None:
            raise ConvcostError(
                f"optimizer {budget.optimizer} (--optimizer, budget optimizer): takes effect only with a "
                "training_memory limit (--max-training-memory, budget training_memory)"
            )
        training = budget.training_macs is not None or budget.training_memory is not None
        report = analyze(stack, batch=batch, dtype=dtype, training=training, memory_plan=budget.memory_plan,
                         optimizer=budget.optimizer if training else None)  # fmt: skip
        if not budget.limits and baseline is None and predicted is None:
            raise ConvcostError("nothing to check: no `budget:` in the file and no --max-…/--min-rf/--no-gridding/--baseline flag")
        findings = evaluate(report, dilated_runs(lower(stack)), budget, str(model))
        if budget.training_memory is not None and report.state is not None:
            findings = findings._replace(notes=findings.notes + (f"training memory with the {report.state.optimizer} optimizer",))
        if report.memory is not None:
            where = f" at {report.memory.at}" if report.memory.at else ""
            findings = findings._replace(notes=findings.notes + (f"peak memory under the {report.memory.plan} memory plan{where}",))
        if predicted is not None:
            from ..device.roofline import predict

            profile, limit = predicted
            ms = predict(stack, report, profile).total_ms
            findings = findings._replace(checks=findings.checks + (Check("predicted_ms", limit, ms, ms <= limit),),
                                         notes=findings.notes + (f"predicted on {profile.name} ({profile.id}), {dtype}, batch {batch}",))  # fmt: skip
        if baseline is not None:
            before, label = load_baseline(baseline, model)
            if before is None:
                return findings._replace(notes=findings.notes + (f"new at {label.split(' at ')[-1]}: no baseline",))
            before = reshape(before) if reshape is not None else before
            findings = against_baseline(findings, report, analyze(before, batch=batch, dtype=dtype), tolerance, label)
        return findings
    except ConvcostError as exc:
        message = str(exc) if exc.mark else f"{model}: {exc}"
        return Findings(model.stem, str(model), (), error=message)
