"""The facilitators' process pages (issue 13): the process catalogue and a version's page.

Read-only, for facilitators, process owners and caseworkers alike (an admin without those roles
gets 403). The catalogue lists every process of the library with its versions, status, owner and
headline figures three ways: designed (:mod:`boflyt.analysis.design`), simulated (the version's
newest simulation) and registered (its live cases; fewer than
:data:`~boflyt.web.process_figures.MIN_CASES` finished cases shown as "–" with a note). A
version's page shows its swimlane inline (pan and zoom by :file:`static/zoom.js`; a step's
details come from the htmx fragment ``…/steps/{step}``), the value-stream ladder of the design
and of the registered cases, the waste table, and downloads: the swimlane as SVG and PNG, the
steps and wastes as CSV. Every picture is cached by the version's content hash
(:mod:`boflyt.web.process_figures`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response

from boflyt.analysis.waste import duplicate_registrations, wastes_by_category
from boflyt.engine.definition.diff_text import format_value
from boflyt.engine.definition.library import BrokenFile
from boflyt.models.definition import Duration, Version
from boflyt.models.errors import DefinitionError, NotFoundError
from boflyt.models.vocabulary import Role
from boflyt.models.words import Language, format_number, term, word
from boflyt.web import process_figures as figures
from boflyt.web.page_kit import ctx, lane_name, lang_of, render, with_role, with_session
from boflyt.web.process_figures import Figures, StepStats

if TYPE_CHECKING:
    from boflyt.engine.store.accounts import Account
    from boflyt.web.sessions import Session

__all__ = ["READERS", "router"]

router = APIRouter()

READERS = (Role.FACILITATOR, Role.PROCESS_OWNER, Role.CASEWORKER)
"""Who may read the process pages."""

_VERSION = "/processes/{process}/versions/{number}"


@dataclass(frozen=True)
class VersionRow:
    """One line of the catalogue: a version (or a broken file) and its headline figures."""

    number: int | None
    label: str
    status: str
    owner: str
    date: str
    designed: Figures | None = None
    simulated: Figures | None = None
    registered: Figures | None = None


def _words(lang: Language) -> Any:
    """``p('key', …)``: a word of the catalogue's ``[web_process]`` section."""
    return lambda key, **fields: word(f"web_process.{key}", lang, **fields)


def _number(lang: Language) -> Any:
    """``num(value, digits=1)``: a number as the language writes it, "–" for none."""
    return lambda value, digits=1: "–" if value is None else format_number(value, lang, digits)


def _page(
    request: Request,
    account: Account,
    session: Session,
    template: str,
    status: int = 200,
    **values: Any,
) -> Response:
    lang = lang_of(request)
    page = render(request, template, status, account=account, p=_words(lang), num=_number(lang),
                  **values)  # fmt: skip
    return with_session(request, page, session)


def _base(version: Version) -> str:
    """The address of a version's page."""
    return f"/processes/{version.process}/versions/{version.version}"


def _events(request: Request, version: Version) -> int:
    """The version's registered events: the key of its cached registered figures."""
    counts = figures.live_event_counts(ctx(request).engine, version.process)
    return counts.get((version.process, version.version), 0)


def _not_found(request: Request, account: Account, session: Session) -> Response:
    message = word("web_process.not_found", lang_of(request))
    page = render(request, "message.html", 404, account=account, message=message)
    return with_session(request, page, session)


def _version(request: Request, process: str, number: str) -> Version | None:
    """The version the URL names; None for an unknown or broken one (the URL is not echoed)."""
    if not number.isdigit():
        return None
    try:
        return ctx(request).library.get(process, int(number))
    except (NotFoundError, DefinitionError):
        return None


def _rows(request: Request, process: str, lang: Language) -> list[VersionRow]:
    context = ctx(request)
    library, engine = context.library, context.engine
    counts = figures.live_event_counts(engine)
    sims = figures.latest_simulations(engine)
    rows = []
    for entry in library.entries(process):
        if isinstance(entry, BrokenFile):
            rows.append(VersionRow(entry.number, entry.name, word("version_status.broken", lang),
                                   "", ""))  # fmt: skip
            continue
        sim = sims.get((process, entry.version))
        rows.append(VersionRow(
            entry.version, entry.label, term(entry.status, lang), entry.owner,
            entry.date.isoformat(), figures.designed_figures(entry, library.lanes),
            figures.simulated_figures(engine, entry, sim) if sim else None,
            figures.registered_figures(engine, entry, counts.get((process, entry.version), 0)),
        ))  # fmt: skip
    return rows


