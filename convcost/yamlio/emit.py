"""A Stack → the plain data of a YAML layer stack that ``convcost analyze`` reads back with the
same numbers and the same layer names (arguments written out explicitly, padding as
[before, after] pairs, the budget kept)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..kinds.merge import Concatenate
from ..model.graph import PREVIOUS, Concat, Leaf, Node, Residual, Stack, every_node, key_of
from .emit_blocks import plain, structured


def node_data(node: Node, said: dict[str, str] | None = None) -> Any:
    """One node as a YAML entry; ``said``: key → the name a ``from:`` writes for it."""
    said = said or {}
    extra = {"from": [said.get(k, k) if k != PREVIOUS else -1 for k in node.sources]} if node.sources else {}
    if isinstance(node, Leaf):
        args = {"name": node.name, **extra, **{name: plain(getattr(node.op, name)) for name in node.op.arguments()}}
        if isinstance(node.op, Concatenate):
            return {"concat": args}
        return {node.op.kind: args}
    if isinstance(node, Residual):
        body: dict[str, Any] = {"name": node.name, **extra, "body": [node_data(n, said) for n in node.body]}
        if node.shortcut:
            body["shortcut"] = [node_data(n, said) for n in node.shortcut]
        return {"residual": body}
    assert isinstance(node, Concat)
    return {"concat": {"name": node.name, **extra, "branches": [[node_data(n, said) for n in branch] for branch in node.branches]}}


def stack_data(stack: Stack) -> dict[str, Any]:
    said = {key_of(node): node.name for node in every_node(stack.layers)}
    data: dict[str, Any] = {"name": stack.name, "names": "as-written"}  # every name is written whole
    if stack.inputs:
        data["inputs"] = {key: list(shape) for key, shape in stack.inputs}
    else:
        data["input"] = list(stack.input)
    if stack.budget.limits:
        data["budget"] = stack.budget.limits
    data["layers"] = [node_data(n, said) for n in stack.layers]
    if stack.outputs:
        data["outputs"] = [said.get(k, k) for k in stack.outputs]
    return data


def _prepare(folder: Path, targets: list[Path], output: Path | None) -> None:
    """--emit-yaml's checks before anything is written: no target is the --output file; the folder exists."""
    from ..errors import ConvcostError
    from ..output import same_file

    for target in targets:
        if output is not None and same_file(target, output):
            raise ConvcostError(f"--emit-yaml {folder}: would write {target}, which is also the --output file; refusing")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConvcostError(f"--emit-yaml: cannot create {folder}: {exc.strerror}") from None


def write_rewrites(model: Path, result: Any, folder: Path, output: Path | None = None) -> list[Path]:
    """Each rewritten design of a comparison as MODEL.REWRITE.yaml in ``folder`` (atomically); none
    may be the --output file ``output`` (checked before anything is written)."""
    from ..output import atomic_writer
    from .read import dump

    targets = [folder / f"{model.stem}.{variant.name.replace(':', '-').replace('+', '-')}.yaml" for variant in result.variants[1:]]
    _prepare(folder, targets, output)
    written = []
    for target, variant, rewritten in zip(targets, result.variants[1:], result.stacks[1:]):
        data = structured(model, result.stacks[0], rewritten, variant.changed)
        how = "in the model's own blocks" if data is not None else "layer by layer: its blocks could not hold the rewrite"
        with atomic_writer(target, "--emit-yaml") as handle:
            handle.write(dump(data or stack_data(rewritten), f"# {model.name} rewritten by convcost ({variant.name}), {how}\n"))
        written.append(target)
    return written


def write_scaled(model: Path, stack: Stack, label: str, folder: Path, output: Path | None = None) -> Path:
    """A scaled configuration (convcost fit) as MODEL.LABEL.yaml in ``folder``, layer by layer, atomically."""
    from ..output import atomic_writer
    from .read import dump

    target = folder / f"{model.stem}.{label}.yaml"
    _prepare(folder, [target], output)
    with atomic_writer(target, "--emit-yaml") as handle:
        handle.write(dump(stack_data(stack), f"# {model.name} scaled by convcost fit ({label}), layer by layer\n"))
    return target
