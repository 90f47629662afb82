"""Plain data (from load) → a validated, bound Stack.

Expands blocks (with ``$param`` substitution), ``repeat``, ``defaults`` and the ``bn:``/``act:``
shorthand into a tree of Leaf / Residual / Concat, then binds it to the input shape.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ..errors import ConvcostError, Mark, closest, describe, printable
from ..gcpause import paused
from ..kinds import COMPOSITE, KINDS, Kind, load_plugins
from ..kinds.args import ACTIVATION_ALIASES, activation, alias_hint, boolean, choice, dims_hint, pos_int
from ..kinds.base import argument_hint
from ..kinds.merge import Concatenate
from ..kinds.misc import ACTIVATION_KINDS, BatchNorm
from ..model.graph import (
    INPUT,
    MEMORY_PLANS,
    OPTIMIZERS,
    PREVIOUS,
    Budget,
    Concat,
    Leaf,
    Node,
    Residual,
    Stack,
    bind,
    channels_last,
    every_node,
    key_of,
)
from ..model.names import Auto, Name, Space, render
from ..units import parse_bytes, parse_count
from .read import MAX_FILE_BYTES, LDict, LList, decode, key_mark, mark_of, parse_yaml, read_text
from .sizing import MAX_DEPTH, MAX_NODES, first_too_large

MAX_LAYERS = 250_000  #: leaves; SPEC says 1,000,000, but today a layer costs ~6 KB and ~0.2 ms (a million: 6 GB, minutes)
TOP_KEYS = ("name", "input", "inputs", "names", "defaults", "budget", "blocks", "layers", "outputs")
NAMES = ("nested", "as-written")  #: how explicit names combine with the namespaces they sit in
BUDGET_KEYS = {"params": parse_count, "macs": parse_count, "flops": parse_count, "peak_memory": parse_bytes,
               "min_rf": lambda v: pos_int(v), "no_gridding": lambda v: boolean(v), "training_macs": parse_count,
               "memory_plan": lambda v: choice(*MEMORY_PLANS)(v, 0), "training_memory": parse_bytes,
               "optimizer": lambda v: choice(*OPTIMIZERS)(v, 0)}  # fmt: skip


REFERENCE = "\x00ref"  #: a source naming a layer by name until every name is known (no key starts so)
STDIN = "<stdin>"  #: how errors name the standard input (``convcost analyze -``)


def load(source: str | Path, *, text: str | None = None) -> Stack:
    """A Stack from a YAML file, from standard input when ``source`` is ``-`` (named "stdin"), or
    from ``text``, with ``source`` naming it in errors."""
    stdin = str(source) == "-"
    where = STDIN if stdin else str(source)
    if text is None:
        text = read_stdin() if stdin else read_text(source)
    name = "stdin" if stdin else Path(where).stem
    with paused():
        data = parse_yaml(text, where)
        return from_data(data, default_name=name, source=where)


def read_stdin() -> str:
    """Standard input's text, refused past MAX_FILE_BYTES like a file (an endless pipe included)."""
    stream = getattr(sys.stdin, "buffer", sys.stdin)  # a replaced sys.stdin may be text only
    try:
        data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConvcostError(f"cannot read standard input: {exc.strerror or exc}", path=STDIN) from None
    return decode(data.encode("utf-8") if isinstance(data, str) else data, STDIN)


def loads(text: str, name: str = "model") -> Stack:
    """A Stack from YAML text."""
    return from_data(parse_yaml(text, None), default_name=name, source=None)


def _fail(message: str, container: Any, key: Any = None, path: str | None = None) -> ConvcostError:
    return ConvcostError(message, path=path, mark=mark_of(container, key))


