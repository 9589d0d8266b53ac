"""Migrating running live cases between two published versions of a process, in the store.

:func:`plan_migrations` reads the running live cases of the source version (or the cases named)
and plans each with :func:`boflyt.engine.case.migration.plan_case`; it writes nothing.
:func:`apply_migrations` moves each case that is not refused in its own write transaction, the
way every case command runs (:mod:`boflyt.engine.store.commands`): load the case, let the pure
rule decide (:func:`~boflyt.engine.case.migration.migrate_case`), compare-and-set its
``row_version``, write its changed work items, its ``case_migrated`` event (chained to the
case's previous event) and the audit entry, and commit, all or nothing. The case row then names
the target version and content hash; the events before the migration keep the version they
were recorded on, the migration event and every later one carry the target's.

Only an active account with the process owner role may migrate
(:data:`~boflyt.models.vocabulary.Role.PROCESS_OWNER`); the command line and the web app both
call :func:`apply_migrations`, so the check is made here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from boflyt.engine.case import bounds
from boflyt.engine.case.flow import Flow, compile_flow
from boflyt.engine.case.migration import (
    CasePlan,
    CaseResult,
    check_mapping,
    migrate_case,
    plan_case,
)
from boflyt.engine.case.state import CaseState, WorkItem
from boflyt.engine.store import accounts, audit
from boflyt.engine.store.commands import wall_clock
from boflyt.engine.store.db import read_scope, write_scope
from boflyt.engine.store.statements import (
    CASE_TABLE,
    ITEM_TABLE,
    last_event,
    load_case,
    published_flow,
    published_hash,
    translate_errors,
    utc,
    write_events,
)
from boflyt.engine.store.versions import outside_lanes, publish_version
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.errors import (
    AccessError,
    BoflytError,
    CommandError,
    ConflictError,
    NotFoundError,
)
from boflyt.models.vocabulary import AuditAction, Mode, Role, RunStatus, VersionStatus

__all__ = ["apply_migrations", "check_owner", "plan_migrations"]

Clock = Callable[[], dt.datetime]


def plan_migrations(
    engine: Engine,
    *,
    source: Version,
    target: Version,
    case_ids: Sequence[str] | None = None,
    mapping: Mapping[str, str] | None = None,
    lanes: LaneCatalog | None = None,
) -> list[CasePlan]:
    """The plan of each running live case of ``source`` (or ``case_ids``) moving to ``target``.

    Without ``case_ids``, every running live case of ``source``, oldest first; a case named in
    ``case_ids`` that is not one (finished, simulated, on another version, unknown) gets a plan
    that is refused with the reason. Writes nothing.

    Raises:
        CommandError: ``target`` is not published or is another process, the two are the same
            version, or ``mapping`` names a step the versions lack
            (:func:`~boflyt.engine.case.migration.check_mapping`).
    """
    with read_scope(engine) as conn:
        source_flow, target_flow = _flows(conn, source, target, lanes)
        check_mapping(source_flow, target_flow, mapping)
        ids = list(case_ids) if case_ids is not None else _running(conn, source)
        plans = []
        for case_id in dict.fromkeys(ids):
            state, refused = _candidate(conn, case_id)
            if state is None:
                plans.append(CasePlan(case_id, (), (), (), refused))
                continue
            plan = plan_case(state, source_flow, target_flow, mapping)
            if refused is not None and plan.refused is None:
                plan = CasePlan(plan.case_id, plan.now, plan.after, (), refused)
            plans.append(plan)
    return plans


def apply_migrations(
    engine: Engine,
    *,
    source: Version,
    target: Version,
    case_ids: Sequence[str] | None = None,
    mapping: Mapping[str, str] | None = None,
    actor: str,
    address: str | None = None,
    clock: Clock = wall_clock,
    lanes: LaneCatalog | None = None,
) -> list[CaseResult]:
    """Move each planned case that is not refused to ``target``, one transaction per case.

    ``actor`` must be an active process owner; ``address`` (the web client's; None from the
    command line) goes into each audit entry. ``target`` is published first if this store does
    not have it yet. Each case is planned again inside its own transaction, so a case that
    changed since the plan was shown moves as it stands then, or is refused; a case that fails
    (refused, changed concurrently, a store error) is left untouched and its result says why,
    and the others still move. Returns one result per planned case, in plan order.

    Raises:
        AccessError: ``actor`` is not an active account with the process owner role.
        CommandError: as :func:`plan_migrations`.
    """
    check_owner(engine, actor)
    _check_target(source, target)
    publish_version(engine, target, lanes=lanes, now=utc(clock()))
    plans = plan_migrations(engine, source=source, target=target, case_ids=case_ids,
                            mapping=mapping, lanes=lanes)  # fmt: skip
    results = []
    for plan in plans:
        if plan.refused is not None:
            results.append(CaseResult(plan.case_id, False, plan.refused))
            continue
        try:
            _migrate_one(engine, plan.case_id, source, target, mapping, actor, address, clock)
        except BoflytError as exc:  # the case stays as it was; the next one is tried
            results.append(CaseResult(plan.case_id, False, str(exc)))
        else:
            results.append(CaseResult(plan.case_id, True))
    return results


def check_owner(engine: Engine, actor: str) -> None:
    """``actor`` is an active account with the process owner role.

    Raises:
        AccessError: no such account, disabled, or without the role; the message says how to
            get one.
        CommandError: ``actor`` is empty, too long or holds a control character.
    """
    bounds.check_text(actor, what="actor name", limit=bounds.MAX_ACTOR)
    account = accounts.get_account(engine, actor)
    shown = bounds.visible(actor, limit=bounds.MAX_ID)
    if account is None or not account.may(Role.PROCESS_OWNER):
        why = "is not an account of this store" if account is None else (
            "is disabled" if not account.active else "lacks the role process_owner"
        )  # fmt: skip
        raise AccessError(
            f"'{shown}' {why}; only an active process owner may migrate cases "
            f"('boflyt user add NAME --org ORG --role process_owner' makes one)"
        )


def _check_target(source: Version, target: Version) -> None:
    if target.process != source.process:
        raise CommandError(
            f"{target.key} is another process than {source.key}; cases move between versions "
            "of one process"
        )
    if target.version == source.version:
        raise CommandError(f"{source.key} is both the source and the target; name two versions")
    if target.status is not VersionStatus.PUBLISHED:
        raise CommandError(
            f"{target.key} is {target.status.value}; cases move only to a published version "
            "(publish it first)"
        )


def _flows(
    conn: Connection, source: Version, target: Version, lanes: LaneCatalog | None
) -> tuple[Flow, Flow]:
    """The stored source flow and the target's (stored, or compiled when not yet published)."""
    _check_target(source, target)
    stored = published_hash(conn, source.process, source.version)
    if stored is None:  # no case runs on it: its flow serves to check the mapping
        source_flow = compile_flow(source, outside_lanes(source, lanes))
    else:
        source_flow = published_flow(conn, source.process, source.version, stored)
    target_hash = compile_flow(target).content_hash
    if published_hash(conn, target.process, target.version) == target_hash:
        return source_flow, published_flow(conn, target.process, target.version, target_hash)
    return source_flow, compile_flow(target, outside_lanes(target, lanes))


