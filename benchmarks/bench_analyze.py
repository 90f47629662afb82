"""Whole-process times of `convcost analyze` on the zoo and on generated 1k/10k/100k-layer
stacks, `compare` beside `analyze` on 10k layers, the default table beside JSON on ResNet-50,
and `python -c "import torch"` for scale. Prints figures; asserts nothing (not a test).

    python benchmarks/bench_analyze.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def generated(n: int, folder: Path) -> Path:
    """n layers: blocks of conv + bn + relu + a residual every 10, on a 64×56×56 input."""
    lines = ["input: [64, 56, 56]", "layers:"]
    count = 0
    while count < n:
        lines.append("  - residual: {body: [conv: {out: 64, kernel: 3, padding: 1, bn: true, act: relu}, "
                     "conv: {out: 64, kernel: 3, padding: 1, dilation: 1, bn: true}]}")  # fmt: skip
        lines.append("  - relu")
        count += 8  # 6 leaves, the merge record, the relu
    path = folder / f"gen{n}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    exe = [sys.executable, "-m", "convcost"]
    rows: list[tuple[str, float]] = []
    rows.append(("python -c pass", timed([sys.executable, "-c", "pass"], args.repeat)))
    rows.append(("convcost --help", timed(exe + ["--help"], args.repeat)))
    for model in sorted((ROOT / "layers").glob("*.yaml")):
        rows.append((f"analyze {model.name}", timed(exe + ["analyze", str(model), "-f", "json"], args.repeat)))
    zoo = [str(p) for p in sorted((ROOT / "layers").glob("*.yaml"))]
    rows.append((f"analyze the whole zoo ({len(zoo)} files, one process)", timed(exe + ["analyze", *zoo, "-f", "json"], args.repeat)))
    resnet = str(ROOT / "layers" / "resnet50.yaml")
    rows.append(("analyze resnet50.yaml (table, to a file)", timed(exe + ["analyze", resnet, "-o", "/dev/null"], args.repeat)))
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1_000, 10_000, 100_000):
            path = str(generated(n, Path(tmp)))
            rows.append((f"analyze generated {n:,} layers", timed(exe + ["analyze", path, "-f", "json"], 1 if n > 10_000 else args.repeat)))
            if n == 10_000:
                rows.append((f"compare generated {n:,} layers", timed(exe + ["compare", path, "-f", "json"], args.repeat)))
    try:
        rows.append(('python -c "import torch"', timed([sys.executable, "-c", "import torch"], args.repeat)))
    except subprocess.CalledProcessError:
        pass
    for name, seconds in rows:
        print(f"{name:<40} {seconds * 1000:9.1f} ms")
    lookup = dict(rows)
    torch_key = 'python -c "import torch"'
    if torch_key in lookup:
        print(f"\nresnet50 analysis / torch import: {lookup['analyze resnet50.yaml'] / lookup[torch_key]:.3f} (target well under 0.2)")
    ten, hundred = lookup["analyze generated 10,000 layers"], lookup["analyze generated 100,000 layers"]
    print(f"100k / 10k layers: {hundred / ten:.2f} (target ≤ 12)")
    print(f"compare / analyze on 10k layers: {lookup['compare generated 10,000 layers'] / ten:.2f} (target ≤ 2)")
    table = lookup["analyze resnet50.yaml (table, to a file)"]
    print(f"resnet50 table / JSON: {table / lookup['analyze resnet50.yaml']:.2f} (target ≤ 1.5)")


if __name__ == "__main__":
    main()
