"""A ``torch.nn.Module`` → ops (``nesting.Op``), recorded at the level of ATen ops while the model
runs once on a zero sample.

torch.fx traces Python symbolically and stops at control flow that depends on shapes ("same"
padding computed in forward(), MobileViT); its graph holds every module and function a model's
author may call. One real forward pass under a ``TorchDispatchMode`` sees instead what every
model reduces to: a closed set of ATen ops (``aten.convolution``, ``aten.native_batch_norm``,
``aten.addmm`` …), the way ``FlopCounterMode`` counts FLOPs. Module hooks give the names (module
paths, as before). ``aten_ops`` says which kind each op becomes.

A tensor is *data* when it depends on the input, a *constant* otherwise (parameters, buffers,
tensors built inside forward() and whatever is computed from them alone, e.g. a standardised
weight); an op of constants only is not recorded as a layer, and the parameters a layer reads are
those its constant inputs derive from — so a conv whose weight is standardised at run time is a
conv with the parameter's count.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map
from torch.utils.weak import WeakIdKeyDictionary

from ..errors import ConvcostError
from .nesting import Shape


@dataclass(frozen=True)
class Tok:
    """A tensor value seen while recording (an in-place op makes a new value of the same tensor)."""

    id: int


@dataclass
class Call:
    """One ATen op as it ran: tensors in ``args``/``kwargs`` replaced by ``Tok``."""

    op: str  #: the op's name without its overload and trailing underscore: "convolution", "add"
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    outs: list[Tok]  #: the tensors it returns, flattened
    module: int  #: the module call it ran directly in (-1: the top level, outside every module)
    flops: int | None  #: torch's own FLOP formula for it (None: torch has none)
    partial: bool = False  #: an in-place update of part of another tensor (a slice or view of it)


@dataclass
class ModuleCall:
    path: str  #: the module's qualified name in the model ("" the model itself)
    kind: str  #: its class name
    leaf: bool  #: it has no child modules


@dataclass
class Recording:
    calls: list[Call]
    modules: list[ModuleCall]
    shapes: list[tuple[int, ...]]  #: by Tok.id
    params: dict[int, tuple[str, int]]  #: Tok.id of a parameter → (its name, its numel)
    input: Tok
    outputs: list[Tok] = field(default_factory=list)


def _flops(func: Any, args: Any, kwargs: Any, out: Any) -> int | None:
    from torch.utils.flop_counter import flop_registry

    formula = flop_registry.get(func.overloadpacket)
    if formula is None:
        return None
    try:
        return int(formula(*args, **kwargs, out_val=out))
    except Exception:  # noqa: BLE001 — a formula that does not apply to these arguments: none known
        return None


class _Recorder(TorchDispatchMode):
    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # nothing here is compiled: no need to wrap the dispatch in torch._dynamo (1.3 s to import)

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.tokens: Any = WeakIdKeyDictionary()
        self.shapes: list[tuple[int, ...]] = []
        self.calls: list[Call] = []
        self.modules: list[ModuleCall] = []
        self.stack: list[int] = []
        self.params: dict[int, tuple[str, int]] = {}
        for name, p in model.named_parameters():
            self.params[self.fresh(p).id] = (name, p.numel())
        self.paths = {id(m): (name, type(m).__name__, not any(True for _ in m.children())) for name, m in model.named_modules()}

    def fresh(self, t: torch.Tensor) -> Tok:
        tok = Tok(len(self.shapes))
        self.shapes.append(tuple(t.shape))
        self.tokens[t] = tok
        return tok

    def token(self, value: Any) -> Any:
        if not isinstance(value, torch.Tensor):
            return value
        tok = self.tokens.get(value)
        return tok if tok is not None else self.fresh(value)

    def pre(self, module: nn.Module, args: Any) -> None:
        where = self.paths.get(id(module))
        if where is None:  # a module made inside forward(): its ops belong to the caller
            self.stack.append(self.stack[-1] if self.stack else -1)
            return
        self.modules.append(ModuleCall(*where))
        self.stack.append(len(self.modules) - 1)

    def post(self, module: nn.Module, args: Any, out: Any) -> None:
        if self.stack:
            self.stack.pop()

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = func.overloadpacket.__name__
        mutable = func._schema.is_mutable
        encoded_args, encoded_kwargs = tree_map(self.token, (args, kwargs))
        target = args[0] if mutable and args and isinstance(args[0], torch.Tensor) else None
        partial = target is not None and target._base is not None and tuple(target._base.shape) != tuple(target.shape)
        flat, _ = tree_flatten(out)
        outs = [self.fresh(t) for t in flat if isinstance(t, torch.Tensor)]  # an in-place op's output: a new value
        flops = _flops(func, args, kwargs, out)
        module = self.stack[-1] if self.stack else -1
        self.calls.append(Call(name.rstrip("_") or name, encoded_args, encoded_kwargs, outs, module, flops, partial))
        return out


def record(model: nn.Module, sample: torch.Tensor) -> Recording:
    """One forward pass of ``model`` on ``sample``, every ATen op recorded (see the module's
    docstring). Raises what the model raises."""
    recorder = _Recorder(model)
    x = sample.clone()
    inp = recorder.fresh(x)
    hooks = [
        nn.modules.module.register_module_forward_pre_hook(recorder.pre),
        nn.modules.module.register_module_forward_hook(recorder.post, always_call=True),
    ]
    try:
        with torch.no_grad(), recorder:
            out = model(x)
    finally:
        for hook in hooks:
            hook.remove()
    flat, _ = tree_flatten(out)
    outputs = [recorder.tokens.get(t) for t in flat if isinstance(t, torch.Tensor)]
    return Recording(recorder.calls, recorder.modules, recorder.shapes, recorder.params, inp,
                     [t for t in outputs if t is not None])  # fmt: skip


def _required_inputs(model: nn.Module) -> list[str]:
    """The names of forward()'s arguments that have no default (none known: [])."""
    import inspect

    try:
        signature = inspect.signature(model.forward)
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in signature.parameters.values() if p.kind in kinds and p.default is inspect.Parameter.empty]


def run(model: nn.Module, input_shape: Shape) -> Recording:
    """``record`` on a zero sample of ``input_shape`` (batch 1), the model's errors as one line."""
    from .from_torch import stopped, user_code

    model = model.eval()
    inputs = _required_inputs(model)
    if len(inputs) > 1:
        raise ConvcostError(f"the model takes {len(inputs)} inputs ({', '.join(inputs)}); convcost imports models of one input "
                            "(write several with inputs: in the YAML)")  # fmt: skip
    try:
        with user_code(), contextlib.redirect_stderr(io.StringIO()):
            return record(model, torch.zeros(1, *input_shape))
    except KeyboardInterrupt:
        raise
    except SystemExit as exc:
        raise ConvcostError(stopped(exc, "forward() was running on a zero input")) from None
    except BaseException as exc:  # noqa: BLE001 — a model that rejects this input shape raises anything
        while exc.__cause__ is not None and isinstance(exc.__cause__, Exception):
            exc = exc.__cause__
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise ConvcostError(
            f"--input {','.join(map(str, input_shape))}: the model fails on this input ({type(exc).__name__}: {first})"
        ) from None


__all__ = ["Call", "ModuleCall", "Recording", "Tok", "record", "run"]
