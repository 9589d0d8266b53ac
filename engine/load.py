"""Load process definitions from YAML: safely, keeping line numbers, reporting every problem.

The YAML dialect is deliberately small (close to the YAML 1.2 core schema): only ``true`` /
``false``, decimal integers, decimal floats and ``null`` are typed; everything else is a string,
so ``NO``, ``on``, ``12:30``, ``2024-03-01`` and ``01017012345`` stay text. Anchors, aliases,
explicit tags and duplicate mapping keys are refused, and the byte size and nesting depth are
checked on the raw text before parsing (the pure-Python loader is used; libyaml's crashes on
deep nesting).

Every failure becomes a :class:`~models.errors.DefinitionError` whose problems name the file,
the line, the place (``steps[3](nav_assess).touch_minutes``), what was found and what is allowed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from engine.validate import location, model_problems, repair, tags_of, validate
from models.definition import LaneCatalog, Version
from models.errors import DefinitionError, NotFoundError, Problem
from models.vocabulary import VersionStatus

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "Library",
    "LineMap",
    "load_lanes",
    "load_library",
    "load_version",
    "parse_ref",
    "parse_version",
    "parse_yaml",
]

MAX_BYTES = 256 * 1024
"""Largest definition file accepted (the library's files are ~10-20 KB)."""
MAX_DEPTH = 64
"""Deepest nesting accepted (definitions nest about 5 levels)."""

PathKey = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


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
        re.compile(
            r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?[0-9]+[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
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
        event = self.peek_event()
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
        message = f"file is {size // 1024} KB; the limit is {MAX_BYTES // 1024} KB"
        raise DefinitionError([Problem(file, 1, "", message)])
    depth, line = _nesting_depth(text)
    if depth > MAX_DEPTH:
        message = f"nesting deeper than {MAX_DEPTH} levels (about {depth} found)"
        raise DefinitionError([Problem(file, line, "", message)])


def _walk(node: Any, path: PathKey, lines: dict[PathKey, int], dups: list[Duplicate]) -> None:
    """Record the line of every node under ``path`` and note duplicate mapping keys."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            key, line = str(key_node.value), key_node.start_mark.line + 1
            first = seen.setdefault((key_node.tag, key), line)
            if first != line:
                dups.append(Duplicate(path, key, first, line))
            lines.setdefault((*path, key), line)
            _walk(value_node, (*path, key), lines, dups)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines, dups)


@dataclass(frozen=True)
class Duplicate:
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
    dups: list[Duplicate] = []
    if node is not None:
        lines[()] = node.start_mark.line + 1
        _walk(node, (), lines, dups)
    if dups:
        tags = tags_of(data)
        raise DefinitionError([duplicate.problem(file, tags) for duplicate in dups])
    return data, LineMap(lines)


def _display(path: Path) -> str:
    """How a file is named in problems: ``<folder>/<file>``, e.g. ``refugee_settlement/v2.yaml``."""
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def _read(path: Path, file: str) -> str:
    """The text of ``path``, refusing files that are too large or not UTF-8."""
    if not path.is_file():
        raise NotFoundError(f"{path}: no such file")
    raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        message = f"file is {len(raw) // 1024} KB; the limit is {MAX_BYTES // 1024} KB"
        raise DefinitionError([Problem(file, 1, "", message)])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DefinitionError([Problem(file, line, "", "the file is not UTF-8 text")]) from None


def _not_a_mapping(data: Any, file: str, what: str) -> Problem | None:
    if isinstance(data, dict):
        return None
    found = "an empty file" if data is None else f"a {type(data).__name__}"
    return Problem(file, 1, "", f"expected a mapping of {what} fields, found {found}")


def _strict(model: type[M], data: Any) -> M:
    """Validate strictly (booleans only from true/false, numbers never from text)."""
    return model.model_validate_json(json.dumps(data, ensure_ascii=False), strict=True)


def _version_problems(
    data: Any, lines: LineMap, *, file: str, lanes: LaneCatalog
) -> tuple[Version | None, list[Problem]]:
    """Model problems, then graph problems (on a repaired copy if only step fields were bad)."""
    wrong = _not_a_mapping(data, file, "version")
    if wrong:
        return None, [wrong]
    tags = tags_of(data)
    try:
        version = _strict(Version, data)
    except ValidationError as exc:
        problems = model_problems(exc, model=Version, file=file, lines=lines, tags=tags)
        fixed = repair(data, exc)
        if fixed is None:
            return None, problems
        try:
            patched = _strict(Version, fixed[0])
        except ValidationError:
            return None, problems
        skip = tuple(location(path, tags) for path in fixed[1])
        graph = validate(patched, lanes=lanes, file=file, lines=lines)
        return None, problems + [p for p in graph if not p.where.startswith(skip)]
    return version, validate(version, lanes=lanes, file=file, lines=lines)


def parse_version(text: str, *, file: str, lanes: LaneCatalog) -> Version:
    """A :class:`Version` from YAML text (an upload, a test snippet), fully validated.

    Raises:
        DefinitionError: with every problem found, sorted by line.
    """
    data, lines = parse_yaml(text, file=file)
    version, problems = _version_problems(data, lines, file=file, lanes=lanes)
    if problems or version is None:
        raise DefinitionError(problems)
    return version


_FILE_NAME = re.compile(r"^v([1-9][0-9]*)\.yaml$")


def _name_problems(path: Path, data: Any, lines: LineMap, file: str) -> list[Problem]:
    """The file must be ``<process>/v<N>.yaml`` for the version it holds."""
    if not isinstance(data, dict):
        return []
    match = _FILE_NAME.match(path.name)
    if match is None:
        return [Problem(file, 1, "", "a version file must be named v<N>.yaml, e.g. v2.yaml")]
    problems = []
    number, process = data.get("version"), data.get("process")
    if isinstance(number, int) and number != int(match.group(1)):
        message = f"version {number} does not match the file name {path.name}"
        problems.append(Problem(file, lines.line(("version",)), "version", message))
    if isinstance(process, str) and process != path.parent.name:
        message = f"process '{process}' does not match its folder '{path.parent.name}'"
        problems.append(Problem(file, lines.line(("process",)), "process", message))
    return problems


def load_version(path: Path, *, lanes: LaneCatalog) -> Version:
    """Load and validate ``processes/<process>/v<N>.yaml``.

    Raises:
        NotFoundError: the file does not exist.
        DefinitionError: with every problem of the file, sorted by line.
    """
    file = _display(path)
    data, lines = parse_yaml(_read(path, file), file=file)
    version, problems = _version_problems(data, lines, file=file, lanes=lanes)
    problems += _name_problems(path, data, lines, file)
    if problems or version is None:
        raise DefinitionError(problems)
    return version


def load_lanes(path: Path) -> LaneCatalog:
    """Load ``processes/lanes.yaml``: the organisations, with unique ids.

    Raises:
        NotFoundError: the file does not exist.
        DefinitionError: with every problem of the file.
    """
    file = _display(path)
    data, lines = parse_yaml(_read(path, file), file=file)
    wrong = _not_a_mapping(data, file, "lane catalogue")
    if wrong:
        raise DefinitionError([wrong])
    try:
        catalog = _strict(LaneCatalog, data)
    except ValidationError as exc:
        tags = tags_of(data)
        raise DefinitionError(
            model_problems(exc, model=LaneCatalog, file=file, lines=lines, tags=tags)
        ) from None
    seen: dict[str, int] = {}
    problems = []
    for index, lane in enumerate(catalog.lanes):
        line = lines.line(("lanes", index, "id"))
        first = seen.setdefault(lane.id, line)
        if first != line:
            message = f"duplicate lane id '{lane.id}'; first on line {first}"
            problems.append(Problem(file, line, f"lanes[{index}].id", message))
    if problems:
        raise DefinitionError(problems)
    return catalog


@dataclass(frozen=True)
class Library:
    """The process library: the lane catalogue and every version of every process.

    ``root`` is the ``processes/`` folder: ``lanes.yaml`` and ``<process>/v<N>.yaml``.
    """

    root: Path
    lanes: LaneCatalog
    by_process: Mapping[str, tuple[Version, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def processes(self) -> list[str]:
        """Process ids, sorted."""
        return sorted(self.by_process)

    def versions(self, process: str) -> list[Version]:
        """Every version of ``process``, by number; :class:`NotFoundError` for an unknown one."""
        if process not in self.by_process:
            known = ", ".join(self.processes()) or "none"
            raise NotFoundError(f"unknown process '{process}'; known processes: {known}")
        return list(self.by_process[process])

    def get(self, process: str, version: int | None = None) -> Version:
        """One version; ``None`` means the newest published one.

        Raises:
            NotFoundError: unknown process, unknown version, or nothing published.
        """
        versions = self.versions(process)
        listed = ", ".join(f"v{v.version} ({v.status.value})" for v in versions)
        if version is None:
            published = [v for v in versions if v.status is VersionStatus.PUBLISHED]
            if not published:
                raise NotFoundError(f"{process} has no published version; versions: {listed}")
            return published[-1]
        for candidate in versions:
            if candidate.version == version:
                return candidate
        raise NotFoundError(f"{process} has no version {version}; versions: {listed}")

    def path(self, process: str, version: int) -> Path:
        """The file a loaded version came from."""
        self.get(process, version)
        return self.root / process / f"v{version}.yaml"

    def scenario_path(self, process: str, name: str = "default") -> Path:
        """``<process>/scenarios/<name>.yaml``; :class:`NotFoundError` when there is none."""
        self.versions(process)
        folder = self.root / process / "scenarios"
        path = folder / f"{name}.yaml"
        if _SCENARIO_NAME.match(name) and path.is_file():
            return path
        known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml"))) or "none"
        raise NotFoundError(f"{process} has no scenario '{name}'; scenarios: {known}")


_SCENARIO_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _version_files(root: Path) -> list[Path]:
    """``<process>/v*.yaml`` under ``root``, by process then version number."""

    def number(path: Path) -> tuple[int, str]:
        match = _FILE_NAME.match(path.name)
        return (int(match.group(1)) if match else 0, path.name)

    found: list[Path] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        found += sorted(folder.glob("v*.yaml"), key=number)
    return found


def load_library(root: Path) -> Library:
    """Load ``root/lanes.yaml`` and every ``root/<process>/v<N>.yaml``.

    A library whose files are byte-for-byte unchanged since the last call is not parsed again
    (the result is immutable, so it is shared).

    Raises:
        NotFoundError: ``root`` or its ``lanes.yaml`` does not exist.
        DefinitionError: with the problems of every bad file together.
    """
    if not root.is_dir():
        raise NotFoundError(f"{root}: no such process library folder")
    digest = hashlib.sha256()
    for path in [root / "lanes.yaml", *_version_files(root)]:
        digest.update(f"{path}\0".encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    return _load_library(root, digest.hexdigest())


@functools.lru_cache(maxsize=16)
def _load_library(root: Path, digest: str) -> Library:
    """:func:`load_library` for one content ``digest`` of the files (the cache key)."""
    lanes = load_lanes(root / "lanes.yaml")
    problems: list[Problem] = []
    by_process: dict[str, list[Version]] = {}
    for path in _version_files(root):
        try:
            version = load_version(path, lanes=lanes)
        except DefinitionError as exc:
            problems += exc.problems
            continue
        by_process.setdefault(version.process, []).append(version)
    if problems:
        raise DefinitionError(problems)
    frozen = {name: tuple(versions) for name, versions in by_process.items()}
    return Library(root=root, lanes=lanes, by_process=types.MappingProxyType(frozen))


_REF = re.compile(r"^\s*([a-z][a-z0-9_]*)(?:@v?([1-9][0-9]*))?\s*$")


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``process``, ``process@v2`` or ``process@2`` → ``(process, version or None)``.

    Raises:
        NotFoundError: ``ref`` is not in one of those forms.

    >>> parse_ref("refugee_settlement@v2")
    ('refugee_settlement', 2)
    """
    match = _REF.match(ref)
    if match is None:
        raise NotFoundError(
            f"'{ref}' is not a process reference; write PROCESS or PROCESS@vN, "
            "e.g. refugee_settlement@v2"
        )
    number = match.group(2)
    return match.group(1), int(number) if number else None
