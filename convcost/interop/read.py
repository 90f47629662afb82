"""Bring your own model: a torch ``nn.Module`` (run once, its ATen ops recorded) or an ONNX graph → a
convcost YAML layer stack, checked against the source before it is written.

The readers (``from_torch``, ``from_onnx``) give ops; ``graph`` nests them into
residual/concat; this module names them uniquely, writes the YAML and reads it back: every
layer must have the source's output shape and learned-parameter count, or the import fails
naming the layer — a wrong count is never written.
"""

from __future__ import annotations

from math import prod
from typing import Any

from ..errors import ConvcostError, printable
from ..kinds.misc import Unknown as UnknownKind
from .nesting import LAYER, Op, located, name_refs, structure

MAX_INPUT = 2**28  #: elements of one sample: the torch import runs the model on it once


def _args(entry: dict[str, Any]) -> dict[str, Any]:
    ((_, args),) = entry.items()
    return args  # type: ignore[no-any-return]  # every entry a reader makes carries its name


def _unique(ops: list[Op]) -> None:
    seen: set[str] = set()
    for op in ops:
        for entry in op.layers:
            args = _args(entry)
            base = name = str(args["name"])
            n = 1
            while name in seen:
                n += 1
                name = f"{base}_{n}"
            seen.add(name)
            args["name"] = name


def from_source(error: ConvcostError, origin: str) -> ConvcostError:
    """``error`` naming ``origin`` first, unless it names the file or an option already."""
    file = origin.rsplit(":", 1)[0] if ":" in origin and not origin.lower().endswith(".onnx") else origin
    if not origin or error.mark or error.path or error.message.startswith((file, f"'{file}", "--input")):
        return error
    return ConvcostError(f"{origin}: {error.message}", code=error.code)


def to_yaml(ops: list[Op], name: str, header: str, origin: str = "") -> str:
    """The ops as YAML text, verified (see the module's docstring); errors name ``origin``, the
    source the ops were read from (FILE.onnx, FILE.py:FACTORY), when it is given."""
    try:
        return _to_yaml(ops, name, header)
    except ConvcostError as exc:
        raise from_source(exc, origin) from None


def _to_yaml(ops: list[Op], name: str, header: str) -> str:
    from ..yamlio.read import dump

    ops, entries, outputs = structure(ops)
    if not entries:
        raise ConvcostError("the model has no layers: it returns its input unchanged")
    for op in ops:
        if any(d <= 0 for d in op.shape):
            raise located(op, f"the model gives it the shape {list(op.shape)}, which has no elements; "
                              "the source model itself is invalid here")  # fmt: skip
    _unique(ops)
    data: dict[str, Any] = {"name": name, "input": list(ops[0].shape), "names": "as-written", "layers": entries}
    if outputs is not None:
        written = name_refs(ops, entries, outputs)
        if written:
            data["outputs"] = written
    text = dump(data, header)
    verify(text, ops)
    return text


def verify(text: str, ops: list[Op]) -> None:
    """Read ``text`` back: every op's layers must give its output shape and its params."""
    from ..analysis.report import analyze
    from ..yamlio.spec import loads

    try:
        report = analyze(loads(text))
    except ConvcostError as exc:
        raise _invalid_op(ops) or ConvcostError(
            f"the written YAML does not analyse ({exc}); this is a convcost bug, please report it"
        ) from None
    records = {r.name: r for r in report.layers}
    for op in ops:
        mine = [records[_args(e)["name"]] for e in op.layers if _args(e)["name"] in records]
        if not mine:
            continue
        if tuple(mine[-1].output) != tuple(op.shape):
            raise ConvcostError(f"{op.source} '{op.name}': convcost gives output {list(mine[-1].output)} where the model gives {list(op.shape)}; "
                                "it has no exact kind")  # fmt: skip
        params = sum(r.params for r in mine)
        if op.params is not None and params != op.params and not any(UnknownKind.kind in e for e in op.layers):
            raise ConvcostError(f"{op.source} '{op.name}': convcost counts {params:,} params where the model has {op.params:,}; "
                                "it has no exact kind")  # fmt: skip


def _invalid_op(ops: list[Op]) -> ConvcostError | None:
    """The first op whose own layers do not analyse on its own input (groups 0, a kernel larger
    than the input): the source model's values, not the nesting, are what convcost refuses."""
    from copy import deepcopy

    from ..analysis.report import analyze
    from ..yamlio.read import dump
    from ..yamlio.spec import loads

    for op in ops:
        if op.role != LAYER or not op.layers:
            continue
        given = list(ops[op.inputs[0]].shape)
        try:
            analyze(loads(dump({"input": given, "names": "as-written", "layers": deepcopy(op.layers)})))
        except ConvcostError as exc:
            field = ".".join((exc.path or "").split(".")[2:])  # layers[0].conv.groups → groups
            return located(op, f"{field + ': ' if field else ''}{exc.message}; the source model itself is invalid here (input {given})")
    return None


def parse_input(text: str) -> tuple[int, ...]:
    """``--input 3,224,224`` → (3, 224, 224): channels, then 1 to 3 spatial sizes."""
    parts = text.replace(" ", "").split(",")
    if not 2 <= len(parts) <= 4 or not all(p.isascii() and p.isdigit() and len(p) <= 9 and int(p) > 0 for p in parts):
        raise ConvcostError(f"--input '{text}': expected C,H,W — channels then 1 to 3 spatial sizes, positive integers (e.g. 3,224,224)")
    shape = tuple(int(p) for p in parts)
    if prod(shape) > MAX_INPUT:
        raise ConvcostError(f"--input '{text}': {prod(shape):,} elements; the import runs the model once on one sample, "
                            f"which may have at most {MAX_INPUT:,} (1 GiB of float32)")  # fmt: skip
    return shape


def read_source(source: str, input_shape: tuple[int, ...] | None, allow_unknown: bool) -> tuple[list[Op], str, tuple[int, ...]]:
    """FILE.onnx, FILE.py:FACTORY or package.module:FACTORY → (ops, a default model name, the input
    shape). Errors name the source (as those of ``to_yaml(..., origin=source)`` do)."""
    try:
        return _read_source(source, input_shape, allow_unknown)
    except ConvcostError as exc:
        raise from_source(exc, source) from None


def _read_source(source: str, input_shape: tuple[int, ...] | None, allow_unknown: bool) -> tuple[list[Op], str, tuple[int, ...]]:
    if source.lower().endswith(".onnx"):
        try:
            from . import from_onnx
        except ImportError:
            raise ConvcostError(f"{source}: importing ONNX needs the onnx package: pip install 'convcost[onnx]'") from None
        ops = from_onnx.read(source, input_shape, allow_unknown=allow_unknown)
        return ops, printable(source.replace("\\", "/").rsplit("/", 1)[-1][: -len(".onnx")]), ops[0].shape
    if ":" not in source:
        raise ConvcostError(f"'{source}': expected FILE.onnx, FILE.py:FACTORY or package.module:FACTORY")
    if input_shape is None:
        raise ConvcostError(f"{source}: a PyTorch model needs --input C,H,W (the shape of one sample, without the batch)")
    try:
        import torch  # noqa: F401 — only to say what is missing

        from . import aten_ops, from_torch
    except ImportError:
        raise ConvcostError(f"{source}: importing a PyTorch model needs torch: pip install 'convcost[torch]'") from None
    model = from_torch.load_factory(source)
    return aten_ops.read(model, input_shape, allow_unknown=allow_unknown), source.rsplit(":", 1)[1], input_shape
