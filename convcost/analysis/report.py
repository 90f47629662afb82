"""Stack → Program → Report: per-node records, totals, peak memory, receptive fields, coverage, warnings.

Pure: no printing, no numpy, no torch. Counts are exact Python ints, for ``batch`` samples.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any, NamedTuple

from ..arith import prod
from ..errors import ConvcostError
from ..gcpause import paused
from ..model.graph import Stack, channels_last
from ..model.program import Program, Step, lower
from ..model.rf import MAX_BITS, Field, merge
from ..model.runs import dilated_runs
from . import memory
from .training import OPTIMIZERS, Backward, State, backward, state

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int8": 1}


class Rf(NamedTuple):
    """Receptive field per spatial axis: size r, effective stride S, effective padding P."""

    size: tuple[int, ...]
    stride: tuple[Fraction | int, ...]  #: an int unless up-sampling made it fractional
    padding: tuple[Fraction | int, ...]


class LayerRecord(NamedTuple):
    path: str
    name: str
    kind: str
    output: tuple[int, ...]
    params: int
    macs: int
    activations: int
    bytes_moved: int
    rf: Rf | None
    coverage: Fraction | None
    measured: Mapping[str, Any] | None = None
    training: Backward | None = None  #: its backward MACs (analyze --training)
    live: int | None = None  #: bytes alive while it runs, under the memory plan asked for (--memory-plan)

    @property
    def flops(self) -> int:
        return 2 * self.macs


class Output(NamedTuple):
    """One tensor the model returns (a model with ``outputs:`` or several inputs lists each)."""

    name: str
    shape: tuple[int, ...]
    rf: Rf | None
    coverage: Fraction | None


class Totals(NamedTuple):
    params: int
    macs: int
    activations: int
    peak_memory_bytes: int
    bytes_moved: int
    rf: Rf | None
    coverage: Fraction | None
    measured: Mapping[str, Any] | None = None
    output: tuple[int, ...] = ()  #: the model's (first) output shape (per sample)
    outputs: tuple[Output, ...] = ()  #: every output, when the file names them (``outputs:``) or has several inputs
    training: Backward | None = None  #: the backward pass of one training step (analyze --training)

    @property
    def flops(self) -> int:
        return 2 * self.macs


class Report(NamedTuple):
    model: str
    input: tuple[int, ...]
    dtype: str
    batch: int
    layers: tuple[LayerRecord, ...]
    totals: Totals
    warnings: tuple[str, ...]
    inputs: tuple[tuple[str, tuple[int, ...]], ...] = ()  #: (name, shape) of each input when the file has several (``inputs:``)
    frozen: tuple[str, ...] = ()  #: the names --freeze gave (with training)
    state: State | None = None  #: weights, gradients and optimizer state (with training)
    memory: Peak | None = None  #: where the peak is reached, under the plan asked for (--memory-plan)


class Peak(NamedTuple):
    """Where a memory plan's peak is reached: the layer and the tensors alive there."""

    plan: str
    at: str  #: the layer's name ('' : the inputs alone)
    alive: tuple[tuple[str, tuple[int, ...], int], ...]  #: (the layer or input that wrote it, its shape, bytes)


def dtype_bytes(dtype: str) -> int:
    if dtype not in DTYPE_BYTES:
        raise ConvcostError(f"--dtype: expected one of {', '.join(DTYPE_BYTES)}, found '{dtype}'")
    return DTYPE_BYTES[dtype]


