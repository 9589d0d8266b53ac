"""Before/after: two versions of a process side by side, with the structural story.

Design metrics come from :func:`~boflyt.analysis.design.design_metrics`; observed metrics (when both
event logs are given) are the means over finished cases with a 95 % bootstrap confidence
interval of the difference of means (after − before): cases are resampled with replacement,
``resamples`` times, with a seeded numpy generator. The structural story — steps removed, added
and changed, handoffs removed, duplicate registrations removed, wastes removed — matches steps
by id (steps kept from one version to the next keep their ids).

A :class:`Comparison` also carries what its rows were computed from — each version's design
metrics, the diff and, when asked, each log's observed metrics — so that a report renders them
without computing them again (:mod:`boflyt.analysis.report_data`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from boflyt.analysis.compare_text import sentences
from boflyt.analysis.design import DESIGN_METRICS, DesignMetrics, Metric, design_metrics
from boflyt.analysis.observed import CASE_METRICS, ObservedMetrics, observed_metrics, per_case
from boflyt.engine.definition.diff import VersionDiff, diff_versions
from boflyt.engine.definition.graph import handoffs
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.vocabulary import RunStatus
from boflyt.models.words import DEFAULT_LANGUAGE, ENGLISH, Language, word

__all__ = [
    "Comparison",
    "HandoffRef",
    "Row",
    "compare",
    "mean_difference_ci",
]


@dataclass(frozen=True)
class Row:
    """One metric before and after; ``ci_*`` bound the difference (observed rows only)."""

    key: str
    nb: str
    en: str
    """The metric's name in bokmål and English, from the word catalogue (kept for JSON readers)."""
    unit: str
    before: float | None
    after: float | None
    change: float | None
    """after − before (percentage points for ``%`` metrics)."""
    pct_change: float | None
    """change ÷ |before| × 100; None for ``%`` metrics and when before is 0."""
    source: str = "design"
    """``design`` or ``observed``."""
    ci_low: float | None = None
    ci_high: float | None = None

    def label(self, lang: Language) -> str:
        """The metric's name in ``lang``, from the word catalogue."""
        key = self.key.removeprefix("observed_")
        return word(f"metric.{'observed_' + key if self.source == 'observed' else key}", lang)


@dataclass(frozen=True)
class HandoffRef:
    """A handoff edge: its steps and their lanes."""

    source: str
    target: str
    from_lane: str
    to_lane: str


@dataclass(frozen=True)
class Comparison:
    """Two versions side by side (see :func:`compare`)."""

    process: str
    before: int
    after: int
    rows: tuple[Row, ...]
    steps_removed: tuple[str, ...]
    steps_added: tuple[str, ...]
    steps_changed: tuple[str, ...]
    handoffs_before: int
    handoffs_after: int
    handoffs_removed: tuple[HandoffRef, ...]
    """Handoff edges of *before* whose (source, target) steps no longer hand off in *after*."""
    handoffs_added: tuple[HandoffRef, ...]
    lane_pairs: tuple[tuple[str, str, int, int], ...]
    """(from lane, to lane, handoff edges before, after) for every lane pair of either."""
    duplicates_removed: tuple[str, ...]
    """Data fields registered more than once before and at most once after."""
    duplicates_added: tuple[str, ...]
    wastes: dict[str, tuple[int, int]]
    """Steps tagged with each waste category: (before, after)."""
    lanes: LaneCatalog | None = None
    design: tuple[DesignMetrics, DesignMetrics] | None = field(
        default=None, repr=False, compare=False
    )
    """Each version's design metrics, as the rows were computed from (not in :meth:`as_dict`)."""
    diff: VersionDiff | None = field(default=None, repr=False, compare=False)
    """The semantic diff the structural story was taken from (not in :meth:`as_dict`)."""
    observed: tuple[ObservedMetrics | None, ObservedMetrics | None] = field(
        default=(None, None), repr=False, compare=False
    )
    """Each log's observed metrics when :func:`compare` was asked for them (``observed=True``)."""

    def row(self, key: str) -> Row:
        """The row of one metric key; :class:`KeyError` when there is none."""
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(key)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly data."""
        data = asdict(replace(self, lanes=None, design=None, diff=None, observed=(None, None)))
        for name in ("lanes", "design", "diff", "observed"):
            data.pop(name)
        return data

    def summary(self, lang: Language = DEFAULT_LANGUAGE) -> list[str]:
        """The figures as plain-language sentences (bokmål by default, ``en`` for English)."""
        return sentences(self, lang)


def mean_difference_ci(
    before: np.ndarray,
    after: np.ndarray,
    *,
    seed: int = 0,
    resamples: int = 2000,
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap CI of mean(after) − mean(before), column by column.

    ``before`` and ``after`` are (cases × metrics) arrays; cases are resampled with
    replacement (the same cases for every metric), in chunks of vectorised draws.

    Raises:
        ValueError: when either sample has no cases or the column counts differ.

    >>> lo, hi = mean_difference_ci(np.array([[1.0], [2.0], [3.0]]), np.array([[11.0], [12.0],
    ...     [13.0]]), seed=1, resamples=500)
    >>> bool(8.5 < lo[0] < 10 < hi[0] < 11.5)
    True
    """
    if before.shape[0] == 0 or after.shape[0] == 0 or before.shape[1] != after.shape[1]:
        raise ValueError(
            f"need cases on both sides with the same metrics; got {before.shape} and {after.shape}"
        )
    rng = np.random.default_rng(seed)
    diffs = _boot_means(after, rng, resamples) - _boot_means(before, rng, resamples)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(diffs, [tail, 100.0 - tail], axis=0)
    return np.asarray(low), np.asarray(high)


