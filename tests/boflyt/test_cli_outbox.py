"""``boflyt deadlines run`` and ``boflyt outbox send|list|requeue``, end to end through typer's
CliRunner, against the local SMTP server."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boflyt.cli import app
from boflyt.engine.store import commands as store
from boflyt.engine.store import outbox
from boflyt.workspace import Workspace
from tests.fixtures.smtp import CountingServer
from tests.flows.test_deadlines import READY, TOML, deadline_version

REFERENCE = "LEIE-2025-0042"
runner = CliRunner()


@pytest.fixture
def folder(cli_folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace (``boflyt.toml`` with two organisations' addresses) holding one case whose
    step ``a`` is due on Thursday 24 April 2025."""
    (cli_folder / "boflyt.toml").write_text(TOML, encoding="utf-8")
    monkeypatch.setenv("BOFLYT_HOME", str(cli_folder))
    for name in ("SMTP_HOST", "SMTP_PORT", "BASE_URL"):
        monkeypatch.delenv(f"BOFLYT_{name}", raising=False)
    workspace = Workspace.current(cli_folder)
    engine = workspace.open_store()
    key = workspace.reference_key(engine)
    store.start_case(engine, version=deadline_version(), ref=REFERENCE, actor="ann", key=key,
                     org="housing_office", now=READY)  # fmt: skip
    engine.dispose()
    return cli_folder


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert REFERENCE not in result.output
    return result.exit_code, " ".join(result.output.split())


def _smtp(monkeypatch: pytest.MonkeyPatch, server: CountingServer) -> None:
    monkeypatch.setenv("BOFLYT_SMTP_HOST", server.host)
    monkeypatch.setenv("BOFLYT_SMTP_PORT", str(server.port))


def test_deadlines_run_reminds_and_the_notice_waits_without_smtp(folder, smtp_server):
    code, said = _run("deadlines", "run", "--now", "2025-04-23T05:00", "--lang", "en")
    assert code == 0, said
    assert "2025-04-23: 1 reminded, 0 escalated, 0 cases skipped" in said
    assert "No e-mail sent" in said
    code, said = _run("outbox", "send")
    assert code == 1 and "BOFLYT_SMTP_HOST" in said
    code, listed = _run("outbox", "list", "--json")
    (row,) = json.loads(listed)
    assert (row["kind"], row["org"], row["step"], row["status"]) == (
        "reminder", "housing_office", "a", "pending",
    )  # fmt: skip
    assert row["due_at"].startswith("2025-04-24")
    assert smtp_server.received == {}


def test_outbox_send_sends_once_and_list_shows_it_sent(folder, smtp_server, monkeypatch):
    _run("deadlines", "run", "--now", "2025-04-23T05:00", "--no-send")
    _smtp(monkeypatch, smtp_server)
    code, said = _run("outbox", "send")
    assert code == 0, said
    assert "Sendt: 1, prøves igjen senere: 0, feilet: 0, usikre: 0." in said
    assert _run("outbox", "send", "--lang", "en")[1] == (
        "Sent: 0, to retry later: 0, failed: 0, uncertain: 0."
    )
    assert sum(smtp_server.received.values()) == 1
    code, table = _run("outbox", "list", "--status", "sent", "--lang", "en")
    assert code == 0 and "reminder" in table and "housing_office" in table
    assert _run("outbox", "list", "--status", "failed", "--lang", "en")[1] == (
        "The outbox is empty."
    )


def test_deadlines_run_on_a_holiday_does_nothing(folder, smtp_server, monkeypatch):
    _smtp(monkeypatch, smtp_server)
    code, said = _run("deadlines", "run", "--now", "2025-04-21T05:00", "--lang", "en")
    assert code == 0 and "2025-04-21 is not a working day" in said
    assert json.loads(_run("outbox", "list", "--json")[1]) == []


def test_requeue_sends_an_uncertain_row_again_and_refuses_others(folder, smtp_server, monkeypatch):
    _run("deadlines", "run", "--now", "2025-04-23T05:00", "--no-send")
    engine = Workspace.current(folder).open_store()
    (claimed,) = outbox.claim(engine, now=dt.datetime(2025, 4, 23, 6))
    outbox.mark_uncertain(engine, claimed, error="connection lost")
    engine.dispose()
    _smtp(monkeypatch, smtp_server)
    assert "Sendt: 0" in _run("outbox", "send")[1]  # held: never sent again by itself
    code, said = _run("outbox", "requeue", "999", "--lang", "en")
    assert code == 1 and "Row 999 does not exist" in said
    code, said = _run("outbox", "requeue", str(claimed.id))
    assert code == 0 and f"Rad {claimed.id} sendes på nytt" in said
    assert "Sendt: 1" in _run("outbox", "send")[1]
    assert _run("outbox", "requeue", str(claimed.id))[0] == 1  # sent rows stay sent
    assert sum(smtp_server.received.values()) == 1


def test_a_bad_now_is_one_line_naming_the_option(folder):
    code, said = _run("deadlines", "run", "--now", "tomorrow")
    assert code == 1 and "--now: found 'tomorrow'" in said
