"""Execute a Stack with random weights on numpy or torch, confirm every shape, time it.

The stack's program (``model/program.py``) becomes steps in the analysis' order; one pass runs it, timing every step on its real input (warm-up, repeats) and
recording its output shape; then the whole program is timed end to end.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from ..analysis.report import Report
from ..arith import prod
from ..errors import ConvcostError
from ..model.graph import Stack
from ..model.program import Program, lower
from ..model.program import Step as Node


class Step(NamedTuple):
    path: str
    name: str
    kind: str
    fn: Callable[[list[Any]], Any]  #: takes the list of its input tensors
    inputs: tuple[int, ...]
    output: int


class Timing(NamedTuple):
    backend: str
    device: str
    batch: int
    repeats: int
    steps: dict[str, tuple[tuple[int, ...], list[float]]]  #: path → (executed shape without batch, ms per repeat)
    total_ms: list[float]
    dtype: str = "float32"


#: the element types each backend executes in, per device
RUNS_IN = {("numpy", "cpu"): ("float32", "float64"), ("torch", "cpu"): ("float32", "float64"),
           ("torch", "cuda"): ("float32", "float64", "float16", "bfloat16")}  # fmt: skip


def refuse_dtype(backend: str, device: str, dtype: str) -> None:
    """--dtype must be one the backend really runs in on that device: never a silent float32."""
    allowed = RUNS_IN[(backend, device)]
    if dtype not in allowed:
        raise ConvcostError(f"--dtype {dtype}: --backend {backend} on {device} executes in {' or '.join(allowed)} only; "
                            "drop --dtype, or pick one of those" + ("; float16/bfloat16 run on --backend torch --device cuda"
                                                                     if dtype in ("float16", "bfloat16") else ""))  # fmt: skip


def _read_int(path: str) -> int | None:
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except OSError:
        return None
    return int(text) if text.isascii() and text.isdigit() else None


def available_memory() -> int | None:
    """Bytes this process can still get: the least of the machine's MemAvailable, what its
    cgroup (v2 or v1) still allows, and its address-space limit (``ulimit -v``); None when unknown."""
    bounds: list[int] = []
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    bounds.append(int(line.split()[1]) * 1024)
    except OSError:
        try:
            bounds.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")):  # fmt: skip
        limit, usage = _read_int(limit_file), _read_int(usage_file)
        if limit is not None and usage is not None and limit < 2**60:
            bounds.append(max(limit - usage, 0))
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            size = _read_int_field("/proc/self/status", "VmSize:")
            bounds.append(max(soft - (size or 0), 0))
    except (ImportError, OSError, ValueError):
        pass
    return min(bounds) if bounds else None


def _read_int_field(path: str, key: str) -> int | None:
    """A ``key: N kB`` line of a /proc file, in bytes."""
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class NumpyBackend:
    name = "numpy"

    def __init__(self, device: str, threads: int | None, dtype: str = "float32") -> None:
        if device not in ("cpu", "auto"):
            raise ConvcostError(f"--device {device}: the numpy backend runs on the CPU only; use --backend torch")
        if threads:
            for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ[var] = str(threads)
        try:
            import numpy
        except ImportError:
            raise ConvcostError("--backend numpy: numpy is not installed (pip install 'convcost[numpy]')") from None
        self.np, self.device = numpy, "cpu"
        refuse_dtype(self.name, self.device, dtype)
        self.dtype = numpy.dtype(dtype)

    def leaf(self, leaf: Node, weights: list[Any]) -> Callable[..., Any]:
        from .numpy_backend import compile_leaf

        return compile_leaf(leaf.op, leaf.in_shape, [w.astype(self.dtype, copy=False) for w in weights])

    def tensor(self, array: Any) -> Any:
        return array.astype(self.dtype, copy=False)

    def shape(self, value: Any) -> tuple[int, ...]:
        return tuple(value.shape)

    def sync(self) -> None:
        pass


class TorchBackend:
    name = "torch"

    def __init__(self, device: str, threads: int | None, dtype: str = "float32") -> None:
        try:
            import torch
        except ImportError:
            raise ConvcostError("--backend torch: PyTorch is not installed (pip install 'convcost[torch]')") from None
        self.torch = torch
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cuda" and not torch.cuda.is_available():
            raise ConvcostError("--device cuda: no CUDA GPU is available to PyTorch here")
        if device not in ("cpu", "cuda"):
            raise ConvcostError(f"--device: expected cpu, cuda or auto, found '{device}'")
        if threads:
            torch.set_num_threads(threads)
        self.device = device
        refuse_dtype(self.name, device, dtype)
        self.dtype = getattr(torch, dtype)

    def leaf(self, leaf: Node, weights: list[Any]) -> Callable[..., Any]:
        from .torch_build import leaf_module

        module = leaf_module(leaf.op, leaf.in_shape).eval()
        params = list(module.parameters())
        if [tuple(p.shape) for p in params] != [w.shape for w in weights]:
            raise AssertionError(f"{leaf.path}: torch parameters {[tuple(p.shape) for p in params]} vs {[w.shape for w in weights]}")
        with self.torch.no_grad():
            for p, w in zip(params, weights):
                p.copy_(self.torch.from_numpy(w))
        module = module.to(self.device, self.dtype)
        torch = self.torch

        if leaf.op.MERGE:

            def merged(xs: list[Any]) -> Any:
                with torch.inference_mode():
                    return module(*xs)

            return merged

        def run(x: Any) -> Any:
            with torch.inference_mode():
                return module(x)

        return run

    def tensor(self, array: Any) -> Any:
        return self.torch.from_numpy(array).to(self.device, self.dtype)

    def shape(self, value: Any) -> tuple[int, ...]:
        return tuple(value.shape)

    def sync(self) -> None:
        if self.device == "cuda":
            self.torch.cuda.synchronize()


def backend(name: str, device: str = "auto", threads: int | None = None, dtype: str = "float32") -> NumpyBackend | TorchBackend:
    if name == "numpy":
        return NumpyBackend(device, threads, dtype)
    if name == "torch":
        return TorchBackend(device, threads, dtype)
    raise ConvcostError(f"--backend: expected numpy or torch, found '{name}'")


def _first(fn: Callable[[Any], Any]) -> Callable[[list[Any]], Any]:
    """A one-input leaf function as a step function of its list of inputs."""
    return lambda xs: fn(xs[0])


def program(lowered: Program, runner: NumpyBackend | TorchBackend, seed: int) -> list[Step]:
    """The program as the runner's steps over numbered tensors (the inputs first), weights drawn from ``seed``."""
    import numpy as np

    from .weights import make

    rng = np.random.default_rng(seed)
    steps: list[Step] = []
    for j, node in enumerate(lowered.steps):
        try:
            fn = runner.leaf(node, make(node.op, node.in_shape, rng))
        except NotImplementedError as exc:
            raise ConvcostError(f"--execute: {node.name} ({node.op.kind}): {exc} on --backend {runner.name}", path=node.path) from None
        steps.append(Step(node.path, node.name, node.op.kind, fn if node.op.MERGE else _first(fn), node.inputs, lowered.tensor(j)))
    return steps


