"""Every error is one line on stderr and a non-zero exit — bad settings, an unwritable data
folder, a wrong key, or a bug — and --debug shows the traceback instead."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

import boflyt.commands.cases as cases_commands
from boflyt.cli import app
from tests.boflyt.conftest import add_staff

FNR = "01017012345"  # synthetic
runner = CliRunner()
BOOM = "boom [/] [bold]not markup"


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("HOME", "DATABASE_URL", "REFERENCE_KEY_FILE", "LANG", "RENDERER", "DEBUG"):
        monkeypatch.delenv(f"BOFLYT_{name}", raising=False)
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _one_line_error(result: Result) -> str:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


BAD_SETTINGS = [
    ("BOFLYT_LANG", "xx", "BOFLYT_LANG='xx' is not allowed"),
    ("BOFLYT_RENDERER", "bogus", "BOFLYT_RENDERER='bogus' is not allowed"),
    ("BOFLYT_DATABASE_URL", "mysql://x", "BOFLYT_DATABASE_URL='mysql://x' is not allowed"),
    ("BOFLYT_DATABASE_URL", "garbage", "BOFLYT_DATABASE_URL='garbage' is not allowed"),
]


@pytest.mark.parametrize("command", [["case", "list"], ["validate"], ["show", "private_lease"]])
@pytest.mark.parametrize(("name", "value", "expected"), BAD_SETTINGS)
def test_a_bad_setting_is_one_line_wherever_it_is_read(
    monkeypatch: pytest.MonkeyPatch, command: list[str], name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    assert expected in _one_line_error(runner.invoke(app, command))


def test_an_unwritable_data_folder_is_one_line(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (env / "a-file").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(env / "a-file" / "data"))
    line = _one_line_error(runner.invoke(app, ["case", "list"]))
    assert "cannot create the data folder" in line and "BOFLYT_DATA_DIR" in line


def _boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError(BOOM + "\nsecond line")


def test_an_unexpected_error_is_one_line_and_a_private_traceback_file(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cases_commands.Workspace, "current", _boom)
    line = _one_line_error(runner.invoke(app, ["case", "list"]))
    assert line.startswith(f"error: RuntimeError: {BOOM}; full traceback written to ")
    path = Path(line.rsplit(" ", 1)[1])
    assert path.is_relative_to(env / "cache")
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text(encoding="utf-8")
    assert "Traceback" in text and "_boom" in text and "second line" in text


def test_an_unexpected_error_falls_back_to_the_temporary_folder(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (env / "cache").write_text("not a folder", encoding="utf-8")
    monkeypatch.setattr(cases_commands.Workspace, "current", _boom)
    path = Path(_one_line_error(runner.invoke(app, ["case", "list"])).rsplit(" ", 1)[1])
    assert path.is_file() and path.stat().st_mode & 0o777 == 0o600
    path.unlink()


def test_debug_lets_the_traceback_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cases_commands.Workspace, "current", _boom)
    result = runner.invoke(app, ["--debug", "case", "list"])
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)
    monkeypatch.setenv("BOFLYT_DEBUG", "1")
    assert isinstance(runner.invoke(app, ["case", "list"]).exception, RuntimeError)


INJECTED = """
import sys
import boflyt.commands.cases as c
def boom(*a, **k):
    raise RuntimeError("boom")
c.Workspace.current = boom
from boflyt.cli import app
app(sys.argv[1:])
"""


@pytest.mark.slow
@pytest.mark.parametrize("debug", [False, True])
def test_the_real_program_prints_one_line_or_with_debug_the_traceback(
    env: Path, debug: bool
) -> None:
    args = ["--debug", "case", "list"] if debug else ["case", "list"]
    run = subprocess.run([sys.executable, "-c", INJECTED, *args], capture_output=True,
                         text=True, env=os.environ.copy())  # fmt: skip
    assert run.returncode == 1
    if debug:
        assert "Traceback (most recent call last)" in run.stderr and "boom" in run.stderr
    else:
        assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
        assert re.match(r"error: RuntimeError: boom; full traceback written to /", run.stderr)


@pytest.mark.slow
def test_the_installed_command_reports_a_bad_setting_in_one_line(env: Path) -> None:
    script = Path(sys.executable).with_name("boflyt")
    run = subprocess.run([str(script), "validate"], capture_output=True, text=True,
                         env={**os.environ, "BOFLYT_LANG": "xx"})  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.splitlines() == [run.stderr.strip()]
    assert "BOFLYT_LANG='xx' is not allowed" in run.stderr


# --------------------------------------------------------------------------- the store's key


def _start(ref: str = FNR) -> Result:
    add_staff("kari")
    return runner.invoke(app, ["case", "start", "private_lease", "--as", "kari", "--org", "nav"],
                         input=ref)  # fmt: skip


@pytest.mark.postgres
def test_two_data_folders_sharing_a_postgres_store_need_the_same_key(
    env: Path, pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOFLYT_DATABASE_URL", pg_engine.url.render_as_string(hide_password=False))
    assert _start().exit_code == 0
    first_key = env / "data" / "reference.key"
    assert first_key.stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(env / "data2"))
    line = _one_line_error(_start("01017012346"))
    assert "no reference key at" in line and "BOFLYT_REFERENCE_KEY_FILE=" in line
    assert not (env / "data2" / "reference.key").exists()
    monkeypatch.setenv("BOFLYT_REFERENCE_KEY_FILE", str(first_key))
    again = _one_line_error(_start())  # same key, so the duplicate check sees the same person
    assert "already has this reference" in again and FNR not in again


def test_a_deleted_key_of_a_store_with_cases_is_refused_not_replaced(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _start().exit_code == 0
    key = env / "data" / "reference.key"
    moved = key.rename(env / "elsewhere.key")
    line = _one_line_error(runner.invoke(app, ["case", "list"]))
    assert "a new key is never made" in line and "BOFLYT_REFERENCE_KEY_FILE=" in line
    assert not key.exists()
    monkeypatch.setenv("BOFLYT_REFERENCE_KEY_FILE", str(moved))
    assert runner.invoke(app, ["case", "list"]).exit_code == 0
