"""The tamper-evident record: the audit log and the hash chain of each live case's events.

**The audit log** (table ``audit_entry``) is one global chain of who changed or read what, when,
for which organisation and from where: every case command, every account change, every read of
a case page or API record and every login. Entry ``n`` stores the hash of entry ``n - 1``
(``prev_hash``; 64 zeros for the first) and its own ``entry_hash``: the SHA-256 of that previous
hash and a canonical encoding of its fields. :func:`record_in` appends inside the caller's open
transaction, so a change and its entry commit together or not at all (a refused command writes
none); :func:`record` opens its own write transaction (the web's reads and logins). Appends are
serialised: SQLite's write transactions are (``BEGIN IMMEDIATE``); on PostgreSQL each append
first takes ``pg_advisory_xact_lock`` on one constant key, held to the commit, so concurrent
transactions extend one chain. A case command on PostgreSQL appends in its single write
statement instead (:func:`boflyt.engine.store.commands.complete_step` and the others): the
entry is numbered and hashed after the head this process last saw (:func:`chain_head`), the
lock is taken in that statement, and a guess that is no longer the head writes nothing and is
retried, so the lock is held only for one statement and its commit. Detail never holds a case
reference, password, token or note.

**The event chain**: each event of a *live* case carries ``entry_hash``, the SHA-256 of the
hash of the case's previous event (64 zeros before the first) and a canonical encoding of the
event's stored fields (case, number, kind, time, step, …, detail, process, version, mode).
Simulated and imported runs (mode other than live, or a simulation id) carry no chain
(``entry_hash`` NULL): they are nobody's record of acts, and the bulk paths that store them
(:func:`~boflyt.engine.store.eventlog.append_frame`, ``append_simulated``) stay as fast as before.

:func:`verify` walks both chains and names each entry that was changed (its fields no longer
give its hash), inserted (it does not follow its predecessor, or lies beyond the case's last
event number) or deleted (a gap in the numbers; events missing after the last one present, by
``case_run.last_seq``; a whole case missing that an audit entry says was started). The chains
prove that rows were not edited in place; someone able to rewrite the database *and* recompute
every later hash is caught only by comparing with a copy of the chain's last hash kept elsewhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum, StrEnum
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from boflyt.engine.case.decide import CaseState
from boflyt.engine.store.db import read_scope, write_scope
from boflyt.engine.store.statements import (
    AUDIT_COLUMNS,
    AUDIT_TABLE,
    CASE_TABLE,
    EVENT_TABLE,
    SQLITE_AUDIT,
    SqliteTexts,
    execute,
    translate_errors,
    utc,
)
from boflyt.models.events import EVENT_COLUMNS, Event
from boflyt.models.vocabulary import AuditAction, Mode

__all__ = [
    "AUDIT_LOCK",
    "EVENT_FIELDS",
    "GENESIS",
    "OPERATOR",
    "AuditRecord",
    "Problem",
    "Tamper",
    "Verification",
    "append_sqlite",
    "appending",
    "case_log",
    "chain_events",
    "chain_existing_events",
    "chain_head",
    "chained",
    "entry_fields",
    "event_hash",
    "forget_head",
    "moved_head",
    "record",
    "record_in",
    "verify",
]

GENESIS = "0" * 64
"""The "previous hash" of the first entry of a chain."""
OPERATOR = "operator"
"""The actor of account changes made at the command line: whoever may open the store there
(the terminal has no login; the case commands name their account with ``--as``)."""
AUDIT_LOCK = 0x626F666C7974_A0D1  # "boflyt" + "audit"
"""The ``pg_advisory_xact_lock`` key every audit append takes on PostgreSQL."""
EVENT_FIELDS = (*EVENT_COLUMNS, "process", "version", "mode")
"""The stored fields of an event its chain hash covers, in this order."""
Fields = Mapping[Any, Any]
"""A row's stored fields by column name (a dict, or a result row's mapping)."""
_ENTRY_FIELDS = ("seq", "at", "actor", "org", "action", "case_id", "detail", "address")
_LIMITS = {"actor": 200, "org": 64, "case_id": 64, "detail": 1000, "address": 64}
"""The column widths of ``audit_entry``: longer texts are cut before hashing."""


class Tamper(StrEnum):
    """What :func:`verify` found wrong with a row."""

    CHANGED = "changed"
    INSERTED = "inserted"
    DELETED = "deleted"


@dataclass(frozen=True)
class AuditRecord:
    """One audit entry as the rest of Boflyt sees it (its hashes left out)."""

    seq: int
    at: dt.datetime
    actor: str
    org: str | None
    action: AuditAction
    case_id: str | None
    detail: str | None
    address: str | None


@dataclass(frozen=True)
class Problem:
    """One broken link: which table, which row (case and number), what kind, in words."""

    table: str
    kind: Tamper
    seq: int | None
    case_id: str | None
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Verification:
    """What :func:`verify` walked, and every problem found, in the order walked."""

    entries: int
    events: int
    cases: int
    problems: tuple[Problem, ...]

    @property
    def intact(self) -> bool:
        """Whether both chains are whole."""
        return not self.problems


# --------------------------------------------------------------------------- hashing


def _plain(value: Any) -> Any:
    """A stored value as the one JSON value both databases give back for it."""
    if value is None or type(value) in (str, int):  # most values: nothing to do
        return value
    if isinstance(value, dt.datetime):
        return utc(value).isoformat(timespec="microseconds")
    if isinstance(value, Enum):
        return value.value
    return value


def _refuse(value: object) -> Any:
    raise TypeError(f"{type(value).__name__} is not stored as JSON")


def _encoder() -> Callable[[list[Any]], str]:
    """``json.dumps(values, separators=(",", ":"), ensure_ascii=False)``, the hashed values'
    canonical text, with C's encoder made once (``json.dumps`` makes one per call: a third of
    the time of encoding an event's values)."""
    if c_make_encoder is None:  # no C accelerator: the same text, slower
        return json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    make = c_make_encoder(None, _refuse, encode_basestring, None, ":", ",", False, False, True)
    return lambda values: "".join(make(values, 0))