@router.get("/processes")
def catalogue(request: Request) -> Response:
    """Every process with its versions and headline figures."""
    found = with_role(request, *READERS)
    if isinstance(found, Response):
        return found
    lang, library = lang_of(request), ctx(request).library
    processes = []
    for process in sorted({*library.processes(), *library.broken}):
        loaded = library.versions(process)
        name = loaded[-1].name.get(lang) if loaded else process
        processes.append((process, name, _rows(request, process, lang)))
    return _page(request, *found, "process_catalogue.html", processes=processes,
                 min_cases=figures.MIN_CASES)  # fmt: skip


@router.get(_VERSION)
def version_page(request: Request, process: str, number: str) -> Response:
    """One version: swimlane (pan, zoom, step details), value streams, wastes, downloads."""
    found = with_role(request, *READERS)
    if isinstance(found, Response):
        return found
    version = _version(request, process, number)
    if version is None:
        return _not_found(request, *found)
    context, lang = ctx(request), lang_of(request)
    lanes, engine = context.library.lanes, context.engine
    events = _events(request, version)
    sim = figures.latest_simulations(engine, process).get((process, version.version))
    headline = {
        "designed": figures.designed_figures(version, lanes),
        "simulated": figures.simulated_figures(engine, version, sim) if sim else None,
        "registered": figures.registered_figures(engine, version, events),
    }
    title = word("web_process.registered_title", lang, version=version.version)
    has_registered = figures.registered_timeline_svg(engine, version, lanes, lang, events,
                                                     title) is not None  # fmt: skip
    return _page(
        request, *found, "process_version.html", version=version, name=version.name.get(lang),
        version_status=term(version.status, lang), version_status_id=version.status.value,
        base=_base(version), swimlane=figures.swimlane_inline(version, lanes, lang),
        headline=headline,
        wastes=_waste_rows(version, lang), duplicates=_duplicate_rows(request, version, lang),
        has_registered=has_registered, min_cases=figures.MIN_CASES,
    )  # fmt: skip


def _waste_rows(version: Version, lang: Language) -> list[tuple[str, list[str]]]:
    names = {s.id: s.name.get(lang) for s in version.steps}
    return [(term(waste, lang), [names[s] for s in steps])
            for waste, steps in wastes_by_category(version).items()]  # fmt: skip


def _duplicate_rows(request: Request, version: Version, lang: Language) -> list[tuple[str, ...]]:
    names = {s.id: s.name.get(lang) for s in version.steps}
    return [
        (d.field, ", ".join(names[s] for s in d.steps),
         ", ".join(lane_name(request, lane, lang) for lane in d.lanes))
        for d in duplicate_registrations(version)
    ]  # fmt: skip


def _duration(value: Duration, lang: Language) -> str:
    """``3`` for a fixed duration, ``2–5 (≈ 3,5)`` for a range, as the language writes it."""
    if value.low == value.high:
        return format_number(value.low, lang, None)
    low, high = format_number(value.low, lang, None), format_number(value.high, lang, None)
    return f"{low}–{high} (≈ {format_number(value.mean, lang)})"


@router.get(_VERSION + "/steps/{step}")
def step_panel(request: Request, process: str, number: str, step: str) -> Response:
    """A step's fields, wastes, registrations and registered waits and touch times: the details
    panel (an htmx fragment; a whole page when asked for without htmx)."""
    found = with_role(request, *READERS)
    if isinstance(found, Response):
        return found
    version = _version(request, process, number)
    chosen = next((s for s in version.steps if s.id == step), None) if version else None
    if version is None or chosen is None:
        return _not_found(request, *found)
    context, lang = ctx(request), lang_of(request)
    events = _events(request, version)
    stats: StepStats | None = figures.registered_steps(context.engine, version, events).get(step)
    dupes = {d.field for d in duplicate_registrations(version) if step in d.steps}
    partial = request.headers.get("HX-Request") == "true"
    template = "process_step_body.html" if partial else "process_step.html"
    return _page(
        request, *found, template, version=version, step=chosen,
        name=version.name.get(lang), step_name=chosen.name.get(lang),
        lanes=[lane_name(request, lane, lang) for lane in chosen.lanes],
        kind=term(chosen.kind, lang), value=term(chosen.value, lang) if chosen.value else None,
        channel=term(chosen.channel, lang) if chosen.channel else None,
        touch=_duration(chosen.touch_minutes, lang), wait=_duration(chosen.wait_days, lang),
        deadline=format_value(chosen.deadline, lang) if chosen.deadline else None,
        wastes=[term(w, lang) for w in chosen.wastes],
        registers=[(f, f in dupes) for f in chosen.registers], stats=stats,
        min_cases=figures.MIN_CASES,
        base=_base(version),
    )  # fmt: skip


