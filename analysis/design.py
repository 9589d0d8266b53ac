"""Expected LEAN metrics of a version, computed from its definition alone.

Every expected value weighs a step by its expected visits per case (:func:`expected_visits`:
the graph as an absorbing Markov chain, branch probabilities and rework loops included exactly).
Each metric's definition is written once, in :data:`DESIGN_METRICS`; the docs quote it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from boflyt.analysis.chain import Edges, ParallelBlock, absorption, expected_visits, parallel_blocks
from boflyt.analysis.waste import DuplicateRegistration, duplicate_registrations, waste_counts
from boflyt.engine.definition.graph import handoffs
from boflyt.models.definition import MINUTES_PER_WORKING_DAY, LaneCatalog, Step, Version
from boflyt.models.vocabulary import StepKind
from boflyt.models.words import Language, word

__all__ = [
    "DESIGN_METRICS",
    "DesignMetrics",
    "Metric",
    "design_metrics",
    "expected_visits",
    "lead_time",
    "likely_path",
    "rework_probability",
]

_ENGINE_KINDS = frozenset({StepKind.START, StepKind.PARALLEL, StepKind.JOIN, StepKind.END})


@dataclass(frozen=True)
class Metric:
    """A metric's key, unit and its one definition; its name is the catalogue's
    ``metric.<label_key or key>`` (:mod:`boflyt.models.words`)."""

    key: str
    unit: str
    """``count``, ``min`` (minutes), ``wd`` (working days of 7.5 h) or ``%``."""
    definition: str
    label_key: str = ""
    """The catalogue key of its name, when it is not the metric's own key."""

    def label(self, lang: Language) -> str:
        return word(f"metric.{self.label_key or self.key}", lang)


DESIGN_METRICS: tuple[Metric, ...] = (
    Metric("work_steps", "count",
           "Steps that are task, auto, decision or wait (start, end, parallel and join left out)."),
    Metric("steps_value_adding", "count",
           "Steps classed value_adding."),
    Metric("steps_necessary", "count",
           "Steps classed necessary (required by law, audit or finance control)."),
    Metric("steps_waste", "count",
           "Steps classed waste."),
    Metric("expected_handoffs", "count",
           "Σ over handoff edges (transitions between steps of different owning lanes) of "
           "expected traversals per case = visits(source) × p(edge); every branch of a parallel "
           "split and every edge into a join counts."),
    Metric("expected_transactions", "count",
           "A transaction is one exchange of information about the case: every handoff plus "
           "each extra exchange a step declares. Expected per case = expected handoffs + "
           "Σ visits × extra_transactions."),
    Metric("likely_path_steps", "count",
           "Work steps on the path that follows the most probable edge from the start (all "
           "branches of a parallel split, rework edges never taken)."),
    Metric("likely_path_handoffs", "count",
           "Handoff edges followed by the most likely path."),
    Metric("touch_minutes", "min",
           "Σ visits × mean touch minutes, over all steps."),
    Metric("waiting_days", "wd",
           "Σ visits × mean waiting days before each step, over all steps."),
    Metric("external_waiting_days", "wd",
           "The part of the expected waiting time at steps with external_wait or in an outside "
           "party's lane."),
    Metric("controllable_waiting_days", "wd",
           "Expected waiting time minus the waiting on outside parties."),
    Metric("lead_days", "wd",
           "Along the critical path: sequential steps add visits × (mean wait + mean touch / 450 "
           "min); a parallel block adds the largest expected branch time. Because E[max] ≥ "
           "max E, this is a lower bound on the expected lead time of a block."),
    Metric("controllable_lead_days", "wd",
           "Lead time minus the waiting on outside parties that lies on the critical path."),
    Metric("activity_ratio", "%",
           "Expected touch minutes ÷ lead time in minutes (lead days × 450) × 100."),
    Metric("rolled_ca", "%",
           "Π over steps of (%C&A / 100) ^ visits × 100: the chance a case passes every step "
           "with no correction."),
    Metric("rework_probability", "%",
           "P(at least one rework edge is taken) = 1 − P(an end is reached with rework edges "
           "removed), computed exactly; parallel branches multiply."),
    Metric("duplicate_registrations", "count",
           "Σ over data fields registered by more than one step of (registrations − 1)."),
    Metric("waste_tags", "count",
           "Number of (step, waste category) tags over the eight LEAN wastes."),
)  # fmt: skip
"""The design metrics, in display order; one definition each (quoted in the docs)."""


