"""The safe YAML dialect of definition files, with the line of every node.

Deliberately small (close to the YAML 1.2 core schema): only ``true`` / ``false``, decimal
integers, decimal floats (no ``.inf`` or ``.nan``) and ``null`` are typed; everything else is a
string, so ``NO``, ``on``, ``12:30``, ``2024-03-01`` and ``01017012345`` stay text. Anchors,
aliases, explicit tags and duplicate mapping keys are refused, and the byte size and nesting
depth are checked on the raw text before parsing. The pure-Python loader is used (libyaml's
composer crashed on deep nesting), so a malicious file costs at most a 256 KB parse.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from boflyt.models.errors import DefinitionError, Problem

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "LineMap",
    "PathKey",
    "Tags",
    "location",
    "parse_yaml",
    "tags_of",
]

MAX_BYTES = 256 * 1024
"""Largest definition file accepted (the library's files are ~10-20 KB)."""
MAX_DEPTH = 64
"""Deepest nesting accepted (definitions nest about 5 levels)."""

PathKey = tuple[str | int, ...]
Tags = Mapping[tuple[str, int], str]
"""Readable tags of list items: ``("steps", 3)`` -> ``nav_assess``."""


@dataclass(frozen=True)
class LineMap:
    """1-based line of each node of a parsed document, by path (``("steps", 7, "lane")``).

    A mapping entry's line is the line of its key; a list item's line is where it starts.
    Looking up a path that is not in the document gives the line of its nearest ancestor.
    """

    lines: Mapping[PathKey, int] = field(default_factory=dict)

    def line(self, path: Sequence[str | int]) -> int:
        """The line of ``path`` or of its nearest ancestor that exists (1 for the document)."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), 1)

    __getitem__ = line

    def known(self, path: Sequence[str | int]) -> PathKey:
        """The longest prefix of ``path`` that is written in the document."""
        key = tuple(path)
        while key and key not in self.lines:
            key = key[:-1]
        return key


class _Refused(Exception):
    """Raised inside the loader for input the dialect refuses; carries the line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


_CORE_RESOLVERS: list[tuple[str, re.Pattern[str], str]] = [
    ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    ("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), "~nN"),
    ("tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?$"),
        "-+0123456789.",
    ),
]


class _SafeLoader(yaml.SafeLoader):
    """Pure-Python safe loader for the small dialect: no anchors, aliases or tags."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 (PyYAML's own class table)

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused(line, "anchors and aliases (&name, *name) are not allowed")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            shown = str(tag).replace("tag:yaml.org,2002:", "!!")
            raise _Refused(line, f"tags are not allowed (found '{shown}'); write plain values")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(line, f"nesting deeper than {MAX_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


for _tag, _regexp, _first in _CORE_RESOLVERS:
    _SafeLoader.add_implicit_resolver(_tag, _regexp, [*_first, *([""] if "~" in _first else [])])

_BLOCK_SCALAR = re.compile(r"(?:^|:\s|-\s)\s*[|>][-+0-9]*\s*(?:#.*)?$")
_DASHES = re.compile(r"^(?:-\s+)+")


def _flow_depth(text: str, depth: int) -> tuple[int, int]:
    """Walk one line's flow brackets, skipping quoted text and comments: (end depth, max)."""
    deepest, quote, prev = depth, "", " "
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char == "#" and prev in " \t":
            break
        elif char in "'\"" and prev in " \t[{,:":
            quote = char
        elif char in "[{" and (prev in " \t[{,:-" or depth):
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}" and depth:
            depth -= 1
        prev = char
    return depth, deepest


def _nesting_depth(text: str) -> tuple[int, int]:
    """An estimate of the nesting depth from indentation, dashes and brackets: (depth, line).

    It never parses: it only exists to stop nesting bombs before the recursive composer sees
    them. The composer counts exactly as well, so an estimate on the low side is harmless.
    """
    indents: list[int] = []
    flow, block_scalar, worst, worst_line = 0, -1, 0, 1
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        column = len(raw) - len(raw.lstrip(" "))
        if block_scalar >= 0 and (not stripped or column > block_scalar):
            continue
        block_scalar = -1
        if not stripped or stripped.startswith("#"):
            continue
        if not flow:
            while indents and indents[-1] >= column:
                indents.pop()
            indents.append(column)
        dashes = _DASHES.match(stripped)
        extra = dashes.group(0).count("-") if dashes else 0
        flow, deepest = _flow_depth(stripped, flow)
        if len(indents) + extra + deepest > worst:
            worst, worst_line = len(indents) + extra + deepest, number
        if _BLOCK_SCALAR.search(stripped):
            block_scalar = column
    return worst, worst_line


