"""A model read from torch (its ATen ops) or ONNX, as a DAG of ops, nested into convcost's residual/concat.

Both readers produce the same thing: ops in execution order, op 0 the input, the last op the
output. An op is a layer (one data input, zero or more convcost entries), an addition (two
inputs), a channel concatenation, or an elementwise product (only ever as the gate of a
squeeze-and-excitation, which ``fold_se`` turns into one ``se`` layer).

``nest`` writes the DAG as a layer list: walking back from the output, an addition or a
concatenation becomes a ``residual``/``concat`` whose branches start at the op that dominates
it (every path from the input passes through it). A graph that does not nest so (a value used
outside its branch: an FPN's laterals, DLA's aggregation; several outputs) is written ``flat``
instead: one entry per layer in execution order, each reading its producer by ``from:`` where it
is not the entry before, additions and concatenations as ``add``/``concat`` of named tensors.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import ConvcostError
from ..kinds.conv import PWConv
from ..kinds.groups import ACTIVATIONS, GATES, SIGMOID, SILU
from ..kinds.merge import Add, Concatenate, Div, Mul, Residual, Sub
from ..kinds.misc import SE, Flatten, Linear
from ..kinds.pool import GAP

Entry = dict[str, Any]  #: one YAML layer: {kind: args}
Shape = tuple[int, ...]

#: Residuals and concats nested in one another that an import writes. The YAML nests three or four
#: levels per one (a list item, its mapping, the branch lists), which the YAML reader reads back
#: only to about 60 concats or 85 residuals deep; real nets nest fewer than 20.
MAX_NESTING = 40

#: What an op does with its inputs (OUTPUTS: the model's several outputs, the last op).
INPUT, LAYER, ADD, CAT, MUL, SUB, DIV, OUTPUTS = "input", "layer", "add", "cat", "mul", "sub", "div", "outputs"
#: the joins written flat as merge kinds of named tensors (``from: [a, b]``)
MERGES = {ADD: Add.kind, CAT: Concatenate.kind, MUL: Mul.kind, SUB: Sub.kind, DIV: Div.kind}


class Unnested(ConvcostError):
    """The graph does not nest as residuals and concats (``structure`` writes it flat)."""


@dataclass
class Op:
    name: str  #: the user's name for it (a module path, an ONNX node name)
    source: str  #: the op as the source names it (``Conv2d``, ``Conv``, ``torch.cat``), for messages
    role: str  #: INPUT, LAYER, OUTPUTS or one of MERGES
    inputs: tuple[int, ...]  #: producer ops of the data inputs
    shape: Shape  #: output shape without the batch
    layers: list[Entry] = field(default_factory=list)  #: convcost entries (LAYER); [] passes through
    params: int | None = None  #: learned parameters by the source's own count (None: not known)


def named(entries: list[Entry], name: str) -> list[Entry]:
    """Name the entries of one op: the first (or only) by the op, the rest by kind under it."""
    out = []
    for i, entry in enumerate(entries):
        ((kind, args),) = entry.items()
        out.append({kind: {"name": name if i == 0 else f"{name}.{kind}", **(args or {})}})
    return out


def located(op: Op, message: str) -> ConvcostError:
    return ConvcostError(f"{op.source} '{op.name}': {message}")


def prune(ops: list[Op]) -> list[Op]:
    """Only the ops the output depends on (shape arithmetic and dead branches dropped), renumbered."""
    live = [False] * len(ops)
    live[-1] = live[0] = True
    for i in range(len(ops) - 1, -1, -1):
        if live[i]:
            for j in ops[i].inputs:
                live[j] = True
    index: dict[int, int] = {}
    kept: list[Op] = []
    for i, op in enumerate(ops):
        if live[i]:
            index[i] = len(kept)
            kept.append(replace(op, inputs=tuple(index[j] for j in op.inputs)))
    return kept


def _sole_kind(op: Op) -> str | None:
    return next(iter(op.layers[0])) if op.role == LAYER and len(op.layers) == 1 else None


def _kinds(chain: list[Op]) -> list[tuple[str, dict[str, Any]]]:
    """The entries of a chain of ops, in execution order, flattens dropped."""
    found = []
    for op in reversed(chain):
        for entry in op.layers:
            ((kind, args),) = entry.items()
            if kind != Flatten.kind:
                found.append((kind, args if isinstance(args, dict) else {}))
    return found


def _se_shape(kinds: list[tuple[str, dict[str, Any]]]) -> bool:
    names = [k for k, _ in kinds]
    if len(names) != 5 or names[0] != GAP.kind or names[2] not in ACTIVATIONS or names[4] not in GATES:
        return False
    fcs = (kinds[1], kinds[3])
    return all(k in (Linear.kind, PWConv.kind) and a.get("bias") is not False and a.get("groups", 1) == 1 for k, a in fcs)


def fold_se(ops: list[Op]) -> list[Op]:
    """x · gate(fc2(act(fc1(gap(x))))) (linear or 1×1 convs with bias, reshapes between) → one
    ``se`` layer on x, named by what its parts' names share. Other products are refused."""
    out = list(ops)
    for i, op in enumerate(ops):
        if op.role != MUL:
            continue
        silu = [x for x, g in (op.inputs, op.inputs[::-1]) if _sole_kind(ops[g]) == SIGMOID and ops[g].inputs == (x,)]
        if silu:  # x · sigmoid(x), as ONNX exporters write SiLU
            out[i] = Op(op.name, f"{op.source} (x · sigmoid(x))", LAYER, (silu[0],), op.shape, named([{SILU: None}], op.name), 0)
            continue
        for x, g in (op.inputs, op.inputs[::-1]):
            chain: list[Op] = []
            j = g
            while j != x and out[j].role == LAYER and len(chain) < 12:  # out: products before this one already folded (a SiLU inside)
                chain.append(out[j])
                j = out[j].inputs[0]
            kinds = _kinds(chain)
            if j != x or not _se_shape(kinds):
                continue
            parts = [c.name for c in chain if c.layers]
            se = {"name": _shared_prefix(parts) or op.name, "squeeze": kinds[1][1]["out"], "act": kinds[2][0], "gate": kinds[4][0]}
            params = sum(c.params or 0 for c in chain) if all(c.params is not None for c in chain) else None
            out[i] = Op(se["name"], f"{op.source} (squeeze-and-excitation)", LAYER, (x,), op.shape, [{SE.kind: se}], params)
            break
        # any other product stays a product of two tensors: a ``mul`` of named tensors, written flat
    return prune(out)


