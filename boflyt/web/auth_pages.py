"""The pages of signing in and out: home, login, logout and the language switch.

A failed login says only that the username or password is wrong, never which, and after too
many failures per account or address the form answers 429. Logging out records the session's
nonce (only its SHA-256) as ended, so a copy of the cookie is refused by every worker
(:func:`boflyt.engine.store.web_sessions.end_session`).

Logins, failed logins and logouts go to the audit log (:mod:`boflyt.engine.store.audit`) with
the client's address. A failed login names the account only when the typed name is one: the log
is append-only, and a password typed into the username field must not stay in it for ever. A
login refused by the rate limit is not recorded (it checks no password, and recording it would
let anyone grow the log at will).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from boflyt.engine.case.bounds import MAX_ID, visible
from boflyt.engine.store import accounts, audit, web_sessions
from boflyt.models.vocabulary import AuditAction
from boflyt.models.words import languages, word
from boflyt.web.page_kit import (
    CSRF_COOKIE,
    LANG_COOKIE,
    SESSION_COOKIE,
    address,
    cookie,
    ctx,
    forbidden,
    form,
    landing,
    lang_of,
    logged_in,
    render,
    with_session,
)
from boflyt.web.sessions import Session, new_nonce

__all__ = ["UNKNOWN_ACCOUNT", "router"]

UNKNOWN_ACCOUNT = "(unknown account)"
"""The audit actor of a failed login whose typed name is no account (the name is not kept)."""

router = APIRouter()


@router.get("/")
def home(request: Request) -> Response:
    """The account's first page when logged in (:func:`landing`), else the login page."""
    found = logged_in(request)
    return RedirectResponse(landing(found[0]) if found else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request) -> Response:
    """The login form."""
    return render(request, "login.html")


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the username and password; start a session and go to the account's first page."""
    fields = await form(request)
    if fields is None:
        return forbidden(request)
    context, lang = ctx(request), lang_of(request)
    username = fields.get("username", "").strip()
    now = context.clock()
    keys = (f"account:{username.casefold()}", f"address:{address(request)}")
    if context.limit.blocked(keys, now=now):
        minutes = int(context.config.login_window.total_seconds() // 60)
        message = word("web.too_many", lang, minutes=minutes)
        return render(request, "login.html", 429, error=message, username=username)
    account = accounts.authenticate(context.engine, username, fields.get("password", ""))
    where = address(request)
    if account is None:
        context.limit.fail(keys, now=now)
        known = accounts.get_account(context.engine, username[:MAX_ID]) if username else None
        actor = visible(known.username, limit=MAX_ID) if known else UNKNOWN_ACCOUNT
        audit.record(context.engine, actor=actor, action=AuditAction.LOGIN_FAILED, now=now,
                     address=where)  # fmt: skip
        message = word("web.wrong_login", lang)
        return render(request, "login.html", 401, error=message, username=username)
    audit.record(context.engine, actor=account.username, action=AuditAction.LOGIN, now=now,
                 address=where)  # fmt: skip
    response = RedirectResponse(landing(account), status_code=303)
    cookie(request, response, CSRF_COOKIE, new_nonce())  # a fresh CSRF seed per session
    return with_session(request, response, Session(account.username, new_nonce(), now))


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session (for every worker) and go back to the login page."""
    found = logged_in(request)
    if await form(request) is None:
        return forbidden(request)
    context = ctx(request)
    if found is not None:
        account, session = found
        now = context.clock()
        web_sessions.end_session(context.engine, nonce=session.nonce, username=account.username,
                                 now=now)  # fmt: skip
        audit.record(context.engine, actor=account.username, action=AuditAction.LOGOUT, now=now,
                     address=address(request))  # fmt: skip
    response = RedirectResponse("/login", status_code=303)
    secure = context.config.secure_cookies or request.url.scheme == "https"
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=secure)
    return response


@router.get("/language/{code}")
def switch_language(request: Request, code: str, next: str = "/") -> Response:
    """Remember the language ``code`` in a cookie and go back to the page (a local path)."""
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if code in languages():
        year = int(dt.timedelta(days=365).total_seconds())
        cookie(request, response, LANG_COOKIE, code, max_age=year)
    return response
