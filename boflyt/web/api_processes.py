"""The API's process routes (issue 13): the catalogue and a version's swimlane.

Mirrors the process catalogue and a version's diagram download (:mod:`boflyt.web.process_pages`)
for scripts and integrations; included in the API application by
:func:`boflyt.web.api.create_api`. Any active account with an API token may read them (a
process's design holds no personal data); 401 without a valid token, 404 for an unknown process
or version (and for a version whose file is broken: it has no diagram).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel

from boflyt.engine.definition.library import BrokenFile
from boflyt.models.errors import DefinitionError, NotFoundError
from boflyt.models.words import Language
from boflyt.web.api import ApiError, Bearer, Context
from boflyt.web.api_models import Problem
from boflyt.web.process_figures import swimlane_file

__all__ = ["ProcessEntry", "Processes", "VersionEntry", "router"]

router = APIRouter()


class VersionEntry(BaseModel):
    """One version file of a process: its number, status and, when it loads, label, owner and
    date. A file that does not load has status ``broken`` and only its number."""

    version: int | None
    status: Literal["draft", "published", "retired", "broken"]
    label: str | None = None
    owner: str | None = None
    date: dt.date | None = None
    content_hash: str | None = None
    """SHA-256 of the version's canonical form: equal hashes, equal versions."""


class ProcessEntry(BaseModel):
    """A process of the library and its versions, by number."""

    process: str
    name: str
    """The process's name (bokmål) in its newest loaded version; its id when none loads."""
    versions: list[VersionEntry]


class Processes(BaseModel):
    """Every process of the library, by id."""

    processes: list[ProcessEntry]


@router.get("/processes", response_model=Processes)
def processes(context: Context, account: Bearer) -> Processes:
    """Every process with its versions and their status (any role)."""
    library = context.library
    found = []
    for process in sorted({*library.processes(), *library.broken}):
        versions = []
        for entry in library.entries(process):
            if isinstance(entry, BrokenFile):
                versions.append(VersionEntry(version=entry.number, status="broken"))
            else:
                versions.append(VersionEntry(
                    version=entry.version, status=entry.status.value, label=entry.label,
                    owner=entry.owner, date=entry.date, content_hash=entry.content_hash,
                ))  # fmt: skip
        loaded = library.versions(process)
        name = loaded[-1].name.nb if loaded else process
        found.append(ProcessEntry(process=process, name=name, versions=versions))
    return Processes(processes=found)


@router.get(
    "/processes/{process}/versions/{version}/swimlane.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}, 404: {"model": Problem}},
)
def swimlane(
    context: Context,
    account: Bearer,
    process: str,
    version: Annotated[int, Path(ge=1)],
    lang: Literal["nb", "en"] = "nb",
) -> Response:
    """The version's swimlane as an SVG file (``lang``: the diagram's language)."""
    try:
        chosen = context.library.get(process, version)
    except (NotFoundError, DefinitionError):
        raise ApiError(
            404, "no such process or version; GET /api/v1/processes lists them"
        ) from None
    data = swimlane_file(chosen, context.library.lanes, Language(lang), "svg")
    return Response(data, media_type="image/svg+xml")
