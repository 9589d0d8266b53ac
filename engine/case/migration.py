"""Moving a running case from one version of its process to another: plan, then migrate.

Pure: no I/O, no clock. :func:`plan_case` says, for one case, where it stands now (its open
steps), where it will stand on the target version and what a person should know first
(:class:`MigrationWarning`), or why it cannot move (``refused``). :func:`migrate_case` makes
the one ``case_migrated`` event and the state after it; :func:`apply_migration` is the rule
that event applies, the one place it lives (:func:`boflyt.engine.case.decide.replay` applies it
too, so replaying a migrated case's events rebuilds the state the migration stored).

The rules, matching steps by id (``mapping`` renames a step of the source version to a step of
the target; only the steps a case stands on need it):

* Work the case has done stays as it was: its history is not rewritten, and its events keep
  the version they were recorded on.
* Each open work item (ready or started) moves to the target's step of the same id, or the
  mapped one; that step must hold work (a task, decision or wait step), else the case is
  refused. A ready item whose organisation may not act on the target's step, or a started item
  whose organisation may not, is re-opened in the step's organisation there: ready again from
  the moment of the migration, nobody on it.
* The branches that have reached a join keep their place where the target's join waits for the
  same branch; other arrivals are dropped (and warned about).
* A case whose open step the target lacks, without a mapping, is refused with the reason.

>>> from tests.factories import linear_version
>>> from boflyt.engine.case.decide import StartCase, compile_flow, decide
>>> import datetime as dt
>>> v1 = compile_flow(linear_version())
>>> v2 = compile_flow(linear_version().model_copy(update={"version": 2}))
>>> t = dt.datetime(2025, 1, 6, 9)
>>> state = decide(v1, None, StartCase("c1", "kari", "housing_office"), now=t).state
>>> plan = plan_case(state, v1, v2)
>>> plan.now, plan.after, plan.refused
(('a',), ('a',), None)
>>> moved, events = migrate_case(state, v1, v2, actor="owner", now=t)
>>> moved.version, events[0].kind.value, events[0].detail
(2, 'case_migrated', 'test_process@v1 -> test_process@v2')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from boflyt.engine.case.flow import Flow
from boflyt.engine.case.state import OPEN_STATUSES, CaseState, WorkItem
from boflyt.models.errors import CommandError
from boflyt.models.events import Event
from boflyt.models.vocabulary import EventKind, ItemStatus, RunStatus, StepKind
from boflyt.models.words import Language, word

__all__ = [
    "WARNING_CODES",
    "CasePlan",
    "CaseResult",
    "MigrationWarning",
    "apply_migration",
    "check_mapping",
    "migrate_case",
    "parse_detail",
    "plan_case",
]

WARNING_CODES = (
    "passed_step_removed",
    "step_mapped",
    "reopened_elsewhere",
    "join_changed",
    "uncollected_data",
)
"""What a :class:`MigrationWarning` may say, each a key of the ``migrate`` word group:

* ``passed_step_removed`` — a step the case already passed no longer exists (``step``);
* ``step_mapped`` — open work on ``step`` moves to the mapped step (``values``: the new step);
* ``reopened_elsewhere`` — open work on ``step`` is re-opened in another organisation
  (``values``: the organisation before, the one after);
* ``join_changed`` — the join ``step`` waits for other branches on the target, and the case has
  reached it or is on its way (``values``: its branches before, after);
* ``uncollected_data`` — the target registers data fields at ``step``, which the case has
  passed, that it never collected (``values``: the fields).
