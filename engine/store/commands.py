"""The case store: one transaction per command, optimistic locking, escalation.

Each command runs in one write transaction (``BEGIN IMMEDIATE`` on SQLite): load the case
(its row, work items, last event number), let :func:`boflyt.engine.case.decide.decide` decide, then
compare-and-set ``row_version`` (``UPDATE … WHERE id = :id AND row_version = :read``); a
rowcount other than 1 means someone else changed the case in between, and the command fails
with :class:`ConflictError` having changed nothing. The new state, work items and events are
written in that same transaction, so they commit together or not at all. On SQLite the
transaction runs on the driver's own connection, 7 statements (:func:`_sqlite_command`). On
PostgreSQL a command is two statements instead, each its own transaction: one read, and one
write that does all of the above through the compare-and-set's row (:func:`_pg_command`; two
round trips: the pool pings only connections idle a while).

A case is pinned to the version it started on: the version's canonical JSON is stored in
``published_version`` and later commands rebuild it from there, whatever the YAML says now.
Case references are stored only as keyed pseudonyms (:mod:`boflyt.engine.store.pseudonym`).

Every command checks its input against :mod:`boflyt.engine.case.bounds` before it writes anything
(organisation, time, minutes, names and texts), so a refused command leaves the store as it was.
The present time for those checks comes from ``clock`` (the wall clock unless a caller passes
one); the time an event is dated with is the command's ``now``.

This module is the store's one import: it re-exports the reads (:mod:`boflyt.engine.store.queries`)
and
the bulk event-log paths (:mod:`boflyt.engine.store.eventlog`); the SQL itself is in
:mod:`boflyt.engine.store.statements`.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NotRequired, TypedDict, Unpack

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from boflyt.engine.case import bounds
from boflyt.engine.case.decide import (
    BeginStep,
    CancelCase,
    CaseState,
    CompleteStep,
    Escalate,
    Flow,
    StartCase,
    compile_flow,
    decide,
    overdue_items,
)
from boflyt.engine.store import audit, outbox
from boflyt.engine.store.db import SqliteTransaction, read_scope, write_scope
from boflyt.engine.store.eventlog import append_frame, append_simulated, event_frame
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.engine.store.queries import (
    CaseSummary,
    InboxEntry,
    case_flow,
    case_timeline,
    find_case_by_ref,
    get_case,
    list_cases,
    resolve_case_id,
)
from boflyt.engine.store.queries import inbox as _inbox
from boflyt.engine.store.statements import (
    AUDIT_TABLE,
    CASE_TABLE,
    ITEM_TABLE,
    PG_AUDITED_COMMAND,
    PG_COMMAND,
    PG_LOAD,
    SQLITE_LOAD,
    SqliteTexts,
    pg_command_params,
    pg_json,
    pg_loaded,
    published_flow,
    sqlite_loaded,
    sqlite_write,
    stored_flow,
    translate_errors,
    utc,
    write_events,
    write_items,
)
from boflyt.engine.store.versions import get_version, outside_lanes, publish_version
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.errors import CommandError, ConflictError, NotFoundError
from boflyt.models.vocabulary import AuditAction, ItemStatus, Mode, RunStatus, VersionStatus

__all__ = [
    "CaseSummary",
    "CommandInput",
    "InboxEntry",
    "append_frame",
    "append_simulated",
    "begin_step",
    "cancel_case",
    "case_flow",
    "case_timeline",
    "complete_step",
    "escalate_overdue",
    "event_frame",
    "find_case_by_ref",
    "get_case",
    "get_version",
    "inbox",
    "list_cases",
    "outside_lanes",
    "publish_version",
    "resolve_case_id",
    "start_case",
    "wall_clock",
]

Clock = Callable[[], dt.datetime]


def wall_clock() -> dt.datetime:
    """The present as naive UTC: the default ``clock`` of every command."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --------------------------------------------------------------------------- commands


