"""docs/reference.md's generated parts: every kind (from the registry) and every command with
its options (from the CLI itself). ``python -m convcost.refdoc`` rewrites them; a test fails
when they are stale."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "reference.md"


def commands_markdown() -> str:
    """Each command: what it does, its usage, and a table of its arguments and options."""
    import typer

    from .cli import app

    group: Any = typer.main.get_command(app)
    out = []
    for name, command in group.commands.items():
        args = " ".join(p.metavar or p.name.upper() for p in command.params if p.param_type_name == "argument")
        out.append(f"### `convcost {name}`\n\n{command.help.strip()}\n\n```\nconvcost {name} [OPTIONS] {args}\n```\n")
        out.append("| argument or option | help | default |\n|---|---|---|")
        for p in command.params:
            if p.param_type_name == "argument":
                label = f"`{p.metavar or p.name}`"
            else:
                label = ", ".join(f"`{o}`" for o in p.opts)
                choices = getattr(p.type, "choices", None)
                if choices:
                    label += " " + "\\|".join(str(c.value if isinstance(c, Enum) else c) for c in choices)
            text = (p.help or "").replace("\\[", "[").replace("|", "\\|")
            default = p.default.value if isinstance(p.default, Enum) else p.default
            shown = "" if default in (None, False) or p.param_type_name == "argument" else f"`{default}`"
            out.append(f"| {label} | {text} | {shown} |")
        out.append("")
    return "\n".join(out)


def generated() -> dict[str, str]:
    from .reference import kinds_markdown

    return {"kinds": kinds_markdown(), "commands": commands_markdown()}


def block(text: str, name: str) -> str:
    match = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", text, re.S)
    if match is None:
        raise KeyError(name)
    return match.group(1).strip()


def replace_block(text: str, name: str, body: str) -> str:
    """``text`` with the generated block ``name`` holding ``body``."""
    pattern = rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)"
    return re.sub(pattern, lambda m: m.group(1) + body.strip() + "\n" + m.group(2), text, flags=re.S)


def rewrite(text: str) -> str:
    for name, body in generated().items():
        text = replace_block(text, name, body)
    return text


if __name__ == "__main__":
    REFERENCE.write_text(rewrite(REFERENCE.read_text()))