_canonical = _encoder()


def _digest(prev: str, names: Sequence[str], row: Fields) -> str:
    values = [_plain(row[name]) for name in names]
    text = _canonical(values)
    return hashlib.sha256(f"{prev}\n{text}".encode()).hexdigest()


_AT, _KIND, _TOUCH = (EVENT_FIELDS.index(name) for name in ("at", "kind", "touch_minutes"))


def _event_digest(
    prev: str, values: list[Any], times: dict[Any, str] | None = None,
    texts: SqliteTexts | None = None,
) -> str:  # fmt: skip
    """:func:`_digest` of an event's values in :data:`EVENT_FIELDS` order, converting only the
    three that need it (a command's path: a tenth of the general one's cost); ``times``
    remembers the texts of times already converted (a command's events share its time), made
    from ``texts`` (:func:`_iso`) when given."""
    at = values[_AT]
    text = times.get(at) if times is not None else None
    if text is None:
        text = _iso(at, texts)
        if times is not None:
            times[at] = text
    values[_AT] = text
    values[_KIND] = str(values[_KIND])  # a StrEnum, or the text read back
    if values[_TOUCH] is not None:
        values[_TOUCH] = float(values[_TOUCH])
    text = _canonical(values)
    return hashlib.sha256(f"{prev}\n{text}".encode()).hexdigest()


def event_hash(prev: str, row: Fields) -> str:
    """The chain hash of an event given as its stored fields (:data:`EVENT_FIELDS`), after the
    case's previous event's hash ``prev`` (:data:`GENESIS` before the first)."""
    return _event_digest(prev, [row[name] for name in EVENT_FIELDS])


