"""Discovery: the as-is flow drafted from an event log, as plain data for a version file.

:func:`discover` reads an event frame (live, simulated or imported: the store's frame, see
:mod:`boflyt.engine.store.frame`) and drafts a version of the flow it shows; :func:`first_part`
keeps the cases that started before a cut, and :func:`discover_before` drafts from them (the
calibration fits on the first part of a log and tests on the rest). The rules, each written
once here and quoted in ``docs/guide/discovery.md``:

* **Traces.** A case's trace is its completed steps (``step_completed`` events) in ``seq``
  order: by time, ties in the log's order.
* **Steps.** An activity (a step id of the log) done in at least ``threshold`` × the cases
  becomes a step; the others are left out (and listed) and removed from the traces, so their
  neighbours follow each other directly.
* **Lanes.** A step's lane is the organisation (the ``lane`` column, else ``org``) that completed
  it most often (ties: the first by name); an organisation is a lane id as it is when it is one,
  else its slug, named by the organisation in both languages.
* **Start and ends.** In a log of Boflyt's own (live or simulated), an activity done once,
  first, in every case and at once (no waiting, no touch time) *is* the start step; else a
  ``start`` step is added. An activity done at most once per case, always last and at once is
  an end step (a simulated log's ends); a case whose trace ends with any other activity goes on
  to an added ``end``. An imported log records people's work only, so its activities are never
  taken for the engine's start or end steps: its first activity (which waits for nothing, since
  an imported case begins at its first event) stays a step of its organisation.
  When cases begin with different activities, the start leads to an added decision
  ``first_activity`` (a start step may not branch).
* **Transitions.** The directly-follows relation of the traces: ``a -> b`` counted each time
  ``b`` directly follows ``a`` in a case. An edge carrying less than ``edge_threshold`` of what
  leaves ``a`` is dropped, unless a step would then be unreachable from the start or unable to
  reach an end: the most frequent dropped edge that mends it comes back, until none is.
* **Decisions.** A step with several outgoing transitions is a ``decision``; outcome
  ``to_<target>``, probability its share of the kept edges leaving the step (four decimals,
  summing to 1).
* **Rework.** A depth-first walk from the start, most frequent edge first, marks each edge that
  returns to a step on the walk's current path (a loop, a repeat ``a -> a``) ``rework: true``.
* **Durations.** Waiting before a step: working time from the previous completion of its case
  (the case's start for the first) to its begin (completion minus touch time); touch time: the
  ``touch_minutes`` of its completions, known only where the log pairs start and completion
  events. Each is written ``[p10, p90]`` (uniform) of the observed values; a step with no
  touch time observed keeps the default 0 and says so in its note.
* **Left for the facilitator.** What a log cannot tell: each step's value class and wastes
  (``value: null``, ``wastes: []``), channel, registers and %C&A (defaults), outside parties.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from typing import Any

import polars as pl

from boflyt.analysis.draft import (
    FACILITATOR,
    DraftStep,
    DraftVersion,
    LeftOut,
    StepFigures,
    draft_lanes,
    summary,
    version_data,
)
from boflyt.analysis.follows import Edges, back_edges, filtered
from boflyt.analysis.observed import working_minutes
from boflyt.engine.calendar import DEFAULT_CALENDAR, WorkCalendar
from boflyt.models.definition import Text
from boflyt.models.vocabulary import EventKind, Mode, StepKind

__all__ = [
    "FACILITATOR",
    "DraftVersion",
    "LeftOut",
    "StepFigures",
    "discover",
    "discover_before",
    "first_part",
    "lane_id",
]

_DONE, _BEGIN = EventKind.STEP_COMPLETED.value, EventKind.CASE_STARTED.value
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_STEP_LIMIT = 60
"""Step ids stay short enough that ``to_<id>`` is an id (at most 64)."""
_START, _END, _FIRST = "start", "end", "first_activity"
_EPS = 1e-9


_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "Ae", "Ø": "O", "Å": "A", "ß": "ss"})
"""Letters NFKD does not take apart into ASCII."""


def _slug(text: str, limit: int) -> str:
    plain = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    ascii_text = plain.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:limit].strip("_")
    if not slug:
        return "x"
    return slug if slug[0].isalpha() else f"x_{slug}"[:limit]


def lane_id(organisation: str) -> str:
    """The lane id of an organisation: itself when it is an id, else its slug.

    >>> lane_id("nav"), lane_id("Group 4"), lane_id("2nd line")
    ('nav', 'group_4', 'x_2nd_line')
    """
    return (
        organisation
        if _ID.match(organisation) and len(organisation) <= 64
        else _slug(organisation, 64)
    )


def first_part(events: pl.DataFrame, cut: dt.datetime) -> pl.DataFrame:
    """The events of the cases whose first event is before ``cut`` (naive UTC).

    >>> log = pl.DataFrame({"case_id": ["a", "a", "b"], "at": [dt.datetime(2024, 1, d)
    ...     for d in (1, 9, 5)]})
    >>> first_part(log, dt.datetime(2024, 1, 3))["case_id"].to_list()
    ['a', 'a']
    """
    early = events.group_by("case_id").agg(pl.col("at").min()).filter(pl.col("at") < cut)
    return events.filter(pl.col("case_id").is_in(early["case_id"].implode()))


def discover_before(
    events: pl.DataFrame, cut: dt.datetime, *, process: str, **options: Any
) -> DraftVersion:
    """:func:`discover` on :func:`first_part` ``(events, cut)``; ``options`` as there.

    Raises:
        ValueError: no case started before ``cut``, or as :func:`discover`.
    """
    return discover(first_part(events, cut), process=process, **options)


def discover(
    events: pl.DataFrame,
    *,
    process: str,
    number: int = 1,
    threshold: float = 0.05,
    edge_threshold: float = 0.05,
    names: Mapping[str, str] | None = None,
    title: Text | None = None,
    based_on: int | None = None,
    owner: str = "boflyt discover",
    date: dt.date | None = None,
    source: str = "the event log",
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> DraftVersion:
    """Draft version ``number`` of ``process`` from the event frame ``events`` (rules: the
    module's docstring).

    ``names`` maps a step id of the log to its activity's name (an import keeps them), used as
    the step's name; ``title`` is the process's name (default: its id); ``date`` defaults to
    the day of the log's last event, so the draft depends on the log alone.

    Raises:
        ValueError: a threshold outside 0..1, or no activity done in enough cases.
    """
    for label, value in (("threshold", threshold), ("edge_threshold", edge_threshold)):
        if not 0 <= value <= 1:
            raise ValueError(f"{label} must lie in 0..1, not {value:g}")
    traces, total = _traces(events, calendar), events["case_id"].n_unique()
    counts = traces.group_by("step").agg(pl.col("case_id").n_unique().alias("n"))
    kept = counts.filter(pl.col("n") >= threshold * total)["step"].implode()
    if counts.filter(pl.col("step").is_in(kept)).is_empty():
        raise ValueError(f"no activity is done in {threshold:.0%} of the {total} case(s)")
    left_out = tuple(
        LeftOut((names or {}).get(step, step), n, n / total)
        for step, n in counts.filter(~pl.col("step").is_in(kept))
        .sort(["n", "step"], descending=[True, False])
        .iter_rows()
    )
    traces = _linked(traces.filter(pl.col("step").is_in(kept)), calendar)
    logged = "mode" in events.columns and bool((events["mode"] == Mode.IMPORTED.value).all())
    nodes = _nodes(traces, names or {}, engine_steps=not logged)
    edges = _edges(traces, nodes)
    ends = {n.id for n in nodes if n.figures.kind is StepKind.END}
    kept_edges, dropped = filtered(edges, start=nodes[0].id, ends=ends, share=edge_threshold)
    nodes, kept_edges = _first_branch(nodes, kept_edges)
    nodes = _decisions(nodes, kept_edges)
    rework = back_edges(kept_edges, nodes[0].id)
    last = traces["at"].dt.date().max()
    day = date or (last if isinstance(last, dt.date) else dt.date(1970, 1, 1))
    data = version_data(
        nodes, kept_edges, rework, process=process, number=number, title=title,
        based_on=based_on, owner=owner, date=day,
        summary=summary(source, total, events.height, nodes, left_out, threshold),
    )  # fmt: skip
    return DraftVersion(
        process=process, number=number, data=data,
        lanes=draft_lanes(nodes), steps=tuple(n.figures for n in nodes), left_out=left_out,
        cases=total, events=events.height, edges=len(edges), dropped_edges=dropped,
        arrivals_per_week=_arrivals(traces),
    )  # fmt: skip


# -- traces -----------------------------------------------------------------------------------


def _traces(events: pl.DataFrame, calendar: WorkCalendar) -> pl.DataFrame:
    """Completed steps in case and ``seq`` order, with working minutes of each completion and
    of its case's start (the ``case_started`` event, else the case's first event)."""
    starts = events.group_by("case_id").agg(
        pl.coalesce(pl.col("at").filter(pl.col("kind") == _BEGIN).min(), pl.col("at").min()).alias(
            "begun"
        )
    )
    done = (
        events.filter((pl.col("kind") == _DONE) & pl.col("step").is_not_null())
        .sort("case_id", "seq")
        .join(starts, on="case_id", how="left", maintain_order="left")
        .select(
            "case_id",
            "step",
            "at",
            "begun",
            pl.coalesce("lane", "org").alias("lane"),
            pl.col("touch_minutes").alias("touch"),
        )
    )
    if done.is_empty():
        raise ValueError("the log has no completed step to discover a flow from")
    return done.with_columns(
        working_minutes(done["at"], calendar).alias("wm"),
        working_minutes(done["begun"], calendar).alias("begun_wm"),
    )


def _linked(traces: pl.DataFrame, calendar: WorkCalendar) -> pl.DataFrame:
    """Each completion with its neighbours in the filtered trace, its position and its wait
    (working days from the previous completion, or the case's start, to its begin)."""
    case = "case_id"
    previous = pl.col("wm").shift(1).over(case).fill_null(pl.col("begun_wm"))
    begin = pl.col("wm") - pl.col("touch").fill_null(0.0)
    return traces.with_columns(
        pl.col("step").shift(1).over(case).alias("prev"),
        pl.col("step").shift(-1).over(case).alias("next"),
        pl.int_range(pl.len()).over(case).alias("pos"),
        ((begin - previous).clip(lower_bound=0.0) / calendar.minutes_per_day).alias("wait"),
    )


def _p10_p90(values: list[float | None]) -> tuple[float, float] | None:
    clean = pl.Series(values, dtype=pl.Float64).drop_nulls()
    if clean.is_empty():
        return None
    low, high = (clean.quantile(q, "linear") for q in (0.1, 0.9))
    return float(low or 0.0), float(high or 0.0)


# -- steps ------------------------------------------------------------------------------------


def _unique(base: str, taken: set[str]) -> str:
    found, n = base, 1
    while found in taken:
        n += 1
        found = f"{base[: _STEP_LIMIT - len(str(n)) - 1]}_{n}"
    taken.add(found)
    return found


def _text(name: str) -> Text:
    short = name[:300]
    return Text(nb=short, en=short)


def _nodes(
    traces: pl.DataFrame, names: Mapping[str, str], *, engine_steps: bool
) -> list[DraftStep]:
    """The draft's steps: start first, then the activities by mean position, then the ends;
    ``engine_steps``: the log may hold the engine's start and end steps (not an import)."""
    cases = traces["case_id"].n_unique()
    stats = _activity_stats(traces)
    taken: set[str] = set()
    nodes: list[DraftStep] = []
    for row in stats.iter_rows(named=True):
        once, instant = row["most"] == 1, row["instant"]
        kind = StepKind.TASK
        if engine_steps and once and instant:
            if row["firsts"] == cases == row["done"]:
                kind = StepKind.START
            elif row["lasts"] == row["done"] and row["touched"] == 0:
                kind = StepKind.END
        step: str = row["step"]
        plain = step if _ID.match(step) and len(step) <= _STEP_LIMIT else _slug(step, _STEP_LIMIT)
        figures = StepFigures(
            id=_unique(plain, taken), activity=names.get(step, step), kind=kind,
            lane=lane_id(row["lane"]) if row["lane"] else "unassigned",
            lane_share=row["lane_share"], done=row["done"], cases=row["cases"],
            touch=_p10_p90(row["touches"]) if kind is StepKind.TASK else None,
            wait=_p10_p90(row["waits"]) if kind is StepKind.TASK else None,
            touch_observed=row["touched"],
        )  # fmt: skip
        node = DraftStep(figures, step, _text(figures.activity), row["position"])
        node.organisation = row["lane"]
        nodes.append(node)
    return _with_added(nodes, traces, taken)


def _activity_stats(traces: pl.DataFrame) -> pl.DataFrame:
    """Per activity: completions, cases, most per case, firsts, lasts, instant, main lane,
    waits and touches, mean position; in order of mean position."""
    per_case = traces.group_by("step", "case_id").len()
    lanes = (
        traces.group_by("step", "lane")
        .len()
        .sort(["step", "len", "lane"], descending=[False, True, False], nulls_last=True)
        .group_by("step", maintain_order=True)
        .agg(pl.col("lane").first(), (pl.col("len").first() / pl.col("len").sum()).alias("ls"))
    )
    zero = (pl.col("wait") <= _EPS) & (pl.col("touch").fill_null(0.0) <= _EPS)
    stats = traces.group_by("step").agg(
        pl.len().alias("done"),
        pl.col("case_id").n_unique().alias("cases"),
        pl.col("prev").is_null().sum().alias("firsts"),
        pl.col("next").is_null().sum().alias("lasts"),
        zero.all().alias("instant"),
        pl.col("touch").is_not_null().sum().alias("touched"),
        pl.col("wait").alias("waits"),
        pl.col("touch").alias("touches"),
        pl.col("pos").mean().alias("position"),
    )
    most = per_case.group_by("step").agg(pl.col("len").max().alias("most"))
    return (
        stats.join(most, on="step")
        .join(lanes.rename({"ls": "lane_share"}), on="step")
        .sort("position", "step")
    )


def _added(
    step_id: str, kind: StepKind, lane: str, name: Text, position: float, note: str
) -> DraftStep:
    figures = StepFigures(step_id, name.en, kind, lane, 1.0, 0, 0, None, None)
    return DraftStep(figures, None, name, position, note)


def _main_lane(traces: pl.DataFrame, where: pl.Expr) -> str:
    """The lane of the most frequent activity among the completions ``where`` selects."""
    found = (
        traces.filter(where).group_by("lane").len().sort(["len", "lane"], descending=[True, False])
    )
    lane = found["lane"][0] if found.height else None
    return lane_id(lane) if lane else "unassigned"


def _with_added(nodes: list[DraftStep], traces: pl.DataFrame, taken: set[str]) -> list[DraftStep]:
    """``nodes`` with the added start (and first-activity decision) and end where needed."""
    starts = [n for n in nodes if n.figures.kind is StepKind.START]  # one at most: the first
    middle = [n for n in nodes if n.figures.kind is StepKind.TASK]
    ends = [n for n in nodes if n.figures.kind is StepKind.END]
    first_lane = _main_lane(traces, pl.col("prev").is_null())
    if not starts:
        starts = [_added(_unique(_START, taken), StepKind.START, first_lane,
                         Text(nb="Saken starter", en="Case starts"), -2.0,
                         "Added by discovery: where every case begins.")]  # fmt: skip
    end_steps = {n.activity for n in ends}
    open_ends = pl.col("next").is_null() & ~pl.col("step").is_in(list(end_steps))
    if traces.filter(open_ends).height:
        ends.append(_added(_unique(_END, taken), StepKind.END, _main_lane(traces, open_ends),
                           Text(nb="Saken avsluttes", en="Case ends"), float("inf"),
                           "Added by discovery: where the cases end."))  # fmt: skip
    return [*starts, *middle, *ends]


# -- transitions ------------------------------------------------------------------------------


def _edges(traces: pl.DataFrame, nodes: list[DraftStep]) -> Edges:
    """The directly-follows counts between the draft's steps, the added start and end too."""
    ids = {n.activity: n.id for n in nodes if n.activity is not None}
    start, end = nodes[0], nodes[-1]
    found: Counter[tuple[str, str]] = Counter()
    pairs = traces.filter(pl.col("prev").is_not_null()).group_by("prev", "step").len()
    for source, target, n in pairs.iter_rows():
        found[ids[source], ids[target]] += n
    if start.activity is None:
        for step, n in traces.filter(pl.col("prev").is_null()).group_by("step").len().iter_rows():
            found[start.id, ids[step]] += n
    if end.activity is None:
        lasts = traces.filter(pl.col("next").is_null()).group_by("step").len()
        for step, n in lasts.iter_rows():
            if ids[step] != end.id and _kind(nodes, ids[step]) is not StepKind.END:
                found[ids[step], end.id] += n
    return dict(sorted(found.items()))


def _kind(nodes: list[DraftStep], step_id: str) -> StepKind:
    return next(n.figures.kind for n in nodes if n.id == step_id)


def _first_branch(nodes: list[DraftStep], edges: Edges) -> tuple[list[DraftStep], Edges]:
    """A start with several kept successors leads to an added decision ``first_activity``
    (a start step may not branch)."""
    start = nodes[0]
    leaving = {e: n for e, n in edges.items() if e[0] == start.id}
    if len(leaving) < 2:
        return nodes, edges
    first = _added(_unique(_FIRST, {n.id for n in nodes}), StepKind.DECISION,
                   start.figures.lane, Text(nb="Første aktivitet", en="First activity"), -1.0,
                   "Added by discovery: cases begin with different activities, and a start "
                   "step may not branch.")  # fmt: skip
    rest = {e: n for e, n in edges.items() if e[0] != start.id}
    rest[start.id, first.id] = sum(leaving.values())
    rest.update({(first.id, target): n for (_, target), n in leaving.items()})
    return [start, first, *nodes[1:]], dict(sorted(rest.items()))


def _decisions(nodes: list[DraftStep], edges: Edges) -> list[DraftStep]:
    """Tasks with several outgoing transitions become decisions."""
    out = Counter(source for source, _ in edges)
    for node in nodes:
        if node.figures.kind is StepKind.TASK and out[node.id] > 1:
            node.figures = StepFigures(**{**node.figures.__dict__, "kind": StepKind.DECISION})
    return nodes


def _arrivals(traces: pl.DataFrame) -> float:
    """New cases per calendar week over the span of the cases' starts (at least a day)."""
    begun = traces.group_by("case_id").agg(pl.col("begun").first())["begun"]
    seconds = begun.dt.epoch("s")
    span = (_number(seconds.max()) - _number(seconds.min())) / 86_400
    return round(begun.len() / max(span, 1.0) * 7, 3)


def _number(value: object) -> float:
    """A polars scalar aggregate as a float (0.0 when the column was empty)."""
    return float(value) if isinstance(value, int | float) else 0.0
