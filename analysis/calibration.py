"""Calibrate a simulation scenario from the first part of an event log.

:func:`calibrate` fits what the simulator needs from the cases of a log that started before a
cut (:func:`cut_of`: a share of the cases in start order, or a date), so the rest of the log is
held out to judge the simulation by (:mod:`boflyt.analysis.log_distance`):

* **working time** — the working days are the weekdays holding at least 2 % of the events; a
  working day starts at 08:00 (the simulator's calendar) and lasts until the 99th percentile of
  the events' time of day on working days (whole half hours, 1-16 h); holidays ``none``;
* **arrivals** — the training cases per calendar week between the first case's start (or the
  start of the window, when one is given) and the cut;
* **durations** — per step of the version, from each completed work item: its **wait** from
  ready (its ``step_ready`` event, else the case's previous completion or its start) to its
  start (its ``step_started`` event, else its completion), and its **touch** from start to
  completion, both in working time of the fitted calendar. A step never started in the log has
  touch 0: the log cannot tell work from waiting, so the whole interval is modelled as waiting
  (and says so in :attr:`Calibration.notes`). Each is fitted as a triangular distribution
  with the observed mean, over the 5th to 95th percentile where a triangle with that mean fits
  (:func:`fit_duration`: a long tail shortens the range instead);
* **staff** — per lane (the version's lane of the step; else the event's), the larger of the
  median number of distinct people completing its human steps (tasks, decisions and activities
  the version lacks; start, end and system steps use no staff) in a working week and the peak number
  of its work items being touched at once: the simulator's person works one item at a time all
  working day, so a week's people are the staff, and no fewer people than the log shows busy at
  once can have done the work; a lane with neither people nor starts in the log is left
  unlimited (noted);
* **branches** — per decision of the version, the share of each outgoing transition: after each
  completion of the decision (or, when the log does not record it, of its one predecessor), the
  next completed step of the case (activities the version lacks taken out) counts for the
  transition through which the version reaches it (through steps the log does not record; the
  case's end counts for a transition that reaches an end). Probabilities live in the version,
  not the scenario: :func:`with_branches` gives the version with them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
import polars as pl

from boflyt.engine.calendar import WorkCalendar
from boflyt.models.definition import Duration, Version
from boflyt.models.scenario import WEEKDAYS, Override, Scenario
from boflyt.models.vocabulary import EventKind, StepKind
from boflyt.models.words import Language, word

__all__ = [
    "Calibration",
    "Note",
    "calibrate",
    "cut_of",
    "fit_duration",
    "split_log",
    "with_branches",
    "work_items",
]

START_HOUR = 8.0
"""Where the simulator's working day starts (:class:`~boflyt.engine.calendar.WorkCalendar`)."""
_DAY_SHARE = 0.02
_DONE, _BEGUN = EventKind.STEP_COMPLETED.value, EventKind.STEP_STARTED.value
_READY, _CASE = EventKind.STEP_READY.value, EventKind.CASE_STARTED.value
_END = "\x00end"
"""Stands for a case's end among next steps."""


@dataclass(frozen=True)
class Calibration:
    """A fitted scenario and what it stands on.

    ``branches`` maps each decision to {target step: probability}; ``people`` and ``busy`` are
    per lane the median weekly people and the peak concurrent touches behind ``capacity``;
    ``notes`` say what the log could not tell. A lane whose work the log never shows started
    has no ``busy`` entry.
    """

    scenario: Scenario
    cut: dt.datetime
    training_cases: int
    held_out_cases: int
    branches: dict[str, dict[str, float]]
    people: dict[str, float]
    busy: dict[str, int]
    touch_known: dict[str, bool]
    notes: tuple[Note, ...]


