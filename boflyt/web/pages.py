"""The pages' router: signing in and out (:mod:`boflyt.web.auth_pages`), the caseworker's inbox,
case page and step forms (:mod:`boflyt.web.work_pages`) and starting a case
(:mod:`boflyt.web.start_page`); the facilitators' and process owners' pages (issue 13):
:mod:`boflyt.web.process_pages`, :mod:`boflyt.web.compare_page`, :mod:`boflyt.web.whatif_page`,
:mod:`boflyt.web.trends_page`, :mod:`boflyt.web.draft_pages`,
:mod:`boflyt.web.publish_pages`; moving running cases to another version (issue 15):
:mod:`boflyt.web.migration_pages`.

What every page shares (rendering in the page language, CSRF-checked forms, the session and the
caseworker role) is :mod:`boflyt.web.page_kit`; :func:`boflyt.web.app.create_app` mounts
:data:`router`.
"""

from __future__ import annotations

from fastapi import APIRouter

from boflyt.web import (
    auth_pages,
    compare_page,
    draft_pages,
    migration_pages,
    process_pages,
    publish_pages,
    start_page,
    trends_page,
    whatif_page,
    work_pages,
)
from boflyt.web.page_kit import CSRF_COOKIE, LANG_COOKIE, SESSION_COOKIE

__all__ = ["CSRF_COOKIE", "LANG_COOKIE", "SESSION_COOKIE", "router"]

router = APIRouter()
router.include_router(auth_pages.router)
router.include_router(start_page.router)  # before work_pages: /cases/new is no case id
router.include_router(work_pages.router)
router.include_router(process_pages.router)
router.include_router(compare_page.router)
router.include_router(whatif_page.router)
router.include_router(trends_page.router)
router.include_router(draft_pages.router)
router.include_router(publish_pages.router)
router.include_router(migration_pages.router)
