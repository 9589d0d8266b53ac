"""The KPI trends page (issue 13): registered lead time, handoffs, waits per process and month."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
