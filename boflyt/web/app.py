"""The web app factory: one FastAPI app over a store, a process library and the web settings.

:func:`create_app` takes everything it serves explicitly (tests pass a fresh store and a fixed
clock); :func:`app_from_workspace` builds it from the current workspace, as ``boflyt serve`` and
each of its workers do. Pages are rendered on the server from :mod:`boflyt.web.templates`;
:mod:`boflyt.web.static` holds the stylesheet and htmx, so nothing is fetched from a network.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine

from boflyt.engine.calendar import DEFAULT_CALENDAR, WorkCalendar
from boflyt.engine.definition.load import Library, load_library
from boflyt.engine.store.commands import wall_clock
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.words import DEFAULT_LANGUAGE, Language
from boflyt.web import api
from boflyt.web.pages import router
from boflyt.web.sessions import RateLimit, Signer, load_secret
from boflyt.workspace import Workspace

__all__ = ["WebConfig", "WebContext", "app_from_workspace", "create_app"]

HERE = Path(__file__).parent

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
"""Sent with every response: nothing from other origins, no framing, no referrer."""


@dataclass(frozen=True)
class WebConfig:
    """How the app behaves: cookie security, idle timeout, default language, login limit."""

    secret: bytes
    secure_cookies: bool = False
    """Mark cookies ``Secure`` (set it when served over https)."""
    idle: dt.timedelta = dt.timedelta(minutes=30)
    lang: Language = DEFAULT_LANGUAGE
    login_failures: int = 5
    login_window: dt.timedelta = dt.timedelta(minutes=5)
    min_cell: int = 5
    """The smallest group of cases a figure is shown for (``BOFLYT_MIN_CELL``)."""
    calendar: WorkCalendar = DEFAULT_CALENDAR
    """The working calendar due dates are counted on (the workspace's, with its closed days)."""


@dataclass
class WebContext:
    """What every request handler reads from ``request.app.state.boflyt``."""

    engine: Engine
    library: Library
    key: ReferenceKey
    """The store's reference key: a case reference typed in is kept only as its pseudonym."""
    config: WebConfig
    clock: Callable[[], dt.datetime]
    signer: Signer
    limit: RateLimit
    templates: Environment = field(
        default_factory=lambda: Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True),
        )
    )


def create_app(
    engine: Engine,
    library: Library,
    config: WebConfig,
    *,
    key: ReferenceKey,
    clock: Callable[[], dt.datetime] = wall_clock,
) -> FastAPI:
    """The web app serving ``engine``'s cases under ``library``'s processes and organisations;
    ``key`` is the store's reference key (:meth:`boflyt.workspace.Workspace.reference_key`)."""
    app = FastAPI(title="Boflyt", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.boflyt = WebContext(
        engine=engine,
        library=library,
        key=key,
        config=config,
        clock=clock,
        signer=Signer(config.secret, config.idle),
        limit=RateLimit(config.login_failures, config.login_window),
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(router)
    app.mount(api.PREFIX, api.create_api(app.state.boflyt))  # its own OpenAPI description

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    return app


def app_from_workspace() -> FastAPI:
    """The app of the current workspace: its store, library, settings and web secret."""
    workspace = Workspace.current()
    engine = workspace.open_store()
    settings = workspace.settings
    config = WebConfig(
        secret=load_secret(workspace.ensure_data_dir()),
        secure_cookies=settings.web_secure_cookies,
        idle=dt.timedelta(minutes=settings.web_idle_minutes),
        lang=settings.lang,
        min_cell=settings.min_cell,
        calendar=workspace.calendar(),
    )
    library = load_library(workspace.processes_dir)
    return create_app(engine, library, config, key=workspace.reference_key(engine))