def _iso(at: dt.datetime, texts: SqliteTexts | None) -> str:
    """The time as hashed: ISO text in UTC to the microsecond (from the command's stored text
    of it when given: the same digits, ``T`` between date and time)."""
    if texts is None or at.tzinfo is not None:
        return utc(at).isoformat(timespec="microseconds")
    stored = texts[at]
    assert stored is not None
    return f"{stored[:10]}T{stored[11:]}"


def chain_events(
    events: Iterable[Event],
    state: CaseState,
    mode: Mode,
    simulation_id: str | None,
    prev: str,
    texts: SqliteTexts | None = None,
) -> list[str | None] | None:
    """The chain hashes of a command's new events, following ``prev`` (the case's last event's
    hash); None for a simulated or imported case, which carries no chain. ``texts``: the
    command's times as stored on SQLite, so each is formatted once."""
    if mode is not Mode.LIVE or simulation_id is not None:
        return None
    hashes: list[str | None] = []
    times: dict[Any, str] = {}
    process, version, text = state.process, state.version, str(mode)  # str(): a StrEnum's text
    for event in events:
        prev = _event_digest(prev, [*event, process, version, text], times, texts)
        hashes.append(prev)
    return hashes


def _live(columns: Iterable[sa.ColumnElement[Any]]) -> sa.Select[Any]:
    """Live events (the chained ones), case by case in event order."""
    return (
        sa.select(*columns)
        .where(EVENT_TABLE.c.mode == Mode.LIVE.value, EVENT_TABLE.c.simulation_id.is_(None))
        .order_by(EVENT_TABLE.c.case_id, EVENT_TABLE.c.seq)
    )


def chain_existing_events(conn: Connection) -> int:
    """Give every live event its chain hash, case by case in event order; the events hashed.

    Used once, by the store revision that adds the chain (existing stores then verify clean).
    """
    columns = [EVENT_TABLE.c.id, *(EVENT_TABLE.c[name] for name in EVENT_FIELDS)]
    updates: list[dict[str, Any]] = []
    case, prev = None, GENESIS
    for row in conn.execute(_live(columns)).mappings():
        if row["case_id"] != case:
            case, prev = row["case_id"], GENESIS
        prev = event_hash(prev, row)
        updates.append({"row_id": row["id"], "hash": prev})
    if updates:
        statement = (
            EVENT_TABLE.update()
            .where(EVENT_TABLE.c.id == sa.bindparam("row_id"))
            .values(entry_hash=sa.bindparam("hash"))
        )
        conn.execute(statement, updates)
    return len(updates)


# --------------------------------------------------------------------------- appending


def record_in(
    conn: Connection,
    *,
    actor: str,
    action: AuditAction,
    now: dt.datetime,
    org: str | None = None,
    case_id: str | None = None,
    detail: str | None = None,
    address: str | None = None,
) -> AuditRecord:
    """Append one entry to the audit log inside the open write transaction ``conn``.

    It commits with the caller's change or not at all. ``detail`` must never hold a case
    reference, a password or a token; texts longer than their column are cut.
    """
    if conn.dialect.name == "postgresql":  # one chain: appends wait for each other's commit
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(AUDIT_LOCK)))
    last = execute(conn, "audit_last", {}).fetchone()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    fields = entry_fields(actor=actor, action=action, now=now, org=org, case_id=case_id,
                          detail=detail, address=address)  # fmt: skip
    entry = _record(fields | {"seq": seq})  # before the SQLite path turns ``at`` into text
    execute(conn, "insert_audit", chained(fields, seq, prev))
    return entry


