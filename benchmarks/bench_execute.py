"""The numpy backend's speed as a fraction of torch CPU's, per layer kind, at batch 1 and 8,
with the same number of threads; then measured vs theoretical speed-up of the rewrites of a
ResNet-style layer. Prints figures; asserts nothing (not a test).

    python benchmarks/bench_execute.py [--rounds 5] [--batch 1 8] [--threads 2] [--only depthwise]

Each figure is the best of alternating rounds (numpy, torch, numpy, torch, …), so that both
backends meet the same machine state. "numpy/torch" is torch's time over numpy's: 1.0 means as
fast as torch, 0.33 a third of its speed.
"""

from __future__ import annotations

import argparse
import os

import convcost
from convcost.analysis.comparison import compare
from convcost.backends.execute import execute

LAYERS = {
    "standard 3×3, 64→64 @56²": "input: [64, 56, 56]\nlayers: [conv: {out: 64, kernel: 3, padding: 1, bias: false}]",
    "standard 7×7/2, 3→64 @224²": "input: [3, 224, 224]\nlayers: [conv: {out: 64, kernel: 7, stride: 2, padding: 3, bias: false}]",
    "pointwise 1×1, 256→256 @28²": "input: [256, 28, 28]\nlayers: [conv: {out: 256, kernel: 1, bias: false}]",
    "depthwise 3×3, 128 @56²": "input: [128, 56, 56]\nlayers: [dwconv: {kernel: 3, padding: 1, bias: false}]",
    "depthwise 5×5/2, 240 @28²": "input: [240, 28, 28]\nlayers: [dwconv: {kernel: 5, stride: 2, padding: 2, bias: false}]",
    "grouped:4 3×3, 256→256 @28²": "input: [256, 28, 28]\nlayers: [conv: {out: 256, kernel: 3, padding: 1, groups: 4, bias: false}]",
    "grouped:32 3×3, 256→256 @28²": "input: [256, 28, 28]\nlayers: [conv: {out: 256, kernel: 3, padding: 1, groups: 32, bias: false}]",
    "dilated 3×3 d=2, 64→64 @56²": "input: [64, 56, 56]\nlayers: [conv: {out: 64, kernel: 3, padding: 2, dilation: 2, bias: false}]",
    "transposed 4×4/2, 128→64 @28²": "input: [128, 28, 28]\nlayers: [convtranspose: {out: 64, kernel: 4, stride: 2, padding: 1, bias: false}]",
    "transposed 3×3/2, 64→32 @56²": "input: [64, 56, 56]\nlayers: [convtranspose: {out: 32, kernel: 3, stride: 2, padding: 1, output_padding: 1}]",
    "1-D conv k=9, 64→64 @4096": "input: [64, 4096]\nlayers: [conv: {out: 64, kernel: 9, padding: 4, bias: false}]",
    "3-D conv 3×3×3, 32→32 @16³": "input: [32, 16, 16, 16]\nlayers: [conv: {out: 32, kernel: 3, padding: 1, bias: false}]",
    "deformable 3×3, 64→64 @28²": "input: [64, 28, 28]\nlayers: [deformconv: {out: 64, kernel: 3, padding: 1}]",
    "max pool 3×3/2, 64 @112²": "input: [64, 112, 112]\nlayers: [maxpool: {kernel: 3, stride: 2, padding: 1}]",
    "avg pool 2×2/2, 128 @56²": "input: [128, 56, 56]\nlayers: [avgpool: {kernel: 2, stride: 2}]",
    "global avg pool, 2048 @7²": "input: [2048, 7, 7]\nlayers: [gap]",
    "batchnorm, 64 @112²": "input: [64, 112, 112]\nlayers: [bn]",
    "layernorm (channels), 96 @56²": "input: [96, 56, 56]\nlayers: [layernorm]",
    "relu, 64 @112²": "input: [64, 112, 112]\nlayers: [relu]",
    "hswish, 64 @112²": "input: [64, 112, 112]\nlayers: [hswish]",
    "gelu, 96 @56²": "input: [96, 56, 56]\nlayers: [gelu]",
    "squeeze-excite, 256 @28²": "input: [256, 28, 28]\nlayers: [se: {reduction: 4}]",
    "upsample bilinear ×2, 64 @56²": "input: [64, 56, 56]\nlayers: [upsample: {scale: 2, mode: bilinear}]",
    "linear 2048→1000": "input: [2048, 1, 1]\nlayers: [linear: {out: 1000}]",
}
RESNET_LAYER = "input: [256, 28, 28]\nlayers: [conv: {out: 256, kernel: 3, padding: 1, bias: false}]"


def best_ms(stack: convcost.Stack, report: convcost.Report, backends: list[str], device: str, rounds: int, threads: int) -> list[float]:
    """Best whole-stack time per backend over alternating rounds."""
    best = [float("inf")] * len(backends)
    for _ in range(rounds):
        for i, name in enumerate(backends):
            timing = execute(stack, report, backend_name=name, device=device, warmup=1, repeat=3, threads=threads)
            best[i] = min(best[i], *timing.total_ms)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", default="", help="run the layers whose name contains this")
    args = parser.parse_args()
    backends = ["numpy", "torch"] if args.device == "cpu" else ["torch"]
    for batch in args.batch:
        print(f"\nbatch {batch}, {args.threads} threads, device {args.device}: best of {args.rounds} alternating rounds")
        print(f"{'layer':<32}" + "".join(f"{b + ' ms':>12}" for b in backends) + ("  numpy/torch" if len(backends) == 2 else ""))
        ratios = []
        for name, text in LAYERS.items():
            if args.only not in name:
                continue
            stack = convcost.loads(text)
            report = convcost.analyze(stack, batch=batch)
            times = best_ms(stack, report, backends, args.device, args.rounds, args.threads)
            line = f"{name:<32}" + "".join(f"{t:12.3f}" for t in times)
            if len(times) == 2:
                ratios.append(times[1] / times[0])
                line += f"  {times[1] / times[0]:11.2f}"
            print(line, flush=True)
        if ratios:
            print(f"numpy/torch: min {min(ratios):.2f} over {len(ratios)} kinds (target ≥ 0.33)")
    if args.only:
        return
    print("\nspeed-up of rewrites of a ResNet-style 3×3 layer, 256→256 @28² (batch 8):")
    stack = convcost.loads(RESNET_LAYER)
    result = compare(stack, ["separable", "grouped:4", "grouped:16", "bottleneck:4"], batch=8)
    per_design = [best_ms(s, v.report, backends, args.device, args.rounds, args.threads) for v, s in zip(result.variants, result.stacks)]
    for i, backend in enumerate(backends):
        for variant, times in zip(result.variants, per_design):
            theory = result.variants[0].report.totals.macs / variant.report.totals.macs
            print(
                f"  {backend:<6} {variant.name:<14} {times[i]:9.3f} ms   in MACs ×{theory:6.2f}   measured ×{per_design[0][i] / times[i]:6.2f}"
            )


if __name__ == "__main__":
    main()
