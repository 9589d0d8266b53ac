"""The semantic diff on hand-made pairs of versions."""

from __future__ import annotations

from typing import Any

import pytest

from boflyt.engine.definition.diff import FieldChange, diff_versions
from boflyt.engine.definition.diff_text import format_value
from boflyt.models.definition import Duration, Text, Version
from boflyt.models.vocabulary import Waste
from tests.factories import decision_version, linear_version, make_version


def _linear(*, b: dict[str, Any] | None = None, version: int = 2) -> Version:
    """linear_version() with step ``b`` overridden."""
    return make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "a", "kind": "task", "touch_minutes": 30, "wait_days": 1},
            {
                "id": "b",
                "kind": "task",
                "lane": "nav",
                "touch_minutes": 60,
                "wait_days": 2,
                **(b or {}),
            },
            {"id": "end", "kind": "end", "lane": "nav"},
        ],
        [{"from": "start", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "end"}],
        version=version,
    )


def test_identical_versions_give_an_empty_diff() -> None:
    diff = diff_versions(decision_version(), decision_version())
    assert diff.is_empty
    assert diff.metadata == ()
    assert diff.handoffs_before == diff.handoffs_after == 3
    assert diff.summary() == "no change to the flow"
    assert diff.lines() == ["test_process@v1 → test_process@v1: no change to the flow"]


def test_reordered_wastes_are_not_a_change() -> None:
    before = _linear(b={"wastes": ["waiting", "defects"]})
    after = _linear(b={"wastes": ["defects", "waiting"]})
    assert diff_versions(before, after).is_empty


def test_renamed_step_is_one_field_change() -> None:
    after = _linear(b={"name": {"nb": "Vedtak", "en": "Decision"}})
    diff = diff_versions(linear_version(), after)
    assert not diff.is_empty
    assert [c.id for c in diff.steps_changed] == ["b"]
    assert diff.steps_changed[0].changes == (
        FieldChange("name", Text(nb="b", en="b"), Text(nb="Vedtak", en="Decision")),
    )
    assert diff.steps_added == diff.steps_removed == ()
    assert diff.transitions_added == diff.transitions_removed == ()
    assert diff.handoffs_added == diff.handoffs_removed == ()
    assert diff.lines("nb")[1] == "  endret steg b: navn: b → Vedtak"
    assert diff.lines("en")[1] == "  changed step b: name: b → Decision"


def test_version_number_and_label_are_metadata_not_flow() -> None:
    diff = diff_versions(linear_version(), _linear(version=2))
    assert diff.is_empty
    assert diff.before == "test_process@v1"
    assert diff.after == "test_process@v2"


def test_several_fields_of_one_step_are_reported_in_field_order() -> None:
    after = _linear(
        b={"touch_minutes": [30, 45], "wastes": ["waiting"], "channel": "letter", "value": "waste"}
    )
    (change,) = diff_versions(linear_version(), after).steps_changed
    assert [c.field for c in change.changes] == ["touch_minutes", "value", "wastes", "channel"]
    touch = change.changes[0]
    assert touch.before == Duration(dist="fixed", low=60, high=60)
    assert touch.after == Duration(low=30, high=45)
    assert change.changes[2].after == (Waste.WAITING,)
    assert format_value(touch.before) == "60"
    assert format_value(touch.after) == "30–45"


def test_moving_a_step_to_another_lane_moves_the_handoff() -> None:
    # b moves from nav to housing_office: a -> b is no longer a handoff, b -> end becomes one.
    diff = diff_versions(linear_version(), _linear(b={"lane": "housing_office"}))
    (change,) = diff.steps_changed
    assert change.changes == (FieldChange("lane", "nav", "housing_office"),)
    assert [(h.source, h.target) for h in diff.handoffs_removed] == [("a", "b")]
    assert [(h.source, h.target) for h in diff.handoffs_added] == [("b", "end")]
    assert (diff.handoffs_added[0].from_lane, diff.handoffs_added[0].to_lane) == (
        "housing_office",
        "nav",
    )
    assert (diff.handoffs_before, diff.handoffs_after) == (1, 1)
    assert diff.transitions_added == diff.transitions_removed == ()
    assert diff.summary() == "changed 1 step; handoffs 1 → 1"


def test_removed_step_removes_its_transitions_and_handoff() -> None:
    after = make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "a", "kind": "task", "touch_minutes": 30, "wait_days": 1},
            {"id": "end", "kind": "end", "lane": "nav"},
        ],
        [{"from": "start", "to": "a"}, {"from": "a", "to": "end"}],
        version=2,
    )
    diff = diff_versions(linear_version(), after)
    assert [s.id for s in diff.steps_removed] == ["b"]
    assert diff.steps_added == diff.steps_changed == ()
    assert [(t.source, t.target) for t in diff.transitions_removed] == [("a", "b"), ("b", "end")]
    assert [(t.source, t.target) for t in diff.transitions_added] == [("a", "end")]
    assert [(h.source, h.target) for h in diff.handoffs_removed] == [("a", "b")]
    assert [(h.source, h.target) for h in diff.handoffs_added] == [("a", "end")]
    assert diff.summary() == "removed 1 step; transitions −2 +1; handoffs 1 → 1"
    assert diff.summary("nb") == "fjernet 1 steg; overganger −2 +1; overleveringer 1 → 1"
    assert "  removed step b (b) in nav" in diff.lines()


