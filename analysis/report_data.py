"""Everything a before/after report shows, computed once.

:func:`report_data` runs the analysis of two versions — and of one run set's event log per
version, when given — exactly once: the comparison (design metrics, diff, structural story and,
with both logs, the run-based rows and each log's observed metrics), the outcome figures, and
the run set each log is. :func:`boflyt.visualize.report.build_report` renders what it returns
and computes nothing itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from boflyt.analysis.compare import Comparison, compare
from boflyt.analysis.design import DesignMetrics
from boflyt.analysis.observed import ObservedMetrics
from boflyt.analysis.outcomes import OutcomeFigure, designed_outcomes, logged_outcomes
from boflyt.engine.definition.diff import VersionDiff
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.errors import CommandError
from boflyt.models.runset import RunSet, RunSetInfo
from boflyt.models.vocabulary import Mode, RunStatus

__all__ = ["ReportData", "report_data", "runs_of"]

Pair = tuple[pl.DataFrame | None, pl.DataFrame | None]
"""One event log (or none) per version: (before, after)."""


@dataclass(frozen=True)
class ReportData:
    """The figures of one before/after report (see :func:`report_data`)."""

    before: Version
    after: Version
    comparison: Comparison
    designed_outcomes: tuple[tuple[OutcomeFigure, ...], tuple[OutcomeFigure, ...]]
    """Each version's outcome figures computed from its graph."""
    logged_outcomes: tuple[tuple[OutcomeFigure, ...], tuple[OutcomeFigure, ...]]
    """Each version's outcome figures from its log, by mode (none without a log)."""
    runs: tuple[RunSetInfo, RunSetInfo] | None
    """The run set of each log; None unless both logs are given."""

    @property
    def design(self) -> tuple[DesignMetrics, DesignMetrics]:
        """Each version's design metrics (those the comparison's rows come from)."""
        assert self.comparison.design is not None  # report_data always keeps them
        return self.comparison.design

    @property
    def diff(self) -> VersionDiff:
        """The semantic diff of the two versions (the one the comparison's story comes from)."""
        assert self.comparison.diff is not None  # report_data always keeps it
        return self.comparison.diff

    @property
    def observed(self) -> tuple[ObservedMetrics | None, ObservedMetrics | None]:
        """Each log's observed metrics (None for a version without a log or without cases)."""
        return self.comparison.observed

    def lead_days(self, side: int) -> list[float]:
        """Lead times of the finished cases of one side's version (0 before, 1 after)."""
        observed, version = self.observed[side], (self.before, self.after)[side]
        if observed is None:
            return []
        finished = observed.cases.filter(
            (pl.col("status") == RunStatus.FINISHED.value)
            & (pl.col("process") == version.process)
            & (pl.col("version") == version.version)
        )
        return [float(v) for v in finished["lead_days"].drop_nulls()]


def report_data(
    before: Version,
    after: Version,
    *,
    lanes: LaneCatalog,
    before_events: pl.DataFrame | None = None,
    after_events: pl.DataFrame | None = None,
    before_runs: RunSetInfo | None = None,
    after_runs: RunSetInfo | None = None,
    seed: int = 0,
) -> ReportData:
    """Analyse two versions (and each one's run set, when given) once, for a report.

    A log given without its :class:`RunSetInfo` is named by its mode and case count.

    Raises:
        CommandError: a log holds runs of more than one mode (run sets are never pooled).
        DefinitionError: a version's graph has a loop that can never be left.
    """
    events: Pair = (before_events, after_events)
    comparison = compare(
        before, after, before_events=before_events, after_events=after_events,
        lanes=lanes, seed=seed, observed=True,
    )  # fmt: skip
    runs = _runs(before, after, events, (before_runs, after_runs))
    designed = (tuple(designed_outcomes(before)), tuple(designed_outcomes(after)))
    logged = (_logged(before_events, before), _logged(after_events, after))
    return ReportData(before, after, comparison, designed, logged, runs)


def _logged(log: pl.DataFrame | None, version: Version) -> tuple[OutcomeFigure, ...]:
    return () if log is None or log.is_empty() else tuple(logged_outcomes(log, version))


def _runs(
    before: Version,
    after: Version,
    events: Pair,
    named: tuple[RunSetInfo | None, RunSetInfo | None],
) -> tuple[RunSetInfo, RunSetInfo] | None:
    """The run set of each side's log: as named by the caller, else from the log itself."""
    if events[0] is None or events[1] is None:
        return None
    b, a = named
    return (b or runs_of(events[0], before), a or runs_of(events[1], after))


def runs_of(events: pl.DataFrame, version: Version) -> RunSetInfo:
    """The run set of a log given without one (a library caller's frame), named by its mode.

    Raises:
        CommandError: the log holds runs of more than one mode (run sets are never pooled).
    """
    modes = sorted(set(events["mode"].unique().drop_nulls()))
    if len(modes) != 1:
        raise CommandError(
            f"the event log of {version.key} holds runs of {', '.join(modes) or 'no mode'}; "
            "a figure stands on one run set; give each version's log of one set"
        )
    cases = events.filter(
        (pl.col("process") == version.process) & (pl.col("version") == version.version)
    )["case_id"].n_unique()
    return RunSetInfo(RunSet(Mode(modes[0])), version.process, version.version, cases)
