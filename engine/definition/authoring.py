"""Writing version files: a new draft from a version, saving a draft, uploading a version file.

The ``processes/`` folder stays the source of truth: every write is a plain ``v<N>.yaml`` file
(comments and layout of the text kept), stamped with its ``owner`` and ``date``, so ``git`` in the
workspace shows each change. A text is checked by the same rules as the loader
(:func:`check_text`) before anything is written; a draft is saved only if the file still has the
content the editor loaded (its :func:`content_hash`), else a :class:`ConflictError` says who last
changed it and when; a published or retired version is never written. Writes are atomic (a
temporary file renamed over the old one) and serialised per process folder by an advisory lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from boflyt.engine.definition.library import VERSION_FILE_NAME
from boflyt.engine.definition.load import load_lanes, parse_version, parse_yaml, read_text
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.errors import ConflictError, DefinitionError, NotFoundError, Problem
from boflyt.models.vocabulary import VersionStatus

__all__ = [
    "Draft",
    "check_text",
    "content_hash",
    "new_draft",
    "next_number",
    "read_draft",
    "save_draft",
    "stamp",
    "status_of",
    "top_fields",
    "upload_draft",
]


@dataclass(frozen=True)
class Draft:
    """A version file as written or read: where it is, its text and the hash of that text."""

    process: str
    number: int
    path: Path
    text: str
    hash: str


def content_hash(text: str) -> str:
    """The SHA-256 (hex) of ``text`` as UTF-8: what an editor sends back to save over it.

    >>> content_hash("")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- text stamping ----------------------------------------------------------------------------


def _key_line(lines: list[str], key: str) -> int | None:
    """The index of the top-level line ``key: …`` of a YAML mapping, if there is one."""
    pattern = re.compile(rf"^{re.escape(key)}\s*:")
    return next((i for i, line in enumerate(lines) if pattern.match(line)), None)


def _block_end(lines: list[str], start: int) -> int:
    """The index after the value of the top-level key on ``start`` (its indented lines)."""
    end = start + 1
    while end < len(lines) and (lines[end][:1] in (" ", "\t") or not lines[end].strip()):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return end


_PLAIN = re.compile(r"^[a-z][a-z0-9_]*$")
_YAML_WORDS = frozenset({"null", "true", "false", "yes", "no", "on", "off", "y", "n"})


def _scalar(value: str | int | None) -> str:
    """``value`` as a YAML scalar: ids and numbers plain, other text double-quoted."""
    if value is None:
        return "null"
    if isinstance(value, int) or (_PLAIN.match(value) and value not in _YAML_WORDS):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def stamp(text: str, **fields: str | int | None) -> str:
    """``text`` with the top-level scalar ``fields`` set (``None`` writes ``null``), the rest of
    the text, comments included, unchanged; a field not yet in the text goes after ``version:``.

    >>> stamp("process: p\\nversion: 2\\nstatus: published\\n", version=3, status="draft")
    'process: p\\nversion: 3\\nstatus: draft\\n'
    """
    lines = text.replace("\r\n", "\n").split("\n")
    for key, value in fields.items():
        shown = _scalar(value)
        line = f"{key}: {shown}"
        at = _key_line(lines, key)
        if at is not None:
            lines[at : _block_end(lines, at)] = [line]
            continue
        anchor = _key_line(lines, "version")
        if anchor is None:
            anchor = _key_line(lines, "process")
        lines.insert(0 if anchor is None else _block_end(lines, anchor), line)
    return "\n".join(lines)


# -- checking ---------------------------------------------------------------------------------


_TOP_SCALAR = re.compile(
    r"""^([a-z_]+)\s*:\s*(?:"([^"]*)"|'([^']*)'|([^\s#"'][^#]*?))\s*(?:#.*)?$"""
)


def top_fields(text: str) -> dict[str, str]:
    """The top-level one-line scalar fields of a version file's text, as written (``version:
    3`` → ``{"version": "3"}``), read line by line without parsing the YAML: cheap, for
    showing and for the checks that compare them with the file's name.

    >>> top_fields('process: p\\nversion: 3 # next\\nowner: "Kari"\\nname:\\n  nb: x\\n')
    {'process': 'p', 'version': '3', 'owner': 'Kari'}
    """
    found: dict[str, str] = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        match = _TOP_SCALAR.match(line)
        if match and match.group(1) not in found:
            found[match.group(1)] = next(g for g in match.groups()[1:] if g is not None)
    return found


