"""Small hand-built versions for tests (and doctests)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from boflyt.models.definition import Version
from boflyt.models.vocabulary import StepKind

__all__ = [
    "chain",
    "decision_version",
    "fork",
    "linear_version",
    "make_version",
    "outcomes",
    "plain_steps",
]


def make_version(
    steps: list[dict[str, Any]],
    transitions: list[dict[str, Any]],
    *,
    lanes: tuple[str, ...] = ("housing_office", "nav"),
    process: str = "test_process",
    version: int = 1,
) -> Version:
    """A version from plain step and transition dicts; names default to the id."""
    full_steps = []
    for step in steps:
        data = {"lane": lanes[0], "name": {"nb": step["id"], "en": step["id"]}, **step}
        full_steps.append(data)
    return Version.model_validate(
        {
            "process": process,
            "version": version,
            "label": "test",
            "owner": "tests",
            "date": "2025-01-01",
            "status": "published",
            "name": {"nb": process, "en": process},
            "lanes": list(lanes),
            "steps": full_steps,
            "transitions": transitions,
        }
    )


def plain_steps(**kinds: str) -> list[dict[str, Any]]:
    """Steps with only an id and a kind, in the order given: ``plain_steps(start="start")``."""
    return [{"id": step_id, "kind": kind} for step_id, kind in kinds.items()]


def chain(*step_ids: str) -> list[dict[str, Any]]:
    """Plain transitions from each step to the next: ``chain("a", "b", "c")`` is a → b → c."""
    return [{"from": source, "to": target} for source, target in pairwise(step_ids)]


def fork(split: str, branches: Sequence[str], join: str) -> list[dict[str, Any]]:
    """A parallel block: ``split`` to each branch first, then each branch to ``join``."""
    into = [{"from": split, "to": branch} for branch in branches]
    return into + [{"from": branch, "to": join} for branch in branches]


def outcomes(decision: str, **targets: tuple[str, float]) -> list[dict[str, Any]]:
    """A decision's transitions, one per outcome: ``outcomes("d", keep=("y", 0.7))``."""
    return [
        {"from": decision, "to": target, "outcome": outcome, "probability": probability}
        for outcome, (target, probability) in targets.items()
    ]


def linear_version() -> Version:
    """start -> a (housing_office) -> b (nav) -> end (nav): one handoff."""
    return make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "a", "kind": "task", "touch_minutes": 30, "wait_days": 1},
            {"id": "b", "kind": "task", "lane": "nav", "touch_minutes": 60, "wait_days": 2},
            {"id": "end", "kind": "end", "lane": "nav"},
        ],
        chain("start", "a", "b", "end"),
    )


def _branching_assess() -> dict[str, Any]:
    """The ``assess`` decision shared by :func:`branching_version` and its redesign."""
    return {
        "id": "assess",
        "kind": "decision",
        "lane": "nav",
        "joint_with": ["housing_office"],
        "channel": "system",
        "touch_minutes": 60,
        "wait_days": [1, 3],
    }


def _branching_tail_steps() -> list[dict[str, Any]]:
    """The steps from ``split`` to the ends, shared by the branching versions."""
    return [
        {"id": "split", "kind": "parallel"},
        {
            "id": "contract",
            "kind": "wait",
            "lane": "landlord",
            "channel": "letter",
            "wait_days": [2, 10],
            "external_wait": True,
        },
        {"id": "pay", "kind": "task", "lane": "nav", "channel": "system"},
        {"id": "join", "kind": "join"},
        {"id": "archive", "kind": "auto", "extra_transactions": 2},
        {"id": "end", "kind": "end"},
        {"id": "end_rejected", "kind": "end", "lane": "nav"},
    ]


_BRANCHING_TAIL_TRANSITIONS: tuple[dict[str, Any], ...] = (
    *fork("split", ("contract", "pay"), "join"),
    *chain("join", "archive", "end"),
)
"""The transitions from ``split`` on, shared by :func:`branching_version` and its redesign."""


def branching_version(*, process: str = "branching", version: int = 1) -> Version:
    """A version with every routing feature the case engine handles.

    start → intake (housing_office, e-mail) → assess (decision, nav, joint with housing_office):
    ``approve`` → split (parallel) → {contract (wait, outside lane landlord), pay (task, nav)}
    → join → archive (auto) → end; ``reject`` → end_rejected (nav); ``more_info`` → fix
    (housing_office) → assess again (rework).
    """
    return make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "intake", "kind": "task", "channel": "email", "extra_transactions": 1},
            _branching_assess(),
            {"id": "fix", "kind": "task", "channel": "letter"},
            *_branching_tail_steps(),
        ],
        [
            {"from": "start", "to": "intake"},
            {"from": "intake", "to": "assess"},
            {"from": "assess", "to": "split", "outcome": "approve", "probability": 0.7},
            {"from": "assess", "to": "end_rejected", "outcome": "reject", "probability": 0.2},
            {"from": "assess", "to": "fix", "outcome": "more_info", "probability": 0.1},
            {"from": "fix", "to": "assess", "rework": True},
            *_BRANCHING_TAIL_TRANSITIONS,
        ],
        lanes=("housing_office", "nav", "landlord"),
        process=process,
        version=version,
    )


BRANCHING_OUTSIDE = frozenset({"landlord"})
"""The outside lanes of :func:`branching_version`."""


