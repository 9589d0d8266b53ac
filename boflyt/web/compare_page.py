"""The before/after page (issue 13): two versions side by side, their comparison and timelines.

``GET /processes/{process}/compare?a=1&b=2&ra=live&rb=simulated:3`` shows version ``a`` (before)
and ``b`` (after; default: the two newest) with one run set each (default: the registered
cases): both swimlanes, the ghost view, the comparison table with 95 % intervals, the
plain-language summary, both value-stream timelines and each run set's waiting-time overlay. The
same address with ``/report.html``, ``/table.csv`` or ``/<figure>.svg`` downloads the report of
``boflyt report``, the table or one diagram. Facilitators and process owners use it; caseworkers
may read it (it changes nothing). Figures come from :mod:`boflyt.web.compare_figures` (cached).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from boflyt.engine.store.queries import list_run_sets
from boflyt.models.definition import Version
from boflyt.models.errors import BoflytError
from boflyt.models.runset import RunSet, RunSetInfo
from boflyt.models.vocabulary import Mode, Role
from boflyt.models.words import Language, word
from boflyt.web.compare_figures import (
    FIGURES,
    MIN_CASES,
    Pair,
    comparison_csv,
    figure_svg,
    figures,
    pair_of,
)
from boflyt.web.compare_figures import report_html as report_bytes
from boflyt.web.page_kit import ctx, lang_of, render, with_role, with_session

if TYPE_CHECKING:
    from boflyt.engine.store.accounts import Account
    from boflyt.web.sessions import Session

__all__ = ["ROLES", "router"]

router = APIRouter()

ROLES = (Role.FACILITATOR, Role.PROCESS_OWNER, Role.CASEWORKER)
"""Who may open the page and its downloads (caseworkers read; nothing here changes anything)."""


class _Refused(Exception):
    """The request names no such process, version or run set: the page's status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class _Choice:
    """What the query chose: the process's versions, the pair and each side's run set name."""

    versions: list[Version]
    pair: Pair
    names: tuple[str, str]
    stored: list[RunSetInfo]
    """The process's run sets as stored (the choices offered)."""

    @property
    def query(self) -> str:
        """The query string that chooses the same pair again (for links and downloads)."""
        a, b = self.pair.before.version, self.pair.after.version
        return urlencode({"a": a, "b": b, "ra": self.names[0], "rb": self.names[1]})


def _w(key: str, lang: Language, **fields: object) -> str:
    return word(f"web_compare.{key}", lang, **fields)


def _version(
    versions: list[Version], text: str | None, default: Version, lang: Language
) -> Version:
    """The version numbered ``text`` (``v2`` or ``2``), or ``default`` when none is given."""
    if not text:
        return default
    number = text.strip().lower().removeprefix("v")
    for version in versions:
        if number.isdigit() and version.version == int(number):
            return version
    listed = ", ".join(f"v{v.version}" for v in versions)
    raise _Refused(404, _w("no_version", lang, version=text[:20], versions=listed))


def _choose(request: Request, process: str, lang: Language) -> _Choice:
    """The versions and run sets the query names (defaults: the two newest, registered cases).

    Raises:
        _Refused: an unknown process, version or run set.
    """
    context = ctx(request)
    if process not in context.library.processes():
        known = ", ".join(context.library.processes())
        raise _Refused(404, _w("no_process", lang, process=process[:40], known=known))
    versions = context.library.versions(process)
    query = request.query_params
    before = _version(versions, query.get("a"), versions[max(len(versions) - 2, 0)], lang)
    after = _version(versions, query.get("b"), versions[-1], lang)
    names = (query.get("ra") or "live", query.get("rb") or "live")
    stored = list_run_sets(context.engine, process=process)
    try:
        runs = (RunSet.parse(names[0]), RunSet.parse(names[1]))
        pair = pair_of(context.engine, before, after, runs, stored)
    except BoflytError as error:
        raise _Refused(404, _w("no_runs", lang, detail=str(error))) from None
    return _Choice(versions, pair, names, stored)