def _name_problems(text: str, process: str, number: int) -> list[Problem]:
    """The text must hold ``process`` version ``number`` and stay a draft."""
    fields, lines = top_fields(text), text.replace("\r\n", "\n").split("\n")
    file = f"{process}/v{number}.yaml"
    found: list[Problem] = []

    def at(key: str, message: str) -> None:
        index = _key_line(lines, key)
        found.append(Problem(file, 1 if index is None else index + 1, key, message))

    if fields.get("process", process) != process:
        at("process", f"process '{fields['process']}' does not match its folder '{process}'")
    written = fields.get("version", str(number))
    if written.isdigit() and int(written) != number:
        at("version", f"version {written} does not match the file name v{number}.yaml")
    status = fields.get("status", VersionStatus.DRAFT.value)
    if status != VersionStatus.DRAFT.value and status in set(VersionStatus):
        at("status", f"status '{status}' in a draft; a draft is saved as 'draft' and published "
                     "by the publish command or page")  # fmt: skip
    return found


def check_text(
    text: str, *, process: str, number: int, lanes: LaneCatalog
) -> tuple[Version | None, list[Problem]]:
    """The version in ``text`` (if it is valid) and every problem of it, sorted by line: the
    loader's rules, plus that it is ``process`` version ``number`` with status ``draft``.

    Pure: nothing is read or written. The YAML is parsed once.
    """
    file = f"{process}/v{number}.yaml"
    problems = _name_problems(text, process, number)
    try:
        version: Version | None = parse_version(text, file=file, lanes=lanes)
    except DefinitionError as exc:
        version, problems = None, problems + list(exc.problems)
    return (None if problems else version), sorted(problems)


# -- files ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on the process folder (other writers wait)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _write(path: Path, text: str, *, new: bool) -> None:
    """Write ``text`` to ``path`` atomically; ``new`` refuses an existing file."""
    if new and path.exists():
        raise ConflictError(f"{path.parent.name}/{path.name} already exists; nothing was written")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text if text.endswith("\n") else text + "\n")
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _number_of(path: Path) -> int:
    match = VERSION_FILE_NAME.match(path.name)
    if match is None:
        raise NotFoundError(f"{path}: not a version file; a version file is named v<N>.yaml")
    return int(match.group(1))


def read_draft(path: Path) -> Draft:
    """The version file at ``path`` with its text and content hash.

    Raises:
        NotFoundError: no such file, or not named ``v<N>.yaml``.
        DefinitionError: not a readable UTF-8 file within the size limit.
    """
    text = read_text(path)
    number = _number_of(path)
    return Draft(path.parent.name, number, path, text, content_hash(text))


def _folder(processes_dir: Path, process: str) -> Path:
    """The folder of ``process``: a process id (never a path) with a folder in the library.

    Raises:
        NotFoundError: not an id, or no such folder.
    """
    if not _PLAIN.match(process) or not (processes_dir / process).is_dir():
        raise NotFoundError(f"unknown process '{process}': no folder {processes_dir / process}")
    return processes_dir / process


def next_number(processes_dir: Path, process: str) -> int:
    """One more than the highest ``v<N>.yaml`` of the process (broken files count too).

    Raises:
        NotFoundError: the process has no folder.
    """
    folder = _folder(processes_dir, process)
    numbers = [int(m.group(1)) for p in folder.iterdir() if (m := VERSION_FILE_NAME.match(p.name))]
    return max(numbers, default=0) + 1


def _checked(processes_dir: Path, process: str, number: int, text: str) -> None:
    lanes = load_lanes(processes_dir / "lanes.yaml")
    _, problems = check_text(text, process=process, number=number, lanes=lanes)
    if problems:
        raise DefinitionError(problems)


def _stamped(text: str, owner: str, now: dt.datetime, **fields: str | int | None) -> str:
    return stamp(text, **fields, owner=owner, date=now.date().isoformat())


