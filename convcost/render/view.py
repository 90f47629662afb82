"""One shape for every view: how a kind of result is shown — a rich table built for a width
(None: uncut), and text for each machine format it has. The CLI presents any result through
its view (``cli.console.present``) instead of wiring four renderers per command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple


class View(NamedTuple):
    table: Callable[[Any, int | None], Any]  #: (result, width) → a rich renderable
    json: Callable[[Any], str] | None = None
    csv: Callable[[Any], str] | None = None
    markdown: Callable[[Any], str] | None = None
    github: Callable[[Any], str] | None = None  #: workflow annotations (check)
    dot: Callable[[Any], str] | None = None  #: graph text (analyze)
    mermaid: Callable[[Any], str] | None = None

    def text(self, fmt: str) -> Callable[[Any], str] | None:
        """The renderer of a machine format, or None when this view has none."""
        return getattr(self, fmt, None) if fmt in ("json", "csv", "markdown", "github", "dot", "mermaid") else None
