"""Workspaces: found from the current folder upwards or BOFLYT_HOME; sane defaults outside one."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boflyt.cli import app
from boflyt.models.errors import SettingsError
from boflyt.settings import get_settings
from boflyt.workspace import MARKER, Workspace, create_workspace, find_root, shipped_library

_OURS = ("HOME", "DATA_DIR", "DATABASE_URL", "PROCESSES_DIR", "REPORTS_DIR", "REFERENCE_KEY_FILE")


@pytest.fixture(autouse=True)
def _no_boflyt_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _OURS:
        monkeypatch.delenv(f"BOFLYT_{name}", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))


def test_init_makes_a_workspace_with_a_library_copy_and_an_owner_only_data_folder(
    tmp_path: Path,
) -> None:
    root = create_workspace(tmp_path / "ws")
    assert (root / MARKER).is_file()
    assert (root / "README.md").read_text(encoding="utf-8").startswith("# Boflyt")
    shipped = sorted(p.relative_to(shipped_library()) for p in shipped_library().rglob("*.yaml"))
    copied = sorted(p.relative_to(root / "processes") for p in (root / "processes").rglob("*.yaml"))
    assert copied == shipped and len(copied) > 6
    assert stat.S_IMODE((root / "data").stat().st_mode) == 0o700
    assert (root / "reports").is_dir()


def test_init_refuses_an_existing_workspace_and_keeps_edits(tmp_path: Path) -> None:
    root = create_workspace(tmp_path / "ws")
    lanes = root / "processes" / "lanes.yaml"
    lanes.write_text("# edited\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="already a workspace"):
        create_workspace(root)
    assert lanes.read_text(encoding="utf-8") == "# edited\n"


def test_commands_find_the_workspace_from_a_subfolder(tmp_path: Path) -> None:
    root = create_workspace(tmp_path / "ws")
    deep = root / "reports" / "a" / "b"
    deep.mkdir(parents=True)
    ws = Workspace.current(deep)
    assert ws.root == root.resolve()
    assert ws.processes_dir == root / "processes"
    assert ws.database_url == f"sqlite:///{root / 'data' / 'boflyt.db'}"
    assert ws.reference_key_file == root / "data" / "reference.key"


def test_boflyt_home_wins_over_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = create_workspace(tmp_path / "here")
    there = create_workspace(tmp_path / "there")
    monkeypatch.setenv("BOFLYT_HOME", str(there))
    assert Workspace.current(here).root == there.resolve()
    monkeypatch.setenv("BOFLYT_HOME", str(tmp_path / "nowhere"))
    with pytest.raises(SettingsError, match=r"BOFLYT_HOME=.*is not a workspace"):
        Workspace.current(here)


def test_outside_a_workspace_the_shipped_library_is_read_and_data_go_to_the_user_folder(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert find_root(empty) is None
    ws = Workspace.current(empty)
    assert ws.root is None
    assert ws.processes_dir == shipped_library()
    assert ws.data_dir.is_relative_to(tmp_path / "home")
    assert ws.reports_dir.is_relative_to(tmp_path / "home")


def test_explicit_settings_win_over_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = create_workspace(tmp_path / "ws")
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("BOFLYT_DATABASE_URL", "postgresql://u@db/boflyt")
    ws = Workspace.current(root)
    assert ws.data_dir == tmp_path / "elsewhere"
    assert ws.database_url == "postgresql://u@db/boflyt"
    assert ws.reference_key_file == tmp_path / "elsewhere" / "reference.key"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "BOFLYT_LANG",
            "xx",
            "BOFLYT_LANG='xx' is not allowed; allowed: a language of the word catalogue: en, nb",
        ),
        ("BOFLYT_RENDERER", "bogus", "BOFLYT_RENDERER='bogus' is not allowed"),
        ("BOFLYT_DATABASE_URL", "mysql://u@h/db", "allowed: a URL starting with sqlite:///"),
        ("BOFLYT_DATABASE_URL", "garbage", "BOFLYT_DATABASE_URL='garbage' is not allowed"),
    ],
)
def test_a_bad_setting_names_the_variable_the_value_and_what_is_allowed(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        get_settings()
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_password_in_a_bad_database_url_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOFLYT_DATABASE_URL", "mysql://boflyt:s3cret@db/boflyt")
    with pytest.raises(SettingsError) as caught:
        get_settings()
    assert "s3cret" not in str(caught.value)
    assert "boflyt:***@db" in str(caught.value)


def test_version_and_init_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    printed = runner.invoke(app, ["--version"])
    assert printed.exit_code == 0 and printed.output.startswith("boflyt ")
    monkeypatch.chdir(tmp_path)
    made = runner.invoke(app, ["init", "ws"])
    assert made.exit_code == 0, made.output
    assert (tmp_path / "ws" / MARKER).is_file()
    again = runner.invoke(app, ["init", "ws"])
    assert again.exit_code == 1
    assert "already a workspace" in again.output


def test_the_data_folder_is_made_owner_only_even_when_it_existed_open(tmp_path: Path) -> None:
    root = create_workspace(tmp_path / "ws")
    (root / "data").chmod(0o755)
    Workspace.current(root).ensure_data_dir()
    assert stat.S_IMODE((root / "data").stat().st_mode) == 0o700
    fresh = tmp_path / "fresh" / "data"
    made = replace(Workspace.current(root), data_dir=fresh).ensure_data_dir()
    assert stat.S_IMODE(made.stat().st_mode) == 0o700


def test_a_data_folder_under_a_file_is_one_clear_error(tmp_path: Path) -> None:
    root = create_workspace(tmp_path / "ws")
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    ws = replace(Workspace.current(root), data_dir=blocker / "data")
    with pytest.raises(SettingsError, match="cannot create the data folder"):
        ws.ensure_data_dir()
