"""Gridding of stacked dilated convolutions: the HDC rules and the ground truth.

Wang et al., "Understanding Convolution for Semantic Segmentation" (WACV 2018) give the M rule
(M_n = r_n, M_i = max(M_{i+1} − 2r_i, M_{i+1} − 2(M_{i+1} − r_i), r_i), goal M_2 ≤ K), the
common-factor rule (gcd > 1 always grids) and the saw-tooth advice (1,2,5 repeated). They are
heuristics. The truth is the footprint: the offsets Σ r_i·t_i, |t_i| ≤ (K − 1)/2, that reach one
output; the stack grids when that set has holes. It is order-free, and equals the closed form:
sorted ascending, r_(1) = 1 and r_(j) ≤ 1 + (K − 1)·Σ_{i<j} r_(i).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import NamedTuple

from ..errors import ConvcostError, ExitCode

MAX_FIELD = 1_000_000  # receptive fields larger than this are refused (the footprint is enumerated)


class HdcReport(NamedTuple):
    rates: tuple[int, ...]
    kernel: int
    gcd: int
    M: tuple[int, ...]  #: the M chain of each group, one after the other
    m2: int
    hdc_ok: bool
    receptive_field: int
    paths: tuple[int, ...]  #: number of paths reaching each offset −h..h (h = (rf − 1)/2)
    holes: tuple[int, ...]  #: offsets (from the centre) that no path reaches
    sawtooth: bool
    suggestions: tuple[tuple[int, ...], ...]
    notes: tuple[str, ...]  #: where a rule disagrees with the truth
    groups: tuple[tuple[int, ...], ...] = ()  #: the increasing groups the M rule is applied to

    @property
    def gridding(self) -> bool:
        return bool(self.holes)

    @property
    def exit_code(self) -> ExitCode:
        """What ``convcost hdc-check`` exits with: 1 when the stack grids, else 0."""
        return ExitCode.FAIL if self.holes else ExitCode.OK

    @property
    def coverage(self) -> Fraction:
        """Fraction of the 2-D field (square kernels) that is reached: (1-D coverage)²."""
        return Fraction(self.receptive_field - len(self.holes), self.receptive_field) ** 2


def m_chain(rates: tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """M_1..M_n of the M rule (order matters)."""
    chain = [rates[-1]]
    for r in reversed(rates[:-1]):
        m = chain[0]
        chain.insert(0, max(m - 2 * r, m - 2 * (m - r), r))
    return tuple(chain)


def groups(rates: tuple[int, ...] | list[int]) -> tuple[tuple[int, ...], ...]:
    """The saw-tooth's teeth: maximal strictly increasing runs (1,2,5,1,2,5 → 1,2,5 | 1,2,5).
    The paper states the M rule for one such group of dilated layers."""
    out: list[list[int]] = []
    for r in rates:
        if out and out[-1][-1] < r:
            out[-1].append(r)
        else:
            out.append([r])
    return tuple(tuple(g) for g in out)


def m2(rates: tuple[int, ...] | list[int]) -> int:
    """The M rule's M_2 (M_1 for a one-layer group), the largest over the groups: it passes when
    this is ≤ K."""
    return _largest_second(tuple(m_chain(g) for g in groups(rates)))


def _largest_second(chains: tuple[tuple[int, ...], ...]) -> int:
    return max(_second(chain) for chain in chains)


def _second(chain: tuple[int, ...]) -> int:
    return chain[1] if len(chain) > 1 else chain[0]


def receptive_field(rates: tuple[int, ...] | list[int], kernel: int) -> int:
    """1 + (K − 1)·Σ r: the span of the footprint."""
    return 1 + (kernel - 1) * sum(rates)


def footprint_paths(rates: tuple[int, ...] | list[int], kernel: int) -> list[int]:
    """Number of (t_1..t_n) with Σ r_i·t_i = o, for o = −h..h: the ground truth, by enumeration."""
    half = (kernel - 1) // 2
    counts = [1]
    for r in rates:
        grown = [0] * (len(counts) + 2 * half * r)
        for offset, n in enumerate(counts):
            if n:
                for t in range(kernel):
                    grown[offset + t * r] += n
        counts = grown
    return counts


def closed_form_ok(rates: tuple[int, ...] | list[int], kernel: int) -> bool:
    """No holes iff, sorted, the smallest rate is 1 and each is ≤ 1 + (K − 1)·(sum of the smaller)."""
    total = 0
    for r in sorted(rates):
        if r > 1 + (kernel - 1) * total:
            return False
        total += r
    return True


def is_sawtooth(rates: tuple[int, ...]) -> bool:
    """A strictly increasing group of ≥ 2 rates, alone or repeated (1,2,5 or 1,2,5,1,2,5)."""
    teeth = groups(rates)
    return len(teeth[0]) >= 2 and all(t == teeth[0] for t in teeth)


def acceptable(rates: tuple[int, ...], kernel: int) -> bool:
    """Free of holes (the truth) and passing the M rule."""
    return closed_form_ok(rates, kernel) and m2(rates) <= kernel


def suggest(rates: tuple[int, ...], kernel: int, limit: int = 3) -> tuple[tuple[int, ...], ...]:
    """Nearby rate lists (same length, receptive field close to this one) with no holes that pass
    the M rule, best first: closest total rate, then the fewest changes."""
    n, total = len(rates), sum(rates)
    radius = next(r for r in (3, 2, 1, 0) if (2 * r + 1) ** n <= 20_000 or r == 0)
    windows = [range(max(1, r - radius), r + radius + 1) for r in rates]
    candidates = set(itertools.product(*windows)) if radius else set()
    candidates.add(_repair(rates, kernel))
    candidates.update(_repair(p, kernel) for p in itertools.islice(itertools.permutations(rates), 24))
    found = [c for c in candidates if c != rates and acceptable(c, kernel)]
    found.sort(key=lambda c: (abs(sum(c) - total), sum(abs(a - b) for a, b in zip(c, rates)), c))
    # the ground truth verifies every suggestion before it is shown
    return tuple(c for c in found[:limit] if not any(n == 0 for n in footprint_paths(c, kernel)))


def _repair(rates: tuple[int, ...], kernel: int) -> tuple[int, ...]:
    """Left to right, each rate clipped to what keeps the prefix free of holes; then raise the
    last rates while the M rule holds, to keep the field close."""
    out: list[int] = []
    for r in rates:
        bound = 1 + (kernel - 1) * sum(out)
        out.append(max(1, min(r, bound)))
    while len(out) > 1 and m2(out) > kernel and out[-1] > 1:
        out[-1] -= 1
    return tuple(out)


MAX_RATES = 256  #: longer rate lists are refused (the exact count grows with rates × field)


def parse_rates(text: str) -> tuple[int, ...]:
    """'1,2,5' → (1, 2, 5); anything else is an input error."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > MAX_RATES:
        raise ConvcostError(f"rates: at most {MAX_RATES} rates, found {len(parts):,}")
    shown = text if len(text) <= 40 else text[:37] + "..."
    if any(not (p.isascii() and p.isdigit()) or len(p) > 9 or int(p) < 1 for p in parts):
        raise ConvcostError(f"rates: expected positive integers (up to 9 digits) separated by commas (1,2,5), found '{shown}'")
    return tuple(int(p) for p in parts)


