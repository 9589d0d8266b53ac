"""The workspace: where a municipality's process library, store and reports live.

A workspace is a folder holding ``boflyt.toml`` (made by ``boflyt init``): ``processes/`` is
its library to edit, ``data/`` its store and key (owner-only), ``reports/`` what it writes.
Every command finds it from the current folder upwards, or from ``BOFLYT_HOME``. Outside any
workspace the shipped seed library is read (never written) and data go to the user's data
folder (platformdirs), never into the installed package. An explicit ``BOFLYT_*`` setting wins
over both.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import stat
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from boflyt.models.errors import SettingsError
from boflyt.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from boflyt.engine.calendar import WorkCalendar
    from boflyt.engine.store.outbox import Recipient
    from boflyt.engine.store.pseudonym import ReferenceKey
    from boflyt.engine.store.retention import RetentionPolicy

__all__ = [
    "CLOSED_DAYS",
    "MARKER",
    "Workspace",
    "create_workspace",
    "find_root",
    "read_closed_days",
    "read_notifications",
    "shipped_library",
    "workspace_calendar",
]

MARKER = "boflyt.toml"
"""The file that makes a folder a workspace."""

CLOSED_DAYS = "closed-days.txt"
"""The workspace file listing the municipality's extra closed days, one ISO date a line."""

_CLOSED_DAYS_TEXT = """\
# Kommunens ekstra stengte dager (i tillegg til helligdager og 1. og 17. mai).
# The municipality's extra closed days (besides Norwegian public holidays and 1 and 17 May).
# One date a line as YYYY-MM-DD, optionally followed by a note; '#' starts a comment.
# Working-day deadlines skip these days; a deadline ending on one moves to the next working day.
# Example:
# 2026-12-24  julaften
"""

_MARKER_TEXT = """\
# Boflyt workspace. Commands run in this folder or below it use:
#   processes/  the process library (edit, validate, publish versions here)
#   data/       the store (SQLite) and its pseudonymisation key — owner-only, back it up
#   reports/    reports and diagrams
# Settings come from BOFLYT_* environment variables (see `boflyt --help`).
"""

_README = """\
# Boflyt-arbeidsområde / Boflyt workspace

Laget av `boflyt init`. Kommandoer som kjøres her (eller i en undermappe) bruker denne mappen.

| mappe | innhold |
|---|---|
| `processes/` | prosessbiblioteket: `lanes.yaml`, `<prosess>/v<N>.yaml` (`boflyt validate`) |
| `data/` | lageret (`boflyt.db`) og nøkkelen (`reference.key`); bare eieren leser; ta backup |
| `reports/` | rapporter og diagrammer (`boflyt demo`, `boflyt report`, `boflyt draw`) |

Made by `boflyt init`. Commands run here (or below) use this folder: `processes/` is the library
to edit, `data/` the store and its key (owner-only; back both up together), `reports/` the output.
Use a shared PostgreSQL store with `BOFLYT_DATABASE_URL` and the same key on every machine
(`BOFLYT_REFERENCE_KEY_FILE`).
"""


def shipped_library() -> Path:
    """The seed process library inside the installed package (read-only)."""
    return Path(str(resources.files("boflyt") / "processes"))


def find_root(start: Path, home: Path | None = None) -> Path | None:
    """The workspace folder: ``home`` if given, else the nearest folder from ``start`` upwards
    that holds ``boflyt.toml``; ``None`` outside any workspace.

    Raises:
        SettingsError: ``home`` is given but is not a workspace.
    """
    if home is not None:
        if not (home / MARKER).is_file():
            raise SettingsError(
                f"BOFLYT_HOME={str(home)!r} is not a workspace (no {MARKER}); "
                f"allowed: a folder made by 'boflyt init'"
            )
        return home.resolve()
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / MARKER).is_file():
            return folder
    return None


