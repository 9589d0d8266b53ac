"""What a simulation gives beyond its event log: lead times, staff, queues, work in progress.

``occupancy`` has per working day and organisation the mean people busy, the ``utilisation``
(busy / staff) and the mean ``queue`` length; ``wip`` the mean number of open cases per
working day (time averages, :func:`~boflyt.analysis.simulation.series.daily_levels`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from boflyt.analysis.simulation.series import Series, daily_levels, summarise

__all__ = ["SimulationResult", "build_result", "merge_results"]


@dataclass(frozen=True)
class SimulationResult:
    """A simulated cohort: its event log and what happened to staff, queues and cases.

    ``lead_times`` are working days from arrival to end, one per case in case order;
    ``occupancy`` has per working day and organisation the mean people busy, ``utilisation``
    (busy / staff; null for unlimited lanes) and mean ``queue`` length; ``wip`` the mean number
    of open cases per working day. Chunks of one run are independent replications.
    """

    process: str
    version: int
    scenario: str
    seed: int
    cases: int
    events: pl.DataFrame
    lead_times: np.ndarray
    occupancy: pl.DataFrame
    wip: pl.DataFrame
    busy_minutes: dict[str, float] = field(default_factory=dict)
    capacity_minutes: dict[str, float] = field(default_factory=dict)
    horizon_minutes: float = 0.0
    streamed: int = 0
    """Events handed to a sink while simulating instead of kept in ``events``."""

    def utilisation(self) -> dict[str, float]:
        """Busy person-minutes / available person-minutes per staffed organisation."""
        return {
            lane: self.busy_minutes[lane] / minutes
            for lane, minutes in self.capacity_minutes.items()
            if minutes > 0
        }

    def summary(self) -> dict[str, object]:
        """Small JSON-friendly figures: cases, events, lead time mean/median/p90, utilisation."""
        return summarise(
            self.lead_times,
            self.busy_minutes,
            self.capacity_minutes,
            events=self.events.height + self.streamed,
        )


def build_result(
    *,
    process: str,
    version: int,
    scenario: str,
    seed: int,
    events: pl.DataFrame,
    arrived: np.ndarray,
    ended: np.ndarray,
    busy: Mapping[str, Series],
    queued: Mapping[str, Series],
    capacity: Mapping[str, int],
    horizon: float,
    dates: Callable[[int], pl.Series],
    per_day: float,
) -> SimulationResult:
    """A result from the simulator's raw records (times in working minutes)."""
    days = max(math.ceil(horizon / per_day), 1)
    day = dates(days)
    rows = []
    busy_minutes, capacity_minutes = {}, {}
    for lane, people in busy.items():
        staff = capacity[lane]
        level = daily_levels(people, days, per_day)
        busy_minutes[lane] = float(level.sum() * per_day)
        capacity_minutes[lane] = float(staff * days * per_day)
        rows.append(
            pl.DataFrame(
                {
                    "day": day,
                    "lane": [lane] * days,
                    "staff": [staff] * days,
                    "busy": level,
                    "utilisation": level / staff,
                    "queue": daily_levels(queued[lane], days, per_day),
                }
            )
        )
    wip = Series.from_changes(arrived, ended)
    return SimulationResult(
        process=process,
        version=version,
        scenario=scenario,
        seed=seed,
        cases=len(arrived),
        events=events,
        lead_times=(ended - arrived) / per_day,
        occupancy=pl.concat(rows) if rows else _EMPTY_OCCUPANCY,
        wip=pl.DataFrame({"day": day, "wip": daily_levels(wip, days, per_day)}),
        busy_minutes=busy_minutes,
        capacity_minutes=capacity_minutes,
        horizon_minutes=horizon,
    )


_EMPTY_OCCUPANCY = pl.DataFrame(
    schema={
        "day": pl.Date,
        "lane": pl.String,
        "staff": pl.Int64,
        "busy": pl.Float64,
        "utilisation": pl.Float64,
        "queue": pl.Float64,
    }
)


def merge_results(parts: Sequence[SimulationResult]) -> SimulationResult:
    """Independent replications as one result; series get a ``chunk`` column."""
    first = parts[0]

    def tagged(frames: list[pl.DataFrame]) -> pl.DataFrame:
        return pl.concat([f.with_columns(pl.lit(i).alias("chunk")) for i, f in enumerate(frames)])

    lanes = first.capacity_minutes
    return SimulationResult(
        process=first.process,
        version=first.version,
        scenario=first.scenario,
        seed=first.seed,
        cases=sum(p.cases for p in parts),
        events=pl.concat([p.events for p in parts]),
        lead_times=np.concatenate([p.lead_times for p in parts]),
        occupancy=tagged([p.occupancy for p in parts]),
        wip=tagged([p.wip for p in parts]),
        busy_minutes={lane: sum(p.busy_minutes[lane] for p in parts) for lane in lanes},
        capacity_minutes={lane: sum(p.capacity_minutes[lane] for p in parts) for lane in lanes},
        horizon_minutes=max(p.horizon_minutes for p in parts),
        streamed=sum(p.streamed for p in parts),
    )
