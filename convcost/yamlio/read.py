"""YAML text → plain data that remembers where each value came from.

Only this module imports yaml. A safe loader (the C one when available) builds dicts and
lists whose subclasses carry the line and column of every key and item, so later errors can
point at ``file:line:col``. Tags that construct objects are refused; duplicate keys too.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConvcostError, Mark, describe
from .indent import explain

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LDict(dict):  # type: ignore[type-arg]  # YAML values are Any
    """A mapping from YAML: ``mark`` is where it starts, ``marks[key]`` where each value does."""

    mark: Mark | None = None
    marks: dict[Any, Mark]
    key_marks: dict[Any, Mark]


class LList(list):  # type: ignore[type-arg]  # YAML values are Any
    """A sequence from YAML: ``mark`` is where it starts, ``marks[i]`` where each item does."""

    mark: Mark | None = None
    marks: list[Mark]


def mark_of(container: object, key: object = None) -> Mark | None:
    """The mark of ``container[key]`` (or of the container itself), when it is known."""
    if key is not None:
        marks = getattr(container, "marks", None)
        try:
            return marks[key] if marks is not None else None  # type: ignore[index]  # marks: a dict (mappings) or a list (sequences)
        except (KeyError, IndexError, TypeError):
            pass
    return getattr(container, "mark", None)


def key_mark(mapping: object, key: object) -> Mark | None:
    """The mark of a key itself (for unknown-key errors), else of its value."""
    marks = getattr(mapping, "key_marks", None)
    return marks.get(key) if marks else mark_of(mapping, key)


MAX_FILE_BYTES = 4 * 2**20  #: a model file larger than this is refused before it is parsed (~130,000 written layers)
MAX_YAML_VALUES = 4_000_000  #: YAML nodes built (merge keys included) before a file is refused


class _Loader(_Base):  # type: ignore[misc,valid-type]  # the C loader when built, chosen at import
    filename: str | None = None
    built = 0

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        """PyYAML's merge (``<<: [*a, *b]``), then each merged key kept once — where it first
        appears, with the value that wins — so that anchors merging anchors grow linearly, not
        doubling per level; explicit keys are left after the merged ones, as PyYAML leaves them."""
        explicit = [pair for pair in node.value if pair[0].tag != "tag:yaml.org,2002:merge"]
        super().flatten_mapping(node)
        merged = len(node.value) - len(explicit)
        slots: dict[tuple[str, object], tuple[yaml.Node, yaml.Node]] = {}  # insertion order: first position
        for key_node, value_node in node.value[:merged]:
            key = (key_node.tag, key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node))
            slots[key] = (slots[key][0] if key in slots else key_node, value_node)
        node.value = [*slots.values(), *node.value[merged:]]

    def _mark(self, node: yaml.Node) -> Mark:
        return Mark(self.filename, node.start_mark.line + 1, node.start_mark.column + 1)

    def _child(self, node: yaml.Node) -> Any:
        """Construct one child node: counted, and a value Python cannot hold becomes a located error."""
        self.built += 1
        if self.built > MAX_YAML_VALUES:
            raise ConvcostError(f"the YAML builds more than {MAX_YAML_VALUES:,} values (aliases or merge keys that multiply?); refusing",
                                mark=self._mark(node))  # fmt: skip
        try:
            return self.construct_object(node, deep=True)
        except ValueError as exc:
            what = "an integer of more than 4300 digits" if "digits" in str(exc) else f"a value it cannot read ({exc})"
            raise ConvcostError(f"found {what}", mark=self._mark(node)) from None
        except (KeyError, TypeError, AttributeError):  # a scalar tag on a value it cannot read: `!!bool maybe`
            raise ConvcostError(f"the tag {_tag_name(node)} cannot read {describe(node.value)}", mark=self._mark(node)) from None


def _tag_name(node: yaml.Node) -> str:
    return str(node.tag).replace("tag:yaml.org,2002:", "!!")


def _need(loader: _Loader, node: yaml.Node, kind: type[yaml.Node], what: str) -> None:
    """``!!seq relu``, ``!!map 3``: a collection tag on a node of another shape is a located error."""
    if not isinstance(node, kind):
        raise ConvcostError(f"the tag {_tag_name(node)} needs {what}, found {describe(node.value) if isinstance(node, yaml.ScalarNode) else 'another collection'}",
                            mark=loader._mark(node))  # fmt: skip


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> LDict:
    _need(loader, node, yaml.MappingNode, "a mapping")
    explicit = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)  # YAML merge keys (<<: *anchor) come first; explicit keys override them
    merged = len(node.value) - explicit
    result, explicit_seen = LDict(), set()
    result.mark, result.marks, result.key_marks = loader._mark(node), {}, {}
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader._child(key_node)
        if isinstance(key, (list, dict)):
            raise ConvcostError("expected a plain key, found " + describe(key), mark=loader._mark(key_node))
        if index >= merged:
            if key in explicit_seen:
                raise ConvcostError(f"duplicate key '{key}'", mark=loader._mark(key_node))
            explicit_seen.add(key)
        result[key] = loader._child(value_node)
        result.marks[key] = loader._mark(value_node)
        result.key_marks[key] = loader._mark(key_node)
    return result


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> LList:
    _need(loader, node, yaml.SequenceNode, "a list")
    result = LList(loader._child(child) for child in node.value)
    result.mark, result.marks = loader._mark(node), [loader._mark(child) for child in node.value]
    return result


def _refuse_tag(loader: _Loader, node: yaml.Node) -> Any:
    plain = {"omap": "a mapping", "pairs": "a mapping", "set": "a list"}[node.tag.rsplit(":", 1)[-1]]
    raise ConvcostError(f"the tag {_tag_name(node)} is not used by convcost; write {plain}",
                        mark=loader._mark(node))  # fmt: skip


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
for _tag in ("omap", "pairs", "set"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)


def read_text(path: str | Path) -> str:
    """A file's text; a missing, binary, non-UTF-8 or too large file (or an endless device) is an
    input error, found before more than MAX_FILE_BYTES are read."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConvcostError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from None
    except MemoryError:
        raise ConvcostError("cannot read file: out of memory", path=str(path)) from None
    return decode(data, str(path))


