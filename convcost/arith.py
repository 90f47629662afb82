"""Convolution arithmetic: small pure integer functions whose docstring is the formula."""

from __future__ import annotations


def eff_kernel(k: int, d: int = 1) -> int:
    """Dilated kernel extent: d·(k − 1) + 1."""
    return d * (k - 1) + 1


def conv_out(n: int, k: int, s: int = 1, pads: tuple[int, int] = (0, 0), d: int = 1) -> int:
    """⌊(n + lo + hi − d·(k − 1) − 1) / s⌋ + 1 (may be ≤ 0 when the kernel does not fit)."""
    return (n + pads[0] + pads[1] - eff_kernel(k, d)) // s + 1


def same_pads(n: int, k: int, s: int = 1, d: int = 1) -> tuple[int, int]:
    """TensorFlow SAME: out = ⌈n / s⌉, total = max((out − 1)·s + d(k − 1) + 1 − n, 0),
    before = total // 2, after = the rest."""
    out = -(-n // s)
    total = max((out - 1) * s + eff_kernel(k, d) - n, 0)
    return total // 2, total - total // 2


def transposed_out(n: int, k: int, s: int, pads: tuple[int, int], d: int = 1, output_padding: int = 0) -> int:
    """(n − 1)·s − (lo + hi) + d·(k − 1) + output_padding + 1 (PyTorch ConvTranspose)."""
    return (n - 1) * s - pads[0] - pads[1] + d * (k - 1) + output_padding + 1


def transposed_same_pads(k: int, s: int, d: int = 1, output_padding: int = 0) -> tuple[int, int]:
    """Padding that makes a transposed conv give out = n·s: total = d(k − 1) + 1 + output_padding − s."""
    total = eff_kernel(k, d) + output_padding - s
    return total // 2, total - total // 2


def pool_out(n: int, k: int, s: int, pads: tuple[int, int], d: int = 1, ceil_mode: bool = False) -> int:
    """PyTorch pooling: ⌊ or ⌈(n + lo + hi − d(k − 1) − 1) / s⌉ + 1; with ceil_mode the last
    window must start inside the input or the left padding."""
    span = n + pads[0] + pads[1] - eff_kernel(k, d)
    if not ceil_mode or span < 0:
        return span // s + 1
    out = -(-span // s) + 1
    if (out - 1) * s >= n + pads[0]:
        out -= 1
    return out


def prod(values: tuple[int, ...] | list[int]) -> int:
    """Π values (1 for none), as an exact int."""
    result = 1
    for v in values:
        result *= v
    return result
