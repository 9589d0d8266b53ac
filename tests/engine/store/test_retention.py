"""Retention: the links of ended cases past their period are removed, everything else is kept,
and the audit record stays whole (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from unittest import mock

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boflyt.engine.store import audit, retention
from boflyt.engine.store import commands as store
from boflyt.engine.store.db import read_scope
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.engine.store.retention import (
    Period,
    RetentionPolicy,
    expired,
    expired_cases,
    parse_period,
    policy_from_table,
    remove_links,
)
from boflyt.models.errors import SettingsError, StoreError
from boflyt.models.vocabulary import AuditAction
from tests.factories import linear_version

MONDAY = dt.datetime(2020, 1, 6, 9, 0)
WHO = {"actor": "ann", "org": "housing_office"}
NAV = {"actor": "bo", "org": "nav"}
FIVE_YEARS = RetentionPolicy(default=Period(5, "y"))


@pytest.fixture
def key(tmp_path: Path) -> ReferenceKey:
    return ReferenceKey.load_or_create(tmp_path / "keys" / "reference.key")


def _start(engine: Engine, key: ReferenceKey, ref: str, at: dt.datetime) -> str:
    state = store.start_case(engine, version=linear_version(), ref=ref, key=key, now=at, **WHO)
    return state.case_id


def _finished(engine: Engine, key: ReferenceKey, ref: str, at: dt.datetime = MONDAY) -> str:
    """A case run to its end on ``at``'s day (ended at ``at`` + 3 hours)."""
    case_id = _start(engine, key, ref, at)
    hour = dt.timedelta(hours=1)
    store.complete_step(engine, case_id=case_id, step="a", now=at + hour, touch_minutes=20,
                        note="a remark", **WHO)  # fmt: skip
    store.complete_step(engine, case_id=case_id, step="b", now=at + 3 * hour, **NAV)
    return case_id


def _cancelled(engine: Engine, key: ReferenceKey, ref: str, at: dt.datetime = MONDAY) -> str:
    case_id = _start(engine, key, ref, at)
    store.cancel_case(engine, case_id=case_id, now=at + dt.timedelta(hours=2), reason="moved",
                      **WHO)  # fmt: skip
    return case_id


def _ref_keys(engine: Engine) -> dict[str, str | None]:
    with read_scope(engine) as conn:
        rows = conn.execute(sa.text("SELECT id, ref_key FROM case_run")).all()
    return {case_id: ref_key for case_id, ref_key in rows}


def _retention_entries(engine: Engine) -> list[audit.AuditRecord]:
    with read_scope(engine) as conn:
        ids = conn.execute(sa.text("SELECT case_id FROM audit_entry WHERE action = 'retention'"))
        case_ids = [row[0] for row in ids]
    return [e for c in case_ids for e in audit.case_log(engine, c) if e.action.value == "retention"]


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    ("text", "period"),
    [("5y", Period(5, "y")), ("18m", Period(18, "m")), ("90d", Period(90, "d")),
     (" 7D ", Period(7, "d"))],
)  # fmt: skip
def test_a_period_is_a_number_and_its_unit(text: str, period: Period) -> None:
    assert parse_period(text) == period


@pytest.mark.parametrize("text", ["5", "y", "5 years", "0d", "-3m", "1.5y", "101y", "", "5w"])
def test_anything_else_is_refused_saying_what_is_allowed(text: str) -> None:
    with pytest.raises(ValueError, match=r"found .*; allowed: a whole number and y, m or d"):
        parse_period(text)


def test_expiry_counts_calendar_months_from_the_end() -> None:
    ended = dt.datetime(2023, 8, 31, 10, 0)
    assert not expired(ended, Period(18, "m"), dt.datetime(2025, 2, 28, 9, 59))
    assert expired(ended, Period(18, "m"), dt.datetime(2025, 2, 28, 10, 0))  # 28 Feb: clamped
    assert not expired(ended, Period(90, "d"), ended + dt.timedelta(days=89, hours=23))


