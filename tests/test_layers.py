"""Issue 24 item 1: the package's import graph (every module a node, every import — at the top or
inside a function — an edge) has no circle, and no module imports from a floor above its own.

The floors, bottom up, are the design's data flow (YAML → spec → Stack → analysis → render ← cli):
a module may import its own floor and the floors below, never one above."""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import ROOT

PACKAGE = ROOT / "convcost"

#: floor → modules (a name ending in '.' is every module below that package)
FLOORS: list[tuple[str, tuple[str, ...]]] = [
    (
        "leaves",
        (
            "errors",
            "arith",
            "units",
            "gcpause",
            "output",
            "ops",
            "ops.",
            "yamlio.expr",
            "yamlio.indent",
            "yamlio.sizing",
            "model.names",
            "model.rf",
        ),
    ),  # fmt: skip
    ("kinds", ("kinds", "kinds.")),
    ("model", ("model", "model.")),
    ("reading", ("yamlio", "yamlio.read", "yamlio.spec", "device.profiles")),
    ("analysis", ("analysis", "analysis.", "device.roofline", "zoo")),
    (
        "interop and devices",
        (
            "yamlio.emit",
            "yamlio.emit_blocks",
            "reference",
            "interop",
            "interop.",
            "backends",
            "backends.",
            "device",
            "device.calibrate",
            "device.plot",
        ),
    ),  # fmt: skip
    ("render", ("render", "render.")),
    ("api", ("api", "")),
    ("cli", ("cli", "cli.", "refdoc", "__main__")),
]


def modules() -> dict[str, tuple[Path, list[str]]]:
    """'convcost.kinds.conv' → (its file, the package it is in)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        package = parts[:-1]
        if parts[-1] == "__init__":
            parts = package = parts[:-1]
        found[".".join(parts)] = (path, package)
    return found


def edges() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {m: set() for m in known}
    for name, (path, package) in known.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                target = (
                    ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
                    if node.level
                    else node.module
                )
                subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
                targets = subs if node.module is None else [target or "", *subs]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in known and t != name}
    return graph


def floor(module: str) -> int:
    short = module.removeprefix("convcost").removeprefix(".")
    best = None
    for level, (_, names) in enumerate(FLOORS):
        for entry in names:
            if short == entry or (entry.endswith(".") and short.startswith(entry)):
                if best is None or len(entry) > best[1]:
                    best = (level, len(entry))
    assert best is not None, f"{module} has no floor in tests/test_layers.py: give it one"
    return best[0]


def test_every_module_has_a_floor() -> None:
    for module in modules():
        floor(module)


def test_no_import_goes_up_a_floor() -> None:
    upward = [(m, t) for m, targets in edges().items() for t in targets if floor(t) > floor(m)]
    assert not upward, "\n".join(f"{m} ({FLOORS[floor(m)][0]}) imports {t} ({FLOORS[floor(t)][0]})" for m, t in upward)


def test_the_import_graph_has_no_circle() -> None:
    graph = edges()
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            assert state.get(target) != 1, "import circle: " + " → ".join(
                [*path, module, target][path.index(target) if target in path else 0 :]
            )
            if target not in state:
                visit(target, [*path, module])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


def test_the_leaves_import_nothing_of_convcost_but_errors() -> None:
    graph = edges()
    for module in graph:
        if module.startswith("convcost.ops"):
            assert not graph[module] - {"convcost.ops"}, (module, graph[module])