def _boot_means(values: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
    """(resamples × metrics) means of resampled rows, drawn in chunks of ≤ ~1M indices."""
    n = values.shape[0]
    chunk = max(1, 1_000_000 // n)
    out = np.empty((resamples, values.shape[1]))
    for first in range(0, resamples, chunk):
        size = min(chunk, resamples - first)
        index = rng.integers(0, n, size=(size, n))
        out[first : first + size] = values[index].mean(axis=1)
    return out


def _row(metric: Metric, before: float | None, after: float | None, source: str) -> Row:
    change = None if before is None or after is None else after - before
    pct = None
    if change is not None and before and metric.unit != "%":
        pct = 100.0 * change / abs(before)
    nb, en = metric.label(DEFAULT_LANGUAGE), metric.label(ENGLISH)
    return Row(metric.key, nb, en, metric.unit, before, after, change, pct, source)


def _design_rows(before: DesignMetrics, after: DesignMetrics) -> list[Row]:
    return [_row(m, before[m.key], after[m.key], "design") for m in DESIGN_METRICS]


def _observed_rows(
    before: pl.DataFrame, after: pl.DataFrame, *, seed: int, resamples: int
) -> list[Row]:
    keys = [m.key for m in CASE_METRICS]
    finished = pl.col("status") == RunStatus.FINISHED.value
    b = before.filter(finished).select(pl.col(keys).cast(pl.Float64)).to_numpy()
    a = after.filter(finished).select(pl.col(keys).cast(pl.Float64)).to_numpy()
    if len(b) == 0 or len(a) == 0:
        return []
    low, high = mean_difference_ci(b, a, seed=seed, resamples=resamples)
    rows = []
    for i, metric in enumerate(CASE_METRICS):
        row = _row(metric, float(b[:, i].mean()), float(a[:, i].mean()), "observed")
        rows.append(
            Row(**{**asdict(row), "key": f"observed_{metric.key}",
                   "ci_low": float(low[i]), "ci_high": float(high[i])})
        )  # fmt: skip
    return rows


def _handoff_refs(version: Version) -> list[HandoffRef]:
    return [HandoffRef(h.source, h.target, h.from_lane, h.to_lane) for h in handoffs(version)]


def _lane_pairs(
    before: list[HandoffRef], after: list[HandoffRef]
) -> list[tuple[str, str, int, int]]:
    pairs = sorted({(h.from_lane, h.to_lane) for h in [*before, *after]})
    return [
        (f, t, sum((h.from_lane, h.to_lane) == (f, t) for h in before),
         sum((h.from_lane, h.to_lane) == (f, t) for h in after))
        for f, t in pairs
    ]  # fmt: skip


def compare(
    before: Version,
    after: Version,
    *,
    before_events: pl.DataFrame | None = None,
    after_events: pl.DataFrame | None = None,
    lanes: LaneCatalog | None = None,
    seed: int = 0,
    resamples: int = 2000,
    observed: bool = False,
) -> Comparison:
    """Compare two versions: design metrics, observed metrics when both logs are given, and
    the structural story (steps, handoffs, duplicate registrations, wastes).

    Each log may hold other versions too; only its cases of the matching version are used.
    With ``observed``, each non-empty log's full :class:`ObservedMetrics` (waits, bottlenecks,
    conformance) is computed in the same pass as its per-case figures and kept on the result.

    Raises:
        DefinitionError: when a version's graph has a loop that can never be left.
        ValueError: when an event log lacks a column of the event schema.

    >>> from tests.factories import linear_version, make_version
    >>> v2 = make_version(
    ...     [{"id": "start", "kind": "start"}, {"id": "a", "kind": "task", "touch_minutes": 30},
    ...      {"id": "end", "kind": "end"}],
    ...     [{"from": "start", "to": "a"}, {"from": "a", "to": "end"}], version=2)
    >>> result = compare(linear_version(), v2)
    >>> result.row("expected_handoffs").change, result.steps_removed
    (-1.0, ('b',))
    """
    design_b = design_metrics(before, lanes=lanes)
    design_a = design_metrics(after, lanes=lanes)
    rows = _design_rows(design_b, design_a)
    found: tuple[ObservedMetrics | None, ObservedMetrics | None] = (None, None)
    if before_events is not None and after_events is not None:
        cases_b, metrics_b = _cases(before_events, before, full=observed)
        cases_a, metrics_a = _cases(after_events, after, full=observed)
        rows += _observed_rows(cases_b, cases_a, seed=seed, resamples=resamples)
        found = (metrics_b, metrics_a)
    diff = diff_versions(before, after)
    refs_b, refs_a = _handoff_refs(before), _handoff_refs(after)
    ends_a = {(h.source, h.target) for h in refs_a}
    ends_b = {(h.source, h.target) for h in refs_b}
    dup_b = {d.field for d in design_b.duplicates}
    dup_a = {d.field for d in design_a.duplicates}
    return Comparison(
        process=before.process,
        before=before.version,
        after=after.version,
        rows=tuple(rows),
        steps_removed=tuple(s.id for s in diff.steps_removed),
        steps_added=tuple(s.id for s in diff.steps_added),
        steps_changed=tuple(c.id for c in diff.steps_changed),
        handoffs_before=len(refs_b),
        handoffs_after=len(refs_a),
        handoffs_removed=tuple(h for h in refs_b if (h.source, h.target) not in ends_a),
        handoffs_added=tuple(h for h in refs_a if (h.source, h.target) not in ends_b),
        lane_pairs=tuple(_lane_pairs(refs_b, refs_a)),
        duplicates_removed=tuple(sorted(dup_b - dup_a)),
        duplicates_added=tuple(sorted(dup_a - dup_b)),
        wastes={w: (design_b.wastes[w], design_a.wastes[w]) for w in design_b.wastes},
        lanes=lanes,
        design=(design_b, design_a),
        diff=diff,
        observed=found,
    )


def _cases(
    events: pl.DataFrame, version: Version, *, full: bool
) -> tuple[pl.DataFrame, ObservedMetrics | None]:
    """The per-case figures of ``version`` in a log; with ``full`` (and cases in the log) also
    the log's whole observed metrics, whose case table they are."""
    if not full or events.is_empty():
        return _of_version(per_case(events), version), None
    metrics = observed_metrics(events, version=version)
    return _of_version(metrics.cases, version), metrics


def _of_version(cases: pl.DataFrame, version: Version) -> pl.DataFrame:
    return cases.filter(
        (pl.col("process") == version.process) & (pl.col("version") == version.version)
    )
