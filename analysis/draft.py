"""A drafted version as plain data: what the log says about each step, and the version file's
mapping written from it.

:mod:`boflyt.analysis.discovery` finds the steps (:class:`DraftStep`) and the kept
directly-follows edges of a log; :func:`version_data` writes them as a version file's mapping
(decisions with their shares as probabilities, rework marks, ``[p10, p90]`` durations, notes)
and :class:`DraftVersion` carries it with what the log said. What a log cannot tell is left for
the facilitator (:data:`FACILITATOR`): ``value: null`` and ``wastes: []`` on every work step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from boflyt.analysis.follows import Edges
from boflyt.models.definition import Lane, LaneCatalog, Text, Version
from boflyt.models.vocabulary import StepKind

__all__ = [
    "FACILITATOR",
    "DraftStep",
    "DraftVersion",
    "LeftOut",
    "StepFigures",
    "draft_lanes",
    "summary",
    "version_data",
]

FACILITATOR = "to be set by the facilitator"
"""The note on what a log cannot tell (value class, wastes)."""


@dataclass(frozen=True)
class LeftOut:
    """An activity done in too few cases to become a step."""

    activity: str
    """Its name in the log (its step id when no name is known)."""
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


@dataclass
class DraftStep:
    """A step of the draft: what the log says about it, and the activity it stands for (None
    for a step discovery added: a start, an end, the first-activity decision)."""

    figures: StepFigures
    activity: str | None
    name: Text
    position: float = 0.0
    note: str = ""
    organisation: str | None = None

    @property
    def id(self) -> str:
        return self.figures.id


def _duration(span: tuple[float, float], digits: int) -> float | list[float]:
    """``[p10, p90]`` rounded; one number when they are equal."""
    low, high = (round(value, digits) for value in span)
    return low if low == high else [low, high]


def _step_note(node: DraftStep) -> str:
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


def _step_data(node: DraftStep) -> dict[str, Any]:
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


def _transitions(
    nodes: list[DraftStep], edges: Edges, rework: set[tuple[str, str]]
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


def draft_lanes(nodes: list[DraftStep]) -> tuple[Lane, ...]:
    """The draft's lanes in the order its steps first use them, named by the organisation."""
    names = {n.figures.lane: n.organisation for n in nodes if n.organisation is not None}
    lanes: dict[str, Lane] = {}
    for node in nodes:
        lane = node.figures.lane
        if lane not in lanes:
            shown = names.get(lane)
            short = shown[:300] if shown else None
            name = (Text(nb=short, en=short) if short
                    else Text(nb="Uten organisasjon", en="No organisation"))  # fmt: skip
            lanes[lane] = Lane(id=lane, name=name)
    return tuple(lanes.values())


def summary(
    source: str, cases: int, events: int, nodes: list[DraftStep], left_out: tuple[LeftOut, ...],
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


def version_data(
    nodes: list[DraftStep], edges: Edges, rework: set[tuple[str, str]], *, process: str,
    number: int, title: Text | None, based_on: int | None, owner: str, date: dt.date,
    summary: str,
) -> dict[str, Any]:  # fmt: skip
    name = title or Text(nb=process, en=process)
    return {
        "process": process, "version": number, "label": "Som i dag (utkast fra logg)",
        "based_on": based_on, "status": "draft", "owner": owner, "date": date.isoformat(),
        "summary": summary, "name": {"nb": name.nb, "en": name.en},
        "lanes": [lane.id for lane in draft_lanes(nodes)],
        "steps": [_step_data(n) for n in nodes],
        "transitions": _transitions(nodes, edges, rework),
    }  # fmt: skip
