"""CLI commands for the tamper-evident record: ``boflyt audit verify`` and ``boflyt audit show``.

``verify`` walks the audit log and every live case's event chain
(:func:`boflyt.engine.store.audit.verify`): exit 0 with what it walked when both are whole, exit
1 naming the first entry that was changed, inserted or deleted (and how many more problems were
found). ``show --case ID`` lists who read and changed one case, oldest first (its
*innsynslogg*): when, who, for which organisation, what, from where; a case id prefix of at
least 6 characters is enough, as in the case commands. Neither ever shows a case reference.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import Engine

from boflyt.commands.language import LangOption, Words, chosen
from boflyt.console import console, err_console, friendly_errors
from boflyt.engine.case.bounds import visible
from boflyt.engine.store.audit import AuditRecord, case_log, verify
from boflyt.engine.store.queries import resolve_case_id
from boflyt.models.errors import NotFoundError
from boflyt.models.words import term
from boflyt.workspace import Workspace

__all__ = ["audit_app", "register"]

CaseOpt = Annotated[
    str, typer.Option("--case", help="The case's id, or a prefix of it (at least 6 characters).")
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print JSON (one object per entry) instead of a table.")
]

audit_app = typer.Typer(
    name="audit",
    help="Verify the audit log and the case event chains; show who read and changed a case.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``audit verify`` and ``audit show``."""
    app.add_typer(audit_app, name="audit")


def _store() -> Engine:
    return Workspace.current().open_store()


@audit_app.command("verify")
def verify_(lang: LangOption = None) -> None:
    """Walk the audit log and every live case's events: exit 0 when both chains are intact, 1
    naming the first entry that was changed, inserted or deleted."""
    words = Words("audit", chosen(lang))
    with friendly_errors():
        result = verify(_store())
    counts = {"entries": result.entries, "events": result.events, "cases": result.cases}
    if result.intact:
        console.print(Text(words["intact"].format(**counts)))
        return
    first, *rest = result.problems
    err_console.print(Text(words["broken"].format(problem=first)))
    if rest:
        err_console.print(Text(words["more"].format(count=len(rest))))
    err_console.print(Text(words["walked"].format(**counts)))
    raise typer.Exit(1)


def _case_id(engine: Engine, case: str) -> str:
    """The case's full id; an id no case row has any more is shown if the audit log names it."""
    try:
        return resolve_case_id(engine, case)
    except NotFoundError:
        if case_log(engine, case.strip().lower()):
            return case.strip().lower()
        raise


def _row(entry: AuditRecord) -> dict[str, str | int | None]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="seconds"),
        "actor": entry.actor,
        "org": entry.org,
        "action": entry.action.value,
        "detail": entry.detail,
        "address": entry.address,
    }


@audit_app.command("show")
def show(case: CaseOpt, json_out: JsonOpt = False, lang: LangOption = None) -> None:
    """List who read and changed a case, oldest first: when, who, organisation, what, from
    where."""
    words = Words("audit", chosen(lang))
    with friendly_errors():
        engine = _store()
        case_id = _case_id(engine, case)
        entries = case_log(engine, case_id)
    if json_out:
        rows = [{"case_id": case_id, **_row(entry)} for entry in entries]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not entries:
        console.print(Text(words["none"].format(case=case_id)))
        return
    table = Table(title=words["title"].format(case=case_id), title_justify="left")
    for heading in ("when", "who", "org", "what", "detail", "where"):
        table.add_column(words[heading])
    for entry in entries:
        table.add_row(
            entry.at.strftime("%Y-%m-%d %H:%M:%S"), Text(visible(entry.actor)),
            entry.org or "", term(entry.action, words.lang),
            Text(visible(entry.detail or "")), Text(visible(entry.address or words["cli"])),
        )  # fmt: skip
    console.print(table)