@dataclass(frozen=True)
class DesignMetrics:
    """The expected LEAN metrics of one version (see :data:`DESIGN_METRICS` for definitions)."""

    process: str
    version: int
    label: str
    values: dict[str, float]
    """Each metric of :data:`DESIGN_METRICS` by key."""
    steps_by_kind: dict[str, int]
    steps_by_value: dict[str, int]
    visits: dict[str, float]
    likely_path: tuple[str, ...]
    duplicates: tuple[DuplicateRegistration, ...]
    wastes: dict[str, int]
    """Number of steps tagged with each waste category."""
    workload: dict[str, float]
    """Expected touch minutes per organisation per case; a joint step counts fully for each."""
    critical_path_external_days: float = 0.0
    """Waiting on outside parties that lies on the critical path (working days)."""

    def __getitem__(self, key: str) -> float:
        return self.values[key]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly data."""
        data = asdict(self)
        data["duplicates"] = [asdict(d) for d in self.duplicates]
        data["likely_path"] = list(self.likely_path)
        return data


def _outgoing(version: Version) -> dict[str, list[tuple[str, float, bool]]]:
    found: dict[str, list[tuple[str, float, bool]]] = {s.id: [] for s in version.steps}
    for t in version.transitions:
        found.setdefault(t.source, []).append((t.target, t.p, t.rework))
    return found


def _finishing(version: Version) -> set[str]:
    """Steps that can reach an end without taking a rework edge."""
    before: dict[str, list[str]] = {}
    for t in version.transitions:
        if not t.rework:
            before.setdefault(t.target, []).append(t.source)
    found = {s.id for s in version.steps if s.kind is StepKind.END}
    stack = list(found)
    while stack:
        for source in before.get(stack.pop(), []):
            if source not in found:
                found.add(source)
                stack.append(source)
    return found


def likely_path(version: Version) -> tuple[list[str], list[tuple[str, str]]]:
    """The most likely path: its steps in walking order and the edges it follows.

    From the start, follow the most probable non-rework edge (the first declared on a tie)
    among those leading to a step that can still finish without rework; a parallel split
    follows all its branches; no step is entered twice.

    >>> from tests.factories import linear_version
    >>> likely_path(linear_version())[0]
    ['start', 'a', 'b', 'end']
    """
    outgoing = _outgoing(version)
    finishing = _finishing(version)
    start = next(s.id for s in version.steps if s.kind is StepKind.START)
    path, followed, queue = [start], [], [start]
    while queue:
        node = queue.pop(0)
        edges = [(target, p) for target, p, rework in outgoing.get(node, []) if not rework]
        if version.step(node).kind is not StepKind.PARALLEL and edges:
            edges = [e for e in edges if e[0] in finishing] or edges
            edges = [max(edges, key=lambda e: e[1])]
        for target, _ in edges:
            followed.append((node, target))
            if target not in path:
                path.append(target)
                queue.append(target)
    return path, followed


def rework_probability(version: Version) -> float:
    """P(a case takes at least one rework edge), exactly.

    Rework edges are removed (nothing renormalised); each parallel block, innermost first, is
    collapsed to one edge split → join weighing the product of its branches' chances of
    reaching the join; the answer is 1 − P(reaching an end from the start).

    Raises:
        DefinitionError: when a loop can never be left.

    >>> from tests.factories import decision_version  # check -> fix_docs with p 0.2, rework back
    >>> round(rework_probability(decision_version(p_complete=0.8, rework=True)), 6)
    0.2
    """
    edges: Edges = {s.id: {} for s in version.steps}
    for t in version.transitions:
        if not t.rework:
            edges[t.source][t.target] = edges[t.source].get(t.target, 0.0) + t.p
    for block in parallel_blocks(version):
        survive = 1.0
        for first, inside in zip(block.entries, block.branches, strict=True):
            if first != block.join:
                branch = sorted(inside)
                reached = absorption(version, edges, branch, {block.join})
                survive *= float(reached[branch.index(first)])
        for node in block.inside:
            edges[node] = {}
        edges[block.split] = {block.join: survive}
    ends = {s.id for s in version.steps if s.kind is StepKind.END}
    nodes = [s.id for s in version.steps if s.id not in ends]
    start = next(s.id for s in version.steps if s.kind is StepKind.START)
    reached = absorption(version, edges, nodes, ends)
    return min(1.0, max(0.0, 1.0 - float(reached[nodes.index(start)])))


def _is_external(step: Step, lanes: LaneCatalog | None) -> bool:
    lane = lanes.get(step.lane) if lanes is not None else None
    return step.external_wait or (lane is not None and lane.outside)


def lead_time(
    version: Version, *, visits: dict[str, float] | None = None, lanes: LaneCatalog | None = None
) -> tuple[float, float]:
    """Expected lead time in working days along the critical path, and its external waiting.

    Sequential steps add visits × (mean wait + mean touch / 450); each parallel block adds the
    branch with the largest expected time (a lower bound: E[max] ≥ max E).

    >>> from tests.factories import linear_version
    >>> lead_time(linear_version())  # (1 + 30/450) + (2 + 60/450)
    (3.2, 0.0)
    """
    visits = expected_visits(version) if visits is None else visits
    own: dict[str, tuple[float, float]] = {}
    for step in version.steps:
        n = visits.get(step.id, 0.0)
        wait, touch = step.wait_days.mean, step.touch_minutes.mean / MINUTES_PER_WORKING_DAY
        own[step.id] = (n * (wait + touch), n * wait if _is_external(step, lanes) else 0.0)
    blocks = parallel_blocks(version)
    lead, external = _region(frozenset(own), blocks, own)
    return round(lead, 12), round(external, 12)


def _region(
    nodes: frozenset[str], blocks: list[ParallelBlock], own: dict[str, tuple[float, float]]
) -> tuple[float, float]:
    inner = [b for b in blocks if b.split in nodes and b.inside <= nodes]
    outer = [b for b in inner if not any(b.split in o.inside for o in inner if o is not b)]
    covered = frozenset().union(*(b.inside for b in outer))
    lead = sum(own[n][0] for n in nodes - covered)
    external = sum(own[n][1] for n in nodes - covered)
    for block in outer:
        best = max((_region(branch, blocks, own) for branch in block.branches), default=(0, 0))
        lead, external = lead + best[0], external + best[1]
    return lead, external


def _rolled_ca(version: Version, visits: dict[str, float]) -> float:
    logs = 0.0
    for step in version.steps:
        if visits[step.id] > 0:
            if step.complete_accurate <= 0:
                return 0.0
            logs += visits[step.id] * math.log(step.complete_accurate / 100.0)
    return 100.0 * math.exp(logs)


def _workload(version: Version, visits: dict[str, float]) -> dict[str, float]:
    load: dict[str, float] = {lane: 0.0 for lane in version.lanes}
    for step in version.steps:
        for lane in step.lanes:
            load[lane] = load.get(lane, 0.0) + visits[step.id] * step.touch_minutes.mean
    return load


def design_metrics(version: Version, *, lanes: LaneCatalog | None = None) -> DesignMetrics:
    """The expected LEAN metrics of ``version`` per case (definitions in :data:`DESIGN_METRICS`).

    ``lanes`` (the lane catalog) marks outside parties, whose steps' waits count as external.

    Raises:
        DefinitionError: when the version has no start step or a loop can never be left.

    >>> from tests.factories import linear_version
    >>> m = design_metrics(linear_version())
    >>> m["expected_handoffs"], m["touch_minutes"], m["lead_days"]
    (1.0, 90.0, 3.2)
    """
    visits = expected_visits(version)
    found = handoffs(version)
    exp_handoffs = sum(visits[h.source] * h.transition.p for h in found)
    extra = sum(visits[s.id] * s.extra_transactions for s in version.steps)
    path, followed = likely_path(version)
    on_path = {(h.source, h.target) for h in found} & set(followed)
    touch = sum(visits[s.id] * s.touch_minutes.mean for s in version.steps)
    waiting = sum(visits[s.id] * s.wait_days.mean for s in version.steps)
    external = sum(visits[s.id] * s.wait_days.mean for s in version.steps if _is_external(s, lanes))
    lead, lead_external = lead_time(version, visits=visits, lanes=lanes)
    by_value = Counter(s.value.value for s in version.steps if s.value is not None)
    duplicates = tuple(duplicate_registrations(version))
    wastes = waste_counts(version)
    work = [s for s in version.steps if s.kind not in _ENGINE_KINDS]
    values = {
        "work_steps": float(len(work)),
        "steps_value_adding": float(by_value.get("value_adding", 0)),
        "steps_necessary": float(by_value.get("necessary", 0)),
        "steps_waste": float(by_value.get("waste", 0)),
        "expected_handoffs": exp_handoffs,
        "expected_transactions": exp_handoffs + extra,
        "likely_path_steps": float(sum(version.step(s).kind not in _ENGINE_KINDS for s in path)),
        "likely_path_handoffs": float(len(on_path)),
        "touch_minutes": touch,
        "waiting_days": waiting,
        "external_waiting_days": external,
        "controllable_waiting_days": waiting - external,
        "lead_days": lead,
        "controllable_lead_days": lead - lead_external,
        "activity_ratio": 100.0 * touch / (lead * MINUTES_PER_WORKING_DAY) if lead > 0 else 0.0,
        "rolled_ca": _rolled_ca(version, visits),
        "rework_probability": 100.0 * rework_probability(version),
        "duplicate_registrations": float(sum(d.extra for d in duplicates)),
        "waste_tags": float(sum(wastes.values())),
    }
    return DesignMetrics(
        process=version.process,
        version=version.version,
        label=version.label,
        values={k: round(v, 12) for k, v in values.items()},
        steps_by_kind=dict(Counter(s.kind.value for s in version.steps)),
        steps_by_value=dict(by_value),
        visits=visits,
        likely_path=tuple(path),
        duplicates=duplicates,
        wastes=wastes,
        workload=_workload(version, visits),
        critical_path_external_days=lead_external,
    )