@dataclass(frozen=True)
class Workspace:
    """Where every piece of Boflyt's state lives for one command."""

    root: Path | None
    """The workspace folder; ``None`` outside any workspace."""
    processes_dir: Path
    data_dir: Path
    reports_dir: Path
    database_url: str
    reference_key_file: Path
    settings: Settings

    @classmethod
    def current(cls, cwd: Path | None = None) -> Workspace:
        """The workspace of ``cwd`` (default: the current folder), with settings applied."""
        settings = get_settings()
        root = find_root(cwd or Path.cwd(), settings.home)
        if root is not None:
            processes, data, reports = root / "processes", root / "data", root / "reports"
        else:
            user = Path(platformdirs.user_data_dir("boflyt", appauthor=False))
            processes, data, reports = shipped_library(), user / "data", user / "reports"
        data = settings.data_dir or data
        return cls(
            root=root,
            processes_dir=settings.processes_dir or processes,
            data_dir=data,
            reports_dir=settings.reports_dir or reports,
            database_url=settings.database_url or f"sqlite:///{data / 'boflyt.db'}",
            reference_key_file=settings.reference_key_file or data / "reference.key",
            settings=settings,
        )

    @property
    def closed_days_file(self) -> Path | None:
        """The workspace's :data:`CLOSED_DAYS` file; ``None`` outside any workspace."""
        return self.root / CLOSED_DAYS if self.root is not None else None

    def calendar(self) -> WorkCalendar:
        """The working calendar of this workspace: :func:`workspace_calendar` of its root."""
        return workspace_calendar(self.root)

    def retention_policy(self) -> RetentionPolicy:
        """How long each process keeps the links of its ended cases: the ``[retention]`` table of
        ``boflyt.toml`` (:mod:`boflyt.engine.store.retention`); none outside a workspace or
        without the table (nothing is ever removed then). E.g.::

            [retention]
            default = "5y"             # every process not named below
            private_lease = "18m"      # y, m or d; "never" keeps a process's links

        Raises:
            SettingsError: the file is not TOML, or an entry is not a period (naming the file and
                every bad key).
        """
        import tomllib

        from boflyt.engine.store.retention import RetentionPolicy, policy_from_table

        if self.root is None:
            return RetentionPolicy()
        path = self.root / MARKER
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"{path}: cannot read it as TOML: {exc}") from None
        if "retention" not in document:
            return RetentionPolicy()
        return policy_from_table(document["retention"], where=str(path))

    @property
    def simulations_dir(self) -> Path:
        """Where simulation chunks are written between tasks."""
        return self.data_dir / "simulations"

    def open_store(self) -> Engine:
        """The store's engine, its schema at this code's revision.

        The revision is read without a write lock; an empty store is created, and an older
        SQLite store upgraded, under the migration lock
        (:func:`boflyt.engine.store.db.open_schema`).
        An older PostgreSQL store, or one newer than this code, is a one-line error.
        """
        from boflyt.engine.store.db import make_engine, open_schema  # not for store-less commands

        if self.database_url.startswith("sqlite"):
            self.ensure_data_dir()
        engine = make_engine(self.database_url)
        try:
            open_schema(engine)
            if self.root is not None:  # who gets e-mail: boflyt.toml's [notifications]
                from boflyt.engine.store.outbox import subscribe

                subscribe(engine, read_notifications(self.root / MARKER))
        except BaseException:
            engine.dispose()
            raise
        return engine

    def reference_key(self, engine: Engine) -> ReferenceKey:
        """The pseudonymisation key of the store behind ``engine`` (see
        :func:`~boflyt.engine.store.key.open_store_key`): made only with a new store, and
        refused when it is not the store's key.
        """
        from boflyt.engine.store.key import open_store_key  # not for store-less commands

        if self.reference_key_file.parent == self.data_dir:
            self.ensure_data_dir()
        return open_store_key(
            engine,
            self.reference_key_file,
            how_to_point="point at the store's key with "
            "BOFLYT_REFERENCE_KEY_FILE=/path/to/reference.key",
        )

    def ensure_data_dir(self) -> Path:
        """Create the data folder owner-only (0700), or make an existing one of ours owner-only;
        a one-line error if impossible."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            info = self.data_dir.stat()
            if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
                self.data_dir.chmod(0o700)
        except OSError as exc:
            raise SettingsError(
                f"cannot create the data folder {self.data_dir}: {exc.strerror}; "
                "set BOFLYT_DATA_DIR to a folder you can write, or run in a workspace"
            ) from None
        if not os.access(self.data_dir, os.W_OK | os.X_OK):
            raise SettingsError(
                f"the data folder {self.data_dir} is not writable; "
                "set BOFLYT_DATA_DIR to a folder you can write"
            )
        return self.data_dir


def create_workspace(folder: Path) -> Path:
    """Make ``folder`` a workspace: ``boflyt.toml``, a README, a copy of the seed library,
    and the data (0700) and reports folders. Never overwrites anything.

    Raises:
        SettingsError: ``folder`` is already a workspace, or is a file.
    """
    if (folder / MARKER).exists():
        raise SettingsError(f"{folder} is already a workspace ({MARKER} exists)")
    if folder.exists() and not folder.is_dir():
        raise SettingsError(f"{folder} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "processes").exists():
            shutil.copytree(shipped_library(), folder / "processes")
        (folder / "data").mkdir(mode=0o700, exist_ok=True)
        (folder / "reports").mkdir(exist_ok=True)
        readme = folder / "README.md"
        if not readme.exists():
            readme.write_text(_README, encoding="utf-8")
        closed = folder / CLOSED_DAYS
        if not closed.exists():
            closed.write_text(_CLOSED_DAYS_TEXT, encoding="utf-8")
        (folder / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"cannot create a workspace in {folder}: {exc.strerror}") from None
    return folder.resolve()


def read_closed_days(path: Path) -> frozenset[dt.date]:
    """The dates listed in a :data:`CLOSED_DAYS` file; none when there is no such file.

    Each line holds a date as ``YYYY-MM-DD``, optionally followed by a note; blank lines and
    text after ``#`` are ignored.

    Raises:
        SettingsError: a line that does not start with such a date (naming file and line), or a
            file that cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return frozenset()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise SettingsError(f"{path}: cannot read the closed days: {reason}") from None
    days: set[dt.date] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        try:
            days.add(dt.date.fromisoformat(words[0]))
        except ValueError:
            raise SettingsError(
                f"{path}:{number}: '{words[0][:40]}' is not a date; allowed: one date a line "
                "as YYYY-MM-DD (e.g. 2026-12-24), optionally followed by a note"
            ) from None
    return frozenset(days)