def start_case(
    engine: Engine,
    *,
    version: Version,
    ref: str,
    key: ReferenceKey,
    actor: str,
    org: str,
    now: dt.datetime,
    lanes: LaneCatalog | None = None,
    mode: Mode = Mode.LIVE,
    case_id: str | None = None,
    clock: Clock = wall_clock,
    address: str | None = None,
) -> CaseState:
    """Publish ``version`` if needed and start a case on it for the reference ``ref``.

    Only the keyed pseudonym of ``ref`` is stored. The start is recorded in the audit log
    (:mod:`boflyt.engine.store.audit`) in the same transaction, with ``address`` (where the
    command came from: the web client's address; None from the command line).

    Raises :class:`CommandError` when ``version`` is not published (a draft can be simulated,
    not run) or an input is out of bounds (:mod:`boflyt.engine.case.bounds`; checked before
    anything is written, the version included), :class:`AccessError` when ``org`` may not
    start a case on it, and :class:`ConflictError` when a running case of the same process
    already has this reference.
    """
    _refuse_unpublished(version)
    bounds.check_reference(ref)
    _check_person(actor, org, lanes.ids if lanes else version.lanes)
    now = utc(now)
    bounds.check_time(now, last=None, present=utc(clock()))
    start_flow = compile_flow(version, outside_lanes(version, lanes))
    bounds.check_org_may(org, bounds.start_orgs(start_flow), verb="start",
                         case=f"a case on {version.key}")  # fmt: skip
    publish_version(engine, version, lanes=lanes, now=now)
    ref_key = key.pseudonym(ref)
    command = StartCase(case_id or str(uuid.uuid4()), actor, org)

    def run() -> CaseState:
        with write_scope(engine) as conn:
            content_hash = compile_flow(version).content_hash
            flow = published_flow(conn, version.process, version.version, content_hash)
            _refuse_duplicate(conn, version.process, ref_key)
            decision = decide(flow, None, command, now=now)
            state = decision.state
            conn.execute(
                CASE_TABLE.insert().values(
                    id=state.case_id, ref_key=ref_key, process=state.process,
                    version=state.version, content_hash=state.content_hash, mode=mode.value,
                    status=state.status.value, started_at=state.started_at, row_version=1,
                    last_seq=state.seq, arrivals=json.dumps(state.arrivals),
                )
            )  # fmt: skip
            write_items(conn, state.case_id, (), state.items)
            hashes = audit.chain_events(decision.events, state, mode, None, audit.GENESIS)
            write_events(conn, decision.events, state, mode, None, hashes)
            if mode is Mode.LIVE:  # a simulated or imported run is nobody's act
                audit.record_in(conn, actor=actor, action=AuditAction.CASE_STARTED,
                                now=utc(clock()), org=org, case_id=state.case_id,
                                detail=version.key, address=address)  # fmt: skip
            return state

    return translate_errors(run)


def _refuse_unpublished(version: Version) -> None:
    if version.status is VersionStatus.DRAFT:
        raise CommandError(
            f"{version.key} is a draft; cases start only on published versions (publish it first)"
        )
    if version.status is not VersionStatus.PUBLISHED:
        raise CommandError(
            f"{version.key} is {version.status.value}; cases start only on published versions"
        )


def _refuse_duplicate(conn: Connection, process: str, ref_key: str) -> None:
    query = sa.select(CASE_TABLE.c.id).where(
        CASE_TABLE.c.ref_key == ref_key,
        CASE_TABLE.c.process == process,
        CASE_TABLE.c.status == RunStatus.RUNNING.value,
    )
    existing = conn.execute(query).scalars().first()
    if existing is not None:
        raise ConflictError(
            f"a running {process} case already has this reference: {existing}; "
            "continue that case or cancel it first"
        )


def _check_person(actor: str, org: str, known: tuple[str, ...] | None) -> None:
    """Actor name, and organisation among ``known``; with ``known`` None (no lane catalogue)
    the organisation is checked against the case's version inside the command."""
    bounds.check_text(actor, what="actor name", limit=bounds.MAX_ACTOR)
    if known is not None:
        bounds.check_known_org(org, known)
    else:
        bounds.check_text(org, what="organisation", limit=bounds.MAX_ID)


