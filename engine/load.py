"""Load process definitions: version files, the lane catalogue and the library index.

Files are parsed in the safe dialect of :mod:`boflyt.engine.safe_yaml`, validated by the strict
models
(:mod:`boflyt.engine.problems` words their errors) and by the graph rules
(:mod:`boflyt.engine.validate`).
Every failure is a :class:`~boflyt.models.errors.DefinitionError` carrying every problem of the file
(or of the whole library), sorted, each naming file, line, place, what was found and what is
allowed, e.g. ``refugee_settlement/v2.yaml:42 steps[7].lane: unknown lane 'navv'; known lanes: …``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from boflyt.engine.problems import model_problems, repair
from boflyt.engine.safe_yaml import MAX_BYTES, MAX_DEPTH, LineMap, location, parse_yaml, tags_of
from boflyt.engine.validate import validate
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.errors import DefinitionError, NotFoundError, Problem
from boflyt.models.vocabulary import VersionStatus

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

M = TypeVar("M", bound=BaseModel)


def _display(path: Path) -> str:
    """How a file is named in problems: ``<folder>/<file>``, e.g. ``refugee_settlement/v2.yaml``."""
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def _read(path: Path, file: str) -> str:
    """The text of ``path``, refusing files that are too large or not UTF-8."""
    if not path.is_file():
        raise NotFoundError(f"{path}: no such file")
    raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        message = f"file is {len(raw) / 1024:.1f} KB; the limit is {MAX_BYTES // 1024} KB"
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