@dataclass(frozen=True)
class Note:
    """Something the log could not tell: a key of the word catalogue's ``calibrate`` group
    (``note_<key>``) and the fields its sentence names.

    >>> Note("unstaffed", (("lane", "nav"),)).text("en")
    "lane 'nav': nobody and no start in the log, so its staff is left unlimited"
    """

    key: str
    fields: tuple[tuple[str, str], ...] = ()

    def text(self, lang: Language) -> str:
        """The sentence in ``lang``."""
        return word(f"calibrate.note_{self.key}", lang, **dict(self.fields))


def _case_starts(events: pl.DataFrame) -> pl.DataFrame:
    """Each case's start: its first event (``case_started`` is one), in start order."""
    return (
        events.group_by("case_id").agg(pl.col("at").min().alias("begun")).sort("begun", "case_id")
    )


def cut_of(
    events: pl.DataFrame, *, train: float | None = None, until: dt.datetime | None = None
) -> dt.datetime:
    """The instant that splits the log: ``until``, else the start of the first case after the
    first ``train`` share of cases in start order.

    >>> t = dt.datetime(2025, 1, 6)
    >>> log = pl.DataFrame({"case_id": ["a", "b", "c", "d"],
    ...                     "at": [t + dt.timedelta(days=d) for d in range(4)]})
    >>> cut_of(log, train=0.5)
    datetime.datetime(2025, 1, 8, 0, 0)

    Raises:
        ValueError: neither or both given, ``train`` outside (0, 1), or a side with no case.
    """
    if (train is None) == (until is None):
        raise ValueError("give either a training share or a date to cut at")
    starts = _case_starts(events)["begun"]
    first, last = starts.min(), starts.max()
    if train is not None:
        if not 0 < train < 1:
            raise ValueError(f"the training share must lie between 0 and 1, not {train}")
        index = min(max(math.floor(train * len(starts)), 1), len(starts) - 1)
        until = starts[index] if len(starts) > 1 else None
    if until is None or not first < until <= last:  # type: ignore[operator]
        raise ValueError(
            f"the cut must leave cases on both sides; the {len(starts)} cases start "
            f"from {first!s} to {last!s}"
        )
    return until