def workspace_calendar(root: Path | None) -> WorkCalendar:
    """The working calendar of the workspace at ``root``: Monday–Friday, 08:00–15:30, Norwegian
    public holidays (:data:`~boflyt.engine.calendar.DEFAULT_CALENDAR`) and the days listed in its
    :data:`CLOSED_DAYS` file; outside any workspace (``None``) the default calendar.

    Raises:
        SettingsError: the closed-days file has a line that is not a date.
    """
    from boflyt.engine.calendar import DEFAULT_CALENDAR  # numpy and polars: not at startup

    if root is None:
        return DEFAULT_CALENDAR
    closed = read_closed_days(root / CLOSED_DAYS)
    if not closed:
        return DEFAULT_CALENDAR
    return dataclasses.replace(DEFAULT_CALENDAR, holidays=DEFAULT_CALENDAR.holidays | closed)


def read_notifications(path: Path) -> dict[str, Recipient]:
    """The ``[notifications]`` of a workspace's ``boflyt.toml``: organisation → where its e-mail
    goes; none when the file or the table is missing.

    One table per organisation (a lane id), e.g.::

        [notifications.nav]
        address = "bolig@nav.example"   # reminders and escalations of NAV's work go here
        handoffs = true                 # and a notice when a case is handed to NAV (default false)

    Raises:
        SettingsError: the file is not TOML, or an entry is not such a table (naming the file,
            the organisation and the field).
    """
    import tomllib

    from boflyt.engine.store.outbox import Recipient

    try:
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read it as TOML: {exc}") from None
    table = document.get("notifications", {})
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [notifications] must be a table of organisations")
    found: dict[str, Recipient] = {}
    for org, entry in table.items():
        where = f"{path}: [notifications.{org}]"
        if not isinstance(entry, dict):
            raise SettingsError(f"{where} must be a table with address (and handoffs)")
        address, handoffs = entry.get("address"), entry.get("handoffs", False)
        if (
            not isinstance(address, str)
            or address.count("@") != 1
            or any(c.isspace() or c in "<>,;" for c in address)
        ):
            raise SettingsError(
                f"{where} address: found {address!r}; allowed: one e-mail address "
                "(name@domain), no spaces"
            )
        if not isinstance(handoffs, bool):
            raise SettingsError(f"{where} handoffs: found {handoffs!r}; allowed: true or false")
        unknown = sorted(set(entry) - {"address", "handoffs"})
        if unknown:
            raise SettingsError(
                f"{where}: unknown field {unknown[0]!r}; allowed: address, handoffs"
            )
        found[org] = Recipient(address, handoffs)
    return found