def run_steps(steps: list[Step], x0: Any, call: Callable[[Step, list[Any]], Any] | None = None, keep: tuple[int, ...] = ()) -> Any:
    """Run the program on x0 (the input, or a list of the inputs), freeing each tensor after its
    last use; ``call`` may wrap each step. Returns the last step's output, or the list of the
    tensors ``keep`` names."""
    last = {i: n for n, step in enumerate(steps) for i in step.inputs}
    last.update({t: len(steps) for t in keep})
    live: dict[int, Any] = dict(enumerate(x0)) if isinstance(x0, list) else {0: x0}
    for n, step in enumerate(steps):
        args = [live[i] for i in step.inputs]
        live[step.output] = call(step, args) if call else step.fn(args)
        for i in step.inputs:
            if last[i] == n:
                live.pop(i, None)
    return [live[t] for t in keep] if keep else live[steps[-1].output]


def _timed(runner: NumpyBackend | TorchBackend, call: Callable[[], Any], warmup: int, repeat: int) -> tuple[Any, list[float]]:
    """(the last result, milliseconds of each repeat); CUDA work timed with events."""
    result = None
    for _ in range(warmup):
        result = call()
    runner.sync()
    times = []
    cuda = getattr(runner, "device", "cpu") == "cuda"
    for _ in range(repeat):
        if cuda:
            torch = runner.torch  # type: ignore[union-attr]  # only the torch runner times on cuda
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            result = call()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            result = call()
            runner.sync()
            times.append((time.perf_counter() - t0) * 1000)
    return result, times


def workspace(lowered: Program, batch: int) -> int:
    """Elements of the largest unrolled-patch buffer (im2col) one conv-family layer needs:
    batch × C_in × kernel elements × output positions."""
    largest = 0
    for leaf in lowered.steps:
        kernel = getattr(leaf.op, "kernel", None)
        if isinstance(kernel, tuple) and len(leaf.in_shape) > 1:
            largest = max(largest, batch * leaf.in_shape[0] * prod(kernel) * prod(leaf.out_shape[1:]))
    return largest


