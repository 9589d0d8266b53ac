"""Retention: remove the personal link of cases that ended longer ago than their process keeps.

A live case is linked to a person by one thing in the store: ``case_run.ref_key``, the keyed
pseudonym of the case reference (:mod:`boflyt.engine.store.pseudonym`); whoever holds the key
and a reference finds the case with it. Once a case has been *ended* (finished or cancelled)
for longer than its process's retention period, :func:`remove_links` sets that column to NULL.
Everything else stays: the events, work items and audit entries are anonymous (a random case
id, staff accounts, organisations, times), so analysis counts the case as before, and the event
chain does not cover ``ref_key``, so ``boflyt audit verify`` stays intact. Each removal is an
audit entry (:attr:`~boflyt.models.vocabulary.AuditAction.RETENTION`) naming the case, its
process version, when it ended and the period applied.

Running cases are never touched. Work goes in batches, one write transaction each: a batch's
links and its audit entries commit together or not at all, and a second run finds nothing left
to remove. The periods come from a :class:`RetentionPolicy` (a workspace reads one from
``boflyt.toml``: :func:`policy_from_table`); a process with no period, and no default, is kept.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from boflyt.engine.store import audit
from boflyt.engine.store.db import read_scope, write_scope
from boflyt.engine.store.statements import CASE_TABLE, translate_errors, utc
from boflyt.models.errors import ConflictError, SettingsError
from boflyt.models.vocabulary import AuditAction, RunStatus

__all__ = [
    "DEFAULT_KEY",
    "KEEP",
    "ExpiredCase",
    "Period",
    "RetentionPolicy",
    "RetentionRun",
    "expired",
    "expired_cases",
    "expires_at",
    "parse_period",
    "policy_from_table",
    "remove_links",
    "sieve_end",
]

DEFAULT_KEY = "default"
"""The key of the ``[retention]`` table giving the period of every process not named."""
KEEP = "never"
"""The value that keeps a process's links (its cases are never made anonymous)."""
_PERIOD = re.compile(r"(\d{1,4})([ymd])")
_MAX_DAYS = 100 * 366
"""Longest period allowed (a hundred years): anything longer is a typing slip."""
_LOWER_DAYS = {"y": 365, "m": 28, "d": 1}
"""Fewest days one unit can last (for the hundred-year bound)."""
_ENDED = (RunStatus.FINISHED.value, RunStatus.CANCELLED.value)


@dataclass(frozen=True, order=True)
class Period:
    """A retention period: ``count`` years, months or days (``unit`` ``y``, ``m`` or ``d``)."""

    count: int
    unit: str

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"


def parse_period(text: str) -> Period:
    """The period written as ``5y``, ``18m`` or ``90d`` (a whole number and its unit).

    >>> parse_period("5y"), parse_period(" 18m "), str(parse_period("90d"))
    (Period(count=5, unit='y'), Period(count=18, unit='m'), '90d')

    Raises:
        ValueError: anything else, zero, or longer than a hundred years (the message says what
            is allowed).
    """
    match = _PERIOD.fullmatch(text.strip().lower()) if isinstance(text, str) else None
    allowed = f"allowed: a whole number and y, m or d (5y, 18m, 90d), or '{KEEP}'"
    if match is None:
        raise ValueError(f"found {text!r}; {allowed}")
    period = Period(int(match[1]), match[2])
    if period.count == 0 or period.count * _LOWER_DAYS[period.unit] > _MAX_DAYS:
        raise ValueError(f"found {text!r}; {allowed}, from 1 day up to 100 years")
    return period


def expires_at(ended_at: dt.datetime, period: Period) -> dt.datetime:
    """When the link of a case that ended at ``ended_at`` expires: ``period`` later, by the
    calendar (a month after 31 January is the last day of February).

    >>> expires_at(dt.datetime(2024, 1, 31, 14, 0), Period(1, "m"))
    datetime.datetime(2024, 2, 29, 14, 0)
    >>> expires_at(dt.datetime(2024, 2, 29), Period(1, "y"))
    datetime.datetime(2025, 2, 28, 0, 0)
    >>> expires_at(dt.datetime(2025, 3, 1), Period(90, "d"))
    datetime.datetime(2025, 5, 30, 0, 0)
    """
    if period.unit == "d":
        return ended_at + dt.timedelta(days=period.count)
    months = period.count * (12 if period.unit == "y" else 1)
    year, month = divmod(ended_at.month - 1 + months, 12)
    year += ended_at.year
    day = min(ended_at.day, calendar.monthrange(year, month + 1)[1])
    return ended_at.replace(year=year, month=month + 1, day=day)