class CommandInput(TypedDict):
    """The keywords every command on a case takes: which case, who gives the command, when.

    ``lanes`` (the library's lane catalogue) names the known organisations; without it they are
    the lanes of the case's version. ``clock`` gives the present that ``now`` is checked against
    (the wall clock by default) and the audit entry is dated with; ``address`` is where the command
    came from (the web client's address; None from the command line), kept in the audit log.
    """

    case_id: str
    actor: str
    org: str
    now: dt.datetime
    lanes: NotRequired[LaneCatalog | None]
    clock: NotRequired[Clock]
    address: NotRequired[str | None]


def _person(given: CommandInput) -> tuple[str, str]:
    """The command's actor and organisation, checked (:func:`_check_person`)."""
    lanes = given.get("lanes")
    _check_person(given["actor"], given["org"], lanes.ids if lanes else None)
    return given["actor"], given["org"]


def _give(
    engine: Engine, given: CommandInput, command: BeginStep | CompleteStep | CancelCase
) -> CaseState:
    """Run ``command`` on the case ``given`` names (:func:`_command`)."""
    clock = given.get("clock", wall_clock)
    check_known = given.get("lanes") is None
    return _command(engine, given["case_id"], command, given["now"], clock, check_known,
                    given.get("address"))  # fmt: skip


def begin_step(engine: Engine, *, step: str, **given: Unpack[CommandInput]) -> CaseState:
    """Record that ``actor`` of ``org`` has begun work on the ready step ``step``.

    The other keywords are a :class:`CommandInput`; input is checked by
    :mod:`boflyt.engine.case.bounds`.
    """
    actor, org = _person(given)
    bounds.check_text(step, what="step", limit=bounds.MAX_ID)
    return _give(engine, given, BeginStep(step, actor, org))


def complete_step(
    engine: Engine,
    *,
    step: str,
    outcome: str | None = None,
    touch_minutes: float | None = None,
    note: str | None = None,
    **given: Unpack[CommandInput],
) -> CaseState:
    """Complete the open step ``step`` (with the decision's ``outcome``) and move the case on.

    ``touch_minutes`` is finite, 0 to :data:`boflyt.engine.case.bounds.MAX_TOUCH_MINUTES`;
    ``note`` (the completion event's ``detail``) at most
    :data:`boflyt.engine.case.bounds.MAX_REASON` characters on one line; the other input as for
    :func:`begin_step`.
    """
    actor, org = _person(given)
    bounds.check_text(step, what="step", limit=bounds.MAX_ID)
    if outcome is not None:
        bounds.check_text(outcome, what="outcome", limit=bounds.MAX_ID)
    if note is not None:
        bounds.check_text(note, what="note", limit=bounds.MAX_REASON)
    bounds.check_minutes(touch_minutes)
    command = CompleteStep(step, actor, org, outcome, touch_minutes, note)
    return _give(engine, given, command)


def cancel_case(
    engine: Engine, *, reason: str | None = None, **given: Unpack[CommandInput]
) -> CaseState:
    """Cancel a running case and every open work item in it.

    ``org`` must be an organisation of the case's version that is not an outside party;
    ``reason`` at most :data:`boflyt.engine.case.bounds.MAX_REASON` characters, on one line.
    """
    actor, org = _person(given)
    if reason is not None:
        bounds.check_text(reason, what="reason", limit=bounds.MAX_REASON)
    return _give(engine, given, CancelCase(actor, org, reason))


def _command(
    engine: Engine,
    case_id: str,
    command: BeginStep | CompleteStep | CancelCase | Escalate,
    now: dt.datetime,
    clock: Clock = wall_clock,
    check_known: bool = True,
    address: str | None = None,
    due: Mapping[int, dt.datetime] | None = None,
) -> CaseState:
    """Run one command in one write transaction, its audit entry last (SQLite:
    :func:`_sqlite_command`; PostgreSQL: one read and one write statement, :func:`_pg_command`);
    ``check_known``: check the organisation against the version's lanes (when no lane catalogue
    did already). The notices its events cause
    (escalations, handoffs; :func:`boflyt.engine.store.outbox.notices`, ``due`` giving due
    dates of escalated items) are queued in the same transaction."""
    now = utc(now)
    if engine.dialect.name == "sqlite":
        return translate_errors(lambda: _sqlite_command(engine, case_id, command, now, clock,
                                                        check_known, address, due))  # fmt: skip
    return translate_errors(
        lambda: _pg_command(engine, case_id, command, now, clock, check_known, address, due)
    )


