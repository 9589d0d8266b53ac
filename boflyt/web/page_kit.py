"""What every page handler shares: the app's context, the page language, rendering, posted forms
and the logged-in session.

Every page is rendered in the language of the ``boflyt_lang`` cookie (default: the settings'
language) with a CSRF token for its forms (:mod:`boflyt.web.sessions`). A session is valid when
its cookie is signed and not idle, its account is active, and it was not ended by a logout
(:mod:`boflyt.engine.store.web_sessions`: a copied cookie of a logged-out session is refused by
every worker). Pages for caseworkers answer 403 with the role needed and the roles the account
has, in the page language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from boflyt.engine.store import accounts, web_sessions
from boflyt.models.vocabulary import Role
from boflyt.models.words import Language, languages, word
from boflyt.web.sessions import Session, new_nonce

if TYPE_CHECKING:
    from boflyt.engine.store.accounts import Account
    from boflyt.web.app import WebContext

__all__ = [
    "CSRF_COOKIE",
    "LANG_COOKIE",
    "MAX_FORM",
    "SESSION_COOKIE",
    "address",
    "caseworker",
    "cookie",
    "ctx",
    "forbidden",
    "form",
    "landing",
    "lane_name",
    "lang_of",
    "logged_in",
    "render",
    "with_role",
    "with_session",
]

SESSION_COOKIE = "boflyt_session"
CSRF_COOKIE = "boflyt_csrf"
LANG_COOKIE = "boflyt_lang"
MAX_FORM = 8192
"""The largest form body accepted, in bytes."""


def ctx(request: Request) -> WebContext:
    """The app's :class:`~boflyt.web.app.WebContext`."""
    context: WebContext = request.app.state.boflyt
    return context


def lang_of(request: Request) -> Language:
    """The page language: the ``boflyt_lang`` cookie if it names one, else the settings'."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    return Language(chosen) if chosen in languages() else ctx(request).config.lang


def cookie(request: Request, response: Response, name: str, value: str, **kw: Any) -> None:
    """Set an HttpOnly, SameSite=Strict cookie (Secure when configured or over https)."""
    secure = ctx(request).config.secure_cookies or request.url.scheme == "https"
    response.set_cookie(name, value, httponly=True, samesite="strict", secure=secure, **kw)


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """``template`` in the request's language, with a CSRF token (and its cookie if new)."""
    context = ctx(request)
    lang = lang_of(request)
    seed = request.cookies.get(CSRF_COOKIE) or new_nonce()
    html = context.templates.get_template(template).render(
        t=lambda key, **fields: word(f"web.{key}", lang, **fields),
        lang=lang,
        languages=languages(),
        path=request.url.path,
        current_url=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        csrf=context.signer.csrf_token(seed),
        idle_minutes=int(context.config.idle.total_seconds() // 60),
        **values,
    )
    response = HTMLResponse(html, status_code=status)
    if request.cookies.get(CSRF_COOKIE) != seed:
        cookie(request, response, CSRF_COOKIE, seed)
    return response


async def form(request: Request) -> dict[str, str] | None:
    """The posted form's fields (first value of each); None when the CSRF check fails or the
    body is larger than :data:`MAX_FORM`."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            return None
    fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    ok = ctx(request).signer.csrf_ok(request.cookies.get(CSRF_COOKIE), fields.get("csrf"))
    return fields if ok else None


def forbidden(request: Request) -> HTMLResponse:
    """403: the form's CSRF token was missing, stale or foreign."""
    return render(request, "message.html", 403, message=word("web.csrf_failed", lang_of(request)))


def logged_in(request: Request) -> tuple[Account, Session] | None:
    """The active account of the request's session, if the session is valid, not idle and not
    ended by a logout."""
    context = ctx(request)
    now = context.clock()
    session = context.signer.session(request.cookies.get(SESSION_COOKIE), now=now)
    if session is None or web_sessions.is_ended(context.engine, session.nonce):
        return None
    account = accounts.get_account(context.engine, session.username)
    if account is None or not account.active:
        return None
    return account, Session(session.username, session.nonce, now)


def with_session(request: Request, response: Response, session: Session) -> Response:
    """``response`` with the session cookie re-signed (its idle time starts again)."""
    cookie(request, response, SESSION_COOKIE, ctx(request).signer.session_cookie(session))
    return response


def with_role(request: Request, *roles: Role) -> tuple[Account, Session] | Response:
    """The logged-in account if it has one of ``roles``; else the response to send: the login
    page for no session, 403 naming the roles needed and the account's roles otherwise."""
    found = logged_in(request)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    account, session = found
    if any(account.may(role) for role in roles):
        return found
    lang = lang_of(request)
    has = ", ".join(word(f"role.{r.value}", lang) for r in account.roles)
    needed = word("web.or", lang).join(word(f"role.{r.value}", lang) for r in roles)
    message = word("web.role_needed", lang, role=needed, roles=has or word("web.no_roles", lang))
    page = render(request, "message.html", 403, account=account, message=message)
    return with_session(request, page, session)


def landing(account: Account) -> str:
    """Where an account starts: a caseworker at the inbox, a facilitator or process owner at the
    process catalogue, anyone else at the inbox (whose 403 names the role it needs)."""
    if account.may(Role.CASEWORKER):
        return "/inbox"
    if account.may(Role.FACILITATOR) or account.may(Role.PROCESS_OWNER):
        return "/processes"
    return "/inbox"


def caseworker(request: Request) -> tuple[Account, Session] | Response:
    """The logged-in caseworker (:func:`with_role`)."""
    return with_role(request, Role.CASEWORKER)


def address(request: Request) -> str:
    """The client's address (``unknown`` when the server was not told)."""
    return request.client.host if request.client else "unknown"


def lane_name(request: Request, lane_id: str, lang: Language) -> str:
    """The organisation's name in ``lang`` (its id when the library has no such lane)."""
    lane = ctx(request).library.lanes.get(lane_id)
    return lane.name.get(lang) if lane else lane_id