def from_data(data: Any, *, default_name: str = "model", source: str | None = None) -> Stack:
    if data is None:
        raise ConvcostError("empty file: expected a mapping with 'input:' and 'layers:'", mark=Mark(source, 1, 1))
    if not isinstance(data, dict):
        raise ConvcostError(f"expected a mapping with 'input:' and 'layers:', found {describe(data)}",
                            mark=mark_of(data) or Mark(source, 1, 1))  # fmt: skip
    for key in data:
        if key not in TOP_KEYS:
            raise ConvcostError(
                f"unknown key '{key}'; expected one of {', '.join(TOP_KEYS)}{closest(key, TOP_KEYS)}",
                path=str(key),
                mark=key_mark(data, key),
            )
    name = data.get("name", printable(default_name))  # a file's stem is escaped; a name written in the file must be printable
    if not isinstance(name, str):
        raise _fail(f"expected a string, found {describe(name)}", data, "name", "name")
    if name != printable(name):
        raise _fail(f"expected one line of printable text, found control characters in '{printable(name)}' (it is every table's title)",
                    data, "name", "name")  # fmt: skip
    _nested_top_keys(data)
    inputs = _inputs(data)
    shape = inputs[0][1]
    ndim = len(shape) - 1
    defaults = _defaults(data.get("defaults"), data)
    blocks = _blocks(data.get("blocks"), data)
    budget = _budget(data.get("budget"), data)
    layers = data.get("layers")
    if not isinstance(layers, list) or not layers:
        raise _fail(f"expected 'layers:' with a list of at least one layer, found {describe(layers)}", data, "layers", "layers")
    too_large = first_too_large(layers, blocks)
    if too_large is not None:
        raise ConvcostError(f"the stack would expand past {MAX_NODES:,} layers, lists and merges (repeats, blocks or aliases that "
                            "multiply); refusing before expanding it", path=f"layers[{too_large}]",
                            mark=mark_of(layers, too_large) or mark_of(data, "layers"))  # fmt: skip
    naming = data.get("names", "nested")
    if naming not in NAMES:
        raise _fail(f"expected one of {', '.join(NAMES)}, found {describe(naming)}", data, "names", "names")
    expander = _Expander(blocks, defaults, ndim)
    expander.as_written = naming == "as-written"
    top = Space()
    nodes = expander.many(layers, "layers", {}, (), top, list_input=inputs[0][0])
    if not nodes:
        raise _fail("the stack expands to no layers at all (empty repeats and blocks only)", data, "layers", "layers")
    wanted = _outputs(data, expander, top)
    named = _named(nodes)
    if expander.refs:  # names to resolve (most files have none: the map of every name is not built)
        resolver = _Resolver(expander, named, inputs)
        resolved, outputs, names = resolver.nodes(named), tuple(resolver.source(token) for token in wanted), resolver.said
    else:
        resolved, outputs, names = named, (), {}
    several = inputs if "inputs" in data else ()
    try:
        bound, _ = bind(resolved, shape, several, names)
    except ConvcostError as exc:
        exc.message += f" ({hint})" if (hint := channels_last(shape)) else ""
        raise
    if len(set(outputs)) != len(outputs):
        raise _fail("outputs: names one layer twice", data, "outputs", "outputs")
    written = data.get("outputs")
    output_names = tuple(written if isinstance(written, list) else [written]) if outputs else ()
    return Stack(name=name, input=shape, layers=bound, budget=budget, source=source, inputs=several, outputs=outputs, names=names,
                 output_names=output_names)  # fmt: skip


def _nested_top_keys(data: dict[str, Any]) -> None:
    """``layers:`` (or another top-level key) indented under ``defaults:``, ``budget:`` or ``blocks:``."""
    for section in ("defaults", "budget", "blocks"):
        inner = data.get(section)
        for key in (k for k in TOP_KEYS[1:] if isinstance(inner, dict) and k in inner and k not in data):
            first = key_mark(data, next(iter(data)))
            column = f"column {first.col}" if first else "the same column"
            raise ConvcostError(f"indentation: '{key}' is indented under '{section}' — top-level keys start in {column} "
                                f"(found top-level keys: {', '.join(map(str, data))})", path=f"{section}.{key}",
                                mark=key_mark(inner, key))  # fmt: skip


def _input(data: dict[str, Any], container: Any = None, key: str = "input") -> tuple[int, ...]:
    """``input:`` (or one entry of ``inputs:`` in ``container``) as a shape."""
    container, value = (data, data.get("input")) if container is None else (container, container[key])
    where = "input" if key == "input" and container is data else f"inputs.{key}"
    if not isinstance(value, list) or not 2 <= len(value) <= 4:
        written = value[0] if isinstance(value, list) and len(value) == 1 else value  # `[3x224x224]`
        raise _fail(f"expected '{where}:' as [channels, 1 to 3 spatial sizes], found {describe(value)}{dims_hint(written)}",
                    container, key, where)  # fmt: skip
    try:
        return tuple(pos_int(v) for v in value)
    except ConvcostError as exc:
        raise exc.located(where, mark_of(container, key)) from None


