"""A ``torch.nn.Module`` → ops (``graph.Op``), traced with ``torch.fx`` and shaped by ShapeProp.

Module calls keep the module's qualified name (``layer2.1.conv2``); function and method calls
are named inside the module that makes them (``layer2.1.add``). Each op's params are
``sum(p.numel())`` of its module, the source's own count, which the import checks against.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import operator
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp, TensorMetadata

from ..errors import ConvcostError
from ..kinds.conv import PWConv
from ..kinds.misc import Dropout, LayerNorm, LayerScale
from ..ops.torch_modules import ACT
from .kinds_map import Unknown, adaptive, conv_entry, mean_entries, padding_arg, per_axis, pool_entry, reshape_entries, upsample_entry
from .nesting import ADD, CAT, INPUT, LAYER, MUL, OUTPUTS, Entry, Op, Shape, named

#: Modules that map to one kind each (exact types: subclasses may change what they compute): the
#: table the kinds build their torch modules from, read the other way (nn.Identity passes through).
ACT_MODULES: dict[type[nn.Module], str] = {cls: kind for kind, cls in ACT.items() if cls is not nn.Identity}


class _Stderr(io.TextIOBase):
    """The user's code's stdout: stderr, where a closed or missing one takes the text silently."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError, ValueError, AttributeError):  # closed: fd 2 gone, or sys.stderr None
            self.target.write(text)
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.target.flush()

    def fileno(self) -> int:
        return int(self.target.fileno()) if self.target is not None else super().fileno()

    def isatty(self) -> bool:
        return bool(self.target is not None and self.target.isatty())


@contextlib.contextmanager
def user_code() -> Iterator[None]:
    """Around the user's code (the model file, the factory, forward()): what it prints goes to
    stderr, so the YAML on stdout stays clean."""
    with contextlib.redirect_stdout(_Stderr(sys.stderr)):
        yield


def stopped(exc: BaseException, doing: str) -> str:
    """What the user's code raised or exited with (anything but KeyboardInterrupt), in words."""
    if isinstance(exc, SystemExit):
        return f"the model file exited (SystemExit {exc.code}) while {doing}"
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{doing} raised {type(exc).__name__}{': ' + first if first else ''}"


