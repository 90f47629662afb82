"""`convcost kinds`: the registry as a list of kinds, or one kind in full."""

from __future__ import annotations

from typing import Any

from .. import reference
from ..errors import ConvcostError, closest
from ..kinds import KINDS
from .fit import Column, fit
from .view import View


def need(kind: str) -> None:
    if kind not in KINDS:
        raise ConvcostError(f"unknown layer kind '{kind}'{closest(kind, KINDS)}; `convcost kinds` lists them")


def kinds_table(kind: str | None, width: int | None) -> Any:
    from rich.console import Group
    from rich.text import Text

    if kind is None:
        rows = [[name, reference.summary(cls)] for name, cls in KINDS.items()]
        listing = fit([Column("kind", right=False, keep=True), Column("what it is", right=False, keep=True)], rows, width,
                      wrap=True)  # fmt: skip
        return Group(Text("layer kinds (convcost kinds KIND for one in full)", style="bold"), listing.table,
                     Text("also: residual {body, shortcut}, concat [branches], repeat {times, layers}, and the file's blocks", style="dim"))  # fmt: skip
    cls = KINDS[kind]
    parts: list[Any] = [Text(f"{kind}: {reference.summary(cls)}", style="bold"), Text("arguments:", style="bold")]
    for name, kind_of, default, meaning in reference.arguments(cls):  # a paragraph each: prose wraps, nothing is cut
        parts.append(
            Text.assemble(("  " + name, "bold cyan"), f"  {kind_of}; " + (default if default == "required" else f"default {default}"))
        )
        parts.append(Text(f"      {meaning}"))
    parts += [Text.assemble(("cost: ", "bold"), cls.COST), Text.assemble(("example: ", "bold"), f"- {cls.EXAMPLE}"),
              Text(reference.example_facts(cls))]  # fmt: skip
    return Group(*parts)


def kinds_markdown(kind: str | None) -> str:
    if kind is None:
        return "| kind | what it is |\n|---|---|\n" + "".join(f"| `{n}` | {reference.summary(c)} |\n" for n, c in KINDS.items())
    return reference.kind_markdown(kind, KINDS[kind])


VIEW = View(kinds_table, markdown=kinds_markdown)  #: the result is a kind's name, or None for all (json and csv: `convcost schema`)
