"""All database tables (SQLModel), in one module.

* ``published_version`` — each version a case ever ran on, as canonical JSON; never updated.
* ``case_run`` — one row per case: version and content hash it is pinned to, pseudonymous
  reference, mode, status and ``row_version`` for optimistic locking.
* ``work_item`` — the case's step instances (ready → started → done / cancelled).
* ``event`` — the append-only event log shared by live, simulated and imported runs: the columns
  of :data:`boflyt.models.events.EVENT_COLUMNS` plus process, version, mode and simulation id copied
  from the case so the analysis reads one table.
* ``simulation_run`` — one row per simulated cohort (one run set ``simulated:<number>``).
* ``imported_log`` — one row per imported event log (the run set ``imported:<name>``): where it
  came from (file name and SHA-256, never the path), its size and the activity names it had.
* ``outbox`` — e-mail notifications (reminders, escalations, handoffs) written with the event
  that caused them, claimed and sent by a worker (:mod:`boflyt.engine.store.outbox`).
* ``store_meta`` — facts about the store itself (the reference key's fingerprint).
* ``account``, ``account_org``, ``account_role`` — the people who use the store: an argon2
  password hash (never the password), whether the account is active, its organisations (lane ids
  of the library) and its roles (:class:`boflyt.models.vocabulary.Role`).
* ``api_token`` — API tokens: only the SHA-256 of each token, and whose it is.

Timestamps are timezone-naive UTC ``datetime`` values everywhere (SQLite has no time zones).
Enumerations are stored as their string values.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

__all__ = [
    "Account",
    "AccountOrg",
    "AccountRole",
    "ApiToken",
    "CaseRun",
    "EventRow",
    "ImportedLog",
    "OutboxRow",
    "PublishedVersion",
    "SimulationRun",
    "StoreMeta",
    "WorkItemRow",
    "metadata",
]

metadata = SQLModel.metadata

_NAIVE = sa.DateTime(timezone=False)
"""Naive UTC timestamps (SQLModel would otherwise insist on time zones)."""


class PublishedVersion(SQLModel, table=True):
    """A process version as published: immutable, content-addressed, never updated."""

    __tablename__ = "published_version"
    __table_args__ = (sa.UniqueConstraint("process", "version", name="uq_published_version"),)

    id: int | None = Field(default=None, primary_key=True)
    process: str = Field(max_length=64)
    version: int
    content_hash: str = Field(max_length=64)
    canonical: str = Field(sa_type=sa.Text)
    """``Version.canonical()``: sorted-key JSON, read back with ``Version.model_validate_json``."""
    outside_lanes: str = Field(default="", max_length=1000)
    """Comma-separated lanes of this version that are outside parties, as published."""
    published_at: dt.datetime = Field(sa_type=_NAIVE)


class CaseRun(SQLModel, table=True):
    """One case going through one version."""

    __tablename__ = "case_run"

    id: str = Field(primary_key=True, max_length=64)
    ref_key: str | None = Field(default=None, max_length=64, index=True)
    """HMAC-SHA256 (hex) of the staff's case reference; NULL for simulated runs."""
    process: str = Field(max_length=64, index=True)
    version: int
    content_hash: str = Field(max_length=64)
    mode: str = Field(max_length=16, index=True)
    status: str = Field(max_length=16, index=True)
    started_at: dt.datetime = Field(sa_type=_NAIVE)
    finished_at: dt.datetime | None = Field(default=None, sa_type=_NAIVE)
    row_version: int = 1
    """Raised by one on every command; a command that read another value loses (conflict)."""
    last_seq: int = 0
    arrivals: str = Field(default="[]", max_length=4000)
    """JSON of the branches waiting at joins (``CaseState.arrivals``)."""
    simulation_id: str | None = Field(default=None, max_length=64, index=True)


class WorkItemRow(SQLModel, table=True):
    """One step instance of a case."""

    __tablename__ = "work_item"
    __table_args__ = (sa.Index("ix_work_item_status", "status"),)

    case_id: str = Field(foreign_key="case_run.id", primary_key=True, max_length=64)
    number: int = Field(primary_key=True)
    step: str = Field(max_length=64)
    status: str = Field(max_length=16)
    ready_at: dt.datetime = Field(sa_type=_NAIVE)
    started_at: dt.datetime | None = Field(default=None, sa_type=_NAIVE)
    done_at: dt.datetime | None = Field(default=None, sa_type=_NAIVE)
    actor: str | None = Field(default=None, max_length=200)
    org: str | None = Field(default=None, max_length=64)
    outcome: str | None = Field(default=None, max_length=64)
    touch_minutes: float | None = None
    escalated: bool = False


