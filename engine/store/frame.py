"""The event frame: the event log as one polars frame, and the store rows derived from it.

:data:`FRAME_SCHEMA` is the one definition of the frame's columns and dtypes —
:data:`~boflyt.models.events.EVENT_COLUMNS` then ``process``, ``version``, ``mode``, typed as the
``event`` table (:class:`~boflyt.models.tables.EventRow`) types them — used by
:func:`boflyt.engine.store.eventlog.event_frame` (the log read back for the analysis), by the
simulation's :func:`~boflyt.analysis.simulation.log.to_frame` and by :func:`empty_frame`.

A simulated cohort arrives as such a frame, and the store needs a ``case_run`` row per case and
a ``work_item`` row per step instance. :func:`case_frame` and :func:`item_frame` derive them
with polars expressions, column at a time, giving exactly what
:func:`boflyt.engine.case.decide.replay` would give case by case (a test compares them): no
Python loop over events or cases.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import sqlalchemy as sa

from boflyt.engine.case.flow import Flow
from boflyt.models.events import EVENT_COLUMNS
from boflyt.models.tables import EventRow
from boflyt.models.vocabulary import EventKind, ItemStatus, RunStatus

__all__ = ["CASE_FIELDS", "FRAME_SCHEMA", "case_frame", "empty_frame", "item_frame"]

_TEXT = pl.String()
_DTYPES: tuple[tuple[type[sa.types.TypeEngine[Any]], pl.DataType], ...] = (
    (sa.DateTime, pl.Datetime("us")), (sa.Float, pl.Float64()), (sa.Integer, pl.Int64()),
)  # fmt: skip


def _dtype(column: str) -> pl.DataType:
    """The polars dtype of an ``event`` table column: the table is the one home of the types."""
    kind = EventRow.__table__.c[column].type  # type: ignore[attr-defined]
    return next((dtype for sql, dtype in _DTYPES if isinstance(kind, sql)), _TEXT)


FRAME_SCHEMA: dict[str, pl.DataType] = {
    name: _dtype(name) for name in (*EVENT_COLUMNS, "process", "version", "mode")
}
"""The event frame's columns — :data:`~boflyt.models.events.EVENT_COLUMNS` then ``process``,
``version``, ``mode`` — with the dtypes of the ``event`` table's columns; ``at`` is naive UTC,
``kind`` the kind's value."""

CASE_FIELDS = ("case_id", "status", "started_at", "finished_at", "last_seq", "arrivals")
"""The columns of :func:`case_frame`: what a case's events decide about its ``case_run`` row."""

_READY, _STARTED = EventKind.STEP_READY.value, EventKind.STEP_STARTED.value
_DONE, _ESCALATED = EventKind.STEP_COMPLETED.value, EventKind.STEP_ESCALATED.value
_ITEM_KINDS = (_READY, _STARTED, _DONE, _ESCALATED)
_CLOSING = {EventKind.CASE_FINISHED.value: RunStatus.FINISHED.value,
            EventKind.CASE_CANCELLED.value: RunStatus.CANCELLED.value}  # fmt: skip
_NO_OUTCOME = "\x00"
"""Stands for a null outcome in join keys (polars never matches nulls in a join)."""


def empty_frame() -> pl.DataFrame:
    """An event frame with no rows."""
    return pl.DataFrame(schema=FRAME_SCHEMA)


def _of(kind: str, column: str) -> pl.Expr:
    """``column`` of the item's (last) event of ``kind``, null when it has none."""
    return pl.col(column).filter(pl.col("kind") == kind).last()


