"""The waste taxonomy of a version: steps per LEAN waste, and duplicate registrations.

A **duplicate registration** is a data field registered by more than one step of the same
version (often in several organisations' systems): LEAN's "double work". The duplicate count of
a version is Σ over such fields of (registrations − 1), so one field keyed in three times counts 2.
"""

from __future__ import annotations

from dataclasses import dataclass

from boflyt.models.definition import Version
from boflyt.models.vocabulary import Waste

__all__ = [
    "DuplicateRegistration",
    "duplicate_count",
    "duplicate_registrations",
    "waste_counts",
    "wastes_by_category",
]


@dataclass(frozen=True)
class DuplicateRegistration:
    """One data field registered by more than one step."""

    field: str
    steps: tuple[str, ...]
    """The registering steps, in declaration order."""
    lanes: tuple[str, ...]
    """The organisations of those steps (owning and joint lanes), first appearance first."""

    @property
    def extra(self) -> int:
        """Registrations beyond the first one."""
        return len(self.steps) - 1


def duplicate_registrations(version: Version) -> list[DuplicateRegistration]:
    """Every data field that more than one step of ``version`` registers, sorted by field.

    Raises nothing: a version without ``registers`` simply has no duplicates.

    >>> from tests.factories import make_version
    >>> v = make_version(
    ...     [{"id": "start", "kind": "start"},
    ...      {"id": "a", "kind": "task", "registers": ["income", "household"]},
    ...      {"id": "b", "kind": "task", "lane": "nav", "registers": ["income"]},
    ...      {"id": "end", "kind": "end"}],
    ...     [{"from": "start", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "end"}])
    >>> duplicate_registrations(v)
    [DuplicateRegistration(field='income', steps=('a', 'b'), lanes=('housing_office', 'nav'))]
    """
    by_field: dict[str, list[str]] = {}
    lanes: dict[str, list[str]] = {}
    for step in version.steps:
        for field in dict.fromkeys(step.registers):
            by_field.setdefault(field, []).append(step.id)
            known = lanes.setdefault(field, [])
            known.extend(lane for lane in step.lanes if lane not in known)
    return [
        DuplicateRegistration(field, tuple(steps), tuple(lanes[field]))
        for field, steps in sorted(by_field.items())
        if len(steps) > 1
    ]


def duplicate_count(version: Version) -> int:
    """Σ over duplicated fields of (registrations − 1).

    >>> from tests.factories import linear_version
    >>> duplicate_count(linear_version())
    0
    """
    return sum(dup.extra for dup in duplicate_registrations(version))


def wastes_by_category(version: Version) -> dict[Waste, list[str]]:
    """Step ids tagged with each of the eight wastes (every category present, in enum order).

    >>> from tests.factories import make_version
    >>> v = make_version(
    ...     [{"id": "start", "kind": "start"},
    ...      {"id": "a", "kind": "task", "wastes": ["waiting", "defects"]},
    ...      {"id": "end", "kind": "end"}],
    ...     [{"from": "start", "to": "a"}, {"from": "a", "to": "end"}])
    >>> wastes_by_category(v)[Waste.WAITING]
    ['a']
    """
    found: dict[Waste, list[str]] = {waste: [] for waste in Waste}
    for step in version.steps:
        for waste in dict.fromkeys(step.wastes):
            found[waste].append(step.id)
    return found


def waste_counts(version: Version) -> dict[str, int]:
    """Number of steps tagged with each waste, keyed by the waste's value."""
    return {waste.value: len(steps) for waste, steps in wastes_by_category(version).items()}
