"""Small hand-built versions for tests (and doctests)."""

from __future__ import annotations

from typing import Any

from models.definition import Version

__all__ = ["decision_version", "linear_version", "make_version"]


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


def linear_version() -> Version:
    """start -> a (housing_office) -> b (nav) -> end (nav): one handoff."""
    return make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "a", "kind": "task", "touch_minutes": 30, "wait_days": 1},
            {"id": "b", "kind": "task", "lane": "nav", "touch_minutes": 60, "wait_days": 2},
            {"id": "end", "kind": "end", "lane": "nav"},
        ],
        [
            {"from": "start", "to": "a"},
            {"from": "a", "to": "b"},
            {"from": "b", "to": "end"},
        ],
    )


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
            {
                "id": "assess",
                "kind": "decision",
                "lane": "nav",
                "joint_with": ["housing_office"],
                "channel": "system",
                "touch_minutes": 60,
                "wait_days": [1, 3],
            },
            {"id": "fix", "kind": "task", "channel": "letter"},
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
        ],
        [
            {"from": "start", "to": "intake"},
            {"from": "intake", "to": "assess"},
            {"from": "assess", "to": "split", "outcome": "approve", "probability": 0.7},
            {"from": "assess", "to": "end_rejected", "outcome": "reject", "probability": 0.2},
            {"from": "assess", "to": "fix", "outcome": "more_info", "probability": 0.1},
            {"from": "fix", "to": "assess", "rework": True},
            {"from": "split", "to": "contract"},
            {"from": "split", "to": "pay"},
            {"from": "contract", "to": "join"},
            {"from": "pay", "to": "join"},
            {"from": "join", "to": "archive"},
            {"from": "archive", "to": "end"},
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
            {"from": "check", "to": "approve", "outcome": "complete", "probability": p_complete},
            {
                "from": "check",
                "to": "fix_docs",
                "outcome": "incomplete",
                "probability": round(1 - p_complete, 10),
            },
            {"from": "fix_docs", "to": "check", "rework": rework},
            {"from": "approve", "to": "end"},
        ],
        lanes=("housing_office", "nav", "tenant"),
        version=version,
    )
