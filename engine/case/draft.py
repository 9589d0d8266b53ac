"""The draft of a case state while one command is decided: events are emitted and applied.

:func:`boflyt.engine.case.decide.decide` creates a :class:`Draft` from the current state, the
command's handlers emit events into it, and each event is applied to the draft at once, so
replaying the same events rebuilds the same state. Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from boflyt.engine.case.flow import Flow, FlowStep
from boflyt.engine.case.routes import arrive
from boflyt.engine.case.state import OPEN_STATUSES, CaseState, WorkItem
from boflyt.models.events import Event
from boflyt.models.vocabulary import EventKind, ItemStatus, RunStatus

__all__ = ["Draft"]

_OPEN = OPEN_STATUSES


_EPOCH = dt.datetime(1970, 1, 1)
_new = tuple.__new__  # builds a named tuple from its values in field order, in one C call
_READY, _STARTED, _DONE = ItemStatus.READY, ItemStatus.STARTED, ItemStatus.DONE
_ITEM_CANCELLED, _CASE_FINISHED = ItemStatus.CANCELLED, EventKind.CASE_FINISHED
_STEP_READY, _STEP_STARTED = EventKind.STEP_READY, EventKind.STEP_STARTED
_STEP_COMPLETED, _HANDOFF = EventKind.STEP_COMPLETED, EventKind.HANDOFF
_RUNNING, _FINISHED, _CANCELLED = RunStatus.RUNNING, RunStatus.FINISHED, RunStatus.CANCELLED
# Module constants, not ``EnumClass.MEMBER`` in the methods: on Python 3.11 reading an enum
# member from its class costs about ten times a global's lookup.


class Draft:
    """A mutable working copy of a case state, changed by the events emitted into it.

    :meth:`emit` applies each event through :meth:`apply`, as :func:`replay` does. The hot
    emitters (:meth:`ready`, :meth:`begun`, :meth:`completed`, :meth:`handoff`) build their event
    positionally and make the same change from the values at hand, without reading the event
    back (each read of a named tuple's field calls a descriptor); the tests replay every decided
    log and compare the states.
    """

    __slots__ = (
        "arrivals", "case_id", "events", "finished_at", "flow", "items", "joined", "seq",
        "started_at", "status",
    )  # fmt: skip

    def __init__(
        self,
        flow: Flow,
        state: CaseState | None,
        case_id: str = "",
        at: dt.datetime = _EPOCH,
    ):
        """A draft of ``state``, or of a new case ``case_id`` started ``at`` when it is None."""
        self.flow = flow
        self.events: list[Event] = []
        if state is None:
            self.case_id = case_id
            self.items: list[WorkItem] = []
            self.arrivals: dict[str, frozenset[str]] = {}
            self.joined: tuple[tuple[str, tuple[str, ...]], ...] | None = ()
            self.seq, self.status, self.started_at = 0, _RUNNING, at
            self.finished_at: dt.datetime | None = None
            return
        # One unpacking, not ten field reads: each read of a named tuple's field by name calls
        # a descriptor. ``joined`` keeps the state's arrivals as long as no branch arrives.
        (self.case_id, _, _, _, self.status, items, self.joined, self.seq, self.started_at,
         self.finished_at) = state  # fmt: skip
        self.items = list(items)
        self.arrivals = {join: frozenset(src) for join, src in self.joined} if self.joined else {}

    def emit(
        self,
        kind: EventKind,
        at: dt.datetime,
        step: str | None = None,
        item: int | None = None,
        lane: str | None = None,
        actor: str | None = None,
        org: str | None = None,
        outcome: str | None = None,
        touch_minutes: float | None = None,
        transactions: int | None = None,
        from_step: str | None = None,
        to_step: str | None = None,
        from_lane: str | None = None,
        to_lane: str | None = None,
        channel: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Make the next event of the case (fields as in :class:`Event`) and apply it.

        The hot paths have their own emitters (:meth:`ready`, :meth:`begun`, :meth:`completed`,
        :meth:`handoff`).
        """
        seq = self.seq = self.seq + 1
        event = _new(
            Event,
            (self.case_id, seq, kind, at, step, item, lane, actor, org, outcome,
             touch_minutes, transactions, from_step, to_step, from_lane, to_lane, channel, detail)
        )  # fmt: skip
        applier = _APPLIERS.get(kind)  # a handoff changes nothing but ``seq``
        if applier is not None:
            applier(self, event)
        self.events.append(event)

    def ready(self, at: dt.datetime, step: FlowStep) -> None:
        """Emit ``step_ready``: the next work item, of ``step``, becomes ready."""
        items = self.items
        number, step_id = len(items) + 1, step.id
        seq = self.seq = self.seq + 1
        self.events.append(
            _new(Event, (self.case_id, seq, _STEP_READY, at, step_id, number, step.lane, None,
                         None, None, None, None, None, None, None, None, None, None))
        )  # fmt: skip
        items.append(
            _new(WorkItem, (number, step_id, _READY, at, None, None, None, None, None, None, False))
        )

    def begun(
        self,
        at: dt.datetime,
        step: FlowStep,
        number: int,
        actor: str,
        org: str,
        detail: str | None,
    ) -> None:
        """Emit ``step_started``: work item ``number`` of ``step`` is begun by ``actor``."""
        seq = self.seq = self.seq + 1
        self.events.append(
            _new(Event, (self.case_id, seq, _STEP_STARTED, at, step.id, number, step.lane, actor,
                         org, None, None, None, None, None, None, None, None, detail))
        )  # fmt: skip
        item = self.items[number - 1]
        self.items[number - 1] = _new(
            WorkItem,
            (number, item.step, _STARTED, item.ready_at, at, None, actor, org, None, None,
             item.escalated)
        )  # fmt: skip

    def begun_to_complete(
        self, at: dt.datetime, step: FlowStep, number: int, actor: str, org: str
    ) -> None:
        """Emit the ``step_started`` that completing a ready item implies; :meth:`completed`
        follows at once and rewrites the item whole, so the started item is not built."""
        seq = self.seq = self.seq + 1
        self.events.append(
            _new(Event, (self.case_id, seq, _STEP_STARTED, at, step.id, number, step.lane, actor,
                         org, None, None, None, None, None, None, None, None, "implicit"))
        )  # fmt: skip

    def completed(
        self,
        at: dt.datetime,
        step: FlowStep,
        number: int,
        actor: str | None,
        org: str | None,
        outcome: str | None = None,
        touch_minutes: float | None = None,
        detail: str | None = None,
    ) -> None:
        """Emit ``step_completed`` of work item ``number`` (a new one: an automatic step)."""
        items, step_id = self.items, step.id
        seq = self.seq = self.seq + 1
        self.events.append(
            _new(Event, (self.case_id, seq, _STEP_COMPLETED, at, step_id, number, step.lane, actor,
                         org, outcome, touch_minutes, step.extra_transactions, None, None, None,
                         None, None, detail))
        )  # fmt: skip
        if number > len(items):  # an automatic step: ready, started and done at once
            items.append(
                _new(WorkItem, (number, step_id, _DONE, at, at, at, actor, org, None, None, False))
            )
        else:
            item = items[number - 1]
            items[number - 1] = _new(
                WorkItem,
                (number, step_id, _DONE, item.ready_at, item.started_at or at, at, actor, org,
                 outcome, touch_minutes, item.escalated)
            )  # fmt: skip
        if step_id in self.flow.arriving:
            self._arrive(step_id, outcome)

    def handoff(self, at: dt.datetime, source: FlowStep, target: FlowStep) -> None:
        """Record the case moving from ``source`` to ``target`` in another lane.

        A handoff changes nothing but ``seq``.
        """
        seq = self.seq = self.seq + 1
        self.events.append(
            _new(Event, (self.case_id, seq, _HANDOFF, at, None, None, None, None, None,
                         None, None, None, source.id, target.id, source.lane, target.lane,
                         source.channel, None))
        )  # fmt: skip

    def apply(self, e: Event) -> None:
        """Change the draft as ``e`` says (``replay`` and :meth:`emit` call this)."""
        self.seq = e.seq
        applier = _APPLIERS.get(e.kind)
        if applier is not None:
            applier(self, e)

    def _apply_started_case(self, e: Event) -> None:
        self.status, self.started_at = _RUNNING, e.at

    def _apply_ready(self, e: Event) -> None:
        self.items.append(
            _new(WorkItem, (e.item or 0, e.step or "", _READY, e.at, None, None, None, None, None,
                            None, False))
        )  # fmt: skip

    def _apply_started(self, e: Event) -> None:
        n = (e.item or 0) - 1
        item = self.items[n]
        self.items[n] = _new(
            WorkItem,
            (item.number, item.step, _STARTED, item.ready_at, e.at, None, e.actor, e.org, None,
             None, item.escalated)
        )  # fmt: skip

    def _apply_escalated(self, e: Event) -> None:
        item = self.items[(e.item or 0) - 1]
        self.items[item.number - 1] = item._replace(escalated=True)

    def _apply_completed(self, e: Event) -> None:
        number, step, at = e.item or 0, e.step or "", e.at
        items = self.items
        if number > len(items):  # an automatic step: ready, started and done at once
            items.append(
                _new(WorkItem, (number, step, _DONE, at, at, at, e.actor, e.org, None, None, False))
            )
        else:
            item = items[number - 1]
            items[number - 1] = _new(
                WorkItem,
                (number, step, _DONE, item.ready_at, item.started_at or at, at, e.actor, e.org,
                 e.outcome, e.touch_minutes, item.escalated)
            )  # fmt: skip
        if step in self.flow.arriving:
            self._arrive(step, e.outcome)

    def _arrive(self, step: str, outcome: str | None) -> None:
        """The completed ``step`` reaches its joins; a completed join starts afresh."""
        route = self.flow.routes.get((step, outcome))
        reaches = route.reaches if route else ()
        if reaches or step in self.arrivals:  # else arrive() would change nothing
            arrive(self.arrivals, step, reaches)
            self.joined = None

    def _close(self, e: Event) -> None:
        self.status = _FINISHED if e.kind is _CASE_FINISHED else _CANCELLED
        self.finished_at = e.at
        for i, item in enumerate(self.items):
            if item.status in _OPEN:
                self.items[i] = item._replace(status=_ITEM_CANCELLED)

    def state(self) -> CaseState:
        flow = self.flow
        arrivals = self.joined
        if arrivals is None:
            arrivals = tuple(sorted((j, tuple(sorted(s))) for j, s in self.arrivals.items() if s))
        return _new(
            CaseState,
            (self.case_id, flow.process, flow.number, flow.content_hash, self.status,
             tuple(self.items), arrivals, self.seq, self.started_at, self.finished_at),
        )  # fmt: skip


_APPLIERS: dict[EventKind, Callable[[Draft, Event], None]] = {
    EventKind.CASE_STARTED: Draft._apply_started_case,
    EventKind.STEP_READY: Draft._apply_ready,
    EventKind.STEP_STARTED: Draft._apply_started,
    EventKind.STEP_COMPLETED: Draft._apply_completed,
    EventKind.STEP_ESCALATED: Draft._apply_escalated,
    EventKind.CASE_FINISHED: Draft._close,
    EventKind.CASE_CANCELLED: Draft._close,
}
"""How each event kind changes a draft; a handoff only advances ``seq``."""