def expired(ended_at: dt.datetime | None, period: Period | None, now: dt.datetime) -> bool:
    """Whether a case that ended at ``ended_at`` is past ``period`` at ``now``: the one rule.

    A case that has not ended (``ended_at`` None) and a process kept for ever (``period`` None)
    never expire; the expiry moment itself counts as expired.

    >>> ended = dt.datetime(2020, 6, 1, 12, 0)
    >>> expired(ended, Period(5, "y"), dt.datetime(2025, 6, 1, 11, 59))
    False
    >>> expired(ended, Period(5, "y"), dt.datetime(2025, 6, 1, 12, 0))
    True
    >>> expired(None, Period(1, "d"), dt.datetime(2030, 1, 1)), expired(ended, None, ended)
    (False, False)
    """
    if ended_at is None or period is None:
        return False
    return expires_at(ended_at, period) <= now


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each process keeps the links of its ended cases; None keeps them for ever."""

    periods: Mapping[str, Period | None] = field(default_factory=dict)
    """Process id → its period (None: kept)."""
    default: Period | None = None
    """The period of every process not in :attr:`periods` (None: such processes are kept)."""

    def period_for(self, process: str) -> Period | None:
        """The period of ``process``: its own, else the default.

        >>> policy = RetentionPolicy({"private_lease": None}, default=Period(5, "y"))
        >>> policy.period_for("private_lease"), str(policy.period_for("eviction"))
        (None, '5y')
        """
        return self.periods.get(process, self.default)

    @property
    def empty(self) -> bool:
        """Whether the policy removes nothing at all (no period anywhere)."""
        return self.default is None and all(p is None for p in self.periods.values())


def policy_from_table(table: object, *, where: str) -> RetentionPolicy:
    """The policy of a ``[retention]`` table: process id → period, and ``default``.

    >>> policy = policy_from_table({"default": "5y", "private_lease": "18m"}, where="boflyt.toml")
    >>> str(policy.default), str(policy.period_for("private_lease"))
    ('5y', '18m')

    Raises:
        SettingsError: the table is not a table, or values are not periods; every bad entry
            named (``where`` [retention].key: found …; allowed …), sorted by key.
    """
    if not isinstance(table, Mapping):
        raise SettingsError(f"{where}: [retention] must be a table of process = period")
    problems: list[str] = []
    periods: dict[str, Period | None] = {}
    for key, value in sorted(table.items()):
        try:
            periods[key] = None if value == KEEP else parse_period(value)
        except ValueError as exc:
            problems.append(f"{where}: [retention].{key}: {exc}")
    if problems:
        raise SettingsError("\n".join(problems))
    default = periods.pop(DEFAULT_KEY, None)
    return RetentionPolicy(periods, default)


@dataclass(frozen=True)
class ExpiredCase:
    """An ended case whose link is due for removal (no reference, no pseudonym in it)."""

    case_id: str
    process: str
    version: int
    status: RunStatus
    ended_at: dt.datetime
    period: Period

    @property
    def detail(self) -> str:
        """Its audit entry's detail: what was removed, and why."""
        return (
            f"ref_key removed; {self.process}@v{self.version} {self.status.value} "
            f"{self.ended_at.isoformat(timespec='seconds')}; retention {self.period}"
        )


@dataclass(frozen=True)
class RetentionRun:
    """What :func:`remove_links` did: the cases made anonymous, in the order removed."""

    removed: tuple[ExpiredCase, ...]
    batches: int


def sieve_end(period: Period, now: dt.datetime) -> dt.datetime:
    """The latest end a case past ``period`` at ``now`` can have (the database's first sieve;
    :func:`expired` decides): exact for days, a day late for months and years, whose ends of
    month are clamped.

    >>> sieve_end(Period(90, "d"), dt.datetime(2025, 5, 30))
    datetime.datetime(2025, 3, 1, 0, 0)
    >>> sieve_end(Period(1, "m"), dt.datetime(2025, 3, 31, 8, 0))
    datetime.datetime(2025, 3, 1, 8, 0)
    """
    if period.unit == "d":
        return now - dt.timedelta(days=period.count)
    months = period.count * (12 if period.unit == "y" else 1)
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day) + dt.timedelta(days=1)


def _sieve(policy: RetentionPolicy, now: dt.datetime) -> sa.ColumnElement[bool] | None:
    """Each process's ended cases that may be past its period; None when nothing can be."""
    named = [name for name in policy.periods]
    ends = CASE_TABLE.c.finished_at
    clauses = [
        sa.and_(CASE_TABLE.c.process == name, ends <= sieve_end(period, now))
        for name, period in sorted(policy.periods.items())
        if period is not None
    ]
    if policy.default is not None:
        others = CASE_TABLE.c.process.not_in(named) if named else sa.true()
        clauses.append(sa.and_(others, ends <= sieve_end(policy.default, now)))
    return sa.or_(*clauses) if clauses else None