@pytest.mark.parametrize(
    "period", [Period(1, "m"), Period(18, "m"), Period(1, "y"), Period(30, "d")]
)
def test_the_databases_sieve_never_leaves_out_an_expired_case(period: Period) -> None:
    """Every end (each day of two years, at 23:59) expired at each month's end and start is at
    or before :func:`sieve_end`, which is at most a day past the last expired end."""
    ends = [dt.datetime(2022, 12, 1, 23, 59) + dt.timedelta(days=n) for n in range(800)]
    for now in [dt.datetime(2025, m, d, 8, 0) for m in range(1, 13) for d in (1, 28)] + [
        dt.datetime(2025, 1, 31, 8),
        dt.datetime(2025, 3, 31, 8),
        dt.datetime(2024, 2, 29, 8),
    ]:
        cut = retention.sieve_end(period, now)
        gone = [end for end in ends if expired(end, period, now)]
        assert all(end <= cut for end in gone), (period, now)
        if gone and cut < ends[-1]:  # within the ends tried: the sieve is tight, too
            assert cut - max(gone) <= dt.timedelta(days=2), (period, now)


def test_a_bad_retention_table_names_every_bad_key_sorted() -> None:
    table = {"default": "5 years", "private_lease": 18, "eviction": "never", "refugee": "2y"}
    with pytest.raises(SettingsError) as caught:
        policy_from_table(table, where="ws/boflyt.toml")
    assert str(caught.value).splitlines() == [
        "ws/boflyt.toml: [retention].default: found '5 years'; allowed: a whole number and y, m "
        "or d (5y, 18m, 90d), or 'never'",
        "ws/boflyt.toml: [retention].private_lease: found 18; allowed: a whole number and y, m "
        "or d (5y, 18m, 90d), or 'never'",
    ]
    with pytest.raises(SettingsError, match=r"must be a table of process = period"):
        policy_from_table("5y", where="ws/boflyt.toml")


def test_a_named_process_overrides_the_default_and_never_keeps() -> None:
    policy = policy_from_table({"default": "5y", "test_process": "never"}, where="t")
    assert policy.period_for("test_process") is None
    assert policy.period_for("other") == Period(5, "y")
    assert not policy.empty and RetentionPolicy().empty


# --------------------------------------------------------------------------- the store


def test_expired_links_are_removed_and_everything_else_kept(any_engine, key):
    old_done = _finished(any_engine, key, "A-1")
    old_cancelled = _cancelled(any_engine, key, "A-2")
    recent = _finished(any_engine, key, "A-3", at=dt.datetime(2024, 6, 3, 9))
    running = _start(any_engine, key, "A-4", MONDAY)  # started long ago, still running
    events_before = store.event_frame(any_engine).sort("case_id", "seq")
    now = dt.datetime(2025, 6, 1)

    plan = expired_cases(any_engine, FIVE_YEARS, now=now)
    assert [c.case_id for c in plan] == [old_cancelled, old_done]  # oldest end first
    assert _ref_keys(any_engine)[old_done] is not None  # a dry run changes nothing

    run = remove_links(any_engine, FIVE_YEARS, now=now)
    assert {c.case_id for c in run.removed} == {old_done, old_cancelled}
    keys = _ref_keys(any_engine)
    assert keys[old_done] is None and keys[old_cancelled] is None
    assert keys[recent] is not None and keys[running] is not None
    assert store.find_case_by_ref(any_engine, ref="A-1", key=key) == []
    assert [c.id for c in store.find_case_by_ref(any_engine, ref="A-3", key=key)] == [recent]
    after = store.event_frame(any_engine).sort("case_id", "seq")
    assert after.equals(events_before)  # every event kept, unchanged, for the statistics
    assert (
        after.filter(pl.col("case_id") == old_done).height
        == events_before.filter(pl.col("case_id") == old_done).height
    )


