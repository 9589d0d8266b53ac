"""Named routes: what completing a step with an outcome does, compiled once per version.

A :class:`Route` lists, in the order the engine emits them, the *moves* that follow the
completion of ``step`` with ``outcome``: handoffs between lanes, steps that become ready work
items, automatic steps (start, auto, parallel, a join that fires) completed on the way, and the
end that finishes the case. A route stops where it reaches a join: whether the join fires
depends on which branches have arrived, so the route names the join and the two routes that
may follow (:meth:`Route.after`). Everything else is decided here, once, so

* :func:`boflyt.engine.case.decide.decide` and :func:`~boflyt.engine.case.decide.replay`
  execute routes (a loop over moves, no graph walk);
* the simulator's fast driver (:mod:`boflyt.analysis.simulation.drivers`) packs route ids;
* :func:`arrive` and :meth:`Route.after` are the only join bookkeeping.

A new step kind touches :func:`_classify` and nothing else. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, NamedTuple

from boflyt.models.errors import DefinitionError, Problem
from boflyt.models.vocabulary import StepKind

if TYPE_CHECKING:
    from boflyt.engine.case.flow import FlowStep

__all__ = ["Move", "MoveKind", "Route", "arrive", "compile_routes"]

Key = tuple[str, str | None]
"""A route's name: (step, outcome); the outcome is ``None`` except for decisions."""
Hop = tuple[str, str]
"""A transition the walk still has to take: (source, target)."""


class MoveKind(IntEnum):
    """What one move of a route does to the case."""

    HANDOFF = 0
    """The case passes from ``source`` to ``step`` in another lane (a ``handoff`` event)."""
    READY = 1
    """``step`` becomes a ready work item (``step_ready``)."""
    COMPLETE = 2
    """The automatic ``step`` is completed at once (``step_completed``)."""
    FINISH = 3
    """The end ``step`` is completed and the case finishes (``step_completed``,
    ``case_finished``); nothing follows."""


class Move(NamedTuple):
    """One move of a route: its kind, the step it concerns, and (for a handoff) the source."""

    kind: MoveKind
    step: FlowStep
    source: FlowStep | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Route:
    """What follows the completion of ``step`` with ``outcome``, up to the next join.

    ``id`` numbers every route of a flow (the routes after a join included) from 0, so a route
    can be packed as an integer. ``items`` counts the work items the moves create (every move
    but a handoff); ``reaches`` names the joins that the completion of ``step`` itself advances.
    """

    id: int
    step: str
    outcome: str | None
    moves: tuple[Move, ...]
    items: int
    finishes: bool
    """Whether the route ends the case."""
    reaches: tuple[str, ...]
    arrivals: tuple[tuple[str, tuple[str, ...]], ...]
    """The steps the moves complete, each with the joins it reaches (for :meth:`arrive`)."""
    join: str | None = None
    """The join reached after the moves, or None when the route ends here."""
    inputs: frozenset[str] = frozenset()
    """The steps whose branches ``join`` waits for."""
    fired: Route | None = None
    """What follows when every branch has reached ``join``: it completes, and the case goes on."""
    waiting: Route | None = None
    """What follows while ``join`` still waits: the rest of the walk without it."""

    def after(self, arrivals: Mapping[str, frozenset[str]]) -> Route | None:
        """The route that follows: None at the end, else the join's fired or waiting route."""
        join = self.join
        if join is None:
            return None
        return self.fired if arrivals.get(join) == self.inputs else self.waiting

    def branches(self) -> Iterator[Route]:
        """This route and every route that may follow it, depth first."""
        yield self
        for after in (self.fired, self.waiting):
            if after is not None:
                yield from after.branches()

    def ready(self) -> tuple[tuple[int, str], ...]:
        """The work items the route makes ready, as (item offset from 1, step)."""
        offsets, found = 0, []
        for move in self.moves:
            if move.kind is not MoveKind.HANDOFF:
                offsets += 1
                if move.kind is MoveKind.READY:
                    found.append((offsets, move.step.id))
        return tuple(found)

    def arrive(self, arrivals: dict[str, frozenset[str]]) -> None:
        """Record at their joins the branches of the steps the moves complete (a driver that
        follows routes without applying events; ``decide`` records them as events apply)."""
        for step, reaches in self.arrivals:
            arrive(arrivals, step, reaches)


def arrive(arrivals: dict[str, frozenset[str]], step: str, reaches: tuple[str, ...]) -> None:
    """Record the completion of ``step`` at the joins it ``reaches``; a join that has just
    completed starts afresh (so a rework loop can pass it again)."""
    arrivals.pop(step, None)
    for join in reaches:
        arrivals[join] = arrivals.get(join, frozenset()) | {step}


_AUTOMATIC = frozenset({StepKind.START, StepKind.AUTO, StepKind.PARALLEL, StepKind.JOIN})


