"""`convcost import` on every real model of ``tests/real.py`` (torchvision and timm, random
weights): for each, exact (params, MACs and output shapes equal torch's own) or the one line that
refused it, and the seconds it took (import and truth); then the whole-process time of importing
ResNet-50 beside ``python -c "import torch"``. Prints a Markdown table; asserts nothing.

    python benchmarks/bench_import.py [--only timm|torchvision] [--route torch|onnx-legacy|onnx-dynamo]
                                      [--every K] [NAME ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import real  # noqa: E402  — the torchvision shim comes first


def onnx_imported(model: Any, shape: tuple[int, ...], route: str, folder: Path) -> tuple[int, int, list[tuple[int, ...]]]:
    """(params, MACs, output shapes) of the model exported to ONNX and imported: ``onnx-legacy``
    (batch norms kept: training mode, batch 2) or ``onnx-dynamo`` (unoptimised, batch 1)."""
    import contextlib
    import io
    import logging
    import warnings

    import torch

    from convcost.analysis.report import analyze
    from convcost.interop import from_onnx
    from convcost.interop.read import to_yaml
    from convcost.yamlio.spec import loads

    path = folder / "m.onnx"
    logging.disable(logging.WARNING)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        if route == "onnx-legacy":
            torch.onnx.export(model, (torch.zeros(2, *shape),), str(path), dynamo=False, training=torch.onnx.TrainingMode.TRAINING)
        else:
            torch.onnx.export(model, (torch.zeros(1, *shape),), str(path), dynamo=True, optimize=False)
    logging.disable(logging.NOTSET)
    report = analyze(loads(to_yaml(from_onnx.read(str(path), None), "model", "")))
    outputs = [tuple(o.shape) for o in report.totals.outputs] if report.totals.outputs else [tuple(report.layers[-1].output)]
    return report.totals.params, report.totals.macs, outputs


def one(source: str, name: str, route: str = "torch") -> tuple[str, float]:
    import tempfile

    from convcost.errors import ConvcostError

    start = time.perf_counter()
    try:
        model, shape = real.build(source, name)
        if route == "torch":
            got = real.imported(model, shape)
        else:
            with tempfile.TemporaryDirectory() as folder:
                got = onnx_imported(model, shape, route, Path(folder))
        want = real.truth(model, shape)
        result = "exact" if got == want else f"differs: convcost {got[:2]}, torch {want[:2]}"
    except ConvcostError as exc:
        result = str(exc).replace("|", "\\|")
    except Exception as exc:  # noqa: BLE001 — a benchmark reports, it does not stop
        result = f"crashed: {type(exc).__name__}: {exc}"[:200]
    return result, time.perf_counter() - start


def whole_process(repeat: int = 3) -> tuple[float, float]:
    def best(cmd: list[str]) -> float:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
        return min(times)

    torch_alone = best([sys.executable, "-c", "import torch"])
    resnet50 = best([sys.executable, "-m", "convcost", "import", "tests/nets.py:resnet50", "-i", "3,224,224"])
    return torch_alone, resnet50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["timm", "torchvision"])
    parser.add_argument(
        "--route",
        choices=["torch", "onnx-legacy", "onnx-dynamo"],
        default="torch",
        help="import from torch (the default), or export to ONNX first with either exporter",
    )
    parser.add_argument("--every", type=int, default=1, metavar="K", help="every K-th model only (a sample)")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    cases = [("torchvision", n) for n in real.TORCHVISION + real.TORCHVISION_DENSE] + [("timm", n) for n in real.TIMM]
    cases = [(s, n) for s, n in cases if (not args.only or s == args.only) and (not args.names or n in args.names)][:: args.every]
    print("| model | source | result | s |\n|---|---|---|---|")
    exact, start = 0, time.perf_counter()
    for source, name in cases:
        result, seconds = one(source, name, args.route)
        exact += result == "exact"
        print(f"| {name} | {source} | {result} | {seconds:.1f} |", flush=True)
    print(f"\n{exact} of {len(cases)} exact, {time.perf_counter() - start:.0f} s in all")
    if not args.names and args.route == "torch" and args.every == 1:
        torch_alone, resnet50 = whole_process()
        print(
            f'`python -c "import torch"`: {torch_alone:.2f} s; `convcost import tests/nets.py:resnet50`: {resnet50:.2f} s '
            f"({resnet50 / torch_alone:.2f}×)"
        )


if __name__ == "__main__":
    main()
