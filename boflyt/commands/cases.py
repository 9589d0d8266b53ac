"""CLI commands for staff running cases: ``boflyt case …`` and ``boflyt inbox``.

The store is the one named by the settings (SQLite in the data directory unless
``BOFLYT_DATABASE_URL`` is set); the data directory and schema are created on first use, the
reference key only with a new store (:mod:`boflyt.engine.store.key`). A case reference may be a
national identity number, so it never appears on the command line (where ``ps`` shows it to
every local user) and is never printed back: it is read from standard input, or typed at a
prompt that does not echo it, and only its short keyed pseudonym is shown.

Every case command acts as an account of the store: ``--as`` names an active caseworker of the
organisation given with ``--org`` (or of its only one), the rule the web app obeys too
(:func:`boflyt.engine.store.accounts.check_actor`).

Input is checked by the store (:mod:`boflyt.engine.case.bounds`) against the library's lanes; output
is built as rich ``Text``, never as markup, and every stored or typed value goes through
:func:`boflyt.engine.case.bounds.visible`, so a name such as ``[/]`` or one holding a line break
prints literally, on its own line.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import Engine

from boflyt.commands.language import LangOption, Words, chosen
from boflyt.console import console, friendly_errors
from boflyt.engine.calendar import WorkCalendar
from boflyt.engine.case import bounds
from boflyt.engine.case.deadlines import due_items
from boflyt.engine.case.decide import CaseState, open_items
from boflyt.engine.case.migration import CasePlan, CaseResult
from boflyt.engine.definition.load import Library, load_library
from boflyt.engine.store import accounts
from boflyt.engine.store import case_migration as migration
from boflyt.engine.store import commands as store
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.definition import Version
from boflyt.models.errors import CommandError, NotFoundError
from boflyt.models.events import Event
from boflyt.models.vocabulary import Channel, EventKind, ItemStatus, RunStatus
from boflyt.models.words import Language, count, format_duration, format_number, term, word
from boflyt.visualize.wording import outcome_text
from boflyt.web.inbox import EntryDue, entry_due
from boflyt.workspace import Workspace

__all__ = ["register"]

Actor = Annotated[
    str,
    typer.Option("--as", help="Your account: an active caseworker of the organisation "
                 "('boflyt user add' makes one, 'boflyt user list' shows them)."),
]  # fmt: skip
Org = Annotated[
    str | None,
    typer.Option("--org", help="The organisation you act for (lane id, e.g. nav); may be left "
                 "out when your account acts for one organisation only."),
]  # fmt: skip
CaseArg = Annotated[str, typer.Argument(help="Case id, or its first 6+ characters.")]
StepArg = Annotated[str, typer.Argument(help="Step id, as listed by 'boflyt inbox'.")]
LangOpt = LangOption
AtOpt = Annotated[
    dt.datetime | None,
    typer.Option("--at", help="When it happened (ISO, UTC) if not now, for late records."),
]


_CHANNELS = frozenset(channel.value for channel in Channel)


@dataclass(frozen=True)
class _Store:
    engine: Engine
    key: ReferenceKey
    library: Library
    lang: Language
    calendar: WorkCalendar
    """The workspace's working calendar, with its closed days: due dates are counted on it."""

    def lane(self, lane_id: str | None) -> str:
        lane = self.library.lanes.get(lane_id or "")
        return _v(lane.name.get(self.lang) if lane else (lane_id or ""))

    def version(self, state: CaseState) -> Version:
        return store.get_version(self.engine, process=state.process, version=state.version)

    def step(self, version: Version, step_id: str | None) -> str:
        try:
            return _v(version.step(step_id or "").name.get(self.lang))
        except KeyError:
            return _v(step_id or "")


def _v(value: object) -> str:
    """A stored or typed value as it prints: control characters escaped (one line, literal)."""
    return bounds.visible("" if value is None else str(value))


def _open(lang: str | None) -> _Store:
    """The configured store and key (created on first use) and the process library."""
    workspace = Workspace.current()
    engine = workspace.open_store()
    key = workspace.reference_key(engine)
    library = load_library(workspace.processes_dir)
    return _Store(engine, key, library, chosen(lang), workspace.calendar())