class EventRow(SQLModel, table=True):
    """One event of the append-only log (never updated, never deleted)."""

    __tablename__ = "event"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "seq", name="uq_event_case_seq"),
        sa.Index("ix_event_process_version_mode", "process", "version", "mode"),
        sa.Index(  # partial: live events (no simulation) pay nothing for it
            "ix_event_simulation_id",
            "simulation_id",
            sqlite_where=sa.text("simulation_id IS NOT NULL"),
            postgresql_where=sa.text("simulation_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(max_length=64)
    seq: int
    kind: str = Field(max_length=32)
    at: dt.datetime = Field(sa_type=_NAIVE)
    step: str | None = Field(default=None, max_length=64)
    item: int | None = None
    lane: str | None = Field(default=None, max_length=64)
    actor: str | None = Field(default=None, max_length=200)
    org: str | None = Field(default=None, max_length=64)
    outcome: str | None = Field(default=None, max_length=64)
    touch_minutes: float | None = None
    transactions: int | None = None
    from_step: str | None = Field(default=None, max_length=64)
    to_step: str | None = Field(default=None, max_length=64)
    from_lane: str | None = Field(default=None, max_length=64)
    to_lane: str | None = Field(default=None, max_length=64)
    channel: str | None = Field(default=None, max_length=16)
    detail: str | None = Field(default=None, max_length=1000)
    process: str = Field(max_length=64)
    version: int
    mode: str = Field(max_length=16)
    simulation_id: str | None = Field(default=None, max_length=64)
    entry_hash: str | None = Field(default=None, max_length=64)
    """SHA-256 (hex) chaining a live case's events: this event's fields and the hash of the
    case's previous event (:mod:`boflyt.engine.store.audit`); none for simulated or imported."""


class SimulationRun(SQLModel, table=True):
    """One simulated cohort of cases: the run set ``simulated:<number>``.

    Its cases, work items and events carry its ``id`` in their ``simulation_id`` column; deleting
    the run set (``boflyt runs delete``, or the demo replacing its own) deletes them all.
    """

    __tablename__ = "simulation_run"
    __table_args__ = (sa.UniqueConstraint("number", name="uq_simulation_run_number"),)

    id: str = Field(primary_key=True, max_length=64)
    process: str = Field(max_length=64)
    version: int
    scenario: str = Field(max_length=200)
    seed: int
    cases: int
    created_at: dt.datetime = Field(sa_type=_NAIVE)
    content_hash: str = Field(max_length=64)
    number: int | None = Field(default=None, nullable=False)
    """The short run number people use (``simulated:3``): given when stored, never reused."""
    origin: str = Field(default="simulate", max_length=16)
    """``simulate`` or ``demo`` (:class:`boflyt.models.runset.SimulationOrigin`)."""


class ImportedLog(SQLModel, table=True):
    """One imported event log: the run set ``imported:<name>`` (``boflyt import``).

    Its cases, work items and events carry ``name`` in their ``simulation_id`` column and mode
    ``imported``; deleting the run set deletes this row with them. Nothing here names a person
    or a case: the file's name (not its path) and digest, counts, and the activities' own names.
    """

    __tablename__ = "imported_log"

    name: str = Field(primary_key=True, max_length=64)
    process: str = Field(max_length=64)
    version: int
    """0 when the log was imported without ``--process``: the log as logged."""
    source: str = Field(max_length=255)
    """The file's name, without its folder."""
    sha256: str = Field(max_length=64)
    events: int
    """Events of the source log read (every lifecycle transition)."""
    cases: int
    start_share: float
    """Share of completed steps with a paired start event (0: touch time unknown)."""
    activities: str = Field(sa_type=sa.Text)
    """JSON: step id → the activity's name in the log."""
    organisation: str = Field(max_length=64)
    """The log attribute (or column) the lanes came from, e.g. ``org:group``."""
    imported_at: dt.datetime = Field(sa_type=_NAIVE)


class StoreMeta(SQLModel, table=True):
    """Facts about the store itself, one row per name (e.g. the reference key's fingerprint)."""

    __tablename__ = "store_meta"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=256)


class Account(SQLModel, table=True):
    """One person who may use the store; disabled accounts are kept (never deleted)."""

    __tablename__ = "account"

    username: str = Field(primary_key=True, max_length=64)
    password_hash: str = Field(max_length=200)
    """Argon2id in its encoded form (``$argon2id$v=19$…``); never the password."""
    active: bool = True
    created_at: dt.datetime = Field(sa_type=_NAIVE)
    disabled_at: dt.datetime | None = Field(default=None, sa_type=_NAIVE)


class AccountOrg(SQLModel, table=True):
    """One organisation (a lane id of the library) an account belongs to."""

    __tablename__ = "account_org"

    username: str = Field(foreign_key="account.username", primary_key=True, max_length=64)
    org: str = Field(primary_key=True, max_length=64)


class AccountRole(SQLModel, table=True):
    """One role an account has (:class:`boflyt.models.vocabulary.Role`, stored as its value)."""

    __tablename__ = "account_role"

    username: str = Field(foreign_key="account.username", primary_key=True, max_length=64)
    role: str = Field(primary_key=True, max_length=32)


class ApiToken(SQLModel, table=True):
    """An API token of an account: only its SHA-256 (hex) is kept, never the token."""

    __tablename__ = "api_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    username: str = Field(foreign_key="account.username", index=True, max_length=64)
    created_at: dt.datetime = Field(sa_type=_NAIVE)


class AuditEntry(SQLModel, table=True):
    """One entry of the append-only, hash-chained audit log: who did or read what, when, from where.

    Never a case reference, password or token; ``entry_hash`` covers the entry's fields and the
    previous entry's hash (:mod:`boflyt.engine.store.audit`).
    """

    __tablename__ = "audit_entry"
    __table_args__ = (sa.Index("ix_audit_entry_case_id", "case_id"),)

    seq: int = Field(primary_key=True)
    at: dt.datetime = Field(sa_type=_NAIVE)
    actor: str = Field(max_length=200)
    org: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=32)
    case_id: str | None = Field(default=None, max_length=64)
    detail: str | None = Field(default=None, max_length=1000)
    address: str | None = Field(default=None, max_length=64)
    prev_hash: str = Field(max_length=64)
    entry_hash: str = Field(max_length=64)


