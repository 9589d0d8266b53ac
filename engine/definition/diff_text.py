"""The wording of a :class:`~boflyt.engine.definition.diff.VersionDiff`: plain sentences.

The diff itself (:mod:`boflyt.engine.definition.diff`) is computed without words; this module
turns it into a one-line summary and one line per change, every word from the catalogue's
``diff`` and ``field`` groups, in the language asked for.

>>> from tests.factories import linear_version
>>> from boflyt.engine.definition.diff import diff_versions
>>> summary(diff_versions(linear_version(), linear_version()), "en")
'no change to the flow'
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import TYPE_CHECKING, Any

from boflyt.models.definition import Deadline, Duration, LaneCatalog, Text
from boflyt.models.words import ENGLISH, Language, count, format_number, term, word

if TYPE_CHECKING:
    from boflyt.engine.definition.diff import FieldChange, TransitionKey, VersionDiff

__all__ = ["format_value", "lines", "summary"]


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
    if isinstance(value, Deadline):
        return _format_deadline(value, lang)
    if isinstance(value, float):
        return format_number(value, lang, None)
    if isinstance(value, tuple | frozenset):
        return ", ".join(format_value(item, lang) for item in value)
    return str(value)


def _format_deadline(deadline: Deadline, lang: Language) -> str:
    """``14 calendar days from eviction_warning (basis)``, or ``the 25th (basis)``.

    >>> format_value(Deadline(days=3, basis="fvl. § 29"), "en")
    '3 working days (fvl. § 29)'
    >>> format_value(Deadline(day_of_month=25, **{"from": "move_in"}), "nb")
    'den 25. i måneden fra move_in'
    """
    w = _words(lang)
    if deadline.day_of_month is not None:
        text = w["deadline_monthly"].format(day=deadline.day_of_month)
    else:
        unit = "deadline_calendar_days" if deadline.calendar else "deadline_working_days"
        text = count(f"diff.{unit}", deadline.days or 0, lang)
    if deadline.start is not None:
        text += " " + w["deadline_from"].format(step=deadline.start)
    return text + (f" ({deadline.basis})" if deadline.basis else "")


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


def summary(diff: VersionDiff, lang: Language = ENGLISH) -> str:
    """One sentence: ``removed 8 steps, added 2, changed 5; handoffs 12 → 6; …``."""
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


def lines(
    diff: VersionDiff, lang: Language = ENGLISH, catalog: LaneCatalog | None = None
) -> list[str]:
    """The whole diff in plain words, one change per line, summary first."""
    w = _words(lang)
    out = [f"{diff.before} → {diff.after}: {summary(diff, lang)}"]
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
        out += [f"  {w[label]} {_arrow((t.source, t.target, t.outcome))}" for t in transitions]
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
