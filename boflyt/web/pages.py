"""The pages: login, logout, the language switch, the inbox, a case's timeline and its step forms.

Every form carries a CSRF token (:mod:`boflyt.web.sessions`); every page is rendered in the
language of the ``boflyt_lang`` cookie (default: the settings' language). A failed login says
only that the username or password is wrong, never which, and after too many failures per
account or address the form answers 429. The inbox shows the work every organisation of the
logged-in account may act on, oldest first, with the case id, never its reference.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from boflyt.engine.case.bounds import MAX_TOUCH_MINUTES
from boflyt.engine.store import accounts
from boflyt.models.errors import AccessError, CommandError, ConflictError, NotFoundError
from boflyt.models.words import Language, languages, word
from boflyt.web import step_forms
from boflyt.web.case_page import case_page
from boflyt.web.inbox import inbox_rows
from boflyt.web.sessions import Session, new_nonce

if TYPE_CHECKING:
    from boflyt.engine.store.accounts import Account
    from boflyt.web.app import WebContext

__all__ = ["CSRF_COOKIE", "LANG_COOKIE", "SESSION_COOKIE", "router"]

SESSION_COOKIE = "boflyt_session"
CSRF_COOKIE = "boflyt_csrf"
LANG_COOKIE = "boflyt_lang"
MAX_FORM = 8192
"""The largest form body accepted, in bytes."""

router = APIRouter()


def _ctx(request: Request) -> WebContext:
    context: WebContext = request.app.state.boflyt
    return context


def _lang(request: Request) -> Language:
    chosen = request.cookies.get(LANG_COOKIE, "")
    return Language(chosen) if chosen in languages() else _ctx(request).config.lang


def _cookie(request: Request, response: Response, name: str, value: str, **kw: Any) -> None:
    secure = _ctx(request).config.secure_cookies or request.url.scheme == "https"
    response.set_cookie(name, value, httponly=True, samesite="strict", secure=secure, **kw)


def _render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """``template`` in the request's language, with a CSRF token (and its cookie if new)."""
    ctx = _ctx(request)
    lang = _lang(request)
    seed = request.cookies.get(CSRF_COOKIE) or new_nonce()
    html = ctx.templates.get_template(template).render(
        t=lambda key, **fields: word(f"web.{key}", lang, **fields),
        lang=lang,
        languages=languages(),
        path=request.url.path,
        csrf=ctx.signer.csrf_token(seed),
        idle_minutes=int(ctx.config.idle.total_seconds() // 60),
        **values,
    )
    response = HTMLResponse(html, status_code=status)
    if request.cookies.get(CSRF_COOKIE) != seed:
        _cookie(request, response, CSRF_COOKIE, seed)
    return response


async def _form(request: Request) -> dict[str, str] | None:
    """The posted form's fields (first value of each); None when the CSRF check fails or the
    body is larger than :data:`MAX_FORM`."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            return None
    fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    ok = _ctx(request).signer.csrf_ok(request.cookies.get(CSRF_COOKIE), fields.get("csrf"))
    return fields if ok else None


def _forbidden(request: Request) -> HTMLResponse:
    return _render(request, "message.html", 403, message=word("web.csrf_failed", _lang(request)))


def _logged_in(request: Request) -> tuple[Account, Session] | None:
    """The active account of the request's session, if the session is valid and not idle."""
    ctx = _ctx(request)
    now = ctx.clock()
    session = ctx.signer.session(request.cookies.get(SESSION_COOKIE), now=now)
    if session is None:
        return None
    account = accounts.get_account(ctx.engine, session.username)
    if account is None or not account.active:
        return None
    return account, Session(session.username, session.nonce, now)


def _with_session(request: Request, response: Response, session: Session) -> Response:
    _cookie(request, response, SESSION_COOKIE, _ctx(request).signer.session_cookie(session))
    return response


@router.get("/")
def home(request: Request) -> Response:
    """The inbox when logged in, else the login page."""
    return RedirectResponse("/inbox" if _logged_in(request) else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request) -> Response:
    """The login form."""
    return _render(request, "login.html")


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the username and password; start a session and go to the inbox."""
    form = await _form(request)
    if form is None:
        return _forbidden(request)
    ctx, lang = _ctx(request), _lang(request)
    username = form.get("username", "").strip()
    now = ctx.clock()
    keys = (f"account:{username.casefold()}", f"address:{_address(request)}")
    if ctx.limit.blocked(keys, now=now):
        minutes = int(ctx.config.login_window.total_seconds() // 60)
        message = word("web.too_many", lang, minutes=minutes)
        return _render(request, "login.html", 429, error=message, username=username)
    account = accounts.authenticate(ctx.engine, username, form.get("password", ""))
    if account is None:
        ctx.limit.fail(keys, now=now)
        message = word("web.wrong_login", lang)
        return _render(request, "login.html", 401, error=message, username=username)
    response = RedirectResponse("/inbox", status_code=303)
    _cookie(request, response, CSRF_COOKIE, new_nonce())  # a fresh CSRF seed per session
    return _with_session(request, response, Session(account.username, new_nonce(), now))


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session and go back to the login page."""
    if await _form(request) is None:
        return _forbidden(request)
    response = RedirectResponse("/login", status_code=303)
    secure = _ctx(request).config.secure_cookies or request.url.scheme == "https"
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=secure)
    return response


