"""Due dates of open work items: working and calendar days over Easter and 17 May, ``from`` an
earlier step, the workspace's closed days, and the wait rule for steps without a deadline."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from boflyt.engine.calendar import DEFAULT_CALENDAR, WorkCalendar, norwegian_holidays
from boflyt.engine.case.commands import BeginStep, CompleteStep, StartCase
from boflyt.engine.case.deadlines import (
    Due,
    deadline_day,
    deadline_due,
    due_items,
    wait_due,
)
from boflyt.engine.case.decide import compile_flow, decide
from boflyt.engine.case.state import CaseState
from boflyt.models.definition import Deadline, Version
from tests.factories import chain, make_version

CALENDAR = WorkCalendar(holidays=norwegian_holidays(range(2024, 2029)))
END = dt.time.max


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# -- counting days ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deadline", "start", "due"),
    [
        # Wednesday before Easter 2025: Thursday, Friday and Monday are holidays
        (Deadline(days=3), "2025-04-16", "2025-04-24"),
        (Deadline(days=1), "2025-04-16", "2025-04-22"),
        # 17 May 2027 is a Monday: skipped like a Sunday
        (Deadline(days=1), "2027-05-14", "2027-05-18"),
        (Deadline(days=5), "2027-05-12", "2027-05-20"),
        # calendar days: 14 days after Monday 3 May 2027 is Monday 17 May, so Tuesday 18 May
        (Deadline(days=14, calendar=True), "2027-05-03", "2027-05-18"),
        # ... and in 2025 17 May is a Saturday: Monday 19 May
        (Deadline(days=14, calendar=True), "2025-05-03", "2025-05-19"),
        # ending on Good Friday 2025 moves past Easter Monday to Tuesday 22 April
        (Deadline(days=14, calendar=True), "2025-04-04", "2025-04-22"),
        # a calendar-day deadline ending on a working day stays there
        (Deadline(days=14, calendar=True), "2025-03-03", "2025-03-17"),
        # a start on a holiday: the next working days count (Easter Monday -> Tue, Wed)
        (Deadline(days=2), "2025-04-21", "2025-04-23"),
        # the 25th of the month (housing allowance): the next one, the same day included
        (Deadline(day_of_month=25), "2025-05-26", "2025-06-25"),
        (Deadline(day_of_month=25), "2025-06-25", "2025-06-25"),
        # ... a 25th on a Sunday moves to Monday; December rolls into January
        (Deadline(day_of_month=25), "2025-05-20", "2025-05-26"),
        (Deadline(day_of_month=25), "2025-12-26", "2026-01-26"),
    ],
)
def test_the_due_day_is_counted_on_the_norwegian_calendar(
    deadline: Deadline, start: str, due: str
) -> None:
    assert deadline_day(deadline, day(start), CALENDAR) == day(due)


def test_a_closed_day_is_skipped_and_a_deadline_ending_on_it_moves_on() -> None:
    closed = dataclasses.replace(CALENDAR, holidays=CALENDAR.holidays | {day("2025-03-17")})
    assert deadline_day(Deadline(days=14, calendar=True), day("2025-03-03"), closed) == day(
        "2025-03-18"
    )
    assert deadline_day(Deadline(days=1), day("2025-03-14"), closed) == day("2025-03-18")
    assert deadline_day(Deadline(days=1), day("2025-03-14"), CALENDAR) == day("2025-03-17")


def test_the_item_is_due_at_the_end_of_its_due_day() -> None:
    due = deadline_due(Deadline(days=3), dt.datetime(2025, 4, 16, 23, 30), CALENDAR)
    assert due == dt.datetime.combine(day("2025-04-24"), END)


def test_the_wait_rule_counts_working_hours_and_skips_closed_days() -> None:
    friday = dt.datetime(2025, 3, 14, 10, 0)
    assert wait_due(friday, 1.0, CALENDAR) == dt.datetime(2025, 3, 17, 10, 0)
    closed = dataclasses.replace(CALENDAR, holidays=CALENDAR.holidays | {day("2025-03-17")})
    assert wait_due(friday, 1.0, closed) == dt.datetime(2025, 3, 18, 10, 0)
    assert wait_due(friday, 0.0, CALENDAR) == wait_due(friday, 1.0, CALENDAR)  # at least 1 day


# -- due_items on a running case ---------------------------------------------------------------


def _version(notice: dict[str, Any], answer: dict[str, Any]) -> Version:
    return make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "notice", "kind": "task", **notice},
            {"id": "answer", "kind": "task", "lane": "nav", **answer},
            {"id": "act", "kind": "task", "wait_days": [1, 2]},
            {"id": "end", "kind": "end"},
        ],
        chain("start", "notice", "answer", "act", "end"),
    )


VERSION = _version(
    {"deadline": {"days": 3}},
    {"deadline": {"days": 14, "calendar": True, "from": "notice", "basis": "tvfbl. § 13-6"}},
)


def _run(version: Version, *steps: tuple[str, str, dt.datetime]) -> CaseState:
    """A case started at the first step's instant, then each ``(step, org, at)`` completed."""
    first = steps[0][2] if steps else dt.datetime(2025, 4, 16, 9)
    state = decide(version, None, StartCase("c1", "ann", "housing_office"), now=first).state
    for step, org, at in steps:
        state = decide(version, state, CompleteStep(step, "ann", org), now=at).state
    return state