def _shared_prefix(names: list[str]) -> str:
    parts = [n.split(".") for n in names]
    shared: list[str] = []
    for group in zip(*parts):
        if len(set(group)) != 1:
            break
        shared.append(group[0])
    return ".".join(shared)


def chain_concats(ops: list[Op]) -> list[Op]:
    """cat(x, a, b) where cat(x, a) is computed too (DenseNet's growing feature list) reads as
    cat(cat(x, a), b): channel concatenation is associative, and the nesting needs it."""
    seen: dict[tuple[int, ...], int] = {}
    out = list(ops)
    for i, op in enumerate(ops):
        if op.role != CAT:
            continue
        if len(op.inputs) == 1:  # torch.cat([x]): x itself
            out[i] = replace(op, role=LAYER)
            continue
        inputs = op.inputs
        for cut in range(len(inputs) - 1, 1, -1):
            prior = seen.get(inputs[:cut])
            if prior is not None:
                inputs = (prior, *inputs[cut:])
                break
        out[i] = replace(op, inputs=inputs)
        seen.setdefault(op.inputs, i)
    return out


def dominators(ops: list[Op]) -> list[int]:
    """Immediate dominator of every op (ops in execution order; op 0 the only entry)."""
    idom = [0] * len(ops)
    for i in range(1, len(ops)):
        preds = ops[i].inputs
        d = preds[0]
        for p in preds[1:]:
            a, b = d, p
            while a != b:
                while a > b:
                    a = idom[a]
                while b > a:
                    b = idom[b]
            d = a
        idom[i] = d
    return idom


