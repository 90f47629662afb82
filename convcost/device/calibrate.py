"""Measure this machine for the roofline: achievable matmul throughput, memory bandwidth, and how
far below the roofline each class of layer runs on a backend (its efficiency).

Efficiency of a class = the plain roofline's time for a representative layer ÷ its measured
time, with the peak and bandwidth just measured; ``roofline.predict`` divides by it. Grouped
convs are measured at several widths (channels per group), as their speed depends on it.
"""

from __future__ import annotations

import datetime
import platform
import time
from collections.abc import Callable
from typing import Any

from ..errors import printable
from .profiles import Profile

#: class → a representative layer (YAML), run at the calibration batch size
LAYERS: dict[str, str] = {
    "conv": "input: [128, 28, 28]\nlayers: [conv: {out: 128, kernel: 3, padding: 1, bias: false}]",
    "pointwise": "input: [256, 28, 28]\nlayers: [conv: {out: 256, kernel: 1, bias: false}]",
    "depthwise": "input: [256, 28, 28]\nlayers: [dwconv: {kernel: 3, padding: 1, bias: false}]",
    **{
        f"grouped:{cg}": f"input: [256, 28, 28]\nlayers: [conv: {{out: 256, kernel: 3, padding: 1, groups: {256 // cg}, bias: false}}]"
        for cg in (2, 4, 8, 16, 32, 64)
    },  # fmt: skip
    **{
        f"grouped1x1:{cg}": f"input: [256, 28, 28]\nlayers: [conv: {{out: 256, kernel: 1, groups: {256 // cg}, bias: false}}]"
        for cg in (2, 4, 8, 16, 32, 64)
    },  # fmt: skip
    "transposed": "input: [128, 28, 28]\nlayers: [convtranspose: {out: 64, kernel: 4, stride: 2, padding: 1, bias: false}]",
    "linear": "input: [2048, 1, 1]\nlayers: [linear: {out: 1000}]",
    "memory": "input: [64, 112, 112]\nlayers: [relu]",
}


def _best(call: Callable[[], Any], sync: Callable[[], None], seconds: float, at_least: int = 3) -> float:
    """The best time of ``call`` in seconds, repeated for about ``seconds`` (at least ``at_least`` times)."""
    call()
    sync()
    best, spent, runs = float("inf"), 0.0, 0
    while runs < at_least or spent < seconds:
        start = time.perf_counter()
        call()
        sync()
        took = time.perf_counter() - start
        best, spent, runs = min(best, took), spent + took, runs + 1
    return best


def measure_peak_and_bandwidth(backend: str, device: str, seconds: float) -> tuple[float, float]:
    """(FLOP/s of a float32 square matmul, bytes/s of a large float32 copy: read + write)."""
    if backend == "numpy":
        import numpy as np

        n, size = 1024, 16 * 2**20
        a, src, dst = np.ones((n, n), np.float32), np.ones(size, np.float32), np.empty(size, np.float32)
        matmul = _best(lambda: a @ a, lambda: None, seconds / 2)
        copy = _best(lambda: np.copyto(dst, src), lambda: None, seconds / 2)
    else:
        import torch

        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        n, size = (4096, 256 * 2**20) if device == "cuda" else (1024, 16 * 2**20)
        t, tsrc, tdst = torch.ones((n, n), device=device), torch.ones(size, device=device), torch.empty(size, device=device)
        with torch.inference_mode():
            matmul = _best(lambda: t @ t, sync, seconds / 2)
            copy = _best(lambda: tdst.copy_(tsrc), sync, seconds / 2)
    return 2 * n**3 / matmul, 2 * 4 * size / copy


def calibrate(name: str, backend: str, device: str, batch: int, seconds: float, say: Callable[[str], None]) -> Profile:
    """Measure and return a profile named ``name``; ``say`` reports each step.

    The profile's peak is the best of the matmul and the dense conv layers, its bandwidth the best
    of the large copy and the memory-bound layers (a small layer's data stays in cache, and the
    layers of a model at small batches mostly do too): every class's efficiency is then ≤ 1."""
    from ..analysis.report import analyze
    from ..backends.execute import execute
    from ..model.graph import leaves
    from ..yamlio.spec import loads
    from .roofline import bound, layer_class

    steps = 1 + len(LAYERS)
    say(f"[ 1/{steps}] float32 matmul and memory copy on {backend}/{device} …")
    matmul, copy = measure_peak_and_bandwidth(backend, device, seconds / steps)
    say(f"         matmul {matmul / 1e9:,.1f} GFLOP/s, copy {copy / 1e9:,.1f} GB/s")
    measured: dict[str, tuple[float, int, int]] = {}  # class → (best ms, FLOPs, bytes)
    for i, (cls, text) in enumerate(LAYERS.items(), start=2):
        stack = loads(text)
        report = analyze(stack, batch=batch)
        leaf = next(iter(leaves(stack.layers)))
        assert layer_class(leaf)[0] == cls.split(":")[0], cls  # the layer represents its class
        first = execute(stack, report, backend_name=backend, device=device, warmup=1, repeat=2)
        each = max(min(first.total_ms), 1e-3) / 1000
        timing = execute(
            stack, report, backend_name=backend, device=device, warmup=1, repeat=max(3, min(1000, int(seconds / steps / each)))
        )
        record = report.layers[0]
        measured[cls] = (min(timing.total_ms), 2 * record.macs, record.bytes_moved)
        say(f"[{i:2d}/{steps}] {cls:<12} {measured[cls][0]:8.3f} ms")
    peak = max([matmul] + [flops / (ms / 1000) for c, (ms, flops, _) in measured.items() if c in ("conv", "pointwise")])
    bandwidth = max([copy] + [nbytes / (ms / 1000) for c, (ms, _, nbytes) in measured.items() if c in ("memory", "linear")])
    efficiency = {cls: min(1.0, bound(flops, nbytes, peak, bandwidth).ms / ms) for cls, (ms, flops, nbytes) in measured.items()}
    say(f"peak {peak / 1e9:,.1f} GFLOP/s, bandwidth {bandwidth / 1e9:,.1f} GB/s; efficiency (roofline ÷ measured): "
        + ", ".join(f"{k} {v:.3f}" for k, v in efficiency.items()))  # fmt: skip
    when = datetime.date.today().isoformat()
    host, cpu = printable(platform.node() or "this machine")[:100], printable(platform.processor() or platform.machine())[:200]
    source = f"convcost calibrate on {host} ({cpu}), {backend}/{device}, batch {batch}, {when}"  # printable: the saved file must load
    return Profile(name.lower(), f"this machine ({backend}/{device})", {"fp32": peak}, bandwidth, source, efficiency)
