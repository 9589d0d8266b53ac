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
* **Start and ends.** An activity done once, first, in every case and at once (no waiting, no
  touch time) *is* the start step (a simulated log's start); else a ``start`` step is added.
  An activity done at most once per case, always last and at once is an end step (a simulated
  log's ends); a case whose trace ends with any other activity goes on to an added ``end``.
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
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from boflyt.analysis.observed import working_minutes
from boflyt.engine.calendar import DEFAULT_CALENDAR, WorkCalendar
from boflyt.models.definition import Lane, LaneCatalog, Text, Version
from boflyt.models.vocabulary import EventKind, StepKind

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

FACILITATOR = "to be set by the facilitator"
"""The note on what a log cannot tell (value class, wastes)."""

_DONE, _BEGIN = EventKind.STEP_COMPLETED.value, EventKind.CASE_STARTED.value
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_STEP_LIMIT = 60
"""Step ids stay short enough that ``to_<id>`` is an id (at most 64)."""
_START, _END, _FIRST = "start", "end", "first_activity"
_EPS = 1e-9


@dataclass(frozen=True)
class LeftOut:
    """An activity done in too few cases to become a step."""

    activity: str
    cases: int
    share: float


@dataclass(frozen=True)
class StepFigures:
    """What the log says about one step: how often, where, how long (working time)."""

    id: str
    activity: str
    """The activity's name in the log (the step id itself when no name is known)."""
    kind: StepKind
    lane: str
    lane_share: float
    """Share of the step's completions done by its lane's organisation."""
    done: int
    cases: int
    touch: tuple[float, float] | None
    """p10 and p90 of the observed touch minutes; None when no completion has them."""
    wait: tuple[float, float] | None
    """p10 and p90 of the waiting before the step, in working days; None for added steps."""
    touch_observed: int = 0


@dataclass(frozen=True)
class DraftVersion:
    """A drafted version as plain data: :attr:`data` is the version file's mapping.

    ``lanes`` are the lanes the draft uses, named by the log's organisations: those the library
    does not know yet must be added to ``lanes.yaml`` (:meth:`lane_catalog`).
    """

    process: str
    number: int
    data: dict[str, Any]
    lanes: tuple[Lane, ...]
    steps: tuple[StepFigures, ...]
    left_out: tuple[LeftOut, ...]
    cases: int
    events: int
    edges: int
    """Directly-follows pairs of the filtered traces (with the added start and end)."""
    dropped_edges: tuple[tuple[str, str, int], ...] = field(default=())
    """Edges left out by ``edge_threshold``: source, target, count."""
    arrivals_per_week: float = 0.0
    """New cases per calendar week over the log's span (for a scenario)."""

    def version(self) -> Version:
        """The draft as a :class:`~boflyt.models.definition.Version` (fields checked, not the
        graph rules: :func:`boflyt.engine.definition.validate.validate` does those)."""
        return Version.model_validate(self.data)

    def lane_catalog(self, known: LaneCatalog) -> LaneCatalog:
        """``known`` with the draft's lanes it lacks added at its end."""
        extra = tuple(lane for lane in self.lanes if known.get(lane.id) is None)
        return LaneCatalog(lanes=(*known.lanes, *extra))

    @property
    def touch_known(self) -> bool:
        """True when any step has observed touch time (the log has start events)."""
        return any(step.touch is not None for step in self.steps)


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
        LeftOut(step, n, n / total)
        for step, n in counts.filter(~pl.col("step").is_in(kept))
        .sort(["n", "step"], descending=[True, False])
        .iter_rows()
    )
    traces = _linked(traces.filter(pl.col("step").is_in(kept)), calendar)
    nodes = _nodes(traces, names or {})
    edges = _edges(traces, nodes)
    kept_edges, dropped = _filtered(edges, nodes, edge_threshold)
    nodes, kept_edges = _first_branch(nodes, kept_edges)
    nodes = _decisions(nodes, kept_edges)
    rework = _back_edges(kept_edges, nodes[0].id)
    last = traces["at"].dt.date().max()
    day = date or (last if isinstance(last, dt.date) else dt.date(1970, 1, 1))
    data = _version_data(
        nodes, kept_edges, rework, process=process, number=number, title=title,
        based_on=based_on, owner=owner, date=day,
        summary=_summary(source, total, events.height, nodes, left_out, threshold),
    )  # fmt: skip
    return DraftVersion(
        process=process, number=number, data=data,
        lanes=_lanes(nodes), steps=tuple(n.figures for n in nodes), left_out=left_out,
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


@dataclass
class _Node:
    """A step of the draft: what the log says, and the activity it stands for (if any)."""

    figures: StepFigures
    activity: str | None
    name: Text
    position: float = 0.0
    note: str = ""
    organisation: str | None = None

    @property
    def id(self) -> str:
        return self.figures.id


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


def _nodes(traces: pl.DataFrame, names: Mapping[str, str]) -> list[_Node]:
    """The draft's steps: start first, then the activities by mean position, then the ends."""
    cases = traces["case_id"].n_unique()
    stats = _activity_stats(traces)
    taken: set[str] = set()
    nodes: list[_Node] = []
    for row in stats.iter_rows(named=True):
        once, instant = row["most"] == 1, row["instant"]
        kind = StepKind.TASK
        if once and instant and row["firsts"] == cases == row["done"]:
            kind = StepKind.START
        elif once and instant and row["lasts"] == row["done"] and row["touched"] == 0:
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
        node = _Node(figures, step, _text(figures.activity), row["position"])
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
) -> _Node:
    figures = StepFigures(step_id, name.en, kind, lane, 1.0, 0, 0, None, None)
    return _Node(figures, None, name, position, note)


def _main_lane(traces: pl.DataFrame, where: pl.Expr) -> str:
    """The lane of the most frequent activity among the completions ``where`` selects."""
    found = (
        traces.filter(where).group_by("lane").len().sort(["len", "lane"], descending=[True, False])
    )
    lane = found["lane"][0] if found.height else None
    return lane_id(lane) if lane else "unassigned"


def _with_added(nodes: list[_Node], traces: pl.DataFrame, taken: set[str]) -> list[_Node]:
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


def _retyped(figures: StepFigures, kind: StepKind) -> StepFigures:
    return StepFigures(**{**figures.__dict__, "kind": kind})


# -- transitions ------------------------------------------------------------------------------

Edges = dict[tuple[str, str], int]
"""Directly-follows counts: (source step id, target step id) → how often."""


def _edges(traces: pl.DataFrame, nodes: list[_Node]) -> Edges:
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


def _kind(nodes: list[_Node], step_id: str) -> StepKind:
    return next(n.figures.kind for n in nodes if n.id == step_id)


def _reach(edges: Edges | set[tuple[str, str]], roots: set[str], *, back: bool) -> set[str]:
    """The steps reached from ``roots`` along ``edges`` (against them when ``back``)."""
    step: defaultdict[str, list[str]] = defaultdict(list)
    for source, target in edges:
        step[target if back else source].append(source if back else target)
    seen, todo = set(roots), list(roots)
    while todo:
        for other in step[todo.pop()]:
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def _filtered(
    edges: Edges, nodes: list[_Node], edge_threshold: float
) -> tuple[Edges, tuple[tuple[str, str, int], ...]]:
    """The edges carrying at least ``edge_threshold`` of what leaves their source, mended so
    every step is reached from the start and reaches an end; and the edges dropped."""
    out: Counter[str] = Counter()
    for (source, _), n in edges.items():
        out[source] += n
    kept = {e: n for e, n in edges.items() if n >= edge_threshold * out[e[0]]}
    ids = {n.id for n in nodes}
    ends = {n.id for n in nodes if n.figures.kind is StepKind.END}
    for back in (False, True):
        while True:
            reached = _reach(set(kept), ends if back else {nodes[0].id}, back=back)
            if reached >= ids:
                break
            mend = [(n, e) for e, n in edges.items() if e not in kept
                    and (e[1] in reached and e[0] not in reached if back
                         else e[0] in reached and e[1] not in reached)]  # fmt: skip
            n, edge = min(mend, key=lambda found: (-found[0], found[1]))
            kept[edge] = n
    dropped = tuple((s, t, n) for (s, t), n in edges.items() if (s, t) not in kept)
    return dict(sorted(kept.items())), dropped


def _first_branch(nodes: list[_Node], edges: Edges) -> tuple[list[_Node], Edges]:
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


def _decisions(nodes: list[_Node], edges: Edges) -> list[_Node]:
    """Tasks with several outgoing transitions become decisions."""
    out = Counter(source for source, _ in edges)
    for node in nodes:
        if node.figures.kind is StepKind.TASK and out[node.id] > 1:
            node.figures = StepFigures(**{**node.figures.__dict__, "kind": StepKind.DECISION})
    return nodes


def _back_edges(edges: Edges, start: str) -> set[tuple[str, str]]:
    """The edges a depth-first walk from ``start`` (most frequent edge first) finds going back
    to a step on its current path: the rework edges. Without them the graph has no cycle."""
    out: defaultdict[str, list[tuple[int, str]]] = defaultdict(list)
    for (source, target), n in edges.items():
        out[source].append((-n, target))
    walk = {source: iter(sorted(targets)) for source, targets in out.items()}
    on_path, done, back = {start}, set(), set()
    path = [start]
    while path:
        node = path[-1]
        following = next(walk.get(node, iter(())), None)
        if following is None:
            on_path.discard(node)
            done.add(node)
            path.pop()
            continue
        target = following[1]
        if target in on_path:
            back.add((node, target))
        elif target not in done:
            on_path.add(target)
            path.append(target)
    return back


# -- the version ------------------------------------------------------------------------------


def _duration(span: tuple[float, float], digits: int) -> float | list[float]:
    """``[p10, p90]`` rounded; one number when they are equal."""
    low, high = (round(value, digits) for value in span)
    return low if low == high else [low, high]


def _step_note(node: _Node) -> str:
    f = node.figures
    if node.activity is None:
        return node.note
    parts = [
        f"From the log: '{f.activity}', done {f.done} times in {f.cases} cases; "
        f"by {node.organisation or 'no organisation'} in {f.lane_share:.0%} of them."
    ]
    if f.kind not in (StepKind.START, StepKind.END):
        parts.append(f"value and wastes: {FACILITATOR}.")
        if f.touch is None:
            parts.append("touch_minutes unknown: the log has no start events for this activity "
                         "(0 until set).")  # fmt: skip
        elif f.touch_observed < f.done:
            parts.append(f"touch_minutes from the {f.touch_observed} of {f.done} completions "
                         "with a start event.")  # fmt: skip
    return " ".join(parts)


def _step_data(node: _Node) -> dict[str, Any]:
    f = node.figures
    data: dict[str, Any] = {"id": f.id, "kind": f.kind.value, "lane": f.lane,
                            "name": {"nb": node.name.nb, "en": node.name.en}}  # fmt: skip
    if node.activity is not None and f.kind not in (StepKind.START, StepKind.END):
        if f.touch is not None:
            data["touch_minutes"] = _duration(f.touch, 1)
        if f.wait is not None and f.wait[1] > 0:
            data["wait_days"] = _duration(f.wait, 2)
        data["value"] = None
        data["wastes"] = []
    data["note"] = _step_note(node)
    return data


def _transition_data(
    nodes: list[_Node], edges: Edges, rework: set[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Transitions by source step, then most frequent first; decisions with outcomes and
    probabilities (four decimals; the most frequent takes the rest, so they sum to 1)."""
    order = {n.id: i for i, n in enumerate(nodes)}
    decisions = {n.id for n in nodes if n.figures.kind is StepKind.DECISION}
    found: list[dict[str, Any]] = []
    for node in nodes:
        leaving = sorted((-n, order[t], t) for (s, t), n in edges.items() if s == node.id)
        total = -sum(n for n, _, _ in leaving)
        shares = [round(-n / total, 4) for n, _, _ in leaving]
        if shares:
            shares[0] = round(1.0 - sum(shares[1:]), 4)
        for (_, _, target), share in zip(leaving, shares, strict=True):
            edge: dict[str, Any] = {"from": node.id, "to": target}
            if node.id in decisions:
                edge.update(outcome=f"to_{target}", probability=share)
            if (node.id, target) in rework:
                edge["rework"] = True
            found.append(edge)
    return found


def _lanes(nodes: list[_Node]) -> tuple[Lane, ...]:
    """The draft's lanes in the order its steps first use them, named by the organisation."""
    names = {n.figures.lane: n.organisation for n in nodes if n.organisation is not None}
    lanes: dict[str, Lane] = {}
    for node in nodes:
        lane = node.figures.lane
        if lane not in lanes:
            shown = names.get(lane)
            name = _text(shown) if shown else Text(nb="Uten organisasjon", en="No organisation")
            lanes[lane] = Lane(id=lane, name=name)
    return tuple(lanes.values())


def _summary(
    source: str, cases: int, events: int, nodes: list[_Node], left_out: tuple[LeftOut, ...],
    threshold: float,
) -> str:  # fmt: skip
    """The draft's summary, in the library's language (bokmål)."""
    steps = sum(1 for n in nodes if n.activity is not None)
    text = (
        f"Utkast laget av boflyt discover fra {source}: {cases} saker, {events} hendelser. "
        f"{steps} aktiviteter ble steg (utført i minst {threshold:.0%} av sakene)"
    )
    if left_out:
        shown = ", ".join(f"{o.activity} ({o.cases})" for o in left_out[:10])
        more = f" og {len(left_out) - 10} til" if len(left_out) > 10 else ""
        text += f"; utelatt: {shown}{more}"
    text += (
        ". Verdiklasse og sløsing for hvert steg settes av fasilitator (value: null, wastes: "
        "[]); det samme gjelder kanal, registrerte felt og %C&A."
    )
    if not any(n.figures.touch for n in nodes):
        text += " Loggen har bare fullføringer: berøringstid er ukjent (0) til den settes."
    return text[:4000]


def _version_data(
    nodes: list[_Node], edges: Edges, rework: set[tuple[str, str]], *, process: str,
    number: int, title: Text | None, based_on: int | None, owner: str, date: dt.date,
    summary: str,
) -> dict[str, Any]:  # fmt: skip
    name = title or Text(nb=process, en=process)
    return {
        "process": process, "version": number, "label": "Som i dag (utkast fra logg)",
        "based_on": based_on, "status": "draft", "owner": owner, "date": date.isoformat(),
        "summary": summary, "name": {"nb": name.nb, "en": name.en},
        "lanes": [lane.id for lane in _lanes(nodes)],
        "steps": [_step_data(n) for n in nodes],
        "transitions": _transition_data(nodes, edges, rework),
    }  # fmt: skip


def _arrivals(traces: pl.DataFrame) -> float:
    """New cases per calendar week over the span of the cases' starts (at least a day)."""
    begun = traces.group_by("case_id").agg(pl.col("begun").first())["begun"]
    seconds = begun.dt.epoch("s")
    span = (_number(seconds.max()) - _number(seconds.min())) / 86_400
    return round(begun.len() / max(span, 1.0) * 7, 3)


def _number(value: object) -> float:
    """A polars scalar aggregate as a float (0.0 when the column was empty)."""
    return float(value) if isinstance(value, int | float) else 0.0
