"""Stack → Report: per-leaf records, totals, peak memory, receptive fields, coverage, warnings.

Pure: no printing, no numpy, no torch. Counts are exact Python ints, for ``batch`` samples.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any, NamedTuple

from .arith import prod
from .errors import ConvcostError
from .gcpause import paused
from .graph import Concat, Leaf, Node, Residual, Stack
from .rf import MAX_BITS, Field, merge
from .runs import dilated_runs

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int8": 1}


class Rf(NamedTuple):
    """Receptive field per spatial axis: size r, effective stride S, effective padding P."""

    size: tuple[int, ...]
    stride: tuple[Fraction, ...]
    padding: tuple[Fraction, ...]


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
    def __init__(self, batch: int, nbytes: int) -> None:
        self.batch, self.nbytes = batch, nbytes
        self.records: list[LayerRecord] = []
        self.warnings: list[str] = []
        self.last_field: Field | None = None  # of the last layer before the first global one
        self.closed = False  #: a field was too large to enumerate (warned once)

    def record(self, node: Node, kind: str, inputs: int, params: int, macs: int, field: Field | None) -> None:
        out = prod(node.out_shape)
        rf, coverage = None, None
        if field is not None:
            size, stride, padding, coverage = field.summary()
            rf = Rf(size, stride, padding)
            self.last_field = field
            if coverage is None and not self.closed:
                self.closed = True
                self.warnings.append(f"{node.name}: the receptive field passes {MAX_BITS:,} offsets per axis (or an up-sampling "
                                     "too large to map back): from here its size is the closed form and coverage is not "
                                     "computed")  # fmt: skip
        moved = (self.batch * (inputs + out) + params) * self.nbytes
        self.records.append(LayerRecord(node.path, node.name, kind, node.out_shape, params, macs * self.batch,
                                        out * self.batch, moved, rf, coverage))  # fmt: skip

    def many(self, nodes: tuple[Node, ...], field: Field | None) -> Field | None:
        for node in nodes:
            field = self.one(node, field)
        return field

    def one(self, node: Node, field: Field | None) -> Field | None:
        if isinstance(node, Leaf):
            op, shape = node.op, node.in_shape
            steps = op.rf_steps()
            field = None if field is None or steps is None else field.then(steps)
            self.record(node, op.kind, prod(shape), op.params(shape), op.macs(shape, node.out_shape), field)
            return field
        branches = (node.body, node.shortcut) if isinstance(node, Residual) else node.branches
        fields = [self.many(branch, field) for branch in branches]
        merged = None
        if all(f is not None for f in fields):
            merged, misaligned = merge(fields)  # type: ignore[arg-type]  # None ruled out just above
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


def analyze(stack: Stack, *, batch: int = 1, dtype: str = "float32") -> Report:
    """Exact costs of every leaf layer and in total, for ``batch`` samples of ``dtype``."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ConvcostError(f"--batch: expected a positive integer, found {batch!r}")
    with paused():
        return _analyze(stack, batch, dtype)


def _analyze(stack: Stack, batch: int, dtype: str) -> Report:
    nbytes = dtype_bytes(dtype)
    walk = _Walk(batch, nbytes)
    walk.many(stack.layers, Field.start(stack.ndim))
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
    )
    return Report(stack.name, stack.input, dtype, batch, records, totals, tuple(walk.warnings))
