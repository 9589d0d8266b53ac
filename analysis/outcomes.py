"""Outcome metrics: the figures a process owner declared to judge a routine by, three ways.

A version's ``outcome_metrics`` (see :class:`~boflyt.models.definition.OutcomeMetric`) name
steps; ``share`` is the share of cases that reach any of them, ``time_to`` the working days
from the case's start until work begins on the first of them a case reaches (for an end step:
until the case ends there), over the cases that reach one. Each is computed

* **designed**, from the graph alone (:func:`designed_outcomes`): the absorbing Markov chain
  of :mod:`boflyt.analysis.chain` with the listed steps made absorbing. With ``h`` the chance
  of reaching them and ``g`` the expected time-weighted hit from each step, ``h = W h`` and
  ``g = W g + Σ w · cost · h``, where an edge's cost is its source's mean wait plus mean touch
  (working days). A parallel block is one edge: its branches are independent, so it hits the
  steps with 1 − Π(1 − h_b) and is left through the join after its slowest branch (the lead
  time's lower bound, as in :func:`~boflyt.analysis.design.lead_time`);
* **simulated** and **registered** from an event log (:func:`logged_outcomes`): per mode of
  the log (``live`` = registered, ``simulated``, ``imported``), over the finished cases, the
  first ``step_started`` (or ``step_completed`` less its touch minutes) of a listed step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from boflyt.analysis.chain import parallel_blocks
from boflyt.analysis.observed import working_minutes
from boflyt.engine.calendar import DEFAULT_CALENDAR, WorkCalendar
from boflyt.models.definition import MINUTES_PER_WORKING_DAY, OutcomeMetric, Step, Version
from boflyt.models.errors import DefinitionError, Problem
from boflyt.models.vocabulary import EventKind, StepKind

__all__ = ["DESIGNED", "OutcomeFigure", "designed_outcomes", "logged_outcomes", "outcome_table"]

DESIGNED = "designed"
"""The source of a figure computed from the graph; logged figures carry the log's mode."""

_HIT = "\0hit"
"""The one absorbing node every listed step leads to once its work begins."""


