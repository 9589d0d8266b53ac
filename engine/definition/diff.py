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
from enum import Enum
from typing import Any, TypeVar

from boflyt.engine.definition.graph import Handoff, handoffs
from boflyt.models.definition import Duration, LaneCatalog, Step, Text, Transition, Version
from boflyt.models.words import ENGLISH, Language, count, format_number, term, word

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
    "format_value",
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
        """One sentence: ``removed 8 steps, added 2, changed 5; handoffs 12 → 6; …``."""
        return _summary(self, lang)

    def lines(self, lang: Language = ENGLISH, *, lanes: LaneCatalog | None = None) -> list[str]:
        """The whole diff in plain words, one change per line, summary first."""
        return _lines(self, lang, lanes)


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


# --- plain words ---------------------------------------------------------------------------


def _words(lang: Language) -> _Words:
    return _Words(lang)


class _Words:
    """The ``diff`` group of the word catalogue, indexed like a dict: ``w["removed"]``."""

    def __init__(self, lang: Language) -> None:
        self.lang = lang

    def __getitem__(self, key: str) -> str:
        return word(f"diff.{key}", self.lang)


def format_value(value: Any, lang: Language = ENGLISH) -> str:
    """A field value in plain text: durations as ``30`` / ``30–60``, empty values as ``—``.

    >>> format_value(Duration(low=3, high=10))
    '3–10'
    >>> format_value((), "nb"), format_value(True, "nb"), format_value(0.25)
    ('—', 'ja', '0.25')
    """
    if value is None or value == ():
        return "—"
    if isinstance(value, bool):
        return _words(lang)["yes" if value else "no"]
    if isinstance(value, Enum):
        return term(value, lang)
    if isinstance(value, Duration):
        return _format_duration(value, lang)
    if isinstance(value, Text):
        return value.get(lang)
    if isinstance(value, float):
        return format_number(value, lang, None)
    if isinstance(value, tuple | frozenset):
        return ", ".join(format_value(item, lang) for item in value)
    return str(value)


def _format_duration(duration: Duration, lang: Language) -> str:
    if duration.dist == "fixed":
        points = [duration.low]
    elif duration.dist == "triangular":
        mode = duration.mode if duration.mode is not None else duration.low
        points = [duration.low, mode, duration.high]
    else:
        points = [duration.low, duration.high]
    return "–".join(format_number(point, lang, None) for point in points)


def _count(n: int, w: _Words) -> str:
    return count("word.steps", n, w.lang)


def _summary(diff: VersionDiff, lang: Language) -> str:
    w = _words(lang)
    if diff.is_empty:
        return w["no_change"]
    step_parts = [
        f"{w[verb]} {_count(len(items), w)}"
        for verb, items in (
            ("removed", diff.steps_removed),
            ("added", diff.steps_added),
            ("changed", diff.steps_changed),
        )
        if items
    ]
    parts = [", ".join(step_parts)] if step_parts else []
    if diff.lanes_added or diff.lanes_removed:
        parts.append(f"{w['lanes']} −{len(diff.lanes_removed)} +{len(diff.lanes_added)}")
    if diff.transitions_added or diff.transitions_removed:
        removed, added = len(diff.transitions_removed), len(diff.transitions_added)
        parts.append(f"{w['transitions']} −{removed} +{added}")
    if diff.transitions_changed:
        n = len(diff.transitions_changed)
        parts.append(f"{w['changed']} {n} {w['transition' if n == 1 else 'transitions']}")
    parts.append(f"{w['handoffs']} {diff.handoffs_before} → {diff.handoffs_after}")
    return "; ".join(parts)


def _arrow(key: TransitionKey) -> str:
    source, target, outcome = key
    return f"{source} → {target}" + (f" [{outcome}]" if outcome else "")


def _changes(changes: Iterable[FieldChange], lang: Language) -> str:
    return "; ".join(
        f"{word(f'field.{c.field}', lang)}: {format_value(c.before, lang)} → "
        f"{format_value(c.after, lang)}"
        for c in changes
    )


def _lane_label(lane: str, lang: Language, catalog: LaneCatalog | None) -> str:
    found = catalog.get(lane) if catalog is not None else None
    return found.name.get(lang) if found is not None else lane


def _lines(diff: VersionDiff, lang: Language, catalog: LaneCatalog | None) -> list[str]:
    w = _words(lang)
    out = [f"{diff.before} → {diff.after}: {diff.summary(lang)}"]
    out += [f"  {_changes([c], lang)}" for c in diff.metadata]
    for label, lanes in (("removed_lane", diff.lanes_removed), ("added_lane", diff.lanes_added)):
        out += [f"  {w[label]} {lane} ({_lane_label(lane, lang, catalog)})" for lane in lanes]
    for label, steps in (("removed_step", diff.steps_removed), ("added_step", diff.steps_added)):
        out += [
            f"  {w[label]} {s.id} ({s.name.get(lang)}) {w['in']} "
            f"{_lane_label(s.lane, lang, catalog)}"
            for s in steps
        ]
    out += [
        f"  {w['changed_step']} {c.id}: {_changes(c.changes, lang)}" for c in diff.steps_changed
    ]
    for label, transitions in (
        ("removed_transition", diff.transitions_removed),
        ("added_transition", diff.transitions_added),
    ):
        out += [f"  {w[label]} {_arrow(transition_key(t))}" for t in transitions]
    out += [
        f"  {w['changed_transition']} {_arrow(c.key)}: {_changes(c.changes, lang)}"
        for c in diff.transitions_changed
    ]
    for label, found in (
        ("removed_handoff", diff.handoffs_removed),
        ("added_handoff", diff.handoffs_added),
    ):
        out += [
            f"  {w[label]} {h.source} → {h.target} "
            f"({_lane_label(h.from_lane, lang, catalog)} ↪ {_lane_label(h.to_lane, lang, catalog)})"
            for h in found
        ]
    out += [
        f"  {w['changed_handoff']} {c.after.source} → {c.after.target}: "
        f"{_lane_label(c.before.from_lane, lang, catalog)} ↪ "
        f"{_lane_label(c.before.to_lane, lang, catalog)} → "
        f"{_lane_label(c.after.from_lane, lang, catalog)} ↪ "
        f"{_lane_label(c.after.to_lane, lang, catalog)}"
        for c in diff.handoffs_changed
    ]
    return out
