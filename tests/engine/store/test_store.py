"""The store: one transaction per command, conflicts, pinned versions, bulk paths."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import random
import sqlite3
import threading
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boflyt.engine.case.decide import StartCase, compile_flow, decide, open_items, replay
from boflyt.engine.store import commands as store
from boflyt.engine.store.db import make_engine, read_scope, write_scope
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.definition import Lane, LaneCatalog, Text
from boflyt.models.errors import AccessError, CommandError, ConflictError, NotFoundError, StoreError
from boflyt.models.events import EVENT_COLUMNS
from boflyt.models.tables import SimulationRun
from boflyt.models.vocabulary import ItemStatus, Mode, RunStatus
from tests.factories import branching_version, linear_version, make_version

MONDAY = dt.datetime(2025, 1, 6, 9, 0)
LANES = LaneCatalog(
    lanes=(
        Lane(id="housing_office", name=Text(nb="Boligkontoret", en="Housing office")),
        Lane(id="nav", name=Text(nb="NAV-kontoret", en="NAV office")),
        Lane(id="landlord", name=Text(nb="Privat utleier", en="Landlord"), outside=True),
    )
)


@pytest.fixture
def key(tmp_path: Path) -> ReferenceKey:
    return ReferenceKey.load_or_create(tmp_path / "keys" / "reference.key")


def _start(engine: Engine, key: ReferenceKey, version=None, ref: str = "A-1", **kw):
    return store.start_case(
        engine, version=version or linear_version(), ref=ref, key=key, actor="ann",
        org="housing_office", now=MONDAY, lanes=LANES, **kw,
    )  # fmt: skip


def _count(engine: Engine, sql: str, **params: object) -> int:
    with read_scope(engine) as conn:
        return int(conn.execute(sa.text(sql), params).scalar_one())


def _row_version(engine: Engine, case_id: str) -> int:
    return _count(engine, "SELECT row_version FROM case_run WHERE id = :id", id=case_id)


def test_a_case_runs_to_its_end_and_the_log_rebuilds_the_stored_state(any_engine, key):
    state = _start(any_engine, key)
    assert [(i.step, i.status) for i in state.items] == [
        ("start", ItemStatus.DONE),
        ("a", ItemStatus.READY),
    ]
    store.begin_step(any_engine, case_id=state.case_id, step="a", actor="ann",
                     org="housing_office", now=MONDAY + dt.timedelta(hours=1))  # fmt: skip
    store.complete_step(any_engine, case_id=state.case_id, step="a", actor="ann",
                        org="housing_office", now=MONDAY + dt.timedelta(hours=2),
                        touch_minutes=25)  # fmt: skip
    final = store.complete_step(any_engine, case_id=state.case_id, step="b", actor="bo",
                                org="nav", now=MONDAY + dt.timedelta(days=1))  # fmt: skip
    assert final.status is RunStatus.FINISHED
    assert store.get_case(any_engine, state.case_id) == final
    events = store.case_timeline(any_engine, state.case_id)
    assert [e.seq for e in events] == list(range(1, final.seq + 1))
    assert [e.kind.value for e in events].count("handoff") == 1
    assert replay(linear_version(), events) == final
    assert _row_version(any_engine, state.case_id) == 4  # start + 3 commands
    item_a = final.items[1]
    assert (item_a.touch_minutes, item_a.started_at) == (25, MONDAY + dt.timedelta(hours=1))


def test_a_refused_command_changes_nothing(any_engine, key):
    state = _start(any_engine, key)
    with pytest.raises(AccessError, match="allowed organisations: housing_office"):
        store.complete_step(any_engine, case_id=state.case_id, step="a", actor="bo", org="nav",
                            now=MONDAY)  # fmt: skip
    assert _row_version(any_engine, state.case_id) == 1
    assert store.get_case(any_engine, state.case_id) == state
    with pytest.raises(NotFoundError, match="no case nope"):
        store.complete_step(any_engine, case_id="nope", step="a", actor="a", org="nav",
                            now=MONDAY)  # fmt: skip


def _race(engine: Engine, case_id: str, threads: int = 8, tries: int = 25) -> list[str]:
    barrier = threading.Barrier(threads)
    results: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        barrier.wait()
        for _ in range(tries):
            try:
                store.complete_step(engine, case_id=case_id, step="a", actor=f"staff{n}",
                                    org="housing_office", now=MONDAY)  # fmt: skip
                outcome = "ok"
            except ConflictError:
                outcome = "conflict"
            except CommandError as exc:
                outcome = "closed" if "not open" in str(exc) else f"error: {exc}"
            except Exception as exc:  # anything else fails the test below
                outcome = f"error: {type(exc).__name__}: {exc}"
            with lock:
                results.append(outcome)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def test_staff_completing_the_same_step_at_once_succeed_exactly_once(any_engine, key):
    state = _start(any_engine, key)
    results = _race(any_engine, state.case_id)
    assert len(results) == 200
    assert results.count("ok") == 1
    assert [r for r in results if r not in ("ok", "conflict", "closed")] == []
    completions = _count(
        any_engine,
        "SELECT count(*) FROM event WHERE case_id = :id AND kind = 'step_completed' AND step = 'a'",
        id=state.case_id,
    )
    assert completions == 1
    assert _row_version(any_engine, state.case_id) == 2


@pytest.mark.parametrize("subscribed", [False, True], ids=["no-notices", "notices-subscribed"])
def test_a_stale_read_loses_with_a_conflict_and_changes_nothing(
    pg_engine, key, monkeypatch, subscribed
):
    """PostgreSQL reads without a lock; on SQLite BEGIN IMMEDIATE queues writers before reading.
    The one write statement writes nothing, with outbox notices subscribed or not."""
    any_engine = pg_engine
    state = _start(any_engine, key)
    loader = "_pg_load"
    real_load = getattr(store, loader)

    def load_then_let_someone_else_in(conn, case_id):
        loaded = real_load(conn, case_id)
        with any_engine.begin() as other:  # a concurrent writer bumps the row first
            other.execute(sa.text("UPDATE case_run SET row_version = row_version + 1"))
        return loaded

    monkeypatch.setattr(store, loader, load_then_let_someone_else_in)
    if subscribed:
        recipients = {"nav": store.outbox.Recipient("x@nav.invalid", handoffs=True)}
        monkeypatch.setitem(store.outbox._subscribed, any_engine, recipients)
    with pytest.raises(ConflictError, match="changed by someone else; reload and retry"):
        store.complete_step(any_engine, case_id=state.case_id, step="a", actor="ann",
                            org="housing_office", now=MONDAY)  # fmt: skip
    assert store.get_case(any_engine, state.case_id) == state


def test_a_command_runs_again_once_when_its_pooled_connections_died(pg_engine, key):
    """The pool pings only connections idle a while: a command whose read finds its connection
    dead (here every pooled one, as after a server restart) runs once more on a new one."""
    state = _start(pg_engine, key)
    admin = sa.create_engine(pg_engine.url, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        killed = conn.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()  # fmt: skip
    admin.dispose()
    assert killed >= 1
    moved = store.complete_step(pg_engine, case_id=state.case_id, step="a", actor="ann",
                                org="housing_office", now=MONDAY)  # fmt: skip
    assert moved.seq > state.seq and store.get_case(pg_engine, state.case_id) == moved


def test_a_failure_between_state_and_events_leaves_nothing_changed(any_engine, key, monkeypatch):
    """SQLite: the transaction fails after the compare-and-set, work items and events were
    written (at the audit entry). PostgreSQL writes a command in
    one statement: an event that cannot be inserted (its number taken) undoes the case row's
    update and the work items in that statement."""
    state = _start(any_engine, key)
    if any_engine.dialect.name == "postgresql":
        with any_engine.begin() as conn:  # someone wrote the next event number already
            conn.execute(sa.text(
                "INSERT INTO event (case_id, seq, kind, at, process, version, mode) "
                "SELECT id, last_seq + 1, 'note', started_at, process, version, mode "
                "FROM case_run WHERE id = :id"), {"id": state.case_id})  # fmt: skip
        failure: tuple[type[Exception], str] = (ConflictError, "collided")
    else:

        def crash(*args, **kwargs):
            raise RuntimeError("power cut")

        monkeypatch.setattr(store.audit, "append_sqlite", crash)  # after the rows, before commit
        failure = (RuntimeError, "power cut")
    events_before = _count(any_engine, "SELECT count(*) FROM event")
    audit_before = _count(any_engine, "SELECT count(*) FROM audit_entry")
    with pytest.raises(failure[0], match=failure[1]):
        store.complete_step(any_engine, case_id=state.case_id, step="a", actor="ann",
                            org="housing_office", now=MONDAY)  # fmt: skip
    assert _count(any_engine, "SELECT count(*) FROM audit_entry") == audit_before
    assert _row_version(any_engine, state.case_id) == 1
    assert store.get_case(any_engine, state.case_id) == state
    assert _count(any_engine, "SELECT count(*) FROM event") == events_before


def test_a_running_case_stays_on_its_version_when_a_new_one_is_published(any_engine, key):
    v1 = linear_version()
    state = _start(any_engine, key, v1)
    v2 = make_version(
        [{"id": "start", "kind": "start"}, {"id": "x", "kind": "task"},
         {"id": "end", "kind": "end"}],
        [{"from": "start", "to": "x"}, {"from": "x", "to": "end"}],
        version=2,
    )  # fmt: skip
    store.publish_version(any_engine, v2, lanes=LANES)
    store.publish_version(any_engine, v1, lanes=LANES)  # identical content: a no-op
    changed_v1 = make_version([{"id": "start", "kind": "start"}, {"id": "end", "kind": "end"}],
                              [{"from": "start", "to": "end"}])  # fmt: skip
    with pytest.raises(ConflictError, match="already published with content hash"):
        store.publish_version(any_engine, changed_v1)
    after = store.complete_step(any_engine, case_id=state.case_id, step="a", actor="ann",
                                org="housing_office", now=MONDAY)  # fmt: skip
    assert (after.version, after.content_hash) == (1, v1.content_hash)
    assert [i.step for i in after.items] == ["start", "a", "b"]
    assert _count(any_engine, "SELECT count(*) FROM published_version") == 2


def test_references_are_found_by_pseudonym_and_not_started_twice(any_engine, key):
    state = _start(any_engine, key, ref="01017012345")
    found = store.find_case_by_ref(any_engine, ref="010170 12345", key=key)
    assert [c.id for c in found] == [state.case_id]
    assert found[0].pseudonym == key.pseudonym("01017012345")
    with pytest.raises(ConflictError, match="already has this reference"):
        _start(any_engine, key, ref="01017012345")
    assert store.resolve_case_id(any_engine, state.case_id[:8]) == state.case_id
    with pytest.raises(CommandError, match="at least 6 characters"):
        store.resolve_case_id(any_engine, state.case_id[:4])
    store.cancel_case(any_engine, case_id=state.case_id, actor="ann", org="housing_office",
                      now=MONDAY, reason="duplicate")  # fmt: skip
    assert [c.status for c in store.list_cases(any_engine)] == [RunStatus.CANCELLED]
    assert store.list_cases(any_engine, status="running") == []


def test_the_inbox_shows_joint_and_outside_steps_with_their_waiting_time(any_engine, key):
    state = _start(any_engine, key, branching_version())
    store.complete_step(any_engine, case_id=state.case_id, step="intake", actor="ann",
                        org="housing_office", now=MONDAY)  # fmt: skip
    later = MONDAY + dt.timedelta(days=2, hours=3)
    for org in ("nav", "housing_office"):  # assess is joint
        entries = store.inbox(any_engine, org=org, now=later)
        assert [(e.step, e.waited) for e in entries] == [("assess", dt.timedelta(days=2, hours=3))]
    assert store.inbox(any_engine, org="accounting", now=later) == []
    store.complete_step(any_engine, case_id=state.case_id, step="assess", actor="bo", org="nav",
                        now=MONDAY, outcome="approve")  # fmt: skip
    steps = {e.step for e in store.inbox(any_engine, org="housing_office", now=later)}
    assert steps == {"contract"}  # in the outside lane landlord: any internal lane records it
    assert {e.step for e in store.inbox(any_engine, org="nav", now=later)} == {"contract", "pay"}
    both = store.inbox(any_engine, org=["accounting", "housing_office", "nav"], now=later)
    assert sorted((e.step, e.orgs) for e in both) == [  # each item once, with who may act
        ("contract", ("housing_office", "nav")), ("pay", ("nav",)),
    ]  # fmt: skip


def test_overdue_work_is_escalated_once(any_engine, key):
    state = _start(any_engine, key, branching_version())
    store.complete_step(any_engine, case_id=state.case_id, step="intake", actor="ann",
                        org="housing_office", now=MONDAY)  # fmt: skip
    # assess allows 3 working days (1350 working minutes) from Monday 09:00
    assert store.escalate_overdue(any_engine, now=dt.datetime(2025, 1, 9, 9, 0)) == 0
    assert store.escalate_overdue(any_engine, now=dt.datetime(2025, 1, 9, 9, 1)) == 1
    assert store.escalate_overdue(any_engine, now=dt.datetime(2025, 1, 20)) == 0
    escalated = [i for i in store.get_case(any_engine, state.case_id).items if i.escalated]
    assert [i.step for i in escalated] == ["assess"]
    kinds = [e.kind.value for e in store.case_timeline(any_engine, state.case_id)]
    assert kinds.count("step_escalated") == 1


def test_simulated_runs_go_in_bulk_and_come_out_as_one_frame(any_engine, key):
    version = linear_version()
    store.publish_version(any_engine, version)
    states, events = [], []
    for n in range(3):
        decision = decide(version, None, StartCase(f"sim-{n}", "sim", "housing_office"),
                          now=MONDAY + dt.timedelta(hours=n))  # fmt: skip
        states.append(decision.state)
        events.extend(decision.events)
    run = SimulationRun(id="s1", process=version.process, version=1, scenario="default",
                        seed=7, cases=3, created_at=MONDAY,
                        content_hash=version.content_hash)  # fmt: skip
    written = store.append_simulated(any_engine, simulation=run, states=iter(states),
                                     events=iter(events))  # fmt: skip
    assert written == len(events) == 9
    _start(any_engine, key)  # one live case beside them
    frame = store.event_frame(any_engine, simulation_id="s1")
    assert frame.columns == [*EVENT_COLUMNS, "process", "version", "mode"]
    assert frame.schema["at"] == pl.Datetime("us")
    assert frame.height == 9
    assert set(frame["mode"]) == {"simulated"}
    assert store.event_frame(any_engine, mode=Mode.LIVE).height == 3
    assert store.get_case(any_engine, "sim-2").items[1].ready_at == MONDAY + dt.timedelta(hours=2)
    assert len(store.list_cases(any_engine)) == 1  # live only by default
    assert len(store.list_cases(any_engine, mode=Mode.SIMULATED)) == 3


def test_sqlite_is_configured_for_safe_concurrent_writers(sqlite_engine):
    with read_scope(sqlite_engine) as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys", "secure_delete")
        }
    assert pragmas == {"journal_mode": "wal", "busy_timeout": 60000, "foreign_keys": 1,
                       "secure_delete": 1}  # fmt: skip
    path = sqlite_engine.url.database
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    # nothing written yet, yet the write lock is held
    with write_scope(sqlite_engine), pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("BEGIN IMMEDIATE")
    with read_scope(sqlite_engine):  # readers take no write lock
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    other.close()


def test_a_plain_postgresql_url_gets_the_psycopg_driver():
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/x")
    assert engine.url.drivername == "postgresql+psycopg"


def test_a_failed_cohort_leaves_nothing(any_engine):
    version = linear_version()
    decision = decide(version, None, StartCase("dup", "sim", "housing_office"), now=MONDAY)
    run = SimulationRun(id="s2", process=version.process, version=1, scenario="default", seed=1,
                        cases=2, created_at=MONDAY, content_hash=version.content_hash)  # fmt: skip
    with pytest.raises((ConflictError, StoreError)):
        store.append_simulated(any_engine, simulation=run, states=[decision.state] * 2,
                               events=decision.events)  # fmt: skip
    assert _count(any_engine, "SELECT count(*) FROM simulation_run") == 0
    assert _count(any_engine, "SELECT count(*) FROM case_run") == 0


def _writer(url: str, case_ids: list[str], seed: int, attempts: int) -> tuple[int, int, list[str]]:
    """One writer process: complete random open steps of shared cases (reliability C3)."""
    engine = make_engine(url)
    flow = compile_flow(branching_version(), frozenset({"landlord"}))
    rng = random.Random(seed)
    done, refused, other = 0, 0, []
    for _ in range(attempts):
        state = store.get_case(engine, rng.choice(case_ids))
        if not open_items(state):
            continue
        step = flow.steps[rng.choice(open_items(state)).step]
        outcome = (
            rng.choice(["more_info"] * 7 + ["approve"] * 2 + ["reject"]) if step.outcomes else None
        )
        try:
            org = sorted(step.allowed)[0]
            store.complete_step(engine, case_id=state.case_id, step=step.id, actor=f"p{seed}",
                                org=org, now=MONDAY, outcome=outcome)  # fmt: skip
            done += 1
        except (ConflictError, CommandError):
            refused += 1
        except Exception as exc:
            other.append(f"{type(exc).__name__}: {exc}")
    engine.dispose()
    return done, refused, other


@pytest.mark.slow
def test_four_writer_processes_lose_no_update_and_never_see_locked(sqlite_engine, key):
    cases = [_start(sqlite_engine, key, branching_version(), ref=f"r{n}").case_id
             for n in range(20)]  # fmt: skip
    url = sqlite_engine.url.render_as_string(hide_password=False)
    sqlite_engine.dispose()
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(_writer, [(url, cases, seed, 100) for seed in range(4)])
    assert [r[2] for r in results] == [[], [], [], []]  # no "database is locked", nothing else
    completed = _count(sqlite_engine, "SELECT count(*) FROM event WHERE kind = 'step_completed' "
                                      "AND actor LIKE 'p%'")  # fmt: skip
    assert completed == sum(r[0] for r in results) > 0
    for case_id in cases:
        stored = store.get_case(sqlite_engine, case_id)
        events = store.case_timeline(sqlite_engine, case_id)
        assert replay(branching_version(), events, outside=frozenset({"landlord"})) == stored
