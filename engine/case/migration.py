"""Moving a running case from one version of its process to another: plan, then migrate.

Pure: no I/O, no clock. :func:`plan_case` says, for one case, where it stands now, where it
will stand on the target version and what a person should know first
(:class:`MigrationWarning`), or why it cannot move (``refused``). :func:`migrate_case` makes
the one ``case_migrated`` event and the state after it; :func:`apply_migration` is the rule
that event applies (replaying the event log applies the same rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from boflyt.engine.case.flow import Flow
from boflyt.engine.case.state import CaseState
from boflyt.models.events import Event
from boflyt.models.words import Language

__all__ = [
    "CasePlan",
    "CaseResult",
    "MigrationWarning",
    "apply_migration",
    "migrate_case",
    "plan_case",
]


@dataclass(frozen=True, slots=True)
class MigrationWarning:
    """One thing a person should know before a case moves; ``code`` names it."""

    code: str
    step: str | None = None
    values: tuple[str, ...] = ()

    def text(self, lang: Language) -> str:
        """The warning in plain words, in ``lang``."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class CasePlan:
    """Where one case stands now (its open steps), where it will stand, what to know."""

    case_id: str
    now: tuple[str, ...]
    after: tuple[str, ...]
    warnings: tuple[MigrationWarning, ...] = ()
    refused: str | None = None


@dataclass(frozen=True, slots=True)
class CaseResult:
    """What happened to one case when a migration was applied."""

    case_id: str
    migrated: bool
    reason: str | None = None


def plan_case(
    state: CaseState, source: Flow, target: Flow, mapping: Mapping[str, str] | None = None
) -> CasePlan:
    """The plan of moving ``state`` from ``source`` to ``target``."""
    raise NotImplementedError


def migrate_case(
    state: CaseState,
    source: Flow,
    target: Flow,
    mapping: Mapping[str, str] | None = None,
    *,
    actor: str,
    now: object,
) -> tuple[CaseState, tuple[Event, ...]]:
    """The state after the migration and its one ``case_migrated`` event."""
    raise NotImplementedError


def apply_migration(state: CaseState, source: Flow, target: Flow, event: Event) -> CaseState:
    """The state after the ``case_migrated`` event ``event``."""
    raise NotImplementedError