def test_a_ready_item_with_a_deadline_is_due_by_it_and_overdue_after() -> None:
    state = _run(VERSION)  # notice ready on Wednesday 16 April 2025, 09:00
    before = dt.datetime(2025, 4, 24, 15)
    (due,) = due_items(VERSION, state, now=before, calendar=CALENDAR)
    assert due == Due(2, "notice", "housing_office", dt.datetime.combine(day("2025-04-24"), END),
                      None, overdue=False, declared=True)  # fmt: skip
    after = dt.datetime(2025, 4, 25, 0, 0)
    assert due_items(VERSION, state, now=after, calendar=CALENDAR)[0].overdue


def test_a_begun_item_keeps_its_deadline() -> None:
    state = _run(VERSION)
    state = decide(
        VERSION, state, BeginStep("notice", "ann", "housing_office"),
        now=dt.datetime(2025, 4, 17, 9),
    ).state  # fmt: skip
    (due,) = due_items(VERSION, state, now=dt.datetime(2025, 4, 28), calendar=CALENDAR)
    assert (due.step, due.overdue) == ("notice", True)


def test_from_counts_from_the_completion_of_the_named_step() -> None:
    notice_done = dt.datetime(2027, 5, 3, 14)  # Monday; 14 days later is Monday 17 May
    state = _run(VERSION, ("notice", "housing_office", notice_done))
    (due,) = due_items(VERSION, state, now=dt.datetime(2027, 5, 18, 12), calendar=CALENDAR)
    assert (due.step, due.lane, due.basis) == ("answer", "nav", "tvfbl. § 13-6")
    assert due.due_at == dt.datetime.combine(day("2027-05-18"), END)
    assert not due.overdue
    assert due_items(VERSION, state, now=dt.datetime(2027, 5, 19), calendar=CALENDAR)[0].overdue


def test_from_a_step_the_case_never_completed_counts_from_readiness() -> None:
    version = _version({}, {"deadline": {"days": 2, "from": "act"}})  # act comes later
    state = _run(version, ("notice", "housing_office", dt.datetime(2025, 4, 16, 9)))
    (due,) = due_items(version, state, now=dt.datetime(2025, 4, 16, 10), calendar=CALENDAR)
    assert due.due_at.date() == day("2025-04-23")  # 2 working days after 16 April: 22, 23


def test_a_step_without_deadline_is_due_by_the_wait_rule_until_begun() -> None:
    state = _run(
        VERSION,
        ("notice", "housing_office", dt.datetime(2025, 3, 3, 9)),
        ("answer", "nav", dt.datetime(2025, 3, 4, 9)),  # act ready Tuesday 09:00
    )
    (due,) = due_items(VERSION, state, now=dt.datetime(2025, 3, 5), calendar=CALENDAR)
    assert (due.step, due.declared, due.basis) == ("act", False, None)
    assert due.due_at == dt.datetime(2025, 3, 6, 9, 0)  # two working days of 7.5 h
    begun = decide(VERSION, state, BeginStep("act", "ann", "housing_office"),
                   now=dt.datetime(2025, 3, 5)).state  # fmt: skip
    assert due_items(VERSION, begun, now=dt.datetime(2025, 3, 5), calendar=CALENDAR) == ()


def test_a_flow_and_events_give_the_same_due_dates() -> None:
    notice_done = dt.datetime(2027, 5, 3, 14)
    decision = decide(VERSION, None, StartCase("c1", "ann", "housing_office"), now=notice_done)
    events = list(decision.events)
    step = decide(VERSION, decision.state, CompleteStep("notice", "ann", "housing_office"),
                  now=notice_done)  # fmt: skip
    events += step.events
    now = dt.datetime(2027, 5, 10)
    by_version = due_items(VERSION, step.state, now=now, calendar=CALENDAR)
    by_flow = due_items(
        compile_flow(VERSION), step.state, now=now, calendar=CALENDAR, events=events
    )
    assert by_version == by_flow
    assert [d.step for d in by_version] == ["answer"]


def test_finished_work_has_no_due_date() -> None:
    at = dt.datetime(2025, 3, 3, 9)
    state = _run(
        VERSION, ("notice", "housing_office", at), ("answer", "nav", at),
        ("act", "housing_office", at),
    )  # fmt: skip
    assert due_items(VERSION, state, now=at, calendar=DEFAULT_CALENDAR) == ()


def test_from_counts_from_a_step_further_back_not_from_readiness() -> None:
    version = make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "notice", "kind": "task"},
            {"id": "letter", "kind": "task"},
            {"id": "answer", "kind": "task", "lane": "nav",
             "deadline": {"days": 14, "calendar": True, "from": "notice"}},
            {"id": "end", "kind": "end"},
        ],
        chain("start", "notice", "letter", "answer", "end"),
    )  # fmt: skip
    state = _run(
        version,
        ("notice", "housing_office", dt.datetime(2027, 5, 3, 14)),  # 14 days: 17 May -> 18 May
        ("letter", "housing_office", dt.datetime(2027, 5, 10, 9)),  # answer ready 10 May
    )
    (due,) = due_items(version, state, now=dt.datetime(2027, 5, 11), calendar=CALENDAR)
    assert due.due_at.date() == day("2027-05-18")  # from ready it would be 24 May
