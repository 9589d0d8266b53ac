"""The neutral value-stream model: per step, expected waiting and touch time, in flow order.

Extracted from a version and its design metrics; drawn by :mod:`boflyt.visualize.timeline`. Each
step's figures are *expected per case* (visits × mean), so loops and rare branches count with
their probability, exactly as in the design metrics' totals.
"""

from __future__ import annotations

from dataclasses import dataclass

from boflyt.analysis.design import DesignMetrics, design_metrics
from boflyt.models.definition import MINUTES_PER_WORKING_DAY, LaneCatalog, Version
from boflyt.models.vocabulary import StepKind
from boflyt.models.words import DEFAULT_LANGUAGE, Language
from boflyt.visualize.diagram import DiagramLane, Swimlane, flow_order
from boflyt.visualize.extraction import extract_swimlane

__all__ = ["MIN_GROUP", "Timeline", "TimelineStep", "extract_timeline"]

MIN_GROUP = 5
"""The smallest group of measured cases a figure is drawn for (privacy: fewer is never shown)."""

_ENGINE = {StepKind.START, StepKind.END, StepKind.PARALLEL, StepKind.JOIN}


@dataclass(frozen=True, slots=True)
class TimelineStep:
    """One rung of the ladder: expected wait before the step, then its expected touch time."""

    id: str
    number: int | None
    label: str
    lane: str
    wait_days: float
    touch_minutes: float
    external: bool

    @property
    def touch_days(self) -> float:
        return self.touch_minutes / MINUTES_PER_WORKING_DAY


@dataclass(frozen=True, slots=True)
class Timeline:
    """A version's value stream and its summary figures."""

    key: str
    title: str
    lang: Language
    lanes: tuple[DiagramLane, ...]
    """The version's lanes in drawing order, labelled (for colours and the legend)."""
    steps: tuple[TimelineStep, ...]
    lead_days: float
    touch_minutes: float
    waiting_days: float
    activity_ratio: float
    rolled_ca: float | None
    """The rolled %C&A; None when it cannot be measured (a measured timeline's run set)."""
    cases: int | None = None
    """None for the design (expected per case); for a measured timeline, the finished cases its
    medians stand on (see :mod:`boflyt.visualize.measured_timeline`)."""
    hidden: int = 0
    """Measured steps left out because fewer than the smallest shown group had them."""

    @property
    def summed_days(self) -> float:
        """Waits and touch times added in sequence (≥ the lead time when branches overlap)."""
        return sum(s.wait_days + s.touch_days for s in self.steps)


def extract_timeline(
    version: Version,
    lanes: LaneCatalog | None = None,
    *,
    lang: Language = DEFAULT_LANGUAGE,
    metrics: DesignMetrics | None = None,
    diagram: Swimlane | None = None,
) -> Timeline:
    """The value stream of ``version``: work steps in flow order with expected times.

    ``metrics`` and ``diagram`` (the version's swimlane, for its numbering and flow order) are
    used as given when the caller has them already.

    >>> from tests.factories import linear_version
    >>> t = extract_timeline(linear_version())
    >>> [(s.id, s.wait_days, s.touch_minutes) for s in t.steps], t.lead_days
    ([('a', 1.0, 30.0), ('b', 2.0, 60.0)], 3.2)
    """
    m = metrics or design_metrics(version, lanes=lanes)
    diagram = diagram or extract_swimlane(version, lanes, lang=lang, duplicates=m.duplicates)
    outside = {lane.id for lane in diagram.lanes if lane.outside}
    steps = []
    for node in flow_order(diagram.nodes, version.lanes):
        visits = m.visits.get(node.id, 0.0)
        if node.kind in _ENGINE or visits <= 0:
            continue
        steps.append(
            TimelineStep(
                id=node.id,
                number=node.number,
                label=node.label,
                lane=node.lane,
                wait_days=visits * node.wait_days,
                touch_minutes=visits * node.touch_minutes,
                external=node.external_wait or node.lane in outside,
            )
        )
    return Timeline(
        key=version.key,
        title=f"v{version.version}: {version.label}",
        lang=lang,
        lanes=diagram.lanes,
        steps=tuple(steps),
        lead_days=m["lead_days"],
        touch_minutes=m["touch_minutes"],
        waiting_days=m["waiting_days"],
        activity_ratio=m["activity_ratio"],
        rolled_ca=m["rolled_ca"],
    )
