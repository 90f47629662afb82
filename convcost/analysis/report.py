"""Stack → Report: per-leaf records, totals, peak memory, receptive fields, coverage, warnings.

Pure: no printing, no numpy, no torch. Counts are exact Python ints, for ``batch`` samples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any, NamedTuple

from ..arith import prod
from ..errors import ConvcostError
from ..gcpause import paused
from ..model.graph import Concat, Leaf, Node, Residual, Stack, channels_last
from ..model.rf import MAX_BITS, Field, merge
from ..model.runs import dilated_runs

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

    @property
    def flops(self) -> int:
        return 2 * self.macs


class Totals(NamedTuple):
    params: int
    macs: int
    activations: int
    peak_memory_bytes: int
    bytes_moved: int
    rf: Rf | None
    coverage: Fraction | None
    measured: Mapping[str, Any] | None = None
    output: tuple[int, ...] = ()  #: the model's output shape (per sample)

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


def dtype_bytes(dtype: str) -> int:
    if dtype not in DTYPE_BYTES:
        raise ConvcostError(f"--dtype: expected one of {', '.join(DTYPE_BYTES)}, found '{dtype}'")
    return DTYPE_BYTES[dtype]


class _Walk:
    def __init__(self, batch: int, nbytes: int, memo: dict[Any, Any] | None = None) -> None:
        self.batch, self.nbytes, self.memo = batch, nbytes, memo
        self.records: list[LayerRecord] = []
        self.warnings: list[str] = []
        self.last_field: Field | None = None  # of the last layer before the first global one
        self.closed = False  #: a field was too large to enumerate (warned once)

    def record(self, node: Node, kind: str, inputs: int, params: int, macs: int, field: Field | None) -> None:
        if self.memo is not None:  # an equal record made before (a rebuilt residual around rewritten layers): the same object
            key = ("record", node.path, node.name, kind, node.out_shape, inputs, params, macs, id(field))
            seen = self.memo.get(key)
            if seen is None:
                self.memo[key] = seen = self.build(node, kind, inputs, params, macs, field)
            self.add(seen, node, field)
            return
        self.add(self.build(node, kind, inputs, params, macs, field), node, field)

    def build(self, node: Node, kind: str, inputs: int, params: int, macs: int, field: Field | None) -> LayerRecord:
        out = prod(node.out_shape)
        rf, coverage = None, None
        if field is not None:
            size, stride, padding, coverage = self.remembered(("summary", id(field)), field.summary)
            rf = Rf(size, stride, padding)
        moved = (self.batch * (inputs + out) + params) * self.nbytes
        return LayerRecord(node.path, node.name, kind, node.out_shape, params, macs * self.batch, out * self.batch, moved, rf, coverage)

    def add(self, record: LayerRecord, node: Node, field: Field | None) -> None:
        self.records.append(record)
        if field is not None:
            self.last_field = field
            if record.coverage is None and not self.closed:
                self.closed = True
                self.warnings.append(f"{node.name}: the receptive field passes {MAX_BITS:,} offsets per axis (or an up-sampling "
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

    def merged(self, fields: list[Field]) -> tuple[Field, bool]:
        field, misaligned = merge(fields)
        return self.canonical(field), misaligned

    def many(self, nodes: tuple[Node, ...], field: Field | None) -> Field | None:
        for node in nodes:
            field = self.one(node, field)
        return field

    def one(self, node: Node, field: Field | None) -> Field | None:
        if isinstance(node, Leaf):
            op, shape = node.op, node.in_shape
            steps = op.rf_steps()
            if field is not None and steps is not None:
                before = field
                field = self.remembered(("then", id(before), steps), lambda: self.canonical(before.then(steps)))
            elif steps is None:
                field = None
            self.record(node, op.kind, prod(shape), op.params(shape), op.macs(shape, node.out_shape), field)
            if op.UNCOUNTED:
                self.warnings.append(f"{node.name}: {op.describe_uncounted()} is not counted (no convcost kind): the totals leave it out")
            return field
        if self.memo is None:
            return self.composite(node, field)
        key, closed = ("node", id(node), id(field)), self.closed  # a whole subtree that a rewrite left alone: replayed
        seen = self.memo.get(key)
        if seen is not None and seen[0] is node and seen[1] == closed:
            _, _, records, warnings, last, closed, merged = seen
            self.records += records
            self.warnings += warnings
            self.last_field, self.closed = last, closed
            return merged  # type: ignore[no-any-return]  # the memo holds the subtree's merged field
        first, said = len(self.records), len(self.warnings)
        merged = self.composite(node, field)
        self.memo[key] = (node, closed, self.records[first:], self.warnings[said:], self.last_field, self.closed, merged)
        return merged

    def composite(self, node: Residual | Concat, field: Field | None) -> Field | None:
        branches = (node.body, node.shortcut) if isinstance(node, Residual) else node.branches
        fields = [self.many(branch, field) for branch in branches]
        merged = None
        if all(f is not None for f in fields):
            merged, misaligned = self.remembered(("merge", *map(id, fields)), lambda: self.merged(fields))  # type: ignore[arg-type]  # None ruled out just above
            if misaligned:
                self.warnings.append(f"{node.name}: the branches' receptive fields differ in centre or stride; "
                                     "the largest is kept")  # fmt: skip
        inputs = sum(prod(b[-1].out_shape) if b else prod(node.in_shape) for b in branches)
        self.record(node, "residual" if isinstance(node, Residual) else "concat", inputs, 0, 0, merged)
        return merged


class _Memory:
    """Reference-counted liveness of activation tensors, in elements of one sample."""

    def __init__(self) -> None:
        self.size: dict[int, int] = {}
        self.refs: dict[int, int] = {}
        self.total = self.peak = 0

    def alloc(self, size: int) -> int:
        token = len(self.size) + 1
        while token in self.size:
            token += 1
        self.size[token], self.refs[token] = size, 1
        self.total += size
        self.peak = max(self.peak, self.total)
        return token

    def ref(self, token: int, n: int = 1) -> None:
        self.refs[token] += n

    def unref(self, token: int) -> None:
        self.refs[token] -= 1
        if not self.refs[token]:
            self.total -= self.size.pop(token)
            del self.refs[token]

    def run(self, nodes: tuple[Node, ...], x: int) -> int:
        """Run ``nodes`` on tensor x (consuming one reference); returns the output tensor."""
        for node in nodes:
            if isinstance(node, Leaf):
                y = self.alloc(prod(node.out_shape))
                self.unref(x)
                x = y
            elif isinstance(node, Residual):
                self.ref(x)
                body = self.run(node.body, x)
                shortcut = self.run(node.shortcut, x)
                self.unref(shortcut)  # added in place into the body's output
                x = body
            else:
                assert isinstance(node, Concat)
                self.ref(x, len(node.branches) - 1)
                outs = [self.run(branch, x) for branch in node.branches]
                y = self.alloc(prod(node.out_shape))
                for out in outs:
                    self.unref(out)
                x = y
        return x


def peak_elements(stack: Stack) -> int:
    """The largest number of activation elements alive at once (one sample), input included."""
    memory = _Memory()
    memory.run(stack.layers, memory.alloc(prod(stack.input)))
    return memory.peak


def _rates(run_rates: tuple[tuple[int, ...], ...]) -> str:
    return ",".join(str(r[0]) if len(set(r)) == 1 else "x".join(map(str, r)) for r in run_rates)


def analyze(stack: Stack, *, batch: int = 1, dtype: str = "float32", memo: dict[Any, Any] | None = None) -> Report:
    """Exact costs of every leaf layer and in total, for ``batch`` samples of ``dtype``. Analyses
    that share a ``memo`` (a dict) reuse each other's receptive-field steps (compare)."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ConvcostError(f"--batch: expected a positive integer, found {batch!r}")
    with paused():
        return _analyze(stack, batch, dtype, memo)