def _classify(kind: StepKind) -> MoveKind:
    """How reaching a step of ``kind`` moves the case (a join only once it fires)."""
    if kind is StepKind.END:
        return MoveKind.FINISH
    return MoveKind.COMPLETE if kind in _AUTOMATIC else MoveKind.READY


def compile_routes(
    key: str,
    steps: Mapping[str, FlowStep],
    targets: Mapping[Key, tuple[str, ...]],
    join_inputs: Mapping[str, frozenset[str]],
) -> tuple[dict[Key, Route], tuple[Route, ...]]:
    """Every route of a version (``key`` names it in errors): by (step, outcome), and all of
    them by id. ``targets`` is the flow graph: the steps each (step, outcome) leads to.

    Raises :class:`DefinitionError` when automatic steps loop back to themselves (a case that
    got there would never stop).
    """
    compiler = _Compiler(key, steps, targets, join_inputs)
    named: dict[Key, Route] = {}
    for (step, outcome), ends in targets.items():
        named[(step, outcome)] = compiler.route(step, outcome, (), [(step, t) for t in ends])
    for each in steps.values():
        if each.kind is not StepKind.DECISION and (each.id, None) not in named:
            named[(each.id, None)] = compiler.route(each.id, None, (), [])
    return named, tuple(compiler.every)


class _Compiler:
    """Walks the flow graph breadth first, as the engine moves a case, into routes."""

    def __init__(
        self,
        key: str,
        steps: Mapping[str, FlowStep],
        targets: Mapping[Key, tuple[str, ...]],
        join_inputs: Mapping[str, frozenset[str]],
    ) -> None:
        self.key, self.steps, self.targets, self.joins = key, steps, targets, join_inputs
        self.every: list[Route] = []
        self.limit = 4 * len(steps) + 8

    def route(
        self,
        step: str,
        outcome: str | None,
        moves: tuple[Move, ...],
        pending: list[Hop],
        depth: int = 0,
    ) -> Route:
        """The route after ``moves`` that follows the (source, target) hops ``pending`` in
        order; the targets of an automatic step are followed after those already pending."""
        done = list(moves)
        while pending:
            self._guard(max(len(done), depth), step)
            source_id, target_id = pending.pop(0)
            source, target = self.steps[source_id], self.steps[target_id]
            if target.lane != source.lane:
                done.append(Move(MoveKind.HANDOFF, target, source))
            kind = _classify(target.kind)
            if target.kind is StepKind.JOIN:
                return self._join(step, outcome, done, target, pending, depth + 1)
            done.append(Move(kind, target))
            if kind is MoveKind.FINISH:
                break
            if kind is MoveKind.COMPLETE:
                pending += [(target_id, t) for t in self.targets.get((target_id, None), ())]
        return self._made(step, outcome, tuple(done))

    def _join(
        self,
        step: str,
        outcome: str | None,
        done: list[Move],
        join: FlowStep,
        pending: list[Hop],
        depth: int,
    ) -> Route:
        """A route that ends at ``join``, with the routes after it fires or keeps waiting."""
        after = [*pending, *((join.id, t) for t in self.targets.get((join.id, None), ()))]
        fired = self.route(step, outcome, (Move(MoveKind.COMPLETE, join),), after, depth)
        waiting = self.route(step, outcome, (), list(pending), depth)
        return self._made(step, outcome, tuple(done), join.id, fired, waiting)

    def _made(
        self,
        step: str,
        outcome: str | None,
        moves: tuple[Move, ...],
        join: str | None = None,
        fired: Route | None = None,
        waiting: Route | None = None,
    ) -> Route:
        done = [m.step.id for m in moves if m.kind >= MoveKind.COMPLETE]
        route = Route(
            id=len(self.every),
            step=step,
            outcome=outcome,
            moves=moves,
            items=sum(m.kind is not MoveKind.HANDOFF for m in moves),
            finishes=bool(moves) and moves[-1].kind is MoveKind.FINISH,
            reaches=self._reaches(step, outcome),
            arrivals=tuple((s, self._reaches(s, None)) for s in done),
            join=join,
            inputs=self.joins.get(join, frozenset()) if join else frozenset(),
            fired=fired,
            waiting=waiting,
        )
        self.every.append(route)
        return route

    def _reaches(self, step: str, outcome: str | None) -> tuple[str, ...]:
        """The joins among the steps that ``step`` leads to with ``outcome``."""
        targets = self.targets.get((step, outcome), ())
        return tuple(t for t in targets if self.steps[t].kind is StepKind.JOIN)

    def _guard(self, size: int, step: str) -> None:
        """:class:`DefinitionError` when a route grows past any acyclic walk (a loop)."""
        if size > self.limit:
            where = f"steps[{step}]"
            message = "automatic steps lead back to themselves; a case there would never stop"
            raise DefinitionError([Problem(self.key, 0, where, message)])
