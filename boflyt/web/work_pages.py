"""The caseworker's pages: the inbox (with its filters), a case's timeline and its step forms.

Every page here needs a logged-in account with the caseworker role (403 naming the role and the
account's roles otherwise, :func:`boflyt.web.page_kit.caseworker`). The inbox's filter form is a
plain GET form; with JavaScript on, htmx fetches only the table (``HX-Request``) and pushes the
filtered URL. A refused command keeps the case page with the store's refusal in the page
language (:mod:`boflyt.web.refusals`), at its field where it has one: 409 when the case is not in
a state for it, 422 for bad input, 404 for a step the case's version has not or an action other
than begin and complete (as the API), never an error page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from boflyt.engine.case.bounds import MAX_REASON, MAX_TOUCH_MINUTES
from boflyt.engine.store import audit
from boflyt.models.errors import AccessError, CommandError, ConflictError, NotFoundError
from boflyt.models.vocabulary import AuditAction
from boflyt.models.words import word
from boflyt.web import step_forms
from boflyt.web.case_page import case_page
from boflyt.web.inbox import InboxFilter, inbox_rows, page_of
from boflyt.web.page_kit import (
    address,
    caseworker,
    ctx,
    forbidden,
    form,
    lane_name,
    lang_of,
    render,
    with_session,
)
from boflyt.web.refusals import refusal

if TYPE_CHECKING:
    from boflyt.engine.store.accounts import Account
    from boflyt.web.sessions import Session

__all__ = ["router"]

router = APIRouter()


@router.get("/inbox")
def inbox(request: Request) -> Response:
    """The work the account's organisations may act on, oldest first, filtered by the query;
    only the table for an htmx request."""
    found = caseworker(request)
    if isinstance(found, Response):
        return found
    account, session = found
    context, lang = ctx(request), lang_of(request)
    everything = inbox_rows(context.engine, context.library, account.orgs,
                            now=session.last_seen, lang=lang,
                            calendar=context.config.calendar)  # fmt: skip
    only = InboxFilter.parse(account.orgs, dict(request.query_params))
    shown = page_of([row for row in everything if only.keeps(row)], only.page)
    values: dict[str, Any] = {
        "account": account, "rows": shown.rows, "shown": shown, "only": only,
        "total": len(everything),
        "orgs": [(org, lane_name(request, org, lang)) for org in account.orgs],
        "processes": sorted({row.process_id for row in everything}),
    }  # fmt: skip
    partial = request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )
    page = render(request, "inbox_table.html" if partial else "inbox.html", **values)
    page.headers["Vary"] = "HX-Request"
    return with_session(request, page, session)


@router.get("/cases/{case_id}")
def case(request: Request, case_id: str) -> Response:
    """A case's timeline, for an account whose organisation has or had work in it, with forms
    for the open steps of the account's organisations."""
    found = caseworker(request)
    if isinstance(found, Response):
        return found
    return case_response(request, *found, case_id[:64], read=True)


def case_response(
    request: Request, account: Account, session: Session, case_id: str, status: int = 200,
    errors: dict[str, str] | None = None, *, read: bool = False,
) -> Response:  # fmt: skip
    """The case page (404 when not the account's), with the step forms and any ``errors``;
    ``read``: record the read in the audit log (a page shown after a post is the post's)."""
    context, lang = ctx(request), lang_of(request)
    try:
        page = case_page(context.engine, context.library, case_id, account.orgs, lang=lang,
                         now=session.last_seen, calendar=context.config.calendar)  # fmt: skip
    except NotFoundError:
        message = word("web.case_not_found", lang)
        missing = render(request, "message.html", 404, account=account, message=message)
        return with_session(request, missing, session)
    forms = step_forms.step_forms(context.engine, case_id, account.orgs, lang=lang)
    if read:
        audit.record(context.engine, actor=account.username, action=AuditAction.CASE_READ,
                     now=session.last_seen, case_id=page.case_id, detail="web",
                     org=next((o for o in account.orgs if o in page.involved), None),
                     address=address(request))  # fmt: skip
    shown = render(request, "case.html", status, account=account, case=page, forms=forms,
                   note_max=MAX_REASON, **(errors or {}))  # fmt: skip
    return with_session(request, shown, session)


@router.post("/cases/{case_id}/steps/{step_id}/{action}")
async def act_on_step(request: Request, case_id: str, step_id: str, action: str) -> Response:
    """Begin or complete (``action``) a step of the case as the logged-in account."""
    found = caseworker(request)
    if isinstance(found, Response):
        return found
    fields = await form(request)
    if fields is None:
        return forbidden(request)
    account, session = found
    context, case_id, lang = ctx(request), case_id[:64], lang_of(request)
    try:
        case_page(context.engine, context.library, case_id, account.orgs, lang=lang)
    except NotFoundError:
        return case_response(request, account, session, case_id)
    kept = {"note_value": fields.get("note", "")[: MAX_REASON * 2], "note_step": step_id}
    try:
        _act(request, account, case_id, step_id, action, fields)
    except AccessError:
        message = word("web.not_your_step", lang)
        refused = render(request, "message.html", 403, account=account, message=message)
        return with_session(request, refused, session)
    except ConflictError:
        by = step_forms.completed_by(context.engine, case_id, step_id) or "?"
        message = word("web.already_completed", lang, user=by)
        return case_response(request, account, session, case_id, 409, {"conflict": message})
    except _BadMinutes:
        bounds = word("web.minutes_bounds", lang, max=f"{MAX_TOUCH_MINUTES:,.0f}")
        errors = {"minutes_error": bounds, "minutes_step": step_id, **kept}
        return case_response(request, account, session, case_id, 422, errors)
    except NotFoundError as error:  # no such step in the case's version, or no such action
        return case_response(request, account, session, case_id, 404, {"refused": str(error)})
    except CommandError as error:
        shown = refusal(str(error), lang)
        if shown.field is not None:
            at_field = {**kept, f"{shown.field}_error": shown.message,
                        f"{shown.field}_step": step_id}  # fmt: skip
            return case_response(request, account, session, case_id, shown.status, at_field)
        key = "conflict" if shown.known else "refused"
        return case_response(request, account, session, case_id, shown.status,
                             {key: shown.message})  # fmt: skip
    return with_session(request, RedirectResponse(f"/cases/{case_id}", 303), session)


class _BadMinutes(Exception):
    """The minutes field is not a number within the store's bounds."""


def _act(
    request: Request, account: Account, case_id: str, step_id: str, action: str,
    fields: dict[str, str],
) -> None:  # fmt: skip
    context = ctx(request)
    user, orgs, now, where = account.username, account.orgs, context.clock(), address(request)
    if action == "begin":
        step_forms.begin(context.engine, context.library, case_id, step_id, username=user,
                         orgs=orgs, now=now, address=where)  # fmt: skip
        return
    if action != "complete":
        raise NotFoundError("no such action on a step; actions: begin, complete")
    try:
        minutes = step_forms.parse_minutes(fields.get("minutes", ""))
    except CommandError:
        raise _BadMinutes from None
    outcome = fields.get("outcome") or None
    note = fields.get("note", "").strip() or None
    step_forms.complete(context.engine, context.library, case_id, step_id, username=user,
                        orgs=orgs, now=now, outcome=outcome, minutes=minutes, note=note,
                        address=where)  # fmt: skip
