"""The process owners' publishing pages (issue 13): diff a draft against any version, publish it,
retire a version."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
