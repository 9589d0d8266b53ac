"""How far a simulated event log lies from a real one: the measures of Chapela-Campa et al.

The business-process-simulation field compares a simulated log with the real log it should
reproduce by distances between distributions (Chapela-Campa, López-Pintado, Meneses-Amores,
Dumas, "Evaluating the accuracy of business process simulation models", BPM 2023, and their
``log-distance-measures`` package). Both logs are first reduced to **activity instances**
(:func:`activity_instances`: case, activity, start, end; an instance whose log has no start
event starts when it ends). Then, with ``emd`` the one-dimensional earth mover's (Wasserstein-1)
distance between two samples of bin numbers (:func:`emd`):

* **cycle time** (CTD) — each case's duration, from its first start to its last end, in bins of
  ``bin_hours`` hours counted from the shortest duration of both logs;
* **absolute event** (AED) — every start and end instant, in whole hours since the first hour
  (floored) of either log;
* **case arrival** (CAR) — each case's first start, binned like AED;
* **circadian event** (CED) — every start and end instant by weekday: per weekday the ``emd`` of
  the hours of the day (0-23); a weekday with instants in one log only counts 23, one with none
  in either 0; the mean over the seven weekdays;
* **relative event** (RED) — every start and end instant in whole hours since its case's first
  start;
* **n-gram** (NGD) — the ``n``-grams (3 by default) of each case's activities ordered by start
  and end, padded with ``n - 1`` empty symbols at both ends; the sum of absolute differences of
  the two logs' n-gram counts divided by the sum of all counts: 0 for the same control flow, 1
  for logs sharing no n-gram.

The temporal distances are in hours (bins), unnormalised, as the package's default
(``metric=WASSERSTEIN``, ``normalize=False``); NGD is normalised to ``[0, 1]``. The
control-flow log distance (CFLD, a case-to-case matching on edit distance) is left out.

>>> import datetime as dt
>>> t = dt.datetime(2025, 1, 6, 9)
>>> real = pl.DataFrame({"case": ["a", "a"], "activity": ["x", "y"],
...                      "start": [t, t + dt.timedelta(hours=2)],
...                      "end": [t, t + dt.timedelta(hours=2)]})
>>> later = real.with_columns(pl.col("start", "end") + dt.timedelta(hours=3))
>>> log_distances(real, later)["absolute_event"]
3.0
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import polars as pl

from boflyt.models.vocabulary import EventKind

__all__ = [
    "INSTANCE_SCHEMA",
    "MEASURES",
    "absolute_event_distance",
    "activity_instances",
    "case_arrival_distance",
    "circadian_event_distance",
    "cycle_time_distance",
    "emd",
    "log_distances",
    "ngram_distance",
    "relative_event_distance",
]

INSTANCE_SCHEMA: dict[str, pl.DataType] = {
    "case": pl.String(),
    "activity": pl.String(),
    "start": pl.Datetime("us"),
    "end": pl.Datetime("us"),
}
"""The columns of an activity-instance frame, in order."""

MEASURES = (
    "cycle_time",
    "absolute_event",
    "case_arrival",
    "circadian_event",
    "relative_event",
    "ngram",
)
"""The keys of :func:`log_distances`, in display order."""

_HOUR_US = 3_600_000_000
_MAX_HOUR = 23.0
"""The circadian penalty: the farthest two hours of the day can lie apart."""


def activity_instances(
    events: pl.DataFrame, *, activities: Sequence[str] | None = None
) -> pl.DataFrame:
    """A Boflyt event frame's completed work items as activity instances.

    Each ``step_completed`` event is one instance (its step is the activity, its time the end);
    its start is the ``step_started`` event of the same case and item, else its end. Only the
    steps in ``activities`` are kept when given (a simulated log's start and end markers are
    no activities of the real log).

    >>> import datetime as dt
    >>> t = dt.datetime(2025, 1, 6, 9)
    >>> events = pl.DataFrame({"case_id": ["c", "c", "c"], "item": [1, 1, 2],
    ...     "kind": ["step_started", "step_completed", "step_completed"], "step": ["a", "a", "b"],
    ...     "at": [t, t + dt.timedelta(minutes=30), t + dt.timedelta(hours=2)]})
    >>> activity_instances(events).select("activity", "start").rows()
    [('a', datetime.datetime(2025, 1, 6, 9, 0)), ('b', datetime.datetime(2025, 1, 6, 11, 0))]
    """
    keys = ["case_id", "item"]
    done = events.filter(pl.col("kind") == EventKind.STEP_COMPLETED.value)
    if activities is not None:
        done = done.filter(pl.col("step").is_in(list(activities)))
    begun = (
        events.filter(pl.col("kind") == EventKind.STEP_STARTED.value)
        .filter(pl.col("item").is_not_null())
        .group_by(keys)
        .agg(pl.col("at").min().alias("begun"))
    )
    return (
        done.join(begun, on=keys, how="left", nulls_equal=False)
        .select(
            pl.col("case_id").alias("case"),
            pl.col("step").alias("activity"),
            pl.coalesce("begun", "at").alias("start"),
            pl.col("at").alias("end"),
        )
        .cast(INSTANCE_SCHEMA)  # type: ignore[arg-type]
    )


def emd(first: np.ndarray, second: np.ndarray) -> float:
    """The earth mover's distance between two one-dimensional samples (equal weights).

    The area between the two empirical distribution functions: how far, on average, each unit
    of one sample must move to make it the other.

    >>> emd(np.array([0.0, 1.0]), np.array([2.0, 3.0]))
    2.0
    >>> emd(np.array([0.0]), np.array([0.0, 4.0]))
    2.0

    Raises:
        ValueError: a sample is empty.
    """
    if len(first) == 0 or len(second) == 0:
        raise ValueError("the earth mover's distance needs two non-empty samples")
    a, b = np.sort(np.asarray(first, float)), np.sort(np.asarray(second, float))
    points = np.sort(np.concatenate([a, b]))
    widths = np.diff(points)
    below_a = np.searchsorted(a, points[:-1], side="right") / len(a)
    below_b = np.searchsorted(b, points[:-1], side="right") / len(b)
    return float(np.sum(np.abs(below_a - below_b) * widths))


def _hours(column: pl.Expr, origin: pl.Expr) -> pl.Expr:
    """Whole hours from ``origin`` to ``column`` (floored)."""
    return ((column - origin).dt.total_microseconds() // _HOUR_US).cast(pl.Float64)


def _instants(log: pl.DataFrame) -> pl.Series:
    """Every start and end instant of a log."""
    return pl.concat([log["start"], log["end"]])


def _check(*logs: pl.DataFrame) -> None:
    for log in logs:
        if log.height == 0:
            raise ValueError("a log distance needs two logs with at least one activity instance")


def cycle_time_distance(log: pl.DataFrame, other: pl.DataFrame, *, bin_hours: float = 1.0) -> float:
    """CTD: the ``emd`` of the case durations in ``bin_hours`` bins (module doc).

    Raises:
        ValueError: a log has no instances, or ``bin_hours`` is not positive.
    """
    _check(log, other)
    if bin_hours <= 0:
        raise ValueError(f"bin_hours must be positive, not {bin_hours}")

    def durations(frame: pl.DataFrame) -> np.ndarray:
        spans = frame.group_by("case").agg(
            (pl.col("end").max() - pl.col("start").min()).dt.total_microseconds().alias("us")
        )
        return spans["us"].to_numpy().astype(np.float64) / _HOUR_US

    first, second = durations(log), durations(other)
    shortest = min(first.min(), second.min())
    return emd(np.floor((first - shortest) / bin_hours), np.floor((second - shortest) / bin_hours))


def _absolute(first: pl.Series, second: pl.Series) -> float:
    origin = pl.lit(min(first.min(), second.min())).dt.truncate("1h")  # type: ignore[type-var]
    hours = [
        s.to_frame("t").select(_hours(pl.col("t"), origin)).to_series().to_numpy()
        for s in (first, second)
    ]
    return emd(hours[0], hours[1])


def absolute_event_distance(log: pl.DataFrame, other: pl.DataFrame) -> float:
    """AED: the ``emd`` of every start and end instant in hours since the first hour.

    Raises:
        ValueError: a log has no instances.
    """
    _check(log, other)
    return _absolute(_instants(log), _instants(other))


def case_arrival_distance(log: pl.DataFrame, other: pl.DataFrame) -> float:
    """CAR: the ``emd`` of each case's first start in hours since the first hour.

    Raises:
        ValueError: a log has no instances.
    """
    _check(log, other)
    arrivals = [f.group_by("case").agg(pl.col("start").min())["start"] for f in (log, other)]
    return _absolute(arrivals[0], arrivals[1])


def circadian_event_distance(log: pl.DataFrame, other: pl.DataFrame) -> float:
    """CED: per weekday the ``emd`` of the hours of the day, averaged over the week.

    Raises:
        ValueError: a log has no instances.
    """
    _check(log, other)

    def by_day(frame: pl.DataFrame) -> dict[int, np.ndarray]:
        at = _instants(frame).to_frame("t")
        days = at.select(pl.col("t").dt.weekday().alias("day"), pl.col("t").dt.hour().alias("hour"))
        return {
            int(day): group["hour"].to_numpy().astype(np.float64)
            for (day,), group in days.group_by("day")
        }

    first, second = by_day(log), by_day(other)
    distances = []
    for day in range(1, 8):
        a, b = first.get(day), second.get(day)
        if a is None and b is None:
            distances.append(0.0)
        elif a is None or b is None:
            distances.append(_MAX_HOUR)
        else:
            distances.append(emd(a, b))
    return float(np.mean(distances))


def relative_event_distance(log: pl.DataFrame, other: pl.DataFrame) -> float:
    """RED: the ``emd`` of every start and end instant in hours since its case's first start.

    Raises:
        ValueError: a log has no instances.
    """
    _check(log, other)

    def relative(frame: pl.DataFrame) -> np.ndarray:
        first = pl.col("start").min().over("case")
        return (
            frame.select(
                pl.concat_list(_hours(pl.col("start"), first), _hours(pl.col("end"), first))
            )
            .to_series()
            .explode()
            .to_numpy()
            .astype(np.float64)
        )

    return emd(relative(log), relative(other))


def _ngrams(log: pl.DataFrame, n: int) -> Counter[tuple[str | None, ...]]:
    """The n-grams of each case's activities (ordered by start, end, then log order), padded."""
    ordered = log.with_row_index("_row").sort("case", "start", "end", "_row")
    traces = ordered.group_by("case", maintain_order=True).agg("activity")["activity"]
    pad: list[str | None] = [None] * (n - 1)
    counts: Counter[tuple[str | None, ...]] = Counter()
    for trace in traces.to_list():
        symbols = [*pad, *trace, *pad]
        counts.update(tuple(symbols[i : i + n]) for i in range(len(symbols) - n + 1))
    return counts


def ngram_distance(log: pl.DataFrame, other: pl.DataFrame, *, n: int = 3) -> float:
    """NGD: the normalised difference of the two logs' n-gram counts (module doc).

    Raises:
        ValueError: a log has no instances, or ``n`` < 1.
    """
    _check(log, other)
    if n < 1:
        raise ValueError(f"n must be at least 1, not {n}")
    first, second = _ngrams(log, n), _ngrams(other, n)
    keys = first.keys() | second.keys()
    difference = sum(abs(first[k] - second[k]) for k in keys)
    return difference / (first.total() + second.total())


def log_distances(
    log: pl.DataFrame, other: pl.DataFrame, *, bin_hours: float = 1.0, n: int = 3
) -> dict[str, float]:
    """Every measure of :data:`MEASURES` between two activity-instance frames.

    Raises:
        ValueError: a log has no instances.
    """
    return {
        "cycle_time": cycle_time_distance(log, other, bin_hours=bin_hours),
        "absolute_event": absolute_event_distance(log, other),
        "case_arrival": case_arrival_distance(log, other),
        "circadian_event": circadian_event_distance(log, other),
        "relative_event": relative_event_distance(log, other),
        "ngram": ngram_distance(log, other, n=n),
    }