def nest(ops: list[Op], span: tuple[int, int] | None = None, idom: list[int] | None = None) -> list[Entry]:
    """The whole DAG as one layer list (see the module's docstring); ``span``: only the part from
    one op (exclusive) to a later one it dominates (its entries), with ``idom`` the dominators."""
    idom = idom if idom is not None else dominators(ops)
    placed = [False] * len(ops)

    def region(start: int, end: int, depth: int) -> list[Entry]:
        entries: list[Entry] = []
        v = end
        while v != start:
            op = ops[v]
            if placed[v]:
                raise Unnested(f"{op.source} '{op.name}': its output is used on two paths that do not nest")
            placed[v] = True
            if op.role in (INPUT, OUTPUTS):
                raise Unnested(f"{op.source} '{op.name}': a branch reaches the input without passing its fork")
            if op.role == LAYER:
                if not op.layers and op.shape != ops[op.inputs[0]].shape:
                    raise located(op, f"a reshape from {list(ops[op.inputs[0]].shape)} to {list(op.shape)} has no kind "
                                      "(convcost reshapes only by flatten)")  # fmt: skip
                entries.extend(reversed(op.layers))
                v = op.inputs[0]
                continue
            if depth > MAX_NESTING:
                raise located(op, f"residuals and concats nested more than {MAX_NESTING} deep (branches in branches); "
                                  f"convcost writes at most {MAX_NESTING}: refusing")  # fmt: skip
            fork = idom[v]
            branches = [region(fork, j, depth + 1) for j in op.inputs]
            if op.role == ADD:
                if len(branches) != 2:
                    raise Unnested(f"{op.source} '{op.name}': an addition of {len(branches)} tensors")
                body, shortcut = sorted(branches, key=len, reverse=True)
                op.layers = [{Residual.kind: {"name": op.name, "body": body, "shortcut": shortcut}}]
            elif op.role == CAT:
                op.layers = [{Concatenate.kind: {"name": op.name, "branches": branches}}]
            else:
                raise Unnested(f"{op.source} '{op.name}': a {MERGES[op.role]} of two tensors is written flat")
            entries.append(op.layers[0])
            v = fork
        entries.reverse()
        return entries

    if span is not None:
        return region(span[0], span[1], 1)
    if ops[-1].role == OUTPUTS:
        raise Unnested("several outputs")
    entries = region(0, len(ops) - 1, 1)
    for i, op in enumerate(ops[1:], 1):
        if not placed[i]:
            raise Unnested(f"{op.source} '{op.name}': its output is used on two paths that do not nest")
    return entries


