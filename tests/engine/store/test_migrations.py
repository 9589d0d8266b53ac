"""The store's schema revisions: baseline, upgrade with data, drift, and the open path's locks."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from boflyt.cli import app
from boflyt.engine.store import commands as store
from boflyt.engine.store import migrations
from boflyt.engine.store.db import (
    HEAD,
    REVISIONS,
    VERSION_TABLE,
    make_engine,
    migrate,
    open_schema,
    read_scope,
    store_revision,
    upgrade_schema,
    write_scope,
)
from boflyt.engine.store.eventlog import COUNTER, delete_run_sets
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.errors import StoreError
from boflyt.models.runset import RunSet
from boflyt.models.tables import metadata
from tests.factories import linear_version

MONDAY = dt.datetime(2025, 1, 6, 9, 0)
BASELINE = REVISIONS[0]


def _baseline_store(url: str) -> Engine:
    """A store at the first revision only (before ``store_meta``), as an old release left it."""
    engine = make_engine(url)
    with write_scope(engine) as conn:
        migrations.upgrade(conn, BASELINE)
    return engine


def _tables(engine: Engine) -> set[str]:
    with read_scope(engine) as conn:
        return set(sa.inspect(conn).get_table_names())


def _fill(engine: Engine, tmp_path: Path) -> list[str]:
    """Three cases with events, written with the store API (on a scratch store at head) and
    copied into ``engine``'s tables, only the columns they have, as an older release left them."""
    scratch = make_engine(f"sqlite:///{tmp_path / 'scratch.db'}")
    open_schema(scratch)
    key = ReferenceKey.create(tmp_path / "reference.key")
    version, case_ids = linear_version(), []
    for n in range(3):
        state = store.start_case(scratch, version=version, ref=f"REF-{n}", key=key,
                                 actor="ann", org="housing_office", now=MONDAY)  # fmt: skip
        case_ids.append(state.case_id)
    store.complete_step(scratch, case_id=case_ids[0], step="a", actor="ann", org="housing_office",
                        now=MONDAY + dt.timedelta(hours=1))  # fmt: skip
    with read_scope(scratch) as source, write_scope(engine) as target:
        present = set(sa.inspect(target).get_table_names())
        for table in (t for t in metadata.sorted_tables if t.name in present):
            kept = {c["name"] for c in sa.inspect(target).get_columns(table.name)}
            if "id" in table.c and isinstance(table.c.id.type, sa.Integer):
                kept.discard("id")  # numbered by the target (PostgreSQL's sequence)
            rows = [{k: v for k, v in row.items() if k in kept}
                    for row in source.execute(table.select()).mappings()]  # fmt: skip
            if rows:
                typed = sa.table(table.name, *(sa.column(n, table.c[n].type) for n in rows[0]))
                target.execute(typed.insert(), rows)
    scratch.dispose()
    return case_ids


def test_the_revisions_named_in_code_are_the_scripts_shipped():
    assert migrations.revisions() == REVISIONS
    assert HEAD == REVISIONS[-1] == "0007_outbox"


def test_an_empty_store_opens_at_head_with_no_drift_from_the_tables_module(empty_store_url):
    engine = make_engine(empty_store_url)
    assert store_revision(engine).empty
    assert open_schema(engine).revision == HEAD
    assert store_revision(engine).revision == HEAD
    assert _tables(engine) == {table.name for table in metadata.sorted_tables} | {VERSION_TABLE}
    with engine.connect() as conn:
        assert migrations.drift(conn) == []
    engine.dispose()


def test_the_migrated_sqlite_schema_is_exactly_what_create_all_makes(tmp_path):
    made = make_engine(f"sqlite:///{tmp_path / 'create_all.db'}")
    metadata.create_all(made)
    migrated = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    open_schema(migrated)
    query = (
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        f"WHERE name NOT LIKE '%{VERSION_TABLE}%' ORDER BY name"
    )

    def schema(conn):  # ALTER TABLE … ADD COLUMN splices the column in without a line break
        return [(*row[:3], " ".join((row[3] or "").split())) for row in conn.exec_driver_sql(query)]

    with read_scope(made) as a, read_scope(migrated) as b:
        assert schema(a) == schema(b)


def test_a_baseline_store_with_cases_upgrades_with_its_data_intact(empty_store_url, tmp_path):
    engine = _baseline_store(empty_store_url)
    assert "store_meta" not in _tables(engine)
    case_ids = _fill(engine, tmp_path)
    before = [store.get_case(engine, case_id) for case_id in case_ids]
    timelines = [store.case_timeline(engine, case_id) for case_id in case_ids]
    if engine.dialect.name == "sqlite":  # the embedded store upgrades itself on open
        assert open_schema(engine).revision == HEAD
    else:  # a shared store is upgraded on purpose
        with pytest.raises(StoreError, match=f"revision {BASELINE}; .*needs {HEAD}.*db upgrade"):
            open_schema(engine)
        assert upgrade_schema(engine) == (BASELINE, HEAD)
    assert store_revision(engine).revision == HEAD
    assert "store_meta" in _tables(engine)
    assert [store.get_case(engine, case_id) for case_id in case_ids] == before
    assert [store.case_timeline(engine, case_id) for case_id in case_ids] == timelines
    with engine.connect() as conn:
        assert migrations.drift(conn) == []
    assert upgrade_schema(engine) == (HEAD, HEAD)  # a second upgrade does nothing
    engine.dispose()


