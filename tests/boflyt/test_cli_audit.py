"""``boflyt audit verify`` and ``boflyt audit show``, end to end through typer's CliRunner."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boflyt.cli import app
from boflyt.engine.store import audit
from boflyt.engine.store.db import make_engine
from boflyt.models.vocabulary import AuditAction
from tests.boflyt.conftest import STAFF

FNR = "01017012345"  # synthetic
runner = CliRunner()


@pytest.fixture
def store_file(cli_folder: Path, staff: object) -> Path:
    """The CLI's SQLite store (with the caseworker accounts of ``staff``)."""
    return cli_folder / "data" / "boflyt.db"


def _run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    assert FNR not in result.output
    return result.exit_code, result.output


def _case(store_file: Path) -> str:
    """A private lease case started on the command line, then read on the web (its entry
    written as the web writes it)."""
    code, output = _run("case", "start", "private_lease", "--as", "kari", "--org", "nav",
                        "--at", "2025-01-06T08:30", stdin=FNR + "\n")  # fmt: skip
    assert code == 0, output
    case_id = re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", output).group(0)  # type: ignore[union-attr]
    engine = make_engine(f"sqlite:///{store_file}")
    audit.record(engine, actor="ole", action=AuditAction.CASE_READ, org="nav", case_id=case_id,
                 now=dt.datetime(2025, 1, 6, 9), address="192.0.2.4")  # fmt: skip
    engine.dispose()
    return case_id


def test_verify_says_intact_with_what_it_walked(store_file):
    _case(store_file)
    code, output = _run("audit", "verify", "--lang", "en")
    assert code == 0, output
    entries = len(STAFF) + 2  # staff's accounts added, the start, the read
    assert re.fullmatch(rf"intact: {entries} audit entries, \d+ events in 1 cases\n", output)


def test_verify_exits_1_naming_the_first_changed_event(store_file):
    case_id = _case(store_file)
    with sqlite3.connect(store_file) as raw:
        raw.execute("UPDATE event SET actor = 'mallory' WHERE case_id = ? AND seq = 1", (case_id,))
        raw.execute("DELETE FROM audit_entry WHERE seq = 1")
    code, output = _run("audit", "verify", "--lang", "en")
    assert code == 1
    assert "broken: audit_entry seq 1: deleted (seq 2 follows the start)" in output
    assert "and 1 more problems" in output
    code, output = _run("audit", "verify")  # bokmål
    assert code == 1 and "brutt: audit_entry seq 1" in output


def test_show_lists_who_changed_and_read_a_case(store_file):
    case_id = _case(store_file)
    code, output = _run("audit", "show", "--case", case_id[:8], "--lang", "en")
    assert code == 0, output
    assert f"Who read and changed case {case_id}" in output
    assert re.search(r"kari\s+│\s+nav\s+│\s+started the case\s+│\s+private_lease@v\d+\s+│\s+"
                     r"command line", output)  # fmt: skip
    assert re.search(r"ole\s+│\s+nav\s+│\s+read the case\s+│\s+│\s+192\.0\.2\.4", output)
    code, output = _run("audit", "show", "--case", case_id, "--json")
    assert code == 0, output
    assert [(e["actor"], e["action"], e["address"]) for e in json.loads(output)] == [
        ("kari", "case_started", None), ("ole", "case_read", "192.0.2.4"),
    ]  # fmt: skip


def test_show_refuses_an_unknown_case_without_repeating_it(store_file):
    _case(store_file)
    code, output = _run("audit", "show", "--case", FNR)
    assert code == 1 and "no case with that id or id prefix" in output