@dataclass(frozen=True)
class OutcomeFigure:
    """One outcome metric of one version from one source.

    ``value`` is the share (0–1) for ``share``, the mean working days for ``time_to`` (None
    when no case reaches the steps). ``reach`` is the share of cases reaching the steps (for
    both measures); ``cases`` and ``reached`` count the finished cases a logged figure stands
    on (None when designed).
    """

    metric: str
    measure: str
    source: str
    """``designed``, or the mode of the logged cases: ``live``, ``simulated``, ``imported``."""
    value: float | None
    reach: float | None
    cases: int | None = None
    reached: int | None = None
    median: float | None = None
    """The median working days of a logged ``time_to`` figure."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- designed ------------------------------------------------------------------------------

Edges = dict[str, list[tuple[str, float, float]]]
"""``edges[u]``: (target, weight, working days from arrival at u to arrival at the target)."""


def _days(step: Step) -> float:
    """Mean working days from arriving at ``step`` to leaving it."""
    return step.wait_days.mean + step.touch_minutes.mean / MINUTES_PER_WORKING_DAY


def _graph(version: Version, targets: frozenset[str]) -> Edges:
    """Every transition as an edge with its weight and cost; a listed step only leads to the hit
    (after its wait: the hit is when work on it begins)."""
    edges: Edges = {step.id: [] for step in version.steps}
    for t in version.transitions:
        if t.source in edges and t.target in edges:
            edges[t.source].append((t.target, t.p, _days(version.step(t.source))))
    for step_id in targets:
        edges[step_id] = [(_HIT, 1.0, version.step(step_id).wait_days.mean)]
    return edges


def _solve(
    version: Version, edges: Edges, nodes: list[str], first: str, goal: str
) -> tuple[float, float]:
    """From ``first``: the chance of reaching ``goal`` inside ``nodes``, and E[days · 1{reached}].

    Raises:
        DefinitionError: when a loop can never be left.
    """
    index = {node: i for i, node in enumerate(nodes)}
    inner = np.zeros((len(nodes), len(nodes)))
    hit, cost = np.zeros(len(nodes)), np.zeros((len(nodes), len(nodes)))
    direct = np.zeros(len(nodes))
    for u in nodes:
        for v, w, days in edges.get(u, []):
            if v == goal:
                hit[index[u]] += w
                direct[index[u]] += w * days
            elif v in index:
                inner[index[u], index[v]] += w
                cost[index[u], index[v]] += w * days
    matrix = np.eye(len(nodes)) - inner
    try:
        h = np.linalg.solve(matrix, hit)
        g = np.linalg.solve(matrix, direct + cost @ h)
    except np.linalg.LinAlgError as exc:
        raise _never_left(version) from exc
    if not (np.all(np.isfinite(h)) and np.all(np.isfinite(g))):
        raise _never_left(version)
    return float(h[index[first]]), float(g[index[first]])


def _never_left(version: Version) -> DefinitionError:
    message = "outcome metrics: some loop can never be left (its exits have probability 0)"
    return DefinitionError([Problem(version.key, 0, "transitions", message)])


def _collapse(version: Version, edges: Edges, targets: frozenset[str]) -> None:
    """Replace each parallel block (innermost first) by edges from its split to the hit and to
    its join, in place."""
    for block in parallel_blocks(version):
        if block.split in targets:
            continue
        miss, through, hits, slowest = 1.0, 1.0, [], 0.0
        for first, inside in zip(block.entries, block.branches, strict=True):
            if first == block.join:
                continue
            nodes = sorted(inside)
            h, g = _solve(version, edges, nodes, first, _HIT)
            j, gj = _solve(version, edges, nodes, first, block.join)
            miss, through = miss * (1.0 - h), through * j
            hits.append((h, g))
            slowest = max(slowest, gj / j if j > 0 else 0.0)
        reach = 1.0 - miss
        own = _days(version.step(block.split))
        mean_hit = sum(g for _, g in hits) / sum(h for h, _ in hits) if reach > 0 else 0.0
        for node in block.inside:
            edges[node] = []
        edges[block.split] = [(_HIT, reach, own + mean_hit), (block.join, through, own + slowest)]


def _designed(version: Version, metric: OutcomeMetric) -> OutcomeFigure:
    targets = frozenset(metric.steps) & {step.id for step in version.steps}
    edges = _graph(version, targets)
    _collapse(version, edges, targets)
    start = next(step.id for step in version.steps if step.kind is StepKind.START)
    h, g = _solve(version, edges, [step.id for step in version.steps], start, _HIT)
    reach = min(1.0, max(0.0, h))
    if metric.measure == "share":
        value: float | None = reach
    else:
        value = g / h if h > 1e-12 else None
    return OutcomeFigure(metric.id, metric.measure, DESIGNED, value, reach)


def designed_outcomes(version: Version) -> list[OutcomeFigure]:
    """Each outcome metric of ``version`` as designed: from its graph, per case.

    Raises:
        DefinitionError: when the version has no start step or a loop can never be left.

    >>> from tests.factories import make_version
    >>> v = make_version(
    ...     [{"id": "start", "kind": "start"},
    ...      {"id": "check", "kind": "decision", "wait_days": 2},
    ...      {"id": "fix", "kind": "task", "wait_days": 3},
    ...      {"id": "end", "kind": "end"}],
    ...     [{"from": "start", "to": "check"},
    ...      {"from": "check", "to": "fix", "outcome": "bad", "probability": 0.25},
    ...      {"from": "check", "to": "end", "outcome": "ok", "probability": 0.75},
    ...      {"from": "fix", "to": "end"}]
    ... ).model_copy(update={"outcome_metrics": (
    ...     OutcomeMetric(id="fixed", name={"nb": "a", "en": "b"}, measure="share", steps=("fix",)),
    ...     OutcomeMetric(id="to_fix", name={"nb": "a", "en": "b"}, measure="time_to",
    ...                   steps=("fix",)))})
    >>> [(f.metric, f.value) for f in designed_outcomes(v)]  # time: 2 wd at check, 3 before fix
    [('fixed', 0.25), ('to_fix', 5.0)]
    """
    if not any(step.kind is StepKind.START for step in version.steps):
        raise DefinitionError([Problem(version.key, 0, "steps", "no start step")])
    return [_designed(version, metric) for metric in version.outcome_metrics]


# --- from an event log ---------------------------------------------------------------------

_BEGUN = (EventKind.STEP_STARTED.value, EventKind.STEP_COMPLETED.value)


def _cases(log: pl.DataFrame) -> pl.DataFrame:
    """Per case (and mode: a joined log may reuse ids): whether it finished, when it started."""
    kind = pl.col("kind")
    return log.group_by("mode", "case_id").agg(
        (kind == EventKind.CASE_FINISHED.value).any().alias("finished"),
        pl.col("wm").filter(kind == EventKind.CASE_STARTED.value).min().alias("begin"),
        pl.col("wm").min().alias("first"),
    )


def _first_hits(log: pl.DataFrame, steps: Iterable[str]) -> pl.DataFrame:
    """Per case: the working minute work first began on one of ``steps``."""
    begun = pl.col("wm") - pl.when(pl.col("kind") == EventKind.STEP_COMPLETED.value).then(
        pl.col("touch_minutes").cast(pl.Float64).fill_null(0.0)
    ).otherwise(0.0)
    return (
        log.filter(pl.col("step").is_in(list(steps)) & pl.col("kind").is_in(_BEGUN))
        .group_by("mode", "case_id")
        .agg(begun.min().alias("hit"))
    )


def _per_mode(
    cases: pl.DataFrame, log: pl.DataFrame, metric: OutcomeMetric, per_day: float
) -> list[OutcomeFigure]:
    hits = _first_hits(log, metric.steps)
    joined = cases.join(hits, on=["mode", "case_id"], how="left").with_columns(
        ((pl.col("hit") - pl.coalesce("begin", "first")) / per_day).alias("days")
    )
    summary = (
        joined.group_by("mode")
        .agg(
            pl.len().alias("cases"),
            pl.col("hit").is_not_null().sum().alias("reached"),
            pl.col("days").mean().alias("mean"),
            pl.col("days").median().alias("median"),
        )
        .sort("mode")
    )
    figures = []
    for row in summary.iter_rows(named=True):
        n, reached = int(row["cases"]), int(row["reached"])
        timed = metric.measure == "time_to"
        value, median = (row["mean"], row["median"]) if timed else (reached / n, None)
        source = str(row["mode"])
        figures.append(
            OutcomeFigure(metric.id, metric.measure, source, value, reached / n, n, reached, median)
        )
    return figures


def logged_outcomes(
    events: pl.DataFrame, version: Version, *, calendar: WorkCalendar = DEFAULT_CALENDAR
) -> list[OutcomeFigure]:
    """Each outcome metric of ``version`` over the finished cases of an event log, per mode.

    ``events`` has the event-log columns plus ``process``, ``version`` and ``mode`` (as from
    ``engine.store.event_frame`` or a simulation); only the cases of ``version`` count. A mode
    without finished cases gives no figure.

    Raises:
        ValueError: when the log lacks a column it needs.
    """
    needed = {"case_id", "kind", "at", "step", "touch_minutes", "process", "version", "mode"}
    missing = sorted(needed - set(events.columns))
    if missing:
        raise ValueError(f"event log lacks column(s) {', '.join(missing)}")
    mine = events.filter(
        (pl.col("process") == version.process) & (pl.col("version") == version.version)
    )
    if mine.is_empty():
        return []
    log = mine.select(
        pl.col("case_id").cast(pl.String), pl.col("kind").cast(pl.String),
        pl.col("step").cast(pl.String), pl.col("touch_minutes"),
        pl.col("mode").cast(pl.String), working_minutes(mine["at"], calendar).alias("wm"),
    )  # fmt: skip
    cases = _cases(log).filter(pl.col("finished"))
    figures: list[OutcomeFigure] = []
    for metric in version.outcome_metrics:
        figures += _per_mode(cases, log, metric, calendar.minutes_per_day)
    return figures


def outcome_table(
    version: Version, logged: Iterable[OutcomeFigure] = ()
) -> list[tuple[OutcomeMetric, list[OutcomeFigure]]]:
    """Each outcome metric of ``version`` with its designed figure first, then the logged ones
    (by source), as a table of rows for screens and reports."""
    designed = {figure.metric: figure for figure in designed_outcomes(version)}
    by_metric: dict[str, list[OutcomeFigure]] = {}
    for figure in logged:
        by_metric.setdefault(figure.metric, []).append(figure)
    return [
        (metric, [designed[metric.id], *by_metric.get(metric.id, [])])
        for metric in version.outcome_metrics
    ]
