"""Extraction: versions (and their computed metrics) into the neutral diagram model.

The first stage of *extract → :mod:`boflyt.visualize.diagram` dataclasses → one renderer per
module*. Flow position: every node gets a ``depth`` (longest path from the start, rework edges
ignored) and a ``sub_row`` inside its lane (0 = main row; branches taken by a less likely
outcome, parallel branches and removed ghosts drop to the rows below). Handoffs are numbered
1, 2, 3 … in flow order (by the depth of their source, then lane order, then declaration order).

Figures computed elsewhere (design metrics with their duplicate registrations, the diff, the
observed waits) are passed in; each is computed here only when a caller gives none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import networkx as nx

from boflyt.analysis.design import DesignMetrics, design_metrics
from boflyt.analysis.observed import ObservedMetrics
from boflyt.analysis.waste import DuplicateRegistration, duplicate_registrations
from boflyt.engine.definition.diff import VersionDiff, diff_versions
from boflyt.models import words
from boflyt.models.definition import LaneCatalog, Step, Transition, Version
from boflyt.models.runset import RunSetInfo
from boflyt.models.vocabulary import StepKind
from boflyt.models.words import DEFAULT_LANGUAGE, Language, format_number
from boflyt.visualize.diagram import (
    DiagramEdge,
    DiagramLane,
    DiagramNode,
    HeadlineDelta,
    Mark,
    Swimlane,
    WaitScale,
)
from boflyt.visualize.layout import flow_positions
from boflyt.visualize.run_set_text import scale_title
from boflyt.visualize.wording import kind_counts_text, lane_label, outcome_label, word

__all__ = [
    "build_nodes",
    "diagram_lanes",
    "duplicate_fields",
    "extract_comparison",
    "extract_swimlane",
    "headline_deltas",
    "overlay_swimlane",
]


def duplicate_fields(
    registrations: Sequence[DuplicateRegistration],
) -> dict[str, tuple[str, ...]]:
    """Per step id, the data fields it registers that another step registers too.

    From :func:`boflyt.analysis.waste.duplicate_registrations`, the one definition of the term
    (as :attr:`~boflyt.analysis.design.DesignMetrics.duplicates` carries them).
    """
    found: dict[str, list[str]] = {}
    for duplicate in registrations:
        for step_id in duplicate.steps:
            found.setdefault(step_id, []).append(duplicate.field)
    return {step_id: tuple(fields) for step_id, fields in found.items()}


def _number_handoffs(
    edges: list[DiagramEdge],
    lanes_of: Mapping[str, str],
    depth: Mapping[str, int],
    order: list[str],
) -> list[DiagramEdge]:
    """Give each live cross-lane edge its number in flow order."""
    index = {lane: i for i, lane in enumerate(order)}
    crossing = [
        (i, e)
        for i, e in enumerate(edges)
        if not e.ghost and lanes_of[e.source] != lanes_of[e.target]
    ]
    crossing.sort(
        key=lambda ie: (depth[ie[1].source], index.get(lanes_of[ie[1].source], 99), ie[0])
    )
    numbers = {i: n for n, (i, _) in enumerate(crossing, start=1)}
    return [replace(e, handoff=numbers.get(i)) for i, e in enumerate(edges)]


def _edge(transition: Transition, lang: Language, *, ghost: bool = False) -> DiagramEdge:
    return DiagramEdge(
        source=transition.source,
        target=transition.target,
        label=outcome_label(transition, lang),
        rework=transition.rework,
        ghost=ghost,
        probability=transition.probability,
    )


def build_nodes(
    steps: Sequence[tuple[Step, Mark, tuple[str, ...]]],
    edges: Sequence[DiagramEdge],
    lane_order: Sequence[str],
    lang: Language,
    *,
    duplicates: Mapping[str, tuple[str, ...]],
    observed_waits: Mapping[str, float] | None = None,
) -> list[DiagramNode]:
    """Place and number the steps; ``steps`` carries each step's mark and changed fields."""
    graph: nx.DiGraph = nx.DiGraph()
    for step, mark, _ in steps:
        graph.add_node(step.id, lane=step.lane, ghost=mark is Mark.REMOVED)
    for e in edges:
        graph.add_edge(
            e.source, e.target, rework=e.rework, ghost=e.ghost, probability=e.probability
        )
    places = flow_positions(graph, lane_order)
    numbered = sorted(
        (s for s, m, _ in steps if s.kind in _NUMBERED and m is not Mark.REMOVED),
        key=lambda s: (
            places[s.id][0],
            lane_order.index(s.lane) if s.lane in lane_order else 99,
            places[s.id][1],
        ),
    )
    numbers = {s.id: n for n, s in enumerate(numbered, start=1)}
    waits = observed_waits or {}
    return [
        DiagramNode(
            id=step.id,
            label=step.name.get(lang),
            lane=step.lane,
            kind=step.kind,
            depth=places[step.id][0],
            sub_row=places[step.id][1],
            number=numbers.get(step.id),
            mark=mark,
            changed_fields=changed,
            wastes=tuple(w.value for w in step.wastes),
            duplicates=duplicates.get(step.id, ()),
            external_wait=step.external_wait,
            wait_days=step.wait_days.mean,
            touch_minutes=step.touch_minutes.mean,
            joint_lanes=step.joint_with,
            observed_wait_days=waits.get(step.id),
        )
        for step, mark, changed in steps
    ]


