"""Duplicate registrations and the waste taxonomy of a version."""

from __future__ import annotations

from boflyt.analysis.waste import (
    DuplicateRegistration,
    duplicate_count,
    duplicate_registrations,
    waste_counts,
    wastes_by_category,
)
from boflyt.models.vocabulary import Waste
from tests.factories import make_version


def _version():  # type: ignore[no-untyped-def]
    return make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "nav_reg", "kind": "task", "lane": "nav", "registers": ["income", "id"],
             "wastes": ["overprocessing", "waiting"]},
            {"id": "ho_reg", "kind": "task", "joint_with": ["accounting"],
             "registers": ["income", "id", "income"], "wastes": ["overprocessing"]},
            {"id": "acc_reg", "kind": "task", "lane": "accounting", "registers": ["income"]},
            {"id": "end", "kind": "end"},
        ],
        [{"from": "start", "to": "nav_reg"}, {"from": "nav_reg", "to": "ho_reg"},
         {"from": "ho_reg", "to": "acc_reg"}, {"from": "acc_reg", "to": "end"}],
        lanes=("housing_office", "nav", "accounting"),
    )  # fmt: skip


def test_a_field_registered_by_three_steps_is_two_duplicates_with_their_organisations() -> None:
    found = duplicate_registrations(_version())
    assert found == [
        DuplicateRegistration("id", ("nav_reg", "ho_reg"), ("nav", "housing_office", "accounting")),
        DuplicateRegistration(
            "income", ("nav_reg", "ho_reg", "acc_reg"), ("nav", "housing_office", "accounting")
        ),
    ]
    # income: 3 registrations (+2; ho_reg listing it twice counts once), id: 2 (+1)
    assert duplicate_count(_version()) == 3


def test_wastes_by_category_lists_step_ids_for_every_category() -> None:
    found = wastes_by_category(_version())
    assert list(found) == list(Waste)
    assert found[Waste.OVERPROCESSING] == ["nav_reg", "ho_reg"]
    assert found[Waste.WAITING] == ["nav_reg"]
    assert found[Waste.DEFECTS] == []
    assert waste_counts(_version())["overprocessing"] == 2
