"""Device profiles: peak dense throughput per precision and memory bandwidth, for the roofline.

Built-in profiles come from the vendors' datasheets (dense figures: NVIDIA quotes tensor-core
rates "with sparsity", twice the dense ones, which are the ones here). A user's profile is a
YAML file; ``convcost calibrate`` measures this machine and saves one in the config directory.
Every rate is written with its unit (``19.5 TFLOP/s``, ``2039 GB/s``): a bare number is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from .errors import ConvcostError, closest

PRECISIONS = ("fp32", "tf32", "fp16", "bf16", "int8")
#: --dtype → the precision whose peak applies (float32 runs on the fp32 units; a profile for
#: TF32 tensor cores can set its fp32 rate to the tf32 one)
FOR_DTYPE = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16", "int8": "int8"}
T, G = 10**12, 10**9
#: layer classes a profile can carry an efficiency for (roofline.layer_class); grouped ones also per
#: width, as ``grouped:4`` / ``grouped1x1:4`` (4 channels per group)
CLASSES = ("conv", "pointwise", "depthwise", "grouped", "grouped1x1", "transposed", "linear", "memory")


class Profile(NamedTuple):
    id: str
    name: str
    peak: Mapping[str, float | None]  #: FLOP/s (int8: OP/s) per precision; None: the device has no such units
    bandwidth: float  #: bytes/s
    source: str
    efficiency: Mapping[str, float] = {}  #: calibrated achieved ÷ roofline, per layer class (see roofline.layer_class)

    def peak_for(self, dtype: str) -> float:
        key = FOR_DTYPE.get(dtype)
        rate = self.peak.get(key) if key else None
        if not rate:
            have = ", ".join(p for p in PRECISIONS if self.peak.get(p))
            raise ConvcostError(f"--dtype {dtype}: the profile {self.id} has no peak for it (it has {have}); pick another --dtype, "
                                "or give the rate in a profile file")  # fmt: skip
        return rate


def _gpu(pid: str, name: str, fp32: float, tf32: float | None, fp16: float | None, bf16: float | None, int8: float | None,
         bandwidth: float, source: str) -> Profile:  # fmt: skip
    rates = {"fp32": fp32, "tf32": tf32, "fp16": fp16, "bf16": bf16, "int8": int8}
    return Profile(pid, name, {k: (v * T if v else None) for k, v in rates.items()}, bandwidth * G, source)


def _cpu(pid: str, name: str, cores: int, lanes: int, fma_units: int, ghz: float, bandwidth: float, memory: str) -> Profile:
    fp32 = cores * lanes * fma_units * 2 * ghz * G  # FLOP/s: cores × fp32 SIMD lanes × FMA units × 2 FLOPs × clock
    source = (f"nominal: {cores} cores × {lanes} fp32 lanes × {fma_units} FMA units × 2 FLOP × {ghz} GHz; {memory} = "
              f"{bandwidth:g} GB/s. A real CPU of this class reaches roughly half: run `convcost calibrate` for yours")  # fmt: skip
    return Profile(pid, name, {"fp32": fp32, "tf32": None, "fp16": None, "bf16": None, "int8": None}, bandwidth * G, source)


BUILTIN: dict[str, Profile] = {
    p.id: p
    for p in (
        _gpu(
            "a100",
            "NVIDIA A100 SXM4 80GB",
            19.5,
            156,
            312,
            312,
            624,
            2039,
            "NVIDIA A100 datasheet (nvidia.com/en-us/data-center/a100): FP32 19.5 TFLOPS, TF32 156, BF16/FP16 312, INT8 624 TOPS "
            "(dense), HBM2e 2,039 GB/s",
        ),
        _gpu(
            "h100",
            "NVIDIA H100 SXM5 80GB",
            67,
            494.7,
            989.4,
            989.4,
            1978.9,
            3350,
            "NVIDIA H100 datasheet (nvidia.com/en-us/data-center/h100): FP32 67 TFLOPS; TF32 989, BF16/FP16 1,979, INT8 3,958 "
            "with sparsity, half that dense; HBM3 3.35 TB/s",
        ),
        _gpu(
            "h200",
            "NVIDIA H200 SXM 141GB",
            67,
            494.7,
            989.4,
            989.4,
            1978.9,
            4800,
            "NVIDIA H200 datasheet (nvidia.com/en-us/data-center/h200): the H100's compute (FP32 67 TFLOPS; TF32 989, BF16/FP16 "
            "1,979, INT8 3,958 with sparsity, half dense); HBM3e 4.8 TB/s",
        ),
        _gpu(
            "l4",
            "NVIDIA L4 24GB",
            30.3,
            60,
            121,
            121,
            242.5,
            300,
            "NVIDIA L4 datasheet (nvidia.com/en-us/data-center/l4): FP32 30.3 TFLOPS; TF32 120, BF16/FP16 242, INT8 485 with "
            "sparsity, half dense; GDDR6 300 GB/s",
        ),
        _gpu(
            "t4",
            "NVIDIA T4 16GB",
            8.1,
            None,
            65,
            None,
            130,
            320,
            "NVIDIA T4 datasheet (nvidia.com/en-us/data-center/tesla-t4): FP32 8.1 TFLOPS, FP16 (mixed) 65, INT8 130 TOPS; no "
            "TF32 or BF16 (Turing); GDDR6 320 GB/s",
        ),
        _gpu(
            "rtx4090",
            "NVIDIA GeForce RTX 4090",
            82.6,
            82.6,
            165.2,
            165.2,
            660.6,
            1008,
            "NVIDIA Ada Lovelace architecture whitepaper, RTX 4090: FP32 82.6 TFLOPS; dense tensor TF32 82.6, FP16/BF16 with "
            "FP32 accumulate 165.2, INT8 660.6 TOPS; GDDR6X 1,008 GB/s",
        ),
        _cpu("cpu-laptop", "laptop CPU: 8 cores, AVX2, 3.0 GHz", 8, 8, 2, 3.0, 89.6, "dual-channel DDR5-5600"),
        _cpu("cpu-server", "server CPU: 32 cores, AVX-512, 2.5 GHz", 32, 16, 2, 2.5, 307.2, "8-channel DDR5-4800"),
    )  # fmt: skip
}

_RATE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKMGTP]?)(i?)\s*(FLOP/s|OP/s|B/s)\s*$")
_SI = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}


def parse_rate(text: object, unit: str, where: str) -> float:
    """'19.5 TFLOP/s' → 1.95e13; '2039 GB/s' → 2.039e12, '1.5 TiB/s' in powers of 2. A bare number is refused."""
    m = _RATE.match(str(text)) if isinstance(text, (str, int, float)) and not isinstance(text, bool) else None
    units = ("FLOP/s", "OP/s") if unit == "FLOP/s" else ("B/s",)
    if m is None or m.group(4) not in units or (m.group(3) and m.group(4) != "B/s"):
        example = "19.5 TFLOP/s" if unit == "FLOP/s" else "2039 GB/s (or GiB/s)"
        raise ConvcostError(f"{where}: expected a rate with its unit, like {example}, found {text!r}")
    prefix = m.group(2)
    scale = (2 ** (10 * " KMGTP".index(prefix.upper()))) if m.group(3) else _SI[prefix]
    return float(m.group(1)) * scale


def show_rate(value: float, unit: str) -> str:
    for prefix, scale in (("P", 10**15), ("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if value >= scale:
            return f"{value / scale:.4g} {prefix}{unit}"
    return f"{value:.4g} {unit}"


def config_dir() -> Path:
    """Where calibrated profiles live: $XDG_CONFIG_HOME/convcost/profiles (~/.config on Linux,
    the platform's application directory elsewhere)."""
    import typer

    return Path(os.environ.get("CONVCOST_CONFIG") or typer.get_app_dir("convcost")) / "profiles"


def saved() -> dict[str, Path]:
    folder = config_dir()
    try:
        return {p.stem.lower(): p for p in sorted(folder.glob("*.yaml"))}
    except OSError:
        return {}


def find(name: str) -> Profile:
    """A built-in id (case-insensitive), a saved (calibrated) profile's name, or a YAML file."""
    key = name.strip().lower()
    if key in BUILTIN:
        return BUILTIN[key]
    if key.endswith((".yaml", ".yml")) or "/" in name or os.sep in name:
        return load(Path(name))
    mine = saved()
    if key in mine:
        return load(mine[key])
    options = [*BUILTIN, *mine]
    raise ConvcostError(f"--device-profile {name}: no such profile{closest(key, options)}; `convcost profiles` lists "
                        f"{', '.join(options)}, or give a profile file (.yaml)")  # fmt: skip


def load(path: Path) -> Profile:
    from .yamlio import parse_yaml, read_text

    data = parse_yaml(read_text(path), str(path))
    return from_data(data, path.stem, str(path))


def from_data(data: Any, default_id: str, where: str) -> Profile:
    if not isinstance(data, dict):
        raise ConvcostError(f"{where}: expected a mapping with name, peak and bandwidth")
    unknown = set(data) - {"name", "peak", "bandwidth", "source", "efficiency"}
    if unknown:
        raise ConvcostError(f"{where}: unknown key '{sorted(unknown)[0]}' (a profile has name, peak, bandwidth, source, efficiency)")
    peaks = data.get("peak")
    if not isinstance(peaks, dict) or not peaks:
        raise ConvcostError(
            f"{where}: expected 'peak:' as a mapping of precisions ({', '.join(PRECISIONS)}) to rates, like fp32: 19.5 TFLOP/s"
        )
    for key in peaks:
        if key not in PRECISIONS:
            raise ConvcostError(
                f"{where}: peak.{key}: unknown precision{closest(str(key), PRECISIONS)}; expected one of {', '.join(PRECISIONS)}"
            )
    peak = {p: (parse_rate(peaks[p], "FLOP/s", f"{where}: peak.{p}") if peaks.get(p) is not None else None) for p in PRECISIONS}
    if "bandwidth" not in data:
        raise ConvcostError(f"{where}: expected 'bandwidth:', like 2039 GB/s")
    bandwidth = parse_rate(data["bandwidth"], "B/s", f"{where}: bandwidth")
    efficiency = data.get("efficiency") or {}
    if not isinstance(efficiency, dict):
        raise ConvcostError(f"{where}: efficiency: expected a mapping of layer classes to fractions in (0, 1]")
    for cls, value in efficiency.items():
        base, _, width = str(cls).partition(":")
        if base not in CLASSES or (width and (base not in ("grouped", "grouped1x1") or not width.isdigit() or int(width) < 1)):
            raise ConvcostError(f"{where}: efficiency.{cls}: unknown layer class{closest(str(cls), CLASSES)}; expected one of "
                                f"{', '.join(CLASSES)}, or grouped:N / grouped1x1:N (N channels per group)")  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise ConvcostError(f"{where}: efficiency.{cls}: expected a fraction in (0, 1], found {value!r}")
    if any(v is not None and v <= 0 for v in (*peak.values(), bandwidth)):
        raise ConvcostError(f"{where}: rates must be positive")
    return Profile(default_id.lower(), str(data.get("name") or default_id), peak, bandwidth, str(data.get("source") or where),
                   {str(k): float(v) for k, v in efficiency.items()})  # fmt: skip


def to_data(profile: Profile) -> dict[str, Any]:
    """A profile as the YAML a user (or calibrate) writes: every rate with its unit."""
    data: dict[str, Any] = {"name": profile.name,
                            "peak": {p: show_rate(v, "FLOP/s" if p != "int8" else "OP/s") for p, v in profile.peak.items() if v},
                            "bandwidth": show_rate(profile.bandwidth, "B/s"), "source": profile.source}  # fmt: skip
    if profile.efficiency:
        data["efficiency"] = {k: round(v, 4) for k, v in profile.efficiency.items()}
    return data