def item_frame(events: pl.DataFrame) -> pl.DataFrame:
    """One row per work item with the ``work_item`` table's columns, holding what its
    :class:`~boflyt.engine.case.decide.WorkItem` holds after replay.

    An item completed without a ``step_ready`` event is an automatic step: ready, started and
    done at once, with no outcome or touch time. Open items of a closed case are cancelled.
    """
    closed = events.filter(pl.col("kind").is_in(list(_CLOSING))).select("case_id").unique()
    steps = events.filter(pl.col("kind").is_in(_ITEM_KINDS) & pl.col("item").is_not_null())
    found = steps.group_by("case_id", "item", maintain_order=True).agg(
        pl.col("step").drop_nulls().first(),
        _of(_READY, "at").alias("ready"),
        _of(_STARTED, "at").alias("began"),
        _of(_STARTED, "actor").alias("began_actor"),
        _of(_STARTED, "org").alias("began_org"),
        *(_of(_DONE, c).alias(f"done_{c}")
          for c in ("at", "actor", "org", "outcome", "touch_minutes")),
        (pl.col("kind") == _ESCALATED).any().alias("escalated"),
    )  # fmt: skip
    done, auto = pl.col("done_at").is_not_null(), pl.col("ready").is_null()
    manual_done = done & ~auto
    return found.join(
        closed.with_columns(pl.lit(True).alias("closed")), on="case_id", how="left"
    ).select(
        "case_id",
        pl.col("item").alias("number"),
        "step",
        pl.when(done).then(pl.lit(ItemStatus.DONE.value))
        .when(pl.col("closed")).then(pl.lit(ItemStatus.CANCELLED.value))
        .when(pl.col("began").is_not_null()).then(pl.lit(ItemStatus.STARTED.value))
        .otherwise(pl.lit(ItemStatus.READY.value)).alias("status"),
        pl.coalesce("ready", "done_at").alias("ready_at"),
        pl.coalesce("began", "done_at").alias("started_at"),
        "done_at",
        pl.when(done).then("done_actor").otherwise("began_actor").alias("actor"),
        pl.when(done).then("done_org").otherwise("began_org").alias("org"),
        pl.when(manual_done).then("done_outcome").alias("outcome"),
        pl.when(manual_done).then("done_touch_minutes").alias("touch_minutes"),
        pl.col("escalated") & ~(done & auto),
    )  # fmt: skip


def case_frame(events: pl.DataFrame, flow: Flow) -> pl.DataFrame:
    """One row per case, in the frame's case order: the :data:`CASE_FIELDS`.

    ``status``/``finished_at`` come from a ``case_finished`` or ``case_cancelled`` event,
    ``last_seq`` is the highest ``seq`` and ``arrivals`` the JSON of the branches still waiting
    at joins (``CaseState.arrivals``), derived by :func:`_arrivals`.
    """
    closing = pl.col("kind").is_in(list(_CLOSING))
    cases = events.group_by("case_id", maintain_order=True).agg(
        _of(EventKind.CASE_STARTED.value, "at").alias("started_at"),
        pl.col("kind").filter(closing).last().alias("closing"),
        pl.col("at").filter(closing).last().alias("finished_at"),
        pl.col("seq").max().alias("last_seq"),
    )
    return (
        cases.join(_arrivals(events, flow), on="case_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("closing")
            .replace_strict(_CLOSING, default=RunStatus.RUNNING.value)
            .alias("status"),
            pl.col("arrivals").fill_null("[]"),
        )
        .select(CASE_FIELDS)
    )


def _arrivals(events: pl.DataFrame, flow: Flow) -> pl.DataFrame:
    """Per case with branches waiting at a join: ``arrivals`` as ``json.dumps`` writes it.

    As :func:`boflyt.engine.case.routes.arrive` does in replay: each completion adds its step to
    the joins its route ``reaches``, and a join's own completion clears what had reached it.
    """
    reach = [
        (step, outcome or _NO_OUTCOME, join)
        for (step, outcome), route in flow.routes.items()
        for join in route.reaches
    ]
    if not reach:
        return pl.DataFrame(schema={"case_id": _TEXT, "arrivals": _TEXT})
    done = (
        events.lazy()
        .filter(pl.col("kind") == _DONE)
        .select("case_id", "seq", "step", pl.col("outcome").fill_null(_NO_OUTCOME))
    )
    routes = pl.LazyFrame(reach, schema=["step", "outcome", "join"], orient="row")
    cleared = (
        done.filter(pl.col("step").is_in(list(flow.join_inputs)))
        .group_by("case_id", pl.col("step").alias("join"))
        .agg(pl.col("seq").max().alias("cleared"))
    )
    waiting = (
        done.join(routes, on=["step", "outcome"])
        .join(cleared, on=["case_id", "join"], how="left")
        .filter(pl.col("cleared").is_null() | (pl.col("seq") >= pl.col("cleared")))
        .group_by("case_id", "join")
        .agg(pl.col("step").unique().sort().str.join('", "').alias("sources"))
        .sort("case_id", "join")
    )
    pair = pl.format('["{}", ["{}"]]', "join", "sources")
    return (
        waiting.group_by("case_id", maintain_order=True)
        .agg(pair.str.join(", ").alias("arrivals"))
        .select("case_id", pl.format("[{}]", "arrivals").alias("arrivals"))
        .collect()
    )
