"""The reference of the YAML format, generated from the kind registry (the parser's own source):
each kind's arguments with their types, defaults and meanings, its cost formulas and an example
(for ``convcost kinds``, docs/reference.md), and the JSON Schema of a model file (``convcost
schema``). A kind added to the registry is documented by being added."""

from __future__ import annotations

from typing import Any

from .kinds import KINDS, Kind
from .kinds import args as conv
from .kinds.base import ARGUMENT_DOCS, REQUIRED
from .kinds.channel import _channel_padding
from .model.graph import MEMORY_PLANS, OPTIMIZERS

SCHEMA_ID = "urn:convcost:model:1"
COUNT = {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^\\s*[0-9][0-9_]*(\\.[0-9_]*)?\\s*[KMGkmg]?\\s*$"}]}
BYTES = {"anyOf": [{"type": "integer", "minimum": 0},
                   {"type": "string", "pattern": "^\\s*[0-9][0-9_]*(\\.[0-9_]*)?\\s*([KMGkmg][Ii]?)?[Bb]?\\s*$"}]}  # fmt: skip
PARAM = {"type": "string", "pattern": "\\$[A-Za-z_]", "description": "a block parameter ($c), or arithmetic on parameters ($c * 4)"}
SIZES = {"anyOf": [{"$ref": "#/$defs/count"}, {"type": "array", "items": {"$ref": "#/$defs/count"}}]}
PADDING = {"anyOf": [{"$ref": "#/$defs/count"}, {"enum": ["same", "valid", "SAME", "VALID", "Same", "Valid"]},
                     {"type": "array", "items": {"$ref": "#/$defs/count"}},
                     {"type": "array", "items": {"type": "array", "items": {"$ref": "#/$defs/count"}, "minItems": 2, "maxItems": 2}}]}  # fmt: skip

#: converter → (type in words, JSON Schema)
TYPES: dict[Any, tuple[str, dict[str, Any]]] = {
    conv.pos_int: ("positive integer (K/M/G suffixes)", {"$ref": "#/$defs/count"}),
    conv.nonneg_int: ("non-negative integer", {"$ref": "#/$defs/count"}),
    conv.pos_axes: ("positive integer, or a list with one per spatial axis", SIZES),
    conv.nonneg_axes: ("non-negative integer, or a list with one per spatial axis", SIZES),
    conv.padding: ("int, list per axis, [[before, after], …], same or valid", PADDING),
    _channel_padding: ("int, [before, after], same or valid", PADDING),
    conv.boolean: ("true or false", {"type": "boolean"}),
    conv.probability: ("number in [0, 1)", {"type": "number", "minimum": 0, "exclusiveMaximum": 1}),
    conv.number: ("a finite number", {"type": "number"}),
    conv.text: ("string", {"type": "string", "minLength": 1, "maxLength": 200}),
    conv.shape_list: (
        "list: channels, then each spatial size",
        {"type": "array", "items": {"$ref": "#/$defs/count"}, "minItems": 2, "maxItems": 4},
    ),
}


def _type(converter: Any) -> tuple[str, dict[str, Any]]:
    options = getattr(converter, "options", None)
    if options is not None:
        return "one of " + ", ".join(options), {"enum": list(options)}
    return TYPES[converter]


def summary(cls: type[Kind]) -> str:
    """The kind's one-line description (its docstring's first sentence line)."""
    return " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split())


def arguments(cls: type[Kind]) -> list[tuple[str, str, str, str]]:
    """(name, type, default, meaning) per argument, with the shorthand ``bn``/``act`` and ``name``."""
    rows = []
    for name, field in cls.arguments().items():
        default = "required" if field.default is REQUIRED else "—" if field.default is None else str(field.default).lower()
        rows.append((name, _type(field.convert)[0], default, cls.ARG_DOCS.get(name) or ARGUMENT_DOCS[name]))
    if cls.SHORTHAND:
        rows.append(("bn", "true or false", "false", "append a batch norm after it"))
        rows.append(("act", "an activation name or none", "none", f"append an activation: {', '.join(conv.ACTIVATIONS)}"))
    rows.append(("name", "string", "—", "the layer's name in every table (default: its kind, numbered in its block)"))
    return rows


EXAMPLE_INPUT = [16, 32, 32]


def example_facts(cls: type[Kind]) -> str:
    """What the kind's example gives on a 16×32×32 input: output, params, MACs (run, not written)."""
    from .analysis.report import analyze
    from .yamlio.spec import loads

    report = analyze(loads(f"input: {EXAMPLE_INPUT}\nlayers:\n  - {cls.EXAMPLE}\n", name=cls.kind))
    first = report.layers[0]
    shape = "×".join(map(str, first.output))
    return f"on a {'×'.join(map(str, EXAMPLE_INPUT))} input: output {shape}, params {report.totals.params:,}, MACs {report.totals.macs:,}"


def kind_markdown(name: str, cls: type[Kind]) -> str:
    """One kind: description, arguments, cost formulas, a YAML example and what it gives."""
    out = [f"### `{name}`\n\n{summary(cls)}\n", "| argument | type | default | meaning |\n|---|---|---|---|"]
    out += [f"| `{a}` | {t} | {d} | {m} |" for a, t, d, m in arguments(cls)]
    out.append(f"\n**Cost:** {cls.COST}.\n\n```yaml\nlayers:\n  - {cls.EXAMPLE}\n```\n\n{example_facts(cls).capitalize()}.\n")
    return "\n".join(out)


def kinds_markdown() -> str:
    """Every kind in full."""
    return "\n".join(kind_markdown(name, cls) for name, cls in KINDS.items())


# --- JSON Schema ---------------------------------------------------------------------------


_SOURCE = {"anyOf": [{"type": "string", "minLength": 1}, {"type": "integer", "maximum": -1}]}
FROM = {"anyOf": [_SOURCE, {"type": "array", "minItems": 1, "items": _SOURCE}],
        "description": "what the layer reads: a layer's name, -k (the k-th entry before), or a list of them (default: the entry before)"}  # fmt: skip


def _arg_schema(field: Any) -> dict[str, Any]:
    return {"anyOf": [_type(field.convert)[1], {"$ref": "#/$defs/param"}]}


def _kind_schema(name: str, cls: type[Kind]) -> dict[str, Any]:
    props: dict[str, Any] = {
        a: {**_arg_schema(f), "description": cls.ARG_DOCS.get(a) or ARGUMENT_DOCS[a]} for a, f in cls.arguments().items()
    }
    props["name"] = {"type": "string"}
    props["from"] = FROM
    if cls.SHORTHAND:
        props["bn"] = {"anyOf": [{"type": "boolean"}, {"$ref": "#/$defs/param"}]}
        props["act"] = {"anyOf": [{"enum": [*conv.ACTIVATIONS, "none", None]}, {"$ref": "#/$defs/param"}]}
    required = [a for a, f in cls.arguments().items() if f.default is REQUIRED]
    body: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        body["required"] = required
    value = body if required else {"anyOf": [{"type": "null"}, body]}
    return {"type": "object", "description": summary(cls), "properties": {name: value}, "required": [name], "additionalProperties": False}


def _layer_defs(prefix: str, loose: bool) -> dict[str, Any]:
    """The layer and layer-list definitions; ``loose``: unknown keys are block uses (a file with blocks)."""
    ref = f"#/$defs/{prefix}layers"
    bare = [n for n, c in KINDS.items() if all(f.default is not REQUIRED for f in c.arguments().values())]
    composites: list[dict[str, Any]] = [
        {"type": "object", "required": ["residual"], "additionalProperties": False, "properties": {"residual": {
            "type": "object", "required": ["body"], "additionalProperties": False,
            "properties": {"body": {"$ref": ref}, "shortcut": {"anyOf": [{"$ref": ref}, {"type": "null"}]}, "name": {"type": "string"},
                           "from": FROM}}}},
        {"type": "object", "required": ["concat"], "additionalProperties": False, "properties": {"concat": {"anyOf": [
            {"type": "array", "minItems": 1, "items": {"anyOf": [{"$ref": ref}, {"type": "null"}]}},
            {"type": "object", "required": ["branches"], "additionalProperties": False, "properties": {
                "branches": {"type": "array", "minItems": 1, "items": {"anyOf": [{"$ref": ref}, {"type": "null"}]}},
                "name": {"type": "string"}, "from": FROM}},
            {"type": "object", "required": ["from"], "additionalProperties": False, "description": "tensors joined along an axis",
             "properties": {"from": FROM, "axis": {"type": "integer"}, "name": {"type": "string"}}}]}}},
        {"type": "object", "required": ["repeat"], "additionalProperties": False, "properties": {"repeat": {
            "type": "object", "required": ["times", "layers"], "additionalProperties": False,
            "properties": {"times": {"anyOf": [{"$ref": "#/$defs/count"}, {"$ref": "#/$defs/param"}]}, "layers": {"$ref": ref},
                           "name": {"type": "string"}}}}},
    ]  # fmt: skip
    options: list[dict[str, Any]] = [{"enum": bare} if not loose else {"type": "string"}]
    options += [_kind_schema(n, c) for n, c in KINDS.items()] + composites
    if loose:
        reserved = [*KINDS, "residual", "concat", "repeat"]
        options.append({"type": "object", "minProperties": 1, "maxProperties": 1, "propertyNames": {"not": {"enum": reserved}},
                        "additionalProperties": {"anyOf": [{"type": "object"}, {"type": "null"}]}, "description": "a block use"})  # fmt: skip
    return {f"{prefix}layer": {"anyOf": options}, f"{prefix}layers": {"type": "array", "items": {"$ref": f"#/$defs/{prefix}layer"}}}


def schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a model file. The schema cannot know a file's block names:
    in a file without ``blocks:`` every layer must be a known kind; in one with blocks, a layer
    under another name is taken for a block use (``convcost analyze`` checks it)."""
    every_arg = sorted({a for c in KINDS.values() for a in c.arguments()} | {"bn", "act"})
    top = {
        "name": {"type": "string"},
        "input": {"type": "array", "minItems": 2, "maxItems": 4, "items": {"$ref": "#/$defs/count"},
                  "description": "channels, then 1 to 3 spatial sizes"},
        "inputs": {"type": "object", "minProperties": 1, "description": "several inputs, by name (instead of input:)",
                   "additionalProperties": {"type": "array", "minItems": 2, "maxItems": 4, "items": {"$ref": "#/$defs/count"}}},
        "outputs": {"anyOf": [{"type": "string"}, {"type": "array", "minItems": 1, "items": {"type": "string"}}],
                    "description": "the layers the model returns, by name (default: the last)"},
        "names": {"enum": ["nested", "as-written"],
                  "description": "as-written: explicit names are used as written, without block, repeat or branch prefixes"},
        "defaults": {"type": "object", "propertyNames": {"enum": every_arg + list(KINDS)},
                     "description": "default arguments for every kind that takes them; under a kind's name, for that kind only"},
        "budget": {"type": "object", "additionalProperties": False, "properties": {
            "params": {"$ref": "#/$defs/count"}, "macs": {"$ref": "#/$defs/count"}, "flops": {"$ref": "#/$defs/count"},
            "peak_memory": BYTES, "min_rf": {"$ref": "#/$defs/count"}, "no_gridding": {"type": "boolean"},
            "training_macs": {"$ref": "#/$defs/count"}, "memory_plan": {"enum": list(MEMORY_PLANS)},
            "training_memory": BYTES, "optimizer": {"enum": list(OPTIMIZERS)}}},
        "blocks": {"type": "object", "additionalProperties": {"type": "object", "required": ["layers"], "additionalProperties": False,
                   "properties": {"params": {"type": ["object", "null"]}, "layers": {"$ref": "#/$defs/loose_layers"}}}},
    }  # fmt: skip
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "convcost model (a YAML layer stack)",
        "type": "object",
        "required": ["layers"],
        "oneOf": [{"required": ["input"]}, {"required": ["inputs"]}],
        "additionalProperties": False,
        "properties": {**top, "layers": {"type": "array", "minItems": 1}},
        "if": {"required": ["blocks"]},
        "then": {"properties": {"layers": {"$ref": "#/$defs/loose_layers"}}},
        "else": {"properties": {"layers": {"$ref": "#/$defs/strict_layers"}}},
        "$defs": {"count": COUNT, "param": PARAM, **_layer_defs("strict_", False), **_layer_defs("loose_", True)},
    }
