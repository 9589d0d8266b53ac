"""The before/after page (issue 13): two versions side by side, their comparison and timelines."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