def read_reference(lang: str | None = None) -> str:
    """The case reference: one line of standard input, or typed at a prompt that hides it.

    Raises:
        CommandError: no reference was given.
    """
    if sys.stdin.isatty():
        prompt = word("case.prompt", chosen(lang))
        text = str(typer.prompt(prompt, hide_input=True, default="", show_default=False))
    else:
        text = sys.stdin.readline()
    if not text.strip():
        raise CommandError(
            "no case reference given; type it at the prompt or pass it on standard input, "
            "e.g. boflyt case start PROCESS … < ref.txt"
        )
    return text.strip()


def _now(at: dt.datetime | None) -> dt.datetime:
    return at if at is not None else dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _print_next(ctx: _Store, state: CaseState) -> None:
    """The case's status line and what is open now, with the lane that acts."""
    version = ctx.version(state)
    words = Words("case", ctx.lang)
    console.print(Text.assemble(f"{words['case']} ", (state.case_id, "bold"),
                                f" · {_v(state.process)}@v{state.version} · "
                                f"{term(state.status, ctx.lang)}"))  # fmt: skip
    if state.status is RunStatus.RUNNING:
        items = open_items(state)
        listed = Text(f"{words['ready']}: " + ("" if items else words["none"]))
        for n, i in enumerate(items):
            listed.append("; " if n else "")
            listed.append(_v(i.step), style="cyan")
            listed.append(f" {ctx.step(version, i.step)} ({ctx.lane(version.step(i.step).lane)})")
            if i.status is ItemStatus.STARTED:
                listed.append(f" {words['begun']}", style="yellow")
        console.print(listed, soft_wrap=True)


def _acting(ctx: _Store, actor: str, org: str | None) -> str:
    """The organisation ``actor`` acts for: ``org``, or the account's only one when it is left out.

    The account must be an active caseworker of that organisation
    (:func:`boflyt.engine.store.accounts.check_actor`, the rule the web app obeys too).

    Raises:
        AccessError: no such active account, or not a caseworker of ``org``.
        CommandError: ``org`` left out and the account acts for several organisations.
    """
    if org is None:
        account = accounts.get_account(ctx.engine, actor)
        if account is not None and len(account.orgs) > 1:
            raise CommandError(
                f"account '{_v(actor)}' acts for {', '.join(account.orgs)}; say which with --org"
            )
        org = account.orgs[0] if account is not None and account.orgs else ""
    if org:
        bounds.check_known_org(org, ctx.library.lanes.ids)  # a typo gets its suggestion first
    accounts.check_actor(ctx.engine, actor, org)
    return org


def _record(
    lang: str | None, case: str, actor: str, org: str | None,
    act: Callable[[_Store, str, str], CaseState],
) -> None:  # fmt: skip
    """Open the store, check the account, resolve ``case`` (id or prefix), record ``act`` on it
    for the acting organisation, print what is next."""
    with friendly_errors():
        ctx = _open(lang)
        acting = _acting(ctx, actor, org)
        state = act(ctx, store.resolve_case_id(ctx.engine, case), acting)
        _print_next(ctx, state)


def register(app: typer.Typer) -> None:
    """Add ``case`` (start, begin, complete, show, list, cancel, migrate) and ``inbox``."""
    cases = typer.Typer(help="Run cases: start, begin and complete steps, show, list, cancel.",
                        no_args_is_help=True)  # fmt: skip
    app.add_typer(cases, name="case")
    app.command("inbox", help="Work waiting for an organisation, oldest first.")(inbox)
    for name, command, text in (
        ("start", start, "Start a case on a process (newest published version); the case "
                         "reference is read from standard input or a hidden prompt."),
        ("begin", begin, "Record that you have begun work on a ready step."),
        ("complete", complete, "Complete a step (a decision needs --outcome)."),
        ("show", show, "A case's timeline with handoffs and waits; --ref finds the case by its "
                       "reference (read like 'case start' reads it)."),
        ("list", list_, "Cases, newest first."),
        ("cancel", cancel, "Cancel a running case."),
        ("migrate", migrate, "Move running cases from one version to another: --dry-run shows "
                             "where each stands, where it will stand and what to know first."),
    ):  # fmt: skip
        cases.command(name, help=text)(command)