def _sqlite_command(
    engine: Engine,
    case_id: str,
    command: BeginStep | CompleteStep | CancelCase | Escalate,
    now: dt.datetime,
    clock: Clock,
    check_known: bool,
    address: str | None,
    due: Mapping[int, dt.datetime] | None,
) -> CaseState:
    """:func:`_command` on SQLite: the same transaction, its statements run on the driver's
    connection (:func:`~boflyt.engine.store.statements.sqlite_write`): one read of the case,
    its work items, last event and the audit log's head, then the compare-and-set and one
    insert each of work items, events, notices (when subscribed) and the audit entry."""
    with SqliteTransaction(engine) as driver:
        row = driver.execute(SQLITE_LOAD, (case_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no case {case_id}")
        state, row_version, mode, simulation_id, last, last_hash, head = sqlite_loaded(row)
        key = (state.process, state.version)
        flow = stored_flow(engine, *key, state.content_hash,
                           lambda: driver.execute(_SQLITE_VERSION, key).fetchone())  # fmt: skip
        _check_org(flow, command, state.case_id, check_known)
        decision = decide(flow, state, command, now=now)
        present = utc(clock())
        bounds.check_time(now, last=last, present=present)
        texts = SqliteTexts()
        hashes = audit.chain_events(decision.events, decision.state, mode, simulation_id,
                                    last_hash or audit.GENESIS, texts)  # fmt: skip
        sqlite_write(driver, decision.state, row_version, state.items, decision.events, mode,
                     simulation_id, hashes, texts)  # fmt: skip
        if mode is Mode.LIVE and simulation_id is None:
            notices = outbox.notices(engine, decision.events, decision.state, due=due)
            if notices:
                outbox.enqueue_sqlite(driver, notices, now=now)
            fields = audit.entry_fields(**_audit_fields(command, decision.state, present,
                                                        address))  # fmt: skip
            audit.append_sqlite(driver, fields, head, texts)
        return decision.state


_SQLITE_VERSION = (
    "SELECT canonical, outside_lanes FROM published_version WHERE process = ? AND version = ?"
)


_AUDIT_RETRIES = 100
"""How often a PostgreSQL command appends again after its audit entry's number was taken."""


def _pg_command(
    engine: Engine,
    case_id: str,
    command: BeginStep | CompleteStep | CancelCase | Escalate,
    now: dt.datetime,
    clock: Clock,
    check_known: bool,
    address: str | None,
    due: Mapping[int, dt.datetime] | None,
) -> CaseState:
    """:func:`_command` on PostgreSQL in two statements, each its own transaction (autocommit):
    read the case (:data:`~boflyt.engine.store.statements.PG_LOAD`), decide, and write it all
    (:data:`~boflyt.engine.store.statements.PG_AUDITED_COMMAND`: case row, work items, events,
    outbox notices and audit entry), the compare-and-set on ``row_version`` guarding every
    other row it writes.

    The audit entry is numbered and hashed here after the chain's head this process last saw
    (:func:`boflyt.engine.store.audit.chain_head`); when another append took that number the
    statement fails whole (the entry's primary key), and it is written again after the head as
    it now is. The advisory lock of :func:`~boflyt.engine.store.audit.record_in` is taken in the
    statement, after the case's row, so appends in open transactions elsewhere stay ordered.
    """
    try:
        return _pg_once(engine, case_id, command, now, clock, check_known, address, due)
    except _Broken:  # the pooled connection had died (a restarted server: all of them)
        engine.dispose()  # so the pool starts anew; nothing was written: once more
        return _pg_once(engine, case_id, command, now, clock, check_known, address, due)


class _Broken(Exception):
    """The command's first statement found its connection dead (the server restarted, or
    dropped it): it read nothing and wrote nothing."""


def _pg_once(
    engine: Engine,
    case_id: str,
    command: BeginStep | CompleteStep | CancelCase | Escalate,
    now: dt.datetime,
    clock: Clock,
    check_known: bool,
    address: str | None,
    due: Mapping[int, dt.datetime] | None,
) -> CaseState:
    """One try of :func:`_pg_command`; :class:`_Broken` when its read found the connection
    dead (the pool pings only connections idle a while: :data:`.db.PG_PING_IDLE_S`)."""
    database = engine.url.render_as_string(hide_password=True)
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        try:
            try:
                driver.autocommit = True
                loaded = _pg_load(driver, case_id)
            except psycopg.OperationalError as exc:
                if not driver.broken:
                    raise
                conn.invalidate()
                raise _Broken from exc
            state, row_version, mode, simulation_id, last, last_hash = loaded
            flow = published_flow(conn, state.process, state.version, state.content_hash)
            _check_org(flow, command, state.case_id, check_known)
            decision = decide(flow, state, command, now=now)
            present = utc(clock())
            bounds.check_time(now, last=last, present=present)
            hashes = audit.chain_events(decision.events, decision.state, mode, simulation_id,
                                        last_hash or audit.GENESIS)  # fmt: skip
            live = mode is Mode.LIVE and simulation_id is None
            notices = (
                outbox.notices(engine, decision.events, decision.state, due=due) if live else []
            )
            rows = outbox.notice_rows(notices, now=now)
            params = pg_command_params(decision.state, row_version, state.items,
                                       decision.events, mode, simulation_id, hashes,
                                       rows)  # fmt: skip
            if not live:
                written = driver.execute(PG_COMMAND, params, prepare=True).fetchone()[0]
            else:
                fields = audit.entry_fields(**_audit_fields(command, decision.state, present,
                                                            address))  # fmt: skip
                written = _pg_audited(driver, database, params, fields)
        finally:
            if not driver.closed:
                driver.autocommit = False
    if written != 1:
        raise ConflictError(f"case {case_id} was changed by someone else; reload and retry")
    return decision.state


def _pg_load(driver: Any, case_id: str) -> tuple[CaseState, int, Mode, str | None, Any, str | None]:
    """The case as :data:`~boflyt.engine.store.statements.PG_LOAD` reads it, in one round trip
    (a module name, so tests can patch it); :class:`NotFoundError` if there is none."""
    row = driver.execute(PG_LOAD, {"case_id": case_id}, prepare=True).fetchone()
    if row is None:
        raise NotFoundError(f"no case {case_id}")
    return pg_loaded(row)


def _pg_audited(driver: Any, database: str, params: dict[str, Any], fields: dict[str, Any]) -> int:
    """Run the audited command statement, numbering its entry after the chain's head; 1, or 0
    when the case changed meanwhile."""
    with audit.appending(database):
        return _pg_append(driver, database, params, fields)


def _pg_append(driver: Any, database: str, params: dict[str, Any], fields: dict[str, Any]) -> int:
    for _ in range(_AUDIT_RETRIES):
        seq, prev = audit.chain_head(driver, database)
        entry = audit.chained(fields, seq + 1, prev)
        params |= {"audit": json.dumps(pg_json(entry)), "a_seq": seq + 1, "a_prev": prev,
                   "a_lock": audit.AUDIT_LOCK}  # fmt: skip
        try:
            written, follows = driver.execute(PG_AUDITED_COMMAND, params, prepare=True).fetchone()
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.table_name != AUDIT_TABLE.name:
                raise
            audit.forget_head(database)  # another append took the number: read the head again
            continue
        if not follows:  # the guess was beyond the chain (emptied, restored): nothing written
            audit.forget_head(database)
            continue
        if written == 1:
            audit.moved_head(database, seq + 1, entry["entry_hash"])
        return int(written)
    raise ConflictError("the audit log is busy (other appends kept taking its next number); retry")


_ACTIONS = {
    BeginStep: AuditAction.STEP_BEGUN,
    CompleteStep: AuditAction.STEP_COMPLETED,
    CancelCase: AuditAction.CASE_CANCELLED,
    Escalate: AuditAction.STEP_ESCALATED,
}


def _audit_fields(
    command: BeginStep | CompleteStep | CancelCase | Escalate,
    state: CaseState,
    present: dt.datetime,
    address: str | None,
) -> dict[str, Any]:
    """The command's audit entry: who, for which organisation, what (the step and outcome;
    never the note or reason, which are free text); an escalation's actor is ``system``."""
    detail: str | None
    org: str | None
    if isinstance(command, Escalate):
        steps = {item.number: item.step for item in state.items}
        actor, org = "system", None
        detail = ", ".join(steps.get(n, str(n)) for n in command.items)
    else:
        actor, org = command.actor, command.org
        detail = None if isinstance(command, CancelCase) else command.step
        if isinstance(command, CompleteStep) and command.outcome is not None:
            detail = f"{detail} -> {command.outcome}"
    return {"actor": actor, "action": _ACTIONS[type(command)], "now": present, "org": org,
            "case_id": state.case_id, "detail": detail, "address": address}  # fmt: skip


def _check_org(flow: Flow, command: object, case_id: str, check_known: bool) -> None:
    """The organisation is one of the version's lanes (when no catalogue checked it already);
    a cancelling one is not an outside party. Step access is the case core's rule."""
    if check_known and isinstance(command, BeginStep | CompleteStep | CancelCase):
        bounds.check_known_org(command.org, flow.version.lanes)
    if isinstance(command, CancelCase):
        bounds.check_org_may(command.org, bounds.cancel_orgs(flow), verb="cancel",
                             case=f"case {case_id}")  # fmt: skip


def inbox(
    engine: Engine,
    *,
    org: str | Sequence[str],
    now: dt.datetime,
    lanes: LaneCatalog | None = None,
) -> list[InboxEntry]:
    """Ready and started work in running live cases that ``org`` (one organisation, or any of
    several) may act on, each item once, oldest first; ``InboxEntry.orgs`` says which may.

    With ``lanes`` (the library's catalogue) an unknown organisation is an error with a
    suggestion, not an empty inbox.
    """
    orgs = (org,) if isinstance(org, str) else tuple(org)
    if lanes is not None:
        for one in orgs:
            bounds.check_known_org(one, lanes.ids)
    return _inbox(engine, orgs=orgs, now=now)


# --------------------------------------------------------------------------- escalation


def escalate_overdue(engine: Engine, *, now: dt.datetime, clock: Clock = wall_clock) -> int:
    """Escalate ready work items that have waited longer than their step allows.

    Each overdue item gets ``escalated = true`` and one ``step_escalated`` event, in the case's
    own command transaction; running it again changes nothing. The wait limit comes from the
    version each case is pinned to, counted in working time on the one calendar (holidays
    included: :func:`~boflyt.engine.case.overdue.overdue_items`). Returns the number of items
    escalated; a case that changes concurrently, or whose last event is later than ``now``, is
    left for the next run.

    Raises :class:`CommandError` when ``now`` lies more than a few minutes in the future.
    """
    now = utc(now)
    bounds.check_time(now, last=None, present=utc(clock()))
    query = (
        sa.select(ITEM_TABLE.c.case_id)
        .join(CASE_TABLE, CASE_TABLE.c.id == ITEM_TABLE.c.case_id)
        .where(CASE_TABLE.c.status == RunStatus.RUNNING.value, CASE_TABLE.c.mode == Mode.LIVE.value)
        .where(ITEM_TABLE.c.status == ItemStatus.READY.value, ITEM_TABLE.c.escalated.is_(False))
        .distinct()
    )
    with read_scope(engine) as conn:
        case_ids = sorted(conn.execute(query).scalars())
    escalated = 0
    for case_id in case_ids:
        state = get_case(engine, case_id)
        with read_scope(engine) as conn:
            flow = published_flow(conn, state.process, state.version, state.content_hash)
        due = overdue_items(flow, state, now=now)
        if not due:
            continue
        try:
            _command(engine, case_id, Escalate(due, "waited longer than the step allows"), now,
                     clock)  # fmt: skip
        except (ConflictError, CommandError):  # changed meanwhile, or events after `now`
            continue
        escalated += len(due)
    return escalated
