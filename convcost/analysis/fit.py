"""`convcost fit`: the configurations of a stack — widths × input sizes (analysis.scaling) —
that fit a budget, the largest first (MACs, the usual proxy for accuracy), each analysed
exactly; and which of them no other fitting one beats on every count (the Pareto front)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, NamedTuple

from ..errors import ConvcostError
from ..gcpause import paused
from ..model.graph import Budget, Stack
from .report import analyze
from .scaling import MAX_WIDTH, MIN_WIDTH, scaled

MEASURES = ("params", "macs", "flops", "peak_memory")  #: the limits fit takes, as check names them


class Point(NamedTuple):
    width: Fraction
    input: tuple[int, ...]
    values: dict[str, int] | None  #: params, macs, flops, peak_memory (None: it does not build)
    fits: bool
    error: str | None = None  #: why this width or size does not build


class Fitted(NamedTuple):
    model: str
    limits: dict[str, int]
    memory_plan: str | None
    points: tuple[Point, ...]  #: every point of the grid, the fitting ones first, largest MACs first
    front: frozenset[int]  #: indices (in points) of the Pareto front among the fitting ones

    @property
    def best(self) -> Point | None:
        return self.points[0] if self.points and self.points[0].fits else None


def default_widths() -> list[Fraction]:
    """0.1 to 2 in steps of 0.05."""
    return [Fraction(k, 20) for k in range(2, 41)]


def default_sizes(stack: Stack) -> list[int]:
    """Multiples of the network's total stride from half to 1.5 × the file's largest spatial size."""
    stride = _stride(stack)
    size = max(stack.input[1:], default=0)
    if not size:
        return []
    low, high = max(stride, -(-size // 2 // stride) * stride), size * 3 // 2
    return [s for s in range(low, high + 1, stride)] or [size]


def _stride(stack: Stack) -> int:
    report = analyze(stack)
    rf = report.totals.rf
    axis = _axis(stack)
    along = rf.stride[axis] if rf is not None else 1  # along the axis --sizes gives
    return along if isinstance(along, int) else 1


def _axis(stack: Stack) -> int:
    """The spatial axis --sizes gives: the largest (the last of equals: W of a square, not a clip's frames)."""
    spatial = stack.input[1:]
    return max(range(len(spatial)), key=lambda i: (spatial[i], i))


def spatial_for(stack: Stack, size: int) -> tuple[int, ...]:
    """Every spatial axis scaled as the largest is to ``size`` (a square input stays square)."""
    axis = _axis(stack)
    largest = stack.input[1 + axis]
    return tuple(size if i == axis else max(1, round(n * size / largest)) for i, n in enumerate(stack.input[1:]))


def fit(stack: Stack, budget: Budget, widths: list[Fraction], sizes: list[int] | None, *, divisor: int = 8, batch: int = 1,
        dtype: str = "float32", memory_plan: str | None = None) -> Fitted:  # fmt: skip
    limits = {name: getattr(budget, name) for name in MEASURES if getattr(budget, name) is not None}
    if not limits:
        raise ConvcostError("fit: give a limit to fit: --max-macs, --max-params, --max-flops or --max-peak-memory")
    with paused():
        grid: list[int | None] = list(sizes) if sizes else [None]
        points = [_point(stack, w, s, limits, divisor, batch, dtype, memory_plan) for w in widths for s in grid]
    points = _distinct(points)
    points.sort(key=lambda p: (not p.fits, -(p.values or {}).get("macs", 0), (p.values or {}).get("params", 0)))
    fitting = [i for i, p in enumerate(points) if p.fits]
    front = frozenset(i for i in fitting if not any(_beats(points[j], points[i]) for j in fitting if j != i))
    return Fitted(stack.name, limits, memory_plan, tuple(points), front)


def _distinct(points: list[Point]) -> list[Point]:
    """One point per network: widths that round to the same channels give the same one (kept: the
    width nearest 1)."""
    kept: dict[tuple[object, ...], Point] = {}
    for p in sorted(points, key=lambda p: abs(p.width - 1)):
        key = (p.input, tuple(sorted(p.values.items()))) if p.values else (p.input, p.width)
        kept.setdefault(key, p)
    return list(kept.values())


def _beats(a: Point, b: Point) -> bool:
    """a has at least b's MACs with no more params and peak memory, and is better in one."""
    x, y = a.values or {}, b.values or {}
    no_worse = x["macs"] >= y["macs"] and x["params"] <= y["params"] and x["peak_memory"] <= y["peak_memory"]
    return no_worse and (x["macs"], -x["params"], -x["peak_memory"]) != (y["macs"], -y["params"], -y["peak_memory"])


def _point(stack: Stack, width: Fraction, size: int | None, limits: dict[str, int], divisor: int, batch: int, dtype: str,
           memory_plan: str | None) -> Point:  # fmt: skip
    spatial = spatial_for(stack, size) if size is not None else None
    shape = stack.input if spatial is None else (stack.input[0], *spatial)
    try:
        report = analyze(scaled(stack, width, spatial, divisor), batch=batch, dtype=dtype, memory_plan=memory_plan)
    except ConvcostError as exc:
        return Point(width, shape, None, False, exc.message)
    t = report.totals
    values = {"params": t.params, "macs": t.macs, "flops": t.flops, "peak_memory": t.peak_memory_bytes}
    return Point(width, shape, values, all(values[k] <= v for k, v in limits.items()))


def parse_widths(text: str) -> list[Fraction]:
    """'0.5,0.75,1' → the multipliers; each above 0."""
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            value = Fraction(part)
        except (ValueError, ZeroDivisionError):
            raise ConvcostError(f"--widths: expected multipliers such as 0.5,0.75,1, found '{part}'") from None
        if not MIN_WIDTH <= value <= MAX_WIDTH:
            raise ConvcostError(f"--widths: a width multiplier is from {float(MIN_WIDTH):g} to {MAX_WIDTH}, found {part}")
        out.append(value)
    if not out:
        raise ConvcostError("--widths: expected multipliers such as 0.5,0.75,1")
    return out


def parse_sizes(text: str) -> list[int]:
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if not part.isdigit() or int(part) < 1:
            raise ConvcostError(f"--sizes: expected positive input sizes such as 128,160,192, found '{part}'")
        out.append(int(part))
    if not out:
        raise ConvcostError("--sizes: expected positive input sizes such as 128,160,192")
    return out


def point_dict(p: Point, front: bool) -> dict[str, Any]:
    return {"width": float(p.width), "input": list(p.input), **(p.values or {}), "fits": p.fits, "pareto": front,
            **({"error": p.error} if p.error else {})}  # fmt: skip