def split_log(events: pl.DataFrame, cut: dt.datetime) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The events of the cases started before ``cut`` and those of the rest."""
    early = _case_starts(events).filter(pl.col("begun") < cut)["case_id"]
    before = pl.col("case_id").is_in(early.implode())
    return events.filter(before), events.filter(~before)


def _calendar(events: pl.DataFrame) -> tuple[WorkCalendar, list[Note]]:
    """The fitted working week and day (module doc), and notes on it."""
    at = events.filter(pl.col("kind").is_in([_DONE, _BEGUN]))["at"]
    days = at.dt.weekday().to_numpy() - 1
    counts = np.bincount(days, minlength=7) / max(len(days), 1)
    found = frozenset(int(d) for d in np.flatnonzero(counts >= _DAY_SHARE))
    weekdays = found or frozenset(range(5))  # no step events: Boflyt's default week
    on_days = np.isin(days, list(weekdays))
    hours = (at.dt.hour() + at.dt.minute() / 60).to_numpy()[on_days]
    late = float(np.quantile(hours, 0.99)) if len(hours) else START_HOUR + 7.5
    length = min(max(round((late - START_HOUR) * 2) / 2, 1.0), 16.0)
    early = float(np.mean(hours < START_HOUR)) if len(hours) else 0.0
    notes = [Note("early", (("share", f"{early:.0%}"),))] if early > 0.05 else []
    return WorkCalendar(hours_per_day=length, weekdays=weekdays), notes


def work_items(events: pl.DataFrame, calendar: WorkCalendar) -> pl.DataFrame:
    """One row per completed work item: case, step, lane, actor, its ready, start (null when
    the log has none) and end instants, and its wait and touch in working minutes of
    ``calendar`` (touch null without a start). See the module doc for the ready rule."""
    keys = ["case_id", "item"]
    ordered = events.with_row_index("_row").sort("case_id", "at", "_row")
    first = ordered.group_by("case_id").agg(pl.col("at").min().alias("case_start"))
    done = ordered.filter(pl.col("kind") == _DONE).with_columns(
        pl.col("at").shift(1).over("case_id").alias("previous")
    )

    def at_of(kind: str, name: str) -> pl.DataFrame:
        rows = ordered.filter((pl.col("kind") == kind) & pl.col("item").is_not_null())
        return rows.group_by(keys).agg(pl.col("at").min().alias(name))

    items = (
        done.join(first, on="case_id")
        .join(at_of(_READY, "ready_at"), on=keys, how="left")
        .join(at_of(_BEGUN, "start"), on=keys, how="left")
        .with_columns(pl.coalesce("ready_at", "previous", "case_start").alias("ready"))
    )
    minutes = calendar.minutes_expr  # each instant converted once: the costly part
    marks = items.with_columns(
        minutes("at").alias("_end"),
        minutes("start").alias("_start"),
        minutes("ready").alias("_ready"),
    )
    return marks.select(
        "case_id",
        "step",
        "lane",
        "actor",
        "ready",
        "start",
        pl.col("at").alias("end"),
        (pl.coalesce("_start", "_end") - pl.col("_ready")).clip(lower_bound=0.0).alias("wait"),
        (pl.col("_end") - pl.col("_start")).clip(lower_bound=0.0).alias("touch"),
    )


def fit_duration(samples: np.ndarray) -> Duration | None:
    """A triangular duration with the samples' mean, spanning their 5th to 95th percentile
    where a triangle can: a long right tail (a mean below what a triangle on that range can
    have, as with waits that are mostly nil) puts the mode at the low end and shortens the
    range to keep the mean; a long left tail puts it at the high end and raises the low end.
    Fixed when all samples are alike; None without samples.

    >>> fit_duration(np.array([1.0, 2.0, 3.0, 4.0, 5.0])).model_dump()
    {'dist': 'triangular', 'low': 1.2, 'high': 4.8, 'mode': 3.0}
    >>> fit_duration(np.array([0.0] * 8 + [10.0, 30.0])).model_dump()  # mean 4
    {'dist': 'triangular', 'low': 0.0, 'high': 12.0, 'mode': 0.0}
    >>> fit_duration(np.array([2.0, 2.0])).model_dump()
    {'dist': 'fixed', 'low': 2.0, 'high': 2.0, 'mode': None}
    """
    if len(samples) == 0:
        return None
    mean = float(np.mean(samples))
    low, high = (float(q) for q in np.quantile(samples, [0.05, 0.95]))
    if mean <= low + 1e-9:  # all alike (or all but a few far below)
        return Duration(dist="fixed", low=round(mean, 3), high=round(mean, 3))
    if mean > high or mean < (2 * low + high) / 3:
        mode, high = low, 3 * mean - 2 * low
    elif mean > (low + 2 * high) / 3:
        mode, low = high, max(3 * mean - 2 * high, 0.0)
    else:
        mode = 3 * mean - low - high
    low, mode, high = round(low, 3), round(mode, 3), round(high, 3)
    return Duration(dist="triangular", low=low, mode=min(max(mode, low), high), high=high)


def _lanes(items: pl.DataFrame, version: Version) -> pl.DataFrame:
    """Each item's lane: its step's lane in the version, else the event's."""
    lane_of = {s.id: s.lane for s in version.steps}
    mapped = pl.col("step").replace_strict(lane_of, default=None, return_dtype=pl.String)
    return items.with_columns(pl.coalesce(mapped, pl.col("lane")).alias("lane"))


