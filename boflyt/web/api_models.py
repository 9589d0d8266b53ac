"""The REST API's request and response bodies (pydantic), as the OpenAPI description shows them.

Requests refuse unknown fields and carry the shape limits (lengths, ranges); the store's bounds
(:mod:`boflyt.engine.case.bounds`) are checked again by the routes, each refusal naming its field.
No response model has a field for the case reference: only its short keyed pseudonym is ever
returned.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from boflyt.engine.case.bounds import MAX_ID, MAX_REASON, MAX_TOUCH_MINUTES
from boflyt.models.vocabulary import EventKind, ItemStatus, RunStatus

__all__ = [
    "CaseRecord",
    "CaseStarted",
    "CompleteStep",
    "Handoff",
    "Inbox",
    "InboxItem",
    "OpenStep",
    "Problem",
    "StartCase",
    "StepDone",
    "TimelineEvent",
    "ValidationProblem",
    "ValidationProblems",
]

MAX_REFERENCE_INPUT = 256
"""Characters a reference may have as typed (spaces included); the store allows 64 without."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StartCase(_Body):
    """Start a case: on ``process`` (its newest published version unless ``version`` is given)
    for ``reference``, which is stored only as a keyed pseudonym and never returned."""

    process: str = Field(min_length=1, max_length=MAX_ID, examples=["private_lease"])
    version: int | None = Field(default=None, ge=1, le=1_000_000)
    reference: str = Field(
        min_length=1,
        max_length=MAX_REFERENCE_INPUT,
        description="The case reference (e.g. a national identity number).",
    )


class CompleteStep(_Body):
    """Complete an open step: a decision needs its ``outcome``; ``minutes`` of hands-on work and
    a one-line ``note`` are optional."""

    outcome: str | None = Field(default=None, min_length=1, max_length=MAX_ID)
    minutes: float | None = Field(default=None, ge=0, le=MAX_TOUCH_MINUTES, allow_inf_nan=False)
    note: str | None = Field(default=None, min_length=1, max_length=MAX_REASON)


class Problem(BaseModel):
    """Why a request was refused (401, 403, 404, 409)."""

    detail: str


class ValidationProblem(BaseModel):
    """One bad input: where (``["body", "minutes"]``), what is wrong. The input is not repeated."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationProblems(BaseModel):
    """Why a request was refused as bad input (422), one entry per field."""

    detail: list[ValidationProblem]


class InboxItem(BaseModel):
    """A ready or started step one of the caller's organisations may act on."""

    case_id: str
    process: str
    version: int
    step: str
    step_name: str
    orgs: list[str] = Field(description="The caller's organisations that may act on it.")
    status: ItemStatus
    ready_since: dt.datetime
    started_at: dt.datetime | None
    waited_minutes: int
    due: dt.datetime | None = Field(
        description="When the work is due: the end of the step's deadline day when it declares "
        "a deadline, else when a ready step has waited as long as it allows (working time)."
    )
    overdue: bool = Field(
        description="Past its deadline; without one: escalated, or ready past its due time."
    )
    basis: str | None = Field(
        default=None, description="The legal basis of the step's deadline, when it has one."
    )


class Inbox(BaseModel):
    """The caller's organisations' open work, oldest first."""

    items: list[InboxItem]


class OpenStep(BaseModel):
    """A ready or started step of a case."""

    step: str
    name: str
    status: ItemStatus
    lanes: list[str]
    ready_since: dt.datetime
    yours: bool = Field(description="One of the caller's organisations may act on it.")


class CaseStarted(BaseModel):
    """The new case: its id, the reference's short pseudonym, and what is open now."""

    case_id: str
    reference_pseudonym: str
    process: str
    version: int
    status: RunStatus
    open_steps: list[OpenStep]


class Handoff(BaseModel):
    """Work passing from one organisation to another: by which channel, and how long it waited
    for the receiving organisation to begin it (until now while it still waits)."""

    from_org: str
    to_org: str
    from_step: str
    to_step: str
    channel: str | None
    wait_minutes: int | None
    waiting: bool


class TimelineEvent(BaseModel):
    """One event of the case, in order."""

    seq: int
    at: dt.datetime
    kind: EventKind
    step: str | None
    actor: str | None
    org: str | None
    outcome: str | None
    minutes: float | None
    note: str | None
    handoff: Handoff | None


class CaseRecord(BaseModel):
    """A case's state and timeline."""

    case_id: str
    process: str
    version: int
    status: RunStatus
    started_at: dt.datetime
    finished_at: dt.datetime | None
    open_steps: list[OpenStep]
    timeline: list[TimelineEvent]


class StepDone(BaseModel):
    """The case after a step was begun or completed."""

    case_id: str
    status: RunStatus
    open_steps: list[OpenStep]