_NUMBERED = {StepKind.TASK, StepKind.AUTO, StepKind.DECISION, StepKind.WAIT}


def diagram_lanes(
    lane_ids: Sequence[str], catalog: LaneCatalog | None, lang: Language
) -> tuple[DiagramLane, ...]:
    """The version's lanes in its own order, labelled from the catalogue."""
    found = []
    for lane_id in lane_ids:
        lane = catalog.get(lane_id) if catalog else None
        found.append(
            DiagramLane(lane_id, lane_label(lane_id, lane, lang), lane.outside if lane else False)
        )
    return tuple(found)


def extract_swimlane(
    version: Version,
    lanes: LaneCatalog | None = None,
    *,
    lang: Language = DEFAULT_LANGUAGE,
    observed_step_waits: Mapping[str, float] | None = None,
    observed_handoff_waits: Mapping[tuple[str, str], float] | None = None,
    lead_time_days: float | None = None,
    duplicates: Sequence[DuplicateRegistration] | None = None,
) -> Swimlane:
    """The swimlane model of one version.

    ``observed_step_waits`` (step id → mean working days waited before it) and
    ``observed_handoff_waits`` ((from lane, to lane) → mean days from the handoff to the start
    of the receiving step) turn on the observed overlay. ``duplicates`` are the version's
    duplicate registrations when already computed (its design metrics carry them).

    >>> from tests.factories import linear_version
    >>> d = extract_swimlane(linear_version())
    >>> [l.id for l in d.lanes], [e.handoff for e in d.edges]
    (['housing_office', 'nav'], [None, 1, None])
    """
    raw = [_edge(t, lang) for t in version.transitions]
    nodes = build_nodes(
        [(s, Mark.NONE, ()) for s in version.steps],
        raw,
        version.lanes,
        lang,
        duplicates=duplicate_fields(
            duplicate_registrations(version) if duplicates is None else duplicates
        ),
        observed_waits=observed_step_waits,
    )
    lanes_of = {n.id: n.lane for n in nodes}
    depth = {n.id: n.depth for n in nodes}
    edges = _number_handoffs(raw, lanes_of, depth, list(version.lanes))
    scale = None
    if observed_step_waits is not None or observed_handoff_waits is not None:
        pair_waits = observed_handoff_waits or {}
        edges = [
            _with_wait(e, pair_waits.get((lanes_of[e.source], lanes_of[e.target])))
            if e.handoff
            else e
            for e in edges
        ]
        values = [*(observed_step_waits or {}).values(), *pair_waits.values()]
        scale = WaitScale(max(values, default=0.0), word("observed_wait", lang))
    handoff_count = sum(1 for e in edges if e.handoff)
    subtitle = kind_counts_text(version.steps, len(version.lanes), handoff_count, lang)
    if lead_time_days is not None:
        lead = format_number(lead_time_days, lang)
        subtitle += f"; {word('lead_time', lang)} {lead} {word('days', lang)}"
    return Swimlane(
        key=version.key,
        title=f"{version.name.get(lang)} · v{version.version}: {version.label}",
        subtitle=subtitle,
        lang=lang,
        lanes=diagram_lanes(version.lanes, lanes, lang),
        nodes=tuple(nodes),
        edges=tuple(edges),
        wait_scale=scale,
    )


def _with_wait(edge: DiagramEdge, days: float | None) -> DiagramEdge:
    return replace(edge, observed_wait_days=days)