"""

_WORK = frozenset({StepKind.TASK, StepKind.DECISION, StepKind.WAIT})
_ARROW = " -> "
_MAP = "; map "


@dataclass(frozen=True, slots=True)
class MigrationWarning:
    """One thing a person should know before a case moves: ``code`` (one of
    :data:`WARNING_CODES`), the ``step`` it concerns and the ``values`` its sentence names."""

    code: str
    step: str | None = None
    values: tuple[str, ...] = ()

    def text(self, lang: Language) -> str:
        """The warning as a plain sentence in ``lang`` (the ``migrate`` word group).

        >>> from boflyt.models.words import ENGLISH
        >>> MigrationWarning("passed_step_removed", "read_profile").text(ENGLISH)
        'The case has passed step read_profile, which the new version no longer has.'
        """
        values = self.values
        if self.code == "uncollected_data":
            values = (", ".join(values),)
        first, second = (*values, "", "")[:2]
        return word(f"migrate.{self.code}", lang, step=self.step or "", first=first,
                    second=second)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CasePlan:
    """Where one case stands now (its open steps), where it will stand on the target (the
    same items' steps there), what a person should know, and why it cannot move (None if it
    can)."""

    case_id: str
    now: tuple[str, ...]
    after: tuple[str, ...]
    warnings: tuple[MigrationWarning, ...] = ()
    refused: str | None = None


@dataclass(frozen=True, slots=True)
class CaseResult:
    """What happened to one case when a migration was applied: moved, or why not."""

    case_id: str
    migrated: bool
    reason: str | None = None


def check_mapping(source: Flow, target: Flow, mapping: Mapping[str, str] | None) -> None:
    """Each ``old=new`` of ``mapping`` names a step of ``source`` and a work step of ``target``.

    Raises:
        CommandError: naming the entry, what is wrong and the steps allowed.
    """
    for old, new in (mapping or {}).items():
        if old not in source.steps:
            raise CommandError(
                f"--map {old}={new}: {source.version.key} has no step '{old}'; "
                f"its steps are: {', '.join(source.steps)}"
            )
        step = target.steps.get(new)
        if step is None or step.kind not in _WORK:
            work = ", ".join(s.id for s in target.steps.values() if s.kind in _WORK)
            found = f"a {step.kind.value} step" if step else "no such step"
            raise CommandError(
                f"--map {old}={new}: '{new}' is {found} in {target.version.key}; "
                f"work can stand on its task, decision and wait steps: {work}"
            )


def plan_case(
    state: CaseState, source: Flow, target: Flow, mapping: Mapping[str, str] | None = None
) -> CasePlan:
    """The plan of moving ``state`` from ``source`` to ``target`` (``mapping``: old=new step).

    Raises:
        CommandError: ``mapping`` names an unknown step (:func:`check_mapping`).
    """
    check_mapping(source, target, mapping)
    given = dict(mapping or {})
    open_now = tuple(i.step for i in state.items if i.status in OPEN_STATUSES)
    after = tuple(given.get(step, step) for step in open_now)
    refused = _refusal(state, source, target, open_now, given)
    warnings = () if refused else _warnings(state, source, target, given)
    return CasePlan(state.case_id, open_now, after, warnings, refused)


def _refusal(
    state: CaseState,
    source: Flow,
    target: Flow,
    open_now: tuple[str, ...],
    mapping: Mapping[str, str],
) -> str | None:
    """Why the case cannot move, or None."""
    if state.status is not RunStatus.RUNNING:
        return f"the case is {state.status.value}; only running cases move"
    if (state.process, state.version) != (source.version.process, source.version.version):
        return f"the case runs on {state.process}@v{state.version}, not {source.version.key}"
    if state.content_hash != source.content_hash:
        return f"the case runs on other content of {source.version.key} ({state.content_hash[:12]})"
    if source.version.process != target.version.process:
        return f"{target.version.key} is another process than {source.version.key}"
    for step in dict.fromkeys(open_now):
        new = mapping.get(step, step)
        found = target.steps.get(new)
        if found is None:
            return (
                f"the case stands on step '{step}', which {target.version.key} no longer has; "
                f"map it to a step of {target.version.key} (--map {step}=STEP)"
            )
        if found.kind not in _WORK:
            return (
                f"the case stands on step '{step}', a {found.kind.value} step in "
                f"{target.version.key}, where no work can wait; map it (--map {step}=STEP)"
            )
    return None


def _warnings(
    state: CaseState, source: Flow, target: Flow, mapping: Mapping[str, str]
) -> tuple[MigrationWarning, ...]:
    found: list[MigrationWarning] = []
    done = [i for i in state.items if i.status is ItemStatus.DONE]
    passed = dict.fromkeys(i.step for i in done)
    for step in passed:
        if step not in target.steps:
            found.append(MigrationWarning("passed_step_removed", step))
    open_items = [i for i in state.items if i.status in OPEN_STATUSES]
    for item in open_items:
        new = mapping.get(item.step, item.step)
        if new != item.step:
            found.append(MigrationWarning("step_mapped", item.step, (new,)))
        if _reopened(item, source, target, new):
            old = source.steps.get(item.step)
            org = item.org if item.status is ItemStatus.STARTED else None
            lanes = (org or (old.lane if old else "-"), target.steps[new].lane)
            found.append(MigrationWarning("reopened_elsewhere", item.step, lanes))
    ahead = _reachable(target, (mapping.get(i.step, i.step) for i in open_items))
    arrived = {mapping.get(join, join) for join, _ in state.arrivals}
    for join in sorted(set(source.join_inputs) | set(target.join_inputs)):
        old_inputs = source.join_inputs.get(join, frozenset())
        new_inputs = target.join_inputs.get(join, frozenset())
        if old_inputs != new_inputs and (join in arrived or join in ahead):
            branches = (", ".join(sorted(old_inputs)) or "-", ", ".join(sorted(new_inputs)) or "-")
            found.append(MigrationWarning("join_changed", join, branches))
    collected = {f for s in passed if s in source.steps for f in _shape(source).registers[s]}
    for step in _behind(target, frozenset(ahead)):
        missing = tuple(f for f in _shape(target).registers[step] if f not in collected)
        if missing:
            found.append(MigrationWarning("uncollected_data", step, missing))
    return tuple(found)


def _reachable(flow: Flow, starts: Iterable[str]) -> set[str]:
    """The steps reachable from ``starts`` (themselves included) in ``flow``'s graph."""
    following = _shape(flow).following
    seen: set[str] = set()
    todo = [s for s in starts if s in flow.steps]
    while todo:
        step = todo.pop()
        if step not in seen:
            seen.add(step)
            todo.extend(following[step])
    return seen