def _staff(
    items: pl.DataFrame, version: Version, staffed: set[str]
) -> tuple[dict[str, int], dict[str, float], dict[str, int]]:
    """Capacity, median weekly people and peak concurrent touches per lane (module doc), over
    the work items of human steps (tasks, decisions and activities the version lacks)."""
    machine = [s.id for s in version.steps if s.kind not in (StepKind.TASK, StepKind.DECISION)]
    human = items.filter(pl.col("lane").is_in(list(staffed)) & ~pl.col("step").is_in(machine))
    people, busy, capacity = {}, {}, {}
    for (lane,), rows in human.group_by("lane"):
        weekly = (
            rows.filter(pl.col("actor").is_not_null())
            .group_by(pl.col("end").dt.truncate("1w"))
            .agg(pl.col("actor").n_unique())["actor"]
        )
        touched = rows.filter(pl.col("start").is_not_null())
        steps = np.concatenate([np.ones(touched.height), -np.ones(touched.height)])
        times = np.concatenate([touched["start"].to_numpy(), touched["end"].to_numpy()])
        order = np.lexsort((steps, times))  # an end before a start at the same instant
        peak = int(np.cumsum(steps[order]).max(initial=0))
        if weekly.len() == 0 and touched.is_empty():
            continue
        people[str(lane)] = float(weekly.median() or 0.0)  # type: ignore[arg-type]
        if not touched.is_empty():
            busy[str(lane)] = peak
        capacity[str(lane)] = max(math.ceil(people[str(lane)]), peak, 1)
    return capacity, people, busy


def _reached(target: str, version: Version, observed: set[str]) -> set[str]:
    """The observed steps (and the end) the version reaches from ``target`` through steps the
    log does not record; ``target`` itself when the log records it."""
    out: dict[str, list[str]] = defaultdict(list)
    for t in version.transitions:
        out[t.source].append(t.target)
    ends = {s.id for s in version.steps if s.kind is StepKind.END}
    hits, seen, stack = set(), {target}, [target]
    while stack:
        here = stack.pop()
        if here in observed:
            hits.add(here)
            continue
        if here in ends:
            hits.add(_END)
        fresh = [nxt for nxt in out[here] if nxt not in seen]
        seen.update(fresh)
        stack.extend(fresh)
    return hits


def _branches(
    items: pl.DataFrame, version: Version
) -> tuple[dict[str, dict[str, float]], list[Note]]:
    """The fitted probabilities of each decision's transitions (module doc), and notes.

    Activities the version lacks are taken out of the traces first, so their neighbours follow
    each other directly (as discovery leaves rare activities out)."""
    items = items.filter(pl.col("step").is_in([s.id for s in version.steps]))
    observed = set(items["step"].unique().to_list())
    follows: Counter[tuple[str, str]] = Counter()
    traces = items.group_by("case_id", maintain_order=True).agg("step")["step"]
    for trace in traces.to_list():
        follows.update(zip(trace, [*trace[1:], _END], strict=True))
    fitted, notes = {}, []
    for step in version.steps:
        if step.kind is not StepKind.DECISION:
            continue
        before = [t.source for t in version.transitions if t.target == step.id]
        source = step.id if step.id in observed else before[0] if len(before) == 1 else ""
        edges = [t for t in version.transitions if t.source == step.id]
        counts = {
            t.target: sum(follows[(source, nxt)] for nxt in _reached(t.target, version, observed))
            for t in edges
        }
        total = sum(counts.values())
        if total == 0:
            notes.append(Note("no_branching", (("decision", step.id),)))
            continue
        fitted[step.id] = _rounded({target: n / total for target, n in counts.items()})
    return fitted, notes


def _rounded(shares: dict[str, float]) -> dict[str, float]:
    """Shares to 3 decimals that still sum to exactly 1 (the largest takes the rest)."""
    rounded = {k: round(v, 3) for k, v in shares.items()}
    largest = max(rounded, key=lambda k: rounded[k])
    rounded[largest] = round(1.0 - sum(v for k, v in rounded.items() if k != largest), 3)
    return rounded


