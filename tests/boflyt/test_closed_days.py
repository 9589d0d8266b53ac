"""The workspace's closed days (closed-days.txt) and the working calendar made from them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from boflyt.engine.calendar import DEFAULT_CALENDAR
from boflyt.engine.case.deadlines import deadline_day
from boflyt.models.definition import Deadline
from boflyt.models.errors import SettingsError
from boflyt.workspace import (
    CLOSED_DAYS,
    Workspace,
    create_workspace,
    read_closed_days,
    workspace_calendar,
)

CHRISTMAS_EVE = dt.date(2026, 12, 24)


@pytest.fixture(autouse=True)
def _no_boflyt_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOFLYT_HOME", raising=False)


def test_init_writes_an_explained_empty_list(tmp_path: Path) -> None:
    root = create_workspace(tmp_path / "ws")
    text = (root / CLOSED_DAYS).read_text(encoding="utf-8")
    assert "YYYY-MM-DD" in text
    assert read_closed_days(root / CLOSED_DAYS) == frozenset()
    assert workspace_calendar(root) is DEFAULT_CALENDAR


def test_listed_days_are_closed_besides_the_public_holidays(tmp_path: Path) -> None:
    root = create_workspace(tmp_path / "ws")
    (root / CLOSED_DAYS).write_text(
        "# stengt\n2026-12-24  julaften\n\n2026-12-31 # nyttårsaften\n", encoding="utf-8"
    )
    calendar = workspace_calendar(root)
    assert not calendar.is_working_day(CHRISTMAS_EVE)
    assert not calendar.is_working_day(dt.date(2026, 12, 31))
    assert not calendar.is_working_day(dt.date(2026, 12, 25))  # still a public holiday
    assert calendar.is_working_day(dt.date(2026, 12, 23))
    # Wednesday 23 December + 1 working day: 24 closed, 25 and 26 holidays, 27 Sunday
    assert deadline_day(Deadline(days=1), dt.date(2026, 12, 23), calendar) == dt.date(2026, 12, 28)
    assert Workspace.current(root).calendar() == calendar


def test_a_line_that_is_no_date_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / CLOSED_DAYS
    path.write_text("2026-12-24\n24.12.2026 julaften\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        read_closed_days(path)
    assert str(caught.value).startswith(f"{path}:2: '24.12.2026' is not a date; allowed:")


def test_outside_a_workspace_the_default_calendar_holds(tmp_path: Path) -> None:
    assert workspace_calendar(None) is DEFAULT_CALENDAR
    assert read_closed_days(tmp_path / "missing.txt") == frozenset()