class _Walk:
    def __init__(self, batch: int, nbytes: int, memo: dict[Any, Any] | None = None) -> None:
        self.batch, self.nbytes, self.memo = batch, nbytes, memo
        self.records: list[LayerRecord] = []
        self.warnings: list[str] = []
        self.closed = False  #: a field was too large to enumerate (warned once)
        self.origins: list[frozenset[int]] = []  #: per tensor, the inputs it derives from (set by run)

    def record(self, step: Step, inputs: int, params: int, macs: int, field: Field | None) -> None:
        if self.memo is not None:  # an equal record made before (a layer a rewrite left alone): the same object
            key = ("record", step.path, step.name, step.op.kind, step.out_shape, inputs, params, macs, id(field))
            seen = self.memo.get(key)
            if seen is None:
                self.memo[key] = seen = self.build(step, inputs, params, macs, field)
            self.add(seen, step, field)
            return
        self.add(self.build(step, inputs, params, macs, field), step, field)

    def build(self, step: Step, inputs: int, params: int, macs: int, field: Field | None) -> LayerRecord:
        out = prod(step.out_shape)
        rf, coverage = None, None
        if field is not None:
            size, stride, padding, coverage = self.remembered(("summary", id(field)), field.summary)
            rf = Rf(size, stride, padding)
        moved = (self.batch * (inputs + out) + params) * self.nbytes
        return LayerRecord(step.path, step.name, step.op.kind, step.out_shape, params, macs * self.batch, out * self.batch, moved, rf,
                           coverage)  # fmt: skip

    def add(self, record: LayerRecord, step: Step, field: Field | None) -> None:
        self.records.append(record)
        if field is not None:
            if record.coverage is None and not self.closed:
                self.closed = True
                self.warnings.append(f"{step.name}: the receptive field passes {MAX_BITS:,} offsets per axis (or an up-sampling "
                                     "too large to map back): from here its size is the closed form and coverage is not "
                                     "computed")  # fmt: skip

    def remembered(self, key: Any, compute: Callable[[], Any]) -> Any:
        """compute(), or what it gave for the same key in an earlier analysis sharing the memo
        (compare: the designs share most layers and receptive fields). Every field comes from the
        memo, so a field's id() names its value: keys are ids, not values (hashing a field walks
        its footprints)."""
        if self.memo is None:
            return compute()
        value = self.memo.get(key)
        if value is None:
            value = self.memo[key] = compute()
        return value

    def canonical(self, field: Field) -> Field:
        """The first field of this value the memo saw (hashing the value only when it is new), so
        that a rewritten layer that gives the same field puts the layers after it back on the ids."""
        return field if self.memo is None else self.memo.setdefault(("field", field), field)

    def then(self, field: Field, steps: tuple[Any, ...]) -> Field:
        return self.canonical(field.then(steps))

    def merged(self, fields: list[Field]) -> tuple[Field, bool]:
        field, misaligned = merge(fields)
        return self.canonical(field), misaligned

    @staticmethod
    def one_frame(program: Program, inputs: frozenset[int]) -> bool:
        """Whether fields from these inputs share one frame: inputs of one spatial size (aligned
        images, as RGB and depth). A tensor mixing inputs of different sizes has no field."""
        return len({program.inputs[i][1][1:] for i in inputs}) == 1

    def run(self, program: Program, start: Field) -> list[Field | None]:
        """Every tensor's receptive field (None: global), recording each step."""
        fields: list[Field | None] = [start] * len(program.inputs)
        origins = [frozenset((i,)) for i in range(len(program.inputs))]  #: the inputs each tensor derives from
        for step in program.steps:
            op = step.op
            ins = [fields[t] for t in step.inputs]
            origins.append(frozenset().union(*(origins[t] for t in step.inputs)))
            if op.MERGE and len(ins) > 1:
                field = None
                if all(f is not None for f in ins) and self.one_frame(program, origins[-1]):
                    field, misaligned = self.remembered(("merge", *map(id, ins)), functools.partial(self.merged, ins))  # type: ignore[arg-type]  # None ruled out just above
                    if misaligned and len({origins[t] for t in step.inputs}) == 1:  # fields of different inputs are not compared
                        self.warnings.append(f"{step.name}: the branches' receptive fields differ in centre or stride; "
                                             "the largest is kept")  # fmt: skip
                ins = [field]
            steps = op.rf_steps()
            field = ins[0]
            if field is not None and steps is not None:
                before = field
                field = self.remembered(("then", id(before), steps), functools.partial(self.then, before, steps))
            elif steps is None:
                field = None
            params, macs = op.params(step.in_shape), op.macs(step.in_shape, step.out_shape)
            self.record(step, sum(map(prod, step.in_shapes)), params, macs, field)
            if op.UNCOUNTED and (params or macs):
                self.warnings.append(f"{step.name}: {op.describe_uncounted()} has no convcost kind: counted as torch counts it")
            elif op.UNCOUNTED:
                self.warnings.append(f"{step.name}: {op.describe_uncounted()} is not counted (no convcost kind): the totals leave it out")
            fields.append(field)
        self.origins = origins
        return fields


def _extractor_field(program: Program, fields: list[Field | None]) -> Field | None:
    """The feature extractor's field (SPEC §2): of the last step with a field that the (first)
    output depends on — in a chain, the last layer before the first global one. (None where that
    output mixes inputs of different sizes: no one input's positions.)"""
    needed = program.upstream(program.outputs[:1])
    return next((fields[t] for t in sorted(needed, reverse=True) if fields[t] is not None and t >= len(program.inputs)), None)


def _outputs(program: Program, fields: list[Field | None], walk: _Walk, written: tuple[str, ...]) -> tuple[Output, ...]:
    """Every output's record, named as ``outputs:`` names it (else by its layer)."""
    found = []
    for i, t in enumerate(program.outputs):
        field = fields[t]
        name = (
            written[i]
            if i < len(written)
            else program.inputs[t][0]
            if t < len(program.inputs)
            else program.steps[t - len(program.inputs)].name
        )
        rf, coverage = None, None
        if field is not None:
            size, stride, padding, coverage = walk.remembered(("summary", id(field)), field.summary)
            rf = Rf(size, stride, padding)
        found.append(Output(name, program.shape(t), rf, coverage))
    return tuple(found)


def _rates(run_rates: tuple[tuple[int, ...], ...]) -> str:
    return ",".join(str(r[0]) if len(set(r)) == 1 else "x".join(map(str, r)) for r in run_rates)


