"""The account commands, end to end through typer's CliRunner on a temporary data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from boflyt.cli import app, load_command
from boflyt.commands import users
from boflyt.engine.store.accounts import account_for_token, authenticate, get_account
from boflyt.engine.store.db import make_engine
from boflyt.models.vocabulary import Role

PASSWORD = "correct horse battery staple"
runner = CliRunner()


@pytest.fixture
def store(cli_folder: Path):
    """The CLI's store, opened the way a test reads it back."""
    engine = make_engine(f"sqlite:///{cli_folder / 'data' / 'boflyt.db'}")
    yield engine
    engine.dispose()


def _run(*args: str, stdin: str | None = PASSWORD + "\n") -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    assert PASSWORD not in result.output
    return result.exit_code, result.output


def _listed() -> list[dict[str, object]]:
    code, output = _run("user", "list", "--json")
    assert code == 0, output
    return json.loads(output)  # type: ignore[no-any-return]


def _add(name: str = "kari", *extra: str) -> str:
    code, output = _run("user", "add", name, "--org", "nav", "--org", "housing_office",
                        "--role", "caseworker", *extra)  # fmt: skip
    assert code == 0, output
    return output


def test_an_admin_adds_an_account_with_the_password_on_standard_input(cli_folder, store):
    output = _add()
    assert "Kontoen kari er lagt til." in output and "saksbehandler" in output
    assert get_account(store, "kari").orgs == ("housing_office", "nav")
    assert authenticate(store, "kari", PASSWORD).roles == (Role.CASEWORKER,)


def test_the_password_is_never_an_argument(cli_folder):
    command = load_command("user").commands["add"]  # type: ignore[attr-defined]
    assert [p.name for p in command.params] == ["username", "org", "role", "lang"]
    code, output = _run("user", "add", "kari", "--org", "nav", "--role", "admin",
                        "--password", PASSWORD, stdin=None)  # fmt: skip
    assert code == 2 and "No such option: --password" in output


def test_at_a_terminal_the_password_is_asked_twice_without_echo(cli_folder, monkeypatch):
    asked: list[tuple[str, bool]] = []
    answers = iter([PASSWORD, PASSWORD + "?"])

    def prompt(text: str, *, hide_input: bool = False) -> str:
        asked.append((text, hide_input))
        return next(answers)

    monkeypatch.setattr(users, "_terminal", lambda: True)
    monkeypatch.setattr(typer, "prompt", prompt)
    code, output = _run("user", "add", "kari", "--org", "nav", "--role", "admin", stdin=None)
    assert code == 1 and "passordene er ikke like; ingenting er lagret" in output
    assert [hidden for _, hidden in asked] == [True, True]
    assert asked[1][0] == "Gjenta passordet"
    assert _listed() == []


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--org", "navv"], PASSWORD, "unknown organisation 'navv'; did you mean 'nav'? known: "
         "accounting, asylum_reception"),
        (["--org", "nav"], "too short\n", "the password is too short (9 characters)"),
        (["--org", "nav"], "\n", "no password given"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_stores_nothing(cli_folder, args, stdin, message):
    code, output = _run("user", "add", "kari", *args, "--role", "caseworker", stdin=stdin)
    assert code == 1 and message in " ".join(output.split())
    assert "too short" not in output.replace("the password is too short", "")
    assert _listed() == []


def test_a_second_account_of_the_same_name_is_refused(cli_folder):
    _add()
    code, output = _run("user", "add", "kari", "--org", "nav", "--role", "admin")
    assert code == 1 and "an account 'kari' exists already" in output


def test_user_list_shows_accounts_and_never_a_hash(cli_folder):
    code, output = _run("user", "list", "--lang", "en")
    assert code == 0 and "no accounts yet" in output
    _add("kari")
    _add("ola", "--role", "admin")
    code, table = _run("user", "list", "--lang", "en")
    assert code == 0 and "administrator, caseworker" in table and "housing_office, nav" in table
    code, listed = _run("user", "list", "--json")
    assert json.loads(listed) == [
        {"username": "kari", "orgs": ["housing_office", "nav"], "roles": ["caseworker"],
         "active": True},
        {"username": "ola", "orgs": ["housing_office", "nav"], "roles": ["admin", "caseworker"],
         "active": True},
    ]  # fmt: skip
    assert "argon2" not in table + listed and "$" not in table + listed


def test_a_token_is_printed_once_and_stops_working_when_the_account_is_disabled(cli_folder, store):
    _add()
    result = runner.invoke(app, ["user", "token", "kari"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert "vises bare nå" in result.stderr and token not in result.stderr
    assert account_for_token(store, token).username == "kari"
    code, output = _run("user", "disable", "kari")
    assert code == 0 and "Kontoen kari er deaktivert" in output
    assert account_for_token(store, token) is None
    assert authenticate(store, "kari", PASSWORD) is None
    code, listed = _run("user", "list", "--json")
    assert json.loads(listed)[0]["active"] is False
    code, output = _run("user", "disable", "nobody")
    assert code == 1 and "no account 'nobody'" in output
