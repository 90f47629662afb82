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

from ..errors import ConvcostError, Mark, closest, describe, printable

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

#: a number (one way only to match its digits: no backtracking on a long one), a prefix, the unit
_RATE = re.compile(r"\s*((?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*([kKMGTP]?)(i?)\s*(FLOP/s|OP/s|B/s)\s*")
_SI = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}
MAX_RATE_TEXT = 64  #: characters of a rate's text; a longer one is refused before it is read
#: a rate outside this range (per second) is no device's: refused, as it would overflow or vanish
MIN_RATE, MAX_RATE = 1e3, 1e21


def parse_rate(text: object, unit: str, where: str) -> float:
    """'19.5 TFLOP/s' → 1.95e13; '2039 GB/s' → 2.039e12, '1.5 TiB/s' in powers of 2. A bare number is refused,
    and so is a rate no device has (below 1 k/s, above 10^21/s, or infinite)."""
    example = "19.5 TFLOP/s" if unit == "FLOP/s" else "2039 GB/s (or GiB/s)"
    if isinstance(text, str) and len(text) > MAX_RATE_TEXT:
        raise ConvcostError(f"{where}: expected a rate with its unit, like {example}, found {len(text):,} characters (no device's rate)")
    m = _RATE.fullmatch(text) if isinstance(text, str) else None
    units = ("FLOP/s", "OP/s") if unit == "FLOP/s" else ("B/s",)
    if m is None or m.group(4) not in units or (m.group(3) and m.group(4) != "B/s"):
        raise ConvcostError(f"{where}: expected a rate with its unit, like {example}, found {describe(text)}")
    prefix = m.group(2)
    scale = (2 ** (10 * " KMGTP".index(prefix.upper()))) if m.group(3) else _SI[prefix]
    rate = float(m.group(1)) * scale
    if not MIN_RATE <= rate <= MAX_RATE:  # also inf (1e999) and nan
        raise ConvcostError(f"{where}: {m.group(0).strip()} is not a rate a device has; expected between 1 k{m.group(4)} and "
                            f"1,000,000 P{m.group(4)} (10^21 per second)")  # fmt: skip
    return rate


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
    from ..yamlio.read import parse_yaml, read_text

    data = parse_yaml(read_text(path), str(path))
    return from_data(data, path.stem, str(path))


KEYS = ("name", "peak", "bandwidth", "source", "efficiency")
MAX_TEXT = {"name": 200, "source": 2000}  #: characters of a profile's name and source
_WIDTH = re.compile(r"0*[1-9][0-9]{0,5}")  #: channels per group in grouped:N (ASCII digits only: '²'.isdigit() is true)


def _at(where: str, container: Any, key: Any = None, *, of_key: bool = False) -> Mark:
    """Where ``container[key]`` (or the key itself) is in the file; the file's start when unknown."""
    from ..yamlio.read import key_mark, mark_of

    mark = key_mark(container, key) if of_key else mark_of(container, key)
    return mark or Mark(where, 1, 1)


def _text(data: Any, key: str, default: str, where: str) -> str:
    """A profile's name or source: one line of printable text (it reaches tables, headers and plots)."""
    value = data.get(key)
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise ConvcostError(f"expected text (quote it), found {describe(value)}", path=key, mark=_at(where, data, key))
    if value != printable(value):
        raise ConvcostError(f"expected one line of printable text, found control characters in {describe(value)}",
                            path=key, mark=_at(where, data, key))  # fmt: skip
    if len(value) > MAX_TEXT[key]:
        raise ConvcostError(f"expected at most {MAX_TEXT[key]} characters, found {len(value):,}", path=key, mark=_at(where, data, key))
    return value


def _peaks(data: dict[str, Any], where: str) -> dict[str, float | None]:
    peaks = data.get("peak")
    if not isinstance(peaks, dict) or not peaks:
        raise ConvcostError(f"expected 'peak:' as a mapping of precisions ({', '.join(PRECISIONS)}) to rates, like fp32: 19.5 TFLOP/s",
                            mark=_at(where, data, "peak"))  # fmt: skip
    for key in peaks:
        if key not in PRECISIONS:
            raise ConvcostError(f"peak.{printable(str(key))}: unknown precision{closest(str(key), PRECISIONS)}; expected one of "
                                f"{', '.join(PRECISIONS)}", mark=_at(where, peaks, key, of_key=True))  # fmt: skip
    return {p: _rate(peaks, p, "FLOP/s", f"peak.{p}", where) if peaks.get(p) is not None else None for p in PRECISIONS}


