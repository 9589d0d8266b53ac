"""Migrating running live cases in the store: one transaction per case, audited, chained."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boflyt.analysis.observed import observed_metrics
from boflyt.engine.case import bounds
from boflyt.engine.case.decide import compile_flow, open_items, replay
from boflyt.engine.case.migration import parse_detail
from boflyt.engine.definition.load import Library, load_library
from boflyt.engine.store import accounts, audit
from boflyt.engine.store import case_migration as migration
from boflyt.engine.store import commands as store
from boflyt.engine.store.db import make_engine, read_scope
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.definition import Version
from boflyt.models.errors import AccessError, CommandError
from boflyt.models.vocabulary import AuditAction, EventKind, ItemStatus, Role, RunStatus
from tests.engine.case.test_migration import SEED, SEED_MAPS, walks
from tests.factories import chain, make_version

T0 = dt.datetime(2025, 3, 3, 9, 0)
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(ROOT / "processes")


@pytest.fixture
def key(tmp_path: Path) -> ReferenceKey:
    return ReferenceKey.load_or_create(tmp_path / "keys" / "reference.key")


def _owner(engine: Engine, name: str = "olga", roles: tuple[Role, ...] = (Role.PROCESS_OWNER,)):
    accounts.add_account(engine, username=name, password="correct horse battery", orgs=["nav"],
                         roles=roles, now=T0)  # fmt: skip


def _sql(engine: Engine, sql: str, **params: object) -> list[sa.Row[object]]:
    with read_scope(engine) as conn:
        return list(conn.execute(sa.text(sql), params))


def _drive(engine, key, library: Library, version: Version, walk, ref: str) -> str:
    """A live case started on ``version`` and completed along ``walk`` through the store."""
    flow = compile_flow(version, store.outside_lanes(version, library.lanes))
    state = store.start_case(engine, version=version, ref=ref, key=key, actor="kari",
                             org=sorted(bounds.start_orgs(flow))[0], now=T0,
                             lanes=library.lanes)  # fmt: skip
    for n, (step, outcome, lane) in enumerate(walk, 1):
        store.complete_step(engine, case_id=state.case_id, step=step, outcome=outcome,
                            actor="kari", org=lane, now=T0 + dt.timedelta(hours=n),
                            lanes=library.lanes)  # fmt: skip
    return state.case_id


def _versions_of(engine: Engine, case_id: str) -> list[tuple[int, str, int]]:
    return [tuple(r) for r in _sql(engine, "SELECT seq, kind, version FROM event WHERE "
                                   "case_id = :c ORDER BY seq", c=case_id)]  # fmt: skip


@pytest.mark.parametrize("process", SEED)
def test_every_seed_v1_position_migrates_to_v2_audited_and_replayable(
    any_engine, key, library, process
):
    v1, v2 = library.get(process, 1), library.get(process, 2)
    outside = store.outside_lanes(v1, library.lanes)
    _, found = walks(compile_flow(v1, outside))
    work = [s.id for s in v1.steps if s.kind.value in ("task", "decision", "wait")]
    cases = {step: _drive(any_engine, key, library, v1, found[step], f"R-{step}") for step in work}
    _owner(any_engine)
    # the dry run: cases on a step v2 lacks are refused until mapped; nothing is written
    before = _sql(any_engine, "SELECT count(*) FROM event")[0][0]
    bare = migration.plan_migrations(any_engine, source=v1, target=v2, lanes=library.lanes)
    assert {p.case_id for p in bare} == set(cases.values())
    for plan in bare:
        gone = [s for s in plan.now if s not in {s.id for s in v2.steps}]
        assert (plan.refused is not None) == bool(gone)
    mapping = SEED_MAPS[process]
    plans = migration.plan_migrations(any_engine, source=v1, target=v2, mapping=mapping,
                                      lanes=library.lanes)  # fmt: skip
    assert [p.refused for p in plans] == [None] * len(cases)
    by_case = {p.case_id: p for p in plans}
    for step, case_id in cases.items():
        assert step in by_case[case_id].now
    assert any(p.warnings for p in plans)
    assert _sql(any_engine, "SELECT count(*) FROM event")[0][0] == before
    # applying: every case moves, in its own transaction, chained and audited
    results = migration.apply_migrations(any_engine, source=v1, target=v2, mapping=mapping,
                                         actor="olga", lanes=library.lanes)  # fmt: skip
    assert [(r.migrated, r.reason) for r in results] == [(True, None)] * len(cases)
    for case_id in cases.values():
        state = store.get_case(any_engine, case_id)
        assert (state.version, state.content_hash) == (2, compile_flow(v2).content_hash)
        assert tuple(i.step for i in open_items(state)) == by_case[case_id].after
        events = store.case_timeline(any_engine, case_id)
        assert replay(v2, events, earlier=[v1], outside=outside) == state
        rows = _versions_of(any_engine, case_id)
        moved_at = next(seq for seq, kind, _ in rows if kind == "case_migrated")
        assert moved_at == rows[-1][0] == state.seq
        assert {v for seq, _, v in rows if seq < moved_at} == {1} and rows[-1][2] == 2
        logged = audit.case_log(any_engine, case_id)
        entries = [e for e in logged if e.action is AuditAction.CASE_MIGRATED]
        assert [(e.actor, e.detail) for e in entries] == [("olga", rows[-1] and entries[0].detail)]
        assert (entries[0].detail or "").startswith(f"{v1.key} -> {v2.key}")
    assert audit.verify(any_engine).intact
    # a migrated case goes on on v2
    some = next(iter(cases.values()))
    state = store.get_case(any_engine, some)
    item = open_items(state)[0]
    step = compile_flow(v2, outside).steps[item.step]
    after = store.complete_step(any_engine, case_id=some, step=step.id, actor="kari",
                                org=step.lane, outcome=(step.outcomes or (None,))[0],
                                now=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                                lanes=library.lanes)  # fmt: skip
    assert after.version == 2 and after.seq > state.seq
    assert replay(v2, store.case_timeline(any_engine, some), earlier=[v1], outside=outside) == after
    assert audit.verify(any_engine).intact


def _versions(**lanes: str) -> tuple[Version, Version]:
    steps = [{"id": "start", "kind": "start"}, {"id": "a", "kind": "task"},
             {"id": "b", "kind": "task", "lane": "nav"}, {"id": "end", "kind": "end"}]  # fmt: skip
    moved = [{**s, "lane": lanes.get(s["id"], s.get("lane", "housing_office"))} for s in steps]
    edges = chain("start", "a", "b", "end")
    return make_version(steps, edges, process="moving"), make_version(
        moved, edges, process="moving", version=2
    )


def _start(engine: Engine, key: ReferenceKey, version: Version, ref: str) -> str:
    return store.start_case(engine, version=version, ref=ref, key=key, actor="kari",
                            org="housing_office", now=T0).case_id  # fmt: skip


def test_only_a_process_owner_may_migrate_and_a_refusal_changes_nothing(sqlite_engine, key):
    v1, v2 = _versions()
    case_id = _start(sqlite_engine, key, v1, "R-1")
    _owner(sqlite_engine, "carl", roles=(Role.CASEWORKER,))
    for actor in ("carl", "nobody"):
        with pytest.raises(AccessError, match="only an active process owner may migrate"):
            migration.apply_migrations(sqlite_engine, source=v1, target=v2, actor=actor)
    assert store.get_case(sqlite_engine, case_id).version == 1
    assert _sql(sqlite_engine, "SELECT count(*) FROM published_version WHERE version = 2") == [(0,)]


def test_named_cases_that_cannot_move_are_refused_with_the_reason(sqlite_engine, key):
    v1, v2 = _versions()
    running = _start(sqlite_engine, key, v1, "R-1")
    finished = _start(sqlite_engine, key, v1, "R-2")
    for step, org in (("a", "housing_office"), ("b", "nav")):
        store.complete_step(sqlite_engine, case_id=finished, step=step, actor="kari", org=org,
                            now=T0 + dt.timedelta(hours=1))  # fmt: skip
    plans = migration.plan_migrations(sqlite_engine, source=v1, target=v2,
                                      case_ids=[running, finished, "nope"])  # fmt: skip
    assert [p.refused is None for p in plans] == [True, False, False]
    assert "only running cases move" in (plans[1].refused or "")
    assert plans[2].refused == "no such case in this store"
    _owner(sqlite_engine)
    results = migration.apply_migrations(sqlite_engine, source=v1, target=v2, actor="olga",
                                         case_ids=[running, finished, "nope"])  # fmt: skip
    assert [r.migrated for r in results] == [True, False, False]
    with pytest.raises(CommandError, match="has no step 'x'"):
        migration.plan_migrations(sqlite_engine, source=v1, target=v2, mapping={"x": "a"})
    with pytest.raises(CommandError, match="both the source and the target"):
        migration.plan_migrations(sqlite_engine, source=v1, target=v1)


def test_started_work_in_another_organisation_is_reopened_there(any_engine, key):
    v1, v2 = _versions(a="nav")
    case_id = _start(any_engine, key, v1, "R-1")
    store.begin_step(any_engine, case_id=case_id, step="a", actor="kari", org="housing_office",
                     now=T0 + dt.timedelta(hours=1))  # fmt: skip
    _owner(any_engine)
    [plan] = migration.plan_migrations(any_engine, source=v1, target=v2)
    assert [w.code for w in plan.warnings] == ["reopened_elsewhere"]
    migration.apply_migrations(any_engine, source=v1, target=v2, actor="olga",
                               clock=lambda: T0 + dt.timedelta(days=1))  # fmt: skip
    item = store.get_case(any_engine, case_id).items[-1]
    assert (item.step, item.status, item.ready_at, item.org) == (
        "a", ItemStatus.READY, T0 + dt.timedelta(days=1), None)  # fmt: skip
    inbox = store.inbox(any_engine, org="nav", now=T0 + dt.timedelta(days=2))
    assert [e.case_id for e in inbox] == [case_id]
    [event] = [
        e for e in store.case_timeline(any_engine, case_id) if e.kind is EventKind.CASE_MIGRATED
    ]
    assert parse_detail(event.detail)[:2] == ("moving@v1", "moving@v2")
    assert replay(v2, store.case_timeline(any_engine, case_id), earlier=[v1]) == store.get_case(
        any_engine, case_id
    )


def test_a_case_that_fails_is_left_untouched_and_the_others_move(sqlite_engine, key, monkeypatch):
    v1, v2 = _versions()
    first, second = (_start(sqlite_engine, key, v1, f"R-{n}") for n in (1, 2))
    _owner(sqlite_engine)
    record = audit.record_in

    def fail_for_first(conn, **kw):
        if kw.get("case_id") == first:
            raise RuntimeError("disk full")
        return record(conn, **kw)

    monkeypatch.setattr(audit, "record_in", fail_for_first)
    with pytest.raises(RuntimeError):
        migration.apply_migrations(sqlite_engine, source=v1, target=v2, actor="olga")
    monkeypatch.undo()
    assert store.get_case(sqlite_engine, first).version == 1
    assert len(store.case_timeline(sqlite_engine, first)) == 3
    assert _sql(sqlite_engine, "SELECT count(*) FROM audit_entry WHERE case_id = :c AND action = "
                "'case_migrated'", c=first) == [(0,)]  # fmt: skip
    moved = _sql(sqlite_engine, "SELECT count(*) FROM case_run WHERE version = 2")
    assert _sql(sqlite_engine, "SELECT count(*) FROM event WHERE kind = 'case_migrated'") == moved
    # a stale read (someone else changed the case in between) is a conflict for that case only
    load = migration.load_case

    def stale(conn, case_id):
        state, row_version, *rest = load(conn, case_id)
        return (state, row_version - 1 if case_id == first else row_version, *rest)

    monkeypatch.setattr(migration, "load_case", stale)
    results = migration.apply_migrations(sqlite_engine, source=v1, target=v2, actor="olga")
    outcome = {r.case_id: (r.migrated, r.reason) for r in results}
    assert outcome[first][0] is False and "changed by someone else" in (outcome[first][1] or "")
    assert store.get_case(sqlite_engine, second).version == 2
    assert store.get_case(sqlite_engine, first).version == 1
    assert len(store.case_timeline(sqlite_engine, first)) == 3
    assert audit.verify(sqlite_engine).intact


# --------------------------------------------------------------------------- SIGKILL


def _migrate_batch(url: str, direction: int) -> None:
    """A child process: move every case of one version of ``moving`` to the other."""
    v1, v2 = _versions(a="nav")
    source, target = (v1, v2) if direction == 1 else (v2, v1)
    engine = make_engine(url)
    migration.apply_migrations(engine, source=source, target=target, actor="olga")


def _check_whole(engine: Engine, flows: dict[int, Version]) -> dict[int, int]:
    """Every case is on one version with all that goes with it: the count per version."""
    counts = {1: 0, 2: 0}
    migrated = {}
    for row in _sql(engine, "SELECT case_id, count(*) FROM audit_entry WHERE action = "
                    "'case_migrated' GROUP BY case_id"):  # fmt: skip
        migrated[row[0]] = row[1]
    for (case_id,) in _sql(engine, "SELECT id FROM case_run"):
        state = store.get_case(engine, case_id)
        events = store.case_timeline(engine, case_id)
        moves = [parse_detail(e.detail) for e in events if e.kind is EventKind.CASE_MIGRATED]
        assert len(moves) == migrated.get(case_id, 0), case_id
        chain_of = [int(m[0].rsplit("v", 1)[1]) for m in moves]
        last = _versions_of(engine, case_id)[-1]
        assert last[0] == state.seq and last[2] == state.version
        assert replay(flows[state.version], events, earlier=[flows[v] for v in chain_of]) == state
        counts[state.version] += 1
    return counts


@pytest.mark.slow
def test_a_sigkill_during_a_batch_leaves_each_case_moved_or_untouched(sqlite_engine, key):
    v1, v2 = _versions(a="nav")
    for n in range(60):
        _start(sqlite_engine, key, v1, f"R-{n}")
    _owner(sqlite_engine)
    store.publish_version(sqlite_engine, v2)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    flows = {1: v1, 2: v2}
    rng = random.Random(15)
    context = multiprocessing.get_context("fork")
    started = time.monotonic()
    whole = context.Process(target=_migrate_batch, args=(url, 1))  # one batch, uncut: timed
    whole.start()
    whole.join()
    batch = time.monotonic() - started  # kills land across it, whatever the machine's load
    assert _check_whole(sqlite_engine, flows) == {1: 0, 2: 60}
    direction, killed, halfway = 2, 0, 0
    for _ in range(50):
        child = context.Process(target=_migrate_batch, args=(url, direction))
        child.start()
        time.sleep(rng.uniform(0.1, 0.9) * batch)
        if child.is_alive():
            os.kill(child.pid or 0, signal.SIGKILL)
            killed += 1
        child.join()
        counts = _check_whole(sqlite_engine, flows)
        assert sum(counts.values()) == 60
        halfway += bool(counts[1] and counts[2])  # killed in the middle of a batch
        if counts[1 if direction == 1 else 2] == 0:  # all moved: go back the other way
            direction = 2 if direction == 1 else 1
    assert killed >= 10 and halfway >= 5, (killed, halfway)
    assert audit.verify(sqlite_engine).intact
    assert time.monotonic() - started < 120 * max(batch, 2.0)  # a hang, not a slow machine
    assert {store.get_case(sqlite_engine, c).status for (c,) in _sql(
        sqlite_engine, "SELECT id FROM case_run")} == {RunStatus.RUNNING}  # fmt: skip


def test_observed_metrics_count_a_migrated_case_once_under_its_first_version(sqlite_engine, key):
    """As docs/guide/migration.md says: case-level figures under the version the case started
    on, once; each event keeps the version it was recorded on (handoffs are grouped by it)."""
    v1, v2 = _versions()
    ids = [_start(sqlite_engine, key, v1, f"R-{n}") for n in range(2)]
    for case_id in ids:
        store.complete_step(sqlite_engine, case_id=case_id, step="a", actor="kari",
                            org="housing_office", now=T0 + dt.timedelta(days=1))  # fmt: skip
    _owner(sqlite_engine)
    migration.apply_migrations(sqlite_engine, source=v1, target=v2, case_ids=ids[:1],
                               actor="olga", clock=lambda: T0 + dt.timedelta(days=2))  # fmt: skip
    for case_id in ids:
        store.complete_step(sqlite_engine, case_id=case_id, step="b", actor="kari", org="nav",
                            now=T0 + dt.timedelta(days=3), touch_minutes=20)  # fmt: skip
    log = store.event_frame(sqlite_engine)
    kinds = log.filter(log["case_id"] == ids[0]).select("kind", "version").rows()
    at = kinds.index(("case_migrated", 2))
    assert {v for _, v in kinds[:at]} == {1} and {v for _, v in kinds[at:]} == {2}
    metrics = observed_metrics(log)
    assert metrics.cases.height == 2 and set(metrics.cases["version"]) == {1}
    lead = metrics.summary.filter(metrics.summary["metric"] == "lead_days")
    assert lead.select("version", "cases").rows() == [(1, 2)]
    handoffs = metrics.handoff_waits.filter(metrics.handoff_waits["from_lane"] == "nav")
    assert sorted(handoffs.select("version", "handoffs").rows()) == [(1, 1), (2, 1)]
