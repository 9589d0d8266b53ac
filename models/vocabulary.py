"""The closed vocabularies of the definition language and of case runs (StrEnums)."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AuditAction",
    "Channel",
    "EventKind",
    "ItemStatus",
    "Mode",
    "NoticeKind",
    "OutboxStatus",
    "Role",
    "RunStatus",
    "StepKind",
    "ValueClass",
    "VersionStatus",
    "Waste",
]


class StepKind(StrEnum):
    """What a step is: human work, system work, a choice, a split or join, a wait or an event."""

    START = "start"
    TASK = "task"
    AUTO = "auto"
    DECISION = "decision"
    PARALLEL = "parallel"
    JOIN = "join"
    WAIT = "wait"
    END = "end"


class ValueClass(StrEnum):
    """LEAN value class: value-adding (VA), business-necessary (BNVA) or waste (NVA)."""

    VALUE_ADDING = "value_adding"
    NECESSARY = "necessary"
    WASTE = "waste"


class Waste(StrEnum):
    """The eight LEAN wastes (DOWNTIME / TIMWOODS)."""

    TRANSPORT = "transport"
    INVENTORY = "inventory"
    MOTION = "motion"
    WAITING = "waiting"
    OVERPRODUCTION = "overproduction"
    OVERPROCESSING = "overprocessing"
    DEFECTS = "defects"
    UNUSED_SKILLS = "unused_skills"


class Channel(StrEnum):
    """How a step exchanges information with the next party."""

    SYSTEM = "system"
    EMAIL = "email"
    LETTER = "letter"
    PHONE = "phone"
    MEETING = "meeting"


class VersionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class Mode(StrEnum):
    """Where a case run came from; all three share one event-log schema."""

    LIVE = "live"
    SIMULATED = "simulated"
    IMPORTED = "imported"


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class ItemStatus(StrEnum):
    """Life of a work item (a step instance): ready -> started -> done / cancelled."""

    READY = "ready"
    STARTED = "started"
    DONE = "done"
    CANCELLED = "cancelled"


class EventKind(StrEnum):
    CASE_STARTED = "case_started"
    STEP_READY = "step_ready"
    STEP_STARTED = "step_started"
    STEP_COMPLETED = "step_completed"
    HANDOFF = "handoff"
    CASE_FINISHED = "case_finished"
    CASE_CANCELLED = "case_cancelled"
    STEP_ESCALATED = "step_escalated"
    STEP_REMINDED = "step_reminded"
    CASE_MIGRATED = "case_migrated"


class Role(StrEnum):
    """What an account may do: run cases, facilitate analyses, own processes, manage accounts."""

    CASEWORKER = "caseworker"
    FACILITATOR = "facilitator"
    PROCESS_OWNER = "process_owner"
    ADMIN = "admin"


class AuditAction(StrEnum):
    """What an audit entry records (:mod:`boflyt.engine.store.audit`): a change to a case or an
    account, a read of a case, or a login event."""

    CASE_STARTED = "case_started"
    STEP_BEGUN = "step_begun"
    STEP_COMPLETED = "step_completed"
    CASE_CANCELLED = "case_cancelled"
    STEP_ESCALATED = "step_escalated"
    CASE_MIGRATED = "case_migrated"
    CASE_READ = "case_read"
    USER_ADDED = "user_added"
    USER_DISABLED = "user_disabled"
    TOKEN_ISSUED = "token_issued"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    DRAFT_SAVED = "draft_saved"
    VERSION_PUBLISHED = "version_published"
    VERSION_RETIRED = "version_retired"
    RETENTION = "retention"
    """The link to a person (the reference pseudonym) of an ended case was removed after its
    process's retention period (:mod:`boflyt.engine.store.retention`)."""


class NoticeKind(StrEnum):
    """Why an e-mail notification was written to the outbox (:mod:`boflyt.engine.store.outbox`)."""

    REMINDER = "reminder"
    ESCALATION = "escalation"
    HANDOFF = "handoff"


class OutboxStatus(StrEnum):
    """Life of an outbox row: pending -> sending -> committing -> sent; or failed, or uncertain.

    ``sending``: claimed, the SMTP conversation has not yet sent the message's end; a crash here
    delivered nothing, so the row is sent again. ``committing``: the end of the message is going
    out; a crash here may or may not have delivered it, so the row becomes ``uncertain`` and is
    never sent again by itself. ``failed``: refused for good (5xx) or out of attempts.
    """

    PENDING = "pending"
    SENDING = "sending"
    COMMITTING = "committing"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