def _running(conn: Connection, source: Version) -> list[str]:
    """The ids of the running live cases of ``source``, oldest first."""
    query = (
        sa.select(CASE_TABLE.c.id)
        .where(
            CASE_TABLE.c.process == source.process,
            CASE_TABLE.c.version == source.version,
            CASE_TABLE.c.status == RunStatus.RUNNING.value,
            CASE_TABLE.c.mode == Mode.LIVE.value,
            CASE_TABLE.c.simulation_id.is_(None),
        )
        .order_by(CASE_TABLE.c.started_at, CASE_TABLE.c.id)
    )
    return list(conn.execute(query).scalars())


def _candidate(conn: Connection, case_id: str) -> tuple[CaseState | None, str | None]:
    """The case's state, and why it is no live case to move (None if it is one)."""
    try:
        state, _, mode, simulation_id = load_case(conn, case_id)
    except NotFoundError:
        return None, "no such case in this store"
    if mode is not Mode.LIVE or simulation_id is not None:
        return state, f"the case is {mode.value}, not live; only live cases move"
    return state, None


def _migrate_one(
    engine: Engine,
    case_id: str,
    source: Version,
    target: Version,
    mapping: Mapping[str, str] | None,
    actor: str,
    address: str | None,
    clock: Clock,
) -> None:
    """Move one case in one write transaction, its audit entry last."""

    def run() -> None:
        with write_scope(engine) as conn:
            state, row_version, mode, simulation_id = load_case(conn, case_id)
            if mode is not Mode.LIVE or simulation_id is not None:
                raise CommandError(f"case {case_id} is {mode.value}; only live cases move")
            source_flow = published_flow(conn, state.process, state.version, state.content_hash)
            if source_flow.version.key != source.key:
                raise CommandError(f"case {case_id} runs on {source_flow.version.key}, "
                                   f"not {source.key}")  # fmt: skip
            target_hash = compile_flow(target).content_hash
            target_flow = published_flow(conn, target.process, target.version, target_hash)
            present = utc(clock())
            last, last_hash = last_event(conn, case_id, state.seq)
            bounds.check_time(present, last=last, present=present)
            moved, events = migrate_case(state, source_flow, target_flow, mapping, actor=actor,
                                         now=present)  # fmt: skip
            _compare_and_set(conn, moved, row_version)
            _write_items(conn, case_id, state.items, moved.items)
            hashes = audit.chain_events(events, moved, mode, None, last_hash or audit.GENESIS)
            write_events(conn, events, moved, mode, None, hashes)
            audit.record_in(conn, actor=actor, action=AuditAction.CASE_MIGRATED, now=present,
                            org=None, case_id=case_id, detail=events[0].detail,
                            address=address)  # fmt: skip

    translate_errors(run)


