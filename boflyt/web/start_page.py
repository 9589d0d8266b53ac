"""The start-a-case page: choose a process (and optionally its version), type the case reference.

The reference (it may be a fødselsnummer) is typed in a field the browser does not show or
remember (``type=password``, ``autocomplete=off``), posted in the form body (never a URL), passed
only to :func:`boflyt.web.case_start.start`, and never rendered back: a refused start shows the
form again with the reference field empty and the reason at its field. A started case redirects
to its case page, which shows only the case id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from boflyt.models.errors import AccessError, CommandError, ConflictError, NotFoundError
from boflyt.models.words import word
from boflyt.web import case_start
from boflyt.web.page_kit import (
    address,
    caseworker,
    ctx,
    forbidden,
    form,
    lang_of,
    render,
    with_session,
)

if TYPE_CHECKING:
    from boflyt.engine.store.accounts import Account
    from boflyt.web.sessions import Session

__all__ = ["router"]

router = APIRouter()


def _page(
    request: Request, account: Account, session: Session, status: int = 200, **values: Any
) -> Response:
    context = ctx(request)
    choices = case_start.startable(context.library, context.engine, account,
                                   lang=lang_of(request))  # fmt: skip
    page = render(request, "start.html", status, account=account, choices=choices, **values)
    return with_session(request, page, session)


def _newest(request: Request, account: Account, process: str) -> int | None:
    """The newest published version of ``process`` the account may start (None: none is, and
    :func:`~boflyt.web.case_start.start` says why); the library's newest may start elsewhere."""
    context = ctx(request)
    for choice in case_start.startable(context.library, context.engine, account):
        if choice.process == process:
            return choice.versions[-1]
    return None


@router.get("/cases/new")
def start_page(request: Request) -> Response:
    """The form to start a case on a process the account may start."""
    found = caseworker(request)
    if isinstance(found, Response):
        return found
    return _page(request, *found)


@router.post("/cases/new")
async def start_case(request: Request) -> Response:
    """Start the case and go to its page; the form again, with the reason at its field, if the
    store refuses."""
    found = caseworker(request)
    if isinstance(found, Response):
        return found
    fields = await form(request)
    if fields is None:
        return forbidden(request)
    account, session = found
    context, lang = ctx(request), lang_of(request)
    process = fields.get("process", "")[:64]
    typed_version = fields.get("version", "").strip()[:12]
    kept = {"process": process, "version": typed_version}
    if typed_version and not typed_version.isdigit():
        error = word("web.start_bad_version", lang)
        return _page(request, account, session, 422, version_error=error, **kept)
    version = int(typed_version) if typed_version else _newest(request, account, process)
    try:
        state = case_start.start(
            context.engine, context.library, context.key, account=account, process=process,
            version=version,
            reference=fields.get("reference", ""), now=context.clock(), clock=context.clock,
            address=address(request),
        )  # fmt: skip
    except NotFoundError:
        key = "version" if typed_version else "process"
        error = word(f"web.start_no_{key}", lang)
        return _page(request, account, session, 422, **{f"{key}_error": error}, **kept)
    except AccessError:
        error = word("web.start_not_allowed", lang)
        return _page(request, account, session, 403, process_error=error, **kept)
    except ConflictError:
        error = word("web.start_duplicate", lang)
        return _page(request, account, session, 409, reference_error=error, **kept)
    except CommandError as refused:
        on_reference = "reference" in str(refused)
        key = "web.start_bad_reference" if on_reference else "web.start_refused"
        error = word(key, lang, reason=str(refused))
        field = "reference_error" if on_reference else "process_error"
        return _page(request, account, session, 422, **{field: error}, **kept)
    return with_session(request, RedirectResponse(f"/cases/{state.case_id}", 303), session)