@router.get("/language/{code}")
def switch_language(request: Request, code: str, next: str = "/") -> Response:
    """Remember the language ``code`` in a cookie and go back to the page (a local path)."""
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if code in languages():
        year = int(dt.timedelta(days=365).total_seconds())
        _cookie(request, response, LANG_COOKIE, code, max_age=year)
    return response


@router.get("/inbox")
def inbox(request: Request) -> Response:
    """The work the account's organisations may act on, oldest first."""
    found = _logged_in(request)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    account, session = found
    ctx, lang = _ctx(request), _lang(request)
    rows = inbox_rows(ctx.engine, ctx.library, account.orgs, now=session.last_seen, lang=lang)
    orgs = [_lane_name(ctx, org, lang) for org in account.orgs]
    page = _render(request, "inbox.html", account=account, orgs=orgs, rows=rows)
    return _with_session(request, page, session)


@router.get("/cases/{case_id}")
def case(request: Request, case_id: str) -> Response:
    """A case's timeline, for an account whose organisation has or had work in it, with forms
    for the open steps of the account's organisations."""
    found = _logged_in(request)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    return _case_response(request, *found, case_id[:64])


def _case_response(
    request: Request, account: Account, session: Session, case_id: str, status: int = 200,
    **errors: Any,
) -> Response:  # fmt: skip
    """The case page (404 when not the account's), with the step forms and any ``errors``."""
    ctx, lang = _ctx(request), _lang(request)
    try:
        page = case_page(ctx.engine, ctx.library, case_id, account.orgs, lang=lang)
    except NotFoundError:
        message = word("web.case_not_found", lang)
        missing = _render(request, "message.html", 404, account=account, message=message)
        return _with_session(request, missing, session)
    forms = step_forms.step_forms(ctx.engine, case_id, account.orgs, lang=lang)
    shown = _render(request, "case.html", status, account=account, case=page, forms=forms,
                    **errors)  # fmt: skip
    return _with_session(request, shown, session)


@router.post("/cases/{case_id}/steps/{step_id}/{action}")
async def act_on_step(request: Request, case_id: str, step_id: str, action: str) -> Response:
    """Begin or complete (``action``) a step of the case as the logged-in account."""
    found = _logged_in(request)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    form = await _form(request)
    if form is None:
        return _forbidden(request)
    account, session = found
    case_id, lang = case_id[:64], _lang(request)
    try:
        case_page(_ctx(request).engine, _ctx(request).library, case_id, account.orgs, lang=lang)
    except NotFoundError:
        return _case_response(request, account, session, case_id)
    try:
        _act(request, account, case_id, step_id, action, form)
    except AccessError:
        message = word("web.not_your_step", lang)
        refused = _render(request, "message.html", 403, account=account, message=message)
        return _with_session(request, refused, session)
    except ConflictError:
        by = step_forms.completed_by(_ctx(request).engine, case_id, step_id) or "?"
        message = word("web.already_completed", lang, user=by)
        return _case_response(request, account, session, case_id, 409, conflict=message)
    except _BadMinutes:
        bounds = word("web.minutes_bounds", lang, max=f"{MAX_TOUCH_MINUTES:,.0f}")
        errors = {"minutes_error": bounds, "minutes_step": step_id}
        return _case_response(request, account, session, case_id, 422, **errors)
    except (CommandError, NotFoundError) as error:
        return _case_response(request, account, session, case_id, 409, conflict=str(error))
    return _with_session(request, RedirectResponse(f"/cases/{case_id}", 303), session)


class _BadMinutes(Exception):
    """The minutes field is not a number within the store's bounds."""


def _act(
    request: Request, account: Account, case_id: str, step_id: str, action: str,
    form: dict[str, str],
) -> None:  # fmt: skip
    ctx = _ctx(request)
    user, orgs, now = account.username, account.orgs, ctx.clock()
    if action == "begin":
        step_forms.begin(ctx.engine, ctx.library, case_id, step_id, username=user, orgs=orgs,
                         now=now)  # fmt: skip
        return
    if action != "complete":
        raise NotFoundError(f"no action {action[:20]}")
    try:
        minutes = step_forms.parse_minutes(form.get("minutes", ""))
    except CommandError:
        raise _BadMinutes from None
    outcome = form.get("outcome") or None
    step_forms.complete(ctx.engine, ctx.library, case_id, step_id, username=user, orgs=orgs,
                        now=now, outcome=outcome, minutes=minutes)  # fmt: skip


def _lane_name(ctx: WebContext, lane_id: str, lang: Language) -> str:
    lane = ctx.library.lanes.get(lane_id)
    return lane.name.get(lang) if lane else lane_id