def _rate(container: Any, key: str, unit: str, path: str, where: str) -> float:
    try:
        return parse_rate(container[key], unit, path)
    except ConvcostError as exc:
        raise exc.located(mark=_at(where, container, key)) from None


def _efficiency(data: dict[str, Any], where: str) -> dict[str, float]:
    efficiency = data.get("efficiency") or {}
    if not isinstance(efficiency, dict):
        raise ConvcostError(
            "expected a mapping of layer classes to fractions in (0, 1]", path="efficiency", mark=_at(where, data, "efficiency")
        )
    for cls, value in efficiency.items():
        base, _, width = str(cls).partition(":")
        if base not in CLASSES or (width and (base not in ("grouped", "grouped1x1") or not _WIDTH.fullmatch(width))):
            raise ConvcostError(f"efficiency.{printable(str(cls))}: unknown layer class{closest(str(cls), CLASSES)}; expected one of "
                                f"{', '.join(CLASSES)}, or grouped:N / grouped1x1:N (N channels per group, 1 to 999999)",
                                mark=_at(where, efficiency, cls, of_key=True))  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise ConvcostError(f"expected a fraction in (0, 1], found {describe(value)}", path=f"efficiency.{cls}",
                                mark=_at(where, efficiency, cls))  # fmt: skip
    return {str(k): float(v) for k, v in efficiency.items()}


def from_data(data: Any, default_id: str, where: str) -> Profile:
    """A profile from a YAML file's data; every bad value is refused with its file, line and key."""
    if not isinstance(data, dict):
        raise ConvcostError("expected a mapping with name, peak and bandwidth", mark=_at(where, data))
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        raise ConvcostError(f"unknown key '{printable(str(unknown[0]))}'{closest(str(unknown[0]), KEYS)} (a profile has "
                            f"{', '.join(KEYS)})", mark=_at(where, data, unknown[0], of_key=True))  # fmt: skip
    name, source = _text(data, "name", printable(default_id), where), _text(data, "source", printable(where), where)
    peak = _peaks(data, where)
    if "bandwidth" not in data:
        raise ConvcostError("expected 'bandwidth:', like 2039 GB/s", mark=_at(where, data))
    bandwidth = _rate(data, "bandwidth", "B/s", "bandwidth", where)
    return Profile(printable(default_id).lower(), name, peak, bandwidth, source, _efficiency(data, where))  # the id: a file's name


def check_new_name(label: str) -> None:
    """Refuse a name for a new (calibrated) profile that `find` could never return: a built-in id
    wins over a saved profile, and a name ending in .yaml or .yml is taken for a file's path."""
    key = label.strip().lower()
    if key in BUILTIN:
        raise ConvcostError(f"--name {label}: that is a built-in profile's id; choose another name (e.g. {key}-mine)")
    if key.endswith((".yaml", ".yml")):
        raise ConvcostError(f"--name {label}: a name ending in .yaml or .yml is read as a file's path; choose another name "
                            f"(e.g. {key.rsplit('.', 1)[0] or 'mine'})")  # fmt: skip


def to_data(profile: Profile) -> dict[str, Any]:
    """A profile as the YAML a user (or calibrate) writes: every rate with its unit."""
    data: dict[str, Any] = {"name": profile.name,
                            "peak": {p: show_rate(v, "FLOP/s" if p != "int8" else "OP/s") for p, v in profile.peak.items() if v},
                            "bandwidth": show_rate(profile.bandwidth, "B/s"), "source": profile.source}  # fmt: skip
    if profile.efficiency:
        data["efficiency"] = {k: round(v, 4) or float(f"{v:.4g}") for k, v in profile.efficiency.items()}  # never 0: refused on load
    return data
