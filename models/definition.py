"""The definition language: frozen pydantic models for lanes and process versions.

A version file (``processes/<process>/v<N>.yaml``) maps one-to-one onto :class:`Version`;
``processes/lanes.yaml`` maps onto :class:`LaneCatalog`. Models reject unknown keys and are
immutable; everything else (graph, handoffs, metrics) is derived from them by functions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from boflyt.models.vocabulary import Channel, StepKind, ValueClass, VersionStatus, Waste
from boflyt.models.words import Language

__all__ = [
    "Deadline",
    "Duration",
    "Identifier",
    "IsoDate",
    "Lane",
    "LaneCatalog",
    "OrderRule",
    "OutcomeMetric",
    "Step",
    "Text",
    "Transition",
    "Version",
]

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
"""Ids of lanes, steps, data fields and processes: lower-case snake case."""


def _from_iso(value: Any) -> Any:
    """A string date as ISO 8601 (``2025-01-06``), parsed by the standard library."""
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_from_iso)]
"""A calendar date; in YAML and JSON an ISO 8601 string (safe YAML keeps dates as strings)."""

MINUTES_PER_WORKING_DAY = 450.0
"""One working day is 7.5 hours (the domain notes' convention)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Text(_Frozen):
    """A label in bokmål and English."""

    nb: Annotated[str, Field(min_length=1, max_length=300)]
    en: Annotated[str, Field(min_length=1, max_length=300)]

    def get(self, lang: Language) -> str:
        return self.en if lang == "en" else self.nb


class Duration(_Frozen):
    """A duration distribution: ``fixed``, ``uniform`` (low..high) or ``triangular``.

    In YAML a plain number means fixed, ``[low, high]`` means uniform, and a mapping gives
    the distribution explicitly, e.g. ``{dist: triangular, low: 3, mode: 4, high: 10}``.
    """

    dist: Literal["fixed", "uniform", "triangular"] = "uniform"
    low: Annotated[float, Field(ge=0)]
    high: Annotated[float, Field(ge=0)]
    mode: Annotated[float | None, Field(ge=0)] = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"dist": "fixed", "low": data, "high": data}
        if isinstance(data, list | tuple) and len(data) == 2:
            return {"dist": "uniform", "low": data[0], "high": data[1]}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Duration:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is greater than high ({self.high:g})")
        if self.dist == "triangular":
            if self.mode is None:
                raise ValueError("a triangular duration needs a mode")
            if not self.low <= self.mode <= self.high:
                raise ValueError(f"mode {self.mode:g} lies outside {self.low:g}..{self.high:g}")
        elif self.mode is not None:
            raise ValueError(f"mode is only allowed for triangular, not {self.dist}")
        if self.dist == "fixed" and self.low != self.high:
            raise ValueError("a fixed duration has low == high")
        return self

    @property
    def mean(self) -> float:
        if self.dist == "triangular":
            assert self.mode is not None
            return (self.low + self.mode + self.high) / 3.0
        return (self.low + self.high) / 2.0

    @classmethod
    def zero(cls) -> Duration:
        return cls(dist="fixed", low=0.0, high=0.0)


class Deadline(_Frozen):
    """A deadline the law or the routine sets on a step, with its legal basis.

    ``days`` counts working days (the municipality's calendar: Monday–Friday without Norwegian
    public holidays and its closed days) or, with ``calendar: true``, calendar days;
    ``day_of_month`` instead names a day of the month (e.g. 25 for housing allowance: the next
    25th). The clock starts when the step's work item became ready or, with ``from``, when the
    named earlier step last completed before that. In YAML:
    ``deadline: {days: 14, calendar: true, from: eviction_warning, basis: "tvfbl. § 4-18"}``.
    How the due date is counted: :mod:`boflyt.engine.case.deadlines`.
    """

    days: Annotated[int | None, Field(ge=1, le=3660)] = None
    calendar: bool = False
    """True: ``days`` are calendar days; false (default): working days."""
    day_of_month: Annotated[int | None, Field(ge=1, le=28)] = None
    """Due on the next such day of a month (1–28, so every month has it) instead of ``days``."""
    start: Identifier | None = Field(default=None, alias="from")
    """The earlier step whose completion starts the clock; unset: the step becoming ready."""
    basis: Annotated[str | None, Field(min_length=1, max_length=500)] = None
    """The legal or administrative basis, as shown to staff (e.g. ``tvfbl. § 13-6``)."""

    @model_validator(mode="after")
    def _one_count(self) -> Deadline:
        if (self.days is None) == (self.day_of_month is None):
            raise ValueError(
                "give either days (a number of days) or day_of_month (a day of the month)"
            )
        if self.day_of_month is not None and self.calendar:
            raise ValueError("calendar: true applies to days, not to day_of_month")
        return self


class Lane(_Frozen):
    """An organisation doing work in a case, or an outside party (``outside: true``)."""

    id: Identifier
    name: Text
    outside: bool = False


class LaneCatalog(_Frozen):
    """``processes/lanes.yaml``: every organisation known to the library, in display order."""

    lanes: tuple[Lane, ...]

    def get(self, lane_id: str) -> Lane | None:
        return next((lane for lane in self.lanes if lane.id == lane_id), None)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(lane.id for lane in self.lanes)