@router.get(_VERSION + "/swimlane.{fmt}")
def swimlane_download(request: Request, process: str, number: str, fmt: str) -> Response:
    """The swimlane as an SVG or PNG file."""
    found = with_role(request, *READERS)
    if isinstance(found, Response):
        return found
    version = _version(request, process, number)
    if version is None or fmt not in ("svg", "png"):
        return _not_found(request, *found)
    lang = lang_of(request)
    data = figures.swimlane_file(version, ctx(request).library.lanes, lang,
                                 "svg" if fmt == "svg" else "png")  # fmt: skip
    media = "image/svg+xml" if fmt == "svg" else "image/png"
    return _file(request, found[1], data, media, f"{process}-v{version.version}-swimlane.{fmt}")


@router.get(_VERSION + "/timeline.svg")
def timeline(request: Request, process: str, number: str, runs: str = "design") -> Response:
    """The value-stream ladder as SVG: ``runs=design`` (default) or ``runs=live`` (registered
    medians per step; 404 when suppressed or there are none)."""
    found = with_role(request, *READERS)
    if isinstance(found, Response):
        return found
    version = _version(request, process, number)
    if version is None or runs not in ("design", "live"):
        return _not_found(request, *found)
    context, lang = ctx(request), lang_of(request)
    lanes = context.library.lanes
    if runs == "design":
        data: bytes | None = figures.timeline_svg(version, lanes, lang)
    else:
        events = _events(request, version)
        title = word("web_process.registered_title", lang, version=version.version)
        data = figures.registered_timeline_svg(context.engine, version, lanes, lang, events,
                                               title)  # fmt: skip
    if data is None:
        return _not_found(request, *found)
    return _file(request, found[1], data, "image/svg+xml", None)


def _file(
    request: Request, session: Session, data: bytes, media: str, name: str | None
) -> Response:
    headers = {"Cache-Control": "private, max-age=60"}
    if name:
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return with_session(request, Response(data, media_type=media, headers=headers), session)


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _csv(rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")  # the BOM: spreadsheets then read UTF-8


@router.get(_VERSION + "/{table}.csv")
def table_download(request: Request, process: str, number: str, table: str) -> Response:
    """The steps (with registered medians where not suppressed) or the wastes as CSV."""
    found = with_role(request, *READERS)
    if isinstance(found, Response):
        return found
    version = _version(request, process, number)
    if version is None or table not in ("steps", "wastes"):
        return _not_found(request, *found)
    lang = lang_of(request)
    rows = _step_table(request, version, lang) if table == "steps" else _waste_table(version)
    name = f"{process}-v{version.version}-{table}.csv"
    return _file(request, found[1], _csv(rows), "text/csv; charset=utf-8", name)


def _step_table(request: Request, version: Version, lang: Language) -> list[list[object]]:
    engine = ctx(request).engine
    events = _events(request, version)
    stats = figures.registered_steps(engine, version, events)
    rows: list[list[object]] = [[
        "step", "name", "kind", "lanes", "value", "touch_minutes_mean", "wait_days_mean",
        "external_wait", "complete_accurate", "wastes", "registers", "registered_cases",
        "median_wait_days", "p90_wait_days", "median_touch_minutes",
    ]]  # fmt: skip
    for s in version.steps:
        found = stats.get(s.id)
        shown = found is not None and not found.suppressed
        measured = [found.median_wait_days, found.p90_wait_days,
                    found.median_touch_minutes] if shown and found else ["", "", ""]  # fmt: skip
        cases = (found.cases if shown else f"<{figures.MIN_CASES}") if found else 0
        rows.append([
            s.id, s.name.get(lang), s.kind.value, " ".join(s.lanes),
            s.value.value if s.value else "", s.touch_minutes.mean, s.wait_days.mean,
            s.external_wait, s.complete_accurate, " ".join(w.value for w in s.wastes),
            " ".join(s.registers), cases, *measured,
        ])  # fmt: skip
    return rows


def _waste_table(version: Version) -> list[list[object]]:
    rows: list[list[object]] = [["waste", "steps", "step_ids"]]
    for waste, steps in wastes_by_category(version).items():
        rows.append([waste.value, len(steps), " ".join(steps)])
    return rows
