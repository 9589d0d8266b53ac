"""Imported event logs: the run set ``imported:<name>`` stored in one transaction, and read back.

:func:`store_import` writes an import's ``imported_log`` row (:class:`~boflyt.models.tables.
ImportedLog`) and its events — given as the store's event frame
(:data:`~boflyt.engine.store.frame.FRAME_SCHEMA`, as :func:`boflyt.formats.log_import.convert_log`
makes it) — with the case and work-item rows derived from them column-wise, through the event
log's bulk path (``COPY`` on PostgreSQL). Either all of it is stored or nothing. A name already
imported is refused unless ``replace``, which deletes the earlier import in the same transaction.
:func:`get_import` and :func:`list_imports` read the rows back; ``boflyt runs delete
imported:NAME`` removes the row with the cases (:func:`~boflyt.engine.store.eventlog.
delete_run_sets`).
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boflyt.engine.store.db import read_scope, write_scope
from boflyt.engine.store.eventlog import (
    _CASE_BULK,  # the bulk path's column lists: one home, shared with simulated cohorts
    _ITEM_BULK,
    _bulk,
    _delete,
)
from boflyt.engine.store.frame import item_frame
from boflyt.engine.store.statements import (
    CASE_TABLE,
    EVENT_TABLE,
    ITEM_TABLE,
    LOG_COLUMNS,
    translate_errors,
)
from boflyt.models.errors import ConflictError, NotFoundError
from boflyt.models.runset import RunSet
from boflyt.models.tables import ImportedLog
from boflyt.models.vocabulary import EventKind, Mode, RunStatus

__all__ = ["IMPORT_TABLE", "get_import", "import_cases", "list_imports", "store_import"]

IMPORT_TABLE: sa.Table = ImportedLog.__table__  # type: ignore[attr-defined]
_IMPORTED = Mode.IMPORTED


def import_cases(events: pl.DataFrame, *, name: str, content_hash: str = "") -> pl.DataFrame:
    """One ``case_run`` row per case of an import's event frame (every case finished, at its
    ``case_finished`` event; no reference; no branches waiting at joins)."""
    at, kind = pl.col("at"), pl.col("kind")
    return (
        events.group_by("case_id", maintain_order=True)
        .agg(
            at.filter(kind == EventKind.CASE_STARTED.value).min().alias("started_at"),
            at.filter(kind == EventKind.CASE_FINISHED.value).max().alias("finished_at"),
            pl.col("seq").max().alias("last_seq"),
            pl.col("process").first(),
            pl.col("version").first(),
        )
        .select(
            pl.col("case_id").alias("id"),
            pl.lit(None, pl.String).alias("ref_key"),
            "process",
            "version",
            pl.lit(content_hash).alias("content_hash"),
            pl.lit(_IMPORTED.value).alias("mode"),
            pl.lit(RunStatus.FINISHED.value).alias("status"),
            "started_at",
            "finished_at",
            pl.lit(1).alias("row_version"),
            "last_seq",
            pl.lit("[]").alias("arrivals"),
            pl.lit(name).alias("simulation_id"),
        )
    )


def _existing(conn: sa.Connection, name: str) -> bool:
    row = conn.execute(sa.select(IMPORT_TABLE.c.name).where(IMPORT_TABLE.c.name == name)).first()
    if row is not None:
        return True
    cases = sa.select(CASE_TABLE.c.id).where(
        CASE_TABLE.c.mode == _IMPORTED.value, CASE_TABLE.c.simulation_id == name
    )
    return conn.execute(cases.limit(1)).first() is not None


def store_import(
    engine: Engine,
    *,
    log: ImportedLog,
    events: pl.DataFrame,
    content_hash: str = "",
    replace: bool = False,
) -> int:
    """Store the import ``log`` with its events (:data:`FRAME_SCHEMA`), all in one transaction;
    return the number of events written.

    ``content_hash`` is the hash of the version the runs belong to ("" for the log as logged).

    Raises:
        ConflictError: ``log.name`` is imported already and ``replace`` is false.
        StoreError: the database refused the rows (nothing is stored).
    """
    name = log.name
    cases = import_cases(events, name=name, content_hash=content_hash)
    log_rows = events.with_columns(pl.lit(name, pl.String).alias("simulation_id"))

    def run() -> int:
        with write_scope(engine) as conn:
            if _existing(conn, name):
                if not replace:
                    raise ConflictError(
                        f"{RunSet(_IMPORTED, name).shown} is imported already; give --replace "
                        "to import it again, or choose another --name"
                    )
                _delete(conn, _IMPORTED, name)
            conn.execute(IMPORT_TABLE.insert().values(**log.model_dump()))
            _bulk(conn, CASE_TABLE, _CASE_BULK, cases)
            _bulk(conn, ITEM_TABLE, _ITEM_BULK, item_frame(events))
            return _bulk(conn, EVENT_TABLE, LOG_COLUMNS, log_rows)

    return translate_errors(run)


def get_import(engine: Engine, name: str) -> ImportedLog:
    """The import ``name``.

    Raises:
        NotFoundError: no import of that name has a row in the store.
    """
    with read_scope(engine) as conn:
        row = conn.execute(IMPORT_TABLE.select().where(IMPORT_TABLE.c.name == name)).first()
    if row is None:
        shown = RunSet(_IMPORTED, name).shown
        raise NotFoundError(f"no imported run set {shown}; see boflyt runs list")
    return ImportedLog.model_validate(row._asdict())


def list_imports(engine: Engine) -> list[ImportedLog]:
    """Every import with a row in the store, by name."""
    with read_scope(engine) as conn:
        rows = conn.execute(IMPORT_TABLE.select().order_by(IMPORT_TABLE.c.name)).all()
    return [ImportedLog.model_validate(row._asdict()) for row in rows]