@dataclass(frozen=True, slots=True)
class _Shape:
    """What planning reads of a flow beyond routing: each step's next steps and data fields."""

    following: Mapping[str, tuple[str, ...]]
    registers: Mapping[str, tuple[str, ...]]


_SHAPES: dict[str, _Shape] = {}


def _shape(flow: Flow) -> _Shape:
    """The flow's :class:`_Shape`, made once per content hash."""
    found = _SHAPES.get(flow.content_hash)
    if found is None:
        following: dict[str, list[str]] = {s: [] for s in flow.steps}
        for (step, _), targets in flow.targets.items():
            following[step].extend(targets)
        registers = {s.id: s.registers for s in flow.version.steps}
        found = _SHAPES[flow.content_hash] = _Shape(
            {s: tuple(t) for s, t in following.items()}, registers
        )
    return found


_BEHIND: dict[tuple[str, frozenset[str]], tuple[str, ...]] = {}


def _behind(flow: Flow, ahead: frozenset[str]) -> tuple[str, ...]:
    """The steps of ``flow`` that lead to where the case stands but are not ahead of it (the
    steps it is taken to have passed), in the version's order; cached per flow and position."""
    key = (flow.content_hash, ahead)
    found = _BEHIND.get(key)
    if found is None:
        if len(_BEHIND) > 4096:
            _BEHIND.clear()
        found = _BEHIND[key] = tuple(
            s for s in flow.steps if s not in ahead and _reachable(flow, (s,)) & ahead
        )
    return found


def _reopened(item: WorkItem, source: Flow, target: Flow, new: str) -> bool:
    """Whether open ``item`` moves to another organisation on ``target``'s step ``new``: begun
    by an organisation that may not act on it there, or ready in a lane that may not."""
    allowed = target.steps[new].allowed
    if item.status is ItemStatus.STARTED:
        return item.org is None or item.org not in allowed
    old = source.steps.get(item.step)
    return old is None or old.lane not in allowed


