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

from ..arith import prod
from ..errors import ConvcostError
from ..model import graph
from ..model.program import Program, Step


class Backward(NamedTuple):
    """One layer's backward MACs (for the batch), whether its weights are trained, and the bytes
    autograd keeps for it from the forward to the backward."""

    grad_input: int  #: gradients of activations: the layer's input and the tensors inside it
    grad_weights: int
    trained: bool  #: it has weights and they are not frozen
    saved: int = 0  #: bytes saved for backward (a tensor several layers keep counts at the first)

    @property
    def macs(self) -> int:
        return self.grad_input + self.grad_weights


OPTIMIZERS = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}  #: state tensors per trained weight
assert tuple(OPTIMIZERS) == graph.OPTIMIZERS
STEPPED = ("adam", "adamw")  #: keep a step count per weight tensor (a float32 scalar tensor in PyTorch)


class State(NamedTuple):
    """The model's memory for training, in bytes: what lives across steps."""

    optimizer: str
    weights: int  #: every weight, in the dtype
    gradients: int  #: one per trained weight, in the dtype
    optimizer_state: int  #: momentum / Adam's two moments per trained weight (float32 under 16-bit dtypes), step counts
    master: int  #: float32 copies of the trained weights, under a 16-bit dtype (mixed precision)

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer_state + self.master


def state(program: Program, passes: Sequence[Backward], optimizer: str, nbytes: int) -> State:
    """Weights, gradients, optimizer state and master weights of ``program`` for ``optimizer``,
    the weights trained that ``passes`` (backward's, per step) say are.
    Under float16/bfloat16 (``nbytes`` 2) the optimizer works on float32 master weights (torch.amp's
    and Megatron's mixed precision): its state is float32 too."""
    if optimizer not in OPTIMIZERS:
        raise ConvcostError(f"--optimizer: expected one of {', '.join(OPTIMIZERS)}, found '{optimizer}'")
    params = trained = tensors = 0
    for step, b in zip(program.steps, passes):
        n = step.op.params(step.in_shape)
        params += n
        if b.trained:
            trained += n
            tensors += sum(1 for shape in step.op.param_shapes(step.in_shape) if shape)
    wide = 4 if nbytes == 2 else nbytes
    optimizer_state = OPTIMIZERS[optimizer] * trained * wide + (4 * tensors if optimizer in STEPPED else 0)
    return State(optimizer, params * nbytes, trained * nbytes, optimizer_state, trained * 4 if nbytes == 2 else 0)


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


class _Saver:
    """The tensors autograd keeps, each counted once: a view (flatten, a slice) is its source's
    memory, and the output a ReLU keeps is the input the next conv keeps."""

    def __init__(self, program: Program, batch: int, nbytes: int) -> None:
        self.program, self.batch, self.nbytes = program, batch, nbytes
        self.root = list(range(len(program.inputs)))  #: per tensor, the tensor whose memory it is
        self.kept: set[int] = set()

    def _size(self, t: int) -> int:
        n = len(self.program.inputs)
        return prod(self.program.inputs[t][1] if t < n else self.program.steps[t - n].out_shape)

    def skip(self, j: int) -> int:
        step = self.program.steps[j]
        self.root.append(self.root[step.inputs[0]] if step.op.VIEW else self.program.tensor(j))
        return 0

    def step(self, j: int, trained: bool, input_grad: bool) -> int | None:
        self.skip(j)
        step = self.program.steps[j]
        items = step.op.saved(step.in_shape, step.out_shape, trained)
        if items is None:
            return None
        elements = extra = 0  # (in the dtype; bytes of another type)
        for item in items:
            if item.if_input_grad and not input_grad:
                continue
            if item.what == "products":
                elements += max(len(step.inputs) - 2, 0) * prod(step.out_shape) * self.batch
                continue
            if item.what == "inner":
                count = item.elements * (self.batch if item.per_sample else 1)
                elements, extra = (elements + count, extra) if not item.itemsize else (elements, extra + count * item.itemsize)
                continue
            tensors = {"input": step.inputs[:1], "inputs": step.inputs, "output": (self.program.tensor(j),)}[item.what]
            for t in tensors:
                root = self.root[t]
                if root not in self.kept:
                    self.kept.add(root)
                    elements += self._size(root) * self.batch
        return elements * self.nbytes + extra


def backward(program: Program, batch: int, freeze: Sequence[str] = (), nbytes: int = 4) -> tuple[list[Backward], list[str]]:
    """Per step (in program order) its backward MACs and saved bytes for ``batch`` samples of
    ``nbytes`` each, and warnings."""
    frozen = frozen_steps(program, freeze)
    needed = program.upstream(program.outputs)  # autograd runs backward from the outputs only
    requires = [False] * len(program.inputs)  #: per tensor, whether it needs a gradient
    found: list[Backward] = []
    warnings: list[str] = []
    saver = _Saver(program, batch, nbytes)
    for j, step in enumerate(program.steps):
        op = step.op
        trained = bool(op.params(step.in_shape)) and j not in frozen
        input_grad = any(requires[t] for t in step.inputs)
        runs = program.tensor(j) in needed
        if runs and op.UNCOUNTED:
            warnings.append(f"{step.name}: {op.describe_uncounted()} has no convcost kind: its backward is not counted")
        grad_input, grad_weights = layer_backward(op.products(step.in_shape, step.out_shape), input_grad, trained) if runs else (0, 0)
        saved = saver.step(j, trained, input_grad) if runs and (input_grad or trained) else saver.skip(j)
        if saved is None:
            warnings.append(f"{step.name}: what {op.kind} keeps for its backward is not known: the saved bytes leave it out")
        found.append(Backward(grad_input * batch, grad_weights * batch, trained, saved or 0))
        requires.append(input_grad or trained)
    if freeze and not any(b.trained for b in found) and any(step.op.params(step.in_shape) for step in program.steps):
        warnings.append(f"--freeze {','.join(freeze)}: freezes every layer with weights: the step runs no backward")
    return found, warnings