_ITEM_COLUMNS = ("step", "status", "ready_at", "started_at", "done_at", "actor", "org", "outcome",
                 "touch_minutes", "escalated")  # fmt: skip
_MOVE_CASE = (
    CASE_TABLE.update()
    .where(CASE_TABLE.c.id == sa.bindparam("key_id"),
           CASE_TABLE.c.row_version == sa.bindparam("key_read"))
    .values(row_version=sa.bindparam("new_row_version"), version=sa.bindparam("new_version"),
            content_hash=sa.bindparam("new_hash"), last_seq=sa.bindparam("new_seq"),
            arrivals=sa.bindparam("new_arrivals"))
)  # fmt: skip
"""Point a case at another version, unless its ``row_version`` moved since it was read."""
_MOVE_ITEM = (
    ITEM_TABLE.update()
    .where(ITEM_TABLE.c.case_id == sa.bindparam("key_case"),
           ITEM_TABLE.c.number == sa.bindparam("key_number"))
    .values({name: sa.bindparam(f"new_{name}") for name in _ITEM_COLUMNS})
)  # fmt: skip
"""Rewrite one work item whole: step, status and times may all change."""


def _compare_and_set(conn: Connection, state: CaseState, row_version: int) -> None:
    """Point the case at its new version, raising ``row_version`` by one, unless someone else
    changed the case since it was read: then :class:`ConflictError`, and nothing is written."""
    values = {"key_id": state.case_id, "key_read": row_version, "new_row_version": row_version + 1,
              "new_version": state.version, "new_hash": state.content_hash,
              "new_seq": state.seq, "new_arrivals": json.dumps(state.arrivals)}  # fmt: skip
    if conn.execute(_MOVE_CASE, values).rowcount != 1:
        raise ConflictError(f"case {state.case_id} was changed by someone else; reload and retry")


def _write_items(
    conn: Connection, case_id: str, old: tuple[WorkItem, ...], new: tuple[WorkItem, ...]
) -> None:
    """Rewrite the work items the migration changed (their step, status and times may all
    change; the shared upsert of the commands leaves step and ready time alone)."""
    rows: list[dict[str, Any]] = [
        {"key_case": case_id, "key_number": item.number,
         **{f"new_{name}": getattr(item, name) for name in _ITEM_COLUMNS},
         "new_status": item.status.value}
        for item, before in zip(new, old, strict=True)
        if item is not before
    ]  # fmt: skip
    if rows:
        conn.execute(_MOVE_ITEM, rows)
