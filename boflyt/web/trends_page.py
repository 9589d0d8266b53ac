"""The KPI trends page (issue 13): registered lead time, handoffs, waits per process and month.

``/trends`` lists the processes; ``/trends/{process}`` shows the figures of
:func:`boflyt.analysis.trends.monthly_trends` over the process's registered (live) cases as line
charts, each with the same figures as a table, and the publication of each version marked on
the time axis; ``/trends/{process}/trends.csv`` is the tables as CSV. Facilitators and process
owners only. A group smaller than the minimum cell size (``BOFLYT_MIN_CELL``) shows "–".

The analysis runs once per process and state of its live log: the cache key is the process, the
number and the largest id of its live events (live events are never updated or deleted) and the
minimum cell size; the cache lives on the app, so two apps never share it.
"""

from __future__ import annotations

import csv
import io
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from sqlalchemy.engine import Engine

from boflyt.analysis.trends import Trends, monthly_trends
from boflyt.engine.definition.load import Library
from boflyt.engine.store.db import read_scope
from boflyt.engine.store.eventlog import event_frame
from boflyt.engine.store.statements import EVENT_TABLE
from boflyt.models.vocabulary import Mode, Role
from boflyt.models.words import Language, word
from boflyt.web.page_kit import ctx, lane_name, lang_of, render, with_role, with_session
from boflyt.web.trends_view import TrendsView, trends_view

__all__ = ["CACHE_SIZE", "csv_text", "router"]

router = APIRouter()

_ROLES = (Role.FACILITATOR, Role.PROCESS_OWNER)
CACHE_SIZE = 32
"""Analyses kept per app (a process's older states are dropped first)."""
_CACHE = "boflyt_trends_cache"
_CSV_HEADER = ("month", "figure", "from_org", "to_org", "cases", "value", "note")


def _words(lang: Language) -> Callable[..., str]:
    """The page's own words (``[web_trends]``) in ``lang``."""
    return lambda key, **fields: word(f"web_trends.{key}", lang, **fields)


@router.get("/trends")
def trends_index(request: Request) -> Response:
    """Choose a process: each process of the library, by name."""
    found = with_role(request, *_ROLES)
    if isinstance(found, Response):
        return found
    account, session = found
    lang = lang_of(request)
    library = ctx(request).library
    processes = [(p, _process_name(library, p, lang)) for p in library.processes()]
    page = render(request, "trends_index.html", account=account, processes=processes,
                  tw=_words(lang))  # fmt: skip
    return with_session(request, page, session)


@router.get("/trends/{process}")
def trends_process(request: Request, process: str) -> Response:
    """One process's monthly figures: charts, tables, publications; 404 for an unknown one."""
    found = with_role(request, *_ROLES)
    if isinstance(found, Response):
        return found
    account, session = found
    lang = lang_of(request)
    library = ctx(request).library
    if process not in library.processes():
        return with_session(request, _unknown(request, account, lang), session)
    view = _view(request, process, lang)
    page = render(request, "trends.html", account=account, view=view, tw=_words(lang))
    return with_session(request, page, session)


@router.get("/trends/{process}/trends.csv")
def trends_csv(request: Request, process: str) -> Response:
    """The page's tables as CSV (suppressed cells empty, with a note)."""
    found = with_role(request, *_ROLES)
    if isinstance(found, Response):
        return found
    account, session = found
    lang = lang_of(request)
    if process not in ctx(request).library.processes():
        return with_session(request, _unknown(request, account, lang), session)
    trends = cached_trends(request, process)
    headers = {"Content-Disposition": f'attachment; filename="{process}-trends.csv"'}
    body = csv_text(trends)
    response = Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    return with_session(request, response, session)


def _unknown(request: Request, account: Any, lang: Language) -> Response:
    """404 naming the known processes (the unknown name is not echoed)."""
    known = ", ".join(ctx(request).library.processes())
    message = word("web_trends.unknown_process", lang, known=known)
    return render(request, "message.html", 404, account=account, message=message)


def _process_name(library: Library, process: str, lang: Language) -> str:
    """The process's name in ``lang``, from its newest version."""
    versions = library.versions(process)
    return versions[-1].name.get(lang) if versions else process


def _view(request: Request, process: str, lang: Language) -> TrendsView:
    library = ctx(request).library
    return trends_view(
        cached_trends(request, process),
        process=process,
        name=_process_name(library, process, lang),
        versions=library.versions(process),
        lane=lambda lane_id: lane_name(request, lane_id, lang),
        lang=lang,
    )


def cached_trends(request: Request, process: str) -> Trends:
    """:func:`~boflyt.analysis.trends.monthly_trends` of the process's live cases, cached
    by (process, live event count and largest id, minimum cell size)."""
    context = ctx(request)
    min_cell = context.config.min_cell
    key = (process, *_stamp(context.engine, process), min_cell)
    cache: OrderedDict[tuple[Any, ...], Trends] = getattr(request.app.state, _CACHE, None) or (
        OrderedDict()
    )
    setattr(request.app.state, _CACHE, cache)
    hit = cache.get(key)
    if hit is None:
        frame = event_frame(context.engine, process=process, mode=Mode.LIVE)
        hit = monthly_trends(frame, min_cell=min_cell)
        for old in [k for k in cache if k[0] == process]:
            del cache[old]
        cache[key] = hit
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    return hit


def _stamp(engine: Engine, process: str) -> tuple[int, int]:
    """How many live events the process has and the largest event id: its log's state."""
    table = EVENT_TABLE
    query = sa.select(sa.func.count(), sa.func.max(table.c.id)).where(
        table.c.process == process, table.c.mode == Mode.LIVE.value
    )
    with read_scope(engine) as conn:
        count, top = conn.execute(query).one()
    return int(count or 0), int(top or 0)


def csv_text(trends: Trends) -> str:
    """The trends as long CSV: month, figure, from_org, to_org, cases, value, note.

    Figures: the month figures of :data:`~boflyt.analysis.trends.MONTH_FIGURES` and
    ``wait_median_days`` per organisation pair; a suppressed cell has no cases and no value and
    the note ``suppressed: fewer than N cases``.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_CSV_HEADER)
    note = f"suppressed: fewer than {trends.min_cell} cases"
    figures = [c for c in trends.months.columns if c not in ("month", "cases", "suppressed")]
    for row in trends.months.iter_rows(named=True):
        for figure in figures:
            writer.writerow(_csv_row(row, figure, "", "", row[figure], note))
    for row in trends.waits.iter_rows(named=True):
        writer.writerow(
            _csv_row(row, "wait_median_days", row["from_lane"], row["to_lane"],
                     row["median_days"], note)
        )  # fmt: skip
    return out.getvalue()


def _csv_row(
    row: dict[str, Any], figure: str, src: str, dst: str, value: float | None, note: str
) -> list[str]:
    cases = row["cases"]
    shown = "" if value is None else str(round(value, 4))
    count = "" if cases is None else str(cases)
    noted = note if row["suppressed"] else ""
    return [row["month"].strftime("%Y-%m"), figure, src, dst, count, shown, noted]