def with_branches(version: Version, branches: dict[str, dict[str, float]]) -> Version:
    """``version`` with each decision's transition probabilities replaced by ``branches``."""
    data = version.model_dump(mode="json", by_alias=True)
    for transition in data["transitions"]:
        shares = branches.get(transition["from"], {})
        if transition["to"] in shares:
            transition["probability"] = shares[transition["to"]]
    return Version.model_validate(data)


def calibrate(
    events: pl.DataFrame,
    version: Version,
    *,
    cut: dt.datetime,
    name: str = "calibrated",
    outside: frozenset[str] = frozenset(),
    description: str = "",
    since: dt.datetime | None = None,
) -> Calibration:
    """Fit a scenario for ``version`` from the cases of ``events`` started before ``cut`` (and,
    with ``since``, not before ``since``: a recent window, for a process that has changed).

    ``events`` is a Boflyt event frame (``case_id``, ``kind``, ``at``, ``step``, ``item``,
    ``lane``, ``actor``); ``outside`` lanes get no capacity; ``description`` is the scenario's.
    See the module doc for every rule.

    Raises:
        ValueError: no case started in the window before ``cut``, or none at or after it.
    """
    training, held_out = split_log(events, cut)
    if since is not None:
        training = split_log(training, since)[1]
    cases, rest = training["case_id"].n_unique(), held_out["case_id"].n_unique()
    if cases == 0 or rest == 0:
        raise ValueError(f"the cut {cut} leaves {cases} cases to fit on and {rest} after it")
    calendar, notes = _calendar(training)
    items = _lanes(work_items(training, calendar), version)
    first: dt.datetime = since or training["at"].min()  # type: ignore[assignment]
    weeks = (cut - first).total_seconds() / (7 * 86400)
    overrides, touch_known = _overrides(items, version, calendar.minutes_per_day, notes)
    staffed = {lane for lane in version.lanes if lane not in outside}
    capacity, people, busy = _staff(items, version, staffed)
    for lane in sorted(staffed - set(capacity)):
        notes.append(Note("unstaffed", (("lane", lane),)))
    branches, branch_notes = _branches(items, version)
    scenario = Scenario(
        name=name,
        description=description,
        arrivals_per_week=round(cases / weeks, 3),
        start=cut.date(),
        hours_per_day=calendar.hours_per_day,
        working_days=tuple(WEEKDAYS[d] for d in sorted(calendar.weekdays)),
        holidays="none",
        capacity=capacity,
        overrides=overrides,
    )
    return Calibration(
        scenario=scenario, cut=cut, training_cases=cases, held_out_cases=rest, branches=branches,
        people=people, busy=busy, touch_known=touch_known, notes=(*notes, *branch_notes),
    )  # fmt: skip


def _overrides(
    items: pl.DataFrame, version: Version, per_day: float, notes: list[Note]
) -> tuple[dict[str, Override], dict[str, bool]]:
    """Each observed step's fitted wait (working days) and touch (minutes; 0 when unknown)."""
    known = {s.id for s in version.steps}
    overrides, touch_known = {}, {}
    unknown = sorted(set(items["step"].unique().to_list()) - known)
    if unknown:
        shown = ", ".join(unknown[:5]) + (", …" if len(unknown) > 5 else "")
        fields = (("n", str(len(unknown))), ("version", version.key), ("steps", shown))
        notes.append(Note("unknown_steps", fields))
    for (step,), rows in items.filter(pl.col("step").is_in(list(known))).group_by("step"):
        touches = rows["touch"].drop_nulls().to_numpy()
        touch_known[str(step)] = len(touches) > 0
        wait = fit_duration(rows["wait"].to_numpy() / per_day)
        touch = fit_duration(touches) if len(touches) else Duration.zero()
        overrides[str(step)] = Override(touch_minutes=touch, wait_days=wait)
    blind = sorted(step for step, seen in touch_known.items() if not seen)
    if blind:
        notes.append(Note("touch_unknown", (("n", str(len(blind))), ("of", str(len(touch_known))))))
    return dict(sorted(overrides.items())), dict(sorted(touch_known.items()))
