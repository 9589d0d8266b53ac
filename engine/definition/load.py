"""Load process definitions: version files, the lane catalogue and the library index.

Files are parsed in the safe dialect of :mod:`boflyt.engine.definition.safe_yaml`, validated by the
strict
models (:mod:`boflyt.engine.definition.problems` words their errors) and by the graph rules
(:mod:`boflyt.engine.definition.validate`). Only regular files are opened: a folder, a FIFO or a
device
named like a definition is one problem, found by ``stat`` before anything could block.
Every failure is a :class:`~boflyt.models.errors.DefinitionError` carrying every problem of the
file, sorted, each naming file, line, place, what was found and what is allowed, e.g.
``refugee_settlement/v2.yaml:42 steps[7].lane: unknown lane 'navv'; known lanes: …``.
In the library a bad version file harms only itself: it is kept, with its problems, in
:attr:`~boflyt.engine.definition.library.Library.broken`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import stat
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from boflyt.engine.definition.library import VERSION_FILE_NAME, BrokenFile, Library
from boflyt.engine.definition.problems import model_problems, repair
from boflyt.engine.definition.safe_yaml import (
    MAX_BYTES,
    MAX_DEPTH,
    LineMap,
    location,
    parse_yaml,
    tags_of,
)
from boflyt.engine.definition.validate import validate
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.errors import DefinitionError, NotFoundError, Problem

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "BrokenFile",
    "Library",
    "LineMap",
    "load_lanes",
    "load_library",
    "load_version",
    "parse_ref",
    "parse_version",
    "parse_yaml",
    "read_text",
    "version_files",
]

M = TypeVar("M", bound=BaseModel)


def _display(path: Path) -> str:
    """How a file is named in problems: ``<folder>/<file>``, e.g. ``refugee_settlement/v2.yaml``."""
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _not_regular(mode: int, file: str) -> DefinitionError:
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    return DefinitionError([Problem(file, 0, "", f"this is {kind}; a definition must be a file")])


def _read_bytes(path: Path, file: str) -> bytes:
    """The bytes of the regular file ``path``, refusing files that are too large.

    Anything but a regular file (a folder, a FIFO, a device) is refused before it is opened, so
    reading never blocks; a file swapped in between is caught by the check after opening.

    Raises:
        NotFoundError: there is no such file.
        DefinitionError: not a regular file, unreadable, or over :data:`MAX_BYTES`.
    """
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(mode, file)
        descriptor = os.open(path, _OPEN_FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        raise NotFoundError(f"{path}: no such file") from None
    except OSError as exc:
        message = f"the file cannot be read: {exc.strerror or exc}"
        raise DefinitionError([Problem(file, 0, "", message)]) from None
    with open(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise _not_regular(info.st_mode, file)
        raw = handle.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        size = max(info.st_size, len(raw))
        message = f"file is {size / 1024:.1f} KB; the limit is {MAX_BYTES // 1024} KB"
        raise DefinitionError([Problem(file, 1, "", message)])
    return raw


def _decode(raw: bytes, file: str) -> str:
    """``raw`` as UTF-8 text (a byte-order mark is dropped)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DefinitionError([Problem(file, line, "", "the file is not UTF-8 text")]) from None


def read_text(path: Path) -> str:
    """The text of a definition file: a regular file (never opens anything else), within
    :data:`MAX_BYTES`, in UTF-8.

    Raises:
        NotFoundError: there is no such file.
        DefinitionError: not a regular file, unreadable, too large or not UTF-8.
    """
    file = _display(path)
    return _decode(_read_bytes(path, file), file)


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


