"""CLI commands for admins: ``boflyt user …`` — add, list and disable accounts, make API tokens.

An account acts for organisations of the library (lane ids, checked here against the
workspace's ``lanes.yaml``) in roles (:class:`boflyt.models.vocabulary.Role`); the store keeps
it (:mod:`boflyt.engine.store.accounts`). A password never appears on the command line (where
``ps`` shows it to every local user) nor in any output: it is read from standard input when that
is not a terminal (one line), else typed twice at a prompt that does not echo it. An API token
is printed once, on standard output, with a warning on standard error; the store keeps only
its SHA-256. Whoever can run these commands on the workspace administers its accounts.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import Engine

from boflyt.commands.language import LangOption, Words, chosen
from boflyt.console import console, err_console, friendly_errors
from boflyt.engine.case.bounds import check_known_org, visible
from boflyt.engine.definition.load import load_lanes
from boflyt.engine.store.accounts import (
    Account,
    add_account,
    check_password,
    disable_account,
    list_accounts,
    new_token,
)
from boflyt.models.errors import CommandError
from boflyt.models.vocabulary import Role
from boflyt.models.words import Language, term
from boflyt.workspace import Workspace

__all__ = ["register", "users_app"]

UserArg = Annotated[str, typer.Argument(help="The account's user name (e.g. kari.nordmann).")]
OrgOpt = Annotated[
    list[str],
    typer.Option("--org", help="An organisation it acts for (lane id, e.g. nav); repeatable."),
]
RoleOpt = Annotated[
    list[Role],
    typer.Option("--role", help="A role it has; repeatable.", case_sensitive=False),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print JSON (one object per account) instead of a table.")
]

users_app = typer.Typer(
    name="user",
    help="Accounts: add, list and disable users of the store; make API tokens.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``user add``, ``user list``, ``user disable`` and ``user token``."""
    app.add_typer(users_app, name="user")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _store() -> Engine:
    return Workspace.current().open_store()


def _known_orgs(orgs: list[str]) -> list[str]:
    """``orgs`` if each is a lane of the workspace's library; else one error naming them all."""
    known = load_lanes(Workspace.current().processes_dir / "lanes.yaml").ids
    return [check_known_org(org, known) for org in orgs]


def _terminal() -> bool:
    """Whether standard input is a terminal (a person typing) rather than a pipe or file."""
    return sys.stdin.isatty()


def read_password(lang: Language) -> str:
    """The new password: one line of standard input, or typed twice at a hidden prompt.

    Raises:
        CommandError: no password, the two typed differ, or it is too weak.
    """
    words = Words("user", lang)
    if _terminal():
        password = str(typer.prompt(words["password"], hide_input=True))
        if str(typer.prompt(words["repeat"], hide_input=True)) != password:
            raise CommandError(words["mismatch"])
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandError(
            "no password given; type it at the prompt or pass it on standard input, "
            "e.g. boflyt user add NAME --org ORG --role ROLE < password.txt"
        )
    check_password(password)
    return password


@users_app.command("add")
def add(
    username: UserArg,
    org: OrgOpt,
    role: RoleOpt,
    lang: LangOption = None,
) -> None:
    """Add an account with its organisations and roles; the password is read, never an argument.

    Standard input when it is not a terminal (one line), else a hidden prompt asked twice.
    """
    words = Words("user", chosen(lang))
    with friendly_errors():
        orgs = _known_orgs(org)
        password = read_password(words.lang)
        account = add_account(_store(), username=username, password=password, orgs=orgs,
                              roles=role, now=_now())  # fmt: skip
    console.print(Text(words["added"].format(username=account.username)))
    _print_accounts([account], words)


def _roles(account: Account, lang: Language) -> str:
    return ", ".join(term(role, lang) for role in account.roles)


def _print_accounts(accounts: list[Account], words: Words) -> None:
    table = Table(title=words["title"], title_justify="left")
    for heading in ("username", "orgs", "roles", "active"):
        table.add_column(words[heading])
    for account in accounts:
        table.add_row(Text(visible(account.username)), Text(", ".join(account.orgs)),
                      Text(_roles(account, words.lang)),
                      Text(words["yes"] if account.active else words["no"]))  # fmt: skip
    console.print(table)


@users_app.command("list")
def list_(json_out: JsonOpt = False, lang: LangOption = None) -> None:
    """List every account: user name, organisations, roles, active (never a password hash)."""
    words = Words("user", chosen(lang))
    with friendly_errors():
        accounts = list_accounts(_store())
    if json_out:
        rows = [
            {"username": a.username, "orgs": list(a.orgs), "roles": [r.value for r in a.roles],
             "active": a.active}
            for a in accounts
        ]  # fmt: skip
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif accounts:
        _print_accounts(accounts, words)
    else:
        console.print(words["none"])


@users_app.command("disable")
def disable(username: UserArg, lang: LangOption = None) -> None:
    """Disable an account: it can no longer log in, and its API tokens stop working."""
    words = Words("user", chosen(lang))
    with friendly_errors():
        account = disable_account(_store(), username, now=_now())
    console.print(Text(words["disabled"].format(username=account.username)))


@users_app.command("token")
def token(username: UserArg, lang: LangOption = None) -> None:
    """Make a new API token for an account and print it once; only its hash is stored."""
    words = Words("user", chosen(lang))
    with friendly_errors():
        made = new_token(_store(), username, now=_now())
    err_console.print(Text(words["token_warning"].format(username=username), style="bold"))
    typer.echo(made)