def decode(data: bytes, path: str) -> str:
    """The text of ``data`` (at most MAX_FILE_BYTES + 1 bytes, read from ``path``): too large,
    binary or non-UTF-8 data is an input error."""
    if len(data) > MAX_FILE_BYTES:
        raise ConvcostError(f"the file is larger than {MAX_FILE_BYTES // 2**20} MiB; a model file is far smaller (refusing)",
                            mark=Mark(str(path), 1, 1))  # fmt: skip
    if b"\0" in data:
        raise ConvcostError("expected a YAML text file, found binary data", mark=Mark(str(path), 1, 1))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConvcostError(f"expected UTF-8 text, found byte 0x{data[exc.start]:02x} at offset {exc.start}",
                            mark=Mark(str(path), 1, 1)) from None  # fmt: skip


def parse_yaml(text: str, filename: str | None = None) -> Any:
    """Plain data (LDict / LList / scalars) from YAML text, through the safe loader only."""
    loader = _Loader(text)
    loader.filename = filename
    try:
        return loader.get_single_data()
    except ConvcostError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(filename, mark.line + 1, mark.column + 1) if mark else Mark(filename, 1, 1)
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        lines = text.splitlines()
        line = lines[mark.line] if mark and mark.line < len(lines) else ""
        if "\t" in line[: len(line) - len(line.lstrip())] or (mark and line[mark.column : mark.column + 1] == "\t"):
            tab = line.index("\t")
            raise ConvcostError("tabs are not allowed in YAML indentation; use spaces", mark=where._replace(col=tab + 1)) from None
        indentation = explain(text, mark.line, mark.column, problem) if mark else None
        if indentation:
            raise ConvcostError(indentation[0], mark=where._replace(col=indentation[1])) from None
        if "constructor for the tag" in problem:
            problem = f"tags that construct objects are not allowed: {problem}"
        raise ConvcostError(f"YAML error: {problem}", mark=where) from None
    except yaml.YAMLError as exc:
        raise ConvcostError(f"YAML error: {exc}", mark=Mark(filename, 1, 1)) from None
    except ValueError as exc:  # a scalar document Python cannot hold (an integer past 4300 digits)
        raise ConvcostError(f"found a value it cannot read ({exc})", mark=Mark(filename, 1, 1)) from None
    except RecursionError:
        raise ConvcostError("YAML nested too deeply", mark=Mark(filename, 1, 1)) from None
    finally:
        loader.dispose()


def dump(data: Any, header: str = "") -> str:
    """Plain data → YAML text (block style, keys in the given order)."""
    try:
        return header + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120, allow_unicode=True)
    except RecursionError:
        raise ConvcostError(
            "the model is nested too deeply to write as YAML (residuals or concats inside one another, "
            f"beyond Python's {sys.getrecursionlimit():,} frames)"
        ) from None