def append_sqlite(
    driver: sqlite3.Connection,
    fields: Mapping[str, Any],
    head: tuple[int, str] | None,
    texts: SqliteTexts,
) -> None:
    """:func:`record_in` for a SQLite command on the driver's connection, in its open write
    transaction: ``fields`` (:func:`entry_fields`) appended after ``head`` (the log's last
    number and hash as read in that transaction; None when the log is empty); ``texts``, the
    command's times as stored."""
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    row = chained(fields, seq, prev)
    row["at"] = texts[row["at"]]
    driver.execute(SQLITE_AUDIT, [row[name] for name in AUDIT_COLUMNS])


def entry_fields(
    *,
    actor: str,
    action: AuditAction,
    now: dt.datetime,
    org: str | None = None,
    case_id: str | None = None,
    detail: str | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    """An entry's fields but its place in the chain; texts longer than their column are cut."""
    texts = {"actor": actor, "org": org, "case_id": case_id, "detail": detail, "address": address}
    fields: dict[str, Any] = {"at": utc(now), "action": AuditAction(action).value}
    return fields | {k: v[: _LIMITS[k]] if v is not None else None for k, v in texts.items()}


def chained(fields: Mapping[str, Any], seq: int, prev: str) -> dict[str, Any]:
    """The row of entry number ``seq`` with ``fields`` after the entry whose hash is ``prev``."""
    row = {**fields, "seq": seq, "prev_hash": prev}
    row["entry_hash"] = _digest(prev, _ENTRY_FIELDS, row)
    return row


_HEADS: dict[str, tuple[int, str]] = {}
"""The last entry (number and hash) this process appended to or read from each PostgreSQL
database: the next append's guess of the chain's head, so it need not read it first."""


def chain_head(driver: Any, database: str) -> tuple[int, str]:
    """The chain's head (last number, last hash; 0 and :data:`GENESIS` when empty) as this
    process last saw it in ``database``, read through the psycopg connection ``driver`` when
    not known. A guess behind the chain makes the append collide on the entry's number, one
    beyond it (the log emptied or restored) finds no entry before its own: either way nothing
    is written; :func:`forget_head`, and append again."""
    head = _HEADS.get(database)
    if head is None:
        last = driver.execute(_PG_LAST).fetchone()
        head = _HEADS[database] = (last[0], last[1]) if last else (0, GENESIS)
    return head


@contextmanager
def appending(database: str) -> Iterator[None]:
    """Hold this process's turn to append to ``database``'s chain: its threads append one at a
    time (the server's lock makes them wait for each other anyway), so they do not guess the
    same head and collide; other processes still may, and retry."""
    with _TURNS.setdefault(database, threading.Lock()):
        yield


_TURNS: dict[str, threading.Lock] = {}


def moved_head(database: str, seq: int, entry_hash: str) -> None:
    """Record that entry ``seq`` with ``entry_hash`` was committed to ``database``."""
    _HEADS[database] = (seq, entry_hash)


def forget_head(database: str) -> None:
    """Drop the guess of ``database``'s chain head (an append collided with another's)."""
    _HEADS.pop(database, None)


_PG_LAST = "SELECT seq, entry_hash FROM audit_entry ORDER BY seq DESC LIMIT 1"


def record(
    engine: Engine,
    *,
    actor: str,
    action: AuditAction,
    now: dt.datetime,
    org: str | None = None,
    case_id: str | None = None,
    detail: str | None = None,
    address: str | None = None,
) -> AuditRecord:
    """Append one entry to the audit log in a write transaction of its own (:func:`record_in`):
    for what changes nothing else in the store (a read of a case, a login, a failed login)."""

    def run() -> AuditRecord:
        with write_scope(engine) as conn:
            return record_in(conn, actor=actor, action=action, now=now, org=org,
                             case_id=case_id, detail=detail, address=address)  # fmt: skip

    return translate_errors(run)


# --------------------------------------------------------------------------- reading


def _record(row: Fields) -> AuditRecord:
    at = row["at"]
    return AuditRecord(
        seq=row["seq"], at=dt.datetime.fromisoformat(at) if isinstance(at, str) else at,
        actor=row["actor"], org=row["org"], action=AuditAction(row["action"]),
        case_id=row["case_id"], detail=row["detail"], address=row["address"],
    )  # fmt: skip


def case_log(engine: Engine, case_id: str) -> list[AuditRecord]:
    """Who read and changed the case, oldest first (its *innsynslogg*)."""
    query = (
        sa.select(*(AUDIT_TABLE.c[name] for name in _ENTRY_FIELDS))
        .where(AUDIT_TABLE.c.case_id == case_id)
        .order_by(AUDIT_TABLE.c.seq)
    )
    with read_scope(engine) as conn:
        return [_record(row) for row in conn.execute(query).mappings()]


# --------------------------------------------------------------------------- verifying


def verify(engine: Engine) -> Verification:
    """Walk the audit log and every live case's events; every problem found, in walk order.

    The audit log first (by ``seq``), then the cases (by id) and each case's events (by number).
    A problem names its table, row and kind (:class:`Tamper`); after one, the walk goes on from
    the row's stored hash, so each separate change is named once.
    """
    problems: list[Problem] = []
    with read_scope(engine) as conn:
        entries, started = _walk_audit(conn, problems)
        events, cases = _walk_events(conn, started, problems)
    return Verification(entries, events, cases, tuple(problems))


def _rows(conn: Connection, query: sa.Select[Any]) -> Iterator[sa.RowMapping]:
    """The rows of ``query``, fetched in batches (a server-side cursor on PostgreSQL)."""
    yield from conn.execution_options(yield_per=5000).execute(query).mappings()


def _walk_audit(conn: Connection, problems: list[Problem]) -> tuple[int, dict[str, int]]:
    """Check the audit chain; (entries, {case started: its entry's seq})."""
    columns = [AUDIT_TABLE.c[name] for name in (*_ENTRY_FIELDS, "prev_hash", "entry_hash")]
    query = sa.select(*columns).order_by(AUDIT_TABLE.c.seq)
    count, expected, prev = 0, 1, GENESIS
    started: dict[str, int] = {}
    for row in _rows(conn, query):
        count += 1
        seq = row["seq"]
        if row["action"] == AuditAction.CASE_STARTED.value and row["case_id"]:
            started.setdefault(row["case_id"], seq)
        where = f"audit_entry seq {seq}"
        if seq != expected:
            message = f"audit_entry {_gap(expected, seq)}"
            problems.append(Problem("audit_entry", Tamper.DELETED, expected, None, message))
        elif _digest(row["prev_hash"], _ENTRY_FIELDS, row) != row["entry_hash"]:
            kind = Tamper.CHANGED if row["prev_hash"] == prev else Tamper.INSERTED
            why = ("its fields no longer give its hash" if kind is Tamper.CHANGED
                   else "it does not follow the entry before it")  # fmt: skip
            message = f"{where}: {kind.value} ({why})"
            problems.append(Problem("audit_entry", kind, seq, row["case_id"], message))
        elif row["prev_hash"] != prev:
            message = f"{where}: inserted (it does not follow the entry before it)"
            problems.append(Problem("audit_entry", Tamper.INSERTED, seq, row["case_id"], message))
        expected, prev = seq + 1, row["entry_hash"]
    return count, started


def _live_cases(conn: Connection) -> dict[str, int]:
    """Every live case's id and last event number."""
    query = sa.select(CASE_TABLE.c.id, CASE_TABLE.c.last_seq).where(
        CASE_TABLE.c.mode == Mode.LIVE.value, CASE_TABLE.c.simulation_id.is_(None)
    )
    return {case_id: last_seq for case_id, last_seq in conn.execute(query)}


def _walk_events(
    conn: Connection, started: dict[str, int], problems: list[Problem]
) -> tuple[int, int]:
    """Check each live case's event chain against its case row; (events, cases)."""
    last_seqs = _live_cases(conn)
    columns = [*(EVENT_TABLE.c[name] for name in EVENT_FIELDS), EVENT_TABLE.c.entry_hash]
    count, seen = 0, set[str]()
    case: str | None = None
    expected, prev = 1, GENESIS
    for row in _rows(conn, _live(columns)):
        count += 1
        if row["case_id"] != case:
            if case is not None:
                _check_end(case, expected - 1, last_seqs, problems)
            case, expected, prev = row["case_id"], 1, GENESIS
            seen.add(case)
        prev = _check_event(row, expected, prev, last_seqs.get(row["case_id"]), problems)
        expected = row["seq"] + 1
    if case is not None:
        _check_end(case, expected - 1, last_seqs, problems)
    _check_missing_cases(seen, last_seqs, started, problems)
    return count, len(seen | set(last_seqs))


def _check_event(
    row: Fields, expected: int, prev: str, last_seq: int | None,
    problems: list[Problem],
) -> str:  # fmt: skip
    """Check one event against the case's chain so far; the hash the chain goes on from."""
    case, seq, stored = row["case_id"], row["seq"], row["entry_hash"]
    where = f"event of case {case} seq {seq}"
    if seq != expected:
        message = f"event of case {case} {_gap(expected, seq)}"
        problems.append(Problem("event", Tamper.DELETED, expected, case, message))
    elif event_hash(prev, row) != stored:
        kind = Tamper.INSERTED if last_seq is not None and seq > last_seq else Tamper.CHANGED
        why = ("it lies beyond the case's last event" if kind is Tamper.INSERTED
               else "it has no hash" if stored is None
               else "its fields no longer give its hash")  # fmt: skip
        problems.append(Problem("event", kind, seq, case, f"{where}: {kind.value} ({why})"))
    return stored if stored is not None else event_hash(prev, row)


def _check_end(
    case: str, last_present: int, last_seqs: dict[str, int], problems: list[Problem]
) -> None:
    """The case's last event present against the last number its case row records."""
    last_seq = last_seqs.get(case)
    if last_seq is None:
        message = f"case_run {case}: deleted (its live events remain)"
        problems.append(Problem("case_run", Tamper.DELETED, None, case, message))
    elif last_present < last_seq:
        gone = _seqs(last_present + 1, last_seq)
        message = (
            f"event of case {case} {gone}: deleted (the case's last event is seq {last_seq}, "
            f"the log ends at seq {last_present})"
        )
        problems.append(Problem("event", Tamper.DELETED, last_present + 1, case, message))
    elif last_present > last_seq:
        message = (
            f"event of case {case} {_seqs(last_seq + 1, last_present)}: inserted (the case's "
            f"last event is seq {last_seq})"
        )
        problems.append(Problem("event", Tamper.INSERTED, last_seq + 1, case, message))


def _check_missing_cases(
    with_events: set[str], last_seqs: dict[str, int], started: dict[str, int],
    problems: list[Problem],
) -> None:  # fmt: skip
    """Live cases with no events at all, and started cases (per the audit log) that are gone."""
    for case in sorted(set(last_seqs) - with_events):
        if last_seqs[case] > 0:
            _check_end(case, 0, last_seqs, problems)
    for case, seq in sorted(started.items(), key=lambda item: item[1]):
        if case not in last_seqs and case not in with_events:
            message = (
                f"case {case}: deleted (audit_entry seq {seq} records its start; neither the "
                "case nor its events are in the store)"
            )
            problems.append(Problem("case_run", Tamper.DELETED, None, case, message))


def _seqs(first: int, last: int) -> str:
    """``seq 4`` or ``seq 4-6``."""
    return f"seq {first}" if first == last else f"seq {first}-{last}"


def _gap(expected: int, seq: int) -> str:
    """The missing numbers before ``seq`` and what follows what, for a message."""
    before = "the start" if expected == 1 else f"seq {expected - 1}"
    return f"{_seqs(expected, seq - 1)}: deleted (seq {seq} follows {before})"