def _inputs(data: dict[str, Any]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """(key, shape) of every input: ``input: [C, H, W]`` (key ``input``) or ``inputs: {name: shape, …}``."""
    if "inputs" not in data:
        return ((INPUT, _input(data)),)
    if "input" in data:
        raise _fail("give either input: (one input) or inputs: (several, by name), not both", data, "inputs", "inputs")
    value = data["inputs"]
    if not isinstance(value, dict) or not value:
        raise _fail(f"expected inputs: a mapping of name: [channels, spatial sizes], found {describe(value)}", data, "inputs", "inputs")
    found = []
    for key in value:
        if not isinstance(key, str) or not key.isidentifier():
            raise _fail(f"expected an input's name as a word (letters, digits, _), found {describe(key)}", value, key, f"inputs.{key}")
        found.append((key, _input(data, value, key)))
    ranks = {len(shape) for _, shape in found}
    if len(ranks) > 1:
        raise _fail("every input needs the same number of spatial axes (the kinds are 1-D, 2-D or 3-D for the whole model), found "
                    + ", ".join(f"{k} {list(v)}" for k, v in found), data, "inputs", "inputs")  # fmt: skip
    return tuple(found)


def _outputs(data: dict[str, Any], expander: _Expander, top: Space) -> list[str]:
    """``outputs:`` as references to resolve: a name or a list of names (default: the last layer)."""
    if "outputs" not in data:
        return []
    value = data["outputs"]
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        raise _fail(f"expected outputs: a layer's name or a list of them, found {describe(value)}", data, "outputs", "outputs")
    marks = [(mark_of(value, i) if isinstance(value, list) else None) or mark_of(data, "outputs") for i in range(len(items))]
    return [expander.reference(v, top, m, "outputs") for v, m in zip(items, marks)]


class _Resolver:
    """Names → keys, once every name is rendered. A name means an entry's output (after its
    ``bn``/``act``; a block instance's last layer); failing that, the layer of that name. Seen
    from inside a block, names in its own scope come first, then the scopes around it."""

    def __init__(self, expander: _Expander, nodes: tuple[Node, ...], inputs: tuple[tuple[str, tuple[int, ...]], ...]) -> None:
        self.refs = expander.refs
        self.by_name: dict[str, set[str]] = {}
        self.said: dict[str, str] = {}  #: key → the name errors use
        layer_names: dict[str, set[str]] = {}
        for node in every_node(nodes):
            layer_names.setdefault(node.name, set()).add(key_of(node))
            self.said[key_of(node)] = node.name
        for label, key in expander.entries:
            self.by_name.setdefault(render(label), set()).add(key)
        for name, keys in layer_names.items():
            self.by_name.setdefault(name, keys)
        for key, _ in inputs:  # an input's name that a layer has too names both: an error where it is read
            self.by_name[key] = self.by_name.get(key, set()) | {key}
            self.said[key] = key
        self.cache: dict[str, str] = {}

    def source(self, token: str) -> str:
        if not token.startswith(REFERENCE):
            return token
        found = self.cache.get(token)
        if found is None:
            found = self.cache[token] = self.lookup(*self.refs[int(token[len(REFERENCE) :])])
        return found

    def lookup(self, name: str, prefix: Name, mark: Mark | None, path: str) -> str:
        scopes = [render(prefix[:n]) for n in range(len(prefix), 0, -1)]
        for scope in [*(f"{s}.{name}" for s in scopes if s), name]:
            keys = self.by_name.get(scope)
            if keys is None:
                continue
            if len(keys) > 1:
                raise ConvcostError(f"'{scope}' names {len(keys)} layers; give the one you mean a name: of its own",
                                    path=f"{path}.from" if path != "outputs" else path, mark=mark)  # fmt: skip
            return next(iter(keys))
        raise ConvcostError(f"no layer or input is named '{name}'{closest(name, self.by_name)}",
                            path=f"{path}.from" if path != "outputs" else path, mark=mark)  # fmt: skip

    def nodes(self, items: tuple[Node, ...]) -> tuple[Node, ...]:
        if not self.refs:
            return items
        out: list[Node] = []
        for node in items:
            if node.sources:
                node = node._replace(sources=tuple(self.source(t) for t in node.sources))
            if isinstance(node, Residual):
                node = node._replace(body=self.nodes(node.body), shortcut=self.nodes(node.shortcut))
            elif isinstance(node, Concat):
                node = node._replace(branches=tuple(self.nodes(b) for b in node.branches))
            out.append(node)
        return tuple(out)


def _defaults(value: Any, data: Any) -> LDict:
    if value is None:
        return LDict()
    if not isinstance(value, dict):
        raise _fail(f"expected a mapping of argument defaults, found {describe(value)}", data, "defaults", "defaults")
    if any(key not in ("bn", "act") and key not in KINDS and all(key not in cls.arguments() for cls in KINDS.values()) for key in value):
        load_plugins()  # a default only a plugin kind takes
    known = {"bn", "act"} | {a for cls in KINDS.values() for a in cls.arguments()}
    for key, scoped in value.items():
        if key in KINDS and (key not in known or isinstance(scoped, dict)):  # per kind: `defaults: {conv: {bias: false}}`
            if not isinstance(scoped, dict):
                raise _fail(f"expected the defaults of {key} as a mapping, found {describe(scoped)}", value, key, f"defaults.{key}")
            cls = KINDS[key]
            takes = set(cls.arguments()) | ({"bn", "act"} if cls.SHORTHAND else set())
            for arg_name in scoped:
                if arg_name not in takes:
                    hint = argument_hint(arg_name, takes)
                    raise _fail(f"{key} takes no '{arg_name}'{hint}", scoped, arg_name, f"defaults.{key}.{arg_name}")
        elif key not in known:
            raise _fail(f"no layer kind takes '{key}'{argument_hint(key, known | set(KINDS))}", value, key, f"defaults.{key}")
    return value  # type: ignore[return-value]  # an LDict: checked to be a dict above, built by the loader


def _blocks(value: Any, data: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(f"expected a mapping of named blocks, found {describe(value)}", data, "blocks", "blocks")
    for name, block in value.items():
        path = f"blocks.{name}"
        if name in KINDS or name in ("residual", "concat", "repeat"):
            raise _fail(f"block name '{name}' is a layer kind; choose another name", value, name, path)
        if not isinstance(block, dict) or not isinstance(block.get("layers"), list):
            raise _fail("expected a mapping with 'layers:' (a list) and optional 'params:'", value, name, path)
        for key in block:
            if key not in ("params", "layers"):
                raise _fail(f"unknown key '{key}' in a block; expected params, layers", block, key, f"{path}.{key}")
        if block.get("params") is not None and not isinstance(block["params"], dict):
            raise _fail("expected 'params:' as a mapping of name: default", block, "params", f"{path}.params")
    return value  # type: ignore[return-value]  # an LDict: checked to be a dict above, built by the loader


def _budget(value: Any, data: Any) -> Budget:
    if value is None:
        return Budget()
    if not isinstance(value, dict):
        raise _fail(f"expected a mapping of limits, found {describe(value)}", data, "budget", "budget")
    limits: dict[str, Any] = {}
    for key, raw in value.items():
        if key not in BUDGET_KEYS:
            raise _fail(f"unknown budget '{key}'; expected one of {', '.join(BUDGET_KEYS)}{closest(key, BUDGET_KEYS)}",
                        value, key, f"budget.{key}")  # fmt: skip
        try:
            limits[key] = BUDGET_KEYS[key](raw)
        except ConvcostError as exc:
            raise exc.located(f"budget.{key}", mark_of(value, key)) from None
    return Budget(**limits, marks=dict(getattr(value, "marks", {})))


def _substitute(value: Any, params: dict[str, Any], container: Any, key: Any, path: str, memo: dict[int, Any] | None = None) -> Any:
    """Replace every ``$name`` scalar by its parameter, keeping marks. ``memo``: each aliased
    subtree is substituted once (a YAML alias may appear 2^40 times in a small file)."""
    memo = {} if memo is None else memo
    if id(value) in memo:
        return memo[id(value)]
    if isinstance(value, str) and "$" in value and not (value.startswith("$") and value[1:].isidentifier()):
        from .expr import evaluate  # arithmetic on parameters: imported only by files that use it

        try:
            return evaluate(value, params)
        except ConvcostError as exc:
            raise exc.located(path, mark_of(container, key)) from None
    if isinstance(value, str) and value.startswith("$"):
        if value[1:] not in params:
            raise _fail(f"undefined parameter {value}; this block has {', '.join('$' + p for p in params) or 'none'}"
                        f"{closest(value[1:], params)}", container, key, path)  # fmt: skip
        return params[value[1:]]
    if isinstance(value, LDict):
        out = LDict((k, _substitute(v, params, value, k, f"{path}.{k}", memo)) for k, v in value.items())
        out.mark, out.marks, out.key_marks = value.mark, value.marks, getattr(value, "key_marks", {})
        memo[id(value)] = out
        return out
    if isinstance(value, LList):
        items = LList(_substitute(v, params, value, i, f"{path}[{i}]", memo) for i, v in enumerate(value))
        items.mark, items.marks = value.mark, value.marks
        memo[id(value)] = items
        return items
    return value


def _named(nodes: tuple[Node, ...]) -> tuple[Node, ...]:
    """Render every node's name parts (see names.py) now that every namespace is complete."""
    out: list[Node] = []
    for node in nodes:
        name = render(node.name)  # type: ignore[arg-type]  # parts until now
        if isinstance(node, Residual):
            out.append(node._replace(name=name, body=_named(node.body), shortcut=_named(node.shortcut)))
        elif isinstance(node, Concat):
            out.append(node._replace(name=name, branches=tuple(_named(b) for b in node.branches)))
        else:
            out.append(node._replace(name=name))
    return tuple(out)


def _omitting(local: Name) -> Name:
    """A composite's own name part as a prefix of its branches: dropped when it is unique."""
    return tuple(p.omitting() if isinstance(p, Auto) else p for p in local)


def _local(explicit: str | None, space: Space, base: str) -> Name:
    return (explicit,) if explicit is not None else (space.auto(base),)


class _Expander:
    def __init__(self, blocks: dict[str, Any], defaults: LDict, ndim: int) -> None:
        self.blocks, self.defaults, self.ndim, self.count = blocks, defaults, ndim, 0
        self.work = 0  #: lists and items expanded so far (empty ones too), bounded by MAX_NODES
        self.depth = 0
        self.as_written = False  #: explicit names are used as written, without block, repeat or branch prefixes
        self.refs: list[tuple[str, Name, Mark | None, str]] = []  #: (name, the prefix it is seen from, mark, path) per reference
        self.entries: list[tuple[Name, str]] = []  #: (an entry's name, its output key), for references
        self.entry_label: Name | None = None  #: the name of the entry just expanded (None: it has none of its own)
        self.block_inputs: dict[str, str] = {}  #: in / in0, in1 … of the block being expanded → its sources
        self.entry_input: str = PREVIOUS  #: the source the entry being expanded reads (its from:, else the entry before)

    def label(self, space: Space, local: Name) -> Name:
        """A node's full name: its namespace's prefix and its own part (an explicit name alone when
        the file says ``names: as-written``, as an import writes the source's qualified names)."""
        if self.as_written and isinstance(local[0], str):
            return local
        return space.prefix + local

    def many(self, items: Any, path: str, params: dict[str, Any], stack: tuple[str, ...], space: Space,
             alone: bool = True, where: Mark | None = None, list_input: str = PREVIOUS) -> tuple[Node, ...]:  # fmt: skip
        """Expand a list of layers into ``space``; ``alone``: its only item may share the space;
        ``where``: the mark of the value when it is a scalar (which carries none); ``list_input``:
        the source its first layer reads (``from: -1`` there), PREVIOUS for the tensor before."""
        if not isinstance(items, list):
            raise ConvcostError(f"expected a list of layers, found {describe(items)}", path=path, mark=mark_of(items) or where)
        self._work(1 + len(items), mark_of(items) or where, path)
        if self.depth >= MAX_DEPTH:
            raise ConvcostError(f"layers nested more than {MAX_DEPTH} deep (blocks in blocks, branches in branches); refusing",
                                path=path, mark=mark_of(items) or where)  # fmt: skip
        self.depth += 1
        try:
            nodes: list[Node] = []
            sole = alone and len(items) == 1
            before: list[str | None] = []  #: each entry's output key (None: it expanded to nothing)
            for i, item in enumerate(items):
                made = self.one(item, mark_of(items, i), f"{path}[{i}]", params, stack, space, sole, before, list_input)
                before.append(key_of(made[-1]) if made else None)
                nodes.extend(made)
            return tuple(nodes)
        finally:
            self.depth -= 1

    def _defaults_for(self, kind: str) -> tuple[dict[str, Any], dict[str, Mark]]:
        """The defaults a layer of ``kind`` gets: the global ones, then its kind's own on top. A
        global ``bn``/``act`` is the shorthand only; it never sets a kind's own argument of that
        name (se's inner ``act``): that takes ``se: {act: …}``."""

        def per_kind(key: str) -> bool:  # `conv: {…}`; `bn: true` is the shorthand, not the bn kind's scope
            return key in KINDS and isinstance(self.defaults[key], dict)

        scoped = self.defaults.get(kind) if kind in KINDS else None
        shorthand_only = not KINDS[kind].SHORTHAND if kind in KINDS else True
        values = {k: v for k, v in self.defaults.items() if not per_kind(k) and not (shorthand_only and k in ("bn", "act"))}
        marks = {k: m for k, m in (getattr(self.defaults, "marks", None) or {}).items() if not (k in self.defaults and per_kind(k))}
        if isinstance(scoped, dict):
            values.update(scoped)
            marks.update(getattr(scoped, "marks", None) or {})
        return values, marks

    def _work(self, added: int, mark: Mark | None, path: str) -> None:
        self.work += added
        if self.work > MAX_NODES:
            raise ConvcostError(f"the stack expands past {MAX_NODES:,} layers, lists and merges; refusing", path=path, mark=mark)

    def _leaf_count(self, added: int, mark: Mark | None, path: str) -> None:
        self.count += added
        if self.count > MAX_LAYERS:
            raise ConvcostError(f"the stack expands past {MAX_LAYERS:,} layers; refusing", path=path, mark=mark)

    def one(self, item: Any, mark: Mark | None, path: str, params: dict[str, Any], stack: tuple[str, ...], space: Space,
            sole: bool, before: list[str | None] | None = None, list_input: str = PREVIOUS) -> list[Node]:  # fmt: skip
        """One entry of a list, with its ``from:`` (resolved against the entries ``before`` it)."""
        made, sources = self._entry(item, mark, path, params, stack, space, sole, before or [], list_input)
        if sources and made and not made[0].sources:
            made[0] = made[0]._replace(sources=sources)
        if made:
            label = self.entry_label
            if label is not None:
                self.entries.append((label, key_of(made[-1])))
        return made

    def _entry(self, item: Any, mark: Mark | None, path: str, params: dict[str, Any], stack: tuple[str, ...], space: Space,
               sole: bool, before: list[str | None], list_input: str) -> tuple[list[Node], tuple[str, ...]]:  # fmt: skip
        self.entry_label = None
        if params:
            item = _substitute(item, params, None, None, path)
        if isinstance(item, str):
            kind, args = item, LDict()
        elif isinstance(item, dict) and len(item) == 1:
            ((kind, args),) = item.items()
            mark = mark_of(item) or mark
        elif isinstance(item, dict) and len(item) > 1:
            raise self._keys_error(item, path, mark)
        else:
            raise ConvcostError("expected a layer: a kind name or a one-key mapping {kind: {arguments}}, found "
                                + describe(item), path=path, mark=mark_of(item) or mark)  # fmt: skip
        if args is None:
            args = LDict()
        sources: tuple[str, ...] = ()
        if isinstance(args, dict) and "from" in args:
            args, sources = self._from(args, f"{path}.{kind}", space, before, list_input)
        if len(sources) > 1 and (
            kind in ("residual", "repeat") or kind == "concat" and not (isinstance(args, dict) and "branches" not in args)
        ):
            raise ConvcostError(f"a {kind} reads one tensor (its branches start from it); from: names {len(sources)} "
                                "(add or concat: {from: [...]} join several)", path=f"{path}.{kind}.from", mark=mark_of(item, kind) or mark)  # fmt: skip
        earlier = next((k for k in reversed(before) if k is not None), None)  # the entry before (one that made layers)
        self.entry_input = sources[0] if sources else earlier if earlier is not None else list_input
        if kind == "concat" and isinstance(args, dict) and "branches" not in args and sources:
            return self._leaves(kind, args, mark, path, space, Concatenate), sources
        if kind == "concat":
            return [self._concat(args, mark, path, params, stack, space)], sources
        if not isinstance(args, dict):
            raise ConvcostError(f"expected a mapping of arguments for {kind}, found {describe(args)}",
                                path=f"{path}.{kind}", mark=mark_of(item, kind) or mark)  # fmt: skip
        if kind == "residual":
            return [self._residual(args, mark, path, params, stack, space)], sources
        if kind == "repeat":
            return self._repeat(args, mark, path, params, stack, space), sources
        if kind in self.blocks:
            return self._block(kind, args, mark, path, stack, space, sole, sources), sources
        if kind not in KINDS and kind not in load_plugins():
            options = list(KINDS) + ["residual", "concat", "repeat"] + list(self.blocks)
            hint = alias_hint(kind, options) or closest(kind, options)
            raise ConvcostError(f"unknown layer kind '{kind}'{hint}", path=path, mark=mark)
        return self._leaves(kind, args, mark, path, space), sources

    def _from(
        self, args: dict[str, Any], path: str, space: Space, before: list[str | None], list_input: str
    ) -> tuple[LDict, tuple[str, ...]]:
        """The arguments without ``from:``, and its sources: a negative index resolved now (the
        k-th entry before this one in its list), a name left as a reference resolved once every
        name is known (``resolve``)."""
        rest = LDict((k, v) for k, v in args.items() if k != "from")
        rest.mark, rest.marks = getattr(args, "mark", None), dict(getattr(args, "marks", {}) or {})
        rest.key_marks = getattr(args, "key_marks", {})
        raw, at = args["from"], mark_of(args, "from")
        items = raw if isinstance(raw, list) else [raw]
        self._work(len(items), at, path)  # an aliased list of names read 10⁴ times is 10⁸ references
        if not items:
            raise ConvcostError("expected from: a layer's name, a negative index (-1: the entry before) or a list of them, found []",
                                path=f"{path}.from", mark=at)  # fmt: skip
        sources = []
        for i, item in enumerate(items):
            where = (mark_of(raw, i) if isinstance(raw, list) else None) or at
            if isinstance(item, int) and not isinstance(item, bool):
                if item >= 0:
                    raise ConvcostError(f"from: {item}: expected a negative index (-1 is the entry before) or a layer's name; "
                                        "convcost counts back from the layer, as Ultralytics' -1 does", path=f"{path}.from", mark=where)  # fmt: skip
                back = len(before) + item
                if back < -1:
                    raise ConvcostError(f"from: {item} reaches before the start of its list of layers (this is entry {len(before)})",
                                        path=f"{path}.from", mark=where)  # fmt: skip
                key = list_input if back == -1 else before[back]
                if key is None:
                    raise ConvcostError(f"from: {item} names an entry that expands to no layers", path=f"{path}.from", mark=where)
                sources.append(key)
            elif isinstance(item, str) and item:
                sources.append(self.reference(item, space, where, path))
            else:
                raise ConvcostError(f"expected from: a layer's name, a negative index or a list of them, found {describe(item)}",
                                    path=f"{path}.from", mark=where)  # fmt: skip
        rest.marks.setdefault("from", at)  # type: ignore[arg-type]  # where a merge's shape error points
        return rest, tuple(sources)

    def reference(self, name: str, space: Space, mark: Mark | None, path: str) -> str:
        """A placeholder for the layer ``name`` names, seen from ``space`` (resolved by ``resolve``)."""
        if name in self.block_inputs:
            return self.block_inputs[name]
        self.refs.append((name, space.prefix, mark, path))
        return f"{REFERENCE}{len(self.refs) - 1}"

    def _keys_error(self, item: dict[str, Any], path: str, mark: Mark | None) -> ConvcostError:
        """A layer mapping with more than one key: a layer, or arguments, at the level of the kind.
        On lines of their own that is an indentation mistake, located at the second key."""
        first, other = list(item)[:2]
        found = f"(found keys: {', '.join(map(str, item))})"
        at, first_at = key_mark(item, other), key_mark(item, first)
        if other in {*KINDS, *COMPOSITE, *self.blocks, *ACTIVATION_ALIASES}:
            fix = f"a layer is one kind; start '{other}' on its own line with '- '"
        elif first in {*KINDS, *COMPOSITE, *self.blocks}:
            fix = f"indent the arguments under {first}"
        else:
            fix = "a layer is a kind name or a one-key mapping {kind: {arguments}}"
        if at and first_at and at.line != first_at.line:
            return ConvcostError(f"indentation: '{other}' is at the level of '{first}' — {fix} {found}", path=path, mark=at)
        return ConvcostError(f"expected a layer: a kind name or a one-key mapping {{kind: {{arguments}}}}, found several keys {found}",
                             path=path, mark=mark_of(item) or mark)  # fmt: skip

    def _leaves(self, kind: str, args: dict[str, Any], mark: Mark | None, path: str, space: Space,
                cls: type[Kind] | None = None) -> list[Node]:  # fmt: skip
        cls = cls or KINDS[kind]
        defaults, marks = self._defaults_for(kind)
        marks.update(getattr(args, "marks", {}) or {})
        args = dict(args)
        name = args.pop("name", None)
        if name is not None and not isinstance(name, str):
            raise ConvcostError(f"expected a string, found {describe(name)}", path=f"{path}.{kind}.name", mark=marks.get("name"))
        merged = {k: v for k, v in defaults.items() if k in cls.arguments()}
        bn, act = False, None
        if cls.SHORTHAND:
            bn_raw = args.pop("bn", defaults.get("bn", False))
            act_raw = args.pop("act", defaults.get("act"))
            try:
                bn, act = boolean(bn_raw), activation(act_raw)
            except ConvcostError as exc:
                which = "bn" if not isinstance(bn_raw, bool) else "act"
                raise exc.located(f"{path}.{kind}.{which}", marks.get(which, mark)) from None
        merged.update(args)
        try:
            op = cls.parse(merged, self.ndim)
        except ConvcostError as exc:
            raise exc.located(f"{path}.{kind}", marks.get(exc.path, mark) if exc.path else mark) from None
        label = self.label(space, _local(name, space, kind))
        self.entry_label = label
        nodes: list[Node] = [Leaf(path, label, op, mark, arg_marks=marks)]  # type: ignore[arg-type]  # name parts until _named
        if bn:
            nodes.append(Leaf(f"{path}.bn", label + ("bn",), BatchNorm(ndim=self.ndim), mark))  # type: ignore[arg-type]  # name parts until _named renders them
        if act:
            nodes.append(Leaf(f"{path}.{act}", label + (act,), ACTIVATION_KINDS[act](ndim=self.ndim), mark))  # type: ignore[arg-type]  # name parts until _named renders them
        self._leaf_count(len(nodes), mark, path)
        return nodes

    def _name(self, args: dict[str, Any], path: str, kind: str) -> str | None:
        name = args.get("name")
        if name is not None and not isinstance(name, str):
            raise _fail(f"expected a string, found {describe(name)}", args, "name", f"{path}.{kind}.name")
        return name

    def _check_keys(self, args: dict[str, Any], allowed: tuple[str, ...], path: str, kind: str) -> None:
        for key in args:
            if key not in allowed:
                raise ConvcostError(f"unknown argument '{key}' for {kind}; expected {', '.join(allowed)}{closest(key, allowed)}",
                                    path=f"{path}.{kind}.{key}", mark=key_mark(args, key))  # fmt: skip

    def _residual(self, args: dict[str, Any], mark: Mark | None, path: str, params: dict[str, Any], stack: tuple[str, ...],
                  space: Space) -> Node:  # fmt: skip
        self._check_keys(args, ("body", "shortcut", "name"), path, "residual")
        if "body" not in args:
            raise ConvcostError("missing argument 'body' for residual", path=f"{path}.residual", mark=mark)
        local = _local(self._name(args, path, "residual"), space, "residual")
        given = self.entry_input
        body = self.many(args["body"], f"{path}.body", params, stack, space, where=mark_of(args, "body") or mark, list_input=given)
        short_space = space.child(*_omitting(local), "shortcut")
        shortcut = self.many(args.get("shortcut") or LList(), f"{path}.shortcut", params, stack, short_space,
                             where=mark_of(args, "shortcut") or mark, list_input=given)  # fmt: skip
        self.entry_label = self.label(space, local)
        return Residual(path, self.entry_label, body, shortcut, mark)  # type: ignore[arg-type]  # name parts until _named renders them

    def _concat(self, args: Any, mark: Mark | None, path: str, params: dict[str, Any], stack: tuple[str, ...], space: Space) -> Node:
        name = None
        if isinstance(args, dict):
            self._check_keys(args, ("branches", "name"), path, "concat")
            name, args = self._name(args, path, "concat"), args.get("branches")
        if not isinstance(args, list) or not args:
            raise ConvcostError(f"expected concat: a list of branches (each a list of layers), found {describe(args)}",
                                path=f"{path}.concat", mark=mark)  # fmt: skip
        local = _local(name, space, "concat")
        given = self.entry_input
        branches = tuple(self.many(b if b is not None else LList(), f"{path}.branch[{i}]", params, stack,
                                   space.child(*_omitting(local), f"branch{i + 1}"), where=mark_of(args, i) or mark, list_input=given)
                         for i, b in enumerate(args))  # fmt: skip
        self.entry_label = self.label(space, local)
        return Concat(path, self.entry_label, branches, mark)  # type: ignore[arg-type]  # name parts until _named renders them

    def _repeat(self, args: dict[str, Any], mark: Mark | None, path: str, params: dict[str, Any], stack: tuple[str, ...],
                space: Space) -> list[Node]:  # fmt: skip
        self._check_keys(args, ("times", "layers", "name"), path, "repeat")
        name = self._name(args, path, "repeat")
        given = [self.entry_input]  #: what the next iteration reads: the repeat's input, then each iteration's output

        def iteration(r: int) -> tuple[Node, ...]:
            inner = space if name is None else space.child(name, str(r))
            made = self.many(args.get("layers"), f"{path}.repeat[{r}]", params, stack, inner, alone=name is not None,
                             where=mark_of(args, "layers") or mark, list_input=given[0])  # fmt: skip
            given[0] = key_of(made[-1]) if made else given[0]
            return made

        try:
            times = pos_int(args.get("times"))
        except ConvcostError as exc:
            raise exc.located(f"{path}.repeat.times", mark_of(args, "times") or mark) from None
        before, work = self.count, self.work
        nodes = list(iteration(0))
        leaves, lists = (self.count - before) * (times - 1), (self.work - work) * (times - 1)
        self._leaf_count(leaves, mark, path)  # refuse before expanding the other iterations
        self._work(lists, mark, path)
        self.count, self.work = self.count - leaves, self.work - lists  # each iteration counts itself as it expands
        for r in range(1, times):
            nodes.extend(iteration(r))
        self.entry_label = None if name is None else self.label(space, (name,))
        return nodes

    def _block(self, kind: str, args: dict[str, Any], mark: Mark | None, path: str, stack: tuple[str, ...], space: Space,
               sole: bool, sources: tuple[str, ...] = ()) -> list[Node]:  # fmt: skip
        if kind in stack:
            raise ConvcostError(f"recursive block: {' → '.join(stack + (kind,))}", path=path, mark=mark)
        block = self.blocks[kind]
        declared = dict(block.get("params") or {})
        for key in args:
            if key not in declared and key != "name":
                raise _fail(f"unknown parameter '{key}' for block {kind}; expected {', '.join(declared) or 'none'}"
                            f"{closest(key, declared)}", args, key, f"{path}.{kind}.{key}")  # fmt: skip
        values = {**declared, **{k: v for k, v in args.items() if k != "name"}}
        for key, value in values.items():
            if value is None:
                raise ConvcostError(f"block {kind} needs parameter '{key}'", path=f"{path}.{kind}", mark=mark)
        name = self._name(args, path, kind)
        local = _local(name, space, kind)
        inner = space if (sole and name is None) else space.child(*local)
        outer_inputs = self.block_inputs
        sources = sources or (self.entry_input,)  # without from: its one input is the entry before
        self.block_inputs = dict(zip(("in",) if len(sources) == 1 else (f"in{i}" for i in range(len(sources))), sources))
        try:
            nodes = list(self.many(block["layers"], f"{path}.{kind}", values, stack + (kind,), inner, where=mark,
                                   list_input=sources[0]))  # fmt: skip
        finally:
            self.block_inputs = outer_inputs
        self.entry_label = None if inner is space else self.label(space, local)
        return nodes