def test_each_removal_is_an_audit_entry_and_both_chains_stay_intact(any_engine, key):
    done = _finished(any_engine, key, "A-1")
    remove_links(any_engine, FIVE_YEARS, now=dt.datetime(2025, 6, 1), actor="system")
    [entry] = [e for e in audit.case_log(any_engine, done) if e.action is AuditAction.RETENTION]
    assert entry.actor == "system" and entry.case_id == done
    assert entry.detail == (
        "ref_key removed; test_process@v1 finished 2020-01-06T12:00:00; retention 5y"
    )
    verification = audit.verify(any_engine)
    assert verification.intact, verification.problems
    assert verification.cases == 1 and verification.events > 0


def test_a_second_run_changes_nothing(any_engine, key):
    _finished(any_engine, key, "A-1")
    _cancelled(any_engine, key, "A-2")
    now = dt.datetime(2026, 1, 1)
    assert len(remove_links(any_engine, FIVE_YEARS, now=now).removed) == 2
    entries = audit.verify(any_engine).entries
    again = remove_links(any_engine, FIVE_YEARS, now=now)
    assert again.removed == () and again.batches == 0
    assert audit.verify(any_engine).entries == entries  # no new audit entry either


def test_running_cases_and_kept_processes_are_never_touched(any_engine, key):
    running = _start(any_engine, key, "A-1", MONDAY)
    done = _finished(any_engine, key, "A-2")
    keep = RetentionPolicy({"test_process": None}, default=Period(1, "d"))
    assert remove_links(any_engine, keep, now=dt.datetime(2090, 1, 1)).removed == ()
    anything = RetentionPolicy(default=Period(1, "d"))
    removed = remove_links(any_engine, anything, now=dt.datetime(2090, 1, 1)).removed
    assert [c.case_id for c in removed] == [done]
    assert _ref_keys(any_engine)[running] is not None


def test_batches_commit_one_by_one_and_a_failed_batch_leaves_nothing_half_done(any_engine, key):
    cases = [_cancelled(any_engine, key, f"B-{n}", MONDAY + dt.timedelta(days=n)) for n in range(5)]
    now = dt.datetime(2026, 1, 1)
    real = audit.record_in
    calls = {"n": 0}

    def failing(conn, **kw):  # the fourth entry fails: batch two (cases 3-4) must roll back
        calls["n"] += 1
        if calls["n"] == 4:
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))
        return real(conn, **kw)

    with mock.patch.object(retention.audit, "record_in", failing), pytest.raises(StoreError):
        remove_links(any_engine, FIVE_YEARS, now=now, batch=2)
    keys = _ref_keys(any_engine)
    assert [keys[c] is None for c in cases] == [True, True, False, False, False]
    assert len(_retention_entries(any_engine)) == 2
    assert audit.verify(any_engine).intact
    run = remove_links(any_engine, FIVE_YEARS, now=now, batch=2)  # the rest, next time
    assert [c.case_id for c in run.removed] == cases[2:] and run.batches == 2
    assert all(key_ is None for key_ in _ref_keys(any_engine).values())


def test_a_batch_below_one_is_refused(sqlite_engine):
    with pytest.raises(ValueError, match="batch: found 0; allowed: 1 or more"):
        remove_links(sqlite_engine, FIVE_YEARS, now=MONDAY, batch=0)


def test_on_sqlite_the_removed_pseudonym_is_left_in_neither_the_file_nor_its_log(
    sqlite_engine, key, tmp_path
):
    _finished(sqlite_engine, key, "A-1")
    kept = _finished(sqlite_engine, key, "A-2", at=dt.datetime(2024, 12, 2, 9))
    gone, stays = key.pseudonym("A-1").encode(), key.pseudonym("A-2").encode()
    files = [tmp_path / "boflyt.db", tmp_path / "boflyt.db-wal"]

    def stored() -> bytes:
        return b"".join(f.read_bytes() for f in files if f.exists())

    assert gone in stored()
    remove_links(sqlite_engine, FIVE_YEARS, now=dt.datetime(2025, 6, 1))
    assert gone not in stored()
    assert stays in stored() and _ref_keys(sqlite_engine)[kept] == stays.decode()