def start(
    process: Annotated[str, typer.Argument(help="Process id, e.g. private_lease.")],
    actor: Actor,
    org: Org = None,
    version: Annotated[int | None, typer.Option("--version", help="Version number.")] = None,
    at: AtOpt = None,
    lang: LangOpt = None,
) -> None:
    """Start a case. The case reference (stored only keyed) is read from standard input, or
    typed at a prompt that does not show it — never given on the command line."""
    with friendly_errors():
        ref = read_reference(lang)
        bounds.check_text(process, what="process", limit=bounds.MAX_ID)
        ctx = _open(lang)
        acting = _acting(ctx, actor, org)
        chosen = ctx.library.get(process, version)
        state = store.start_case(ctx.engine, version=chosen, ref=ref, key=ctx.key, actor=actor,
                                 org=acting, now=_now(at), lanes=ctx.library.lanes)  # fmt: skip
        words = Words("case", ctx.lang)
        console.print(Text(f"{words['started']} {state.case_id} · {words['ref']} "
                           f"{ctx.key.pseudonym(ref)[:10]}"), soft_wrap=True)  # fmt: skip
        _print_next(ctx, state)


def begin(case: CaseArg, step: StepArg, actor: Actor, org: Org = None, at: AtOpt = None,
          lang: LangOpt = None) -> None:  # fmt: skip
    _record(lang, case, actor, org, lambda ctx, case_id, acting: store.begin_step(
        ctx.engine, case_id=case_id, step=step, actor=actor, org=acting, now=_now(at),
        lanes=ctx.library.lanes))  # fmt: skip


def complete(
    case: CaseArg,
    step: StepArg,
    actor: Actor,
    org: Org = None,
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="The decision's outcome.")
    ] = None,
    minutes: Annotated[
        float | None,
        typer.Option("--minutes", help="Hands-on minutes spent (0 to 10000)."),
    ] = None,
    note: Annotated[
        str | None,
        typer.Option(
            "--note",
            help="A short remark kept with the completion (one line, at most "
            "500 characters; never a national identity number).",
        ),
    ] = None,
    at: AtOpt = None,
    lang: LangOpt = None,
) -> None:
    _record(lang, case, actor, org, lambda ctx, case_id, acting: store.complete_step(
        ctx.engine, case_id=case_id, step=step, actor=actor, org=acting, now=_now(at),
        outcome=outcome, touch_minutes=minutes, note=note, lanes=ctx.library.lanes))  # fmt: skip


def cancel(
    case: CaseArg,
    actor: Actor,
    org: Org = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why.")] = None,
    at: AtOpt = None,
    lang: LangOpt = None,
) -> None:
    _record(lang, case, actor, org, lambda ctx, case_id, acting: store.cancel_case(
        ctx.engine, case_id=case_id, actor=actor, org=acting, now=_now(at),
        reason=reason, lanes=ctx.library.lanes))  # fmt: skip


def inbox(
    org: Annotated[str, typer.Argument(help="Organisation (lane id), e.g. housing_office.")],
    at: AtOpt = None,
    lang: LangOpt = None,
) -> None:
    with friendly_errors():
        ctx = _open(lang)
        now = _now(at)
        entries = store.inbox(ctx.engine, org=org, now=now, lanes=ctx.library.lanes)
        table = Table(title=Text(f"{ctx.lane(org)} ({len(entries)})"), title_justify="left")
        for column in ("case", "process", "step", "status", "waiting"):
            table.add_column(word(f"field.{column}", ctx.lang))
        table.add_column(Words("case", ctx.lang)["due"])
        table.add_column("")
        for e in entries:
            version = store.get_version(ctx.engine, process=e.process, version=e.version)
            found = entry_due(ctx.engine, e, version, ctx.calendar, now)
            mark = "⚠" if found.overdue or e.escalated else "⏰" if e.reminded else ""
            cells = (e.case_id[:8], f"{_v(e.process)}@v{e.version}",
                     f"{_v(e.step)} · {ctx.step(version, e.step)}", term(e.status, ctx.lang),
                     format_duration(e.waited, ctx.lang), _due_text(ctx, found),
                     mark)  # fmt: skip
            table.add_row(*(Text(cell) for cell in cells))
        console.print(table)


