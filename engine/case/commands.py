"""The commands the case engine decides: start, begin, complete, cancel, escalate.

Frozen dataclasses with slots, made by the store (from a person's request) and by the
simulator; :func:`boflyt.engine.case.decide.decide` takes one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BeginStep", "CancelCase", "Command", "CompleteStep", "Escalate", "StartCase"]


@dataclass(frozen=True, slots=True)
class StartCase:
    """Open a new case; ``actor`` of ``org`` records it."""

    case_id: str
    actor: str
    org: str


@dataclass(frozen=True, slots=True)
class BeginStep:
    """Begin the open work item of ``step`` (optional: completing implies it)."""

    step: str
    actor: str
    org: str


@dataclass(frozen=True, slots=True)
class CompleteStep:
    """Complete the open work item of ``step``; a decision names its ``outcome``; ``note`` is
    the caseworker's optional remark, kept as the completion event's ``detail``."""

    step: str
    actor: str
    org: str
    outcome: str | None = None
    touch_minutes: float | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CancelCase:
    """Stop the case; its open work items are cancelled."""

    actor: str
    org: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Escalate:
    """Mark open work items overdue (one ``step_escalated`` event each); done by the system."""

    items: tuple[int, ...]
    detail: str | None = None


Command = StartCase | BeginStep | CompleteStep | CancelCase | Escalate
