"""CLI commands for process owners: ``boflyt version publish`` and ``boflyt version retire``.

The same writes as the web app's publishing pages (:mod:`boflyt.engine.definition.publishing`):
a draft with no problem becomes published (its status, owner and date lines edited in place), a
published version retired (its status line, with a comment saying who and when). The file in the
workspace's ``processes/`` folder is the record: ``git`` in the workspace shows the change. The
web app's audit log is not written here (these commands need no store).
"""

from __future__ import annotations

import datetime as dt
import getpass
from typing import Annotated

import typer
from rich.text import Text

from boflyt.commands.language import LangOption, chosen
from boflyt.console import console, friendly_errors
from boflyt.engine.definition.publishing import StatusChange, publish, retire
from boflyt.models.words import term, word
from boflyt.workspace import Workspace

__all__ = ["register", "version_app"]

ProcessArg = Annotated[str, typer.Argument(help="The process id, e.g. private_lease.")]
NumberArg = Annotated[int, typer.Argument(help="The version number, e.g. 3 for v3.yaml.")]
OwnerOpt = Annotated[
    str | None,
    typer.Option("--owner", help="Who publishes or retires it (default: your login name)."),
]

version_app = typer.Typer(
    name="version",
    help="Publish a draft version or retire a published one (edits the version file in place).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``version publish`` and ``version retire``."""
    app.add_typer(version_app, name="version")


def _print(change: StatusChange, lang: str | None) -> None:
    language = chosen(lang)
    version = change.version
    done = "published_done" if change.after.value == "published" else "retired_done"
    line = word(f"web_publish.{done}", language, process=version.process, number=version.version)
    arrow = f"{term(change.before, language)} → {term(change.after, language)}"
    console.print(Text(f"{line} ({arrow}; {change.path})"))


@version_app.command("publish")
def publish_(
    process: ProcessArg, number: NumberArg, owner: OwnerOpt = None, lang: LangOption = None
) -> None:
    """Publish draft v<N> of PROCESS: only when it has no problem; sets its status, owner and
    date. Published versions are never edited again."""
    with friendly_errors():
        root = Workspace.current().processes_dir
        change = publish(root, process, number, owner or getpass.getuser(), dt.datetime.now(dt.UTC))
    _print(change, lang)


@version_app.command("retire")
def retire_(
    process: ProcessArg, number: NumberArg, owner: OwnerOpt = None, lang: LangOption = None
) -> None:
    """Retire published v<N> of PROCESS: no new cases start on it; running cases go on."""
    with friendly_errors():
        root = Workspace.current().processes_dir
        change = retire(root, process, number, owner or getpass.getuser(), dt.datetime.now(dt.UTC))
    _print(change, lang)
