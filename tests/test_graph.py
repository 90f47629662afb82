"""The graph in the file (SPEC §8): from:, outputs:, inputs:, multi-input kinds, the program
they lower to, and its semantics (liveness, fields, gridding), each against an independent truth."""

from __future__ import annotations

import time
from typing import Any

import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.errors import ConvcostError
from convcost.model.program import lower

runner = CliRunner()

FPN = """
name: fpn-toy
input: [3, 64, 64]
layers:
  - conv: {out: 16, kernel: 3, stride: 2, padding: 1, name: c2}
  - conv: {out: 32, kernel: 3, stride: 2, padding: 1, name: c3}
  - conv: {out: 64, kernel: 3, stride: 2, padding: 1, name: c4}
  - pwconv: {out: 32, name: lat4}
  - upsample: {scale: 2, name: up4}
  - pwconv: {out: 32, from: c3, name: lat3}
  - add: {from: [up4, lat3], name: p3}
  - conv: {out: 32, kernel: 3, padding: 1, from: p3, name: out3}
  - conv: {out: 32, kernel: 3, padding: 1, from: lat4, name: out4}
outputs: [out3, out4]
"""


def fpn_torch() -> Any:
    """The same network written in torch by hand (torchvision's FPN pattern: lateral + nearest ×2)."""
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c2, self.c3, self.c4 = nn.Conv2d(3, 16, 3, 2, 1), nn.Conv2d(16, 32, 3, 2, 1), nn.Conv2d(32, 64, 3, 2, 1)
            self.lat4, self.lat3 = nn.Conv2d(64, 32, 1), nn.Conv2d(32, 32, 1)
            self.out3, self.out4 = nn.Conv2d(32, 32, 3, padding=1), nn.Conv2d(32, 32, 3, padding=1)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            c3 = self.c3(self.c2(x))
            lat4 = self.lat4(self.c4(c3))
            p3 = nn.functional.interpolate(lat4, scale_factor=2, mode="nearest") + self.lat3(c3)
            return self.out3(p3), self.out4(lat4)

    return Net()


def test_fpn_counts_equal_a_hand_written_torch_net() -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    stack = convcost.loads(FPN)
    report = convcost.analyze(stack)
    net = fpn_torch().eval()
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        outs = net(torch.zeros(1, 3, 64, 64))
    assert report.totals.params == sum(p.numel() for p in net.parameters())
    assert report.totals.flops == counter.get_total_flops()
    assert stack.output_shapes == tuple(tuple(o.shape[1:]) for o in outs) == ((32, 16, 16), (32, 8, 8))
    assert [r.name for r in report.layers] == ["c2", "c3", "c4", "lat4", "up4", "lat3", "p3", "out3", "out4"]


def test_fpn_runs_alike_on_numpy_torch_and_its_export(tmp_path: Any) -> None:
    pytest.importorskip("torch")
    import numpy as np

    from convcost.backends.execute import run_once

    stack = convcost.loads(FPN)
    a = run_once(stack, "numpy", seed=3, every_output=True)
    b = run_once(stack, "torch", seed=3, every_output=True)
    assert [x.shape for x in a] == [x.shape for x in b] == [(1, 32, 16, 16), (1, 32, 8, 8)]
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(y).max())))
    path = tmp_path / "m.yaml"
    path.write_text(FPN)
    result = runner.invoke(app, ["export", str(path), "-o", str(tmp_path / "m.py")])
    assert result.exit_code == 0, result.output
    scope: dict[str, Any] = {}
    exec(compile((tmp_path / "m.py").read_text(), "m.py", "exec"), scope)  # noqa: S102 — the file convcost just wrote
    import torch

    model = scope["build"]().eval()
    with torch.no_grad():
        outs = model(torch.zeros(1, 3, 64, 64))
    assert [tuple(o.shape[1:]) for o in outs] == [(32, 16, 16), (32, 8, 8)]
    assert sum(p.numel() for p in model.parameters()) == convcost.analyze(stack).totals.params


