"""A Stack → readable PyTorch source: one ``nn.Module`` whose attributes are the layers (named
after them), a ``forward`` written from the program that reads like hand-written code (residuals
and adds as ``+``, concats as ``torch.cat``, several outputs returned as a tuple), and ``def build() -> nn.Module``.

Each layer is its kind's own ``torch_module`` (the module ``--execute`` runs and the tests hold
against convcost's counts), written back as its constructor call: torch.nn modules from their
attributes, convcost's helpers (``ops.torch_modules.Helper``) from the arguments they keep,
with their class source copied into the file so it needs nothing but torch.
"""

from __future__ import annotations

import inspect
import keyword
import math
import re
from typing import Any

from torch import nn

from ..backends.torch_build import leaf_module
from ..errors import ConvcostError, printable
from ..kinds.merge import Concatenate, Elementwise
from ..model.graph import Stack
from ..model.program import Program, Step, lower
from ..ops import torch_modules as tb

#: Module-level functions of ops.torch_modules that helpers call.
HELPER_FUNCTIONS = {"Padded": ("_flat_pads",), "DeformConv2d": ("_flat_pads", "_bilinear")}
SKIP_INIT = {"device", "dtype"}


def escaped(value: str) -> str:
    """A user string (a model, layer or file name) as text inside a ``#`` comment or a docstring of
    the generated source, and the one way such strings reach it: one line (newlines, carriage
    returns, NUL, unicode line separators written as escapes), backslashes doubled and double
    quotes escaped, so it can neither end the comment or the docstring nor form an escape."""
    return printable(value.replace("\\", "\\\\")).replace('"', '\\"')


def _literal(value: Any, helpers: dict[str, type]) -> str:
    if isinstance(value, nn.Module):
        return module_source(value, helpers)
    if isinstance(value, tuple):
        items = [_literal(v, helpers) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, list):
        return f"[{', '.join(_literal(v, helpers) for v in value)}]"
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return repr(value)


def _collapse(value: Any) -> Any:
    """(3, 3) → 3, as one would write it (torch accepts either)."""
    if isinstance(value, tuple) and value and all(v == value[0] for v in value) and not isinstance(value[0], tuple):
        return value[0]
    return value


def module_source(module: nn.Module, helpers: dict[str, type]) -> str:
    """The constructor call that builds ``module`` (``helpers`` collects convcost's classes used)."""
    cls = type(module)
    if isinstance(module, tb.Helper):
        helpers[cls.__name__] = cls
        args, kwargs = module.__dict__["init_args"]
        parts = [_literal(a, helpers) for a in args] + [f"{k}={_literal(v, helpers)}" for k, v in kwargs.items()]
        return f"{cls.__name__}({', '.join(parts)})"
    if not cls.__module__.startswith("torch.nn"):
        raise ConvcostError(f"export: {cls.__module__}.{cls.__name__} is not a torch.nn module convcost can write")
    if isinstance(module, nn.Sequential):
        return f"nn.Sequential({', '.join(module_source(m, helpers) for m in module)})"
    parts, keywords_only = [], False
    for param in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or param.name in SKIP_INIT:
            continue
        if param.name == "bias" and not isinstance(getattr(module, "bias", None), bool):
            value: Any = getattr(module, "bias", None) is not None
        elif param.name in ("affine", "elementwise_affine") or hasattr(module, param.name):
            value = getattr(module, param.name)
        else:
            keywords_only = True
            continue
        value = _collapse(tuple(value) if isinstance(value, list) else value)
        default = _collapse(param.default) if param.default is not param.empty else param.empty
        if default is not param.empty and value == default:
            keywords_only = True
            continue
        if default is param.empty and not keywords_only:
            parts.append(_literal(value, helpers))
        else:
            keywords_only = True
            parts.append(f"{param.name}={_literal(value, helpers)}")
    return f"nn.{cls.__name__}({', '.join(parts)})"


def attribute(name: str, taken: set[str]) -> str:
    """A layer name as a Python attribute: ``layer1.0.conv1`` → ``layer1_0_conv1``."""
    attr = re.sub(r"\W", "_", name, flags=re.ASCII).strip("_") or "layer"
    if attr[0].isdigit():
        attr = f"_{attr}"
    if keyword.iskeyword(attr) or attr in ("forward", "training") or hasattr(nn.Module, attr):
        attr += "_"
    base, n = attr, 1
    while attr in taken:
        n += 1
        attr = f"{base}_{n}"
    taken.add(attr)
    return attr


#: names forward() uses itself: an input of one of these names gets a trailing _
RESERVED = {"self", "torch", "nn", "F", "x"}


def argument(name: str, taken: set[str]) -> str:
    """An input's name as forward()'s argument: an identifier that no layer attribute, module
    forward() uses, or fresh variable (``y<n>`` for an input is kept: fresh ones skip it) has."""
    arg = attribute(name, taken)
    while arg in RESERVED:
        arg += "_"
    taken.add(arg)
    return arg


