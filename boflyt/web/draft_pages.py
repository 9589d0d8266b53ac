"""The process owners' draft pages (issue 13): start a draft, edit it in the browser, upload one.

* ``GET /drafts``: every process's versions and drafts, a "new draft from" form listing every
  version, and an upload form (a version file's text pasted, or read from a file by
  :file:`static/editor.js`).
* ``POST /drafts``: a new draft from ``source`` (``process@N``), then its editor.
* ``GET /drafts/{process}/{number}``: the editor: CodeMirror 5 (vendored in
  :file:`static/codemirror/`, YAML mode) over a plain ``<textarea>`` that works without
  JavaScript; the problems of the text at their lines; a swimlane preview of the last valid text.
* ``POST /drafts/{process}/{number}/check``: the editor's text checked (JSON: every problem with
  its line, place and message; the preview when valid), posted by :file:`static/editor.js`
  about 500 ms after typing stops.
* ``POST /drafts/{process}/{number}``: save (or, ``action=check``, check without saving) with
  the content hash the editor loaded; a conflict shows both texts, the visitor's kept in the
  editor.
* ``POST /drafts/upload``: a version file's text as the next draft of a process.

Every write goes through :mod:`boflyt.engine.definition.authoring`, is recorded in the audit log
(``draft_saved``) and reloads the app's library. Process owners only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from boflyt.engine.definition.authoring import (
    Draft,
    check_text,
    content_hash,
    new_draft,
    read_draft,
    save_draft,
    top_fields,
    upload_draft,
)
from boflyt.engine.definition.load import MAX_BYTES, load_library, parse_ref
from boflyt.engine.store import audit
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.errors import (
    ConflictError,
    DefinitionError,
    NotFoundError,
    Problem,
    RenderError,
)
from boflyt.models.vocabulary import AuditAction, Role, VersionStatus
from boflyt.models.words import Language, word
from boflyt.visualize.extraction import extract_swimlane
from boflyt.visualize.svg import inline_svg
from boflyt.visualize.swimlane import render_swimlane
from boflyt.web.page_kit import (
    CSRF_COOKIE,
    address,
    ctx,
    forbidden,
    lang_of,
    render,
    with_role,
    with_session,
)

if TYPE_CHECKING:
    from boflyt.engine.store.accounts import Account
    from boflyt.web.sessions import Session

__all__ = ["preview_svg", "router"]

router = APIRouter()

MAX_DRAFT_FORM = 4 * MAX_BYTES
"""The largest draft form accepted, in bytes (a version file, URL-encoded)."""


# -- reading the request ----------------------------------------------------------------------


async def _form(request: Request) -> dict[str, str] | None:
    """The posted form's fields, CSRF-checked; None when the check fails or the body is larger
    than :data:`MAX_DRAFT_FORM` (a version file is larger than other pages' forms)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_DRAFT_FORM:
            return None
    text = body.decode("utf-8", "replace")
    fields = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
    ok = ctx(request).signer.csrf_ok(request.cookies.get(CSRF_COOKIE), fields.get("csrf"))
    return fields if ok else None


def _owner(request: Request) -> tuple[Account, Session] | Response:
    return with_role(request, Role.PROCESS_OWNER)


def _library_fresh(request: Request) -> None:
    """Reload the app's library (cached by content hash: cheap when nothing changed), so a write
    by this or another worker, or by ``git`` in the workspace, is seen."""
    context = ctx(request)
    context.library = load_library(context.library.root)


def _words(lang: Language) -> Any:
    return lambda key, **fields: word(f"web_drafts.{key}", lang, **fields)


# -- the preview ------------------------------------------------------------------------------


_PREVIEWS: OrderedDict[tuple[str, str], str] = OrderedDict()
_PREVIEWS_LOCK = threading.Lock()
_PREVIEWS_KEPT = 64


def preview_svg(version: Version, lanes: LaneCatalog, lang: Language) -> str | None:
    """The swimlane of a valid draft text as an inline SVG element; None if it cannot be drawn.

    Cached by the version's content hash (the same for texts that differ only in comments and
    layout) and the language (the newest 64), so an unchanged flow is drawn once however often
    the editor checks it.
    """
    key = (version.content_hash, lang)
    with _PREVIEWS_LOCK:
        if key in _PREVIEWS:
            _PREVIEWS.move_to_end(key)
            return _PREVIEWS[key]
    try:
        svg = inline_svg(render_swimlane(extract_swimlane(version, lanes, lang=lang)))
    except RenderError:
        return None
    with _PREVIEWS_LOCK:
        _PREVIEWS[key] = svg
        while len(_PREVIEWS) > _PREVIEWS_KEPT:
            _PREVIEWS.popitem(last=False)
    return svg


@dataclass(frozen=True)
class Checked:
    """A text checked: its problems (line, place, message) and, when valid, its preview."""

    problems: tuple[Problem, ...]
    svg: str | None


_CHECKS: OrderedDict[tuple[str, str, int, str, int], Checked] = OrderedDict()
_CHECKS_KEPT = 128


def _check(request: Request, text: str, process: str, number: int) -> Checked:
    """``text`` checked as ``process`` v``number``; the same text (and library) is checked
    once: the editor checks the text it just loaded, a reload checks it again."""
    lanes, lang = ctx(request).library.lanes, lang_of(request)
    key = (content_hash(text), process, number, lang, hash(lanes))
    with _PREVIEWS_LOCK:
        if key in _CHECKS:
            _CHECKS.move_to_end(key)
            return _CHECKS[key]
    version, problems = check_text(text, process=process, number=number, lanes=lanes)
    svg = preview_svg(version, lanes, lang) if version is not None else None
    checked = Checked(tuple(problems), svg)
    with _PREVIEWS_LOCK:
        _CHECKS[key] = checked
        while len(_CHECKS) > _CHECKS_KEPT:
            _CHECKS.popitem(last=False)
    return checked


# -- pages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One version file in the drafts list."""

    process: str
    number: int | None
    name: str
    status: str
    owner: str
    date: str


def _rows(request: Request) -> list[Row]:
    library, rows = ctx(request).library, []
    for process in sorted({*library.processes(), *library.broken}):
        for entry in library.entries(process):
            if isinstance(entry, Version):
                rows.append(Row(process, entry.version, f"v{entry.version}", entry.status.value,
                                entry.owner, entry.date.isoformat()))  # fmt: skip
            else:
                rows.append(Row(process, entry.number, entry.name, "broken", "", ""))
    return rows


def _list_page(
    request: Request, account: Account, session: Session, status: int = 200, **values: Any
) -> Response:
    lang = lang_of(request)
    rows = _rows(request)
    values.setdefault("upload_text", "")
    page = render(request, "drafts.html", status, account=account, rows=rows, d=_words(lang),
                  processes=sorted({r.process for r in rows}), **values)  # fmt: skip
    return with_session(request, page, session)


@router.get("/drafts")
def drafts(request: Request) -> Response:
    """The drafts and the forms to start or upload one."""
    found = _owner(request)
    if isinstance(found, Response):
        return found
    _library_fresh(request)
    return _list_page(request, *found)


def _record(request: Request, account: Account, draft: Draft, what: str) -> None:
    context = ctx(request)
    detail = f"{draft.process} v{draft.number} {what}"
    audit.record(context.engine, actor=account.username, action=AuditAction.DRAFT_SAVED,
                 now=context.clock(), detail=detail, address=address(request))  # fmt: skip
    context.library = load_library(context.library.root)


def _to_editor(draft: Draft) -> Response:
    return RedirectResponse(f"/drafts/{draft.process}/{draft.number}", status_code=303)


@router.post("/drafts")
async def start_draft(request: Request) -> Response:
    """A new draft from the chosen version (``source``: ``process@N``), then its editor."""
    found = _owner(request)
    if isinstance(found, Response):
        return found
    fields = await _form(request)
    if fields is None:
        return forbidden(request)
    account, session = found
    context = ctx(request)
    try:
        process, number = parse_ref(fields.get("source", ""))
        if number is None:
            raise NotFoundError(f"choose a version of {process}, e.g. {process}@v1")
        draft = new_draft(context.library.root, process, number, account.username,
                          context.clock())  # fmt: skip
    except NotFoundError as exc:
        return _list_page(request, account, session, 404, error=str(exc))
    except DefinitionError as exc:
        return _list_page(request, account, session, 422, error=str(exc))
    _record(request, account, draft, f"created from v{number}")
    return with_session(request, _to_editor(draft), session)


@router.post("/drafts/upload")
async def upload(request: Request) -> Response:
    """A version file's text (``text``) as the next draft of ``process``."""
    found = _owner(request)
    if isinstance(found, Response):
        return found
    fields = await _form(request)
    if fields is None:
        return forbidden(request)
    account, session = found
    context = ctx(request)
    text, chosen = fields.get("text", "").replace("\r\n", "\n"), fields.get("process", "")
    kept = {"upload_text": text, "upload_process": chosen}
    try:
        draft = upload_draft(context.library.root, chosen, text,
                             account.username, context.clock())  # fmt: skip
    except NotFoundError as exc:
        return _list_page(request, account, session, 404, error=str(exc), **kept)
    except DefinitionError as exc:
        return _list_page(request, account, session, 422, upload_problems=exc.problems, **kept)
    _record(request, account, draft, "uploaded")
    return with_session(request, _to_editor(draft), session)


def _number(number: str) -> int:
    if not number.isdigit() or not 0 < int(number) < 1 << 31:
        raise NotFoundError(f"no version '{number}'; a version is a whole number from 1")
    return int(number)


def _file(request: Request, process: str, number: str) -> Draft:
    """The version file ``processes/<process>/v<number>.yaml`` of a known process."""
    library = ctx(request).library
    if process not in library.by_process and process not in library.broken:
        library.versions(process)  # raises NotFoundError naming the known processes
    return read_draft(library.root / process / f"v{_number(number)}.yaml")


def _editor(
    request: Request,
    account: Account,
    session: Session,
    draft: Draft,
    *,
    text: str | None = None,
    status: int = 200,
    **values: Any,
) -> Response:
    """The editor over ``draft`` (showing ``text`` when the visitor's text differs)."""
    lang, shown = lang_of(request), draft.text if text is None else text
    checked = _check(request, shown, draft.process, draft.number)
    meta = top_fields(draft.text)
    file_status = meta.get("status", VersionStatus.DRAFT.value)
    file_status = file_status if file_status in set(VersionStatus) else VersionStatus.DRAFT.value
    page = render(
        request, "draft.html", status, account=account, d=_words(lang), draft=draft,
        text=shown, checked=checked, editable=file_status == VersionStatus.DRAFT.value,
        file_status=file_status, meta=meta, **values,
    )  # fmt: skip
    return with_session(request, page, session)


def _not_found(request: Request, account: Account, session: Session, exc: Exception) -> Response:
    page = render(request, "message.html", 404, account=account, message=str(exc))
    return with_session(request, page, session)


@router.get("/drafts/{process}/{number}")
def editor(request: Request, process: str, number: str) -> Response:
    """The editor of a draft (a published or retired version: read only)."""
    found = _owner(request)
    if isinstance(found, Response):
        return found
    _library_fresh(request)
    try:
        draft = _file(request, process, number)
    except (NotFoundError, DefinitionError) as exc:
        return _not_found(request, *found, exc)
    saved = request.query_params.get("saved") == "1"
    return _editor(request, *found, draft, saved=saved)


@router.post("/drafts/{process}/{number}/check")
async def check(request: Request, process: str, number: str) -> Response:
    """The editor's ``text`` checked: ``{"problems": [{line, place, message}], "valid", "svg"}``
    (``svg``: the preview, only when valid)."""
    found = _owner(request)
    if isinstance(found, Response):
        return found
    fields = await _form(request)
    if fields is None:
        return JSONResponse({"detail": word("web.csrf_failed", lang_of(request))}, 403)
    try:
        draft = _file(request, process, number)
    except (NotFoundError, DefinitionError) as exc:
        return JSONResponse({"detail": str(exc)}, 404)
    checked = _check(request, fields.get("text", "").replace("\r\n", "\n"), process, draft.number)
    problems = [{"line": p.line, "place": p.where, "message": p.message} for p in checked.problems]
    body = {"problems": problems, "valid": not problems, "svg": checked.svg}
    return with_session(request, JSONResponse(body), found[1])


@router.post("/drafts/{process}/{number}")
async def save(request: Request, process: str, number: str) -> Response:
    """Save the editor's ``text`` over the draft if it still has the content ``hash`` the editor
    loaded (``action=check``: only check it); a refusal shows the editor again, text kept."""
    found = _owner(request)
    if isinstance(found, Response):
        return found
    fields = await _form(request)
    if fields is None:
        return forbidden(request)
    account, session = found
    try:
        draft = _file(request, process, number)
    except (NotFoundError, DefinitionError) as exc:
        return _not_found(request, account, session, exc)
    text = fields.get("text", "").replace("\r\n", "\n")
    loaded = fields.get("hash", "")
    if fields.get("action") == "check":
        return _editor(request, account, session, draft, text=text, loaded=loaded)
    context = ctx(request)
    try:
        saved = save_draft(draft.path, text, loaded, account.username, context.clock())
    except DefinitionError:
        return _editor(request, account, session, draft, text=text, status=422, loaded=loaded)
    except ConflictError as exc:
        current = read_draft(draft.path)
        return _editor(request, account, session, current, text=text, status=409,
                       conflict=str(exc))  # fmt: skip
    _record(request, account, saved, "saved")
    response = RedirectResponse(f"/drafts/{process}/{saved.number}?saved=1", status_code=303)
    return with_session(request, response, session)
