"""HDC rules, the ground truth by brute force and by real dilated torch convs, the CLI."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from convcost.analysis import hdc
from convcost.cli import app

runner = CliRunner()


def brute_offsets(rates: tuple[int, ...], kernel: int) -> set[int]:
    half = (kernel - 1) // 2
    return {sum(r * t for r, t in zip(rates, ts)) for ts in itertools.product(range(-half, half + 1), repeat=len(rates))}


def test_paper_examples() -> None:
    ok = hdc.check((1, 2, 5))
    assert (ok.m2, ok.hdc_ok, ok.gridding, ok.receptive_field) == (2, True, False, 17)
    bad = hdc.check((1, 2, 9))
    assert (bad.m2, bad.hdc_ok, bad.gridding) == (5, False, True)
    assert not hdc.check((1, 2, 9), kernel=5).gridding
    common = hdc.check((2, 4, 8))
    assert common.gcd == 2 and common.gridding and common.receptive_field == 1 + 2 * 14


def test_rules_that_disagree_with_the_truth_are_reported() -> None:
    # the M rule is applied per increasing group (the paper's group of dilated layers)
    r = hdc.check((1, 3, 1))
    assert r.groups == ((1, 3), (1,)) and r.M == (1, 3, 1) and r.m2 == 3 and r.hdc_ok and not r.gridding
    r = hdc.check((2, 2))
    assert r.groups == ((2,), (2,)) and r.m2 == 2 and r.hdc_ok and r.gridding and any("grids" in n for n in r.notes)
    r = hdc.check((2, 3))  # one group, M_2 = 3 ≤ K, yet offsets ±4 are never read (2·t1 + 3·t2, |t| ≤ 1)
    assert r.m2 == 3 and r.hdc_ok and r.gridding and r.holes == (-4, 4)
    r = hdc.check((4, 1))
    assert r.m2 == 4 and not r.hdc_ok and r.gridding
    r = hdc.check((1, 2, 5, 1, 2, 9), kernel=3)  # the second group fails alone
    assert r.groups == ((1, 2, 5), (1, 2, 9)) and r.m2 == 5 and not r.hdc_ok
    assert not hdc.check((1, 2, 4)).gridding  # a pairwise "no shared factor" reading wrongly rejects it


@pytest.mark.parametrize("kernel", [3, 5, 7])
def test_footprint_equals_brute_force_and_closed_form(kernel: int) -> None:
    for n in (1, 2, 3):
        for rates in itertools.product(range(1, 9), repeat=n):
            r = hdc.check(rates, kernel)
            offsets = brute_offsets(rates, kernel)
            half = (r.receptive_field - 1) // 2
            assert set(r.holes) == set(range(-half, half + 1)) - offsets
            assert (not r.gridding) == hdc.closed_form_ok(rates, kernel)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=2, max_size=4), st.sampled_from([3, 5, 7]))
def test_closed_form_agrees_with_the_footprint(rates: list[int], kernel: int) -> None:
    paths = hdc.footprint_paths(rates, kernel)
    assert (0 not in paths) == hdc.closed_form_ok(rates, kernel)
    assert len(paths) == 1 + (kernel - 1) * sum(rates)
    assert sum(paths) == kernel ** len(rates)  # every path lands somewhere
    # order-free
    assert hdc.footprint_paths(sorted(rates), kernel) == paths


@pytest.mark.parametrize("kernel", [3, 5, 7])
@pytest.mark.parametrize("rates", [(1, 2, 5), (2, 2), (1, 2, 9), (1, 3, 1), (2, 3), (1, 4, 2)])
def test_truth_matches_real_dilated_torch_convs(rates: tuple[int, ...], kernel: int) -> None:
    torch = pytest.importorskip("torch")
    r = hdc.check(rates, kernel)
    size = r.receptive_field + 4
    x = torch.zeros(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y = x
    for rate in rates:
        conv = torch.nn.Conv2d(1, 1, kernel, dilation=rate, bias=False).double()
        torch.nn.init.constant_(conv.weight, 1.0)
        y = conv(y)
    y[0, 0, 2, 2].backward()
    support = torch.nonzero(x.grad[0, 0]).tolist()
    rows = sorted({i for i, _ in support})
    reached_1d = {i - rows[0] for i in rows}
    assert r.receptive_field == rows[-1] - rows[0] + 1
    half = (r.receptive_field - 1) // 2
    assert {h + half for h in r.holes} == set(range(r.receptive_field)) - reached_1d
    # 2-D holes iff 1-D holes: the 2-D footprint is the product set
    assert len(support) == len(reached_1d) ** 2


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 10), min_size=1, max_size=6), st.sampled_from([3, 5]))
def test_suggestions_are_verified(rates: list[int], kernel: int) -> None:
    r = hdc.check(rates, kernel)
    if not r.gridding:
        assert r.suggestions == ()
    for s in r.suggestions:
        assert len(s) == len(rates)
        assert 0 not in hdc.footprint_paths(s, kernel) and hdc.m2(s) <= kernel


def test_suggestions_are_near_and_best_first() -> None:
    r = hdc.check((2, 4, 8))
    assert r.suggestions[0] == (1, 3, 9)  # the largest hole-free field of 3 rates with K = 3 is 1 + 2·13
    assert all(abs(sum(s) - 14) <= 3 for s in r.suggestions)
    distance = [abs(sum(s) - 14) for s in r.suggestions]
    assert distance == sorted(distance)


def test_sawtooth() -> None:
    assert hdc.check((1, 2, 5, 1, 2, 5)).sawtooth and hdc.check((1, 2, 5)).sawtooth
    assert not hdc.check((5, 2, 1)).sawtooth and not hdc.check((2, 2)).sawtooth


def test_cli_exit_codes_and_json() -> None:
    ok = runner.invoke(app, ["hdc-check", "1,2,5"])
    assert ok.exit_code == 0 and "no gridding" in ok.stdout and "coverage map" in ok.stdout
    grid = runner.invoke(app, ["hdc-check", "2,2", "--format", "json"])
    assert grid.exit_code == 1
    data = json.loads(grid.stdout)
    assert {"rates", "kernel", "gcd", "M", "m2", "hdc_ok", "receptive_field", "coverage", "holes", "gridding", "suggestions"} <= set(data)
    assert data["holes"] == [-3, -1, 1, 3] and data["gridding"] is True and data["m2"] == 2
    assert runner.invoke(app, ["hdc-check", "1,2,5,1,2,5", "-k", "5"]).exit_code == 0
    for bad in (["hdc-check", "1,0,x"], ["hdc-check", "1,2", "--kernel", "4"], ["hdc-check", ""]):
        result = runner.invoke(app, bad)
        assert result.exit_code == 2 and result.stderr.startswith("error: ")
    big = runner.invoke(app, ["hdc-check", ",".join(["1", "2", "5"] * 20)])
    assert big.exit_code == 0 and "strip" in big.stdout
    md = runner.invoke(app, ["hdc-check", "2,4,8", "-f", "markdown"])
    assert md.exit_code == 1 and "rates that would work" in md.stdout