def test_a_store_made_before_revisions_is_adopted(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    metadata.create_all(engine)
    _fill(engine, tmp_path)
    assert store_revision(engine).unrevisioned
    assert open_schema(engine).revision == HEAD
    assert len(store.list_cases(engine)) == 3
    engine.dispose()


def _store_at(url: str, revision: str, simulations: int) -> Engine:
    """A store at ``revision`` holding ``simulations`` simulation rows, stored newest first."""
    engine = make_engine(url)
    with write_scope(engine) as conn:
        migrations.upgrade(conn, revision)
        for n in range(simulations):
            conn.exec_driver_sql(
                "INSERT INTO simulation_run (id, process, version, scenario, seed, cases, "
                f"created_at, content_hash) VALUES ('sim-{n}', 'p', 1, 'default', {n}, 10, "
                f"'2025-01-{20 - n:02d} 10:00:00', 'h')"
            )
    return engine


def test_simulations_stored_before_run_numbers_are_numbered_in_the_order_stored(empty_store_url):
    engine = _store_at(empty_store_url, "0002_store_meta", 3)
    assert upgrade_schema(engine) == ("0002_store_meta", HEAD)
    with read_scope(engine) as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, number, origin FROM simulation_run ORDER BY number"
        ).all()
        assert migrations.drift(conn) == []
    assert [tuple(row) for row in rows] == [
        ("sim-2", 1, "simulate"), ("sim-1", 2, "simulate"), ("sim-0", 3, "simulate"),
    ]  # fmt: skip
    delete_run_sets(engine, [RunSet.parse("simulated:3")])  # its number stays given
    with read_scope(engine) as conn:
        counter = conn.exec_driver_sql(f"SELECT value FROM store_meta WHERE name = '{COUNTER}'")
        assert counter.scalar() == "3"
    engine.dispose()


def test_a_store_of_the_second_schema_made_before_revisions_is_upgraded(tmp_path):
    engine = _store_at(f"sqlite:///{tmp_path / 'old.db'}", "0002_store_meta", 2)
    with write_scope(engine) as conn:
        conn.exec_driver_sql(f"DROP TABLE {VERSION_TABLE}")
    assert store_revision(engine).unrevisioned
    assert open_schema(engine).revision == HEAD
    with read_scope(engine) as conn:
        numbers = conn.exec_driver_sql("SELECT number FROM simulation_run ORDER BY number")
        assert [row[0] for row in numbers] == [1, 2]
    engine.dispose()


def test_a_store_newer_than_the_code_is_one_clear_error(empty_store_url):
    engine = make_engine(empty_store_url)
    open_schema(engine)
    with write_scope(engine) as conn:
        conn.exec_driver_sql(f"UPDATE {VERSION_TABLE} SET version_num = '0099_future'")
    with pytest.raises(StoreError, match="revision 0099_future, newer than this Boflyt"):
        open_schema(engine)
    with pytest.raises(StoreError, match="newer than this Boflyt"):
        upgrade_schema(engine)
    engine.dispose()


def test_another_applications_database_is_refused_and_left_alone(empty_store_url):
    engine = make_engine(empty_store_url)
    with write_scope(engine) as conn:
        conn.exec_driver_sql("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32))")
    with pytest.raises(StoreError, match=r"another application's tables \(alembic_version"):
        open_schema(engine)
    assert _tables(engine) == {"invoices", "alembic_version"}
    engine.dispose()


def test_opening_a_store_at_head_takes_no_write_lock(tmp_path):
    path = tmp_path / "boflyt.db"
    engine = make_engine(f"sqlite:///{path}")
    open_schema(engine)
    engine.dispose()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # someone holds the write lock
    try:
        reopened = make_engine(f"sqlite:///{path}")
        started = time.perf_counter()
        assert open_schema(reopened).revision == HEAD
        assert time.perf_counter() - started < 2
        reopened.dispose()
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.postgres
def test_on_postgresql_the_migration_waits_for_the_advisory_lock(pg_engine):
    """While one process migrates (holds the lock), another waits and then finds head."""
    lock = sa.select(sa.func.pg_advisory_lock(0x626F666C7974))
    unlock = sa.select(sa.func.pg_advisory_unlock(0x626F666C7974))
    with pg_engine.connect() as holder:
        holder.execute(lock)
        holder.commit()
        done: list[tuple[str, str]] = []
        waiter = threading.Thread(target=lambda: done.append(migrate(pg_engine)))
        waiter.start()
        time.sleep(0.5)
        assert not done  # waiting on the lock
        holder.execute(unlock)
        holder.commit()
        waiter.join(timeout=10)
    assert done == [(HEAD, HEAD)]


def test_the_db_commands_show_and_upgrade_the_configured_store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'boflyt.db'}"
    _baseline_store(url).dispose()
    monkeypatch.setenv("BOFLYT_DATABASE_URL", url)
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    status = runner.invoke(app, ["db", "status"])
    assert status.exit_code == 0, status.output
    assert f"current:  {BASELINE}" in status.output
    assert f"head:     {HEAD}" in status.output
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"upgraded: {BASELINE} -> {HEAD}" in upgraded.output
    again = runner.invoke(app, ["db", "upgrade"])
    assert f"already at {HEAD}" in again.output
