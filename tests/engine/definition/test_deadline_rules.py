"""Validation of a step's ``deadline``: each bad snippet gives its exact problem, with its line."""

from __future__ import annotations

import pytest

from boflyt.engine.definition.load import parse_version
from boflyt.models.errors import DefinitionError
from tests.engine.definition.snippets import LANES, edit
from tests.factories import linear_version

FILE = "test_process/v1.yaml"
NAV_NAME = "    name: {nb: NAV, en: NAV}\n"


def with_deadline(deadline: str, after: str = NAV_NAME) -> str:
    """The base snippet with ``deadline`` on the step whose last line is ``after`` (nav_part's
    deadline lands on line 43)."""
    return edit((after, f"{after}    deadline: {deadline}\n"))


def problems_of(text: str) -> list[str]:
    try:
        parse_version(text, file=FILE, lanes=LANES)
    except DefinitionError as exc:
        return [str(problem) for problem in exc.problems]
    return []


def test_a_deadline_from_an_earlier_step_is_valid_and_read() -> None:
    text = with_deadline('{days: 14, calendar: true, from: apply, basis: "husleieloven § 4-18"}')
    version = parse_version(text, file=FILE, lanes=LANES)
    deadline = version.step("nav_part").deadline
    assert deadline is not None
    assert (deadline.days, deadline.calendar, deadline.start) == (14, True, "apply")
    assert deadline.basis == "husleieloven § 4-18"
    assert version.step("apply").deadline is None


def test_working_days_are_the_default() -> None:
    version = parse_version(with_deadline("{days: 3}"), file=FILE, lanes=LANES)
    deadline = version.step("nav_part").deadline
    assert deadline is not None and not deadline.calendar and deadline.start is None


BAD = {
    "zero days": (
        "{days: 0}",
        f"{FILE}:43 steps[5](nav_part).deadline.days:",
        "too small: 0; must be ≥ 1",
    ),
    "days as text": ('{days: "14"}', f"{FILE}:43 steps[5](nav_part).deadline.days:", ""),
    "unknown key": (
        "{days: 3, form: apply}",
        f"{FILE}:43 steps[5](nav_part).deadline.form:",
        "",
    ),
    "neither days nor a day of the month": (
        "{basis: tvfbl.}",
        f"{FILE}:43 steps[5](nav_part).deadline:",
        "give either days (a number of days) or day_of_month (a day of the month)",
    ),
    "both days and a day of the month": (
        "{days: 3, day_of_month: 25}",
        f"{FILE}:43 steps[5](nav_part).deadline:",
        "give either days",
    ),
    "a day of the month past 28": (
        "{day_of_month: 31}",
        f"{FILE}:43 steps[5](nav_part).deadline.day_of_month:",
        "",
    ),
    "calendar days with a day of the month": (
        "{day_of_month: 25, calendar: true}",
        f"{FILE}:43 steps[5](nav_part).deadline:",
        "calendar: true applies to days, not to day_of_month",
    ),
    "unknown from step": (
        "{days: 3, from: aply}",
        f"{FILE}:43 steps[5](nav_part).deadline.from:",
        "unknown step 'aply' (did you mean 'apply'?)",
    ),
    "from itself": (
        "{days: 3, from: nav_part}",
        f"{FILE}:43 steps[5](nav_part).deadline.from:",
        "'nav_part' cannot start its own deadline",
    ),
    "from a later step": (
        "{days: 3, from: join}",
        f"{FILE}:43 steps[5](nav_part).deadline.from:",
        "'join' is not an earlier step of 'nav_part': no path leads from it to 'nav_part'",
    ),
    "from a parallel branch": (
        "{days: 3, from: office_part}",
        f"{FILE}:43 steps[5](nav_part).deadline.from:",
        "'office_part' is not an earlier step of 'nav_part'",
    ),
}


@pytest.mark.parametrize(("deadline", "where", "message"), BAD.values(), ids=BAD.keys())
def test_a_bad_deadline_is_placed_and_explained(deadline: str, where: str, message: str) -> None:
    found = problems_of(with_deadline(deadline))
    assert any(line.startswith(where) and message in line for line in found), "\n".join(found)


def test_a_deadline_on_a_step_nobody_completes_is_refused() -> None:
    split = "    name: {nb: Del, en: Split}\n"
    found = problems_of(with_deadline("{days: 3}", after=split))
    assert found == [
        f"{FILE}:38 steps[4](split).deadline: a deadline on parallel step 'split', which never "
        "waits for anyone; allowed on steps of kind task, decision, wait"
    ]


def test_a_rework_step_may_count_from_the_decision_before_it() -> None:
    fix = "    name: {nb: Rett, en: Fix}\n"
    assert problems_of(with_deadline("{days: 5, from: check}", after=fix)) == []


def test_a_step_without_a_deadline_leaves_the_content_hash_alone() -> None:
    version = linear_version()
    assert '"deadline"' not in version.canonical()
    with_one = parse_version(with_deadline("{days: 3}"), file=FILE, lanes=LANES)
    assert with_one.canonical().count('"deadline"') == 1
