"""Publishing a draft and retiring a published version: a minimal edit of the version file.

The workspace's ``processes/`` folder is the source of truth, so publishing writes the same
YAML file a process owner edits by hand, changing only what publishing means: the ``status``
line, and for :func:`publish` the ``owner`` and ``date`` lines (who published it, and when).
Comments, key order, quoting and blank lines are kept, so ``git diff`` in the workspace shows
exactly those lines. A file is published only when it loads with no problem at all and is a
draft; only a published version can be retired (a retired one then carries a comment saying
who retired it and when, on its status line). Every other field of a published version stays
as it is: published versions are never edited.

Each write is checked before it lands: the edited text must load as the same version with
only the intended fields changed, and the file must not have changed since it was read (else a
:class:`~boflyt.models.errors.ConflictError`); then it replaces the file atomically (a
temporary file in the same folder, flushed, then renamed over it).

>>> import datetime as dt, pathlib, tempfile, shutil
>>> from boflyt.workspace import shipped_library
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = shutil.copytree(shipped_library(), root, dirs_exist_ok=True)
>>> retire(root, "private_lease", 1, "pia", dt.datetime(2026, 1, 5, tzinfo=dt.UTC)).after
<VersionStatus.RETIRED: 'retired'>
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from boflyt.engine.definition.library import VERSION_FILE_NAME
from boflyt.engine.definition.load import load_lanes, load_version, parse_version
from boflyt.models.definition import Version
from boflyt.models.errors import ConflictError, DefinitionError, NotFoundError, Problem
from boflyt.models.vocabulary import VersionStatus

__all__ = ["StatusChange", "publish", "retire", "version_path"]

_MAX_OWNER = 200
"""The longest ``owner`` the definition language allows."""


@dataclass(frozen=True)
class StatusChange:
    """What a publish or retire did: the file, the status before and after, the version as it
    now is, and who did it when (for the audit log)."""

    path: Path
    before: VersionStatus
    after: VersionStatus
    version: Version
    owner: str
    at: dt.datetime


def version_path(processes_dir: Path, process: str, number: int) -> Path:
    """``processes_dir/<process>/v<number>.yaml``, refusing names that would leave the folder.

    Raises:
        NotFoundError: ``process`` is not an id, or ``number`` is not a version number.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", process):
        raise NotFoundError(f"unknown process {process[:64]!r}: a process id is snake_case")
    name = f"v{number}.yaml"
    if not VERSION_FILE_NAME.match(name):
        raise NotFoundError(f"{process}: no version {number}; version numbers start at 1")
    return processes_dir / process / name


# --------------------------------------------------------------------------- minimal edits

_SCALAR = r"(?P<value>\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'|[^#\r\n]*?)"
"""A one-line scalar: double- or single-quoted, or plain up to a comment."""


def _top_line(key: str) -> re.Pattern[str]:
    """A top-level ``key: value  # comment`` line (column 0), value and comment captured."""
    return re.compile(
        rf"^{key}:[ \t]*{_SCALAR}(?P<comment>[ \t]+#[^\r\n]*)?[ \t]*(?P<eol>\r?\n|$)", re.M
    )


def _set_top(text: str, key: str, value: str, *, after: str, comment: str | None = None) -> str:
    """``text`` with the top-level ``key`` set to ``value`` (YAML already), on its own line.

    A one-line value is replaced in place (its comment kept unless ``comment`` is given); a
    block value (``key: >`` and its indented lines) becomes one line; a missing key is added
    after the top-level ``after`` line.
    """
    found = _top_line(key).search(text)
    if found is None:
        anchor = _top_line(after).search(text)
        assert anchor is not None, f"no top-level {after} line"  # the file loaded with it
        eol = anchor.group("eol") or "\n"
        note = f"  {comment}" if comment else ""
        line = f"{key}: {value}{note}{eol}"
        end = anchor.end()
        prefix = text[:end] if anchor.group("eol") else text[:end] + eol
        return prefix + line + text[end:]
    end = found.end()
    if found.group("value").strip()[:1] in (">", "|", ""):
        block = re.compile(r"(?:[ \t]+[^\r\n]*(?:\r?\n|$)|[ \t]*\r?\n(?=[ \t]))*")
        end = block.match(text, end).end()  # type: ignore[union-attr]
    kept = comment if comment is not None else (found.group("comment") or "").strip()
    eol = found.group("eol") or ("\n" if end < len(text) else "")
    note = f"  {kept}" if kept else ""
    return f"{text[: found.start()]}{key}: {value}{note}{eol}{text[end:]}"


def _yaml_text(value: str) -> str:
    """``value`` as a double-quoted YAML scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------- the writes


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on the process folder: the same lock
    :mod:`boflyt.engine.definition.authoring` takes to save a draft, so a save and a publish of
    one process never interleave."""
    if not folder.is_dir():
        raise NotFoundError(f"{folder}: no such process folder")
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"{path}: no such version file") from None


