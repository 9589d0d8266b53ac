"""The what-if page (issue 13): simulate a version under an edited scenario, in the background."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