class Step(_Frozen):
    """One node of the flow graph."""

    id: Identifier
    kind: StepKind
    lane: Identifier
    joint_with: tuple[Identifier, ...] = ()
    """Other lanes taking part in a joint step (a meeting); any of them may complete it."""
    name: Text
    touch_minutes: Duration = Field(default_factory=Duration.zero)
    """Hands-on (process) time of the step, in minutes."""
    wait_days: Duration = Field(default_factory=Duration.zero)
    """Waiting time before the step starts, in working days (1 wd = 7.5 h)."""
    external_wait: bool = False
    """True when the wait is on an outside party (housing market, IMDi, court, tenant)."""
    value: ValueClass | None = None
    wastes: tuple[Waste, ...] = ()
    registers: tuple[Identifier, ...] = ()
    """Data fields the step registers (keys for finding duplicate registrations)."""
    channel: Channel | None = None
    complete_accurate: Annotated[float, Field(ge=0, le=100)] = 100.0
    """%C&A: share of this step's output the next step can use as is."""
    extra_transactions: Annotated[int, Field(ge=0, le=100)] = 0
    """Exchanges of information in the step beyond the handoff that brings the case to it."""
    note: str | None = None
    deadline: Deadline | None = None
    """When the step's work must be done (:class:`Deadline`); unset: no deadline."""

    @property
    def lanes(self) -> tuple[str, ...]:
        """The owning lane first, then the joint lanes."""
        return (self.lane, *self.joint_with)


class Transition(_Frozen):
    """One edge of the flow graph. ``from`` is a Python keyword, hence ``source``."""

    source: Identifier = Field(alias="from")
    target: Identifier = Field(alias="to")
    outcome: Identifier | None = None
    probability: Annotated[float | None, Field(ge=0, le=1)] = None
    rework: bool = False
    label: Text | None = None

    @property
    def p(self) -> float:
        """The probability used for expected values and simulation (1 when not given)."""
        return 1.0 if self.probability is None else self.probability


class OrderRule(_Frozen):
    """An order the law or the routine requires: ``before`` comes first on every path.

    No case may reach a step of ``after`` without having passed ``before`` earlier (e.g. no
    eviction without a petition). Validation checks it on the graph; ``note`` says where the
    rule comes from.
    """

    before: Identifier
    after: Annotated[tuple[Identifier, ...], Field(min_length=1)]
    note: str | None = None


class OutcomeMetric(_Frozen):
    """A figure the process is judged by, declared by its owner and computed three ways.

    ``measure: share`` is the share of cases that reach any of ``steps``; ``measure: time_to``
    the working days from the case's start until work begins on the first of ``steps`` it
    reaches (for an end step: until the case ends there), over the cases that reach one.
    Designed from the graph, simulated and registered from an event log
    (:mod:`boflyt.analysis.outcomes`).
    """

    id: Identifier
    name: Text
    measure: Literal["share", "time_to"]
    steps: Annotated[tuple[Identifier, ...], Field(min_length=1)]
    note: str | None = None


_ADDED_FIELDS = ("order", "outcome_metrics")
"""Version fields added after versions were first stored: left out of the canonical form while
empty, so a version stored before they existed keeps its content hash."""

_ADDED_STEP_FIELDS = ("deadline",)
"""Step fields added later: left out of the canonical form while unset (hashes stay stable)."""


class Version(_Frozen):
    """An immutable revision of one process's flow graph."""

    process: Identifier
    version: Annotated[int, Field(ge=1)]
    label: Annotated[str, Field(min_length=1, max_length=200)]
    based_on: Annotated[int | None, Field(ge=1)] = None
    status: VersionStatus = VersionStatus.DRAFT
    owner: Annotated[str, Field(min_length=1, max_length=200)]
    date: IsoDate
    summary: Annotated[str, Field(max_length=4000)] = ""
    name: Text
    lanes: tuple[Identifier, ...]
    """Lanes used by this version, in the order diagrams draw them (ids from lanes.yaml)."""
    steps: tuple[Step, ...]
    transitions: tuple[Transition, ...]
    order: tuple[OrderRule, ...] = ()
    """Orders the graph must keep (statutory or administrative), checked by validation."""
    outcome_metrics: tuple[OutcomeMetric, ...] = ()
    """The figures the process is judged by (share evicted, time to first NAV contact, …)."""

    @property
    def key(self) -> str:
        """``process@vN``, the name people use for a version."""
        return f"{self.process}@v{self.version}"

    def step(self, step_id: str) -> Step:
        """The step with this id; :class:`KeyError` when there is none."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def canonical(self) -> str:
        """The canonical form: sorted-key JSON of the model with defaults, by alias.

        The fields of :data:`_ADDED_FIELDS` are left out while empty, and a step's
        :data:`_ADDED_STEP_FIELDS` while unset (hashes stay stable).
        """
        data = self.model_dump(mode="json", by_alias=True)
        for name in _ADDED_FIELDS:
            if not data[name]:
                del data[name]
        for step in data["steps"]:
            for name in _ADDED_STEP_FIELDS:
                if step[name] is None:
                    del step[name]
        return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    @property
    def content_hash(self) -> str:
        """SHA-256 over the canonical form; equal for files that differ only in layout."""
        return hashlib.sha256(self.canonical().encode()).hexdigest()