class EndedSession(SQLModel, table=True):
    """A web session ended by logging out: only the SHA-256 (hex) of its nonce, so the signed
    cookie of an ended session is refused by every worker even before it expires."""

    __tablename__ = "ended_session"

    nonce_hash: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=64)
    ended_at: dt.datetime = Field(sa_type=_NAIVE)


class OutboxRow(SQLModel, table=True):
    """One e-mail notice waiting, being sent or sent (:mod:`boflyt.engine.store.outbox`).

    Written in the transaction of the event that caused it: a reminder before a deadline, an
    escalation after it, a handoff to an organisation that asked for them. ``dedupe_key`` is
    unique (one reminder and one escalation per missed deadline); ``message_id`` is fixed when
    the row is written, so every attempt sends the same Message-ID. No personal data: the case
    id, process, step and due date, never a reference, name or note.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
        sa.Index("ix_outbox_status", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    """:class:`boflyt.models.vocabulary.NoticeKind`: reminder, escalation or handoff."""
    org: str = Field(max_length=64)
    """The organisation (lane id) it goes to; its address is the workspace's to say."""
    case_id: str = Field(max_length=64)
    process: str = Field(max_length=64)
    version: int
    step: str | None = Field(default=None, max_length=64)
    due_at: dt.datetime | None = Field(default=None, sa_type=_NAIVE)
    created_at: dt.datetime = Field(sa_type=_NAIVE)
    status: str = Field(max_length=16)
    """:class:`boflyt.models.vocabulary.OutboxStatus`."""
    attempts: int
    next_attempt_at: dt.datetime = Field(sa_type=_NAIVE)
    claim_token: str | None = Field(default=None, max_length=36)
    claimed_at: dt.datetime | None = Field(default=None, sa_type=_NAIVE)
    message_id: str = Field(max_length=255)
    sent_at: dt.datetime | None = Field(default=None, sa_type=_NAIVE)
    last_error: str | None = Field(default=None, max_length=500)
