"""Levels over simulated time: people busy, queue lengths, cases in progress.

A :class:`Series` records the changes of one level (``+1`` at a time, ``-1`` at a time) as the
simulation runs; :func:`daily_levels` turns it into the time-average level of each working day
with numpy, in one pass. :func:`summarise` gives the small, JSON-friendly figures of a run and
merges exactly across independent replications.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping

import numpy as np

__all__ = ["Series", "daily_levels", "summarise"]


class Series:
    """Change points of a step function that starts at 0: ``add(t, delta)`` in time order.

    ``times`` and ``deltas`` are typed ``array.array`` columns: compact while the simulation
    appends to them, and read by numpy without a copy.
    """

    __slots__ = ("deltas", "times")

    def __init__(self) -> None:
        self.times: array[float] = array("d")
        self.deltas: array[float] = array("d")

    def add(self, t: float, delta: float) -> None:
        self.times.append(t)
        self.deltas.append(delta)

    @classmethod
    def from_changes(cls, ups: np.ndarray, downs: np.ndarray) -> Series:
        """A series that rises by 1 at each of ``ups`` and falls by 1 at each of ``downs``."""
        series = cls()
        times = np.concatenate([ups, downs[~np.isnan(downs)]])
        deltas = np.concatenate([np.ones(len(ups)), -np.ones(int((~np.isnan(downs)).sum()))])
        order = np.argsort(times, kind="stable")
        series.times.frombytes(np.ascontiguousarray(times[order], dtype=np.float64).tobytes())
        series.deltas.frombytes(np.ascontiguousarray(deltas[order], dtype=np.float64).tobytes())
        return series


def daily_levels(series: Series, days: int, per_day: float) -> np.ndarray:
    """The time-average level over each working day ``[k·per_day, (k+1)·per_day)``.

    >>> s = Series(); s.add(0.0, 1); s.add(225.0, 1); s.add(450.0, -2)
    >>> daily_levels(s, 2, 450.0).tolist()
    [1.5, 0.0]
    """
    times = np.asarray(series.times, dtype=np.float64)
    levels = np.cumsum(np.asarray(series.deltas, dtype=np.float64))
    bounds = np.arange(days + 1, dtype=np.float64) * per_day
    if len(times) == 0:
        return np.zeros(days)
    # area under the step function up to each change point, then up to each day boundary
    area = np.concatenate([[0.0], np.cumsum(levels[:-1] * np.diff(times))])
    last = np.searchsorted(times, bounds, side="right") - 1
    inside = last >= 0
    at_bounds = np.zeros(days + 1)
    at_bounds[inside] = area[last[inside]] + levels[last[inside]] * (
        bounds[inside] - times[last[inside]]
    )
    return np.diff(at_bounds) / per_day


def summarise(
    lead_times: np.ndarray,
    busy_minutes: Mapping[str, float],
    capacity_minutes: Mapping[str, float],
    *,
    events: int,
) -> dict[str, object]:
    """Cases, events, lead time (working days) mean/median/p90 and utilisation per organisation.

    >>> summarise(np.array([1.0, 2.0, 3.0]), {"nav": 50.0}, {"nav": 100.0}, events=9)["utilisation"]
    {'nav': 0.5}
    """
    done = lead_times[~np.isnan(lead_times)]
    figures = (
        {
            "mean": float(done.mean()),
            "median": float(np.median(done)),
            "p90": float(np.quantile(done, 0.9)),
        }
        if len(done)
        else {"mean": None, "median": None, "p90": None}
    )
    return {
        "cases": len(lead_times),
        "finished": len(done),
        "events": int(events),
        "lead_time_days": figures,
        "utilisation": {
            lane: round(busy_minutes[lane] / minutes, 4)
            for lane, minutes in capacity_minutes.items()
            if minutes > 0
        },
    }