def new_draft(
    processes_dir: Path, process: str, from_version: int, owner: str, now: dt.datetime
) -> Draft:
    """Write ``processes/<process>/v<N+1>.yaml``, N the highest number so far: the text of
    ``from_version`` with ``version``, ``status: draft``, ``based_on``, ``owner`` and ``date``
    set. Returns the new draft.

    Raises:
        NotFoundError: no such process or version file.
        DefinitionError: the new text breaks a rule (say ``from_version`` is itself broken);
            nothing is written.
    """
    folder = _folder(processes_dir, process)
    source = read_draft(folder / f"v{from_version}.yaml")
    with _locked(folder):
        number = next_number(processes_dir, process)
        text = _stamped(source.text, owner, now, version=number, status="draft",
                        based_on=from_version)  # fmt: skip
        _checked(processes_dir, process, number, text)
        path = folder / f"v{number}.yaml"
        _write(path, text, new=True)
    return read_draft(path)


def status_of(text: str, file: str) -> str:
    """The ``status`` a version file's text declares (``draft`` when it declares none or the
    text does not parse)."""
    try:
        data, _ = parse_yaml(text, file=file)
    except DefinitionError:
        return VersionStatus.DRAFT.value
    status = data.get("status", VersionStatus.DRAFT.value) if isinstance(data, dict) else None
    return str(status) if status is not None else VersionStatus.DRAFT.value


def _last_change(current: Draft) -> str:
    """``by <owner> on <date>, file modified <time> UTC`` from the file's text and clock."""
    data: object = None
    with contextlib.suppress(DefinitionError):
        data, _ = parse_yaml(current.text, file=current.path.name)
    fields = data if isinstance(data, dict) else {}
    when = dt.datetime.fromtimestamp(current.path.stat().st_mtime, dt.UTC)
    return (f"by {fields.get('owner', 'unknown')} (date {fields.get('date', 'unknown')}), "
            f"file modified {when:%Y-%m-%d %H:%M:%S} UTC")  # fmt: skip


def _editable(current: Draft) -> None:
    """Refuse a version that is not a draft."""
    status = status_of(current.text, f"{current.process}/{current.path.name}")
    if status != VersionStatus.DRAFT.value:
        raise ConflictError(
            f"{current.process}/{current.path.name} is {status}; published and retired versions "
            "are never edited: start a new draft from it"
        )


def save_draft(path: Path, text: str, expected_hash: str, owner: str, now: dt.datetime) -> Draft:
    """Save ``text`` (stamped with ``owner`` and ``date``) over the draft at ``path``, if the
    file still has the content whose hash is ``expected_hash``. Returns the saved draft.

    Raises:
        DefinitionError: every problem of the text; nothing is written.
        ConflictError: the file changed since it was loaded (the message says by whom and when),
            or it is not a draft (published and retired versions are never edited).
        NotFoundError: no such version file.
    """
    number, process = _number_of(path), path.parent.name
    _editable(read_draft(path))
    stamped = _stamped(text, owner, now)
    _checked(path.parent.parent, process, number, stamped)
    with _locked(path.parent):
        current = read_draft(path)
        _editable(current)
        if current.hash != expected_hash:
            raise ConflictError(
                f"{process}/{path.name} was changed since you loaded it, "
                f"{_last_change(current)}; nothing was written"
            )
        _write(path, stamped, new=False)
    return read_draft(path)


def upload_draft(
    processes_dir: Path, process: str, text: str, owner: str, now: dt.datetime
) -> Draft:
    """Write ``text`` as the next version of ``process``: a new draft, its ``version``,
    ``status: draft``, ``owner`` and ``date`` set (``based_on`` as the text says).

    Raises:
        NotFoundError: the process has no folder.
        DefinitionError: every problem of the text; nothing is written.
    """
    folder = _folder(processes_dir, process)
    with _locked(folder):
        number = next_number(processes_dir, process)
        stamped = _stamped(text, owner, now, version=number, status="draft")
        _checked(processes_dir, process, number, stamped)
        path = folder / f"v{number}.yaml"
        _write(path, stamped, new=True)
    return read_draft(path)
