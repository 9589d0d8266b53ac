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
* the facilitators' and process owners' pages (issue 13): :mod:`~boflyt.web.process_pages`
  (with :mod:`~boflyt.web.process_figures`), :mod:`~boflyt.web.compare_page` (with
  :mod:`~boflyt.web.compare_figures`), :mod:`~boflyt.web.whatif_page` (with
  :mod:`~boflyt.web.whatif_jobs`), :mod:`~boflyt.web.trends_page` (with
  :mod:`~boflyt.web.trends_view`, :mod:`~boflyt.web.trends_chart`),
  :mod:`~boflyt.web.draft_pages`, :mod:`~boflyt.web.publish_pages`;
* :mod:`~boflyt.web.api` and :mod:`~boflyt.web.api_models` — the REST API under ``/api/v1``,
  with :mod:`~boflyt.web.api_processes`, :mod:`~boflyt.web.api_drafts`,
  :mod:`~boflyt.web.api_publish`.

Templates and static files (htmx, the stylesheet) ship inside the package.
"""

from __future__ import annotations

__all__ = [
    "access", "api", "api_drafts", "api_models", "api_processes", "api_publish", "app",
    "auth_pages", "case_page", "case_start", "compare_figures", "compare_page", "draft_pages",
    "inbox", "page_kit", "pages", "process_figures", "process_pages", "publish_pages", "refusals",
    "sessions", "start_page", "step_forms", "trends_chart", "trends_page", "trends_view",
    "whatif_jobs", "whatif_page", "work_pages",
]  # fmt: skip
