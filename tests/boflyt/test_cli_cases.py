"""The case commands, end to end through typer's CliRunner on a temporary data directory."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boflyt.cli import app
from boflyt.engine.case.decide import open_items
from boflyt.engine.definition.load import load_library
from boflyt.engine.store import commands as store
from boflyt.engine.store.db import make_engine
from boflyt.models.vocabulary import RunStatus, StepKind
from tests.factories import outcome_towards_an_end

FNR = "01017012345"  # synthetic
LIBRARY = load_library(Path(__file__).resolve().parents[2] / "processes")
runner = CliRunner()


@pytest.fixture
def data_dir(cli_folder: Path, staff: object) -> Path:
    """The store's folder (with the caseworker accounts of ``staff``)."""
    return cli_folder / "data"


def _ok(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    assert FNR not in result.output
    return result.output


@pytest.mark.parametrize(
    ("process", "starter"),
    [
        ("private_lease", "nav"),
        ("refugee_settlement", "nav"),
        ("eviction_prevention", "accounting"),  # v2's start step is accounting's, not outside
    ],
)
def test_staff_run_a_library_case_to_its_end(data_dir: Path, process: str, starter: str) -> None:
    output = _ok("case", "start", process, "--as", "kari", "--org", starter,
                 "--at", "2025-01-06T08:30", stdin=FNR + "\n")  # fmt: skip
    case_id = re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", output).group(0)
    engine = make_engine(f"sqlite:///{data_dir / 'boflyt.db'}")
    version = LIBRARY.get(process)
    outside = {lane.id for lane in LIBRARY.lanes.lanes if lane.outside}
    for day in range(7, 60):
        state = store.get_case(engine, case_id)
        if state.status is not RunStatus.RUNNING:
            break
        item = open_items(state)[0]
        step = version.step(item.step)
        org = "housing_office" if step.lane in outside else step.lane
        at = f"{dt.datetime(2025, 1, 6, 10) + dt.timedelta(days=day - 6):%Y-%m-%dT%H:%M}"
        args = ["case", "complete", case_id[:8], step.id, "--as", "staff", "--org", org,
                "--minutes", "15", "--at", at]  # fmt: skip
        if step.kind is StepKind.DECISION:
            args += ["--outcome", outcome_towards_an_end(version, step.id)]
        _ok(*args)
    assert store.get_case(engine, case_id).status is RunStatus.FINISHED
    shown = _ok("case", "show", case_id[:8])
    assert "↪" in shown and "sak avsluttet" in shown
    assert "ventet" not in shown or "min" in shown
    english = _ok("case", "show", case_id, "--lang", "en")
    assert "case finished" in english
    listed = _ok("case", "list", "--status", "finished")
    assert case_id[:8] in listed and f"{process}@v{version.version}" in listed
    engine.dispose()


def test_inbox_begin_and_the_timeline_show_waits_and_handoffs(data_dir: Path) -> None:
    output = _ok("case", "start", "private_lease", "--version", "1", "--as",
                 "kari", "--org", "nav", "--at", "2025-01-06T08:30", stdin=FNR)  # fmt: skip
    case_id = re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", output).group(0)
    _ok("case", "complete", case_id, "apply_on_paper", "--as", "kari", "--org", "nav",
        "--at", "2025-01-06T09:00")  # fmt: skip
    inbox = _ok("inbox", "nav", "--at", "2025-01-08T09:00")
    assert "nav_register_assess" in inbox and "2 d" in inbox
    assert "nav_register_assess" not in _ok("inbox", "accounting")
    _ok("case", "begin", case_id, "nav_register_assess", "--as", "kari", "--org", "nav",
        "--at", "2025-01-08T09:00")  # fmt: skip
    shown = _ok("case", "show", case_id)
    assert "↪ Søker / leietaker → NAV-kontoret" in shown
    assert "ventet 2 d" in shown


def test_errors_are_one_clear_line_and_a_non_zero_exit(data_dir: Path) -> None:
    output = _ok("case", "start", "private_lease", "--as", "kari", "--org", "nav", stdin=FNR)
    case_id = re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", output).group(0)
    wrong = runner.invoke(app, ["case", "complete", case_id, "joint_assessment", "--as", "ole",
                                "--org", "accounting", "--outcome", "in_target_group"])  # fmt: skip
    assert wrong.exit_code == 1
    assert "Traceback" not in wrong.output
    assert "accounting may not complete step 'joint_assessment'" in wrong.output
    again = runner.invoke(app, ["case", "start", "private_lease", "--as", "ole", "--org", "nav"],
                          input=f" {FNR[:6]} {FNR[6:]} \n")  # fmt: skip
    assert again.exit_code == 1 and "already has this reference" in again.output
    assert FNR not in again.output
    unknown = runner.invoke(app, ["case", "show", FNR])
    assert unknown.exit_code == 1 and "no case with that id or id prefix" in unknown.output
    assert FNR not in unknown.output
    cancelled = _ok("case", "cancel", case_id[:6], "--as", "kari", "--org", "nav",
                    "--reason", "moved")  # fmt: skip
    assert "avbrutt" in cancelled  # bokmål by default
    assert (data_dir / "reference.key").stat().st_mode & 0o777 == 0o600


def test_the_reference_is_never_an_argument_and_finds_its_case_by_pseudonym(
    data_dir: Path,
) -> None:
    old_style = runner.invoke(app, ["case", "start", "private_lease", "--ref", FNR, "--as", "k",
                                    "--org", "nav"])  # fmt: skip
    assert old_style.exit_code != 0 and FNR not in old_style.output
    missing = runner.invoke(app, ["case", "start", "private_lease", "--as", "k", "--org", "nav"])
    assert missing.exit_code == 1 and "no case reference given" in missing.output
    output = _ok("case", "start", "private_lease", "--as", "kari", "--org", "nav", stdin=FNR)
    case_id = re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", output).group(0)
    shown = _ok("case", "show", "--ref", "--lang", "en", stdin="010170 12345\n")
    assert case_id in shown and "case started" in shown
    nobody = runner.invoke(app, ["case", "show", "--ref"], input="01017012346\n")
    assert nobody.exit_code == 1 and "no case has that reference" in nobody.output
    assert "01017012346" not in nobody.output
    both = runner.invoke(app, ["case", "show", FNR, "--ref"], input=FNR)
    assert both.exit_code == 1 and FNR not in both.output
    for typed in (FNR, FNR[:4], "[/]"):
        wrong = runner.invoke(app, ["case", "show", typed])
        assert wrong.exit_code == 1 and typed not in wrong.output
        assert "Traceback" not in wrong.output