def _run_file(path: Path) -> Any:
    """The module of a Python file, run as ``python FILE.py`` would (no arguments on sys.argv)."""
    spec = importlib.util.spec_from_file_location(f"convcost_import_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    saved = sys.argv
    sys.path.insert(0, str(path.resolve().parent))
    sys.argv = [str(path)]  # an argparse at the top of the file sees no arguments, not convcost's
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.pop(0)
        sys.argv = saved
    return module


def load_factory(target: str) -> nn.Module:
    """``path/to/file.py:factory`` or ``package.module:factory`` → the module it builds."""
    where, sep, attr = target.rpartition(":")
    if not sep or not where or not attr.isidentifier():
        raise ConvcostError(
            f"'{target}': expected FILE.py:FACTORY or package.module:FACTORY (a function or class that builds the nn.Module)"
        )
    doing = "importing the model file"
    try:
        with user_code():
            if where.endswith(".py") or "/" in where or "\\" in where:
                path = Path(where)
                if not path.is_file():
                    raise ConvcostError(f"{where}: no such Python file")
                module = _run_file(path)
            else:
                module = importlib.import_module(where)
            factory = getattr(module, attr, None)
            if factory is None or not callable(factory):
                raise ConvcostError(f"{where} has no callable '{attr}'")
            doing = "building the model"
            model = factory()
    except (ConvcostError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 — the user's code: whatever it raises or exits with is one line
        raise ConvcostError(f"{target}: {stopped(exc, doing)}") from None
    if not isinstance(model, nn.Module):
        raise ConvcostError(f"{target} returned {type(model).__name__}, not a torch.nn.Module")
    return model


def _meta(node: Any) -> TensorMetadata | None:
    meta = node.meta.get("tensor_meta") if isinstance(node, fx.Node) else None
    return meta if isinstance(meta, TensorMetadata) else None


def _nodes_in(value: Any) -> list[fx.Node]:
    found: list[fx.Node] = []
    fx.node.map_arg(value, found.append)
    return found


def _fn_name(node: fx.Node) -> str:
    target = node.target
    return target if isinstance(target, str) else getattr(target, "__name__", str(target))


class _Reader:
    def __init__(self, model: nn.Module, input_shape: Shape, allow_unknown: bool) -> None:
        self.model = model.eval()
        self.input_shape, self.allow_unknown = input_shape, allow_unknown
        self.ops: list[Op] = []
        self.index: dict[fx.Node, int] = {}
        self.chunks: dict[fx.Node, tuple[fx.Node, int]] = {}  # chunk call → (its data input, chunks)
        self.pads: dict[fx.Node, tuple[fx.Node, tuple[tuple[int, int], ...]]] = {}  # F.pad → (its input, (before, after) per axis)
        self.last: set[fx.Node] = set()  # values in channels-last layout (after permute(0, 2, 3, 1)); their ops' shapes stay channels-first

    def trace(self) -> fx.GraphModule:
        try:
            with user_code():
                gm = fx.symbolic_trace(self.model)
        except KeyboardInterrupt:
            raise
        except SystemExit as exc:
            raise ConvcostError(stopped(exc, "torch.fx was tracing forward()")) from None
        except BaseException as exc:  # noqa: BLE001 — torch.fx's TraceError and whatever the forward raises while tracing
            raise ConvcostError(f"torch.fx cannot trace the model ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                                "forward() has control flow or shape arithmetic that torch.fx cannot trace symbolically") from None  # fmt: skip
        inputs = [n.name for n in gm.graph.nodes if n.op == "placeholder"]
        if len(inputs) > 1:
            raise ConvcostError(f"the model takes {len(inputs)} inputs ({', '.join(inputs)}); convcost imports models of one input "
                                "(write several with inputs: in the YAML)")  # fmt: skip
        try:
            with user_code(), torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):  # ShapeProp prints a traceback before raising
                ShapeProp(gm).propagate(torch.zeros(1, *self.input_shape))
        except KeyboardInterrupt:
            raise
        except SystemExit as exc:
            raise ConvcostError(stopped(exc, "forward() was running on a zero input")) from None
        except BaseException as exc:  # noqa: BLE001 — a model that rejects this input shape raises anything
            while exc.__cause__ is not None and isinstance(exc.__cause__, Exception):
                exc = exc.__cause__
            first = str(exc).splitlines()[0] if str(exc) else ""
            raise ConvcostError(
                f"--input {','.join(map(str, self.input_shape))}: the model fails on this input ({type(exc).__name__}: {first})"
            ) from None
        return gm

    def read(self) -> list[Op]:
        gm = self.trace()
        modules = dict(gm.named_modules())
        used: dict[str, int] = {}
        for node in gm.graph.nodes:
            if node.op == "placeholder":  # one: trace() refused more
                self.index[node] = 0
                self.ops.append(Op("input", "input", INPUT, (), self.input_shape))
                continue
            if node.op == "output":
                outs = [n for n in _nodes_in(node.args) if _meta(n) is not None]
                if not outs:
                    raise ConvcostError("the model returns no tensor")
                first = self.ops[self.index[outs[0]]].shape
                role = LAYER if len(outs) == 1 else OUTPUTS  # several (a tuple, list or dict): each an output
                self.ops.append(Op("output", "output", role, tuple(self.index[n] for n in outs), first))
                continue
            if node.op == "get_attr":
                continue
            self.node(node, modules, used)
        return self.ops

    def name(self, node: fx.Node, used: dict[str, int]) -> str:
        if node.op == "call_module":
            base = str(node.target)
        else:
            stack = list(node.meta.get("nn_module_stack", {}) or {})
            base = f"{stack[-1]}.{_fn_name(node)}" if stack else _fn_name(node)
        used[base] = used.get(base, 0) + 1
        return base if used[base] == 1 else f"{base}_{used[base]}"

    def node(self, node: fx.Node, modules: dict[str, nn.Module], used: dict[str, int]) -> None:
        if node.op == "call_method" and node.target == "chunk" or node.op == "call_function" and node.target is torch.chunk:
            chunks, dim = _chunk_args(node)
            if dim not in (1, -len(self.input_shape) - 1) or not isinstance(chunks, int):
                self.unknown(node, "chunk", "chunks only along the channels (dim=1)", used)
                return
            self.chunks[node] = (_first(node), chunks)
            return
        if node.op == "call_function" and node.target is operator.getitem and node.args[0] in self.chunks:
            return self.chunk_item(node, used)
        meta = _meta(node)
        if meta is None:
            return  # shape arithmetic (x.size(0)) and other non-tensor values
        if node in self.index:
            return  # the end of a pattern already read (a channel shuffle)
        data = [n for n in _nodes_in((node.args, node.kwargs)) if n in self.index or n in self.pads]
        if not data:
            return  # a constant built inside forward()
        if node.op == "call_function" and node.target is F.pad and len(data) == 1 and data[0] not in self.last:
            self.pads[node] = (data[0], _pad_pairs(node, len(_meta(node).shape) - 2))  # type: ignore[union-attr]  # a tensor node
            return
        pads = None
        if data[0] in self.pads:
            data[0], pads = self.pads[data[0]]
        inputs = tuple(self.index[n] for n in data)
        in_shape = self.ops[inputs[0]].shape
        last = data[0] in self.last
        shape = tuple(meta.shape[1:])
        if last:
            shape = (shape[-1], *shape[:-1])
        if self.shuffle(node, in_shape, used):
            return
        name = self.name(node, used)
        params = sum(p.numel() for p in _parameters(node, self.model, set(self.index) | set(self.pads)))
        source = _source(node, modules)
        try:
            turn = _permute(node, len(in_shape) + 1, last)
            if turn is not None:
                if turn:
                    self.last.add(node)
                self.add(node, Op(name, source, LAYER, inputs, in_shape, [], 0))
                return
            if pads is not None and not (node.op == "call_module" and isinstance(modules[str(node.target)], PADDED)):
                raise Unknown("F.pad before it; convcost takes padding only as a conv's or a pool's own")
            if node.op == "call_module":
                module = modules[str(node.target)]
                entries = module_entries(module, in_shape, shape, last, pads)
                params = sum(p.numel() for p in module.parameters())
            else:
                role = function_role(node, len(data))
                if role != LAYER:
                    if last:
                        raise Unknown(f"{role} of channels-last tensors (after a permute)")
                    self.add(node, Op(name, source, role, inputs, shape, [], 0))
                    return
                entries = function_entries(node, in_shape, shape, last, params)
        except Unknown as why:
            self.unknown(node, source, str(why), used, name)
            return
        if len(inputs) != 1:
            self.unknown(node, source, f"it takes {len(inputs)} tensors", used, name)
            return
        if last:
            self.last.add(node)
        self.add(node, Op(name, source, LAYER, inputs, shape, named(entries, name), params))

    def shuffle(self, node: fx.Node, in_shape: Shape, used: dict[str, int]) -> bool:
        """view(n, g, C/g, ...) → transpose(1, 2) → view(n, C, ...): ShuffleNet's channel shuffle."""
        meta = _meta(node)
        if node.op != "call_method" or node.target not in ("view", "reshape", "unflatten") or meta is None or len(node.users) != 1:
            return False
        mid = tuple(meta.shape[1:])
        (turn,) = node.users
        if len(mid) != len(in_shape) + 1 or mid[0] * mid[1] != in_shape[0] or mid[2:] != in_shape[1:] or len(turn.users) != 1:
            return False
        if turn.op != "call_method" or turn.target != "transpose" or sorted(a % (len(mid) + 1) for a in turn.args[1:3]) != [1, 2]:  # type: ignore[operator]  # ints in a traced call
            return False
        (back,) = turn.users
        end = _meta(back)
        if back.op != "call_method" or back.target not in ("view", "reshape", "flatten") or end is None or tuple(end.shape[1:]) != in_shape:
            return False
        name = self.name(back, used)
        op = Op(
            name, "view/transpose/view", LAYER, (self.index[_first(node)],), in_shape, named([{"shuffle": {"groups": mid[0]}}], name), 0
        )  # type: ignore[index]  # a tensor node
        self.add(back, op)
        return True

    def chunk_item(self, node: fx.Node, used: dict[str, int]) -> None:
        source, chunks = self.chunks[node.args[0]]  # type: ignore[index]  # checked by the caller
        index = node.args[1]
        meta = _meta(node)
        if meta is None or not isinstance(index, int):
            return
        name = self.name(node, used)
        entry = {"chunk": {"chunks": chunks, "index": index % chunks}}
        self.add(node, Op(name, "chunk", LAYER, (self.index[source],), tuple(meta.shape[1:]), named([entry], name), 0))  # type: ignore[index]  # a tensor node

    def add(self, node: fx.Node, op: Op) -> None:
        self.index[node] = len(self.ops)
        self.ops.append(op)

    def unknown(self, node: fx.Node, source: str, why: str, used: dict[str, int], name: str | None = None) -> None:
        name = name or self.name(node, used)
        meta = _meta(node)
        data = [self.index[n] for n in _nodes_in((node.args, node.kwargs)) if n in self.index]
        if not self.allow_unknown or meta is None or len(data) != 1:
            extra = (
                "; --allow-unknown writes it as an uncounted layer"
                if not self.allow_unknown
                else " (an op of several tensors cannot be written even as unknown)"
            )
            raise ConvcostError(f"{source} '{name}' has no convcost kind: {why}{extra}")
        shape = tuple(meta.shape[1:])
        params = sum(p.numel() for p in self.modules_of(node).parameters()) if node.op == "call_module" else None
        entry = {"unknown": {"name": name, "op": source, "shape": list(shape)}}
        self.add(node, Op(name, source, LAYER, (data[0],), shape, [entry], params))

    def modules_of(self, node: fx.Node) -> nn.Module:
        return self.model.get_submodule(str(node.target))


def _first(node: fx.Node) -> fx.Node:
    """A call's first argument: the tensor it works on."""
    first = node.args[0]
    assert isinstance(first, fx.Node)
    return first


def _source(node: fx.Node, modules: dict[str, nn.Module]) -> str:
    if node.op == "call_module":
        return type(modules[str(node.target)]).__name__
    if node.op == "call_method":
        return _fn_name(node)
    return f"{getattr(node.target, '__module__', '') or ''}.{_fn_name(node)}".lstrip(".")


def _parameters(node: fx.Node, model: nn.Module, data: set[fx.Node]) -> list[nn.Parameter]:
    """Parameters a function call reads through get_attr, directly or reshaped (F.layer_norm's
    weight, a layer scale's gamma); ``data`` are the model's tensors, not followed."""
    found, todo, seen = [], _nodes_in((node.args, node.kwargs)), set()
    while todo:
        arg = todo.pop()
        if arg in seen or arg in data or arg.op == "placeholder":
            continue
        seen.add(arg)
        if arg.op == "get_attr":
            value = _attr(model, str(arg.target))
            if isinstance(value, nn.Parameter):
                found.append(value)
        elif arg.op != "call_module":
            todo += _nodes_in((arg.args, arg.kwargs))
    return found


def _attr(model: nn.Module, target: str) -> Any:
    value: Any = model
    for part in target.split("."):
        value = getattr(value, part, None)
    return value


def _permute(node: fx.Node, rank: int, last: bool) -> bool | None:
    """None: not a permute; True: to channels-last (0, 2, …, 1); False: back (0, n, 1, …)."""
    if not (node.op == "call_method" and node.target == "permute" or node.op == "call_function" and node.target is torch.permute):
        return None
    dims: Any = node.args[1:]  # x.permute(0, 2, 3, 1), x.permute((0, 2, 3, 1)), torch.permute(x, (0, 2, 3, 1))
    if not dims:  # x.permute(dims=…), torch.permute(x, dims=…)
        dims = (node.kwargs.get("dims", ()),)
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = dims[0]
    if not all(isinstance(d, int) for d in dims):
        raise Unknown(f"permute with dims {dims!r} that are not constants")
    dims = tuple(d % rank for d in dims)
    if not last and dims == (0, *range(2, rank), 1):
        return True
    if last and dims == (0, rank - 1, *range(1, rank - 1)):
        return False
    raise Unknown(f"permute{dims}; convcost follows only a move of the channels to the end and back")


def _chunk_args(node: fx.Node) -> tuple[Any, Any]:
    args = list(node.args[1:])
    chunks = args[0] if args else node.kwargs.get("chunks")
    dim = args[1] if len(args) > 1 else node.kwargs.get("dim", 0)
    return chunks, dim


#: What a channels-last tensor may go through (per position, over the channels).
#: what may run on a channels-last tensor (ConvNeXt's block), position by position along the last axis
PER_POSITION = {PWConv.kind, LayerNorm.kind, LayerScale.kind, Dropout.kind, *ACT_MODULES.values()}


PADDED = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)


def _pad_pairs(node: fx.Node, nd: int) -> tuple[tuple[int, int], ...]:
    """F.pad's flat list (last axis first) → (before, after) per spatial axis."""
    flat = list(node.args[1] if len(node.args) > 1 else node.kwargs["pad"])  # type: ignore[arg-type]  # F.pad(x, pad)
    mode = node.args[2] if len(node.args) > 2 else node.kwargs.get("mode", "constant")
    if mode != "constant" or len(flat) > 2 * nd or any(not isinstance(p, int) or p < 0 for p in flat):
        raise ConvcostError(f"F.pad '{node.name}': only constant, non-negative padding of the spatial axes has a kind")
    flat += [0] * (2 * nd - len(flat))
    return tuple((flat[2 * i], flat[2 * i + 1]) for i in reversed(range(nd)))


def module_entries(m: nn.Module, in_shape: Shape, shape: Shape, last: bool = False,
                   pads: tuple[tuple[int, int], ...] | None = None) -> list[Entry]:  # fmt: skip
    """One leaf module → convcost entries (Unknown when it has no kind). ``last``: its input is
    channels-last, where a Linear is a 1×1 conv and a LayerNorm over C is convcost's layernorm.
    ``pads``: an F.pad just before it (a conv or pool), added to its own padding."""
    if pads is not None:
        own = per_axis(m.padding, len(pads))
        if any(isinstance(p, str) for p in own):
            raise Unknown("F.pad before a conv with padding='same'")
        m_pads = tuple((p + lo, p + hi) for p, (lo, hi) in zip(own, pads))
        entry = module_entries(m, in_shape, shape)[0]
        ((kind, args),) = entry.items()
        args["padding"] = padding_arg(m_pads)
        if args["padding"] == 0:
            del args["padding"]
        elif kind == "pwconv":
            entry = {
                "conv": {"out": args["out"], "kernel": 1, "padding": args["padding"], "groups": args.get("groups", 1), "bias": args["bias"]}
            }
        return [entry]
    if last:
        if isinstance(m, nn.Linear):
            return [{"pwconv": {"out": m.out_features, "bias": m.bias is not None}}]
        if isinstance(m, nn.LayerNorm) and tuple(m.normalized_shape) == in_shape[:1] and m.elementwise_affine and m.bias is not None:
            return [{"layernorm": None}]
        entries = module_entries(m, in_shape, shape)
        if any(kind not in PER_POSITION for e in entries for kind in e):
            raise Unknown(f"{type(m).__name__} on a channels-last tensor (after a permute)")
        return entries
    if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        transposed = isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d))
        padding = m.padding if isinstance(m.padding, str) else tuple(m.padding)
        return [conv_entry(in_shape[0], m.out_channels, tuple(m.kernel_size), tuple(m.stride), padding, tuple(m.dilation),
                           m.groups, m.bias is not None, tuple(m.output_padding) if transposed else None)]  # fmt: skip
    if isinstance(m, nn.Linear):
        if len(in_shape) != 1:
            raise Unknown(f"nn.Linear on a {list(in_shape)} tensor acts on its last axis; convcost's linear takes a flat vector")
        return [{"linear": {"out": m.out_features, "bias": m.bias is not None}}]
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
        if not m.affine:
            raise Unknown("batch norm without affine parameters (affine=False)")
        return [{"bn": None}]
    if isinstance(m, nn.GroupNorm):
        if not m.affine:
            raise Unknown("group norm without affine parameters (affine=False)")
        return [{"gn": {"groups": m.num_groups}}]
    if isinstance(m, nn.LayerNorm):
        if len(in_shape) != 1 or tuple(m.normalized_shape) != in_shape or not m.elementwise_affine or m.bias is None:
            raise Unknown(
                f"layer norm over {list(m.normalized_shape)} of a {list(in_shape)} tensor; convcost's layernorm is over the channels"
            )
        return [{"layernorm": None}]
    if isinstance(m, nn.Hardtanh) and not isinstance(m, nn.ReLU6):
        if (m.min_val, m.max_val) != (0.0, 6.0):
            raise Unknown(f"Hardtanh({m.min_val}, {m.max_val}); only Hardtanh(0, 6) is relu6")
        return [{"relu6": None}]
    for cls, kind in ACT_MODULES.items():
        if type(m) is cls:
            return [{kind: None}] if kind else []
    if isinstance(m, nn.Softmax):
        if m.dim not in (1, -len(in_shape) - 1) and not (len(in_shape) == 1 and m.dim == -1):
            raise Unknown(f"softmax over dim={m.dim}; convcost's softmax is over the channels")
        return [{"softmax": None}]
    if isinstance(m, nn.PReLU):
        return [{"prelu": {"per_channel": True} if m.num_parameters > 1 else None}]
    if isinstance(m, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)):
        return [{"dropout": {"p": float(m.p)} if m.p != 0.5 else None}]
    if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)):
        maximum = isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d))
        nd = len(in_shape) - 1
        return [pool_entry(maximum, m.kernel_size, m.stride, m.padding, getattr(m, "dilation", 1), m.ceil_mode, nd)]
    if isinstance(
        m,
        (
            nn.AdaptiveAvgPool1d,
            nn.AdaptiveAvgPool2d,
            nn.AdaptiveAvgPool3d,
            nn.AdaptiveMaxPool1d,
            nn.AdaptiveMaxPool2d,
            nn.AdaptiveMaxPool3d,
        ),
    ):
        return adaptive("Max" in type(m).__name__, shape, in_shape)
    if isinstance(m, nn.Flatten):
        if m.start_dim != 1 or m.end_dim != -1:
            raise Unknown(f"Flatten(start_dim={m.start_dim}, end_dim={m.end_dim}); convcost flattens from dim 1")
        return [{"flatten": None}] if len(in_shape) > 1 else []
    if isinstance(m, nn.Upsample):
        return [upsample_entry(m.mode, in_shape, shape)]
    if isinstance(m, nn.ChannelShuffle):
        return [{"shuffle": {"groups": m.groups}}]
    if isinstance(m, nn.Identity):
        return []
    raise Unknown(f"module {type(m).__module__}.{type(m).__name__}")


