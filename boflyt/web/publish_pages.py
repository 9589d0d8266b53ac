"""The process owners' publishing pages (issue 13): diff a version against any other, publish a
draft, retire a published version.

* ``GET /versions/{process}/{number}/diff?against=M``: the semantic diff of version ``number``
  against ``M`` (default: the version it is based on, else the one before) in words
  (:mod:`boflyt.engine.definition.diff_text`) and the ghost diagram (new steps green, changed
  blue, removed grey), for process owners and facilitators. Diagrams are cached by the two
  versions' content hashes and the language.
* ``GET /versions/{process}/{number}/publish`` and ``…/retire``: the confirmation, showing the
  lines of the file that will change (and a draft's problems, which stop a publish);
  ``POST`` the same URL (CSRF form) does it through :mod:`boflyt.engine.definition.publishing`,
  records it in the audit log (who, when, from where) and reloads the app's library. Process
  owners only.

:func:`change_status` is the one write both the pages and the API
(:mod:`boflyt.web.api_publish`) use.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from boflyt.engine.definition import diff_text
from boflyt.engine.definition.diff import VersionDiff, diff_versions
from boflyt.engine.definition.load import load_library
from boflyt.engine.definition.publishing import StatusChange, publish, retire
from boflyt.engine.store import audit
from boflyt.engine.store.accounts import Account
from boflyt.models.definition import Version
from boflyt.models.errors import (
    ConflictError,
    DefinitionError,
    NotFoundError,
    Problem,
    RenderError,
)
from boflyt.models.vocabulary import AuditAction, Role, VersionStatus
from boflyt.models.words import Language, term, word
from boflyt.visualize.extraction import extract_comparison
from boflyt.visualize.side_by_side import render_comparison
from boflyt.visualize.svg import inline_svg
from boflyt.web.page_kit import (
    address,
    ctx,
    forbidden,
    form,
    lang_of,
    render,
    with_role,
    with_session,
)

if TYPE_CHECKING:
    from boflyt.web.app import WebContext

__all__ = ["Action", "change_status", "ghost_svg", "router"]

router = APIRouter()

Action = Literal["publish", "retire"]
"""What a process owner does to a version."""

_NUMBER = re.compile(r"^[1-9][0-9]{0,5}$")
_WRITE = threading.Lock()
"""One publish or retire at a time in this process (the file check covers other processes)."""
_CACHE_SIZE = 64
_SVGS: OrderedDict[tuple[str, str, str], str] = OrderedDict()
_SVGS_LOCK = threading.Lock()


# --------------------------------------------------------------------------- the one write


def change_status(
    context: WebContext, action: Action, process: str, number: int, account: Account, where: str
) -> StatusChange:
    """Publish or retire ``process`` v``number`` as ``account``: the file edited, the audit
    entry written, the app's library reloaded.

    Raises:
        NotFoundError: no such version file.
        DefinitionError: the draft has problems (every one; nothing was written).
        ConflictError: not a draft (publish) / not published (retire), or the file changed.
    """
    root, now = context.library.root, context.clock()
    with _WRITE:
        act = publish if action == "publish" else retire
        done = act(root, process, number, account.username, now)
        context.library = load_library(root)
    kind = AuditAction.VERSION_PUBLISHED if action == "publish" else AuditAction.VERSION_RETIRED
    audit.record(context.engine, actor=account.username, action=kind, now=now,
                 detail=done.version.key, address=where)  # fmt: skip
    return done


# --------------------------------------------------------------------------- the diff


def ghost_svg(before: Version, after: Version, context: WebContext, lang: Language) -> str:
    """``after`` marked against ``before`` as an inline SVG, cached by both content hashes.

    Raises:
        RenderError: no Graphviz renderer, or it failed.
    """
    key = (before.content_hash, after.content_hash, str(lang))
    with _SVGS_LOCK:
        if key in _SVGS:
            _SVGS.move_to_end(key)
            return _SVGS[key]
    diagram = extract_comparison(before, after, context.library.lanes, lang=lang)
    svg = inline_svg(render_comparison(diagram, "svg"))
    with _SVGS_LOCK:
        _SVGS[key] = svg
        while len(_SVGS) > _CACHE_SIZE:
            _SVGS.popitem(last=False)
    return svg


@dataclass(frozen=True)
class _Shown:
    """A version diff as the page shows it."""

    against: int
    summary: str
    lines: list[str]
    svg: str | None
    svg_error: str | None


def _default_against(version: Version, others: list[Version]) -> int | None:
    numbers = [v.version for v in others]
    if version.based_on in numbers:
        return version.based_on
    earlier = [n for n in numbers if n < version.version]
    return max(earlier) if earlier else (min(numbers) if numbers else None)


_SHOWN: OrderedDict[tuple[str, str, str], _Shown] = OrderedDict()


def _shown(context: WebContext, before: Version, after: Version, lang: Language) -> _Shown:
    """The diff as shown, cached by both content hashes and the language (a failed drawing is
    not kept, so it is tried again)."""
    key = (before.content_hash, after.content_hash, str(lang))
    with _SVGS_LOCK:
        if key in _SHOWN:
            _SHOWN.move_to_end(key)
            return _SHOWN[key]
    shown = _diffed(context, before, after, lang)
    if shown.svg is not None:
        with _SVGS_LOCK:
            _SHOWN[key] = shown
            while len(_SHOWN) > _CACHE_SIZE:
                _SHOWN.popitem(last=False)
    return shown


def _diffed(context: WebContext, before: Version, after: Version, lang: Language) -> _Shown:
    diff: VersionDiff = diff_versions(before, after)
    lines = [line.strip() for line in diff_text.lines(diff, lang, context.library.lanes)[1:]]
    svg, error = None, None
    try:
        svg = ghost_svg(before, after, context, lang)
    except RenderError as exc:
        error = str(exc)
    return _Shown(before.version, diff_text.summary(diff, lang), lines, svg, error)


def _words(lang: Language) -> object:
    return lambda key, **fields: word(f"web_publish.{key}", lang, **fields)


def _number(request: Request, account: Account, number: str) -> int | Response:
    if _NUMBER.match(number):
        return int(number)
    message = word("web_publish.bad_number", lang_of(request), number=number[:12])
    return render(request, "message.html", 404, account=account, message=message)


def _version(request: Request, account: Account, process: str, number: int) -> Version | Response:
    """The loaded version, or the page saying why not (404 unknown, 422 a broken file)."""
    library = ctx(request).library
    try:
        return library.get(process, number)
    except NotFoundError as exc:
        return render(request, "message.html", 404, account=account, message=str(exc))
    except DefinitionError as exc:
        lang = lang_of(request)
        head = word("web_publish.broken", lang, process=process, number=number)
        return render(request, "publish_problems.html", 422, account=account, w=_words(lang),
                      head=head,
                      problems=exc.problems)  # fmt: skip


@router.get("/versions/{process}/{number}/diff")
def diff_page(request: Request, process: str, number: str, against: str = "") -> Response:
    """The semantic diff and the ghost diagram of a version against any other version."""
    found = with_role(request, Role.PROCESS_OWNER, Role.FACILITATOR)
    if isinstance(found, Response):
        return found
    account, session = found
    n = _number(request, account, number)
    version = n if isinstance(n, Response) else _version(request, account, process, n)
    if isinstance(version, Response):
        return with_session(request, version, session)
    context, lang = ctx(request), lang_of(request)
    others = [v for v in context.library.versions(process) if v.version != version.version]
    chosen = int(against) if _NUMBER.match(against) else _default_against(version, others)
    before = next((v for v in others if v.version == chosen), None)
    if before is None and chosen is not None and others:
        message = f"{process} v{chosen}: no such version to compare against"
        page = render(request, "message.html", 404, account=account, message=message)
        return with_session(request, page, session)
    shown = _shown(context, before, version, lang) if before else None
    done = request.query_params.get("done", "")
    page = render(request, "publish_diff.html", account=account, w=_words(lang), version=version,
                  others=others, shown=shown, owner=account.may(Role.PROCESS_OWNER),
                  status_word=term(version.status, lang),
                  status_of=lambda status: term(status, lang),
                  done=done if done in ("published", "retired") else "")  # fmt: skip
    return with_session(request, page, session)


# --------------------------------------------------------------------------- confirm and do


def _rows(version: Version, action: Action, account: Account, now: dt.datetime, lang: Language
          ) -> list[tuple[str, str, str]]:  # fmt: skip
    """(field, now, after) of each line the action changes."""
    status = (
        term(version.status, lang),
        term(VersionStatus.PUBLISHED if action == "publish" else VersionStatus.RETIRED, lang),
    )
    rows = [(word("field.status", lang), *status)]
    if action == "publish":
        rows.append((word("field.owner", lang), version.owner, account.username))
        rows.append((word("field.date", lang), version.date.isoformat(), now.date().isoformat()))
    else:
        rows.append(("#", "", word("web_publish.retired_comment", lang)))
    return rows


def _refusal(version: Version, action: Action, lang: Language) -> str | None:
    wanted = VersionStatus.DRAFT if action == "publish" else VersionStatus.PUBLISHED
    if version.status is wanted:
        return None
    key = "not_draft" if action == "publish" else "not_published"
    return word(f"web_publish.{key}", lang, process=version.process, number=version.version,
                status=term(version.status, lang))  # fmt: skip


def _confirm(request: Request, process: str, number: str, action: Action) -> Response:
    found = with_role(request, Role.PROCESS_OWNER)
    if isinstance(found, Response):
        return found
    account, session = found
    n = _number(request, account, number)
    version = n if isinstance(n, Response) else _version(request, account, process, n)
    if isinstance(version, Response):
        return with_session(request, version, session)
    context, lang = ctx(request), lang_of(request)
    refused = _refusal(version, action, lang)
    if refused:
        page = render(request, "message.html", 409, account=account, message=refused)
        return with_session(request, page, session)
    others = [v for v in context.library.versions(process) if v.version != version.version]
    base = next((v for v in others if v.version == _default_against(version, others)), None)
    against = None
    if base is not None:
        summary = diff_text.summary(diff_versions(base, version), lang)
        against = word("web_publish.against_base", lang, against=base.version, summary=summary)
    page = render(request, "publish_confirm.html", account=account, w=_words(lang),
                  version=version, action=action, against=against,
                  rows=_rows(version, action, account, context.clock(), lang))  # fmt: skip
    return with_session(request, page, session)


async def _do(request: Request, process: str, number: str, action: Action) -> Response:
    found = with_role(request, Role.PROCESS_OWNER)
    if isinstance(found, Response):
        return found
    account, session = found
    if await form(request) is None:
        return forbidden(request)
    n = _number(request, account, number)
    if isinstance(n, Response):
        return with_session(request, n, session)
    lang = lang_of(request)
    page: Response
    try:
        change_status(ctx(request), action, process, n, account, address(request))
    except (NotFoundError, ConflictError) as exc:
        status = 404 if isinstance(exc, NotFoundError) else 409
        message = _conflict(request, process, n, action) if status == 409 else None
        page = render(request, "message.html", status, account=account,
                      message=message or str(exc))  # fmt: skip
        return with_session(request, page, session)
    except DefinitionError as exc:
        page = _problems_page(request, account, process, n, exc.problems, lang)
        return with_session(request, page, session)
    done = "published" if action == "publish" else "retired"
    target = f"/versions/{process}/{n}/diff?done={done}"
    return with_session(request, RedirectResponse(target, status_code=303), session)


def _conflict(request: Request, process: str, number: int, action: Action) -> str | None:
    """The refusal in the page language when the version's status is the reason (the library
    has just been reloaded if the file changed), else None (the file changed meanwhile)."""
    try:
        version = ctx(request).library.get(process, number)
    except (NotFoundError, DefinitionError):
        return None
    return _refusal(version, action, lang_of(request))


def _problems_page(request: Request, account: Account, process: str, number: int,
                   problems: tuple[Problem, ...], lang: Language) -> Response:  # fmt: skip
    head = word("web_publish.problems", lang)
    return render(request, "publish_problems.html", 422, account=account, w=_words(lang),
                  head=f"{process} v{number}: {head}", problems=problems)  # fmt: skip


@router.get("/versions/{process}/{number}/publish")
def confirm_publish(request: Request, process: str, number: str) -> Response:
    """What publishing the draft will change, with the button that does it."""
    return _confirm(request, process, number, "publish")


@router.post("/versions/{process}/{number}/publish")
async def do_publish(request: Request, process: str, number: str) -> Response:
    """Publish the draft (CSRF form): 303 to its diff page; 404, 409 or 422 (its problems)."""
    return await _do(request, process, number, "publish")


@router.get("/versions/{process}/{number}/retire")
def confirm_retire(request: Request, process: str, number: str) -> Response:
    """What retiring the published version will change, with the button that does it."""
    return _confirm(request, process, number, "retire")


@router.post("/versions/{process}/{number}/retire")
async def do_retire(request: Request, process: str, number: str) -> Response:
    """Retire the published version (CSRF form): 303 to its diff page; 404 or 409."""
    return await _do(request, process, number, "retire")
