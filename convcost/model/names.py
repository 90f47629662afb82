"""Human layer names, as torchvision names modules: ``stage2.1.conv2``.

Every list of layers names its items in a namespace: an explicit ``name:`` wins; otherwise the
kind (or block) name, numbered from 1 in order when the namespace holds more than one of it
(``conv1``, ``conv2``, ``relu``). A block instance opens a namespace under its name (``unit3``);
an unnamed block that is the only item of its list shares its parent's. A residual's body
shares its namespace; its shortcut gets ``shortcut``; concat branches get ``branch1``, ….
A named repeat opens ``NAME.0``, ``NAME.1``, … per iteration; an unnamed one is transparent.

Numbers are known only once a namespace is complete, so names are built as tuples of parts
(strings or ``Auto`` counters) and rendered after expansion.
"""

from __future__ import annotations

from typing import Union


class Space:
    """A namespace: its prefix parts and how many items of each base name it holds."""

    __slots__ = ("counts", "prefix")

    def __init__(self, prefix: tuple[Part, ...] = ()) -> None:
        self.prefix = prefix
        self.counts: dict[str, int] = {}

    def auto(self, base: str, *, omit_if_unique: bool = False) -> Auto:
        n = self.counts.get(base, 0) + 1
        self.counts[base] = n
        return Auto(self, base, n, omit_if_unique)

    def child(self, *parts: Part) -> Space:
        return Space(self.prefix + parts)


class Auto:
    """``base`` when it is the only one of its namespace, else ``base<n>``; ``omit_if_unique``
    drops it entirely when unique (a concat's or residual's segment in its branches' names)."""

    __slots__ = ("base", "n", "omit", "space")

    def __init__(self, space: Space, base: str, n: int, omit: bool) -> None:
        self.space, self.base, self.n, self.omit = space, base, n, omit

    def omitting(self) -> Auto:
        return Auto(self.space, self.base, self.n, True)

    def text(self) -> str:
        if self.space.counts[self.base] == 1:
            return "" if self.omit else self.base
        return f"{self.base}{self.n}"


Part = Union[str, Auto]
Name = tuple[Part, ...]


def render(name: Name | str) -> str:
    """The finished dotted name."""
    if isinstance(name, str):
        return name
    texts = (part if isinstance(part, str) else part.text() for part in name)
    return ".".join(t for t in texts if t)
