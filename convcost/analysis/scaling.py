"""A stack scaled as MobileNet and EfficientNet scale theirs: width α multiplies every channel
count (``out:`` of convs and linears, an SE's explicit ``squeeze:``), rounded as torchvision's
``_make_divisible`` rounds (to the nearest multiple of the divisor, never below it nor more than
10 % down), keeping the classifier's class count (a ``linear`` or ``convcls`` that the model's
outputs read, through layers without channels of their own); resolution gives the input new
spatial sizes. Both rebind the whole stack, so every shape and count is exact again."""

from __future__ import annotations

import math
from fractions import Fraction

from ..errors import ConvcostError
from ..model.graph import Concat, Leaf, Node, Residual, Stack, bind
from ..model.program import lower
from ..yamlio.expr import divisible

MIN_WIDTH, MAX_WIDTH = Fraction(1, 100), 16  #: beyond these every channel is the divisor, or counts no display can show


def rounded(channels: int, alpha: Fraction, divisor: int) -> int:
    """torchvision's _make_divisible(channels · α, divisor)."""
    return int(divisible(channels * alpha, Fraction(divisor)))


def classifier_paths(stack: Stack) -> set[str]:
    """The layers that give the model's outputs their class count: a ``linear`` or ``convcls``
    the outputs read through layers without channels of their own; and, in a model of one output,
    the conv it so reads (a segmentation head's 1×1 conv). Several outputs are feature maps
    (an FPN, a detector's neck): they scale."""
    program = lower(stack)
    n = len(program.inputs)
    kept: set[str] = set()
    todo = [t for t in program.outputs if t >= n]
    seen: set[int] = set()
    while todo:
        t = todo.pop()
        if t in seen or t < n:
            continue
        seen.add(t)
        step = program.steps[t - n]
        if step.op.CLASSIFIER or ("out" in step.op.FIELDS and len(program.outputs) == 1):
            kept.add(step.path)
        elif "out" not in step.op.FIELDS:
            todo.extend(step.inputs)
    return kept


def _map(nodes: tuple[Node, ...], alpha: Fraction, divisor: int, keep: set[str]) -> list[Node]:
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, Leaf):
            op = node.op if node.path in keep else node.op.widened(lambda c: rounded(c, alpha, divisor))
            out.append(node if op == node.op else node._replace(op=op, in_shape=(), in_shapes=()))  # rebound below
        elif isinstance(node, Residual):
            out.append(
                node._replace(body=tuple(_map(node.body, alpha, divisor, keep)), shortcut=tuple(_map(node.shortcut, alpha, divisor, keep)))
            )
        else:
            assert isinstance(node, Concat)
            out.append(node._replace(branches=tuple(tuple(_map(b, alpha, divisor, keep)) for b in node.branches)))
    return out


def scaled(stack: Stack, width: Fraction | None = None, spatial: tuple[int, ...] | None = None, divisor: int = 8,
           channels: int | None = None) -> Stack:  # fmt: skip
    """``stack`` at width ``width``, input spatial sizes ``spatial`` and input ``channels`` (None: as it is)."""
    if width is not None and not MIN_WIDTH <= width <= MAX_WIDTH:
        raise ConvcostError(f"--width: expected a multiplier from {float(MIN_WIDTH):g} to {MAX_WIDTH}, found {float(width):g}")
    if divisor < 1:
        raise ConvcostError(f"--divisor: expected a positive integer, found {divisor}")
    if spatial is not None and len(stack.all_inputs) > 1:
        raise ConvcostError("--input: the file has several inputs; give each its size in the file's inputs:")
    if channels is not None and len(stack.all_inputs) > 1:
        raise ConvcostError("--input: the file has several inputs; give each its size in the file's inputs:")
    shape = (channels or stack.input[0], *(stack.input[1:] if spatial is None else spatial))
    if len(shape) != len(stack.input):
        raise ConvcostError(f"--input: {stack.name} takes {len(stack.input) - 1} spatial sizes, found {len(shape) - 1}")
    nodes = list(stack.layers) if width is None or width == 1 else _map(stack.layers, width, divisor, classifier_paths(stack))
    inputs = stack.inputs if shape == stack.input or not stack.inputs else ((stack.inputs[0][0], shape),)
    bound, _ = bind(nodes, shape, inputs, stack.names)
    label = "".join(
        [f" ×{float(width):g}" if width not in (None, 1) else "", f" @{'×'.join(map(str, shape))}" if shape != stack.input else ""]
    )
    return stack._replace(name=stack.name + label, input=shape, layers=bound, inputs=inputs)


def parse_shape(text: str) -> tuple[int, ...]:
    """'3,160,160' → (3, 160, 160): channels, then 1 to 3 spatial sizes."""
    parts = [p.strip() for p in text.replace("x", ",").replace("×", ",").split(",") if p.strip()]
    if not 2 <= len(parts) <= 4 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ConvcostError(f"--input: expected C,H,W (positive integers, 1 to 3 spatial sizes), found '{text}'")
    return tuple(int(p) for p in parts)


def overridden(stack: Stack, width: float | None, input_shape: str | None) -> Stack:
    """``--width`` and ``--input`` applied to a loaded stack (both None: the stack itself)."""
    if width is None and input_shape is None:
        return stack
    shape = parse_shape(input_shape) if input_shape is not None else None
    alpha = None
    if width is not None:
        if not (math.isfinite(width) and MIN_WIDTH <= width <= MAX_WIDTH):
            raise ConvcostError(f"--width: expected a multiplier from {float(MIN_WIDTH):g} to {MAX_WIDTH}, found {width:g}")
        alpha = Fraction(width).limit_denominator(10**6)
    return scaled(stack, alpha, shape[1:] if shape else None, channels=shape[0] if shape else None)
