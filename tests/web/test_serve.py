"""``boflyt serve``: the workspace app through uvicorn; several workers only on PostgreSQL."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boflyt.cli import app
from boflyt.commands import serve as serve_command
from boflyt.web.app import app_from_workspace

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


@pytest.fixture
def workspace_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("BOFLYT_PROCESSES_DIR", str(PROCESSES))
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(tmp_path / "data"))
    for name in ("DATABASE_URL", "HOME", "LANG", "WEB_SECURE_COOKIES", "WEB_IDLE_MINUTES"):
        monkeypatch.delenv(f"BOFLYT_{name}", raising=False)
    return tmp_path


def test_serve_runs_the_workspace_app_factory_on_the_given_address(workspace_env, monkeypatch):
    calls = []
    monkeypatch.setattr(serve_command.uvicorn, "run", lambda *a, **kw: calls.append((a, kw)))
    result = CliRunner().invoke(app, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/" in result.output
    (target,), options = calls[0]
    assert target == "boflyt.web.app:app_from_workspace" and options["factory"] is True
    assert (options["host"], options["port"], options["workers"]) == ("127.0.0.1", 8123, 1)


def test_several_workers_on_sqlite_are_refused_with_the_way_out(workspace_env, monkeypatch):
    monkeypatch.setattr(serve_command.uvicorn, "run", lambda *a, **kw: pytest.fail("started"))
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 1
    assert "--workers 2 needs a PostgreSQL store" in result.output
    assert "BOFLYT_DATABASE_URL" in result.output


def test_the_workspace_app_keeps_its_secret_owner_only_and_reads_the_settings(
    workspace_env, monkeypatch
):
    monkeypatch.setenv("BOFLYT_WEB_IDLE_MINUTES", "10")
    monkeypatch.setenv("BOFLYT_WEB_SECURE_COOKIES", "1")
    web = app_from_workspace()
    config = web.state.boflyt.config
    assert (config.idle.total_seconds(), config.secure_cookies) == (600, True)
    secret = workspace_env / "data" / "web.secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert app_from_workspace().state.boflyt.config.secret == config.secret
    web.state.boflyt.engine.dispose()


def test_workers_starting_together_share_one_secret(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from boflyt.web.sessions import load_secret

    with ThreadPoolExecutor(8) as pool:
        secrets = set(pool.map(lambda _: load_secret(tmp_path), range(32)))
    assert len(secrets) == 1 and len(secrets.pop()) == 32
    assert [p.name for p in tmp_path.iterdir()] == ["web.secret"]