def check(rates: tuple[int, ...] | list[int], kernel: int = 3) -> HdcReport:
    """Every rule, the ground truth, and (when it grids) suggestions."""
    rates = tuple(rates)
    if not rates or len(rates) > MAX_RATES or any(isinstance(r, bool) or not isinstance(r, int) or r < 1 for r in rates):
        raise ConvcostError(f"rates: expected 1 to {MAX_RATES} positive integers, found {len(rates)} values")
    if isinstance(kernel, bool) or not isinstance(kernel, int) or kernel < 1 or kernel % 2 == 0:
        raise ConvcostError(f"--kernel: expected an odd positive integer, found {kernel}")
    field = receptive_field(rates, kernel)
    if field > MAX_FIELD:
        raise ConvcostError(f"the receptive field {field:,} is larger than {MAX_FIELD:,}; refusing to enumerate it")
    paths = footprint_paths(rates, kernel)
    half = (len(paths) - 1) // 2
    holes = tuple(i - half for i, n in enumerate(paths) if n == 0)
    teeth = groups(rates)
    chains = tuple(m_chain(g) for g in teeth)
    chain = tuple(m for c in chains for m in c)
    m_two = _largest_second(chains)
    hdc_ok, gcd = m_two <= kernel, math.gcd(*rates)
    notes = []
    if hdc_ok and holes:
        notes.append(f"the M rule passes (M_2 = {m_two} ≤ K = {kernel}) but the stack grids: {len(holes)} holes")
    if not hdc_ok and not holes:
        notes.append(f"the M rule fails (M_2 = {m_two} > K = {kernel}) but there are no holes")
    if gcd == 1 and holes and len(rates) > 1:
        notes.append("the rates share no common factor (gcd 1), yet the stack grids")
    return HdcReport(rates, kernel, gcd, chain, m_two, hdc_ok, len(paths), tuple(paths), holes,
                     is_sawtooth(rates), suggest(rates, kernel) if holes else (), tuple(notes), teeth)  # fmt: skip
