"""params == sum(p.numel()), flops == FlopCounterMode, every output shape == torch's."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convcost
from convcost import ConvcostError

from .conftest import LAYERS
from .helpers import assert_matches_torch

torch = pytest.importorskip("torch")

KIND_CASES = {
    "conv": "[8, 17, 15]|conv: {out: 12, kernel: [3, 5], stride: 2, padding: [[1, 2], [0, 1]], dilation: [1, 2], groups: 4}",
    "conv-same": "[3, 225, 224]|conv: {out: 16, kernel: 7, stride: 2, padding: same}",
    "conv1d": "[4, 50]|conv: {out: 6, kernel: 5, stride: 3, padding: 2}",
    "conv3d": "[3, 8, 16, 16]|conv: {out: 4, kernel: [3, 3, 3], stride: [1, 2, 2], padding: 1}",
    "dwconv": "[6, 20, 20]|dwconv: {kernel: 3, stride: 2, padding: same, multiplier: 2}",
    "dwconv-dilated": "[5, 13, 11]|dwconv: {kernel: [3, 5], padding: [[2, 1], [4, 0]], dilation: 2}",
    "dwconv-1d": "[3, 30]|dwconv: {kernel: 7, padding: 3, multiplier: 2}",
    "dwconv-3d": "[3, 5, 6, 7]|dwconv: {kernel: 3, padding: 1}",
    "dwconv-large": "[40, 40, 40]|dwconv: {kernel: 3, padding: 1}, dwconv: {kernel: 5, stride: 2, padding: 2}",
    "pwconv": "[8, 9, 9]|pwconv: {out: 4, groups: 2}",
    "sepconv": "[5, 16, 16]|sepconv: {out: 7, kernel: 3, padding: 1, multiplier: 3, dilation: 2}",
    "convtranspose": "[8, 7, 9]|convtranspose: {out: 4, kernel: 3, stride: 2, padding: 1, output_padding: 1, groups: 2}",
    "convtranspose-same": "[4, 6, 6]|convtranspose: {out: 3, kernel: 4, stride: 2, padding: same}",
    "convtranspose-asym": "[4, 6]|convtranspose: {out: 3, kernel: 3, stride: 2, padding: [[0, 1]], dilation: 2}",
    "convtranspose-dilated": "[4, 5, 7]|convtranspose: {out: 6, kernel: [3, 2], stride: [3, 2], dilation: [2, 1], padding: [2, 1], output_padding: [1, 0]}",
    "convtranspose-large": "[16, 24, 24]|convtranspose: {out: 32, kernel: 4, stride: 2, padding: 1, groups: 4}",
    "convtranspose3d": "[2, 3, 4, 5]|convtranspose: {out: 2, kernel: 2, stride: 2}",
    "deformconv": "[8, 12, 12]|deformconv: {out: 6, kernel: 3, padding: 1, groups: 2, offset_groups: 2}",
    "deformconv-v2": "[4, 9, 11]|deformconv: {out: 4, kernel: [3, 2], stride: 2, modulated: true, dilation: 2}",
    "chconv": "[16, 5, 5]|chconv: {kernel: 3, stride: 2}",
    "chconv-valid": "[16, 5]|chconv: {kernel: 5, padding: valid}",
    "gchconv": "[12, 6, 6]|gchconv: {groups: 3}",
    "gchconv-kernel": "[8, 4, 4, 4]|gchconv: {groups: 2, kernel: 3}",
    "convcls": "[32, 7, 7]|convcls: {classes: 10}",
    "maxpool": "[3, 15, 15]|maxpool: {kernel: 3, stride: 2, padding: 1, ceil_mode: true, dilation: 2}",
    "maxpool-same": "[3, 15, 16]|maxpool: {kernel: 2, padding: same}",
    "avgpool": "[3, 14, 14]|avgpool: {kernel: [2, 3], stride: [2, 1]}",
    "gap": "[3, 7, 7]|gap",
    "gmp-1d": "[3, 7]|gmp",
    "linear": "[3, 4, 4]|linear: {out: 10}",
    "flatten": "[3, 4, 4]|flatten",
    "bn": "[3, 4, 4]|bn",
    "gn": "[6, 4, 4]|gn: {groups: 3}",
    "activations": "[4, 4, 4]|relu, relu6, leakyrelu, sigmoid, tanh, silu, hswish, hsigmoid, gelu, softmax, identity",
    "activations-large": "[9, 64, 64]|relu6, bn, leakyrelu, layerscale, hswish, silu, gelu, hsigmoid, sigmoid, tanh, relu",
    "pools-large": "[16, 64, 64]|maxpool: {kernel: 3, stride: 2, padding: 1}, avgpool: {kernel: 3, stride: 2, padding: 1}, gmp",
    "gap-large": "[512, 9, 9]|layernorm, gap",
    "prelu": "[4, 4, 4]|prelu, prelu: {per_channel: true}",
    "dropout": "[4, 4, 4]|dropout: {p: 0.2}",
    "se": "[32, 5, 5]|se: {reduction: 4}",
    "mhsa": "[16, 5, 6]|mhsa: {heads: 4}",
    "mhsa-narrow": "[6, 7]|mhsa: {heads: 2, head_dim: 5, qkv_bias: false, proj: false}, mhsa: {heads: 5, proj_bias: false}",
    "shuffle": "[8, 3, 3]|shuffle: {groups: 4}",
    "chunk": "[8, 3, 3]|concat: [[chunk: {chunks: 2, index: 0}], [chunk: {chunks: 2, index: 1}, pwconv: {out: 4}]]",
    "scale": "[4, 3, 3]|scale: {by: 0.17}, scale: {by: 2, learned: true}",
    "slice": "[8, 3, 3]|concat: [[slice: {start: 0, end: 5}], [slice: {start: 5, end: 8}, pwconv: {out: 4}]]",
    "upsample": "[2, 3, 4]|upsample: {scale: 2}, upsample: {scale: [1, 3], mode: bilinear}",
    "upsample3d": "[2, 2, 3, 4]|upsample: {scale: 2, mode: bilinear}",
    "bn-act-shorthand": "[3, 8, 8]|conv: {out: 4, kernel: 3, bn: true, act: relu6}",
    "residual": "[8, 8, 8]|residual: {body: [conv: {out: 8, kernel: 3, stride: 2, padding: 1}], shortcut: [pwconv: {out: 8}, maxpool: {kernel: 2}]}",
    "concat": "[4, 9, 9]|concat: [[], [conv: {out: 3, kernel: 3, padding: 1}], [maxpool: {kernel: 3, stride: 1, padding: 1}, pwconv: {out: 2}]]",
    "after-linear": "[4, 3, 3]|flatten, bn, linear: {out: 5}, relu, se: {reduction: 5}",
}


@pytest.mark.parametrize("case", sorted(KIND_CASES))
def test_each_kind_matches_torch(case: str) -> None:
    shape, layers = KIND_CASES[case].split("|")
    assert_matches_torch(convcost.loads(f"input: {shape}\nlayers: [{layers}]"))


@pytest.mark.parametrize("name", ["mobilenet_v1", "resnet50"])
def test_zoo_matches_torch_built_from_the_stack(name: str) -> None:
    assert_matches_torch(convcost.load(LAYERS / f"{name}.yaml"))


# --- random stacks -----------------------------------------------------------------------
CONV_LIKE = st.one_of(
    st.builds(lambda o, k, s, p, d, g: f"conv: {{out: {o * g}, kernel: {k}, stride: {s}, padding: {p}, dilation: {d}, groups: {g}}}",
              st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.sampled_from(["0", "1", "same", "[[0, 2], [1, 0]]"]),
              st.integers(1, 2), st.sampled_from([1, 2])),
    st.builds(lambda k, s, m: f"dwconv: {{kernel: {k}, stride: {s}, padding: same, multiplier: {m}}}",
              st.integers(1, 5), st.integers(1, 2), st.integers(1, 2)),
    st.builds(lambda o, k: f"sepconv: {{out: {o}, kernel: {k}, padding: 1}}", st.integers(1, 6), st.integers(1, 3)),
    st.builds(lambda o, k, s, p: f"convtranspose: {{out: {o}, kernel: {k}, stride: {s}, padding: {p}}}",
              st.integers(1, 6), st.integers(1, 4), st.integers(1, 3), st.integers(0, 1)),
    st.builds(lambda k, s, c: f"maxpool: {{kernel: {k}, stride: {s}, ceil_mode: {c}}}", st.integers(1, 3), st.integers(1, 3),
              st.sampled_from(["true", "false"])),
    st.builds(lambda k: f"avgpool: {{kernel: {k}, padding: same}}", st.integers(1, 3)),
    st.sampled_from(["bn", "relu", "hswish", "se: {reduction: 2}", "upsample: {scale: 2}", "chconv: {kernel: 3}",
                     "upsample: {scale: 2, mode: bilinear}"]),
)  # fmt: skip


@st.composite
def stacks(draw: st.DrawFn) -> str:
    layers = draw(st.lists(CONV_LIKE, min_size=1, max_size=5))
    if draw(st.booleans()):
        body = draw(
            st.lists(
                st.sampled_from(["conv: {out: 4, kernel: 3, padding: 1}", "relu", "dwconv: {kernel: 3, padding: same}"]),
                min_size=1,
                max_size=3,
            )
        )
        layers.append(f"pwconv: {{out: 4}}, residual: {{body: [{', '.join(body)}]}}")
    tail = draw(st.sampled_from(["", ", gap, linear: {out: 3}", ", flatten", ", concat: [[], [pwconv: {out: 2}]]"]))
    size = draw(st.integers(6, 20))
    return f"input: [{draw(st.integers(1, 4)) * 2}, {size}, {size + draw(st.integers(0, 3))}]\nlayers: [{', '.join(layers)}{tail}]"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks())
def test_random_stacks_match_torch(text: str) -> None:
    try:
        stack = convcost.loads(text)
    except ConvcostError:
        assume(False)
        return
    assert_matches_torch(stack)