def _name_problems(path: Path, data: Any, lines: LineMap, file: str) -> list[Problem]:
    """The file must be ``<process>/v<N>.yaml`` for the version it holds."""
    if not isinstance(data, dict):
        return []
    match = VERSION_FILE_NAME.match(path.name)
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
        DefinitionError: with every problem of the file, sorted by line (a folder, a FIFO or an
            unreadable file is one problem).
    """
    return _version_from(path, _read_bytes(path, _display(path)), lanes=lanes)


def _version_from(path: Path, raw: bytes, *, lanes: LaneCatalog) -> Version:
    """:func:`load_version` for the bytes already read from ``path``."""
    file = _display(path)
    data, lines = parse_yaml(_decode(raw, file), file=file)
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
    return _lanes_from(path, _read_bytes(path, _display(path)))


def _lanes_from(path: Path, raw: bytes) -> LaneCatalog:
    """:func:`load_lanes` for the bytes already read from ``path``."""
    file = _display(path)
    data, lines = parse_yaml(_decode(raw, file), file=file)
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


_YAML_SUFFIXES = (".yaml", ".yml")


def version_files(folder: Path) -> list[Path]:
    """The version files of a process folder: every ``*.yaml`` or ``*.yml`` entry (any case, any
    type, hidden ones excepted), by version number, misnamed ones last by name.

    The one rule for which files belong to a version; the loader reports each that is not a
    well-named, valid ``v<N>.yaml`` file.

    Raises:
        OSError: the folder cannot be listed.
    """

    def number(path: Path) -> tuple[int, str]:
        match = VERSION_FILE_NAME.match(path.name)
        return (int(match.group(1)) if match else 1 << 62, path.name)

    found = [
        path
        for path in folder.iterdir()
        if path.suffix.lower() in _YAML_SUFFIXES and not path.name.startswith(".")
    ]
    return sorted(found, key=number)


@dataclass(frozen=True)
class _Read:
    """One entry of the library as read: its bytes, or the problems that stopped the reading."""

    process: str
    path: Path
    raw: bytes | None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class _Snapshot:
    """Every library file as read; equal, and hashed, by the content ``digest`` alone."""

    digest: str
    lanes: bytes = field(compare=False)
    files: tuple[_Read, ...] = field(compare=False)


def _take(process: str, path: Path) -> _Read:
    file = _display(path)
    try:
        return _Read(process, path, _read_bytes(path, file))
    except DefinitionError as exc:
        return _Read(process, path, None, exc.problems)
    except NotFoundError:
        message = "no such file (a link to a missing file, or removed while reading)"
        return _Read(process, path, None, (Problem(file, 0, "", message),))


def _scan(root: Path) -> list[_Read]:
    """Every version file under ``root``: process folders (not hidden, not ``_``-prefixed) in
    name order, each by :func:`version_files`; a folder that cannot be listed is one entry."""
    reads: list[_Read] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name[0] not in "._"):
        try:
            paths = version_files(folder)
        except OSError as exc:
            message = f"the folder cannot be listed: {exc.strerror or exc}"
            reads.append(
                _Read(folder.name, folder, None, (Problem(f"{folder.name}/", 0, "", message),))
            )
            continue
        reads += [_take(folder.name, path) for path in paths]
    return reads


def load_library(root: Path) -> Library:
    """Load ``root/lanes.yaml`` and every version file of every ``root/<process>/`` folder.

    A version file that does not load is kept in :attr:`Library.broken` with its problems; the
    other versions work. A library whose files are byte-for-byte unchanged since the last call is
    not parsed again (the result is immutable, so it is shared); each file is read once.

    Raises:
        NotFoundError: ``root`` or its ``lanes.yaml`` does not exist.
        DefinitionError: the problems of ``lanes.yaml``, without which no version can be checked.
    """
    if not root.is_dir():
        raise NotFoundError(f"{root}: no such process library folder")
    lanes = _read_bytes(root / "lanes.yaml", _display(root / "lanes.yaml"))
    files = tuple(_scan(root))
    digest = hashlib.sha256(lanes)
    for read in files:
        digest.update(f"\0{read.path}\0".encode())
        digest.update(b"R" + read.raw if read.raw is not None else repr(read.problems).encode())
    return _load_library(root, _Snapshot(digest.hexdigest(), lanes, files))


@functools.lru_cache(maxsize=16)
def _load_library(root: Path, snapshot: _Snapshot) -> Library:
    """:func:`load_library` for one ``snapshot`` of the files (cached by its digest)."""
    lanes = _lanes_from(root / "lanes.yaml", snapshot.lanes)
    by_process: dict[str, list[Version]] = {}
    broken: dict[str, list[BrokenFile]] = {}
    for read in snapshot.files:
        problems = read.problems
        if read.raw is not None:
            try:
                version = _version_from(read.path, read.raw, lanes=lanes)
            except DefinitionError as exc:
                problems = exc.problems
            else:
                by_process.setdefault(read.process, []).append(version)
                continue
        broken.setdefault(read.process, []).append(BrokenFile(read.process, read.path, problems))
    return Library(
        root=root,
        lanes=lanes,
        by_process=types.MappingProxyType({k: tuple(v) for k, v in by_process.items()}),
        broken=types.MappingProxyType({k: tuple(v) for k, v in broken.items()}),
    )


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
