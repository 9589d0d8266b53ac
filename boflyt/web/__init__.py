"""The web app (issue 12): FastAPI with server-rendered pages, started by ``boflyt serve``.

* :mod:`~boflyt.web.app` — the app factory over a store, a library and the web settings;
* :mod:`~boflyt.web.sessions` — signed session cookies, idle timeout, CSRF tokens, login limit;
* :mod:`~boflyt.web.pages` — login, logout, the language switch, the inbox;
* :mod:`~boflyt.web.inbox` — the inbox's rows, merged over the account's organisations;
* :mod:`~boflyt.web.case_page` — a case's timeline, for organisations with work in it.

Templates and static files (htmx, the stylesheet) ship inside the package.
"""

from __future__ import annotations

__all__ = ["app", "case_page", "inbox", "pages", "sessions"]
