"""A rewritten design written in the user's own structure: the model file's blocks, repeats,
defaults and budget kept, and each rewritten layer entry replaced where it is written.

Every leaf remembers the YAML mark of the entry it came from, so the instances of one entry (a
conv inside a block used twelve times) are grouped by mark. An entry is rewritten in place when
every instance was rewritten into the same parts and each part's arguments can be written once
for all of them: an argument the part shares with the original conv keeps the user's expression
(``$width``, ``same``), any other must have one value everywhere, and arguments the defaults
already give are left out. The result is loaded and analysed again, and used only when every
layer's output shape, params and MACs equal the rewritten design's; otherwise ``None`` (the
caller writes the design flat, layer by layer).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ConvcostError, Mark
from ..kinds import KINDS, Kind
from ..model.graph import Leaf, Stack, leaves
from .read import LDict, LList, mark_of, parse_yaml, read_text

SHORTHAND_KEYS = ("bn", "act")


class _Unwritable(Exception):
    """This rewrite cannot be written in the source's structure."""


def plain(value: Any) -> Any:
    """A kind's field as YAML writes it: tuples as lists, all the way down."""
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return value


def _data(value: Any) -> Any:
    """Loaded YAML (LDict / LList with marks) → plain dicts and lists for dumping."""
    if isinstance(value, dict):
        return {k: _data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_data(v) for v in value]
    return value


def _primaries(stack: Stack) -> dict[Mark, list[Leaf]]:
    """The leaves each source entry expanded into (the bn/act that ``bn:``/``act:`` append left out)."""
    groups: dict[Mark, list[Leaf]] = {}
    paths = set()
    for leaf in leaves(stack.layers):
        parent = leaf.path.rpartition(".")[0]
        if parent in paths:  # `conv.bn`, `conv.relu`: appended by the shorthand
            continue
        paths.add(leaf.path)
        if leaf.mark is None:
            raise _Unwritable
        groups.setdefault(leaf.mark, []).append(leaf)
    return groups


def _parts(rewritten: Stack) -> dict[str, list[Leaf]]:
    """Replacement parts by the path of the leaf they replace (``path/part``)."""
    parts: dict[str, list[Leaf]] = {}
    for leaf in leaves(rewritten.layers):
        head, slash, _ = leaf.path.partition("/")
        if slash:
            parts.setdefault(head, []).append(leaf)
    return parts


