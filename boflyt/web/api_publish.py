"""The API's publishing routes (issue 13): publish and retire a version, process owners only.

Included in the API application by :func:`boflyt.web.api.create_api`.
"""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