def _precheck(text: str, file: str) -> None:
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_BYTES:
        message = f"file is {size / 1024:.1f} KB; the limit is {MAX_BYTES // 1024} KB"
        raise DefinitionError([Problem(file, 1, "", message)])
    depth, line = _nesting_depth(text)
    if depth > MAX_DEPTH:
        message = f"nesting deeper than {MAX_DEPTH} levels (about {depth} found)"
        raise DefinitionError([Problem(file, line, "", message)])


@dataclass(frozen=True)
class _Duplicate:
    """A key given twice in one mapping."""

    path: PathKey
    key: str
    first: int
    again: int

    def problem(self, file: str, tags: Mapping[tuple[str, int], str]) -> Problem:
        message = (
            f"duplicate key '{self.key}' (first on line {self.first}, again on line "
            f"{self.again}); each key may appear once"
        )
        return Problem(file, self.again, location(self.path, tags), message)


def _walk(node: Any, path: PathKey, lines: dict[PathKey, int], dups: list[_Duplicate]) -> None:
    """Record the line of every node under ``path`` and note duplicate mapping keys."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            key, line = str(key_node.value), key_node.start_mark.line + 1
            if (key_node.tag, key) in seen:
                dups.append(_Duplicate(path, key, seen[(key_node.tag, key)], line))
            seen.setdefault((key_node.tag, key), line)
            lines.setdefault((*path, key), line)
            _walk(value_node, (*path, key), lines, dups)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines, dups)


def _yaml_problem(exc: Exception, text: str, file: str) -> Problem:
    """A parser, recursion or value error as one problem with the best line known."""
    if isinstance(exc, _Refused):
        return Problem(file, exc.line, "", exc.message)
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        line, context = exc.problem_mark.line + 1, exc.context
        if context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
            context = f"{context} (started on line {exc.context_mark.line + 1})"
        detail = ", ".join(str(part) for part in (context, exc.problem) if part)
        return Problem(file, line, "", f"malformed YAML: {detail}")
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        message = f"malformed YAML: special character #x{exc.character:04x} is not allowed"
        return Problem(file, line, "", message)
    if isinstance(exc, RecursionError):
        return Problem(file, 1, "", f"nesting deeper than {MAX_DEPTH} levels")
    return Problem(file, 1, "", f"malformed YAML: {exc}")


def parse_yaml(text: str, *, file: str) -> tuple[Any, LineMap]:
    """Parse ``text`` in the safe dialect; return the plain data and the line of every node.

    Raises:
        DefinitionError: too large, too deep, malformed, an alias/anchor, a tag or a
            duplicate key (all duplicate keys of the file are reported together).

    >>> data, lines = parse_yaml("land: NO\\nfrist: 12:30\\nn: 010\\n", file="x.yaml")
    >>> data, lines.line(("frist",))
    ({'land': 'NO', 'frist': '12:30', 'n': '010'}, 2)
    """
    _precheck(text, file)
    try:
        loader = _SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except (_Refused, yaml.YAMLError, RecursionError, ValueError) as exc:
        raise DefinitionError([_yaml_problem(exc, text, file)]) from None
    lines: dict[PathKey, int] = {(): 1}
    dups: list[_Duplicate] = []
    if node is not None:
        lines[()] = node.start_mark.line + 1
        _walk(node, (), lines, dups)
    if dups:
        tags = tags_of(data)
        raise DefinitionError([duplicate.problem(file, tags) for duplicate in dups])
    return data, LineMap(lines)


# -- places in a document -------------------------------------------------------------------------


def tags_of(data: Any) -> dict[tuple[str, int], str]:
    """Readable tags for list items of raw data: a step's id, a transition's ``from->to``."""
    tags: dict[tuple[str, int], str] = {}
    if not isinstance(data, dict):
        return tags
    for section, keys in (("steps", ("id",)), ("transitions", ("from", "to")), ("lanes", ("id",))):
        items = data.get(section)
        for index, item in enumerate(items if isinstance(items, list) else []):
            values = [item.get(key) for key in keys] if isinstance(item, dict) else []
            texts = [value for value in values if isinstance(value, str)]
            if texts and len(texts) == len(keys):
                tags[(section, index)] = "->".join(texts)
    return tags


def location(path: Sequence[str | int], tags: Tags) -> str:
    """``("steps", 3, "touch_minutes")`` → ``steps[3](nav_assess).touch_minutes``."""
    text = ""
    for depth, part in enumerate(path):
        if isinstance(part, int):
            text += f"[{part}]"
            tag = tags.get((str(path[0]), part)) if depth == 1 else None
            text += f"({tag})" if tag else ""
        else:
            text += f".{part}" if text else str(part)
    return text
