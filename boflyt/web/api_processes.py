"""The API's process routes (issue 13): the catalogue, version diagrams, drafts, publishing.

Mirrors the facilitators' and process owners' pages with the same authorisation; included in
the API application by :func:`boflyt.web.api.create_api`.
"""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