FN_ACTS: dict[Any, str] = {
    F.relu: "relu", torch.relu: "relu", F.relu_: "relu", torch.relu_: "relu", F.relu6: "relu6", torch.sigmoid: "sigmoid",
    F.sigmoid: "sigmoid", torch.tanh: "tanh", F.tanh: "tanh", F.silu: "silu", F.gelu: "gelu", F.hardswish: "hswish",
    F.hardsigmoid: "hsigmoid", F.leaky_relu: "leakyrelu",
}  # fmt: skip
METHOD_ACTS = {"relu": "relu", "relu_": "relu", "sigmoid": "sigmoid", "sigmoid_": "sigmoid", "tanh": "tanh", "tanh_": "tanh"}
RESHAPES = {"view", "reshape", "flatten", "unsqueeze", "squeeze", "contiguous", "view_as", "reshape_as"}
FN_RESHAPES = {torch.flatten, torch.reshape, torch.unsqueeze, torch.squeeze, operator.getitem}


def function_role(node: fx.Node, tensors: int) -> str:
    target = node.target
    if tensors == 2 and (target in (operator.add, operator.iadd, torch.add) or node.op == "call_method" and target in ("add", "add_")):
        return ADD
    if tensors == 2 and (target in (operator.mul, operator.imul, torch.mul) or node.op == "call_method" and target in ("mul", "mul_")):
        return MUL
    if target in (torch.cat, torch.concat, torch.concatenate):
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
        if dim != 1:
            raise Unknown(f"concatenation along dim={dim}; convcost concatenates channels (dim=1)")
        return CAT
    return LAYER