def test_removed_lane_is_reported_with_its_label() -> None:
    before = decision_version()
    after = decision_version(fix_lane="housing_office")
    after = after.model_copy(update={"lanes": ("housing_office", "nav")})
    diff = diff_versions(before, after)
    assert diff.lanes_removed == ("tenant",)
    assert diff.lanes_added == ()
    # check -> fix_docs and fix_docs -> check were handoffs; now both stay in housing_office.
    assert {(h.source, h.target) for h in diff.handoffs_removed} == {
        ("check", "fix_docs"),
        ("fix_docs", "check"),
    }
    assert (diff.handoffs_before, diff.handoffs_after) == (3, 1)


def test_probability_change_is_a_changed_transition() -> None:
    diff = diff_versions(decision_version(p_complete=0.8), decision_version(p_complete=0.95))
    assert diff.transitions_added == diff.transitions_removed == ()
    assert [c.key for c in diff.transitions_changed] == [
        ("check", "approve", "complete"),
        ("check", "fix_docs", "incomplete"),
    ]
    first, second = diff.transitions_changed
    assert first.changes == (FieldChange("probability", 0.8, 0.95),)
    assert second.changes[0].before == pytest.approx(0.2)
    assert second.changes[0].after == pytest.approx(0.05)
    assert (
        "  changed transition check → approve [complete]: probability: 0.8 → 0.95" in diff.lines()
    )
    assert diff.handoffs_added == diff.handoffs_removed == ()


def test_added_rework_flag_is_a_changed_transition() -> None:
    diff = diff_versions(decision_version(rework=False), decision_version(rework=True))
    (change,) = diff.transitions_changed
    assert change.key == ("fix_docs", "check", None)
    assert change.changes == (FieldChange("rework", False, True),)
    assert diff.lines("nb")[1] == "  endret overgang fix_docs → check: omarbeid: nei → ja"


def test_changed_outcome_is_a_removed_and_an_added_transition() -> None:
    before = decision_version()
    transitions = tuple(
        t.model_copy(update={"outcome": "all_documents"}) if t.outcome == "complete" else t
        for t in before.transitions
    )
    after = before.model_copy(update={"transitions": transitions})
    diff = diff_versions(before, after)
    assert [t.outcome for t in diff.transitions_removed] == ["complete"]
    assert [t.outcome for t in diff.transitions_added] == ["all_documents"]
    assert diff.transitions_changed == ()


def test_added_step_and_lane_are_listed_in_file_order() -> None:
    after = make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "a", "kind": "task", "touch_minutes": 30, "wait_days": 1},
            {"id": "b", "kind": "task", "lane": "nav", "touch_minutes": 60, "wait_days": 2},
            {"id": "pay", "kind": "auto", "lane": "accounting"},
            {"id": "end", "kind": "end", "lane": "nav"},
        ],
        [
            {"from": "start", "to": "a"},
            {"from": "a", "to": "b"},
            {"from": "b", "to": "pay"},
            {"from": "pay", "to": "end"},
        ],
        lanes=("housing_office", "nav", "accounting"),
        version=2,
    )
    diff = diff_versions(linear_version(), after)
    assert [s.id for s in diff.steps_added] == ["pay"]
    assert diff.lanes_added == ("accounting",)
    assert (diff.handoffs_before, diff.handoffs_after) == (1, 3)
    assert diff.summary() == "added 1 step; organisations −0 +1; transitions −1 +2; handoffs 1 → 3"


def test_handoff_between_other_lanes_is_a_changed_handoff() -> None:
    # fix_docs moves from the tenant to the landlord: both loop transitions stay handoffs.
    diff = diff_versions(decision_version(), decision_version(fix_lane="landlord"))
    assert diff.handoffs_added == diff.handoffs_removed == ()
    assert [(c.before.to_lane, c.after.to_lane) for c in diff.handoffs_changed] == [
        ("tenant", "landlord"),
        ("housing_office", "housing_office"),
    ]
    assert diff.handoffs_changed[1].before.from_lane == "tenant"
    assert diff.handoffs_changed[1].after.from_lane == "landlord"
    assert (
        "  changed handoff check → fix_docs: housing_office ↪ tenant → housing_office ↪ landlord"
        in diff.lines()
    )
    assert not diff.is_empty
