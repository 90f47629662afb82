"""GMAC/s of the numpy and torch backends on CPU, per conv type and size, and measured vs
theoretical speed-up of the separable and grouped rewrites of a ResNet-style layer.
Prints figures; asserts nothing (not a test).

    python benchmarks/bench_execute.py [--repeat 5] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import statistics

import convcost
from convcost.backends.execute import execute
from convcost.compare import compare

LAYERS = {
    "standard 3×3, 64→64 @56²": "input: [64, 56, 56]\nlayers: [conv: {out: 64, kernel: 3, padding: 1, bias: false}]",
    "standard 3×3, 256→256 @14²": "input: [256, 14, 14]\nlayers: [conv: {out: 256, kernel: 3, padding: 1, bias: false}]",
    "standard 1×1, 256→1024 @14²": "input: [256, 14, 14]\nlayers: [conv: {out: 1024, kernel: 1, bias: false}]",
    "standard 7×7/2, 3→64 @224²": "input: [3, 224, 224]\nlayers: [conv: {out: 64, kernel: 7, stride: 2, padding: 3, bias: false}]",
    "depthwise 3×3, 256 @56²": "input: [256, 56, 56]\nlayers: [dwconv: {kernel: 3, padding: 1, bias: false}]",
    "grouped:8 3×3, 256→256 @28²": "input: [256, 28, 28]\nlayers: [conv: {out: 256, kernel: 3, padding: 1, groups: 8, bias: false}]",
    "transposed 4×4/2, 128→64 @28²": "input: [128, 28, 28]\nlayers: [convtranspose: {out: 64, kernel: 4, stride: 2, padding: 1, bias: false}]",
}
RESNET_LAYER = "input: [256, 28, 28]\nlayers: [conv: {out: 256, kernel: 3, padding: 1, bias: false}]"


def gmacs(text: str, backend: str, device: str, repeat: int, batch: int) -> float:
    stack = convcost.loads(text)
    report = convcost.analyze(stack, batch=batch)
    timing = execute(stack, report, backend_name=backend, device=device, warmup=2, repeat=repeat)
    return report.totals.macs / (statistics.median(timing.total_ms) / 1000) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    backends = ["numpy", "torch"] if args.device == "cpu" else ["torch"]
    print(f"GMAC/s, batch {args.batch}, device {args.device} (median of {args.repeat})")
    print(f"{'layer':<34}" + "".join(f"{b:>10}" for b in backends) + ("  numpy/torch" if len(backends) == 2 else ""))
    ratios = []
    for name, text in LAYERS.items():
        rates = [gmacs(text, b, args.device, args.repeat, args.batch) for b in backends]
        line = f"{name:<34}" + "".join(f"{r:10.1f}" for r in rates)
        if len(rates) == 2:
            ratios.append((name, rates[0] / rates[1]))
            line += f"  {rates[0] / rates[1]:11.2f}"
        print(line)
    standard = [r for n, r in ratios if n.startswith("standard")]
    if standard:
        print(f"numpy / torch on standard convs: min {min(standard):.2f}, median {statistics.median(standard):.2f} (target ≥ 0.33)")
    print(f"\nspeed-up of rewrites of a ResNet-style 3×3 layer, 256→256 @28² (batch {args.batch}):")
    stack = convcost.loads(RESNET_LAYER)
    result = compare(stack, ["separable", "grouped:4", "grouped:16", "bottleneck:4"], batch=args.batch)
    for backend in backends:
        times = []
        for variant, variant_stack in zip(result.variants, result.stacks):
            timing = execute(variant_stack, variant.report, backend_name=backend, device=args.device, warmup=2, repeat=args.repeat)
            times.append(statistics.median(timing.total_ms))
        for variant, ms in zip(result.variants, times):
            theory = result.variants[0].report.totals.macs / variant.report.totals.macs
            print(f"  {backend:<6} {variant.name:<14} {ms:9.3f} ms   in MACs ×{theory:6.2f}   measured ×{times[0] / ms:6.2f}")


if __name__ == "__main__":
    main()
