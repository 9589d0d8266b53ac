"""CLI commands for notices: ``boflyt outbox send|list|requeue`` and ``boflyt deadlines run``.

``outbox send`` sends the due e-mail notices through the SMTP server of ``BOFLYT_SMTP_HOST``
(:mod:`boflyt.flows.outbox`), after settling the rows of a worker that died; ``outbox list``
shows the rows (never a reference: a case id, process, step and due date); ``outbox requeue ID``
is the operator's decision to send an ``uncertain`` or ``failed`` row again, after looking for
its Message-ID in the mail server's log. ``deadlines run`` does what the scheduled
``deadline-notices`` flow does, once, without Prefect: reminders and escalations by the steps'
deadlines, then the outbox (:mod:`boflyt.flows.deadlines`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from boflyt.commands.language import LangOption, Words, chosen
from boflyt.console import console, fail, friendly_errors
from boflyt.models.vocabulary import OutboxStatus
from boflyt.models.words import term
from boflyt.workspace import Workspace

__all__ = ["deadlines_app", "outbox_app", "register"]

JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print JSON (one object per row) instead of a table.")
]
LimitOpt = Annotated[
    int, typer.Option("--limit", min=1, max=100_000, help="At most this many rows.")
]
StatusOpt = Annotated[
    list[OutboxStatus] | None,
    typer.Option("--status", help="Only rows in this state; repeatable.", case_sensitive=False),
]

outbox_app = typer.Typer(
    name="outbox",
    help="E-mail notices (reminders, escalations, handoffs): send, list, requeue.",
    no_args_is_help=True,
)
deadlines_app = typer.Typer(
    name="deadlines",
    help="Remind before steps' deadlines, escalate after them and send the outbox, once.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``outbox send|list|requeue`` and ``deadlines run``."""
    app.add_typer(outbox_app, name="outbox")
    app.add_typer(deadlines_app, name="deadlines")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@outbox_app.command("send")
def send(limit: LimitOpt = 1000, lang: LangOption = None) -> None:
    """Send the due notices by SMTP (BOFLYT_SMTP_HOST); a notice is never sent twice."""
    from boflyt.engine.store.outbox import recipients_of
    from boflyt.flows.outbox import send_outbox, smtp_server

    words = Words("outbox", chosen(lang))
    with friendly_errors():
        workspace = Workspace.current()
        server = smtp_server(workspace.settings)
        if server is None:
            fail(words["no_smtp"])
        engine = workspace.open_store()
        try:
            report = send_outbox(engine, recipients_of(engine), server,
                                 base_url=workspace.settings.base_url,
                                 lang=workspace.settings.lang, now=_now, limit=limit)  # fmt: skip
        finally:
            engine.dispose()
    if report.recovered or report.held:
        console.print(Text(words["recovered"].format(again=report.recovered, held=report.held)))
    counts = {"sent": report.sent, "retry": report.retry, "failed": report.failed,
              "uncertain": report.uncertain}  # fmt: skip
    console.print(Text(words["sent"].format(**counts)))
    if report.failed or report.uncertain:
        raise typer.Exit(1)


@outbox_app.command("list")
def list_(
    status: StatusOpt = None, limit: LimitOpt = 100, json_out: JsonOpt = False,
    lang: LangOption = None,
) -> None:  # fmt: skip
    """List the outbox, newest first: what, to whom, which case and step, state, last error."""
    from boflyt.engine.store.outbox import list_outbox

    words = Words("outbox", chosen(lang))
    with friendly_errors():
        engine = Workspace.current().open_store()
        try:
            rows = list_outbox(engine, statuses=tuple(status or ()), limit=limit)
        finally:
            engine.dispose()
    if json_out:
        shown = [{
            "id": r.id, "kind": r.kind.value, "org": r.org, "case_id": r.case_id,
            "process": r.process, "version": r.version, "step": r.step,
            "due_at": r.due_at.isoformat() if r.due_at else None, "status": r.status.value,
            "attempts": r.attempts, "message_id": r.message_id,
            "sent_at": r.sent_at.isoformat() if r.sent_at else None, "last_error": r.last_error,
        } for r in rows]  # fmt: skip
        typer.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print(Text(words["none"]))
        return
    table = Table(title=words["title"].format(count=len(rows)), title_justify="left")
    for heading in ("id", "kind", "org", "case", "step", "due", "status", "attempts", "error"):
        table.add_column(words[heading])
    for r in rows:
        table.add_row(
            str(r.id), term(r.kind, words.lang), r.org, r.case_id[:8],
            f"{r.process}@v{r.version} {r.step or ''}",
            f"{r.due_at:%Y-%m-%d %H:%M}" if r.due_at else "", term(r.status, words.lang),
            str(r.attempts),
            Text(r.last_error or ""),
        )  # fmt: skip
    console.print(table)


@outbox_app.command("requeue")
def requeue(
    row: Annotated[int, typer.Argument(help="The row's number (boflyt outbox list).")],
    lang: LangOption = None,
) -> None:
    """Send an uncertain or failed row again (check the mail server's log for its Message-ID
    first: an uncertain row may have been delivered)."""
    from boflyt.engine.store.outbox import requeue as requeue_row

    words = Words("outbox", chosen(lang))
    with friendly_errors():
        engine = Workspace.current().open_store()
        try:
            moved = requeue_row(engine, row, now=_now())
        finally:
            engine.dispose()
    if moved is None:
        fail(words["not_requeued"].format(id=row))
    console.print(Text(words["requeued"].format(id=row)))


@deadlines_app.command("run")
def run(
    ahead_days: Annotated[
        float, typer.Option("--ahead-days", min=0, max=60,
                            help="Remind this many working days before a deadline.")
    ] = 2,
    now: Annotated[
        str | None, typer.Option("--now", help="As of this time (ISO, UTC; default: now).")
    ] = None,
    send_mail: Annotated[
        bool, typer.Option("--send/--no-send", help="Send the outbox afterwards (needs SMTP).")
    ] = True,
    lang: LangOption = None,
) -> None:  # fmt: skip
    """Remind and escalate by the steps' deadlines, then send the outbox; nothing on a closed
    day."""
    from boflyt.flows.deadlines import run_deadlines

    words = Words("outbox", chosen(lang))
    moment = None
    if now is not None:
        try:
            moment = dt.datetime.fromisoformat(now)
        except ValueError:
            fail(f"--now: found {now!r}; allowed: an ISO date-time, e.g. 2026-05-18T07:00")
    with friendly_errors():
        result = run_deadlines(Workspace.current(), now=moment, ahead_days=ahead_days,
                               send=send_mail)  # fmt: skip
    if result.closed:
        console.print(Text(words["closed_day"].format(day=result.day.isoformat())))
        return
    console.print(Text(words["scanned"].format(day=result.day.isoformat(),
                                               reminded=result.reminded,
                                               escalated=result.escalated,
                                               skipped=result.skipped)))  # fmt: skip
    sent = result.sent
    if sent is None:
        console.print(Text(words["not_sent"]))
        return
    console.print(Text(words["sent"].format(sent=sent.sent, retry=sent.retry, failed=sent.failed,
                                            uncertain=sent.uncertain)))  # fmt: skip
