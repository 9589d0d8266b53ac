"""The REST API under ``/api/v1``: the caseworkers' pages for scripts and integrations.

Bearer-token authentication (tokens from ``boflyt user token``); the same rules as the pages.
"""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")