def check_memory(lowered: Program, report: Report, runner: NumpyBackend | TorchBackend) -> None:
    """Refuse before any work when the run needs more memory than the process can get: the
    activations alive at once (and a working copy), the weights, the input, and the largest
    im2col buffer, all in the run's dtype."""
    t = report.totals
    size = runner.dtype.itemsize
    inputs = sum(prod(shape) for _, shape in lowered.inputs)
    need = t.peak_memory_bytes * 2 + (t.params + report.batch * inputs + workspace(lowered, report.batch)) * size
    if runner.device == "cuda":
        free = runner.torch.cuda.mem_get_info()[0]  # type: ignore[union-attr]  # only the torch runner runs on cuda
    else:
        free = available_memory()
    if free is not None and need > free:
        raise ConvcostError(f"--execute: needs about {need / 2**30:.1f} GiB (peak activations of batch {report.batch}, weights, "
                            f"the im2col buffer) but only {free / 2**30:.1f} GiB can be had on {runner.device}; lower --batch")  # fmt: skip


def execute(stack: Stack, report: Report, *, backend_name: str = "numpy", device: str = "auto", warmup: int = 1, repeat: int = 5,
            seed: int = 0, threads: int | None = None, on_step: Callable[[int, int, str], None] | None = None,
            dtype: str = "float32") -> Timing:  # fmt: skip
    """Run ``stack`` at the report's batch size in ``dtype``; time each step and the whole."""
    runner = backend(backend_name, device, threads, dtype)
    lowered = lower(stack)
    check_memory(lowered, report, runner)
    import numpy as np

    try:
        with np.errstate(all="ignore"):  # random weights may overflow a deep stack: shapes and times are measured, not values
            return _execute(lowered, report, runner, warmup, repeat, seed, on_step, dtype)
    except MemoryError:
        raise ConvcostError(f"--execute: ran out of memory on {runner.device} (batch {report.batch}); lower --batch") from None


def _execute(lowered: Program, report: Report, runner: NumpyBackend | TorchBackend, warmup: int, repeat: int, seed: int,
             on_step: Callable[[int, int, str], None] | None, dtype: str) -> Timing:  # fmt: skip
    import numpy as np

    steps = program(lowered, runner, seed)
    rng = np.random.default_rng(seed + 1)
    x0 = [runner.tensor(rng.standard_normal((report.batch, *shape), dtype=np.float32)) for _, shape in lowered.inputs]
    measured: dict[str, tuple[tuple[int, ...], list[float]]] = {}

    def timed_step(step: Step, args: list[Any]) -> Any:
        if on_step:
            on_step(len(measured), len(steps), step.name)
        out, times = _timed(runner, lambda: step.fn(args), warmup, repeat)
        measured[step.path] = (runner.shape(out)[1:], times)
        return out

    run_steps(steps, x0, timed_step)
    _, total = _timed(runner, lambda: run_steps(steps, x0), warmup, repeat)
    return Timing(runner.name, runner.device, report.batch, repeat, measured, total, dtype)


def summary(times: list[float]) -> dict[str, float]:
    return {"ms_median": statistics.median(times), "ms_min": min(times), "ms_max": max(times)}


def merge_into(report: Report, timing: Timing) -> tuple[Report, list[str]]:
    """The report with ``measured`` filled in, and the paths whose executed shape differs."""
    base = {"backend": timing.backend, "device": timing.device, "batch": timing.batch, "repeats": timing.repeats, "dtype": timing.dtype}
    records, wrong = [], []
    for record in report.layers:
        shape, times = timing.steps[record.path]
        ok = shape == record.output
        if not ok:
            wrong.append(f"{record.name}: analysis {list(record.output)}, executed {list(shape)}")
        stats = summary(times)
        rate = record.macs / (stats["ms_median"] / 1000) / 1e9 if stats["ms_median"] > 0 else None
        records.append(record._replace(measured={**base, **stats, "shape_ok": ok, "output": list(shape), "gmacs_per_s": rate}))
    total = {**base, **summary(timing.total_ms), "shape_ok": not wrong,
             "sum_layers_ms": sum(statistics.median(t) for _, t in timing.steps.values())}  # fmt: skip
    return report._replace(layers=tuple(records), totals=report.totals._replace(measured=total)), wrong


def run_once(stack: Stack, backend_name: str = "numpy", *, seed: int = 0, batch: int = 1, device: str = "cpu", x: Any = None,
             every_output: bool = False) -> Any:  # fmt: skip
    """The stack's output as a numpy array, for seeded weights and inputs (``x`` to give the
    input, or a list of them); ``every_output``: a list of every output of the model."""
    import numpy as np

    runner = backend(backend_name, device)
    lowered = lower(stack)
    steps = program(lowered, runner, seed)
    if x is None:
        rng = np.random.default_rng(seed + 1)
        x = [rng.standard_normal((batch, *shape)).astype(np.float32) for _, shape in stack.all_inputs]
    xs = x if isinstance(x, list) else [x]
    found = run_steps(steps, [runner.tensor(np.ascontiguousarray(v, dtype=np.float32)) for v in xs], keep=lowered.outputs)
    arrays = [out.detach().cpu().numpy() if backend_name == "torch" else np.asarray(out) for out in found]
    return arrays if every_output else arrays[0]
