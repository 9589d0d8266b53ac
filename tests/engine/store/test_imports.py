"""Imported run sets in the store: one transaction, refused twice, replaced, deleted, read back."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boflyt.engine.store.db import read_scope
from boflyt.engine.store.eventlog import delete_run_sets, event_frame
from boflyt.engine.store.imports import get_import, list_imports, store_import
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.engine.store.queries import list_run_sets
from boflyt.formats.log_frame import RAW_SCHEMA
from boflyt.formats.log_import import ConvertedLog, convert_log
from boflyt.models.errors import BoflytError, ConflictError, NotFoundError
from boflyt.models.runset import RunSet
from boflyt.models.tables import ImportedLog

KEY = ReferenceKey(b"s" * 32)
T0 = dt.datetime(2025, 3, 3, 9, 0)
TABLES = ("imported_log", "case_run", "work_item", "event")


def converted(name: str, cases: int = 3) -> ConvertedLog:
    rows = [
        (f"case-{c}", activity, T0 + dt.timedelta(days=c, hours=h), lifecycle, "ann", org, 0)
        for c in range(cases)
        for h, (activity, lifecycle, org) in enumerate(
            [("Register", None, "Front"), ("Check", "start", "Back"),
             ("Check", "complete", "Back"), ("Decide", "complete", "Front")]
        )
    ]  # fmt: skip
    frame = pl.DataFrame(rows, schema=RAW_SCHEMA, orient="row").with_row_index("n")
    frame = frame.with_columns((pl.col("n") + 2).cast(pl.Int64).alias("row")).drop("n")
    return convert_log(frame, name=name, key=KEY)


def row(name: str, log: ConvertedLog) -> ImportedLog:
    s = log.summary
    return ImportedLog(
        name=name, process=s.process, version=s.version, source="log.csv", sha256="0" * 64,
        events=s.events, cases=s.cases, start_share=s.start_share,
        activities=json.dumps(s.activities), organisation="organisation", imported_at=T0,
    )  # fmt: skip


def counts(engine: Engine) -> dict[str, int]:
    with read_scope(engine) as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def test_an_import_is_stored_with_its_row_and_reads_back_as_its_run_set(any_engine: Engine):
    log = converted("lisa")
    written = store_import(any_engine, log=row("lisa", log), events=log.events)
    assert written == log.events.height
    assert counts(any_engine) == {"imported_log": 1, "case_run": 3, "work_item": 9,
                                  "event": log.events.height}  # fmt: skip
    back = event_frame(any_engine, runs=RunSet.parse("imported:lisa"))
    key = ["case_id", "seq"]
    assert back.sort(key).equals(log.events.sort(key))
    stored = get_import(any_engine, "lisa")
    assert (stored.process, stored.version, stored.cases) == ("lisa", 0, 3)
    assert json.loads(stored.activities) == {"check": "Check", "decide": "Decide",
                                             "register": "Register"}  # fmt: skip
    [info] = list_run_sets(any_engine, runs=RunSet.parse("imported:lisa"))
    assert (info.name, info.version_key, info.cases) == ("imported:lisa", "lisa@v0", 3)
    with read_scope(any_engine) as conn:
        statuses = conn.execute(sa.text("SELECT DISTINCT status FROM case_run")).scalars().all()
        items = conn.execute(sa.text("SELECT status, count(*) FROM work_item GROUP BY status"))
        assert statuses == ["finished"] and dict(items.all()) == {"done": 9}


def test_a_name_imported_already_is_refused_and_nothing_changes(any_engine: Engine):
    first = converted("lisa", cases=2)
    store_import(any_engine, log=row("lisa", first), events=first.events)
    before = counts(any_engine)
    again = converted("lisa", cases=4)
    with pytest.raises(ConflictError, match="'imported:lisa' is imported already; give --replace"):
        store_import(any_engine, log=row("lisa", again), events=again.events)
    assert counts(any_engine) == before


def test_replace_swaps_the_earlier_import_in_one_transaction(any_engine: Engine):
    first, other = converted("lisa", cases=2), converted("other", cases=1)
    store_import(any_engine, log=row("lisa", first), events=first.events)
    store_import(any_engine, log=row("other", other), events=other.events)
    again = converted("lisa", cases=4)
    store_import(any_engine, log=row("lisa", again), events=again.events, replace=True)
    assert get_import(any_engine, "lisa").cases == 4
    assert [i.name for i in list_imports(any_engine)] == ["lisa", "other"]
    assert counts(any_engine)["case_run"] == 5


def test_a_failed_import_stores_nothing(any_engine: Engine):
    first = converted("lisa", cases=2)
    store_import(any_engine, log=row("lisa", first), events=first.events)
    before = counts(any_engine)
    broken = converted("lisa", cases=3)
    doubled = pl.concat([broken.events, broken.events.head(1)])  # (case, seq) twice
    with pytest.raises(BoflytError):
        store_import(any_engine, log=row("lisa", broken), events=doubled, replace=True)
    assert counts(any_engine) == before
    assert get_import(any_engine, "lisa").cases == 2  # the replace was rolled back too


def test_deleting_the_run_set_deletes_its_import_row(any_engine: Engine):
    log = converted("lisa")
    store_import(any_engine, log=row("lisa", log), events=log.events)
    deleted = delete_run_sets(any_engine, [RunSet.parse("imported:lisa")])
    assert (deleted.sets, deleted.cases) == (1, 3)
    assert counts(any_engine) == dict.fromkeys(TABLES, 0)
    with pytest.raises(NotFoundError, match="no imported run set 'imported:lisa'"):
        get_import(any_engine, "lisa")
