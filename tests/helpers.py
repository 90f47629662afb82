"""Shared test helpers: convcost vs torch on the same stack."""

from __future__ import annotations

from typing import Any

import convcost


def torch_truth(stack: convcost.Stack, batch: int = 1) -> dict[str, Any]:
    """params, flops and every node's output shape, measured by torch on the built module."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from convcost.backends.torch_build import build, sequences

    module = build(stack)
    shapes: dict[str, Any] = {}
    for seq in sequences(module):
        seq.taps = shapes
    x = torch.randn(batch, *stack.input)
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        module(x)
    return {
        "params": sum(p.numel() for p in module.parameters()),
        "flops": counter.get_total_flops(),
        "shapes": {path: tuple(t.shape[1:]) for path, t in shapes.items()},
    }


def assert_matches_torch(stack: convcost.Stack) -> None:
    report = convcost.analyze(stack)
    truth = torch_truth(stack)
    assert report.totals.params == truth["params"]
    assert report.totals.flops == truth["flops"]
    # every leaf and merge node was executed, and its shape agrees
    assert {r.path for r in report.layers} == set(truth["shapes"])
    for record in report.layers:
        assert record.output == truth["shapes"][record.path], record.path
