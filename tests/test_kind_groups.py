"""Issue 24 item 3: a kind is one place. Named groups of kinds live in kinds/groups.py, the roofline
class is the kind's own (Kind.device_class), and no module outside kinds/ and interop/ compares a
kind against a kind's name."""

from __future__ import annotations

import re

import pytest

import convcost
from convcost.device.roofline import layer_class
from convcost.kinds import COMPOSITE, KINDS
from convcost.kinds.groups import ACTIVATIONS, NORMS, SHORTHAND, TRANSPARENT, folds_into_previous
from convcost.model.graph import leaves

from .conftest import LAYERS, ROOT

#: compare kind names on purpose: the YAML's own composite syntax (residual, concat, repeat) and
#: the merges of the tree (until the program of the graph issue replaces them)
ALLOWED = set(COMPOSITE)


def test_no_kind_name_is_compared_outside_kinds() -> None:
    pattern = re.compile(r"""\bkind\b\s*(?:==|!=|in|not in)\s*[\(\[\{]?\s*["']([a-z0-9_]+)["']""")
    found = []
    for path in sorted((ROOT / "convcost").rglob("*.py")):
        rel = path.relative_to(ROOT / "convcost").as_posix()
        if rel.startswith(("kinds/", "interop/", "ops/")):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for name in pattern.findall(line):
                if name in KINDS and name not in ALLOWED:
                    found.append(f"{rel}:{n}: {line.strip()}")
    assert not found, "\n".join(found)


def test_the_groups_are_what_torch_says() -> None:
    torch = pytest.importorskip("torch")
    for kind in sorted(TRANSPARENT):
        stack = convcost.loads(f"input: [4, 6, 6]\nlayers: [{'gn: {groups: 2}' if kind == 'gn' else kind}]")
        module = stack.layers[0].op.torch_module((4, 6, 6))
        x = torch.randn(2, 4, 6, 6)
        assert module.eval()(x).shape == x.shape, kind  # per position, the shape kept
    for kind in sorted(NORMS):
        stack = convcost.loads(f"input: [8, 4, 4]\nlayers: [{'gn: {groups: 2}' if kind == 'gn' else kind}]")
        module = stack.layers[0].op.torch_module((8, 4, 4))
        assert sum(p.numel() for p in module.parameters()) == 2 * 8, kind  # a scale and a shift per channel
    assert ACTIVATIONS <= TRANSPARENT and NORMS <= TRANSPARENT and SHORTHAND <= TRANSPARENT
    assert folds_into_previous("residual") and folds_into_previous("relu") and not folds_into_previous("conv")


@pytest.mark.parametrize(
    ("model", "name", "expected"),
    [
        ("mobilenet_v1", "dw1.dwconv", ("depthwise", 1)),  # 3×3 depthwise (Howard et al.)
        ("mobilenet_v1", "dw1.pwconv", ("pointwise", 32)),  # 1×1 over 32 channels
        ("resnext_block", "conv2", ("grouped", 4)),  # 32 groups of 4 channels (128 → 128)
        ("resnet18", "linear", ("linear", 0)),
        ("unet_decoder", "branch2.convtranspose", ("transposed", 0)),
        ("resnet18", "conv.bn", ("memory", 0)),  # no MACs
    ],
)
def test_each_kind_names_its_device_class(model: str, name: str, expected: tuple[str, int]) -> None:
    stack = convcost.load(LAYERS / f"{model}.yaml")
    by_name = {leaf.name: leaf for leaf in leaves(stack.layers)}
    if name not in by_name:
        pytest.fail(f"{model} has no layer {name}: {sorted(by_name)[:12]}")
    assert layer_class(by_name[name]) == expected
