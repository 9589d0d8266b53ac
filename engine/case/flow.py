"""The compiled flow of one version: what :func:`boflyt.engine.case.decide.decide` looks up per
command.

A :class:`Flow` is the version's steps and transitions turned into plain dicts and tuples once
(cached by content hash and outside lanes), so deciding a command costs a few dict lookups:

* ``steps[step]`` — a :class:`FlowStep` with the step's kind, lane, the organisations allowed
  to act on it, its channel, extra transactions, outcomes and longest wait;
* ``targets[(step, outcome)]`` — the graph: the steps a completed step leads to (``outcome`` is
  ``None`` except for decisions; a parallel split lists all its targets);
* ``join_inputs[join]`` — the steps whose branches a join waits for;
* ``routes[(step, outcome)]`` — the named :class:`~boflyt.engine.case.routes.Route` that the
  completion executes (:mod:`boflyt.engine.case.routes`, where the routing rules live once);
  ``every_route`` holds every route by id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from boflyt.engine.case.routes import Route, compile_routes
from boflyt.models.definition import Version
from boflyt.models.errors import NotFoundError
from boflyt.models.vocabulary import StepKind

__all__ = ["Flow", "FlowStep", "compile_flow"]


@dataclass(frozen=True, slots=True)
class FlowStep:
    """What ``decide`` needs to know about one step, precomputed."""

    id: str
    kind: StepKind
    lane: str
    allowed: frozenset[str]
    """Organisations that may begin or complete the step."""
    channel: str | None
    extra_transactions: int
    outcomes: tuple[str, ...]
    wait_days_high: float


@dataclass(frozen=True, slots=True)
class Flow:
    """The routing of one version, compiled to dicts for fast lookup."""

    version: Version
    content_hash: str
    start: str
    steps: Mapping[str, FlowStep]
    targets: Mapping[tuple[str, str | None], tuple[str, ...]]
    join_inputs: Mapping[str, frozenset[str]]
    outside: frozenset[str]
    routes: Mapping[tuple[str, str | None], Route]
    every_route: tuple[Route, ...]
    process: str
    """``version.process``, copied: a field of the pydantic model is ~30 times slower to read,
    and every decided command names it in the new state."""
    number: int
    """``version.version``, copied for the same reason."""
    key: str
    """``version.key`` (``process@vN``), for messages and the ``case_started`` event."""
    arriving: frozenset[str] = frozenset()
    """The joins and the steps whose completion reaches one: only their completions change
    which branches have arrived at a join (the others skip the route lookup that says so)."""

    def step(self, step_id: str) -> FlowStep:
        """The compiled step; :class:`NotFoundError` naming the known steps otherwise."""
        found = self.steps.get(step_id)
        if found is None:
            known = ", ".join(sorted(self.steps))
            raise NotFoundError(
                f"{self.version.key} has no step '{step_id}'; its steps are: {known}"
            )
        return found


_FLOWS: dict[tuple[str, frozenset[str]], Flow] = {}
_BY_ID: dict[int, tuple[Version, frozenset[str], Flow]] = {}


def compile_flow(version: Version, outside: frozenset[str] = frozenset()) -> Flow:
    """The compiled routing of ``version``; cached by content hash and outside lanes.

    ``outside`` names the lanes of outside parties (``Lane.outside`` in the lane catalog).
    """
    hit = _BY_ID.get(id(version))
    if hit is not None and hit[0] is version and hit[1] == outside:
        return hit[2]
    content_hash = version.content_hash
    flow = _FLOWS.get((content_hash, outside))
    if flow is None:
        flow = _FLOWS[(content_hash, outside)] = _compile(version, content_hash, outside)
    if len(_BY_ID) > 256:
        _BY_ID.clear()
    _BY_ID[id(version)] = (version, outside, flow)
    return flow


def _compile(version: Version, content_hash: str, outside: frozenset[str]) -> Flow:
    internal = frozenset(version.lanes) - outside
    outgoing: dict[str, list[tuple[str | None, str]]] = {s.id: [] for s in version.steps}
    inputs: dict[str, set[str]] = {s.id: set() for s in version.steps}
    for t in version.transitions:
        outgoing.setdefault(t.source, []).append((t.outcome, t.target))
        inputs.setdefault(t.target, set()).add(t.source)
    steps: dict[str, FlowStep] = {}
    targets: dict[tuple[str, str | None], tuple[str, ...]] = {}
    for s in version.steps:
        edges = outgoing[s.id]
        outcomes = (
            tuple(o for o, _ in edges if o is not None) if s.kind is StepKind.DECISION else ()
        )
        allowed = frozenset(s.lanes) | (internal if s.lane in outside else frozenset())
        steps[s.id] = FlowStep(
            id=s.id,
            kind=s.kind,
            lane=s.lane,
            allowed=allowed,
            channel=s.channel.value if s.channel else None,
            extra_transactions=s.extra_transactions,
            outcomes=outcomes,
            wait_days_high=s.wait_days.high,
        )
        if s.kind is StepKind.DECISION:
            for outcome, target in edges:
                targets[(s.id, outcome)] = (target,)
        elif edges:
            targets[(s.id, None)] = tuple(target for _, target in edges)
    start = next((s.id for s in version.steps if s.kind is StepKind.START), "")
    joins = {k: frozenset(v) for k, v in inputs.items() if steps[k].kind is StepKind.JOIN}
    routes, every = compile_routes(version.key, steps, targets, joins)
    arriving = frozenset(joins).union(r.step for r in routes.values() if r.reaches)
    return Flow(
        version, content_hash, start, steps, targets, joins, outside, routes, every,
        version.process, version.version, version.key, arriving,
    )  # fmt: skip