def headline_deltas(
    before: DesignMetrics, after: DesignMetrics, lang: Language
) -> tuple[HeadlineDelta, ...]:
    """Handoffs, transactions and lead time, before → after (expected values per case)."""
    keys = (
        ("expected_handoffs", "handoffs", ""),
        ("expected_transactions", "transactions", ""),
        ("lead_days", "lead_time", " d"),
    )
    return tuple(
        HeadlineDelta(word(label, lang), round(before[key], 1), round(after[key], 1), unit)
        for key, label, unit in keys
    )


def extract_comparison(
    before: Version,
    after: Version,
    lanes: LaneCatalog | None = None,
    *,
    lang: Language = DEFAULT_LANGUAGE,
    before_metrics: DesignMetrics | None = None,
    after_metrics: DesignMetrics | None = None,
    diff: VersionDiff | None = None,
) -> Swimlane:
    """The *after* version marked against *before*: new, changed and removed (ghost) steps.

    Steps are matched by id. Removed steps and the before-only transitions touching them are
    kept as ghosts; the headline deltas (handoffs, transactions, lead time) go in the header.
    The metrics and the diff, when already computed (a comparison carries them), are used as
    given.
    """
    diff = diff or diff_versions(before, after)
    m_before = before_metrics or design_metrics(before, lanes=lanes)
    m_after = after_metrics or design_metrics(after, lanes=lanes)
    changed = {c.id: tuple(f.field for f in c.changes) for c in diff.steps_changed}
    added = {s.id for s in diff.steps_added}
    steps: list[tuple[Step, Mark, tuple[str, ...]]] = []
    for step in after.steps:
        mark = Mark.NEW if step.id in added else Mark.CHANGED if step.id in changed else Mark.NONE
        steps.append((step, mark, changed.get(step.id, ())))
    removed = {s.id for s in diff.steps_removed}
    steps += [(s, Mark.REMOVED, ()) for s in diff.steps_removed]
    raw = [_edge(t, lang) for t in after.transitions]
    raw += [
        _edge(t, lang, ghost=True)
        for t in before.transitions
        if (t.source in removed or t.target in removed)
    ]
    known = {s.id for s, _, _ in steps}
    raw = [e for e in raw if e.source in known and e.target in known]
    lane_order = [*after.lanes, *(lane for lane in before.lanes if lane not in after.lanes)]
    duplicates = duplicate_fields(m_after.duplicates)
    nodes = build_nodes(steps, raw, lane_order, lang, duplicates=duplicates)
    lanes_of = {n.id: n.lane for n in nodes}
    edges = _number_handoffs(raw, lanes_of, {n.id: n.depth for n in nodes}, lane_order)
    counts = (len(diff.steps_added), len(diff.steps_changed), len(diff.steps_removed))
    subtitle = words.word(
        "diagram.compare_subtitle",
        lang,
        versions=f"v{before.version} -> v{after.version}",
        new=counts[0],
        changed=counts[1],
        removed=counts[2],
    )
    return Swimlane(
        key=f"{after.key}-vs-v{before.version}",
        title=f"{after.name.get(lang)} · v{after.version}: {after.label}",
        subtitle=subtitle,
        lang=lang,
        lanes=diagram_lanes(lane_order, lanes, lang),
        nodes=tuple(nodes),
        edges=tuple(edges),
        deltas=headline_deltas(m_before, m_after, lang),
    )


def overlay_swimlane(
    version: Version,
    lanes: LaneCatalog,
    observed: ObservedMetrics,
    runs: RunSetInfo,
    lang: Language,
    *,
    duplicates: Sequence[DuplicateRegistration] | None = None,
) -> Swimlane:
    """The swimlane coloured by the waiting times of one run set; its scale names the set."""
    steps = {
        str(r["step"]): float(r["mean_wait_days"])
        for r in observed.bottlenecks.iter_rows(named=True)
        if r["mean_wait_days"] is not None
    }
    pairs = {
        (str(r["from_lane"]), str(r["to_lane"])): float(r["mean_days"])
        for r in observed.handoff_waits.iter_rows(named=True)
        if r["mean_days"] is not None
    }
    diagram = extract_swimlane(
        version, lanes, lang=lang, observed_step_waits=steps, observed_handoff_waits=pairs,
        duplicates=duplicates,
    )  # fmt: skip
    if diagram.wait_scale is not None:  # the scale names the run set it was measured on
        scale = WaitScale(diagram.wait_scale.max_days, scale_title(runs, lang))
        diagram = replace(diagram, wait_scale=scale)
    return diagram
