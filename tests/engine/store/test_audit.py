"""The tamper-evident record: audit entries written with each change, one chain under
concurrency, and tampering with events and audit entries named by ``verify``."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boflyt.engine.store import accounts, audit
from boflyt.engine.store import commands as store
from boflyt.engine.store.audit import Tamper
from boflyt.engine.store.db import make_engine, open_schema, read_scope, write_scope
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.errors import AccessError, ConflictError
from boflyt.models.vocabulary import AuditAction, Mode, Role
from tests.engine.store.test_migrations import _baseline_store, _fill
from tests.factories import linear_version

MONDAY = dt.datetime(2025, 1, 6, 9, 0)
LATER = dt.datetime(2025, 1, 6, 12, 0)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def key(tmp_path: Path) -> ReferenceKey:
    return ReferenceKey.load_or_create(tmp_path / "keys" / "reference.key")


def _start(engine: Engine, key: ReferenceKey, ref: str = "A-1", **kw: object) -> str:
    state = store.start_case(engine, version=linear_version(), ref=ref, key=key, actor="ann",
                             org="housing_office", now=MONDAY, **kw)  # type: ignore[arg-type]  # fmt: skip
    return state.case_id


def _run_case(engine: Engine, key: ReferenceKey, ref: str = "A-1") -> str:
    """A case started, its first step begun and completed, from an address."""
    case_id = _start(engine, key, ref, address="10.0.0.7")
    given = {"case_id": case_id, "actor": "ann", "org": "housing_office", "address": "10.0.0.7"}
    store.begin_step(engine, step="a", now=MONDAY + dt.timedelta(hours=1), **given)  # type: ignore[arg-type]
    store.complete_step(engine, step="a", now=LATER, touch_minutes=20, note="private words",
                        **given)  # type: ignore[arg-type]  # fmt: skip
    return case_id


def _sql(engine: Engine, sql: str, **params: object) -> list[sa.Row[object]]:
    with write_scope(engine) as conn:
        result = conn.execute(sa.text(sql), params)
        return list(result) if result.returns_rows else []


def _first(engine: Engine) -> audit.Problem:
    found = audit.verify(engine)
    assert not found.intact
    return found.problems[0]


# --------------------------------------------------------------------------- writing


def test_each_case_command_writes_its_entry_with_who_what_and_where(any_engine, key):
    case_id = _run_case(any_engine, key)
    store.cancel_case(any_engine, case_id=case_id, actor="bo", org="nav", now=LATER,
                      reason="moved away")  # fmt: skip
    log = audit.case_log(any_engine, case_id)
    assert [(e.action, e.actor, e.org, e.detail, e.address) for e in log] == [
        (AuditAction.CASE_STARTED, "ann", "housing_office", "test_process@v1", "10.0.0.7"),
        (AuditAction.STEP_BEGUN, "ann", "housing_office", "a", "10.0.0.7"),
        (AuditAction.STEP_COMPLETED, "ann", "housing_office", "a", "10.0.0.7"),
        (AuditAction.CASE_CANCELLED, "bo", "nav", None, None),
    ]
    assert [e.seq for e in log] == [1, 2, 3, 4]
    texts = " ".join(str(e) for e in log)
    assert "A-1" not in texts and "private words" not in texts and "moved away" not in texts
    result = audit.verify(any_engine)
    assert result.intact, result.problems
    assert (result.entries, result.cases) == (4, 1)


def test_a_refused_command_writes_no_entry(any_engine, key):
    case_id = _start(any_engine, key)
    with pytest.raises(AccessError):
        store.complete_step(any_engine, case_id=case_id, step="a", actor="bo", org="nav",
                            now=LATER)  # fmt: skip
    with pytest.raises(ConflictError):
        _start(any_engine, key)  # a running case has this reference already
    assert [e.action for e in audit.case_log(any_engine, case_id)] == [AuditAction.CASE_STARTED]
    assert audit.verify(any_engine).entries == 1


def test_an_escalation_is_recorded_as_the_system(any_engine, key):
    case_id = _start(any_engine, key)
    assert store.escalate_overdue(any_engine, now=MONDAY + dt.timedelta(days=7)) == 1
    entry = audit.case_log(any_engine, case_id)[-1]
    assert (entry.action, entry.actor, entry.org, entry.detail) == (
        AuditAction.STEP_ESCALATED, "system", None, "a",
    )  # fmt: skip
    assert audit.verify(any_engine).intact


def test_account_changes_are_recorded_never_with_the_password_or_token(any_engine):
    accounts.add_account(any_engine, username="kari", password=PASSWORD, orgs=["nav"],
                         roles=[Role.CASEWORKER], now=MONDAY)  # fmt: skip
    token = accounts.new_token(any_engine, "kari", now=MONDAY, actor="admin", address="::1")
    accounts.disable_account(any_engine, "kari", now=LATER)
    with pytest.raises(ConflictError):  # refused: no entry
        accounts.add_account(any_engine, username="kari", password=PASSWORD, orgs=["nav"],
                             roles=[Role.CASEWORKER], now=MONDAY)  # fmt: skip
    with read_scope(any_engine) as conn:
        rows = conn.execute(sa.text("SELECT actor, action, detail, address FROM audit_entry "
                                    "ORDER BY seq")).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [
        ("operator", "user_added", "account=kari orgs=nav roles=caseworker", None),
        ("admin", "token_issued", "account=kari", "::1"),
        ("operator", "user_disabled", "account=kari", None),
    ]
    assert token not in str(rows) and PASSWORD not in str(rows)


def test_reads_and_logins_are_recorded_by_the_engine_level_record(any_engine, key):
    case_id = _start(any_engine, key)
    entry = audit.record(any_engine, actor="kari", action=AuditAction.CASE_READ, now=LATER,
                         org="nav", case_id=case_id, address="192.0.2.1")  # fmt: skip
    audit.record(any_engine, actor="kari", action=AuditAction.LOGIN, now=LATER, address="x" * 99)
    assert entry.seq == 2
    assert audit.case_log(any_engine, case_id)[-1] == entry
    assert audit.verify(any_engine).intact  # the long address was cut before hashing


def test_simulated_and_imported_events_carry_no_chain(any_engine, key):
    case_id = _start(any_engine, key, mode=Mode.IMPORTED)
    with read_scope(any_engine) as conn:
        hashes = conn.execute(sa.text("SELECT entry_hash FROM event WHERE case_id = :c"),
                              {"c": case_id}).scalars().all()  # fmt: skip
    assert hashes and set(hashes) == {None}
    result = audit.verify(any_engine)
    assert (result.intact, result.entries, result.events) == (True, 0, 0)


@pytest.mark.timeout(120)
def test_concurrent_appends_keep_one_chain(any_engine, key):
    threads, per_thread = 8, 10

    def append(n: int) -> None:
        for i in range(per_thread):
            audit.record(any_engine, actor=f"t{n}", action=AuditAction.CASE_READ, now=LATER,
                         detail=str(i))  # fmt: skip

    workers = [threading.Thread(target=append, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    result = audit.verify(any_engine)
    assert result.intact, result.problems
    assert result.entries == threads * per_thread


# --------------------------------------------------------------------------- tampering


def test_an_edited_event_is_named(any_engine, key):
    case_id = _run_case(any_engine, key)
    _sql(any_engine, "UPDATE event SET touch_minutes = 5 WHERE case_id = :c AND seq = 5",
         c=case_id)  # fmt: skip
    problem = _first(any_engine)
    assert (problem.table, problem.kind, problem.case_id, problem.seq) == (
        "event", Tamper.CHANGED, case_id, 5,
    )  # fmt: skip
    assert str(problem) == f"event of case {case_id} seq 5: changed (its fields no longer " \
        "give its hash)"  # fmt: skip


def test_a_deleted_event_in_the_middle_and_at_the_end_are_named(any_engine, key):
    case_id = _run_case(any_engine, key)
    _sql(any_engine, "DELETE FROM event WHERE case_id = :c AND seq = 2", c=case_id)
    problem = _first(any_engine)
    assert (problem.kind, problem.seq) == (Tamper.DELETED, 2)
    assert "seq 2: deleted (seq 3 follows seq 1)" in str(problem)
    other = _run_case(any_engine, key, ref="B-2")
    last = _sql(any_engine, "SELECT max(seq) FROM event WHERE case_id = :c", c=other)[0][0]
    _sql(any_engine, "DELETE FROM event WHERE case_id = :c AND seq = :s", c=other, s=last)
    problems = audit.verify(any_engine).problems
    tail = next(p for p in problems if p.case_id == other)
    assert (tail.kind, tail.seq) == (Tamper.DELETED, last)
    assert f"the case's last event is seq {last}, the log ends at seq {last - 1}" in str(tail)


def test_an_inserted_event_is_named(any_engine, key):
    case_id = _run_case(any_engine, key)
    last = _sql(any_engine, "SELECT max(seq) FROM event WHERE case_id = :c", c=case_id)[0][0]
    _sql(any_engine, "INSERT INTO event (case_id, seq, kind, at, process, version, mode, "
         "entry_hash) VALUES (:c, :s, 'step_completed', '2025-01-07 09:00:00', 'test_process', 1, "
         "'live', :h)", c=case_id, s=last + 1, h="f" * 64)  # fmt: skip
    problem = _first(any_engine)
    assert (problem.table, problem.kind, problem.seq) == ("event", Tamper.INSERTED, last + 1)


def test_a_whole_deleted_case_is_named_by_its_start_entry(any_engine, key):
    case_id = _run_case(any_engine, key)
    for table, column in (("event", "case_id"), ("work_item", "case_id"), ("case_run", "id")):
        _sql(any_engine, f"DELETE FROM {table} WHERE {column} = :c", c=case_id)
    problem = _first(any_engine)
    assert (problem.table, problem.kind, problem.case_id) == ("case_run", Tamper.DELETED, case_id)
    assert "audit_entry seq 1 records its start" in str(problem)


def test_a_case_made_to_look_simulated_is_named(any_engine, key):
    case_id = _run_case(any_engine, key)
    _sql(any_engine, "UPDATE event SET mode = 'simulated' WHERE case_id = :c AND seq = 3",
         c=case_id)  # fmt: skip
    assert (_first(any_engine).kind, _first(any_engine).seq) == (Tamper.DELETED, 3)


def test_edited_inserted_and_deleted_audit_entries_are_named(any_engine, key):
    for n in range(3):
        _run_case(any_engine, key, ref=f"R-{n}")  # 9 entries
    _sql(any_engine, "UPDATE audit_entry SET actor = 'mallory' WHERE seq = 2")
    _sql(any_engine, "DELETE FROM audit_entry WHERE seq IN (5, 6)")
    _sql(any_engine, "INSERT INTO audit_entry (seq, at, actor, action, prev_hash, entry_hash) "
         "VALUES (10, '2025-01-07 09:00:00', 'eve', 'case_read', :h, :h)", h="e" * 64)  # fmt: skip
    problems = audit.verify(any_engine).problems
    assert [(p.table, p.kind, p.seq) for p in problems] == [
        ("audit_entry", Tamper.CHANGED, 2),
        ("audit_entry", Tamper.DELETED, 5),
        ("audit_entry", Tamper.INSERTED, 10),
    ]
    assert [str(p) for p in problems] == [
        "audit_entry seq 2: changed (its fields no longer give its hash)",
        "audit_entry seq 5-6: deleted (seq 7 follows seq 4)",
        "audit_entry seq 10: inserted (it does not follow the entry before it)",
    ]


def test_tampering_with_the_sqlite_file_itself_is_named(tmp_path, key):
    path = tmp_path / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    open_schema(engine)
    case_id = _run_case(engine, key)
    engine.dispose()
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE event SET actor = 'bo' WHERE case_id = ? AND seq = 4", (case_id,))
    engine = make_engine(f"sqlite:///{path}")
    assert (_first(engine).table, _first(engine).seq) == ("event", 4)
    engine.dispose()


# --------------------------------------------------------------------------- upgrading


def test_an_upgraded_baseline_store_verifies_clean(empty_store_url, tmp_path):
    engine = _baseline_store(empty_store_url)
    case_ids = _fill(engine, tmp_path)
    open_schema(engine, upgrade=True)
    result = audit.verify(engine)
    assert result.intact, result.problems
    assert (result.entries, result.cases) == (0, len(case_ids))
    assert result.events > len(case_ids)
    given = {"case_id": case_ids[1], "actor": "ann", "org": "housing_office"}
    store.complete_step(engine, step="a", now=LATER, **given)  # type: ignore[arg-type]
    assert audit.verify(engine).intact  # the chain goes on from the backfilled hashes
    engine.dispose()