def _analyze(stack: Stack, batch: int, dtype: str, memo: dict[Any, Any] | None) -> Report:
    nbytes = dtype_bytes(dtype)
    walk = _Walk(batch, nbytes, memo)
    walk.warnings += filter(None, [channels_last(stack.input)])
    walk.many(stack.layers, walk.remembered(("start", stack.ndim), lambda: Field.start(stack.ndim)))
    for run in dilated_runs(stack.layers):
        if run.grids:
            kernels = {k for per in run.kernels for k in per}
            kernel = f" --kernel {kernels.pop()}" if len(kernels) == 1 else ""
            holes = ", ".join(f"{'some' if h < 0 else h} of {s}" for h, s in zip(run.holes, run.sizes))
            walk.warnings.append(f"gridding: {', '.join(run.names)} (dilation rates {_rates(run.rates)}) leave holes in "
                                 f"their receptive field ({holes} offsets unread per axis); see "
                                 f"`convcost hdc-check {_rates(run.rates)}{kernel}`")  # fmt: skip
    records = tuple(walk.records)
    last = walk.last_field
    rf, coverage = None, None
    if last is not None:
        size, stride, padding, coverage = last.summary()
        rf = Rf(size, stride, padding)
    totals = Totals(
        params=sum(r.params for r in records),
        macs=sum(r.macs for r in records),
        activations=sum(r.activations for r in records),
        peak_memory_bytes=peak_elements(stack) * batch * nbytes,
        bytes_moved=sum(r.bytes_moved for r in records),
        rf=rf,
        coverage=coverage,
        output=tuple(stack.output),
    )
    return Report(stack.name, stack.input, dtype, batch, records, totals, tuple(walk.warnings))
