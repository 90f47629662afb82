"""Peak memory, memory traffic and totals, worked by hand."""

from __future__ import annotations

import convcost


def report(text: str, **kw: object) -> convcost.Report:
    return convcost.analyze(convcost.loads(text), **kw)  # type: ignore[arg-type]


def test_peak_memory_of_a_chain_holds_input_and_output() -> None:
    r = report("input: [4, 8, 8]\nlayers: [conv: {out: 8, kernel: 3, padding: 1}, relu]")
    assert r.totals.peak_memory_bytes == 4 * (512 + 512)  # relu: its input and output
    r = report("input: [4, 8, 8]\nlayers: [conv: {out: 8, kernel: 3, padding: 1}]", batch=3, dtype="float16")
    assert r.totals.peak_memory_bytes == 2 * 3 * (256 + 512)


def test_peak_memory_keeps_the_residual_input_alive() -> None:
    r = report(
        "input: [4, 8, 8]\nlayers: [residual: {body: [conv: {out: 4, kernel: 3, padding: 1}, conv: {out: 4, kernel: 3, padding: 1}]}]"
    )
    assert r.totals.peak_memory_bytes == 4 * (256 * 3)  # x, first and second body outputs


def test_peak_memory_keeps_finished_concat_branches() -> None:
    r = report("input: [4, 8, 8]\nlayers: [concat: [[], [conv: {out: 8, kernel: 3, padding: 1}]]]")
    assert r.totals.peak_memory_bytes == 4 * (256 + 512 + 768)  # x (identity branch), branch 1, the concatenation
    assert r.layers[-1].kind == "concat" and r.layers[-1].output == (12, 8, 8)


def test_bytes_moved_and_totals() -> None:
    r = report("input: [3, 10, 10]\nlayers: [conv: {out: 2, kernel: 3, bias: false}, gap, linear: {out: 5}]", batch=2)
    conv, gap, linear = r.layers
    assert conv.bytes_moved == 4 * (2 * (300 + 128) + 54)
    assert gap.bytes_moved == 4 * (2 * (128 + 2))
    assert linear.bytes_moved == 4 * (2 * (2 + 5) + 15)
    assert r.totals.params == 54 + 15 and r.totals.macs == 2 * (128 * 27 + 10)
    assert r.totals.activations == 2 * (128 + 2 + 5)
    assert r.totals.flops == 2 * r.totals.macs


def test_merge_records_and_paths() -> None:
    r = report("""
input: [4, 8, 8]
blocks:
  unit:
    params: {c: 4}
    layers: [residual: {body: [conv: {out: $c, kernel: 3, padding: 1, bn: true, act: relu}], name: res}]
layers:
  - repeat: {times: 2, layers: [unit: {}]}
  - conv: {out: 4, kernel: 1, name: head}
""")
    assert [x.path for x in r.layers] == [
        "layers[0].repeat[0][0].unit[0].body[0]", "layers[0].repeat[0][0].unit[0].body[0].bn", "layers[0].repeat[0][0].unit[0].body[0].relu",
        "layers[0].repeat[0][0].unit[0]",
        "layers[0].repeat[1][0].unit[0].body[0]", "layers[0].repeat[1][0].unit[0].body[0].bn", "layers[0].repeat[1][0].unit[0].body[0].relu",
        "layers[0].repeat[1][0].unit[0]", "layers[1]",
    ]  # fmt: skip
    # human names: each block instance is a namespace (unit1, unit2); a residual's body shares it
    assert [x.name for x in r.layers] == ["unit1.conv", "unit1.conv.bn", "unit1.conv.relu", "unit1.res",
                                          "unit2.conv", "unit2.conv.bn", "unit2.conv.relu", "unit2.res", "head"]  # fmt: skip
    assert r.layers[3].kind == "residual"


def test_suffixes_anchors_and_defaults() -> None:
    r = report("""
input: [3, 8, 8]
defaults: {bias: false}
layers:
  - conv: &c {out: 1K, kernel: 3, padding: same}
  - conv: {<<: *c, out: 1_000, bias: true}
""")
    assert r.layers[0].params == 1000 * 27 and r.layers[1].params == 1000 * 1000 * 9 + 1000
