"""The web app (issue 12): FastAPI with server-rendered pages and a REST API, by ``boflyt serve``.

* :mod:`~boflyt.web.app` — the app factory over a store, a library and the web settings;
* :mod:`~boflyt.web.sessions` — signed session cookies, idle timeout, CSRF tokens, login limit;
* :mod:`~boflyt.web.access` — who may see a case and act on its steps (pages and API alike);
* :mod:`~boflyt.web.pages` — the pages' router: :mod:`~boflyt.web.auth_pages` (login, logout,
  language), :mod:`~boflyt.web.work_pages` (inbox, case page, step posts),
  :mod:`~boflyt.web.start_page` (start a case), with :mod:`~boflyt.web.page_kit` and
  :mod:`~boflyt.web.refusals` (the store's refusals in words);
* :mod:`~boflyt.web.inbox`, :mod:`~boflyt.web.case_page`, :mod:`~boflyt.web.step_forms`,
  :mod:`~boflyt.web.case_start` — what those pages show and do;
* :mod:`~boflyt.web.api` and :mod:`~boflyt.web.api_models` — the REST API under ``/api/v1``.

Templates and static files (htmx, the stylesheet) ship inside the package.
"""

from __future__ import annotations

__all__ = [
    "access", "api", "api_models", "app", "auth_pages", "case_page", "case_start", "inbox",
    "page_kit", "pages", "refusals", "sessions", "start_page", "step_forms", "work_pages",
]  # fmt: skip