def function_entries(node: fx.Node, in_shape: Shape, shape: Shape, last: bool = False, params: int = 0) -> list[Entry]:
    """One function or method call on one tensor → convcost entries (``params``: what it reads
    through get_attr, as a layer scale's gamma)."""
    entries = _function_entries(node, in_shape, shape, params)
    if last and any(kind not in PER_POSITION for e in entries for kind in e):
        raise Unknown(f"{_fn_name(node)} on a channels-last tensor (after a permute)")
    return entries


def _function_entries(node: fx.Node, in_shape: Shape, shape: Shape, params: int) -> list[Entry]:
    target, method = node.target, node.op == "call_method"
    if params and params == in_shape[0] and (target in (operator.mul, operator.imul, torch.mul) or method and target in ("mul", "mul_")):
        return [{"layerscale": None}]
    if not method and target is F.layer_norm:
        normalized = node.args[1] if len(node.args) > 1 else node.kwargs.get("normalized_shape")
        if tuple(normalized) == in_shape[:1] and params == 2 * in_shape[0]:  # type: ignore[arg-type]  # a shape in a traced call
            return [{"layernorm": None}]
        raise Unknown(
            f"layer_norm over {normalized} of a {list(in_shape)} tensor; convcost's layernorm is over the channels, with weight and bias"
        )
    kind = METHOD_ACTS.get(str(target)) if method else FN_ACTS.get(target, "")
    if kind:
        return [{kind: None}]
    if not method and target is F.hardtanh:
        lo, hi = (list(node.args[1:3]) + [node.kwargs.get("min_val", -1.0), node.kwargs.get("max_val", 1.0)][len(node.args[1:3]) :])[:2]
        if (lo, hi) == (0.0, 6.0):
            return [{"relu6": None}]
        raise Unknown(f"hardtanh({lo}, {hi}); only hardtanh(0, 6) is relu6")
    if not method and target in (F.softmax,):
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
        if dim == 1 or len(in_shape) == 1 and dim == -1:
            return [{"softmax": None}]
        raise Unknown(f"softmax over dim={dim}")
    if not method and target in (F.dropout, F.dropout2d, F.dropout1d, F.dropout3d):
        return [{"dropout": None}]
    if method and target == "mean" or not method and target is torch.mean:
        return _mean(node, in_shape)
    if not method and target in (F.max_pool1d, F.max_pool2d, F.max_pool3d, F.avg_pool1d, F.avg_pool2d, F.avg_pool3d):
        maximum = "max" in _fn_name(node)
        names = (
            ("kernel_size", "stride", "padding", "dilation", "ceil_mode") if maximum else ("kernel_size", "stride", "padding", "ceil_mode")
        )
        given = dict(zip(names, node.args[1:]), **{k: v for k, v in node.kwargs.items() if k in names})
        if not maximum and len(node.args) > 4:
            given["ceil_mode"] = node.args[4]
        kernel = given["kernel_size"]
        return [
            pool_entry(
                maximum,
                kernel,
                given.get("stride") or kernel,
                given.get("padding", 0),
                given.get("dilation", 1),
                bool(given.get("ceil_mode", False)),
                len(in_shape) - 1,
            )
        ]
    if not method and target in (
        F.adaptive_avg_pool1d,
        F.adaptive_avg_pool2d,
        F.adaptive_avg_pool3d,
        F.adaptive_max_pool1d,
        F.adaptive_max_pool2d,
        F.adaptive_max_pool3d,
    ):
        return adaptive("max" in _fn_name(node), shape, in_shape)
    if not method and target is F.interpolate:
        mode: Any = node.kwargs.get("mode", node.args[3] if len(node.args) > 3 else "nearest")
        return [upsample_entry(mode, in_shape, shape)]
    if (method and str(target) in RESHAPES) or (not method and target in FN_RESHAPES):
        return reshape_entries(in_shape, shape)
    raise Unknown(f"{'method' if method else 'function'} {_fn_name(node)}")


def _mean(node: fx.Node, in_shape: Shape) -> list[Entry]:
    dims: Any = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
    keep = node.kwargs.get("keepdim", node.args[2] if len(node.args) > 2 else False)
    return mean_entries(dims, in_shape, bool(keep))


def read(model: nn.Module, input_shape: Shape, *, allow_unknown: bool = False) -> list[Op]:
    return _Reader(model, input_shape, allow_unknown).read()