def _due_text(ctx: _Store, found: EntryDue) -> str:
    """When work is due, as the inbox shows it: a deadline's day and its legal basis, or the
    wait rule's instant; ``overdue`` in front when it is past."""
    if found.due is None:
        return ""
    words = Words("case", ctx.lang)
    when = f"{found.due:%Y-%m-%d}" if found.deadline else f"{found.due:%Y-%m-%d %H:%M}"
    late = f"{words['overdue']} " if found.overdue else ""
    basis = f" ({_v(found.basis)})" if found.basis else ""
    return f"{late}{when}{basis}"


def list_(
    process: Annotated[str | None, typer.Option("--process", help="Only this process.")] = None,
    status: Annotated[
        RunStatus | None, typer.Option("--status", help="running, finished or cancelled.")
    ] = None,
    lang: LangOpt = None,
) -> None:
    with friendly_errors():
        ctx = _open(lang)
        found = store.list_cases(ctx.engine, process=process, status=status)
        table = Table(title=count("word.cases", len(found), ctx.lang), title_justify="left")
        for column in ("case", "process", "status", "started", "finished", "ref"):
            table.add_column(word(f"field.{column}", ctx.lang))
        for c in found:
            finished = f"{c.finished_at:%Y-%m-%d %H:%M}" if c.finished_at else ""
            cells = (c.id[:8], f"{_v(c.process)}@v{c.version}", term(c.status, ctx.lang),
                     f"{c.started_at:%Y-%m-%d %H:%M}", finished,
                     (c.pseudonym or "")[:10])  # fmt: skip
            table.add_row(*(Text(cell) for cell in cells))
        console.print(table)


def show(
    case: Annotated[
        str | None, typer.Argument(help="Case id, or its first 6+ characters.")
    ] = None,
    ref: Annotated[
        bool,
        typer.Option("--ref", help="Find the case by its reference, read from standard input "
                     "or a hidden prompt (never give it on the command line)."),
    ] = False,
    lang: LangOpt = None,
) -> None:  # fmt: skip
    with friendly_errors():
        if ref == (case is not None):  # the argument is not repeated: it may be a reference
            raise CommandError("give either a case id (or its first 6+ characters) or --ref")
        ctx = _open(lang)
        case_id = _by_reference(ctx) if ref else store.resolve_case_id(ctx.engine, case or "")
        state = store.get_case(ctx.engine, case_id)
        version = ctx.version(state)
        events = store.case_timeline(ctx.engine, state.case_id)
        console.print(Text.assemble((_v(version.name.get(ctx.lang)), "bold"),
                                    f" · {version.key} ({_v(version.label)}) · "
                                    f"{state.content_hash[:12]}"), soft_wrap=True)  # fmt: skip
        ready_at = {i.number: i.ready_at for i in state.items}
        implicit = {e.item for e in events if e.kind is EventKind.STEP_STARTED and e.detail}
        for event in events:
            if event.kind is EventKind.STEP_STARTED and event.item in implicit:
                continue  # completing a ready step began it: one line says both
            waited = event.kind is EventKind.STEP_STARTED or (
                event.kind is EventKind.STEP_COMPLETED and event.item in implicit
            )
            line = _line(ctx, version, event, ready_at if waited else {})
            console.print(line, soft_wrap=True)
        _print_next(ctx, state)
        if state.status is RunStatus.RUNNING:
            _print_dues(ctx, version, state, events)