def _write_atomically(path: Path, text: str, expected: bytes) -> None:
    """Replace ``path`` by ``text`` unless its bytes are no longer ``expected``."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, path.stat().st_mode & 0o777)
        if _read(path) != expected:
            raise ConflictError(
                f"{path}: the file changed while it was being published or retired; "
                "nothing was written; reload it and try again"
            )
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _checked(path: Path, edited: str, expected: Version, processes_dir: Path) -> Version:
    """The edited text loaded, which must be ``expected`` exactly (else nothing is written)."""
    lanes = load_lanes(processes_dir / "lanes.yaml")
    try:
        loaded = parse_version(edited, file=str(path), lanes=lanes)
    except DefinitionError as exc:  # pragma: no cover - the edit touches valid scalars only
        raise ConflictError(f"{path}: the edited file does not load: {exc}") from exc
    if loaded != expected:  # pragma: no cover - a layout the line edit did not understand
        raise ConflictError(
            f"{path}: the status line could not be edited in place; nothing was written"
        )
    return loaded


def _load(processes_dir: Path, process: str, number: int) -> tuple[Path, bytes, Version]:
    path = version_path(processes_dir, process, number)
    raw = _read(path)
    version = load_version(path, lanes=load_lanes(processes_dir / "lanes.yaml"))
    return path, raw, version


def _refuse(path: Path, version: Version, wanted: VersionStatus, doing: str) -> None:
    if version.status is not wanted:
        raise ConflictError(
            f"{path}: {version.key} is {version.status.value}; only a {wanted.value} version "
            f"can be {doing}"
        )


def _check_owner(path: Path, owner: str) -> str:
    cleaned = " ".join(owner.split())
    if not 1 <= len(cleaned) <= _MAX_OWNER:
        problem = Problem(
            str(path), 0, "owner", f"owner must be 1–{_MAX_OWNER} characters, not {len(cleaned)}"
        )
        raise DefinitionError([problem])
    return cleaned


def publish(
    processes_dir: Path, process: str, number: int, owner: str, now: dt.datetime
) -> StatusChange:
    """Publish the draft ``processes_dir/<process>/v<number>.yaml``: ``status: published``,
    ``owner`` the publisher, ``date`` the day of ``now``; nothing else in the file changes.

    Raises:
        NotFoundError: no such version file.
        DefinitionError: the file has problems (every one of them; nothing is written), or the
            owner is empty or longer than 200 characters.
        ConflictError: the version is not a draft, or the file changed meanwhile.
    """
    with _locked(version_path(processes_dir, process, number).parent):
        return _publish(processes_dir, process, number, owner, now)


def _publish(
    processes_dir: Path, process: str, number: int, owner: str, now: dt.datetime
) -> StatusChange:
    path, raw, version = _load(processes_dir, process, number)
    _refuse(path, version, VersionStatus.DRAFT, "published")
    who = _check_owner(path, owner)
    text = raw.decode("utf-8")
    text = _set_top(text, "status", VersionStatus.PUBLISHED.value, after="version", comment="")
    text = _set_top(text, "owner", _yaml_text(who), after="label")
    text = _set_top(text, "date", _yaml_text(now.date().isoformat()), after="owner")
    update = {"status": VersionStatus.PUBLISHED, "owner": who, "date": now.date()}
    done = _checked(path, text, version.model_copy(update=update), processes_dir)
    _write_atomically(path, text, raw)
    return StatusChange(path, version.status, VersionStatus.PUBLISHED, done, who, now)


def retire(
    processes_dir: Path, process: str, number: int, owner: str, now: dt.datetime
) -> StatusChange:
    """Retire the published ``processes_dir/<process>/v<number>.yaml``: ``status: retired``,
    with a comment on that line naming ``owner`` and the day of ``now``; nothing else changes.

    Raises:
        NotFoundError: no such version file.
        DefinitionError: the file does not load (every problem), or the owner is empty or
            longer than 200 characters.
        ConflictError: the version is not published, or the file changed meanwhile.
    """
    with _locked(version_path(processes_dir, process, number).parent):
        return _retire(processes_dir, process, number, owner, now)


def _retire(
    processes_dir: Path, process: str, number: int, owner: str, now: dt.datetime
) -> StatusChange:
    path, raw, version = _load(processes_dir, process, number)
    _refuse(path, version, VersionStatus.PUBLISHED, "retired")
    who = _check_owner(path, owner)
    note = f"# retired {now.date().isoformat()} by {who}"
    text = _set_top(
        raw.decode("utf-8"), "status", VersionStatus.RETIRED.value, after="version", comment=note
    )
    expected = version.model_copy(update={"status": VersionStatus.RETIRED})
    done = _checked(path, text, expected, processes_dir)
    _write_atomically(path, text, raw)
    return StatusChange(path, version.status, VersionStatus.RETIRED, done, who, now)
