"""CLI command ``boflyt retention run``: remove the personal links of cases past their period.

The periods are the workspace's (``[retention]`` in ``boflyt.toml``,
:meth:`boflyt.workspace.Workspace.retention_policy`). ``--dry-run`` lists the ended cases whose
link would go (case id, process version, how it ended, when, the period, when it expired) and
changes nothing; without it :func:`boflyt.engine.store.retention.remove_links` sets their
reference pseudonym to NULL, batch by batch, each removal an audit entry by ``operator``. The
events are kept, so analysis still counts the cases; ``case show --ref`` no longer finds them.
Nothing printed names a reference or a pseudonym.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from boflyt.commands.language import LangOption, Words, chosen
from boflyt.console import console, friendly_errors
from boflyt.engine.store.retention import (
    ExpiredCase,
    expired_cases,
    expires_at,
    remove_links,
)
from boflyt.engine.store.statements import utc
from boflyt.models.words import term
from boflyt.workspace import Workspace

__all__ = ["register", "retention_app"]

DryRunOpt = Annotated[
    bool,
    typer.Option("--dry-run", help="List the cases whose link would be removed; change nothing."),
]
NowOpt = Annotated[
    dt.datetime | None,
    typer.Option("--now", help="Count the periods up to this moment (ISO, UTC) instead of now."),
]

retention_app = typer.Typer(
    name="retention",
    help="Remove the link to the person (the reference pseudonym) of cases ended longer ago "
    "than their process keeps them; the anonymous events stay.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``retention run``."""
    app.add_typer(retention_app, name="retention")


def _present() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@retention_app.command("run")
def run(dry_run: DryRunOpt = False, now: NowOpt = None, lang: LangOption = None) -> None:
    """Remove the links of every ended case past its process's retention period (boflyt.toml's
    [retention]), each removal recorded in the audit log; --dry-run only lists them."""
    words = Words("retention", chosen(lang))
    with friendly_errors():
        workspace = Workspace.current()
        policy = workspace.retention_policy()
        if policy.empty:
            console.print(Text(words["none_configured"]))
            return
        moment = utc(now) if now is not None else _present()
        engine = workspace.open_store()
        try:
            if dry_run:
                _list(expired_cases(engine, policy, now=moment), words)
                return
            done = remove_links(engine, policy, now=moment, audit_now=_present())
        finally:
            engine.dispose()
    if not done.removed:
        console.print(Text(words["nothing"]))
        return
    console.print(Text(words["removed"].format(count=len(done.removed), batches=done.batches)))


def _list(cases: list[ExpiredCase], words: Words) -> None:
    """The dry run's table and its count."""
    if not cases:
        console.print(Text(words["nothing"]))
        return
    table = Table(title=words["title"], title_justify="left")
    for heading in ("case", "version", "status", "ended", "period", "expired"):
        table.add_column(words[heading])
    for case in cases:
        table.add_row(
            case.case_id, f"{case.process}@v{case.version}", term(case.status, words.lang),
            case.ended_at.strftime("%Y-%m-%d"), str(case.period),
            expires_at(case.ended_at, case.period).strftime("%Y-%m-%d"),
        )  # fmt: skip
    console.print(table)
    console.print(Text(words["would"].format(count=len(cases))))
