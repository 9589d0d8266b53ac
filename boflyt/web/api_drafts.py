"""The API's draft routes (issue 13): a new draft from a version file's YAML.

``POST /api/v1/processes/{process}/drafts`` with the version file's text as the body
(``Content-Type: application/yaml``; ``text/yaml``, ``text/plain`` and JSON, a subset of YAML,
are taken too) writes it as the process's next version through
:func:`boflyt.engine.definition.authoring.upload_draft`: ``version``, ``status: draft``,
``owner`` (the token's account) and ``date`` set, the rest of the text kept. Answers: 201 with the
new draft's number; 401 without a valid token; 403 without the process owner role; 404 an
unknown process; 413 a body over the definition size limit; 415 another content type; 422 every
problem of the text, each with its line, place and message (nothing is written then). The write
is recorded in the audit log (``draft_saved``) and the app's library reloaded, as the pages do.

Included in the API application by :func:`boflyt.web.api.create_api`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from boflyt.engine.definition.authoring import upload_draft
from boflyt.engine.definition.load import MAX_BYTES, load_library
from boflyt.engine.store import audit
from boflyt.models.errors import DefinitionError, NotFoundError, Problem
from boflyt.models.vocabulary import AuditAction, Role
from boflyt.web.api import ApiError, Bearer, Context, require

__all__ = ["DraftCreated", "DraftProblem", "DraftProblems", "router"]

router = APIRouter()

YAML_TYPES = frozenset(
    {
        "",
        "application/yaml",
        "application/x-yaml",
        "text/yaml",
        "text/x-yaml",
        "text/plain",
        "application/json",
    }
)
"""Content types taken as a version file's text (none given: taken as YAML too)."""


class DraftCreated(BaseModel):
    """A draft written from the posted text."""

    process: str
    number: int
    status: str
    owner: str
    hash: str
    """SHA-256 of the file's content, to send back when saving over it."""


class DraftProblem(BaseModel):
    """One problem of a posted text: its line (0: the whole file), place and message."""

    line: int
    place: str
    message: str


class DraftProblems(BaseModel):
    """Every problem of a posted text; nothing was written."""

    detail: str
    problems: list[DraftProblem]


_YAML_BODY = {
    "required": True,
    "content": {
        "application/yaml": {
            "schema": {"type": "string", "description": "A version file: processes/<p>/v<N>.yaml"}
        }
    },
}


async def _body(request: Request) -> str:
    """The request body as text, within the size limit of a definition file."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in YAML_TYPES:
        allowed = ", ".join(sorted(k for k in YAML_TYPES if k))
        raise ApiError(415, f"content type '{kind}' is not a version file; send one of {allowed}")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BYTES:
            raise ApiError(413, f"the body is over {MAX_BYTES // 1024} KB, the limit of a file")
    try:
        return raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError:
        raise ApiError(415, "the body is not UTF-8 text") from None


def _refused(problems: tuple[Problem, ...]) -> JSONResponse:
    listed = [DraftProblem(line=p.line, place=p.where, message=p.message) for p in problems]
    body = DraftProblems(detail=f"{len(listed)} problem(s); nothing was written", problems=listed)
    return JSONResponse(body.model_dump(), status_code=422)


@router.post(
    "/processes/{process}/drafts",
    status_code=201,
    response_model=DraftCreated,
    responses={422: {"model": DraftProblems}, 404: {}, 413: {}, 415: {}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/yaml": {
                    "schema": {
                        "type": "string",
                        "description": "A version file (processes/<process>/v<N>.yaml)",
                    }
                }
            },
        },
    },
)
async def create_draft(
    process: str, request: Request, account: Bearer, context: Context
) -> DraftCreated | JSONResponse:
    """Write the posted version file as the next draft of ``process`` (process owners only)."""
    require(account, Role.PROCESS_OWNER)
    text = await _body(request)
    try:
        draft = upload_draft(context.library.root, process, text, account.username,
                             context.clock())  # fmt: skip
    except NotFoundError as exc:
        raise ApiError(404, str(exc)) from None
    except DefinitionError as exc:
        return _refused(exc.problems)
    where = request.client.host if request.client else "unknown"
    audit.record(context.engine, actor=account.username, action=AuditAction.DRAFT_SAVED,
                 now=context.clock(), detail=f"{process} v{draft.number} uploaded (API)",
                 address=where)  # fmt: skip
    context.library = load_library(context.library.root)
    return DraftCreated(process=process, number=draft.number, status="draft",
                        owner=account.username, hash=draft.hash)  # fmt: skip
