"""Small hand-built versions for tests (and doctests)."""

from __future__ import annotations

from typing import Any

from models.definition import Version

__all__ = ["linear_version", "make_version"]


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