class Ref:
    """A ``from:`` naming op ``index``'s output, written as a name once every name is final."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


def closed_joins(ops: list[Op]) -> tuple[dict[int, tuple[int, Entry]], set[int]]:
    """The joins whose part of the graph nests on its own: every op between the join and its
    dominator is read only inside that part (a ResNet block inside an FPN). Outermost first;
    → (join → (its dominator, its nested entry), the ops those entries hold)."""
    idom = dominators(ops)
    readers: list[set[int]] = [set() for _ in ops]
    for i, op in enumerate(ops):
        for j in op.inputs:
            readers[j].add(i)
    nested: dict[int, tuple[int, Entry]] = {}
    inside: set[int] = set()
    for v in range(len(ops) - 1, 0, -1):
        if ops[v].role not in (ADD, CAT) or v in inside:
            continue
        fork, part, todo = idom[v], set(), list(ops[v].inputs)
        while todo:
            u = todo.pop()
            if u != fork and u not in part:
                part.add(u)
                todo.extend(ops[u].inputs)
        if any(ops[u].role not in (LAYER, ADD, CAT) or not readers[u] <= part | {v} for u in part):
            continue
        saved = {u: ops[u].layers for u in part | {v} if ops[u].role in (ADD, CAT)}
        try:
            (entry,) = nest(ops, (fork, v), idom)
        except Unnested:
            for u, layers in saved.items():
                ops[u].layers = layers
            continue
        nested[v] = (fork, entry)
        inside |= part
    return nested, inside


def flat(ops: list[Op]) -> tuple[list[Entry], list[Ref]]:
    """The DAG as one list in execution order, reading by ``from:`` (see the module's
    docstring), joins whose part nests written nested; returns the entries and the outputs
    (empty: the last entry is the output)."""
    entries: list[Entry] = []
    last_writer = 0  #: the op whose output the entry before is
    alias = list(range(len(ops)))  #: an op that passes its input through stands for it
    outputs: list[Ref] = []
    nested, inside = closed_joins(ops)
    for i, op in enumerate(ops[1:], 1):
        if i in inside:
            continue
        reads = [alias[j] for j in op.inputs]
        if i in nested:
            fork, entry = nested[i]
            fork = alias[fork]
            if fork != last_writer:
                ((kind, args),) = entry.items()
                entry = {kind: {**args, "from": Ref(fork)}}
            op.layers = [entry]
            entries.append(entry)
            last_writer = i
            continue
        if op.role == OUTPUTS:
            outputs = [Ref(j) for j in dict.fromkeys(reads)]  # a tensor returned twice is one output
            continue
        if op.role == LAYER:
            if not op.layers:
                if op.shape != ops[op.inputs[0]].shape:
                    raise located(op, f"a reshape from {list(ops[op.inputs[0]].shape)} to {list(op.shape)} has no kind "
                                      "(convcost reshapes only by flatten)")  # fmt: skip
                alias[i] = reads[0]
                continue
            if reads[0] != last_writer:
                ((kind, args),) = op.layers[0].items()
                op.layers[0] = {kind: {**(args or {}), "from": Ref(reads[0])}}
            entries.extend(op.layers)
        elif op.role in MERGES:
            op.layers = [{MERGES[op.role]: {"name": op.name, "from": [Ref(j) for j in reads]}}]
            entries.extend(op.layers)
        else:
            raise located(op, "has no kind")
        last_writer = i
    if not outputs and alias[len(ops) - 1] != last_writer:
        outputs = [Ref(alias[len(ops) - 1])]
    return entries, outputs


def name_refs(ops: list[Op], entries: list[Entry], outputs: list[Ref]) -> list[str]:
    """Every ``Ref`` in ``entries`` (and ``outputs``) as the final name of the op's last entry
    (``input`` for the model's input); returns the outputs' names."""

    def name(ref: Ref) -> str:
        op = ops[ref.index]
        if op.role == INPUT:
            return "input"
        ((_, args),) = op.layers[-1].items()
        return str(args["name"])

    for entry in entries:
        ((_, args),) = entry.items()
        source = args.get("from") if isinstance(args, dict) else None
        if isinstance(source, Ref):
            args["from"] = name(source)
        elif isinstance(source, list):
            args["from"] = [name(r) for r in source]
    return [name(r) for r in outputs]


def structure(ops: list[Op]) -> tuple[list[Op], list[Entry], list[Ref] | None]:
    """Reader output → (the ops kept, the layer list, the outputs when it is written flat; None
    when nested): dead ops dropped, SE gates folded, concats chained, nested where the graph
    nests, flat where it does not. The entries are the ops' own dicts."""
    ops = prune(ops)
    if any(op.role == MUL for op in ops):
        ops = fold_se(ops)
    ops = chain_concats(ops)
    try:
        return ops, nest(ops), None
    except Unnested:
        for op in ops:
            if op.role in MERGES:
                op.layers = []  # a nest tried before may have set them
        entries, outputs = flat(ops)
        return ops, entries, outputs
