from __future__ import annotations

import pytest

from convcost import arith


@pytest.mark.parametrize(("n", "k", "s", "expected"), [(224, 3, 2, (112, 0, 1)), (224, 7, 2, (112, 2, 3)), (225, 3, 2, (113, 1, 1))])
def test_same_padding_as_tensorflow(n: int, k: int, s: int, expected: tuple[int, int, int]) -> None:
    lo, hi = arith.same_pads(n, k, s)
    assert (arith.conv_out(n, k, s, (lo, hi)), lo, hi) == expected


def test_same_padding_with_dilation_and_stride_one_matches_torch_split() -> None:
    # PyTorch padding='same' (stride 1) puts the extra pad at the end, like TensorFlow
    assert arith.same_pads(10, 4, 1, 1) == (1, 2)
    assert arith.same_pads(10, 3, 1, 3) == (3, 3)


def test_pool_ceil_mode_drops_a_window_starting_in_the_right_padding() -> None:
    torch = pytest.importorskip("torch")
    for n in range(3, 20):
        for k, s, p in ((2, 2, 0), (3, 2, 1), (3, 3, 1), (2, 3, 1)):
            if 2 * p > k:
                continue
            pool = torch.nn.MaxPool1d(k, s, p, ceil_mode=True)
            assert arith.pool_out(n, k, s, (p, p), 1, True) == pool(torch.zeros(1, 1, n)).shape[-1], (n, k, s, p)


def test_transposed_out_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    for n in (1, 4, 7):
        for k, s, p, d, op in ((3, 2, 1, 1, 1), (4, 2, 1, 1, 0), (3, 1, 0, 2, 0), (5, 3, 2, 1, 2), (2, 2, 0, 1, 0)):
            conv = torch.nn.ConvTranspose1d(1, 1, k, s, p, op, dilation=d)
            assert arith.transposed_out(n, k, s, (p, p), d, op) == conv(torch.zeros(1, 1, n)).shape[-1]
