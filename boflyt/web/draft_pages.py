"""The process owners' pages (issue 13): drafts edited in the browser, diffed and published."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
