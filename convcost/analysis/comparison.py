"""Reports side by side: the standard design and its rewrites (or another file), aligned by layer.

A row is one layer of the standard design (replacement parts ``path/part`` count toward the
layer they replace); a layer only the other design has gets its own row.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any, NamedTuple

from ..arith import prod
from ..gcpause import paused
from ..kinds.groups import SHORTHAND
from ..model.graph import Stack, leaves
from .report import Report, analyze
from .rewrite import closed_form, rewrite

if TYPE_CHECKING:
    from ..device.profiles import Profile
    from ..device.roofline import Prediction


class Variant(NamedTuple):
    name: str
    report: Report
    changed: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    closed_form: str | None = None
    closed_form_ok: bool | None = None  #: every changed layer's MAC ratio equals the closed form


class Row(NamedTuple):
    path: str
    name: str  #: the layer's human name (of the first design that has it)
    kind: str
    cells: tuple[tuple[int, int] | None, ...]  #: (params, macs) per variant; None: absent there


class Comparison(NamedTuple):
    variants: tuple[Variant, ...]
    stacks: tuple[Stack, ...] = ()  #: the stack of each variant, for execution
    predictions: tuple[Prediction, ...] = ()  #: per variant, on a device profile (roofline)

    def predicted(self, profile: Profile) -> Comparison:
        """The same comparison with each design's time predicted on ``profile``."""
        from ..device.roofline import predict

        return self._replace(predictions=tuple(predict(s, v.report, profile) for v, s in zip(self.variants, self.stacks)))

    def predicted_speedup(self, index: int) -> float | None:
        if not self.predictions or not self.predictions[index].total_ms:
            return None
        return self.predictions[0].total_ms / self.predictions[index].total_ms

    @property
    def rows(self) -> tuple[Row, ...]:
        """The designs aligned by layer (built when a table asks: JSON does not need them)."""
        return _rows(list(self.variants))

    def with_reports(self, reports: list[Report]) -> Comparison:
        """The same comparison with each variant's report replaced (e.g. measured)."""
        return self._replace(variants=tuple(v._replace(report=r) for v, r in zip(self.variants, reports)))

    def ratio(self, index: int) -> Fraction | None:
        """Total MACs of variant ``index`` over the standard's."""
        base = self.variants[0].report.totals.macs
        return Fraction(self.variants[index].report.totals.macs, base) if base else None


def row_key(path: str) -> str:
    """The layer a record counts toward: replacement parts (``path/dw``) and the norm and
    activation that ``bn:``/``act:`` appended (``path.bn``, ``path.relu``) join their conv's row."""
    path = path.split("/")[0]
    head, _, last = path.rpartition(".")
    return head if last in SHORTHAND and head.endswith("]") else path


def _rows(variants: list[Variant]) -> tuple[Row, ...]:
    order: list[str] = []
    kinds: dict[str, str] = {}
    names: dict[str, str] = {}
    sums: list[dict[str, tuple[int, int]]] = []
    for variant in variants:
        table: dict[str, tuple[int, int]] = {}
        for record in variant.report.layers:
            key = row_key(record.path)
            if key not in kinds:
                order.append(key)
                kinds[key] = record.kind
                names[key] = record.name.split("/")[0]
            params, macs = table.get(key, (0, 0))
            table[key] = (params + record.params, macs + record.macs)
        sums.append(table)
    return tuple(Row(key, names[key], kinds[key], tuple(t.get(key) for t in sums)) for key in order)


def _closed_form_holds(stack: Stack, name: str, result_stack: Stack, changed: tuple[str, ...]) -> bool | None:
    """Check the closed form on every changed layer: separable:M M/out + M/k², grouped:G 1/G."""
    base, _, arg = name.partition(":")
    if closed_form(name) is None or not changed:
        return None
    before = {leaf.path: leaf for leaf in leaves(stack.layers)}
    after: dict[str, int] = {}
    for leaf in leaves(result_stack.layers):
        if "/" in leaf.path and not leaf.path.endswith("/shuffle"):
            after[row_key(leaf.path)] = after.get(row_key(leaf.path), 0) + leaf.op.macs(leaf.in_shape, leaf.out_shape)
    for path in changed:
        layer = before[path]
        op = layer.op
        original = op.macs(layer.in_shape, layer.out_shape)
        if base == "separable":
            expected = int(arg or 1) * (Fraction(1, op.out) + Fraction(1, prod(op.kernel)))  # type: ignore[attr-defined]  # separable changes only Conv layers (out, kernel)
        else:
            expected = Fraction(1, int(arg.split("+")[0]))
        if Fraction(after[path], original) != expected:
            return False
    return True


def compare(stack: Stack, rewrites: list[str] | tuple[str, ...], *, batch: int = 1, dtype: str = "float32", training: bool = False,
            optimizer: str | None = None, memory_plan: str | None = None) -> Comparison:  # fmt: skip
    """The standard design beside each rewrite; ``training``, ``optimizer`` and ``memory_plan`` as analyze takes them."""
    with paused():
        return _compare(stack, rewrites, batch, dtype, {"training": training, "optimizer": optimizer, "memory_plan": memory_plan})


def _compare(stack: Stack, rewrites: list[str] | tuple[str, ...], batch: int, dtype: str, options: dict[str, Any]) -> Comparison:
    memo: dict[object, object] = {}
    variants = [Variant("standard", analyze(stack, batch=batch, dtype=dtype, memo=memo, **options))]
    stacks = [stack]
    for spec in rewrites:
        result = rewrite(stack, spec)
        stacks.append(result.stack)
        variants.append(Variant(result.name, analyze(result.stack, batch=batch, dtype=dtype, memo=memo, **options), result.changed, result.skipped,
                                closed_form(result.name), _closed_form_holds(stack, result.name, result.stack, result.changed)))  # fmt: skip
    return Comparison(tuple(variants), tuple(stacks))


def compare_files(stack: Stack, other: Stack, other_name: str, *, batch: int = 1, dtype: str = "float32", training: bool = False,
                  optimizer: str | None = None, memory_plan: str | None = None) -> Comparison:  # fmt: skip
    """Two hand-written designs side by side, aligned by layer path where they match."""
    options: dict[str, Any] = {"training": training, "optimizer": optimizer, "memory_plan": memory_plan}
    variants = [
        Variant("standard", analyze(stack, batch=batch, dtype=dtype, **options)),
        Variant(other_name, analyze(other, batch=batch, dtype=dtype, **options)),
    ]
    return Comparison(tuple(variants), (stack, other))
