"""Receptive fields and coverage, exactly, per spatial axis.

Araujo et al. (Distill 2019): r = 1 + Σ (k_l − 1)·Π_{i<l} s_i, S = Π s_l, P = Σ p_l·Π_{i<l} s_i,
with the dilated kernel d(k − 1) + 1; the field of output u starts at input u·S − P.

Beyond the size we keep the *footprint*: the set of input offsets (from the field's start) that
one output actually reads, as a bitset in a Python int. Through a layer of taps j·d (j < k) it
becomes ∪_j F << (j·d·S) — a Minkowski sum — so holes (gridding) are seen exactly and the cost
stays linear in the number of layers. Up-sampling layers (transposed convs, upsample) read a
phase-dependent set of inputs; they are kept as steps of a chain that maps a set of output
positions back to the inputs it reads, taking the phase that reads the most (SPEC: a window of
r outputs of a transposed conv reads at most ⌈(r + k − 1)/s⌉ inputs).
"""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple, Union


class Down(NamedTuple):
    """A window of ``k`` taps ``d`` apart, stride ``s``, left padding ``lo`` (conv, pool)."""

    k: int = 1
    s: int = 1
    d: int = 1
    lo: int = 0


class Up(NamedTuple):
    """Up-sampling by ``s``: a transposed conv (k, d, left padding lo) or nearest/bilinear upsample."""

    mode: str  # "transposed" | "nearest" | "bilinear"
    s: int
    k: int = 1
    d: int = 1
    lo: int = 0

    def offset(self) -> Fraction:
        """The layer's own effective padding p_l, in its input's units."""
        if self.mode == "transposed":
            return Fraction(self.d * (self.k - 1) - self.lo, self.s)
        if self.mode == "bilinear":
            return Fraction(self.s - 1, 2 * self.s)
        return Fraction(0)

    def reads(self, out_positions: int, phase: int) -> int:
        """Bitset of the inputs read by the outputs in ``out_positions`` (bitset, first at ``phase``)."""
        found: set[int] = set()
        for w in _bits(out_positions):
            o = phase + w
            if self.mode == "transposed":
                for j in range(self.k):
                    t = o + self.lo - j * self.d
                    if t % self.s == 0:
                        found.add(t // self.s)
            elif self.mode == "nearest":
                found.add(o // self.s)
            else:  # bilinear, align_corners=False: x = (o + ½)/s − ½ reads ⌊x⌋ and, unless exact, ⌊x⌋ + 1
                x = Fraction(2 * o + 1 - self.s, 2 * self.s)
                found.add(x.numerator // x.denominator)
                if x.denominator != 1:
                    found.add(x.numerator // x.denominator + 1)
        if not found:  # e.g. odd outputs of a stride-2, dilation-2 transposed conv read nothing
            return 0
        low = min(found)
        bitset = 0
        for i in found:
            bitset |= 1 << (i - low)
        return bitset


Step = Union[Down, Up]
IDENTITY = Down()


class Affine(NamedTuple):
    """A run of integer-stride layers: cumulative stride S and footprint F (bit i = offset i)."""

    S: int
    F: int

    def then(self, step: Down) -> Affine:
        footprint, shift = 0, step.d * self.S
        if self.F & (self.F + 1) == 0 and shift <= self.F.bit_length():  # contiguous stays contiguous
            footprint = (1 << (self.F.bit_length() + shift * (step.k - 1))) - 1
        else:
            for j in range(step.k):
                footprint |= self.F << (j * shift)
        return Affine(self.S * step.s, footprint)

    def reads(self, out_positions: int) -> int:
        if out_positions == 1:
            return self.F
        bitset = 0
        for w in _bits(out_positions):
            bitset |= self.F << (w * self.S)
        return bitset


def _bits(bitset: int) -> list[int]:
    return [i for i in range(bitset.bit_length()) if bitset >> i & 1]


class AxisField(NamedTuple):
    """The receptive field along one axis of one layer's output, w.r.t. the network input."""

    chain: tuple[Affine | Up, ...] = (Affine(1, 1),)
    stride: Fraction = Fraction(1)
    padding: Fraction = Fraction(0)

    def then(self, step: Step) -> AxisField:
        if isinstance(step, Up):
            return AxisField(self.chain + (step,), self.stride / step.s, self.padding + step.offset() * self.stride)
        last = self.chain[-1]
        chain = self.chain[:-1] + (last.then(step),) if isinstance(last, Affine) else self.chain + (Affine(1, 1).then(step),)
        return AxisField(chain, self.stride * step.s, self.padding + step.lo * self.stride)

    def footprint(self) -> int:
        """Bitset of the input offsets one output reads (the phase reading most at each up-sampling)."""
        positions = 1
        for element in reversed(self.chain):
            if isinstance(element, Affine):
                positions = element.reads(positions)
            else:
                options = (element.reads(positions, phase) for phase in range(element.s))
                positions = max(options, key=lambda b: (b.bit_length(), b.bit_count()))
        return positions

    @property
    def simple(self) -> bool:
        return len(self.chain) == 1


class Field(NamedTuple):
    """Receptive field of one output, all spatial axes."""

    axes: tuple[AxisField, ...]

    @classmethod
    def start(cls, ndim: int) -> Field:
        return cls((AxisField(),) * ndim)

    def then(self, steps: tuple[Step, ...]) -> Field:
        return Field(tuple(a.then(s) for a, s in zip(self.axes, steps)))

    def summary(self) -> tuple[tuple[int, ...], tuple[Fraction, ...], tuple[Fraction, ...], Fraction]:
        """(size, stride, padding) per axis and the coverage (product over axes: kernels are grids)."""
        sizes, coverage = [], Fraction(1)
        for axis in self.axes:
            fp = axis.footprint()
            sizes.append(fp.bit_length())
            coverage *= Fraction(fp.bit_count(), fp.bit_length()) if fp else 0
        return tuple(sizes), tuple(a.stride for a in self.axes), tuple(a.padding for a in self.axes), coverage


def merge(fields: list[Field]) -> tuple[Field, bool]:
    """Merge branch fields: union of footprints when they align exactly, else the largest.

    Returns the merged field and whether the branches' centres or strides differ (a warning).
    """
    axes, misaligned = [], False
    for per_axis in zip(*(f.axes for f in fields)):
        centres = {(Fraction(a.footprint().bit_length() - 1, 2) - a.padding) for a in per_axis}
        strides = {a.stride for a in per_axis}
        misaligned |= len(centres) > 1 or len(strides) > 1
        if len(strides) == 1 and all(a.simple and a.padding.denominator == 1 for a in per_axis):
            top = max(a.padding for a in per_axis)
            footprint = 0
            for a in per_axis:
                footprint |= a.chain[0].F << int(top - a.padding)  # type: ignore[union-attr]
            axes.append(AxisField((Affine(per_axis[0].chain[0].S, footprint),), per_axis[0].stride, top))  # type: ignore[union-attr]
        else:
            axes.append(max(per_axis, key=lambda a: a.footprint().bit_length()))
    return Field(tuple(axes)), misaligned
