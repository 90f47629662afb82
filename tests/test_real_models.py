"""Import = torch on models other people wrote: every torchvision classification model below
100M parameters, the segmentation models, detection backbones with their FPN, and timm
architectures across its families (``tests/real.py``). Params, MACs and output shapes must equal
torch's own; a refused model must be refused naming the op listed in ``real.REFUSED``.

The default tier runs ``real.QUICK``; CI (the slow tier) runs the rest — timm sampled, every
other one, so that CI stays within its time (``benchmarks/bench_import.py`` runs them all).
"""

from __future__ import annotations

from typing import Any

import pytest

from convcost.errors import ConvcostError

from . import real

pytest.importorskip("torch")

needs_torchvision = pytest.mark.skipif(not real.HAVE_TORCHVISION, reason="torchvision is not installed (pip install --no-deps torchvision)")
needs_timm = pytest.mark.skipif(not real.HAVE_TIMM, reason="timm is not installed (pip install --no-deps timm)")


def _cases() -> list[Any]:
    quick = set(real.QUICK)
    cases: list[Any] = []
    for source, names, mark in (("torchvision", real.TORCHVISION + real.TORCHVISION_DENSE, needs_torchvision),
                                ("timm", real.TIMM[::2], needs_timm)):  # fmt: skip
        for name in names:
            marks = [mark] if (source, name) in quick else [mark, pytest.mark.slow]
            cases.append(pytest.param(source, name, marks=marks, id=f"{source}:{name}"))
    return cases


@pytest.mark.parametrize(("source", "name"), _cases())
def test_import_counts_what_torch_counts(source: str, name: str) -> None:
    model, shape = real.build(source, name)
    refused = real.REFUSED.get(name)
    if refused is not None:
        with pytest.raises(ConvcostError, match=rf"^{refused} '"):
            real.imported(model, shape)
        return
    assert real.imported(model, shape) == real.truth(model, shape)


@needs_torchvision
@pytest.mark.slow
def test_parameters_forward_never_reads_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from convcost.cli import app

    from .conftest import ROOT

    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["import", "tests/real.py:googlenet", "-i", "3,224,224"])
    assert result.exit_code == 0, result.stderr
    note = "6,379,984 parameters that forward() never reads are not counted: aux1, aux2"
    assert f"# Note: {note}." in result.stdout and f"note: {note}" in result.stderr
