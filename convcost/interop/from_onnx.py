"""An ONNX graph → ops (``graph.Op``): shapes from ONNX shape inference, weights' shapes from the
initializers, names from the exporter's scopes (``/layer1/layer1.0/conv1/Conv`` → ``layer1.0.conv1``).

Each op's params are the elements of the learned initializers it reads (weights, biases, norm
scale and shift; not running statistics), the source's own count the import checks against.
A batch norm folded into its conv by the exporter stays folded: the conv has a bias instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from math import prod
from typing import Any

try:
    import onnx
    from onnx import numpy_helper, shape_inference
except ModuleNotFoundError as exc:  # the extra is not installed: importer.read_source says how to get it
    raise ImportError(str(exc)) from None

from ..errors import ConvcostError
from ..kinds.conv import PWConv
from ..kinds.groups import ACTIVATION_OPS, RELU, RELU6, SOFTMAX
from ..kinds.misc import BatchNorm, Dropout, LayerNorm, LayerScale, Linear, PReLU, Scale, Shuffle
from ..kinds.misc import Unknown as UnknownKind
from . import onnx_file
from .kinds_map import Unknown, adaptive, channel_part, conv_entry, mean_entries, pool_entry, reshape_entries, upsample_entry
from .nesting import ADD, CAT, DIV, INPUT, LAYER, MUL, OUTPUTS, SUB, Entry, Op, Shape, named

ACTS = {onnx_op: kind for kind, (_, onnx_op) in ACTIVATION_OPS.items() if onnx_op}
PASS = {"Identity", "Cast", "Contiguous"}
#: Ops whose constant inputs are learned (BatchNormalization: scale and shift; mean and variance
#: are statistics). Other ops' constants — Clip bounds, Resize scales, Pad values — are not params.
WEIGHTED = {"Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "LayerNormalization", "PRelu", "Mul", "Add"}
FLOATS = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16, onnx.TensorProto.DOUBLE}
SMALL = 64  #: elements of an initializer read as a constant (axes, bounds); larger ones are weights
RESHAPES = {"Reshape", "Squeeze", "Unsqueeze", "Flatten"}
POOLS = {"MaxPool": True, "AveragePool": False}
TWO = {"Add": ADD, "Mul": MUL, "Sub": SUB, "Div": DIV}  #: elementwise ops of two tensors of the model
#: What a channels-last tensor may go through: per position, over the channels.
PER_POSITION = {"MatMul", "Add", "LayerNormalization", "Mul", "Dropout", "Identity", *ACTS}


def _attrs(node: Any) -> dict[str, Any]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def scope_name(node: Any, index: int) -> tuple[str, str]:
    """(the module path of the node's scope, its op) from a torch exporter's node name
    ``/layer1/layer1.0/conv1/Conv``; other names are used as they are."""
    name = node.name or f"{node.op_type.lower()}{index}"
    if not name.startswith("/"):
        return name, ""
    parts = [p for p in name.split("/") if p]
    if not parts:  # a name of slashes only
        return node.op_type.lower(), ""
    segments: list[str] = []
    for part in parts[:-1]:
        if segments and part.startswith(segments[-1] + "."):
            segments[-1] = part
        else:
            segments.append(part)
    return ".".join(segments) or node.op_type.lower(), parts[-1]


class _Reader:
    def __init__(self, model: Any, input_shape: Shape | None, allow_unknown: bool, source: str) -> None:
        self.allow_unknown, self.source = allow_unknown, source
        graph = model.graph
        weights = {i.name for i in graph.initializer}
        inputs = [i for i in graph.input if i.name not in weights]
        if len(inputs) != 1:
            raise ConvcostError(
                f"{source}: the graph takes {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); convcost models have one"
            )
        self.input = inputs[0].name
        dims = [d.dim_value if d.HasField("dim_value") else None for d in inputs[0].type.tensor_type.shape.dim]
        if input_shape is not None:
            if len(dims) != len(input_shape) + 1:
                raise ConvcostError(f"--input {','.join(map(str, input_shape))}: the graph's input '{self.input}' has {len(dims)} axes, "
                                    f"so --input needs {len(dims) - 1} (channels, then each spatial size)")  # fmt: skip
            shape_proto = inputs[0].type.tensor_type.shape
            for d, value in zip(shape_proto.dim[1:], input_shape):
                d.Clear()
                d.dim_value = value
            del graph.value_info[:]  # shapes recorded for the old input: inferred again
            for out in graph.output:
                out.type.tensor_type.ClearField("shape")
        elif not 3 <= len(dims) <= 5 or any(d is None for d in dims[1:]):
            raise ConvcostError(f"{source}: the graph's input '{self.input}' has shape {['?' if d is None else d for d in dims]}; "
                                "give the shape of one sample with --input C,H,W")  # fmt: skip
        else:
            input_shape = tuple(d for d in dims[1:] if d is not None)
        model, self.folded = fold_shapes(model, source)
        self.inits = {i.name: i for i in model.graph.initializer}  # with the folded shape arithmetic
        self.graph = model.graph
        self.opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=13)
        self.shapes: dict[str, Shape | None] = {}
        for info in [*self.graph.value_info, *self.graph.output, *self.graph.input]:
            dims = [d.dim_value if d.HasField("dim_value") else None for d in info.type.tensor_type.shape.dim]
            self.shapes[info.name] = None if not dims or any(d is None for d in dims[1:]) else tuple(int(d or 0) for d in dims[1:])
        self.constants: dict[str, Any] = {}  # Constant nodes' values; small initializers are read when asked (value())
        self.derived: dict[str, frozenset[str]] = {}  # constants computed from weights → those weights' names
        self.padded: dict[str, tuple[tuple[int, int], ...]] = {}  # a Pad's output → its amounts, taken by the conv or pool after it
        self.ops: list[Op] = [Op("input", "input", INPUT, (), tuple(input_shape))]
        self.index: dict[str, int] = {self.input: 0}
        self.linear_bias: dict[int, str] = {}
        self.last: set[int] = set()  # ops whose output is channels-last (after Transpose (0, 2, 3, 1)); their shapes stay channels-first

    def read(self) -> list[Op]:
        data, work = {self.input}, []
        for i, node in enumerate(self.graph.node):
            ins = [
                x for x in (node.input[:1] if node.op_type == "CastLike" else node.input) if x in data
            ]  # CastLike(c, x): x gives only the type
            if not ins:
                self.constant(node)
            elif node.op_type not in ("Shape", "Size"):  # shape arithmetic: not data
                data.update(o for o in node.output if o)
                work.append((node, ins, scope_name(node, i)[0]))
        scopes: dict[str, int] = {}
        for _, _, scope in work:
            scopes[scope] = scopes.get(scope, 0) + 1
        for node, ins, scope in work:
            name = scope if scopes.get(scope, 0) <= 1 and node.op_type not in (*TWO, "Concat") else f"{scope}.{node.op_type.lower()}"
            try:
                self.node(node, ins, name.lstrip("."))
            except Unknown as why:
                self.unknown(node, ins, name, str(why))
        outs = [self.index[o.name] for o in self.graph.output]
        if not outs:
            raise ConvcostError(f"{self.source}: the graph has no outputs")
        self.ops.append(Op("output", "output", LAYER if len(outs) == 1 else OUTPUTS, tuple(outs), self.ops[outs[0]].shape))
        return self.ops

    def constant(self, node: Any) -> None:
        if node.op_type == "Constant":
            small = _constant_node(_attrs(node), SMALL)
            if small is not None:  # a weight's data is never read
                self.constants[node.output[0]] = small
        elif node.op_type == "CastLike" and self.value(node.input[0]) is not None:
            self.constants[node.output[0]] = self.value(node.input[0])
        elif node.op_type == "Identity" and node.input[0] in self.inits:  # an exporter's alias of a weight
            self.inits[node.output[0]] = self.inits[node.input[0]]
            return
        made = frozenset().union(*(self.weights(x) for x in node.input if x))
        if made and node.op_type not in ("Shape", "Size"):  # a weight computed from weights (Transpose of a Linear's)
            for out in node.output:
                self.derived[out] = made
        elif node.op_type == "Identity" and self.value(node.input[0]) is not None:
            self.constants[node.output[0]] = self.value(node.input[0])

    def value(self, name: str) -> Any:
        """A constant input (axes, clip bounds) as numpy, or None; weights' data is never read."""
        if name in self.constants:
            return self.constants[name]
        tensor = self.inits.get(name)
        return None if tensor is None else _small(tensor)

    def shape(self, value: str, node: Any) -> Shape:
        shape = self.shapes.get(value)
        if shape is None:
            raise ConvcostError(f"{node.op_type} '{node.name}': ONNX shape inference left the shape of '{value}' unknown")
        return shape

    def weights(self, name: str) -> frozenset[str]:
        """The floating-point initializers (weights, not shapes or axes) a constant is, or is computed from."""
        if name in self.inits:
            tensor = self.inits[name]
            return frozenset((tensor.name,)) if tensor.data_type in FLOATS and tensor.name not in self.folded else frozenset()
        return self.derived.get(name, frozenset())

    def learned(self, names: list[str]) -> int:
        """Elements of the weights among ``names`` or that they are computed from."""
        found: frozenset[str] = frozenset().union(*(self.weights(n) for n in names))
        sizes = {i.name: prod(i.dims) for i in self.graph.initializer}
        return sum(sizes[n] for n in found)

    def add(self, node: Any, op: Op) -> None:
        self.index[node.output[0]] = len(self.ops)
        self.ops.append(op)

    def unknown(self, node: Any, ins: list[str], name: str, why: str) -> None:
        if not self.allow_unknown or len(ins) != 1:
            extra = (
                "; --allow-unknown writes it as an uncounted layer"
                if not self.allow_unknown
                else " (an op of several tensors cannot be written even as unknown)"
            )
            raise ConvcostError(f"{node.op_type} '{name}' has no convcost kind: {why}{extra}")
        shape = self.shape(node.output[0], node)
        entry = {UnknownKind.kind: {"name": name, "op": node.op_type, "shape": list(shape)}}
        self.add(node, Op(name, node.op_type, LAYER, (self.index[ins[0]],), shape, [entry], None))

    def node(self, node: Any, ins: list[str], name: str) -> None:
        kind, attrs = node.op_type, _attrs(node)
        shape = self.shape(node.output[0], node)
        inputs = tuple(self.index[x] for x in ins)
        in_shape = self.ops[inputs[0]].shape
        last = inputs[0] in self.last
        if last:
            shape = (shape[-1], *shape[:-1])
        turn = self.permute(attrs, len(in_shape) + 1, last) if kind == "Transpose" else None
        if turn is not None:
            self.add(node, Op(name, kind, LAYER, inputs, in_shape))
            if turn:
                self.last.add(len(self.ops) - 1)
            return
        if last and (len(ins) != 1 or kind not in PER_POSITION):
            raise Unknown(f"{kind} of a channels-last tensor (after a Transpose)")
        if kind in TWO and len(ins) == 2:
            self.add(node, Op(name, kind, TWO[kind], inputs, shape))
            return
        if kind == "Pad":
            self.padded[node.output[0]] = self.pad_pairs(node, attrs, len(in_shape) - 1)
            self.index[node.output[0]] = inputs[0]
            return
        if ins[0] in self.padded:
            if kind not in ("Conv", *POOLS) or attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"", ""):
                raise Unknown("Pad before it; convcost takes padding only as a conv's or a pool's own")
            nd = len(in_shape) - 1
            own = list(attrs.get("pads", (0,) * (2 * nd)))
            extra = self.padded[ins[0]]
            attrs["pads"] = [own[i] + extra[i][0] for i in range(nd)] + [own[nd + i] + extra[i][1] for i in range(nd)]
        if kind in ("Add", "Mul") and self.neutral(node, ins, 0 if kind == "Add" else 1):
            self.index[node.output[0]] = inputs[0]  # x + 0, x · 1: x itself (a sum started at 0)
            return
        if kind == "Concat":
            if attrs.get("axis") not in (1, -len(in_shape) - 1):
                raise Unknown(f"concatenation along axis {attrs.get('axis')}; convcost concatenates channels (axis 1)")
            self.add(node, Op(name, kind, CAT, inputs, shape))
            return
        if len(ins) != 1:
            raise Unknown(f"it takes {len(ins)} tensors")
        if kind == "Transpose" and self.shuffle(node, attrs, inputs[0], name):
            return
        if kind == "Split":
            self.split(node, attrs, inputs[0], in_shape, name)
            return
        constants = [x for x in node.input if x and x not in ins]
        if kind == "Add" and inputs[0] in self.linear_bias and len(constants) == 1 and self.weights(constants[0]):
            self.bias(constants[0], node, inputs[0])
            return
        params = self.learned(list(node.input[1:3]) if kind == "BatchNormalization" else constants) if kind in WEIGHTED else 0
        if last and kind == "MatMul" and self.weights(node.input[1]):  # a Linear over the channels at every position
            entries: list[Entry] = [{PWConv.kind: {"out": shape[0], "bias": False}}]
        elif (
            kind == "LayerNormalization"
            and (last or len(in_shape) == 1)
            and attrs.get("axis", -1) in (-1, len(in_shape) if not last else -1)
        ):
            entries = [{LayerNorm.kind: None}]
        else:
            entries = self.entries(node, attrs, in_shape, shape)
        self.add(node, Op(name, kind, LAYER, inputs, shape, named(entries, name), params))
        if last:
            self.last.add(len(self.ops) - 1)
        if kind == "MatMul":
            self.linear_bias[len(self.ops) - 1] = name

    def pad_pairs(self, node: Any, attrs: dict[str, Any], nd: int) -> tuple[tuple[int, int], ...]:
        """A constant Pad of the spatial axes only, by known non-negative amounts: (before, after) per axis."""
        mode = attrs.get("mode", b"constant")
        found = attrs.get("pads")
        if found is None and len(node.input) > 1 and node.input[1]:
            value = self.value(node.input[1])
            found = None if value is None else [int(v) for v in value.reshape(-1)]
        if (mode.decode() if isinstance(mode, bytes) else mode) != "constant" or found is None or len(found) != 2 * (nd + 2):
            raise Unknown("a Pad that is not constant, or whose amounts are not known")
        begin, end = found[: nd + 2], found[nd + 2 :]
        if begin[:2] != [0, 0] or end[:2] != [0, 0] or min(found) < 0:
            raise Unknown("a Pad of the batch or channel axes, or a crop")
        return tuple((begin[2 + i], end[2 + i]) for i in range(nd))

    def neutral(self, node: Any, ins: list[str], unit: int) -> bool:
        """The node's constant input is the number ``unit`` (a constant, not a learned weight that happens to hold it)."""
        constants = [x for x in node.input if x and x not in ins]
        value = self.value(constants[0]) if len(constants) == 1 and not self.weights(constants[0]) else None
        return value is not None and value.size == 1 and float(value.reshape(-1)[0]) == unit

    def split(self, node: Any, attrs: dict[str, Any], producer: int, in_shape: Shape, name: str) -> None:
        """Split into equal channel groups: one ``chunk`` per output."""
        outputs = [o for o in node.output if o]
        sizes = attrs.get("split")
        if sizes is None and len(node.input) > 1 and node.input[1]:
            found = self.value(node.input[1])
            sizes = None if found is None else [int(v) for v in found.reshape(-1)]
        sizes = sizes or [in_shape[0] // len(outputs)] * len(outputs)
        if attrs.get("axis", 0) not in (1, -len(in_shape) - 1) or sum(sizes) != in_shape[0]:
            raise Unknown(f"a split into {sizes} along axis {attrs.get('axis', 0)}; convcost splits the channels (axis 1)")
        for i, out in enumerate(outputs):
            part = f"{name}.{i}"
            entry = channel_part(sum(sizes[:i]), sum(sizes[: i + 1]), in_shape[0])
            self.index[out] = len(self.ops)
            self.ops.append(Op(part, "Split", LAYER, (producer,), (sizes[i], *in_shape[1:]), named([entry], part), 0))

    def chunk(self, node: Any, in_shape: Shape) -> Entry:
        """A Slice of the channels: one of equal chunks (torch's chunk as exported) or a ``slice``."""
        found: list[list[int] | None] = [None, None, None, None]
        for i, x in enumerate(list(node.input[1:5])):
            value = self.value(x) if x else None
            found[i] = None if value is None else [int(v) for v in value.reshape(-1)]
        starts, ends, axes, steps = found
        if starts is None or ends is None:
            raise Unknown("a slice whose bounds are not constants")
        axes = axes if axes is not None else list(range(len(starts)))
        steps = steps if steps is not None else [1] * len(starts)
        c = in_shape[0]
        if len(starts) == 1 and axes[0] in (1, -len(in_shape) - 1) and steps == [1]:
            lo, hi = min(max(starts[0], 0), c), min(ends[0], c)
            if hi > lo:
                return channel_part(lo, hi, c)
        raise Unknown(f"a slice {starts}:{ends} on axes {axes}; convcost slices the channels (axis 1), step 1")

    @staticmethod
    def permute(attrs: dict[str, Any], rank: int, last: bool) -> bool | None:
        """None: not a move of the channels; True: to the end (0, 2, …, 1); False: back."""
        perm = tuple(attrs.get("perm", ()))
        if not last and perm == (0, *range(2, rank), 1):
            return True
        if last and perm == (0, rank - 1, *range(1, rank - 1)):
            return False
        return None

    def shuffle(self, node: Any, attrs: dict[str, Any], producer: int, name: str) -> bool:
        """Reshape to (g, C/g, …), Transpose (0, 2, 1, …), Reshape back: ShuffleNet's channel shuffle.
        The op gets the shape after the reshape back, which must follow (graph.nest checks)."""
        split = self.ops[producer]
        if split.role != LAYER or split.layers or not split.inputs:
            return False
        before = self.ops[split.inputs[0]].shape
        perm = list(attrs.get("perm", ()))
        if (
            len(split.shape) != len(before) + 1
            or split.shape[0] * split.shape[1] != before[0]
            or perm[:3] != [0, 2, 1]
            or perm[3:] != list(range(3, len(perm)))
        ):
            return False
        self.add(
            node,
            Op(
                name, "Reshape/Transpose/Reshape", LAYER, split.inputs, before, named([{Shuffle.kind: {"groups": split.shape[0]}}], name), 0
            ),
        )
        return True

    def bias(self, vector: str, node: Any, producer: int) -> None:
        """MatMul then Add of a vector: one linear (or per-position pwconv) with a bias."""
        op = self.ops[producer]
        ((_, args),) = op.layers[0].items()
        args["bias"] = True
        op.params = (op.params or 0) + self.learned([vector])
        self.index[node.output[0]] = producer

    def entries(self, node: Any, attrs: dict[str, Any], in_shape: Shape, shape: Shape) -> list[Entry]:
        handler = TABLE.get(node.op_type)
        if handler is None:
            raise Unknown(f"op {node.op_type}")
        return handler(self, node, attrs, in_shape, shape)

    def conv_op(self, node: Any, attrs: dict[str, Any], in_shape: Shape, shape: Shape) -> list[Entry]:
        entry = self.conv(node, attrs, in_shape, shape)
        dims = self.weight_dims(node.input[1]) or []
        own = prod(dims) + (shape[0] if len(node.input) > 2 and self.learned([node.input[2]]) else 0)
        if self.learned(list(node.input[1:])) == own + shape[0]:  # a gain per output channel, in a standardised weight (NFNet)
            return [entry, {LayerScale.kind: None}]
        return [entry]

    def weight_dims(self, name: str) -> list[int] | None:
        """A weight's dims: an initializer's, or, for a weight computed from one (standardised at
        run time), what shape inference gives."""
        if name in self.inits:
            return list(self.inits[name].dims)
        if not self.weights(name):
            return None
        for info in self.graph.value_info:
            if info.name == name:
                dims = [d.dim_value if d.HasField("dim_value") else 0 for d in info.type.tensor_type.shape.dim]
                return dims if dims and all(dims) else None
        return None

    def gemm(self, node: Any, attrs: dict[str, Any], in_shape: Shape, shape: Shape) -> list[Entry]:
        if not self.weights(node.input[1]) or len(in_shape) != 1 or attrs.get("transA"):
            raise Unknown("a product with a weight that is not an initializer, or of a tensor that is not flat")
        return [{Linear.kind: {"out": shape[0], "bias": node.op_type == "Gemm" and len(node.input) > 2 and bool(node.input[2])}}]

    def mul(self, node: Any, attrs: dict[str, Any], in_shape: Shape, shape: Shape) -> list[Entry]:
        """x · w (w learned: an initializer) or x · n, x / n (n a constant number)."""
        learned = self.learned([x for x in node.input if self.weights(x)])
        if node.op_type == "Mul" and learned == in_shape[0]:
            return [{LayerScale.kind: None}]
        if node.op_type == "Mul" and learned == 1:
            return [{Scale.kind: {"learned": True}}]
        numbers = [x for x in node.input if x in self.constants]
        value = self.constants[numbers[0]] if len(numbers) == 1 and not learned else None
        if value is not None and value.size == 1 and (node.op_type == "Mul" or numbers[0] == node.input[1]) and float(value.reshape(-1)[0]):
            factor = float(value.reshape(-1)[0])
            return [{Scale.kind: {"by": 1 / factor if node.op_type == "Div" else factor}}]
        raise Unknown(f"{node.op_type} by a constant tensor; convcost multiplies by a number (scale) or a learned scale per channel")

    def clip(self, node: Any, attrs: dict[str, Any], in_shape: Shape, shape: Shape) -> list[Entry]:
        low, high = self.clip_bounds(node, attrs)
        if (low, high) == (0.0, 6.0):
            return [{RELU6: None}]
        if (low, high) == (0.0, None):
            return [{RELU: None}]
        raise Unknown(f"Clip({low}, {high}); only Clip(0, 6) is relu6")

    def softmax(self, node: Any, attrs: dict[str, Any], in_shape: Shape, shape: Shape) -> list[Entry]:
        axis = attrs.get("axis", -1 if self.opset >= 13 else 1)
        if axis in (1, -len(in_shape) - 1) or (len(in_shape) == 1 and axis == -1):
            return [{SOFTMAX: None}]
        raise Unknown(f"softmax over axis {axis}; convcost's is over the channels")

    def prelu(self, node: Any, attrs: dict[str, Any], in_shape: Shape, shape: Shape) -> list[Entry]:
        slopes = self.learned([node.input[1]])
        return [{PReLU.kind: {"per_channel": True} if slopes > 1 else None}]

    def pool_op(self, node: Any, attrs: dict[str, Any], in_shape: Shape, shape: Shape) -> list[Entry]:
        return [self.pool(node, attrs, in_shape, shape, POOLS[node.op_type])]

    def global_pool(self, node: Any, attrs: dict[str, Any], in_shape: Shape, shape: Shape) -> list[Entry]:
        return adaptive(node.op_type == "GlobalMaxPool", shape, in_shape)

    def reduce_mean(self, node: Any, attrs: dict[str, Any], in_shape: Shape, shape: Shape) -> list[Entry]:
        axes = attrs.get("axes")
        given = self.value(node.input[1]) if axes is None and len(node.input) > 1 else None
        if given is not None:
            axes = [int(a) for a in given.reshape(-1)]
        return mean_entries(axes, in_shape, bool(attrs.get("keepdims", 1)))

    def reshape(self, node: Any, attrs: dict[str, Any], in_shape: Shape, shape: Shape) -> list[Entry]:
        return reshape_entries(in_shape, shape)

    def slice_op(self, node: Any, attrs: dict[str, Any], in_shape: Shape, shape: Shape) -> list[Entry]:
        return [self.chunk(node, in_shape)]

    def resize(self, node: Any, attrs: dict[str, Any], in_shape: Shape, shape: Shape) -> list[Entry]:
        mode = attrs.get("mode", b"nearest")
        return [upsample_entry(mode.decode() if isinstance(mode, bytes) else mode, in_shape, shape)]

    def clip_bounds(self, node: Any, attrs: dict[str, Any]) -> tuple[float | None, float | None]:
        if "min" in attrs or "max" in attrs:
            return attrs.get("min"), attrs.get("max")
        found = [self.value(x) if x else None for x in list(node.input[1:3])]
        values = [None if v is None else float(v.reshape(-1)[0]) for v in found]
        values += [None] * (2 - len(values))
        return values[0], values[1]

    def conv(self, node: Any, attrs: dict[str, Any], in_shape: Shape, shape: Shape) -> Entry:
        dims = self.weight_dims(node.input[1])
        if dims is None:
            raise Unknown("its weights are neither an initializer nor computed from one")
        transposed, nd = node.op_type == "ConvTranspose", len(in_shape) - 1
        groups = attrs.get("group", 1)
        out = dims[1] * groups if transposed else dims[0]
        kernel = tuple(dims[2:])
        stride, dilation = tuple(attrs.get("strides", (1,) * nd)), tuple(attrs.get("dilations", (1,) * nd))
        padding = self.pads(node, attrs, nd)
        bias = len(node.input) > 2 and self.learned([node.input[2]]) > 0  # not a bias of zeros computed from the weight's shape
        if transposed:
            if "output_shape" in attrs:
                raise Unknown("ConvTranspose with output_shape; export it with pads and output_padding")
            return conv_entry(
                in_shape[0], out, kernel, stride, padding, dilation, groups, bias, tuple(attrs.get("output_padding", (0,) * nd))
            )
        return conv_entry(in_shape[0], out, kernel, stride, padding, dilation, groups, bias)

    def pads(self, node: Any, attrs: dict[str, Any], nd: int) -> Any:
        auto = attrs.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto == "SAME_UPPER":
            return "same"
        if auto == "VALID":
            return 0
        if auto not in ("NOTSET", ""):
            raise Unknown(f"auto_pad {auto}; convcost's 'same' puts the odd padding at the end (SAME_UPPER)")
        pads = list(attrs.get("pads", (0,) * (2 * nd)))
        return tuple((pads[i], pads[i + nd]) for i in range(nd))

    def pool(self, node: Any, attrs: dict[str, Any], in_shape: Shape, shape: Shape, maximum: bool) -> Entry:
        nd = len(in_shape) - 1
        kernel = tuple(attrs["kernel_shape"])
        stride = tuple(attrs.get("strides", (1,) * nd))
        return pool_entry(maximum, kernel, stride, self.pads(node, attrs, nd), tuple(attrs.get("dilations", (1,) * nd)),
                          bool(attrs.get("ceil_mode", 0)), nd)  # fmt: skip


def _kind(kind: str) -> Handler:
    """An op that is one kind, whatever its attributes (an activation, a batch norm)."""
    return lambda reader, node, attrs, in_shape, shape: [{kind: None}]


Handler = Callable[[_Reader, Any, dict[str, Any], Shape, Shape], list[Entry]]

#: ONNX op type → what a node of one data input becomes (``_Reader.node`` reads Transpose, Add,
#: Mul and Concat of two tensors, Split and MatMul on channels-last tensors before it).
TABLE: dict[str, Handler] = {
    "Conv": _Reader.conv_op, "ConvTranspose": _Reader.conv_op, "Gemm": _Reader.gemm, "MatMul": _Reader.gemm,
    "BatchNormalization": _kind(BatchNorm.kind), "Mul": _Reader.mul, "Div": _Reader.mul,
    **{op: _kind(kind) for op, kind in ACTS.items()}, "Clip": _Reader.clip, "Softmax": _Reader.softmax,
    "PRelu": _Reader.prelu, "Dropout": _kind(Dropout.kind), **{op: lambda *_: [] for op in PASS},
    **{op: _Reader.pool_op for op in POOLS}, "GlobalAveragePool": _Reader.global_pool, "GlobalMaxPool": _Reader.global_pool,
    "ReduceMean": _Reader.reduce_mean, **{op: _Reader.reshape for op in RESHAPES}, "Slice": _Reader.slice_op,
    "Resize": _Reader.resize, "Upsample": _Reader.resize,
}  # fmt: skip


def _constant_node(attrs: dict[str, Any], limit: int) -> Any:
    """A Constant node's value (``value``, or ``value_int(s)``/``value_float(s)`` as the dynamo
    exporter writes them) as numpy, when it has at most ``limit`` elements."""
    import numpy as np

    if "value" in attrs:
        return _constant(attrs["value"], limit)
    for key, dtype in (("value_ints", np.int64), ("value_int", np.int64), ("value_floats", np.float32), ("value_float", np.float32)):
        if key in attrs:
            value = np.array(attrs[key], dtype=dtype)
            return value if value.size <= limit else None
    return None


def _small(tensor: Any) -> Any:
    """A small initializer's value (axes, bounds, shapes) as numpy; None for weights, whose data
    is never read."""
    return _constant(tensor, SMALL)


def _infer(model: Any, source: str) -> Any:
    """ONNX shape inference, without its data propagation: ``fold_shapes`` folds shape arithmetic
    itself, bounded, where ONNX's would build whatever a chain of Concats of constants makes (a
    1 KB file: 2^33 elements, std::bad_alloc)."""
    try:
        return shape_inference.infer_shapes(model, strict_mode=True, data_prop=False)
    except Exception as exc:  # noqa: BLE001 — onnx raises its own errors for graphs that do not check
        raise ConvcostError(
            f"{source}: ONNX shape inference fails ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        ) from None


MAX_FOLD = 1024  #: elements of a value folded: shape arithmetic works on vectors of a few; larger values are not folded


def _constant(tensor: Any, limit: int) -> Any:
    """A tensor's value as numpy when it has at most ``limit`` elements and its data is here, else None."""
    if tensor.data_location == onnx.TensorProto.EXTERNAL or any(d < 0 for d in tensor.dims) or prod(tensor.dims) > limit:
        return None
    return numpy_helper.to_array(tensor)


def _folded_size(kind: str, values: list[Any], attrs: dict[str, Any]) -> int:
    """The elements ``_fold`` would make, computed before it makes them (numpy's errors for
    values that do not fit are raised here: ValueError, IndexError)."""
    import numpy as np

    if kind in ("Add", "Sub", "Mul", "Div", "Mod"):
        return prod(np.broadcast_shapes(*(v.shape for v in values)))
    if kind in ("Max", "Min"):
        return prod(np.broadcast_shapes(*(v.shape for v in values)))
    if kind == "Clip":
        return int(values[0].size)
    if kind == "ConstantOfShape":
        return prod(int(n) for n in values[0].reshape(-1)) if values[0].size <= 8 else MAX_FOLD + 1
    if kind == "Concat":
        return sum(v.size for v in values)
    if kind == "Gather":
        kept = list(values[0].shape)
        del kept[attrs.get("axis", 0)]  # the axis gathered along: replaced by the indices' shape
        return prod(kept) * values[1].size
    return max((v.size for v in values), default=0)


def _fold(node: Any, values: list[Any], attrs: dict[str, Any]) -> Any:
    """One node of shape arithmetic on known values (numpy), or None (also for a value of more
    than MAX_FOLD elements, which is not folded)."""
    import numpy as np

    kind = node.op_type
    if _folded_size(kind, values, attrs) > MAX_FOLD:
        return None
    if kind == "Gather":
        return np.take(values[0], values[1], axis=attrs.get("axis", 0))
    if kind == "Unsqueeze":
        axes = attrs.get("axes", values[1].tolist() if len(values) > 1 else [])
        return np.expand_dims(values[0], tuple(axes))
    if kind == "Concat":
        return np.concatenate([np.atleast_1d(v) for v in values], axis=attrs.get("axis", 0))
    if kind in ("Add", "Sub", "Mul", "Div"):
        a, b = values
        if kind == "Div":
            return a // b if a.dtype.kind in "iu" and b.dtype.kind in "iu" else a / b
        return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}[kind](a, b)
    if kind == "Cast" and "to" in attrs:
        return values[0].astype(onnx.helper.tensor_dtype_to_np_dtype(attrs["to"]))
    if kind in ("Cast", "Identity"):
        return values[0]
    if kind in ("Max", "Min"):
        return functools.reduce(np.maximum if kind == "Max" else np.minimum, values)
    if kind == "Clip":  # values by position, None for an input left out
        low = attrs.get("min", values[1] if len(values) > 1 and values[1] is not None else None)
        high = attrs.get("max", values[2] if len(values) > 2 and values[2] is not None else None)
        return np.clip(values[0], low, high)
    if kind in ("Neg", "Ceil", "Floor", "Abs"):
        return {"Neg": np.negative, "Ceil": np.ceil, "Floor": np.floor, "Abs": np.abs}[kind](values[0])
    if kind == "Transpose":
        return np.transpose(values[0], attrs.get("perm"))
    if kind == "Squeeze":
        axes = attrs.get("axes", values[1].tolist() if len(values) > 1 else None)
        return np.squeeze(values[0], axis=None if axes is None else tuple(axes))
    if kind == "ConstantOfShape":
        fill = _constant(attrs["value"], 1) if "value" in attrs else None
        return np.full(
            [int(n) for n in values[0].reshape(-1)],
            0 if fill is None else fill.reshape(-1)[0],
            dtype=np.float32 if fill is None else fill.dtype,
        )
    if kind == "Mod":
        return np.fmod(values[0], values[1]) if attrs.get("fmod") else np.mod(values[0], values[1])
    if kind == "Reshape":
        target = [d if d != 0 else values[0].shape[i] for i, d in enumerate(values[1].tolist())]
        return values[0].reshape(target)
    if kind == "Slice" and len(values) >= 3:
        starts, ends = values[1].tolist(), values[2].tolist()
        axes = values[3].tolist() if len(values) > 3 else list(range(len(starts)))
        index = [slice(None)] * values[0].ndim
        steps = values[4].tolist() if len(values) > 4 else [1] * len(starts)
        for a, lo, hi, step in zip(axes, starts, ends, steps):
            index[a] = slice(lo, hi, step)
        return values[0][tuple(index)]
    return None


ROUNDS = 100  #: rounds of inference and folding: a chain of n reshapes computed from shapes takes about 2n
FOLDED = {"Gather", "Unsqueeze", "Concat", "Add", "Sub", "Mul", "Div", "Cast", "Identity", "Slice", "Mod", "Reshape", "Max", "Min",
          "Neg", "Ceil", "Floor", "Abs", "Transpose", "Squeeze", "ConstantOfShape", "Clip"}  # fmt: skip


def fold_shapes(model: Any, source: str) -> tuple[Any, set[str]]:
    """Shape inference, with shape arithmetic folded first: an exporter that computes a slice's
    bounds or a reshape's target from Shape(x) (torch's chunk, view with x.size()) leaves
    shapes unknown until Shape(x) of a known x and the integer ops after it become constants.
    Returns the model and the names of the values folded (initializers now, but not weights)."""
    names: set[str] = set()
    for _ in range(ROUNDS):  # each round folds what the shapes inferred so far allow
        inferred = _infer(model, source)
        dims = {}
        for info in [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]:
            found = [d.dim_value if d.HasField("dim_value") else None for d in info.type.tensor_type.shape.dim]
            if found and None not in found:
                dims[info.name] = found
        known = {t.name: value for t in model.graph.initializer if (value := _small(t)) is not None}
        types = {info.name: info.type.tensor_type.elem_type for info in [*inferred.graph.value_info, *inferred.graph.input]
                 if info.type.tensor_type.elem_type}  # fmt: skip
        # Shape(weight) too: the dynamo exporter builds zero biases from it
        dims.update({t.name: list(t.dims) for t in model.graph.initializer if t.name not in dims})
        kept, folded = [], []
        for node in model.graph.node:
            attrs = _attrs(node)
            value = None
            if node.op_type == "Constant":
                if (constant := _constant_node(attrs, MAX_FOLD)) is not None:
                    known[node.output[0]] = constant
            elif node.op_type == "Shape" and node.input[0] in dims and set(attrs) <= {"start", "end"}:
                import numpy as np

                found = dims[node.input[0]]
                value = np.array(found[attrs.get("start", 0) : attrs.get("end", len(found))], dtype=np.int64)
            elif node.op_type == "CastLike" and node.input[0] in known and node.input[1] in types:  # the second input gives only the type
                value = known[node.input[0]].astype(onnx.helper.tensor_dtype_to_np_dtype(types[node.input[1]]))
            elif node.op_type in FOLDED and node.input and all(x in known for x in node.input if x):
                import numpy as np

                with np.errstate(all="ignore"):  # a crafted Div by 0 or an overflow folds to what numpy gives, without a warning line
                    given = [known[x] if x else None for x in node.input] if node.op_type == "Clip" else [known[x] for x in node.input if x]
                    value = _fold(node, given, attrs)
            if value is None:
                kept.append(node)
                continue
            known[node.output[0]] = value
            folded.append(numpy_helper.from_array(value, node.output[0]))
            if not (node.op_type == "Identity" and node.input[0] not in names):  # an alias of a weight stays a weight
                names.add(node.output[0])
        if not folded:
            return inferred, names
        del model.graph.node[:]
        model.graph.node.extend(kept)
        model.graph.initializer.extend(folded)
    return _infer(model, source), names


DATA_FIELDS = ("raw_data", "float_data", "int32_data", "string_data", "int64_data", "double_data", "uint64_data")


def _drop_weight_data(model: Any) -> None:
    """Only the weights' shapes matter: their data is dropped before shape inference copies the
    model (a 100 MB ResNet-50 then takes 0.3 GB less), marked external so the dims still count."""
    for tensor in model.graph.initializer:
        if prod(tensor.dims) > SMALL and tensor.data_location != onnx.TensorProto.EXTERNAL:
            for name in DATA_FIELDS:
                tensor.ClearField(name)
            tensor.data_location = onnx.TensorProto.EXTERNAL
            entry = tensor.external_data.add()
            entry.key, entry.value = "location", "dropped-by-convcost"


def read(path: str, input_shape: Shape | None, *, allow_unknown: bool = False) -> list[Op]:
    """The ONNX file at ``path`` as ops."""
    model = onnx_file.load(path)  # only the graph and the weights' shapes are read, in bounded memory
    if not model.graph.node:
        raise ConvcostError(f"{path}: an empty ONNX graph (no nodes)")
    _drop_weight_data(model)
    try:
        return _Reader(model, input_shape, allow_unknown, path).read()
    except (KeyError, IndexError, ValueError, TypeError, AttributeError) as exc:  # a graph that breaks ONNX's own rules
        raise ConvcostError(f"{path}: cannot read the graph ({type(exc).__name__}: {exc})") from None
