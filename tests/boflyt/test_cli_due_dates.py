"""Due dates on the command line: ``boflyt inbox`` and ``boflyt case show`` show a step's
deadline day and its legal basis (refugee_settlement v1: the SvarUt letter within 2 days)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boflyt.cli import app

FNR = "01017012345"  # synthetic
runner = CliRunner()

# (step, acting organisation, outcome, when): to the settlement decision, completed on Friday
# 14 March 2025; 2 calendar days later is Sunday 16 March, so the letter is due Monday 17 March
STEPS = (
    ("imdi_request", "refugee_service", None, "2025-03-10T09:00"),
    ("read_profile", "refugee_service", None, "2025-03-10T10:00"),
    ("ask_for_dwelling", "housing_office", None, "2025-03-11T10:00"),
    ("check_vacancy", "property_company", "dwelling_available", "2025-03-12T10:00"),
    ("answer_imdi", "refugee_service", None, "2025-03-13T10:00"),
    ("imdi_settlement_decision", "refugee_service", None, "2025-03-14T10:00"),
)


def _ok(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    assert FNR not in result.output
    return result.output


@pytest.fixture
def case_id(cli_folder: Path, staff: object) -> str:
    output = _ok("case", "start", "refugee_settlement", "--version", "1", "--as", "kari",
                 "--org", "refugee_service", "--at", "2025-03-10T08:30",
                 stdin=FNR + "\n")  # fmt: skip
    found = re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", output)
    assert found is not None
    for step, org, outcome, at in STEPS:
        args = ["case", "complete", found.group(0)[:8], step, "--as", "staff", "--org", org,
                "--at", at] + (["--outcome", outcome] if outcome else [])  # fmt: skip
        _ok(*args)
    return found.group(0)


def test_the_inbox_shows_the_deadline_day_and_its_basis(case_id: str) -> None:
    before = _ok("inbox", "records_office", "--at", "2025-03-17T12:00")
    assert case_id[:8] in before and "log_and_forward" in before
    assert "2025-03-17 (IMDi: vedtaket kommer via SvarUt/Altinn" in before
    assert "forfalt" not in before
    after = _ok("inbox", "records_office", "--at", "2025-03-18T08:00", "--lang", "en")
    assert "overdue 2025-03-17 (IMDi:" in after and "⚠" in after


def test_case_show_lists_when_the_open_steps_are_due(case_id: str) -> None:
    shown = _ok("case", "show", case_id[:8])
    assert "Frister: log_and_forward frist 2025-03-17 (hjemmel: IMDi:" in shown
    assert "⚠ forfalt" in shown  # it is later than 17 March 2025 now


def test_show_lists_a_steps_deadline_under_its_name(cli_folder: Path) -> None:
    shown = _ok("show", "refugee_settlement@v1")
    assert "frist: 2 kalenderdager fra imdi_settlement_decision (IMDi: vedtaket" in shown
    english = _ok("show", "private_lease@v2", "--lang", "en")
    assert "deadline: day 25 of the month (Husbanken, bostøtte:" in english