def _expired_in(
    conn: Connection, policy: RetentionPolicy, now: dt.datetime, limit: int | None = None
) -> list[ExpiredCase]:
    """Ended, still linked cases past their period at ``now``, oldest end first (at most
    ``limit``)."""
    sieve = _sieve(policy, now)
    if sieve is None:
        return []
    columns = ("id", "process", "version", "status", "finished_at")
    query = (
        sa.select(*(CASE_TABLE.c[name] for name in columns))
        .where(CASE_TABLE.c.ref_key.is_not(None), CASE_TABLE.c.status.in_(_ENDED), sieve)
        .order_by(CASE_TABLE.c.finished_at, CASE_TABLE.c.id)
    )
    found: list[ExpiredCase] = []
    result = conn.execute(query.execution_options(yield_per=1000))
    for case_id, process, version, status, ended_at in result:
        period = policy.period_for(process)
        ended = dt.datetime.fromisoformat(ended_at) if isinstance(ended_at, str) else ended_at
        if period is not None and expired(ended, period, now):
            found.append(ExpiredCase(case_id, process, version, RunStatus(status), ended, period))
            if limit is not None and len(found) >= limit:
                break
    result.close()
    return found


def expired_cases(
    engine: Engine, policy: RetentionPolicy, *, now: dt.datetime
) -> list[ExpiredCase]:
    """The ended cases whose link ``policy`` would remove at ``now``, oldest end first (what
    ``--dry-run`` lists); nothing is changed."""
    now = utc(now)
    with read_scope(engine) as conn:
        return _expired_in(conn, policy, now)


def remove_links(
    engine: Engine,
    policy: RetentionPolicy,
    *,
    now: dt.datetime,
    actor: str = audit.OPERATOR,
    audit_now: dt.datetime | None = None,
    batch: int = 500,
) -> RetentionRun:
    """Set ``ref_key`` to NULL for every ended case past its period at ``now``; what was done.

    Each batch of at most ``batch`` cases is one write transaction: it re-reads which cases are
    still linked and expired (so concurrent runs and a repeated run remove nothing twice), clears
    their links (only where the case is still ended and linked) and appends one audit entry per
    case by ``actor`` dated ``audit_now`` (default: ``now``). A failure rolls its batch back whole;
    earlier batches stay done. On SQLite the write-ahead log is then checkpointed
    (:func:`_checkpoint`).

    Raises:
        StoreError, ConflictError: the store failed (the batch that failed changed nothing).
        ValueError: ``batch`` is less than 1.
    """
    if batch < 1:
        raise ValueError(f"batch: found {batch}; allowed: 1 or more")
    now = utc(now)
    stamp = utc(audit_now) if audit_now is not None else now
    removed: list[ExpiredCase] = []
    batches = 0
    while True:
        done = translate_errors(lambda: _remove_batch(engine, policy, now, actor, stamp, batch))
        removed.extend(done)
        batches += bool(done)
        if len(done) < batch:
            break
    if removed:
        _checkpoint(engine)
    return RetentionRun(tuple(removed), batches)


def _checkpoint(engine: Engine) -> None:
    """On SQLite, copy the write-ahead log into the database file and empty it, so the removed
    pseudonyms' old pages are overwritten (``secure_delete`` zeroes the freed cells) rather
    than kept in the log; best effort: a reader holding an old snapshot leaves it for the next
    checkpoint. PostgreSQL keeps old row versions until ``VACUUM`` (docs/guide/operator.md)."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()  # outside any transaction: the pragma refuses to run in one
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()  # type: ignore[union-attr]
    finally:
        raw.close()


def _remove_batch(
    engine: Engine, policy: RetentionPolicy, now: dt.datetime, actor: str, stamp: dt.datetime,
    size: int,
) -> list[ExpiredCase]:  # fmt: skip
    """One batch in one write transaction; the cases whose link it removed."""
    with write_scope(engine) as conn:
        if conn.dialect.name == "postgresql":  # one retention run at a time, as audit appends
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(audit.AUDIT_LOCK)))
        chosen = _expired_in(conn, policy, now, size)
        if not chosen:
            return []
        ids = [case.case_id for case in chosen]
        clear = (
            CASE_TABLE.update()
            .where(CASE_TABLE.c.id.in_(ids), CASE_TABLE.c.ref_key.is_not(None))
            .where(CASE_TABLE.c.status.in_(_ENDED))
            .values(ref_key=None)
        )
        if conn.execute(clear).rowcount != len(ids):  # cannot happen under the write lock
            raise ConflictError("a case changed while its link was being removed; run again")
        for case in chosen:
            audit.record_in(conn, actor=actor, action=AuditAction.RETENTION, now=stamp,
                            case_id=case.case_id, detail=case.detail)  # fmt: skip
        return chosen
