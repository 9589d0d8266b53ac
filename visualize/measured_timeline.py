"""The measured value stream: a run set's per-step median wait and touch time, in working time.

The design's ladder (:func:`~boflyt.visualize.value_stream.extract_timeline`) says what a case
is *expected* to take; this one says what the cases of a run set (registered live runs, a
simulation, an imported log) *took*: per step, the median wait before it and the median touch
time, over the cases that had the step, and in the summary the medians per finished case. Built
from an event frame (the caller reads it from the store); drawn by the same renderer, which
words it as measured. A group of fewer than :data:`~boflyt.visualize.value_stream.MIN_GROUP`
cases is never drawn: a step with fewer cases is left out (and counted in the note); a run set
with fewer finished cases gives no timeline at all.

The rolled %C&A is not in an event log (no event says whether the work arrived complete and
accurate), so a measured timeline leaves it out and its note says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from boflyt.analysis.design import DesignMetrics
from boflyt.analysis.observed import observed_metrics, working_minutes
from boflyt.engine.calendar import DEFAULT_CALENDAR, WorkCalendar
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.vocabulary import EventKind
from boflyt.models.words import DEFAULT_LANGUAGE, Language
from boflyt.visualize.diagram import Swimlane
from boflyt.visualize.value_stream import MIN_GROUP, Timeline, TimelineStep, extract_timeline

__all__ = ["StepMeasure", "measured_timeline", "step_measures"]

_READY, _STARTED = EventKind.STEP_READY.value, EventKind.STEP_STARTED.value
_DONE = EventKind.STEP_COMPLETED.value


@dataclass(frozen=True, slots=True)
class StepMeasure:
    """One step's measured figures: the cases that had it, median and 90th-percentile wait
    (working days), median touch time (minutes)."""

    cases: int
    median_wait_days: float | None
    p90_wait_days: float | None
    median_touch_minutes: float | None


def step_measures(
    events: pl.DataFrame, calendar: WorkCalendar = DEFAULT_CALENDAR
) -> dict[str, StepMeasure]:
    """Per step of an event log: cases, median and p90 wait, median touch.

    A work item's wait runs from ``step_ready`` to its own ``step_started`` or, without one (or
    with only the engine's implied start), to ``step_completed`` less its touch minutes — the
    observed analysis's definition. One polars pass; no loop per event.
    """
    kind = pl.col("kind").cast(pl.String)
    log = events.filter(kind.is_in((_READY, _STARTED, _DONE)) & pl.col("item").is_not_null())
    if log.is_empty():
        return {}
    implied = pl.col("detail").cast(pl.String).fill_null("") == "implicit"
    items = (
        log.with_columns(working_minutes(log["at"], calendar).alias("wm"))
        .group_by("case_id", "item")
        .agg(
            pl.col("step").first(),
            pl.col("wm").filter(kind == _READY).first().alias("ready"),
            pl.col("wm").filter((kind == _STARTED) & ~implied).first().alias("started"),
            pl.col("wm").filter(kind == _DONE).first().alias("done"),
            pl.col("touch_minutes").filter(kind == _DONE).first().cast(pl.Float64).alias("touch"),
        )
    )
    wait = (
        pl.coalesce(
            pl.col("started") - pl.col("ready"),
            pl.col("done") - pl.col("ready") - pl.col("touch").fill_null(0.0),
        ).clip(lower_bound=0.0)
        / calendar.minutes_per_day
    )
    table = (
        items.with_columns(wait.alias("wait"))
        .group_by("step")
        .agg(
            pl.col("case_id").n_unique().alias("cases"),
            pl.col("wait").median().alias("median_wait"),
            pl.col("wait").quantile(0.9, interpolation="linear").alias("p90_wait"),
            pl.col("touch").median().alias("median_touch"),
        )
    )
    return {
        row["step"]: StepMeasure(
            row["cases"], row["median_wait"], row["p90_wait"], row["median_touch"]
        )
        for row in table.iter_rows(named=True)
    }


def measured_timeline(
    version: Version,
    events: pl.DataFrame,
    lanes: LaneCatalog | None = None,
    *,
    lang: Language = DEFAULT_LANGUAGE,
    title: str | None = None,
    metrics: DesignMetrics | None = None,
    diagram: Swimlane | None = None,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> Timeline | None:
    """The measured value stream of ``version`` in ``events`` (its run set's event frame).

    The design's work steps in flow order, each with its median wait and touch time over the
    cases that had it; steps of fewer than :data:`MIN_GROUP` cases left out (``hidden``); the
    lead time, touch and waiting the medians per finished case. None when fewer than
    :data:`MIN_GROUP` cases of the version finished. ``metrics`` and ``diagram`` as for
    :func:`~boflyt.visualize.value_stream.extract_timeline`.
    """
    if "version" in events.columns:
        events = events.filter(pl.col("version") == version.version)
    if "process" in events.columns:
        events = events.filter(pl.col("process").cast(pl.String) == version.process)
    if events.is_empty():
        return None
    summary = observed_metrics(events, calendar=calendar).summary
    median = {row["metric"]: row for row in summary.iter_rows(named=True)}
    lead = median.get("lead_days")
    if lead is None or lead["cases"] < MIN_GROUP:
        return None
    design = extract_timeline(version, lanes, lang=lang, metrics=metrics, diagram=diagram)
    found = step_measures(events, calendar)
    steps, hidden = [], 0
    for step in design.steps:
        measure = found.get(step.id)
        if measure is None:
            continue
        if measure.cases < MIN_GROUP:
            hidden += 1
            continue
        steps.append(TimelineStep(step.id, step.number, step.label, step.lane,
                                  measure.median_wait_days or 0.0,
                                  measure.median_touch_minutes or 0.0, step.external))  # fmt: skip
    lead_days = float(lead["median"])
    touch = float(median["touch_minutes"]["median"])
    ratio = 100.0 * touch / (lead_days * calendar.minutes_per_day) if lead_days > 0 else 0.0
    return Timeline(
        key=version.key,
        title=title or design.title,
        lang=lang,
        lanes=design.lanes,
        steps=tuple(steps),
        lead_days=lead_days,
        touch_minutes=touch,
        waiting_days=float(median["waiting_days"]["median"]),
        activity_ratio=ratio,
        rolled_ca=None,
        cases=int(lead["cases"]),
        hidden=hidden,
    )
