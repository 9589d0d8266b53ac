"""The semantic diff of two versions of a process: what a redesign changed.

Steps are matched by id (steps kept from v1 into v2 keep their ids), transitions by
``(from, to, outcome)`` and handoffs by ``(source, target)``. Handoffs are derived with
:func:`boflyt.engine.definition.graph.handoffs`, never declared, so moving a step to another lane
shows up as
handoffs added and removed.

>>> from tests.factories import linear_version
>>> diff_versions(linear_version(), linear_version()).is_empty
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from boflyt.engine.definition import diff_text
from boflyt.engine.definition.graph import Handoff, handoffs
from boflyt.models.definition import LaneCatalog, Step, Transition, Version
from boflyt.models.words import ENGLISH, Language

__all__ = [
    "STEP_FIELDS",
    "TRANSITION_FIELDS",
    "FieldChange",
    "HandoffChange",
    "StepChange",
    "TransitionChange",
    "TransitionKey",
    "VersionDiff",
    "diff_versions",
    "transition_key",
]

STEP_FIELDS: tuple[str, ...] = (
    "name",
    "kind",
    "lane",
    "joint_with",
    "touch_minutes",
    "wait_days",
    "external_wait",
    "value",
    "wastes",
    "registers",
    "channel",
    "complete_accurate",
    "extra_transactions",
    "deadline",
)
"""The step fields compared, in the order changes are reported."""

TRANSITION_FIELDS: tuple[str, ...] = ("probability", "rework", "label")
"""The transition fields compared once two transitions are matched by (from, to, outcome)."""

_UNORDERED = frozenset({"joint_with", "wastes", "registers"})
"""Fields whose order carries no meaning: compared as sets."""

_METADATA_FIELDS: tuple[str, ...] = ("name", "label", "status", "based_on", "owner", "date")

T = TypeVar("T")

TransitionKey = tuple[str, str, str | None]
"""``(from, to, outcome)``: how transitions of two versions are matched."""


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field whose value differs between the two versions (values as in the model)."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class StepChange:
    """A step present in both versions whose fields differ."""

    step: Step
    """The step as it is in the *after* version."""
    changes: tuple[FieldChange, ...]

    @property
    def id(self) -> str:
        return self.step.id


@dataclass(frozen=True, slots=True)
class TransitionChange:
    """A transition present in both versions whose probability, rework flag or label differ."""

    key: TransitionKey
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True, slots=True)
class HandoffChange:
    """A handoff in both versions (same source and target) between other lanes than before."""

    before: Handoff
    after: Handoff


@dataclass(frozen=True, slots=True)
class VersionDiff:
    """Everything that differs between ``before`` and ``after``; empty for equal versions."""

    before: str
    after: str
    metadata: tuple[FieldChange, ...]
    steps_added: tuple[Step, ...]
    steps_removed: tuple[Step, ...]
    steps_changed: tuple[StepChange, ...]
    lanes_added: tuple[str, ...]
    lanes_removed: tuple[str, ...]
    transitions_added: tuple[Transition, ...]
    transitions_removed: tuple[Transition, ...]
    transitions_changed: tuple[TransitionChange, ...]
    handoffs_added: tuple[Handoff, ...]
    handoffs_removed: tuple[Handoff, ...]
    handoffs_changed: tuple[HandoffChange, ...]
    """Handoffs kept whose lanes changed (a step at one end moved to another lane)."""
    handoffs_before: int
    handoffs_after: int
    steps_before: int
    steps_after: int

    @property
    def is_empty(self) -> bool:
        """True when the flows are the same (metadata such as the label may still differ)."""
        return not (
            self.steps_added
            or self.steps_removed
            or self.steps_changed
            or self.lanes_added
            or self.lanes_removed
            or self.transitions_added
            or self.transitions_removed
            or self.transitions_changed
            or self.handoffs_added
            or self.handoffs_removed
            or self.handoffs_changed
        )

    def summary(self, lang: Language = ENGLISH) -> str:
        """One sentence: ``removed 8 steps, added 2, changed 5; handoffs 12 → 6; …``
        (worded by :mod:`boflyt.engine.definition.diff_text`)."""
        return diff_text.summary(self, lang)

    def lines(self, lang: Language = ENGLISH, *, lanes: LaneCatalog | None = None) -> list[str]:
        """The whole diff in plain words, one change per line, summary first."""
        return diff_text.lines(self, lang, lanes)


def transition_key(transition: Transition) -> TransitionKey:
    """The key transitions are matched by: ``(from, to, outcome)``."""
    return (transition.source, transition.target, transition.outcome)


def diff_versions(before: Version, after: Version) -> VersionDiff:
    """Compare two versions of a process step by step, transition by transition.

    >>> from tests.factories import linear_version, make_version
    >>> before = linear_version()
    >>> after = make_version(
    ...     [{"id": "start", "kind": "start"}, {"id": "a", "kind": "task", "touch_minutes": 30,
    ...       "wait_days": 1}, {"id": "end", "kind": "end"}],
    ...     [{"from": "start", "to": "a"}, {"from": "a", "to": "end"}], version=2)
    >>> diff_versions(before, after).summary()
    'removed 1 step, changed 1 step; transitions −2 +1; handoffs 1 → 0'
    """
    old_steps = {step.id: step for step in before.steps}
    new_steps = {step.id: step for step in after.steps}
    old_handoffs = handoffs(before)
    new_handoffs = handoffs(after)
    return VersionDiff(
        before=before.key,
        after=after.key,
        metadata=_field_changes(before, after, _METADATA_FIELDS),
        steps_added=tuple(s for s in after.steps if s.id not in old_steps),
        steps_removed=tuple(s for s in before.steps if s.id not in new_steps),
        steps_changed=_steps_changed(old_steps, after.steps),
        lanes_added=tuple(lane for lane in after.lanes if lane not in before.lanes),
        lanes_removed=tuple(lane for lane in before.lanes if lane not in after.lanes),
        transitions_added=_unmatched(after.transitions, before.transitions, transition_key),
        transitions_removed=_unmatched(before.transitions, after.transitions, transition_key),
        transitions_changed=_transitions_changed(before.transitions, after.transitions),
        handoffs_added=_unmatched(new_handoffs, old_handoffs, _handoff_key),
        handoffs_removed=_unmatched(old_handoffs, new_handoffs, _handoff_key),
        handoffs_changed=_handoffs_changed(old_handoffs, new_handoffs),
        handoffs_before=len(old_handoffs),
        handoffs_after=len(new_handoffs),
        steps_before=len(before.steps),
        steps_after=len(after.steps),
    )


def _handoff_key(handoff: Handoff) -> tuple[str, str]:
    return (handoff.source, handoff.target)


def _handoffs_changed(
    before: Iterable[Handoff], after: Iterable[Handoff]
) -> tuple[HandoffChange, ...]:
    old = {_handoff_key(h): h for h in before}
    return tuple(
        HandoffChange(old[key], handoff)
        for handoff in after
        if (key := _handoff_key(handoff)) in old
        and (old[key].from_lane, old[key].to_lane) != (handoff.from_lane, handoff.to_lane)
    )


def _unmatched(items: Iterable[T], others: Iterable[T], key: Callable[[T], Any]) -> tuple[T, ...]:
    """Items of ``items`` whose key no item of ``others`` has, in order."""
    other_keys = {key(other) for other in others}
    return tuple(item for item in items if key(item) not in other_keys)


def _comparable(field: str, value: Any) -> Any:
    return frozenset(value) if field in _UNORDERED else value


def _field_changes(before: Any, after: Any, fields: Iterable[str]) -> tuple[FieldChange, ...]:
    changes = []
    for field in fields:
        old, new = getattr(before, field), getattr(after, field)
        if _comparable(field, old) != _comparable(field, new):
            changes.append(FieldChange(field, old, new))
    return tuple(changes)


def _steps_changed(old_steps: Mapping[str, Step], new: Iterable[Step]) -> tuple[StepChange, ...]:
    changed = []
    for step in new:
        old = old_steps.get(step.id)
        if old is not None and (changes := _field_changes(old, step, STEP_FIELDS)):
            changed.append(StepChange(step, changes))
    return tuple(changed)


def _transitions_changed(
    before: Iterable[Transition], after: Iterable[Transition]
) -> tuple[TransitionChange, ...]:
    old = {transition_key(t): t for t in before}
    changed = []
    for transition in after:
        key = transition_key(transition)
        if key in old and (changes := _field_changes(old[key], transition, TRANSITION_FIELDS)):
            changed.append(TransitionChange(key, changes))
    return tuple(changed)