def _print_dues(ctx: _Store, version: Version, state: CaseState, events: list[Event]) -> None:
    """When each open step is due (:func:`~boflyt.engine.case.deadlines.due_items`): a declared
    deadline as its day with its legal basis, the wait rule as an instant."""
    now = _now(None)
    found = due_items(version, state, now=now, calendar=ctx.calendar, events=events)
    if not found:
        return
    words = Words("case", ctx.lang)
    listed = Text(f"{words['dues']}: ")
    for n, due in enumerate(found):
        listed.append("; " if n else "")
        listed.append(_v(due.step), style="cyan")
        when = f"{due.due_at:%Y-%m-%d}" if due.declared else f"{due.due_at:%Y-%m-%d %H:%M}"
        listed.append(f" {words['due']} {when}")
        if due.basis:
            listed.append(f" ({words['basis']}: {_v(due.basis)})")
        if due.overdue:
            listed.append(f" ⚠ {words['overdue']}", style="red")
    console.print(listed, soft_wrap=True)


def _by_reference(ctx: _Store) -> str:
    """The id of the one case started with the reference read from stdin or a hidden prompt."""
    found = store.find_case_by_ref(ctx.engine, ref=read_reference(), key=ctx.key)
    if not found:
        raise NotFoundError("no case has that reference")
    if len(found) > 1:
        listed = ", ".join(f"{c.id[:8]} {c.process} {c.status.value}" for c in found)
        raise CommandError(f"{len(found)} cases have that reference ({listed}); show one by id")
    return found[0].id


def _line(ctx: _Store, version: Version, e: Event, ready_at: dict[int, dt.datetime]) -> Text:
    """One timeline line, as plain ``Text``: stored values print literally, never as markup."""
    when = f"{e.at:%Y-%m-%d %H:%M}"
    if e.kind is EventKind.HANDOFF:
        channel = e.channel or ""
        if channel in _CHANNELS:
            channel = term(Channel(channel), ctx.lang)
        via = f" ({_v(channel)})" if channel else ""
        return Text.assemble(f"{when}   ",
                             (f"↪ {ctx.lane(e.from_lane)} → {ctx.lane(e.to_lane)}{via}", "magenta"),
                             f"  {_v(e.from_step)} → {_v(e.to_step)}")  # fmt: skip
    words = Words("case", ctx.lang)
    text = Text(f"{when}  {term(e.kind, ctx.lang):<14}")
    if e.step and e.kind not in (EventKind.CASE_FINISHED,):
        text.append(f" {ctx.step(version, e.step)} ")
        text.append(f"({_v(e.step)})", style="dim")
    if e.actor or (e.org and e.kind is not EventKind.STEP_COMPLETED):
        text.append(f" · {_v(e.actor)} {ctx.lane(e.org)}".rstrip())
    if e.item in ready_at:
        text.append(f" · {words['waited']} {format_duration(e.at - ready_at[e.item], ctx.lang)}")
    if e.outcome:
        text.append(f" · {word('field.outcome', ctx.lang)}: ")
        text.append(_v(outcome_text(version, e.step or "", e.outcome, ctx.lang)), style="bold")
    if e.touch_minutes is not None:
        minutes = format_number(e.touch_minutes, ctx.lang, None)
        text.append(f" · {words['work']} {minutes} {word('unit.min', ctx.lang)}")
    if e.detail and e.kind in (
        EventKind.CASE_CANCELLED,
        EventKind.STEP_ESCALATED,
        EventKind.STEP_COMPLETED,
        EventKind.CASE_MIGRATED,
    ):  # a reason, the system's, a note, the versions and mapped steps
        text.append(f" · {_v(e.detail)}")
    return text


def _version_of(ctx: _Store, text: str, option: str) -> Version:
    """The version ``PROCESS@vN`` (or ``PROCESS@N``) names in the library."""
    process, at, number = text.partition("@")
    digits = number.removeprefix("v")
    if not at or not process or not digits.isdigit():
        raise CommandError(f"{option} {_v(text)}: expected PROCESS@vN, e.g. private_lease@v1")
    return ctx.library.get(process, int(digits))


