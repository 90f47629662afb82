"""How large a layer list will be once expanded, counted before expanding anything.

A crafted file can multiply work without adding layers: repeats of empty bodies, identity
branches, blocks that use the previous block twice, concats of aliased lists. The expander
would take minutes or all memory to find out. This estimate walks the *written* structure once
(each block and each aliased list counted once, then multiplied), so it takes time in the size
of the file, not of the expansion. ``repeat: {times: $n}`` counts as one time here; the
expander bounds what such parameters add while it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_NODES = 1_000_000  #: layers, merges, lists and block uses an expansion may create (4 × the leaves allowed)
MAX_DEPTH = 100  #: nested lists (blocks in blocks, branches in branches) the expander accepts
CAP = MAX_NODES + 1  #: sizes are counted up to here: past it, only "too many" matters


def first_too_large(items: list[Any], blocks: dict[str, Any]) -> int | None:
    """The index of the item of ``items`` at which the expansion passes MAX_NODES, or None.
    Item sizes are estimates: never more than the truth, except for parameter-driven repeats."""
    size, total = _sizer(blocks), 1
    for i, item in enumerate(items):
        total += size(item)
        if total > MAX_NODES:
            return i
    return None


def _sizer(blocks: dict[str, Any]) -> Callable[[Any], int]:
    """The size of one layer item, with memos shared across calls (each block and each aliased
    list is counted once)."""
    memo: dict[int, int] = {}
    block_sizes: dict[str, int] = {}
    depth = [0]

    def size_of_list(value: Any) -> int:
        if not isinstance(value, list) or depth[0] > MAX_DEPTH:  # deeper nesting: refused by the expander
            return 1
        key = id(value)
        if key not in memo:
            memo[key] = 1  # a list that contains itself (a YAML alias cycle) counts once
            depth[0] += 1
            memo[key] = min(1 + sum(size_of_item(item) for item in value), CAP)
            depth[0] -= 1
        return memo[key]

    def size_of_item(item: Any) -> int:
        if isinstance(item, str):
            return block(item) if item in blocks else 1
        if not isinstance(item, dict) or len(item) != 1:
            return 1
        ((kind, args),) = item.items()
        if kind == "concat":
            branches = args.get("branches") if isinstance(args, dict) else args
            return 1 + sum(size_of_list(b) for b in branches) if isinstance(branches, list) else 1
        if not isinstance(args, dict):
            return 1
        if kind == "residual":
            return 1 + size_of_list(args.get("body")) + size_of_list(args.get("shortcut") or [])
        if kind == "repeat":
            times = args.get("times")
            times = times if isinstance(times, int) and not isinstance(times, bool) and times > 0 else 1
            return min(1 + min(times, CAP) * size_of_list(args.get("layers")), CAP)
        return block(kind) if kind in blocks else 1

    def block(name: str) -> int:
        if name not in block_sizes:
            block_sizes[name] = 1  # recursion is refused by the expander, with its path
            definition = blocks[name]
            block_sizes[name] = 1 + size_of_list(definition.get("layers") if isinstance(definition, dict) else None)
        return block_sizes[name]

    return size_of_item
