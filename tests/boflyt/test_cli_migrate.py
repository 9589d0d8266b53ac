"""``boflyt case migrate``: the dry run's plan, applying it, who may, end to end."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boflyt.cli import app
from boflyt.engine.case.decide import open_items
from boflyt.engine.store import accounts
from boflyt.engine.store import commands as store
from boflyt.engine.store.db import make_engine
from boflyt.models.vocabulary import Role

FNR = "01017012345"  # synthetic
runner = CliRunner()


@pytest.fixture
def owner_store(cli_folder: Path, staff: Callable[..., None]) -> Path:
    """The store (its folder) with caseworkers and the process owner ``olga``."""
    engine = make_engine(f"sqlite:///{cli_folder / 'data' / 'boflyt.db'}")
    accounts.add_account(engine, username="olga", password="correct horse battery",
                         orgs=["housing_office"], roles=[Role.PROCESS_OWNER],
                         now=dt.datetime(2025, 1, 1))  # fmt: skip
    engine.dispose()
    return cli_folder / "data"


def _run(*args: str, stdin: str | None = None, code: int = 0) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == code, result.output
    assert FNR not in result.output
    return " ".join(result.output.split())


def _start(n: int) -> str:
    output = _run("case", "start", "private_lease", "--version", "1", "--as", "kari", "--org",
                  "nav", "--at", "2025-01-06T08:30", stdin=f"{FNR[:-1]}{n}\n")  # fmt: skip
    return re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", output).group(0)  # type: ignore[union-attr]


def test_a_process_owner_plans_then_moves_running_cases(owner_store: Path) -> None:
    staying, moving = _start(1), _start(2)  # both on apply_on_paper, which v2 lacks
    _run("case", "complete", moving, "apply_on_paper", "--as", "kari", "--org", "tenant",
         "--at", "2025-01-07T09:00")  # fmt: skip
    engine = make_engine(f"sqlite:///{owner_store / 'boflyt.db'}")
    assert [i.step for i in open_items(store.get_case(engine, moving))] == ["nav_register_assess"]
    plan = _run("case", "migrate", "--from", "private_lease@v1", "--to", "private_lease@v2",
                "--as", "olga", "--dry-run", "--lang", "en")  # fmt: skip
    assert "Migrating private_lease@v1 to private_lease@v2" in plan
    assert "Refused: the case stands on step 'apply_on_paper'" in plan
    assert "--map nav_register_assess=STEP" in plan
    assert "Dry run: nothing was changed" in plan
    assert store.get_case(engine, moving).version == 1
    mapped = ("--map", "apply_on_paper=apply_digital", "--map",
              "nav_register_assess=joint_assessment")  # fmt: skip
    plan = _run("case", "migrate", "--from", "private_lease@v1", "--to", "private_lease@v2",
                *mapped, "--as", "olga", "--dry-run", "--lang", "en")  # fmt: skip
    assert "Refused" not in plan
    assert "Work on step nav_register_assess moves to step joint_assessment." in plan
    assert "which the new version no longer has" in plan  # apply_on_paper was passed
    # only the case named moves
    done = _run("case", "migrate", "--from", "private_lease@v1", "--to", "private_lease@v2",
                *mapped, "--case", moving[:8], "--as", "olga", "--lang", "en")  # fmt: skip
    assert "1 of 1 cases moved" in done and "Moved" in done
    moved = store.get_case(engine, moving)
    assert moved.version == 2
    assert [i.step for i in open_items(moved)] == ["joint_assessment"]
    assert store.get_case(engine, staying).version == 1
    shown = _run("case", "show", moving, "--lang", "en")
    assert "case migrated" in shown and "private_lease@v1 -> private_lease@v2" in shown
    assert "nav_register_assess=joint_assessment" in shown
    _run("audit", "verify")
    log = _run("audit", "show", "--case", moving, "--lang", "en")
    assert "olga" in log and "migrated the case" in log
    engine.dispose()


def test_only_a_process_owner_may_migrate(owner_store: Path) -> None:
    _start(1)
    out = runner.invoke(app, ["case", "migrate", "--from", "private_lease@v1", "--to",
                              "private_lease@v2", "--as", "kari", "--dry-run"])  # fmt: skip
    assert out.exit_code != 0
    assert "only an active process owner may migrate" in " ".join(out.output.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "private_lease", "--to", "private_lease@v2"), "expected PROCESS@vN"),
        (("--from", "private_lease@v1", "--to", "private_lease@v2", "--map", "x"),
         "expected OLD_STEP=NEW_STEP"),
        (("--from", "private_lease@v1", "--to", "private_lease@v2", "--map", "nope=move_in"),
         "has no step 'nope'"),
    ],
)  # fmt: skip
def test_bad_input_is_told_with_what_is_allowed(
    owner_store: Path, args: tuple[str, ...], message: str
) -> None:
    out = runner.invoke(app, ["case", "migrate", *args, "--as", "olga", "--dry-run"])
    assert out.exit_code != 0
    assert message in " ".join(out.output.split())


def test_a_plan_without_cases_says_so(owner_store: Path) -> None:
    out = _run("case", "migrate", "--from", "private_lease@v1", "--to", "private_lease@v2",
               "--as", "olga", "--dry-run", "--lang", "en")  # fmt: skip
    assert "No running cases of private_lease@v1 to move." in out