def _entry(item: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(item, str):
        return item, {}
    ((kind, args),) = item.items()
    return kind, dict(args or {})


def _replacement(item: Any, instances: list[Leaf], parts: dict[str, list[Leaf]], defaults: dict[str, Any], ndim: int) -> list[Any]:
    """The entries that replace ``item`` for every instance, or _Unwritable."""
    kind, args = _entry(item)
    shapes = [[p.op.kind for p in parts[leaf.path]] for leaf in instances]
    if any(s != shapes[0] for s in shapes):
        raise _Unwritable
    name = args.get("name")
    shorthand = {k: args[k] for k in SHORTHAND_KEYS if k in args}
    out = []
    for index, part_kind in enumerate(shapes[0]):
        cls = KINDS[part_kind]
        targets = [parts[leaf.path][index].op for leaf in instances]
        originals = [leaf.op for leaf in instances]
        written: dict[str, Any] = {}
        for field in cls.arguments():
            values = [getattr(t, field) for t in targets]
            same = [getattr(o, field) if field in o.arguments() else None for o in originals]
            if field in args and same == values:
                written[field] = args[field]  # the user's own expression
            elif all(v == values[0] for v in values):
                written[field] = plain(values[0])
            elif field in args and not isinstance(args[field], list) and all(isinstance(v, tuple) for v in values + same):
                written[field] = _per_axis(args[field], same, values)  # e.g. stride [$stride, 1]
            else:
                raise _Unwritable
        _prune(cls, written, [leaf.in_shape for leaf in instances], targets, defaults, ndim, args)
        last = index == len(shapes[0]) - 1
        if cls.SHORTHAND:
            if last:
                written.update(shorthand)
            else:
                written.update({k: v for k, v in (("bn", False), ("act", "none")) if k in defaults})  # not the defaults' bn/act
        elif last and (shorthand or any(k in defaults for k in SHORTHAND_KEYS)):
            raise _Unwritable  # a norm or activation would move after a part that cannot carry it
        if name is not None:
            written = {"name": f"{name}_{parts[instances[0].path][index].path.rpartition('/')[2]}", **written}
        out.append({part_kind: written} if written else part_kind)
    return out


def _per_axis(expression: Any, originals: list[Any], values: list[Any]) -> list[Any]:
    """One entry per axis: the user's expression where the axis kept the original's value, else
    the one value every instance has there (a symmetric padding pair written as one number)."""
    out = []
    for axis in range(len(values[0])):
        if all(o[axis] == v[axis] for o, v in zip(originals, values)):
            out.append(expression)
        elif all(v[axis] == values[0][axis] for v in values):
            literal = values[0][axis]
            if isinstance(literal, tuple):
                if len(set(literal)) != 1:
                    raise _Unwritable
                literal = literal[0]
            out.append(literal)
        else:
            raise _Unwritable
    return out


def _prune(cls: type[Kind], written: dict[str, Any], shapes: list[Any], targets: list[Kind], defaults: dict[str, Any], ndim: int,
           source: dict[str, Any]) -> None:  # fmt: skip
    """Leave out each literal argument that the defaults already give, for every instance."""

    def gives_targets(candidate: dict[str, Any]) -> bool:
        for shape, target in zip(shapes, targets):
            concrete = {k: plain(getattr(target, k)) for k in candidate}
            merged = {**{k: v for k, v in defaults.items() if k in cls.arguments()}, **concrete}
            try:
                if cls.parse(merged, ndim).bind(shape) != target:
                    return False
            except ConvcostError:
                return False
        return True

    if not gives_targets(written):
        raise _Unwritable
    for field in list(written):
        if source.get(field) is written[field]:
            continue  # keep the user's own expressions
        trial = {k: v for k, v in written.items() if k != field}
        if gives_targets(trial):
            written.pop(field)


def _rebuild(value: Any, replace: Callable[[Any, Mark | None], list[Any] | None]) -> Any:
    """A copy of loaded YAML in which every list item that ``replace`` answers is spliced out."""
    if isinstance(value, LList):
        out = []
        for i, item in enumerate(value):
            new = replace(item, mark_of(item) or mark_of(value, i))
            out.extend(new if new is not None else [_rebuild(item, replace)])
        return out
    if isinstance(value, dict):
        return {k: _rebuild(v, replace) for k, v in value.items()}
    return value


def structured(model: Path, stack: Stack, rewritten: Stack, changed: tuple[str, ...]) -> dict[str, Any] | None:
    """The rewritten design as the model file's own data with rewritten entries replaced, or
    None when it cannot be written that way with the same numbers."""
    from ..analysis.report import analyze
    from .read import dump
    from .spec import load

    try:
        source = parse_yaml(read_text(model), str(model))
        if not isinstance(source, LDict):
            return None
        groups = _primaries(stack)
        parts = _parts(rewritten)
        defaults = dict(source.get("defaults") or {})
        rewritten_paths = set(changed)
        replacements: dict[Mark, list[Any]] = {}

        def replace(item: Any, mark: Mark | None) -> list[Any] | None:
            instances = groups.get(mark) if mark is not None else None
            if not instances or mark is None:
                return None
            done = [leaf.path in rewritten_paths for leaf in instances]
            if not any(done):
                return None
            if not all(done):
                raise _Unwritable  # some uses of this entry changed and others not
            if "from" in (_entry(item)[1] or {}):
                raise _Unwritable  # its parts would have to carry the from: and the name others read it by
            if mark not in replacements:
                replacements[mark] = _replacement(item, instances, parts, defaults, stack.ndim)
            return replacements[mark]

        data = _rebuild(source, replace)
    except (_Unwritable, ConvcostError):
        return None
    data = {"name": rewritten.name, **{k: _data(v) for k, v in data.items() if k != "name"}}
    try:  # read back from the very text that will be written
        again = analyze(load(model, text=dump(data)))
    except ConvcostError:
        return None
    expected = analyze(rewritten)
    same = [(r.output, r.params, r.macs) for r in again.layers] == [(r.output, r.params, r.macs) for r in expected.layers]
    return data if same else None
