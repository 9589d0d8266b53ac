"""The pages of signing in and out: home, login, logout and the language switch.

A failed login says only that the username or password is wrong, never which, and after too
many failures per account or address the form answers 429. Logging out records the session's
nonce (only its SHA-256) as ended, so a copy of the cookie is refused by every worker
(:func:`boflyt.engine.store.web_sessions.end_session`).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from boflyt.engine.store import accounts, web_sessions
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
    lang_of,
    logged_in,
    render,
    with_session,
)
from boflyt.web.sessions import Session, new_nonce

__all__ = ["router"]

router = APIRouter()


@router.get("/")
def home(request: Request) -> Response:
    """The inbox when logged in, else the login page."""
    return RedirectResponse("/inbox" if logged_in(request) else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request) -> Response:
    """The login form."""
    return render(request, "login.html")


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the username and password; start a session and go to the inbox."""
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
    if account is None:
        context.limit.fail(keys, now=now)
        message = word("web.wrong_login", lang)
        return render(request, "login.html", 401, error=message, username=username)
    response = RedirectResponse("/inbox", status_code=303)
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
        web_sessions.end_session(context.engine, nonce=session.nonce, username=account.username,
                                 now=context.clock())  # fmt: skip
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