def class_name(name: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", name)
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Model"
    return f"Net{name}" if name[0].isdigit() or keyword.iskeyword(name) or name in ("Helper", "F", "Tensor") else name


def inline(op: Any) -> bool:
    """Whether a step is written as an expression (a sum, a product, a concatenation) rather than
    a module: it has nothing learned."""
    return isinstance(op, Concatenate) or (isinstance(op, Elementwise) and op.params(()) == 0)


class _Forward:
    """forward()'s lines from the program: each step one call or expression. A step's result takes
    the variable of an input read for the last time (``x`` first), else a fresh ``y<n>``, so a
    chain reads ``x = self.conv(x)`` and a residual ``x = y1 + x``."""

    def __init__(self, program: Program, attrs: dict[int, str], inputs: list[str]) -> None:
        self.program, self.attrs, self.count = program, attrs, 0
        self.vars, self.inputs = list(inputs), set(inputs)
        self.lines: list[str] = []

    def fresh(self) -> str:
        self.count += 1
        while f"y{self.count}" in self.inputs:  # an input may be called y1
            self.count += 1
        return f"y{self.count}"

    def run(self) -> list[str]:
        """The lines; returns the variables of the outputs."""
        program, last = self.program, self.program.last_use()
        kept = set(program.outputs)
        for j, step in enumerate(program.steps):
            args = [self.vars[t] for t in step.inputs]
            free = [self.vars[t] for t in dict.fromkeys(step.inputs) if last[t] == j and t not in kept]
            target = "x" if "x" in free else (free[0] if free else self.fresh())
            self.vars.append(target)
            self.lines.append(f"{target} = {self.expression(j, step, args)}")
        return [self.vars[t] for t in program.outputs]

    def expression(self, j: int, step: Step, args: list[str]) -> str:
        op = step.op
        if not inline(op):
            return f"self.{self.attrs[j]}({', '.join(args)})"
        if isinstance(op, Concatenate):
            return f"torch.cat([{', '.join(args)}], dim={op.where(len(step.in_shape)) + 1})  # {escaped(step.name)}"
        if isinstance(op, Elementwise):
            return f" {op.SYMBOL} ".join(args) + f"  # {escaped(step.name)}"
        return f"self.{self.attrs[j]}({', '.join(args)})"


def source(stack: Stack, model_file: str, totals: tuple[int, int]) -> str:
    """The whole file (see the module's docstring); ``totals``: convcost's params and MACs."""
    helpers: dict[str, type] = {}
    taken: set[str] = set()
    attrs: dict[int, str] = {}
    inits = []
    program = lower(stack)
    for j, leaf in enumerate(program.steps):
        if inline(leaf.op):
            continue  # written as an expression
        try:
            module = leaf_module(leaf.op, leaf.in_shape)
        except NotImplementedError as exc:
            raise ConvcostError(f"export: {leaf.name} ({leaf.op.kind}): {exc}") from None
        attrs[j] = attr = attribute(leaf.name, taken)
        inits.append(f"        self.{attr} = {module_source(module, helpers)}")
    inputs = ["x"] if not stack.inputs else [argument(key, taken) for key, _ in stack.inputs]
    forward = _Forward(program, attrs, inputs)
    results = forward.run()
    result = ", ".join(results)
    name = class_name(stack.name)
    params, macs = totals
    shape = ", ".join(map(str, stack.input))
    returns = "torch.Tensor" if len(results) == 1 else f"tuple[{', '.join(['torch.Tensor'] * len(results))}]"
    signature = ", ".join(f"{v}: torch.Tensor" for v in inputs)
    zeros = ", ".join(f"torch.zeros(1, {', '.join(map(str, s))})" for _, s in stack.all_inputs)
    shown = "; ".join(f"{k} [{', '.join(map(str, s))}]" for k, s in stack.inputs) or f"[{shape}]"
    lines = [
        f'"""{escaped(stack.name)}: PyTorch source written by `convcost export` from {escaped(model_file)}.',
        "",
        f"Input {escaped(shown)} (channels first, without the batch). convcost counts {params:,} params and",
        f"{macs:,} MACs; sum(p.numel() for p in build().parameters()) gives the same params.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import torch",
    ]
    texts = [inspect.getsource(getattr(tb, fn)) for fn in sorted({fn for h in helpers for fn in HELPER_FUNCTIONS.get(h, ())})]
    texts += [
        inspect.getsource(cls).replace(f"class {cls.__name__}(Helper):", f"class {cls.__name__}(nn.Module):", 1) for cls in helpers.values()
    ]
    if any("F." in text for text in texts):
        lines.append("import torch.nn.functional as F")
    lines += ["from torch import nn", "", ""]
    for text in texts:
        lines += [text.rstrip(), "", ""]
    lines += [f"class {name}(nn.Module):", "    def __init__(self) -> None:", "        super().__init__()", *inits, ""]
    lines += [
        f"    def forward(self, {signature}) -> {returns}:",
        *(f"        {line}" for line in forward.lines),
        f"        return {result}",
    ]
    lines += [
        "",
        "",
        "def build() -> nn.Module:",
        f'    """{escaped(stack.name)}, input {escaped(shown)}."""',
        f"    return {name}()",
        "",
        "",
    ]
    shapes = "tuple(model(" + zeros + ").shape)" if len(results) == 1 else "[tuple(y.shape) for y in model(" + zeros + ")]"
    lines += ['if __name__ == "__main__":', "    model = build().eval()",
              f"    print(sum(p.numel() for p in model.parameters()), {shapes})", ""]  # fmt: skip
    return "\n".join(lines)