def _mapping(pairs: list[str]) -> dict[str, str]:
    """``old=new`` pairs as a dict; :class:`CommandError` naming a malformed or repeated one."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, eq, new = pair.partition("=")
        if not eq or not old.strip() or not new.strip():
            raise CommandError(f"--map {_v(pair)}: expected OLD_STEP=NEW_STEP")
        if old.strip() in mapping:
            raise CommandError(f"--map names step '{_v(old.strip())}' twice")
        mapping[old.strip()] = new.strip()
    return mapping


def migrate(
    source: Annotated[
        str, typer.Option("--from", help="The version the cases run on now, e.g. private_lease@v1.")
    ],
    target: Annotated[
        str,
        typer.Option("--to", help="The published version to move them to, e.g. private_lease@v2."),
    ],
    actor: Annotated[
        str,
        typer.Option(
            "--as",
            help="Your account: an active process owner ('boflyt user add NAME "
            "--org ORG --role process_owner' makes one).",
        ),
    ],
    case: Annotated[
        list[str] | None,
        typer.Option(
            "--case",
            help="Only this case (id or its first 6+ characters); repeat for "
            "more. Default: every running case of --from.",
        ),
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="OLD=NEW: work standing on step OLD (which --to may lack) moves "
            "to step NEW of --to; repeat for more.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show the plan; change nothing.")
    ] = False,
    lang: LangOpt = None,
) -> None:
    """Move running cases from one version to another: --dry-run shows where each stands, where
    it will stand and what to know first."""
    with friendly_errors():
        ctx = _open(lang)
        migration.check_owner(ctx.engine, actor)
        old, new = _version_of(ctx, source, "--from"), _version_of(ctx, target, "--to")
        ids = [store.resolve_case_id(ctx.engine, c) for c in case] if case else None
        given = _mapping(mapping or [])
        plans = migration.plan_migrations(ctx.engine, source=old, target=new, case_ids=ids,
                                          mapping=given, lanes=ctx.library.lanes)  # fmt: skip
        words = Words("migrate", ctx.lang)
        if not plans:
            console.print(Text(word("migrate.none", ctx.lang, source=old.key)))
            return
        results = None
        if not dry_run:
            results = {r.case_id: r for r in migration.apply_migrations(
                ctx.engine, source=old, target=new, case_ids=[p.case_id for p in plans],
                mapping=given, actor=actor, lanes=ctx.library.lanes)}  # fmt: skip
        _print_plans(ctx, plans, results, old.key, new.key)
        if results is None:
            console.print(Text(words["dry_run"]), soft_wrap=True)
            return
        moved = sum(r.migrated for r in results.values())
        console.print(Text(word("migrate.summary", ctx.lang, moved=moved, total=len(plans))))
        if moved < len(plans):
            raise typer.Exit(1)


def _print_plans(
    ctx: _Store,
    plans: list[CasePlan],
    results: dict[str, CaseResult] | None,
    source: str,
    target: str,
) -> None:
    """A block per case: where it stands, where it will stand, what to know (or why not), and
    whether it moved; one line each, so long warnings wrap as sentences."""
    words = Words("migrate", ctx.lang)
    title = word("migrate.title", ctx.lang, source=source, target=target)
    console.print(Text(title, style="bold"), soft_wrap=True)
    for plan in plans:
        result = results.get(plan.case_id) if results is not None else None
        head = Text.assemble(f"{words['case']} ", (plan.case_id, "bold"))
        if result is not None:
            moved = result.migrated
            head.append(f" · {words['moved'] if moved else words['untouched']}",
                        style="green" if moved else "red")  # fmt: skip
        console.print(head, soft_wrap=True)
        console.print(Text(f"  {words['now']}: {', '.join(map(_v, plan.now)) or '-'}"),
                      soft_wrap=True)  # fmt: skip
        reason = plan.refused or (result.reason if result else None)
        if reason:
            console.print(Text(f"  {words['refused']}: {_v(reason)}", style="red"), soft_wrap=True)
            continue
        console.print(Text(f"  {words['after']}: {', '.join(map(_v, plan.after)) or '-'}"),
                      soft_wrap=True)  # fmt: skip
        for warning in plan.warnings:
            console.print(Text(f"  - {_v(warning.text(ctx.lang))}"), soft_wrap=True)