def test_peak_memory_is_liveness_over_the_program() -> None:
    # Tensors (elements): x 3·64·64 = 12288; c2 16·32·32 = 16384; c3 32·16·16 = 8192; c4 64·8·8 = 4096;
    # lat4 32·8·8 = 2048; up4 8192; lat3 8192; p3 8192; out3 8192; out4 2048. In order, alive after each
    # step (a tensor dies after its last reader; out3 and out4 live to the end):
    #   c2: x + c2 = 28672 (then x dies) · c3: 16384 + 8192 = 24576 · c4: 8192 + 4096 · lat4: 8192 + 4096
    #   + 2048 = 14336 · up4: c3 + lat4 + up4 = 18432 · lat3: c3 + lat4 + up4 + lat3 = 26624 · p3: lat4 +
    #   up4 + lat3 + p3 = 26624 · out3: lat4 + p3 + out3 = 18432 · out4: out3 + lat4 + out4 = 12288.
    report = convcost.analyze(convcost.loads(FPN))
    assert report.totals.peak_memory_bytes == 28672 * 4


def test_the_tree_and_the_graph_lower_to_the_same_costs() -> None:
    tree = convcost.loads("""
input: [8, 16, 16]
layers:
  - conv: {out: 8, kernel: 3, padding: 1, name: stem}
  - residual: {body: [conv: {out: 8, kernel: 3, padding: 1}, relu, conv: {out: 8, kernel: 3, padding: 1}]}
  - concat: [[conv: {out: 4, kernel: 1}], [maxpool: {kernel: 3, stride: 1, padding: 1}]]
""")
    graph = convcost.loads("""
input: [8, 16, 16]
layers:
  - conv: {out: 8, kernel: 3, padding: 1, name: stem}
  - conv: {out: 8, kernel: 3, padding: 1}
  - relu
  - conv: {out: 8, kernel: 3, padding: 1, name: body}
  - add: {from: [body, stem], name: sum}
  - conv: {out: 4, kernel: 1, name: a}
  - maxpool: {kernel: 3, stride: 1, padding: 1, from: sum, name: b}
  - concat: {from: [a, b]}
""")
    t, g = convcost.analyze(tree), convcost.analyze(graph)
    assert (t.totals.params, t.totals.macs, t.totals.rf, t.totals.coverage, t.totals.output) == (
        g.totals.params, g.totals.macs, g.totals.rf, g.totals.coverage, g.totals.output)  # fmt: skip
    assert [r.kind for r in t.layers][-4:] == ["residual", "conv", "maxpool", "concat"]
    assert t.totals.peak_memory_bytes <= g.totals.peak_memory_bytes  # the residual adds in place; an add has an output of its own
    assert [s.inputs for s in lower(graph).steps][4] == (4, 1)  # add reads body (step 3 → tensor 4) and stem (tensor 1)


def test_two_inputs_and_block_scopes() -> None:
    stack = convcost.loads("""
inputs: {rgb: [3, 32, 32], depth: [1, 32, 32]}
blocks:
  fuse:
    params: {out: 8}
    layers:
      - conv: {out: $out, kernel: 1, from: in0, name: a}
      - conv: {out: $out, kernel: 1, from: in1, name: b}
      - add: {from: [a, b]}
layers:
  - conv: {out: 8, kernel: 3, padding: 1, from: rgb, name: r}
  - conv: {out: 8, kernel: 3, padding: 1, from: depth, name: a}
  - fuse: {out: 16, from: [r, a], name: f1}
  - fuse: {out: 16, from: [-1, f1], name: f2}
""")
    report = convcost.analyze(stack)
    names = [r.name for r in report.layers]
    assert names == ["r", "a", "f1.a", "f1.b", "f1.add", "f2.a", "f2.b", "f2.add"]
    steps = lower(stack).steps
    # inside f1, `a` is f1's own a (its scope first), not the top-level a
    assert steps[4].inputs == (2 + 2, 2 + 3)
    # r·9·3·8 + a·9·1·8 + f1 (8·16 + 8·16) + f2 (16·16 + 16·16), weights only + biases
    assert report.totals.params == (3 * 9 * 8 + 8) + (9 * 8 + 8) + 2 * (8 * 16 + 16) + 2 * (16 * 16 + 16)
    assert report.warnings == ()


def test_ultralytics_negative_indices() -> None:
    stack = convcost.loads("""
input: [3, 32, 32]
layers:
  - conv: {out: 8, kernel: 3, stride: 2, padding: 1, bn: true, act: silu}
  - conv: {out: 16, kernel: 3, stride: 2, padding: 1}
  - upsample: {scale: 2}
  - concat: {from: [-1, -3]}
""")
    assert stack.output == (24, 16, 16)
    assert lower(stack).steps[-1].inputs == (5, 3)  # the upsample, and the first entry's output (after its bn and act)


