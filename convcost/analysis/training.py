"""The backward pass of one training step, as autograd runs it, over the program.

Every product of the forward (``Kind.products``) is computed again for each operand that needs a
gradient: the gradient of its activation operand (``grad_input``) when that tensor requires one,
and the gradient of its weights (``grad_weights``) when they are trained. A tensor requires a
gradient when a trained weight lies upstream of it: the model's inputs do not, so the first
layer computes no gradient of its input, nor does any layer below frozen ones. Only layers
that an output depends on run backward. Elementwise ops (norms, activations, pooling, adds)
cost no MACs backward, as none forward: ``FlopCounterMode``'s convention.

Pure: no printing, no numpy, no torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ..errors import ConvcostError
from ..model.program import Program, Step


class Backward(NamedTuple):
    """One layer's backward MACs (for the batch) and whether its weights are trained."""

    grad_input: int  #: gradients of activations: the layer's input and the tensors inside it
    grad_weights: int
    trained: bool  #: it has weights and they are not frozen

    @property
    def macs(self) -> int:
        return self.grad_input + self.grad_weights


def layer_backward(products: Sequence[tuple[int, str]], input_grad: bool, weights_grad: bool) -> tuple[int, int]:
    """(grad_input, grad_weights) MACs of one sample for a layer whose forward products are
    ``products`` (Kind.products): a tensor computed inside the layer needs a gradient when the
    input does or the layer's weights are trained."""
    inner = input_grad or weights_grad
    grad_input = grad_weights = 0
    for macs, operand in products:
        if operand == "pair":  # two computed tensors: a gradient for each
            grad_input += 2 * macs if inner else 0
            continue
        if input_grad if operand == "input" else inner:
            grad_input += macs
        if weights_grad:
            grad_weights += macs
    return grad_input, grad_weights


def _matches(step: Step, name: str) -> bool:
    """A frozen name covers the layer itself and every layer named inside it: its ``bn:`` and
    ``act:`` (``conv1.bn``), a block's layers (``layer1.0.conv1``), a rewrite's parts (``conv1/dw``)."""
    return any(given == name or given.startswith((f"{name}.", f"{name}/", f"{name}[")) for given in (step.name, step.path))


def frozen_steps(program: Program, freeze: Sequence[str]) -> set[int]:
    """The steps that ``--freeze`` names; a name that covers no layer is refused."""
    frozen: set[int] = set()
    for name in freeze:
        found = {j for j, step in enumerate(program.steps) if _matches(step, name)}
        if not found:
            named = next((s.name for s in program.steps if s.op.params(s.in_shape)), program.steps[0].name if program.steps else "")
            raise ConvcostError(f"--freeze {name}: no layer of {program.name} has that name or path (names as analyze shows "
                                f"them, e.g. '{named}'; a block's name freezes every layer in it)")  # fmt: skip
        frozen |= found
    return frozen


def _needed(program: Program) -> set[int]:
    """The tensors the outputs depend on (autograd runs backward from them only)."""
    needed: set[int] = set()
    todo = list(program.outputs)
    while todo:
        t = todo.pop()
        if t not in needed:
            needed.add(t)
            if t >= len(program.inputs):
                todo.extend(program.steps[t - len(program.inputs)].inputs)
    return needed


def backward(program: Program, batch: int, freeze: Sequence[str] = ()) -> tuple[list[Backward], list[str]]:
    """Per step (in program order) its backward MACs for ``batch`` samples, and warnings."""
    frozen = frozen_steps(program, freeze)
    needed = _needed(program)
    requires = [False] * len(program.inputs)  #: per tensor, whether it needs a gradient
    found: list[Backward] = []
    warnings: list[str] = []
    for j, step in enumerate(program.steps):
        op = step.op
        trained = bool(op.params(step.in_shape)) and j not in frozen
        input_grad = any(requires[t] for t in step.inputs)
        runs = program.tensor(j) in needed
        if runs and op.UNCOUNTED:
            warnings.append(f"{step.name}: {op.describe_uncounted()} has no convcost kind: its backward is not counted")
        grad_input, grad_weights = layer_backward(op.products(step.in_shape, step.out_shape), input_grad, trained) if runs else (0, 0)
        found.append(Backward(grad_input * batch, grad_weights * batch, trained))
        requires.append(input_grad or trained)
    if freeze and not any(b.trained for b in found) and any(step.op.params(step.in_shape) for step in program.steps):
        warnings.append(f"--freeze {','.join(freeze)}: freezes every layer with weights: the step runs no backward")
    return found, warnings