def migrate_case(
    state: CaseState,
    source: Flow,
    target: Flow,
    mapping: Mapping[str, str] | None = None,
    *,
    actor: str,
    now: dt.datetime,
    org: str | None = None,
) -> tuple[CaseState, tuple[Event, ...]]:
    """The state after moving ``state`` to ``target`` at ``now``, and its one ``case_migrated``
    event (``actor`` of ``org`` gave the command; its detail names both versions and the
    mapped steps this case uses).

    The store checks ``now`` against the case's last event and the clock before it writes.

    Raises:
        CommandError: the case is refused (:func:`plan_case` says why) or ``mapping`` names a
            step the versions lack.
    """
    plan = plan_case(state, source, target, mapping)
    if plan.refused is not None:
        raise CommandError(f"case {state.case_id} cannot move: {plan.refused}")
    used = {k: v for k, v in (mapping or {}).items() if k in _concerned(state)}
    detail = f"{source.version.key}{_ARROW}{target.version.key}"
    if used:
        detail += _MAP + " ".join(f"{k}={v}" for k, v in sorted(used.items()))
    event = Event(state.case_id, state.seq + 1, EventKind.CASE_MIGRATED, now, actor=actor,
                  org=org, detail=detail)  # fmt: skip
    return apply_migration(state, source, target, event), (event,)


def _concerned(state: CaseState) -> set[str]:
    """The steps whose mapping changes the case: open items' steps, joins and their arrivals."""
    steps = {i.step for i in state.items if i.status in OPEN_STATUSES}
    for join, sources in state.arrivals:
        steps |= {join, *sources}
    return steps


def parse_detail(detail: str | None) -> tuple[str, str, dict[str, str]]:
    """The source and target keys and the mapping a ``case_migrated`` event's detail names.

    >>> parse_detail("p@v1 -> p@v2; map a=b c=d")
    ('p@v1', 'p@v2', {'a': 'b', 'c': 'd'})

    Raises:
        CommandError: the detail is not one a migration wrote.
    """
    text = detail or ""
    head, _, mapped = text.partition(_MAP)
    source, arrow, target = head.partition(_ARROW)
    pairs = [pair.partition("=") for pair in mapped.split()]
    if not arrow or not source or not target or any(not a or not b for a, _, b in pairs):
        raise CommandError(f"'{text}' is not the detail of a case_migrated event")
    return source, target, {a: b for a, _, b in pairs}


def apply_migration(state: CaseState, source: Flow, target: Flow, event: Event) -> CaseState:
    """The state after the ``case_migrated`` ``event``: the rule every migration applies.

    Raises:
        CommandError: the event names other versions than ``source`` and ``target``, or an
            open item's step has no place on ``target``.
    """
    old_key, new_key, mapping = parse_detail(event.detail)
    if (old_key, new_key) != (source.version.key, target.version.key):
        raise CommandError(
            f"case {state.case_id}: event {event.seq} moves {old_key} to {new_key}, "
            f"not {source.version.key} to {target.version.key}"
        )
    items = []
    for item in state.items:
        if item.status not in OPEN_STATUSES:
            items.append(item)
            continue
        new = mapping.get(item.step, item.step)
        if new not in target.steps:
            raise CommandError(f"case {state.case_id}: {new_key} has no step '{new}'")
        if _reopened(item, source, target, new):
            item = WorkItem(item.number, new, ItemStatus.READY, event.at)
        elif new != item.step:
            item = item._replace(step=new)
        items.append(item)
    arrivals = []
    for join, sources in state.arrivals:
        inputs = target.join_inputs.get(mapping.get(join, join), frozenset())
        kept = tuple(sorted({mapping.get(s, s) for s in sources} & inputs))
        if kept:
            arrivals.append((mapping.get(join, join), kept))
    return state._replace(
        version=target.version.version,
        content_hash=target.content_hash,
        items=tuple(items),
        arrivals=tuple(sorted(arrivals)),
        seq=event.seq,
    )
