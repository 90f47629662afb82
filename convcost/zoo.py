"""The bundled models: ``convcost/layers/*.yaml``, shipped in the wheel (``layers/`` in a clone
is a link to that folder). ``zoo:NAME`` names one wherever a MODEL.yaml is taken.

Importing this module is cheap (the CLI resolves ``zoo:`` arguments with it before anything
else); the analysis behind :func:`catalog` is imported only when it is called.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from .errors import ConvcostError, closest

PREFIX = "zoo:"
FOLDER = "layers"  #: inside the package: convcost/layers/


class Entry(NamedTuple):
    """One bundled model with its totals (batch 1) and the first phrase of its header comment."""

    name: str
    path: Path
    input: tuple[int, ...]
    params: int
    macs: int
    description: str


def _folder() -> Path:
    from importlib.resources import files

    found = files(__package__) / FOLDER
    if not isinstance(found, Path):  # a zipped install: importlib.resources gives no file system path
        raise ConvcostError(f"the bundled models are not on the file system here ({found}); install convcost unzipped")
    return found


def names() -> list[str]:
    """Every bundled model's name (its file's stem), sorted."""
    return sorted(p.stem for p in _folder().glob("*.yaml"))


def path(name: str) -> Path:
    """The packaged file of the model ``name`` (``resnet50`` or ``resnet50.yaml``)."""
    stem = name.removesuffix(".yaml")
    known = names()
    if stem not in known:
        shown = f"'{name}'" if name else "nothing"
        raise ConvcostError(f"zoo:{name}: no bundled model named {shown}{closest(stem, known)}; `convcost zoo` lists them")
    return _folder() / f"{stem}.yaml"


def resolve(arg: str) -> Path:
    """``zoo:NAME`` → the packaged file's path; anything else → ``Path(arg)``, unchanged."""
    if arg.startswith(PREFIX):
        return path(arg[len(PREFIX) :])
    return Path(arg)


def text(name: str) -> str:
    """The YAML text of a bundled model, as shipped."""
    return path(name).read_text(encoding="utf-8")


def description(source: str) -> str:
    """The first phrase of a file's leading comment (up to ' — ', ': ', '; ' or '. ' outside
    brackets): "ResNet-18, 224×224"; '' when the file starts with no comment."""
    lines = []
    for line in source.splitlines():
        if not line.startswith("#"):
            break
        body = line.lstrip("#").strip()
        if not body.startswith("yaml-language-server:"):
            lines.append(body)
    prose = " ".join(part for part in lines if part) + " "
    depth = 0
    for i, ch in enumerate(prose):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif depth == 0 and (prose.startswith((" — ", " – "), i) or (ch in ":;." and prose[i + 1 : i + 2] == " ")):
            return prose[:i].strip()
    return prose.strip()


def catalog() -> list[Entry]:
    """Every bundled model, loaded and analysed (about 0.3 s for all of them)."""
    from .analysis.report import analyze
    from .yamlio.spec import load

    found = []
    for name in names():
        file = _folder() / f"{name}.yaml"
        source = file.read_text(encoding="utf-8")
        stack = load(file, text=source)
        totals = analyze(stack).totals
        found.append(Entry(name, file, stack.input, totals.params, totals.macs, description(source)))
    return found


__all__ = ["Entry", "catalog", "description", "names", "path", "resolve", "text"]