def test_broadcast_gate_and_concat_axis() -> None:
    stack = convcost.loads("""
input: [8, 16, 16]
layers:
  - gap: {name: pooled}
  - mul: {from: [pooled, -2], name: gated}
  - concat: {from: [gated, gated], axis: 2}
""")
    assert stack.output == (8, 16, 32)
    report = convcost.analyze(stack)
    assert [r.output for r in report.layers] == [(8, 1, 1), (8, 16, 16), (8, 16, 32)]
    assert report.layers[-1].rf is None  # positions of two tensors side by side: no field of its own


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("layers: [conv: {out: 4, kernel: 1, name: a}, relu: {from: b}]", "no layer or input is named 'b'"),
        ("layers: [conv: {out: 4, kernel: 1, name: stem}, relu: {from: stme}]", "did you mean 'stem'"),
        ("layers: [relu: {from: later}, conv: {out: 4, kernel: 1, name: later}]", "forward reference"),
        ("layers: [relu: {from: me, name: me}]", "forward reference"),
        ("layers: [relu, relu: {from: -3}]", "reaches before the start"),
        ("layers: [relu, relu: {from: 0}]", "expected a negative index"),
        ("layers: [conv: {out: 4, kernel: 1}, add: {from: [-1, -2]}]", "axis 0 has sizes 3, 4"),
        ("layers: [conv: {out: 4, kernel: 1}, relu: {from: [-1, -2]}]", "relu reads one tensor"),
        ("layers: [relu]\noutputs: [nothing]", "no layer or input is named 'nothing'"),
        ("layers: [relu, relu: {from: []}]", "expected from:"),
        ("layers: [conv: {out: 4, kernel: 1}, concat: {from: [-1, -2], axis: 1}]", "the other axes must match"),
    ],
)
def test_bad_references_are_one_located_line(text: str, message: str) -> None:
    with pytest.raises(ConvcostError, match=message) as info:
        convcost.loads("input: [3, 8, 8]\n" + text)
    assert "\n" not in str(info.value) and info.value.mark is not None


def test_input_and_inputs_together_and_unread_inputs(write_yaml: Any) -> None:
    with pytest.raises(ConvcostError, match="either input"):
        convcost.loads("input: [3, 8, 8]\ninputs: {a: [3, 8, 8]}\nlayers: [relu]")
    report = convcost.analyze(convcost.loads("inputs: {a: [3, 8, 8], b: [3, 8, 8]}\nlayers: [relu]"))
    assert report.warnings == ("input 'b' is read by no layer",)
    path = write_yaml("inputs: {a: [3, 8, 8], b: [3, 8, 8]}\nlayers: [relu: {from: zz}]\n")
    result = runner.invoke(app, ["analyze", str(path)])
    assert (
        result.exit_code == 2
        and "model.yaml:2:23: layers[0].relu.from: no layer or input is named 'zz'" in result.stderr
        and "Traceback" not in result.stderr
    )


