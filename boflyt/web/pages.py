"""The pages' router: signing in and out (:mod:`boflyt.web.auth_pages`), the caseworker's inbox,
case page and step forms (:mod:`boflyt.web.work_pages`) and starting a case
(:mod:`boflyt.web.start_page`).

What every page shares (rendering in the page language, CSRF-checked forms, the session and the
caseworker role) is :mod:`boflyt.web.page_kit`; :func:`boflyt.web.app.create_app` mounts
:data:`router`.
"""

from __future__ import annotations

from fastapi import APIRouter

from boflyt.web import auth_pages, start_page, work_pages
from boflyt.web.page_kit import CSRF_COOKIE, LANG_COOKIE, SESSION_COOKIE

__all__ = ["CSRF_COOKIE", "LANG_COOKIE", "SESSION_COOKIE", "router"]

router = APIRouter()
router.include_router(auth_pages.router)
router.include_router(start_page.router)  # before work_pages: /cases/new is no case id
router.include_router(work_pages.router)
