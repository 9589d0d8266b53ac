"""The API's draft routes (issue 13): a new draft from a version file's YAML.

Included in the API application by :func:`boflyt.web.api.create_api`.
"""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
