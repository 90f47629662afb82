"""Issue 23 item 2: the Python API — convcost.summary on a live nn.Module (as torchinfo, fvcore and
ptflops are called), and load/loads/analyze/compare/check/predict/hdc_check, held against torch's
own counts, published rules and the CLI's exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

import convcost
from convcost.errors import ConvcostError, ExitCode

from .conftest import LAYERS, ROOT


def test_the_public_names_are_importable_and_typed() -> None:
    for name in ("load", "loads", "analyze", "compare", "check", "predict", "hdc_check", "summary", "Summary", "Report", "Stack"):
        assert name in convcost.__all__ and getattr(convcost, name) is not None, name
    assert callable(convcost.compare)  # the function, not the module of the same idea (convcost.comparison)
    assert (ROOT / "convcost" / "py.typed").exists()


def test_summary_of_a_live_module_is_torchs_own_count() -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    from . import nets

    model = nets.resnet18().eval()
    found = convcost.summary(model, (3, 224, 224))
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        out = model(torch.zeros(1, 3, 224, 224))
    assert found.totals.params == sum(p.numel() for p in model.parameters()) == 11_689_512
    assert found.totals.macs == counter.get_total_flops() // 2 == 1_814_073_344
    assert tuple(found.totals.output) == tuple(out.shape[1:])
    convs = [name for name, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    text = str(found)
    assert all(f"\n{name} " in text for name in convs) and "11,689,512" in text  # the module's own names
    data = found.to_dict()
    assert data["totals"]["params"] == 11_689_512 and data["layers"][0]["name"] == convs[0]
    html = found._repr_html_()
    assert html.count("<tr>") == len(found.layers) + 2 and "<th>layer</th>" in html
    assert "11,689,512 params" in repr(found)


def test_summary_with_a_profile_and_bad_sizes() -> None:
    pytest.importorskip("torch")
    from torch import nn

    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
    found = convcost.summary(model, [3, 16, 16], device_profile="t4", batch=4)
    assert found.prediction is not None and found.prediction.total_ms > 0 and found.report.batch == 4
    assert found.totals.macs == 4 * 8 * 3 * 9 * 14 * 14
    for bad in ("3,16,16", (3, 16.0, 16), (0, 16, 16), (3,)):
        with pytest.raises(ConvcostError):
            convcost.summary(model, bad)  # type: ignore[arg-type]


def test_analyze_compare_predict_take_a_path_or_a_stack() -> None:
    path = LAYERS / "resnet18.yaml"
    stack = convcost.load(path)
    assert convcost.analyze(path).totals == convcost.analyze(stack).totals == convcost.analyze(str(path)).totals
    result = convcost.compare(path, ["separable"])
    assert [v.name for v in result.variants] == ["standard", "separable"]
    assert result.variants[1].report.totals.macs < result.variants[0].report.totals.macs
    other = convcost.compare(path, other=LAYERS / "resnet50.yaml")
    assert other.variants[1].report.totals.params == 25_557_032  # torchvision's ResNet-50
    assert convcost.predict(path, "t4").total_ms > 0


def test_check_carries_the_exit_code_the_command_would_give(tmp_path: Path) -> None:
    mobilenet = LAYERS / "mobilenet_v1.yaml"  # 4,231,976 params (the paper's 4.2M)
    assert convcost.check(mobilenet, params="4M").exit_code == ExitCode.FAIL
    assert convcost.check(mobilenet, params="5M").exit_code == ExitCode.OK
    broken = tmp_path / "broken.yaml"
    broken.write_text("input: [3, 8, 8]\nlayers: [conv: {kernel: 3}]\n")
    assert convcost.check(broken, params="1M").exit_code == ExitCode.BAD_INPUT
    with pytest.raises(ConvcostError, match="unknown limit"):
        convcost.check(mobilenet, parameters="4M")


def test_hdc_check_is_the_papers_rule() -> None:
    assert convcost.hdc_check("1,2,5").holes == ()  # HDC (Wang et al.): 1,2,5 covers every offset
    assert convcost.hdc_check([2, 2, 2]).holes  # the gridding example: a common factor 2
