"""The facilitators' process pages (issue 13): the process catalogue and a version's page.

Read-only for caseworkers; facilitators and process owners see everything.
"""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
