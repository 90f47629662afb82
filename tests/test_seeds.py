"""The worked examples of the seed articles (shared/seeds) and REFERENCES.md."""

from __future__ import annotations

import convcost


def costs(yaml_text: str) -> convcost.Report:
    return convcost.analyze(convcost.loads(yaml_text))


def test_separable_example_of_seed_000() -> None:
    standard = costs("input: [3, 12, 12]\nlayers: [conv: {out: 256, kernel: 5, bias: false}]")
    assert standard.layers[0].output == (256, 8, 8)
    assert standard.totals.macs == 1_228_800
    split = costs("input: [3, 12, 12]\nlayers: [dwconv: {kernel: 5, bias: false}, pwconv: {out: 256, bias: false}]")
    assert [r.macs for r in split.layers] == [4_800, 49_152]
    one = costs("input: [3, 12, 12]\nlayers: [sepconv: {out: 256, kernel: 5, bias: false}]")
    assert one.totals.macs == 53_952
    assert one.totals.params == 3 * 25 + 3 * 256


def test_bottleneck_example_of_seed_002() -> None:
    plain = costs("input: [256, 56, 56]\nlayers: [conv: {out: 256, kernel: 3, padding: 1, bias: false}]")
    assert plain.totals.params == 589_824
    bneck = costs("""
input: [256, 56, 56]
defaults: {bias: false}
layers:
  - pwconv: {out: 64}
  - conv: {out: 64, kernel: 3, padding: 1}
  - pwconv: {out: 256}
""")
    assert bneck.totals.params == 69_632


def test_dilated_receptive_fields_of_seed_003() -> None:
    report = costs("""
input: [8, 64, 64]
layers:
  - conv: {out: 8, kernel: 3, dilation: 1, padding: 1}
  - conv: {out: 8, kernel: 3, dilation: 2, padding: 2}
  - conv: {out: 8, kernel: 3, dilation: 4, padding: 4}
""")
    assert [r.rf.size for r in report.layers] == [(3, 3), (7, 7), (15, 15)]
    assert [r.coverage for r in report.layers] == [1, 1, 1]
    assert report.warnings == ()


def test_channelnets_classifier_of_seed_001() -> None:
    report = costs("input: [1024, 7, 7]\nlayers: [convcls: {classes: 1000}]")
    assert report.totals.params == 7 * 7 * 25 == 1_225
    assert report.totals.macs == 1000 * 1_225
    assert report.layers[0].output == (1000,)
    gap_fc = costs("input: [1024, 7, 7]\nlayers: [gap, linear: {out: 1000}]")
    assert gap_fc.totals.params == 1_025_000


def test_channelnets_group_channelwise_params() -> None:
    # two GCWMs with g = 2 add 32 params (d_c = 4g = 8): g·d_c = 16 each
    report = costs("input: [64, 14, 14]\nlayers: [gchconv: {groups: 2}, gchconv: {groups: 2}]")
    assert report.totals.params == 32
    assert report.layers[0].macs == 64 * 14 * 14 * 8
    chconv = costs("input: [64, 14, 14]\nlayers: [dwconv: {kernel: 3, padding: 1, bias: false}, chconv: {kernel: 64}]")
    assert chconv.totals.params == 9 * 64 + 64  # d_k²·m + d_c


def test_deformable_offset_conv_of_references() -> None:
    v1 = costs("input: [256, 32, 32]\nlayers: [deformconv: {out: 256, kernel: 3, padding: 1, bias: false}]")
    v2 = costs("input: [256, 32, 32]\nlayers: [deformconv: {out: 256, kernel: 3, padding: 1, bias: false, modulated: true}]")
    assert v1.totals.params == 589_824 + 41_490
    assert v2.totals.params == 589_824 + 62_235
    assert v1.totals.macs == 32 * 32 * (18 * 256 * 9 + 256 * 256 * 9)


def test_transposed_conv_macs_are_input_based() -> None:
    # several counters get this stride² too high (output-based)
    report = costs("input: [64, 16, 16]\nlayers: [convtranspose: {out: 32, kernel: 4, stride: 2, padding: 1, bias: false}]")
    assert report.layers[0].output == (32, 32, 32)
    assert report.totals.macs == 64 * 16 * 16 * 32 * 16


def test_shufflenet_v2_memory_access_cost() -> None:
    # MAC of a 1×1 conv = h·w·(c1 + c2) + c1·c2 elements (Ma et al. 2018)
    h = w = 28
    c1, c2 = 116, 116
    report = costs(f"input: [{c1}, {h}, {w}]\nlayers: [pwconv: {{out: {c2}, bias: false}}]")
    assert report.layers[0].bytes_moved == 4 * (h * w * (c1 + c2) + c1 * c2)
