"""The API's publishing routes (issue 13): publish a draft and retire a published version,
process owners only.

``POST /api/v1/processes/{process}/versions/{number}/publish`` and ``…/retire`` do what the
pages' confirmation buttons do (:func:`boflyt.web.publish_pages.change_status`: the file edited
minimally, the audit entry, the library reloaded). Answers: 200 with the version's new status;
401 without a valid token; 403 without the process owner role; 404 an unknown process or
version; 409 not a draft (publish) / not published (retire), or the file changed meanwhile; 422
a draft with problems, each with its line, place and message (nothing is written).

Included in the API application by :func:`boflyt.web.api.create_api`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from boflyt.models.errors import ConflictError, DefinitionError, NotFoundError
from boflyt.models.vocabulary import Role, VersionStatus
from boflyt.web.api import ApiError, Bearer, Context, require
from boflyt.web.api_models import Problem
from boflyt.web.publish_pages import Action, change_status

__all__ = ["StatusChanged", "router"]

router = APIRouter()

_PATH = "/processes/{process}/versions/{number}"


class StatusChanged(BaseModel):
    """A version whose status a process owner changed."""

    process: str
    version: int
    status: VersionStatus
    previous: VersionStatus
    owner: str
    date: str
    by: str


def _change(
    context: Context, request: Request, account: Bearer, action: Action, process: str, number: int
) -> StatusChanged | JSONResponse:
    require(account, Role.PROCESS_OWNER)
    where = request.client.host if request.client else "unknown"
    try:
        done = change_status(context, action, process, number, account, where)
    except NotFoundError as exc:
        raise ApiError(404, str(exc)) from None
    except ConflictError as exc:
        raise ApiError(409, str(exc)) from None
    except DefinitionError as exc:
        detail = [
            {"loc": ["file", p.line, p.where], "msg": p.message, "type": "definition_problem"}
            for p in exc.problems
        ]
        return JSONResponse({"detail": detail}, status_code=422)
    version = done.version
    return StatusChanged(process=version.process, version=version.version, status=done.after,
                         previous=done.before, owner=version.owner,
                         date=version.date.isoformat(), by=account.username)  # fmt: skip


_REFUSALS: dict[int | str, dict[str, Any]] = {404: {"model": Problem}, 409: {"model": Problem}}
"""The answers besides 200, 401, 403 and 422: an unknown process or version, a wrong status."""


@router.post(f"{_PATH}/publish", response_model=StatusChanged, responses=_REFUSALS)
def publish_version(
    context: Context, request: Request, account: Bearer, process: str, number: int
) -> StatusChanged | JSONResponse:
    """Publish a draft: it becomes final and cases can start on it (process owners only)."""
    return _change(context, request, account, "publish", process, number)


@router.post(f"{_PATH}/retire", response_model=StatusChanged, responses=_REFUSALS)
def retire_version(
    context: Context, request: Request, account: Bearer, process: str, number: int
) -> StatusChanged | JSONResponse:
    """Retire a published version: no new cases start on it (process owners only)."""
    return _change(context, request, account, "retire", process, number)