def test_rewrites_of_a_graph_keep_its_references() -> None:
    stack = convcost.loads(FPN)
    from convcost.analysis.rewrite import rewrite

    variant = rewrite(stack, "separable")
    assert set(variant.changed) == {"layers[0]", "layers[1]", "layers[2]", "layers[7]", "layers[8]"}
    assert variant.stack.output_shapes == stack.output_shapes
    steps = lower(variant.stack).steps
    out4 = [s for s in steps if s.name.startswith("out4")]
    assert steps[out4[0].inputs[0] - 1].name == "lat4"  # the rewritten out4 still reads lat4
    result = runner.invoke(app, ["compare", "-", "--rewrite", "separable"], input=FPN)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("n", [2_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_a_wide_fan_out_is_bounded(n: int) -> None:
    """n layers reading one, then one concat of all of them: linear in n (10⁵: about 20 s, most
    of it YAML parsing), memory by liveness exact."""
    names = ", ".join(f"r{i}" for i in range(n))
    text = "input: [2, 4, 4]\nlayers:\n  - conv: {out: 2, kernel: 1, name: stem}\n" + "".join(
        f"  - relu: {{from: stem, name: r{i}}}\n" for i in range(n)) + f"  - concat: {{from: [{names}]}}\n"  # fmt: skip
    started = time.perf_counter()
    report = convcost.analyze(convcost.loads(text))
    assert len(report.layers) == n + 2 and report.totals.output == (2 * n, 4, 4)
    # at the concat: stem (until its last reader, r{n-1}), all n relus and the concat's output alive
    assert report.totals.peak_memory_bytes == (32 * n + 32 * n) * 4
    assert time.perf_counter() - started < 300  # linear: seconds, not hours


def test_emitted_rewrite_of_a_graph_reads_back_with_the_same_numbers(tmp_path: Any) -> None:
    from convcost.analysis.rewrite import rewrite

    model = tmp_path / "fpn.yaml"
    model.write_text(FPN)
    result = runner.invoke(app, ["compare", str(model), "-r", "separable", "--emit-yaml", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    again = convcost.load(tmp_path / "out" / "fpn.separable.yaml")
    expected = rewrite(convcost.loads(FPN), "separable").stack
    a, b = convcost.analyze(again), convcost.analyze(expected)
    assert [(r.output, r.params, r.macs) for r in a.layers] == [(r.output, r.params, r.macs) for r in b.layers]
    assert again.output_shapes == expected.output_shapes and [s.inputs for s in lower(again).steps] == [
        s.inputs for s in lower(expected).steps
    ]


GRAPH_BLOCKS = [("OSAModule", (64, 16, 16)), ("DLATree", (32, 16, 16)), ("HRExchange", (18, 16, 16)),
                ("Res2NetUnit", (64, 16, 16)), ("SelecSLSBlock", (32, 16, 16)), ("FPNResNet50", (3, 64, 64)),
                ("InceptionC", (1536, 8, 8))]  # fmt: skip


@pytest.mark.parametrize(("factory", "shape"), GRAPH_BLOCKS, ids=[f for f, _ in GRAPH_BLOCKS])
@pytest.mark.parametrize("route", ["torch", pytest.param("onnx", marks=pytest.mark.slow)])
def test_graphs_that_do_not_nest_import_exactly(factory: str, shape: tuple[int, ...], route: str, tmp_path: Any) -> None:
    """torch-written blocks whose paths do not nest as residual/concat (a long skip, a chain read
    at several points, several outputs) import with from:, through torch.fx and through ONNX,
    and count what torch counts."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    from convcost.interop import aten_ops
    from convcost.interop.read import to_yaml

    from . import nets

    model = getattr(nets, factory)().eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = model(torch.zeros(1, *shape))
    outs = out if isinstance(out, tuple) else (out,)
    if route == "torch":
        text = to_yaml(aten_ops.read(model, shape), factory, "")
    else:
        pytest.importorskip("onnx")
        import warnings

        from convcost.interop import from_onnx

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (torch.zeros(2, *shape),), str(tmp_path / "m.onnx"), dynamo=False,
                              training=torch.onnx.TrainingMode.TRAINING)  # fmt: skip
        text = to_yaml(from_onnx.read(str(tmp_path / "m.onnx"), None), factory, "")
    assert "from:" in text
    stack = convcost.loads(text)
    report = convcost.analyze(stack)
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.totals.flops == counter.get_total_flops()
    assert stack.output_shapes == tuple(tuple(o.shape[1:]) for o in outs)


def test_merges_warn_only_where_grids_cannot_align() -> None:
    from .conftest import LAYERS

    for name in ("unet_decoder", "fpn_resnet50"):  # nearest ×2 top-down paths: a half-step of phase, no warning
        assert convcost.analyze(convcost.load(LAYERS / f"{name}.yaml")).warnings == (), name
    assert convcost.analyze(convcost.loads(FPN)).warnings == ()
    strides = convcost.analyze(
        convcost.loads("""
input: [4, 24, 24]
layers:
  - conv: {out: 4, kernel: 1, stride: 3, name: a}            # 8×8 at stride 3
  - conv: {out: 4, kernel: 1, stride: 2, from: -2, name: b}   # 12×12 at stride 2
  - conv: {out: 4, kernel: 5}                                 # 8×8 at stride 2
  - add: {from: [a, -1]}
""")
    )
    assert strides.warnings == ("add: the branches' receptive fields differ in centre or stride; the largest is kept",)
    # fields of different inputs are not compared: how the inputs relate is not known
    two = convcost.analyze(
        convcost.loads("""
inputs: {big: [4, 16, 16], small: [4, 8, 8]}
layers:
  - conv: {out: 4, kernel: 3, stride: 2, padding: 1, from: big, name: a}
  - conv: {out: 4, kernel: 3, padding: 1, from: small, name: b}
  - add: {from: [a, b]}
""")
    )
    assert two.warnings == ()
    # one pixel off at stride 1 with no up-sampling before it: a real shift
    shifted = convcost.analyze(
        convcost.loads("""
input: [4, 16, 16]
layers:
  - conv: {out: 4, kernel: 3, padding: [[2, 0], [2, 0]], name: a}
  - add: {from: [a, -2]}
""")
    )
    assert len(shifted.warnings) == 1


def test_gridding_is_followed_along_every_path() -> None:
    stack = convcost.loads("""
input: [8, 32, 32]
layers:
  - conv: {out: 8, kernel: 3, dilation: 2, padding: 2, name: a}
  - conv: {out: 8, kernel: 3, dilation: 2, padding: 2, name: left}
  - conv: {out: 8, kernel: 3, dilation: 1, padding: 1, from: a, name: right}
  - add: {from: [left, right]}
""")
    # a → left: rates 2,2 (reads 5 of 9 offsets); a → right: rates 2,1 (7 of 7: contiguous)
    warnings = convcost.analyze(stack).warnings
    assert len(warnings) == 1 and "a, left (dilation rates 2,2)" in warnings[0] and "4 of 9" in warnings[0]


def test_names_that_collide_after_prefixing_are_refused_where_read() -> None:
    text = """
input: [4, 8, 8]
blocks:
  unit:
    layers: [conv: {out: 4, kernel: 1, name: y}]
layers:
  - unit: {name: x}
  - relu: {name: x.y}
  - relu: {from: x.y}
"""
    with pytest.raises(ConvcostError, match="'x.y' names 2 layers; give the one you mean a name: of its own") as info:
        convcost.loads(text)
    assert info.value.mark is not None and info.value.mark.line == 9
    # unread, the same names are no error (names need not be unique where nothing reads them)
    assert len(convcost.analyze(convcost.loads(text.replace("  - relu: {from: x.y}\n", ""))).layers) == 2


def test_a_block_instance_is_read_by_its_name() -> None:
    stack = convcost.loads("""
input: [4, 8, 8]
blocks:
  unit:
    layers: [conv: {out: 8, kernel: 1}, relu]
layers:
  - unit: {name: a}
  - conv: {out: 2, kernel: 1, from: -2, name: side}
  - concat: {from: [a, side]}
""")
    assert stack.output == (10, 8, 8)  # a: its last layer (a.relu); -2: the model's input
    assert lower(stack).steps[-1].inputs == (2, 3)


# --- found by review: each failed before its fix -----------------------------------------------


def test_convcls_leaves_a_pool_and_classifier_read_apart_alone() -> None:
    from convcost.analysis.rewrite import rewrite

    stack = convcost.loads("""
input: [16, 8, 8]
layers:
  - conv: {out: 16, kernel: 3, padding: 1, name: a}
  - conv: {out: 16, kernel: 3, padding: 1, name: b, stride: 2}
  - gap: {name: g, from: a}
  - linear: {out: 10, name: fc, from: b}
""")
    variant = rewrite(stack, "convcls")
    assert variant.changed == () and variant.skipped == (("layers[3]", "its pool and classifier are read apart (from: or outputs:)"),)
    assert convcost.analyze(variant.stack).totals.params == convcost.analyze(stack).totals.params


def test_an_input_and_a_layer_of_one_name_are_ambiguous_where_read() -> None:
    with pytest.raises(ConvcostError, match="'input' names 2 layers"):
        convcost.loads("input: [3, 8, 8]\nlayers: [conv: {out: 4, kernel: 1, name: input}, relu: {from: input}]")


def test_a_residual_reads_one_tensor() -> None:
    with pytest.raises(ConvcostError, match="a residual reads one tensor"):
        convcost.loads("input: [3, 8, 8]\nlayers: [relu: {name: a}, relu: {name: b}, residual: {from: [a, b], body: [relu]}]")


def test_a_tensor_read_by_nothing_is_freed_at_once() -> None:
    # x 192, a 256, dead 256 (freed at once), b 256, c 256: the peak is x + a + dead = 704 elements
    report = convcost.analyze(
        convcost.loads("""
input: [3, 8, 8]
layers:
  - conv: {out: 4, kernel: 3, padding: 1, name: a}
  - conv: {out: 4, kernel: 1, from: input, name: dead}
  - conv: {out: 4, kernel: 3, padding: 1, from: a, name: b}
  - conv: {out: 4, kernel: 3, padding: 1, name: c}
""")
    )
    assert report.totals.peak_memory_bytes == 704 * 4


def test_an_output_read_on_keeps_its_own_gridding_run() -> None:
    report = convcost.analyze(
        convcost.loads("""
input: [4, 32, 32]
layers:
  - conv: {out: 4, kernel: 3, padding: 2, dilation: 2, name: a}
  - conv: {out: 4, kernel: 3, padding: 2, dilation: 2, name: b}
  - conv: {out: 4, kernel: 3, padding: 1, name: c}
outputs: [b, c]
""")
    )
    assert [w for w in report.warnings if "a, b (dilation rates 2,2)" in w]


def test_a_concat_on_channels_counted_from_the_end_keeps_the_field() -> None:
    report = convcost.analyze(
        convcost.loads("input: [3, 8, 8]\nlayers: [conv: {out: 2, kernel: 3, padding: 1, name: a}, concat: {from: [a, a], axis: -3}]")
    )
    assert report.layers[-1].rf is not None and report.layers[-1].rf.size == (3, 3)


@pytest.mark.parametrize("name", ["y1", "self", "torch"])
def test_export_of_inputs_named_like_its_own_variables(name: str, tmp_path: Any) -> None:
    pytest.importorskip("torch")
    import numpy as np
    import torch

    from convcost.backends.torch_build import build

    text = f"""
inputs: {{{name}: [3, 8, 8], z: [3, 8, 8]}}
layers:
  - conv: {{out: 3, kernel: 3, padding: 1, name: a}}
  - conv: {{out: 3, kernel: 3, padding: 1, name: b, from: z}}
  - add: {{from: [a, b, {name}, z]}}
"""
    path = tmp_path / "m.yaml"
    path.write_text(text)
    assert runner.invoke(app, ["export", str(path), "-o", str(tmp_path / "m.py")]).exit_code == 0
    scope: dict[str, Any] = {}
    exec(compile((tmp_path / "m.py").read_text(), "m.py", "exec"), scope)  # noqa: S102 — the file convcost just wrote
    exported, ours = scope["build"]().eval(), build(convcost.loads(text))
    exported.load_state_dict(dict(zip(exported.state_dict(), ours.state_dict().values())))
    xs = (torch.randn(1, 3, 8, 8), torch.randn(1, 3, 8, 8))
    with torch.no_grad():
        np.testing.assert_allclose(exported(*xs).numpy(), ours(*xs).numpy(), rtol=1e-6)


def test_names_inside_shortcuts_survive_the_written_rewrite(tmp_path: Any) -> None:
    model = tmp_path / "n.yaml"
    model.write_text("""
input: [4, 8, 8]
layers:
  - conv: {out: 4, kernel: 3, padding: 1, name: a}
  - residual:
      name: r
      body: [conv: {out: 4, kernel: 3, padding: 1, name: inner}]
      shortcut: [conv: {out: 4, kernel: 3, padding: 1, name: sc}]
  - add: {from: [-1, r.shortcut.sc, inner]}
""")
    assert runner.invoke(app, ["compare", str(model), "-r", "separable", "--emit-yaml", str(tmp_path / "out")]).exit_code == 0
    again = convcost.load(tmp_path / "out" / "n.separable.yaml")
    assert [r.name for r in convcost.analyze(again).layers][-1] == "add"


def test_a_tensor_returned_twice_imports_as_one_output() -> None:
    torch = pytest.importorskip("torch")

    from convcost.interop import aten_ops
    from convcost.interop.read import to_yaml

    class Twice(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1, self.c2 = torch.nn.Conv2d(3, 4, 1), torch.nn.Conv2d(4, 4, 1)

        def forward(self, x: Any) -> Any:
            a = self.c1(x)
            return a, self.c2(a), a

    stack = convcost.loads(to_yaml(aten_ops.read(Twice(), (3, 8, 8)), "twice", ""))
    assert stack.output_shapes == ((4, 8, 8), (4, 8, 8))


def test_an_aliased_list_of_names_is_refused_before_it_multiplies() -> None:
    names = ", ".join(["a"] * 2000)
    text = (
        f"input: [1, 2, 2]\nlayers:\n  - conv: {{out: 1, kernel: 1, name: a}}\n  - add: {{from: &L [{names}]}}\n"
        + "  - add: {from: *L}\n" * 2000
    )
    started = time.perf_counter()
    with pytest.raises(ConvcostError, match="expands past"):
        convcost.loads(text)
    assert time.perf_counter() - started < 60


def test_the_extractor_field_is_one_the_output_depends_on() -> None:
    report = convcost.analyze(
        convcost.loads("""
input: [4, 16, 16]
layers:
  - conv: {out: 4, kernel: 3, padding: 1, name: a}
  - conv: {out: 4, kernel: 7, padding: 3, name: side}
  - gap: {from: a, name: g}
outputs: [g]
""")
    )
    assert report.totals.rf.size == (3, 3)  # a's, not the later side branch's 9
