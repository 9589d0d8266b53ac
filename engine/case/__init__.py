"""The case wing: one case's life as a pure state machine over a version's compiled flow.

Pure: no I/O, no clock, no SQL. :func:`decide` takes a command and the current state and
returns the new state and its events; :func:`replay` rebuilds a state from stored events. A
version is compiled once (:func:`compile_flow`) into a :class:`Flow` whose named routes
(:mod:`boflyt.engine.case.routes`) hold the flow's semantics: which steps become ready, which
joins advance and which handoffs occur when a step completes. :mod:`~boflyt.engine.case.bounds`
checks command input before the store writes it, :mod:`~boflyt.engine.case.overdue` finds work
past its time. The clock, the database and the random generator belong to the callers.
"""

from boflyt.engine.case.commands import (
    BeginStep,
    CancelCase,
    Command,
    CompleteStep,
    Escalate,
    StartCase,
)
from boflyt.engine.case.decide import decide, replay
from boflyt.engine.case.flow import Flow, FlowStep, compile_flow
from boflyt.engine.case.overdue import overdue_items, working_minutes
from boflyt.engine.case.routes import Move, MoveKind, Route
from boflyt.engine.case.state import (
    OPEN_STATUSES,
    CaseState,
    Decision,
    WorkItem,
    open_items,
    ready_items,
)

__all__ = [
    "OPEN_STATUSES",
    "BeginStep",
    "CancelCase",
    "CaseState",
    "Command",
    "CompleteStep",
    "Decision",
    "Escalate",
    "Flow",
    "FlowStep",
    "Move",
    "MoveKind",
    "Route",
    "StartCase",
    "WorkItem",
    "compile_flow",
    "decide",
    "open_items",
    "overdue_items",
    "ready_items",
    "replay",
    "working_minutes",
]
