"""A Stack → the plain data of a YAML layer stack that ``convcost analyze`` reads back with the
same numbers (arguments written out explicitly, padding as [before, after] pairs)."""

from __future__ import annotations

from typing import Any

from .graph import Concat, Leaf, Node, Residual, Stack


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def node_data(node: Node) -> Any:
    if isinstance(node, Leaf):
        args = {name: _plain(getattr(node.op, name)) for name in node.op.arguments()}
        if node.name != node.path:
            args["name"] = node.name
        return {node.op.kind: args} if args else node.op.kind
    if isinstance(node, Residual):
        body: dict[str, Any] = {"body": [node_data(n) for n in node.body]}
        if node.shortcut:
            body["shortcut"] = [node_data(n) for n in node.shortcut]
        return {"residual": body}
    assert isinstance(node, Concat)
    return {"concat": [[node_data(n) for n in branch] for branch in node.branches]}


def stack_data(stack: Stack) -> dict[str, Any]:
    return {"name": stack.name, "input": list(stack.input), "layers": [node_data(n) for n in stack.layers]}