def _run_options(choice: _Choice) -> tuple[list[RunSetInfo], list[RunSetInfo]]:
    """The run sets holding cases of each version (the registered cases always first)."""
    pair, stored = choice.pair, choice.stored
    found: list[list[RunSetInfo]] = []
    for version in (pair.before, pair.after):
        infos = [info for info in stored if info.version == version.version]
        if not any(info.runs.mode is Mode.LIVE for info in infos):
            infos.insert(0, RunSetInfo(RunSet.live(), version.process, version.version, 0))
        found.append(infos)
    return found[0], found[1]


def _refused(request: Request, error: _Refused, account: Account, session: Session) -> Response:
    """The refusal page (404 for an unknown process, version, run set or figure)."""
    page = render(request, "message.html", error.status, account=account, message=error.message)
    return with_session(request, page, session)


@router.get("/processes/{process}/compare")
def compare_page(request: Request, process: str) -> Response:
    """The before/after page of two versions of ``process``."""
    found = with_role(request, *ROLES)
    if isinstance(found, Response):
        return found
    account, session = found
    lang = lang_of(request)
    try:
        choice = _choose(request, process, lang)
    except _Refused as error:
        return _refused(request, error, account, session)
    pair = choice.pair
    context = ctx(request)
    figs = figures(context.engine, pair, context.library.lanes, lang)
    page = render(
        request,
        "compare.html",
        account=account,
        c=lambda key, **fields: _w(key, lang, **fields),
        process=process,
        name=pair.after.name.get(lang),
        choice=choice,
        statuses={
            v.version: word(f"version_status.{v.status.value}", lang) for v in choice.versions
        },
        pair=pair,
        figs=figs,
        options=_run_options(choice),
        small=[i for i in pair.runs if i.cases < MIN_CASES],
        min_cases=MIN_CASES,
        query=choice.query,
    )
    return with_session(request, page, session)


def _download(request: Request, process: str, make: str, media: str, filename: str) -> Response:
    """One download of the chosen pair: the report, the table or a figure (404 when absent)."""
    found = with_role(request, *ROLES)
    if isinstance(found, Response):
        return found
    account, session = found
    lang = lang_of(request)
    try:
        choice = _choose(request, process, lang)
    except _Refused as error:
        return _refused(request, error, account, session)
    context, pair = ctx(request), choice.pair
    lanes = context.library.lanes
    body: bytes | None
    if make == "report":
        body = report_bytes(context.engine, pair, lanes, lang)
    elif make == "csv":
        body = comparison_csv(context.engine, pair, lanes, lang).encode("utf-8-sig")
    else:
        body = figure_svg(context.engine, pair, make, lanes, lang)
    if body is None:
        note = _w("no_overlay", lang, min_cases=MIN_CASES)
        return _refused(request, _Refused(404, note), account, session)
    stem = f"{process}-v{pair.before.version}-v{pair.after.version}"
    headers = {"Content-Disposition": f'attachment; filename="{stem}-{filename}"'}
    response = Response(body, media_type=media, headers=headers)
    return with_session(request, response, session)


@router.get("/processes/{process}/compare/report.html")
def compare_report(request: Request, process: str) -> Response:
    """The workshop report of the pair (as ``boflyt report`` writes it; A4 landscape in print)."""
    return _download(request, process, "report", "text/html; charset=utf-8", "report.html")


@router.get("/processes/{process}/compare/table.csv")
def compare_table(request: Request, process: str) -> Response:
    """The comparison table as CSV (UTF-8 with a byte-order mark, for spreadsheets)."""
    return _download(request, process, "csv", "text/csv; charset=utf-8", "table.csv")


@router.get("/processes/{process}/compare/{figure}.svg")
def compare_figure(request: Request, process: str, figure: str) -> Response:
    """One diagram of the pair: before, after, ghost, timeline, overlay-before, overlay-after."""
    if figure not in FIGURES:
        found = with_role(request, *ROLES)
        if isinstance(found, Response):
            return found
        account, session = found
        listed = ", ".join(FIGURES)
        message = _w("no_figure", lang_of(request), figure=figure[:40], figures=listed)
        return _refused(request, _Refused(404, message), account, session)
    return _download(request, process, figure, "image/svg+xml", f"{figure}.svg")