def analyze(stack: Stack, *, batch: int = 1, dtype: str = "float32", memo: dict[Any, Any] | None = None, training: bool = False,
            freeze: tuple[str, ...] = (), memory_plan: str | None = None, optimizer: str | None = None) -> Report:  # fmt: skip
    """Exact costs of every leaf layer and in total, for ``batch`` samples of ``dtype``. Analyses
    that share a ``memo`` (a dict) reuse each other's receptive-field steps (compare). With
    ``training``: each layer's backward MACs too, the layers ``freeze`` names not trained. With
    ``memory_plan`` (analysis.memory.PLANS): the peak under that plan, where it is reached and the
    bytes alive per layer (None: the unfused peak alone)."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ConvcostError(f"--batch: expected a positive integer, found {batch!r}")
    if freeze and not training:
        raise ConvcostError("--freeze: takes effect only with --training")
    if optimizer is not None and not training:
        raise ConvcostError("--optimizer: takes effect only with --training")
    if optimizer is not None and optimizer not in OPTIMIZERS:
        raise ConvcostError(f"--optimizer: expected one of {', '.join(OPTIMIZERS)}, found '{optimizer}'")
    if training and dtype == "int8":
        raise ConvcostError("--training: int8 is an inference type; train in float32, float16 or bfloat16 (16-bit: mixed precision)")
    if memory_plan is not None and memory_plan not in memory.PLANS:
        raise ConvcostError(f"--memory-plan: expected one of {', '.join(memory.PLANS)}, found '{memory_plan}'")
    with paused():
        return _analyze(stack, batch, dtype, memo, training, tuple(freeze), memory_plan, optimizer or "sgd")


def _analyze(stack: Stack, batch: int, dtype: str, memo: dict[Any, Any] | None, training: bool = False,
             freeze: tuple[str, ...] = (), plan_name: str | None = None, optimizer: str = "sgd") -> Report:  # fmt: skip
    nbytes = dtype_bytes(dtype)
    walk = _Walk(batch, nbytes, memo)
    walk.warnings += filter(None, [channels_last(shape) for _, shape in stack.all_inputs])
    program = lower(stack)
    readers = program.readers()
    walk.warnings += [f"input '{name}' is read by no layer" for i, (name, _) in enumerate(program.inputs) if not readers[i]]
    fields = walk.run(program, walk.remembered(("start", stack.ndim), lambda: Field.start(stack.ndim)))
    for run in dilated_runs(program):
        if run.grids:
            kernels = {k for per in run.kernels for k in per}
            kernel = f" --kernel {kernels.pop()}" if len(kernels) == 1 else ""
            holes = ", ".join(f"{'some' if h < 0 else h} of {s}" for h, s in zip(run.holes, run.sizes))
            walk.warnings.append(f"gridding: {', '.join(run.names)} (dilation rates {_rates(run.rates)}) leave holes in "
                                 f"their receptive field ({holes} offsets unread per axis); see "
                                 f"`convcost hdc-check {_rates(run.rates)}{kernel}`")  # fmt: skip
    records = tuple(walk.records)
    trained = kept = None
    if training:
        passes, said = backward(program, batch, freeze, nbytes)
        walk.warnings += said
        records = tuple(r._replace(training=b) for r, b in zip(records, passes))
        trained = Backward(sum(b.grad_input for b in passes), sum(b.grad_weights for b in passes), any(b.trained for b in passes),
                           sum(b.saved for b in passes))  # fmt: skip
        kept = state(program, passes, optimizer, nbytes)
    plan = memory.memory_plan(program, plan_name or memory.DEFAULT)
    peak = None
    if plan_name is not None:
        records = tuple(r._replace(live=live * batch * nbytes) for r, live in zip(records, plan.live))
        peak = Peak(plan.plan, program.steps[plan.at].name if plan.at >= 0 else "",
                    tuple(_tensor(program, t, batch * nbytes) for t in memory.alive_at_peak(program, plan)))  # fmt: skip
    last = _extractor_field(program, fields) if walk.one_frame(program, walk.origins[program.outputs[0]]) else None
    rf, coverage = None, None
    if last is not None:
        size, stride, padding, coverage = last.summary()
        rf = Rf(size, stride, padding)
    totals = Totals(
        params=sum(r.params for r in records),
        macs=sum(r.macs for r in records),
        activations=sum(r.activations for r in records),
        peak_memory_bytes=plan.peak * batch * nbytes,
        bytes_moved=sum(r.bytes_moved for r in records),
        rf=rf,
        coverage=coverage,
        output=tuple(stack.output),
        outputs=_outputs(program, fields, walk, stack.output_names) if (stack.outputs or stack.inputs) else (),
        training=trained,
    )
    return Report(
        stack.name, stack.input, dtype, batch, records, totals, tuple(walk.warnings), stack.inputs, freeze, state=kept, memory=peak
    )


def _tensor(program: Program, t: int, scale: int) -> tuple[str, tuple[int, ...], int]:
    """(the input or layer that wrote tensor ``t``, its shape, its bytes for the batch)."""
    n = len(program.inputs)
    name, shape = program.inputs[t] if t < n else (program.steps[t - n].name, program.steps[t - n].out_shape)
    return name, tuple(shape), prod(shape) * scale