def decision_version(
    *,
    p_complete: float = 0.8,
    rework: bool = False,
    version: int = 1,
    fix_lane: str = "tenant",
) -> Version:
    """start -> check (decision, housing_office) -> approve (nav) -> end (nav), with a loop.

    ``check`` sends incomplete applications to ``fix_docs`` (in ``fix_lane``) with probability
    ``1 - p_complete``; ``fix_docs`` goes back to ``check`` (marked ``rework`` when asked).
    """
    return make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "check", "kind": "decision", "touch_minutes": [20, 40], "channel": "email"},
            {"id": "fix_docs", "kind": "task", "lane": fix_lane, "wait_days": [2, 8]},
            {"id": "approve", "kind": "task", "lane": "nav", "touch_minutes": 15},
            {"id": "end", "kind": "end", "lane": "nav"},
        ],
        [
            {"from": "start", "to": "check"},
            {
                "from": "check",
                "to": "approve",
                "outcome": "complete",
                "probability": p_complete,
                "label": {"nb": "komplett", "en": "complete"},
            },
            {
                "from": "check",
                "to": "fix_docs",
                "outcome": "incomplete",
                "probability": round(1 - p_complete, 10),
                "label": {"nb": "ufullstendig", "en": "incomplete"},
            },
            {"from": "fix_docs", "to": "check", "rework": rework},
            {"from": "approve", "to": "end"},
        ],
        lanes=("housing_office", "nav", "tenant"),
        version=version,
    )


def redesigned_branching_version() -> Version:
    """A v2 of :func:`branching_version` for before/after tests.

    Against v1: ``fix`` (and its rework loop) is removed, ``digital_check`` (auto, nav) is new,
    ``intake`` changed (touch time and channel), ``assess`` changed (its outcomes' probabilities
    are the same but it has no ``more_info`` edge); everything else is kept.
    """
    return make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "intake", "kind": "task", "channel": "system", "touch_minutes": 10},
            {"id": "digital_check", "kind": "auto", "lane": "nav", "channel": "system"},
            _branching_assess(),
            *_branching_tail_steps(),
        ],
        [
            {"from": "start", "to": "intake"},
            {"from": "intake", "to": "digital_check"},
            {"from": "digital_check", "to": "assess"},
            {"from": "assess", "to": "split", "outcome": "approve", "probability": 0.8},
            {"from": "assess", "to": "end_rejected", "outcome": "reject", "probability": 0.2},
            *_BRANCHING_TAIL_TRANSITIONS,
        ],
        lanes=("housing_office", "nav", "landlord"),
        process="branching",
        version=2,
    )


GENERATED_LANES = (
    "housing_office",
    "nav",
    "property_company",
    "accounting",
    "refugee_service",
    "records_office",
)
"""The six lanes of :func:`generated_version`."""


def generated_version(steps: int = 200, *, lanes: int = 6, seed: int = 0) -> Version:
    """A long generated process for benchmarks and lane-order tests.

    About ``steps`` work steps in a chain, spread over the first ``lanes`` of
    :data:`GENERATED_LANES` by a fixed scramble (``seed`` shifts it); every 10th step is a
    decision whose rare outcome (p = 0.2) goes to a fix step in another lane that loops back
    (rework) to the decision. Some steps carry waste tags and register ``household``.
    """
    names = GENERATED_LANES[:lanes]
    chain = [f"s{i:03d}" for i in range(1, steps + 1) if not (i % 10 == 1 and i > 10)]

    def lane_of(i: int) -> str:
        return names[(i * 7 + i // 3 + seed * 13) % len(names)]

    found: list[dict[str, Any]] = [{"id": "start", "kind": "start", "lane": names[0]}]
    edges: list[dict[str, Any]] = [{"from": "start", "to": chain[0]}]
    for n, step_id in enumerate(chain):
        i = int(step_id[1:])
        decision = i % 10 == 0 and n + 1 < len(chain)
        found.append(
            {"id": step_id, "kind": "decision" if decision else "task", "lane": lane_of(i),
             "touch_minutes": [10, 60], "wait_days": [0, 3],
             "wastes": ["waiting"] if i % 7 == 0 else [],
             "registers": ["household"] if i % 25 == 0 else []}
        )  # fmt: skip
        target = chain[n + 1] if n + 1 < len(chain) else "end"
        if not decision:
            edges.append({"from": step_id, "to": target})
            continue
        fix, fix_lane = f"s{i + 1:03d}", lane_of(i + 1)
        if fix_lane == lane_of(i):
            fix_lane = names[(names.index(fix_lane) + 1) % len(names)]
        found.append({"id": fix, "kind": "task", "lane": fix_lane, "touch_minutes": 20})
        edges += [
            {"from": step_id, "to": target, "outcome": "approved", "probability": 0.8},
            {"from": step_id, "to": fix, "outcome": "rejected", "probability": 0.2},
            {"from": fix, "to": step_id, "rework": True},
        ]
    found.append({"id": "end", "kind": "end", "lane": found[-1]["lane"]})
    return make_version(found, edges, lanes=names, process="generated")


def outcome_towards_an_end(version: Version, step_id: str) -> str:
    """The outcome of ``step_id`` whose target lies fewest transitions from an end step."""
    distance = {s.id: 0 for s in version.steps if s.kind is StepKind.END}
    for _ in version.steps:
        for t in version.transitions:
            if t.target in distance:
                distance[t.source] = min(distance.get(t.source, 10**6), distance[t.target] + 1)
    options = [t for t in version.transitions if t.source == step_id and t.outcome]
    return min(options, key=lambda t: distance.get(t.target, 10**6)).outcome or ""
