"""The REST API under ``/api/v1``: the caseworkers' pages for scripts and integrations.

A FastAPI sub-application mounted at ``/api/v1`` by :func:`boflyt.web.app.create_app`, with its
own OpenAPI description at ``/api/v1/openapi.json`` (the pages have none). Every route needs an
API token (``Authorization: Bearer boflyt_…``, from ``boflyt user token``) of an active account
with the caseworker role; cookies are never read, so there is no CSRF to guard against.

The rules are the pages': a case is visible only to an account one of whose organisations has or
had work in it (:func:`boflyt.web.access.visible_case`; any other case is the same 404 as an
unknown one), a step is acted on for the account's organisation that the case core allows on it
(:func:`boflyt.web.access.acting_org`), checked by
:func:`boflyt.engine.store.accounts.check_actor`, and a case is started through
:mod:`boflyt.web.case_start`. Status codes: 401 (no or a bad token), 403 (another
organisation's step, no caseworker role), 404 (unknown or invisible case, unknown step), 409 (the
step is not open: already completed, say by whom, or not ready), 422 (bad input, naming the
field). No response and no message holds the case reference, nor repeats a refused input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine

from boflyt.engine.case import bounds
from boflyt.engine.case.flow import Flow, FlowStep, compile_flow
from boflyt.engine.case.state import CaseState, open_items
from boflyt.engine.definition.load import Library
from boflyt.engine.store import accounts, audit
from boflyt.engine.store import commands as store
from boflyt.engine.store.accounts import Account
from boflyt.models.errors import (
    AccessError,
    BoflytError,
    CommandError,
    ConflictError,
    DefinitionError,
    NotFoundError,
    StoreError,
)
from boflyt.models.events import Event
from boflyt.models.vocabulary import (
    AuditAction,
    EventKind,
    ItemStatus,
    Role,
    StepKind,
    VersionStatus,
)
from boflyt.models.words import Language
from boflyt.web import case_start
from boflyt.web.access import VisibleCase, acting_org, visible_case
from boflyt.web.api_models import (
    CaseRecord,
    CaseStarted,
    CompleteStep,
    Handoff,
    Inbox,
    InboxItem,
    OpenStep,
    Problem,
    StartCase,
    StepDone,
    TimelineEvent,
    ValidationProblems,
)
from boflyt.web.inbox import entry_due
from boflyt.web.step_forms import completed_by

if TYPE_CHECKING:
    from boflyt.web.app import WebContext

__all__ = ["PREFIX", "ApiError", "Bearer", "Context", "create_api", "require"]

PREFIX = "/api/v1"
"""Where :func:`boflyt.web.app.create_app` mounts the API."""

_BEARER = HTTPBearer(
    auto_error=False,
    bearerFormat="boflyt_…",
    description="An API token of a caseworker account: `boflyt user token USERNAME` prints one.",
)


class ApiError(Exception):
    """A refusal with its status code; ``field`` names the bad input of a 422."""

    def __init__(self, status: int, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.field = status, detail, field


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route's refusals (400: a body that is not JSON)."""
    return {code: {"model": ValidationProblems if code == 422 else Problem} for code in codes}


def create_api(context: WebContext) -> FastAPI:
    """The API application over ``context`` (the web app's store, library, key and clock)."""
    api = FastAPI(
        title="Boflyt API",
        version="1",
        summary="Caseworkers' work over HTTP: inbox, start a case, read it, begin and complete "
        "steps. Bearer tokens from `boflyt user token`.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        responses=_problems(401, 403),
    )
    api.state.boflyt = context
    api.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    api.add_exception_handler(RequestValidationError, _bad_shape)  # type: ignore[arg-type]
    api.add_exception_handler(BoflytError, _boflyt_error)  # type: ignore[arg-type]
    api.add_api_route("/inbox", inbox, methods=["GET"], response_model=Inbox)
    api.add_api_route("/cases", start, methods=["POST"], status_code=201,
                      response_model=CaseStarted, responses=_problems(400, 409, 422))  # fmt: skip
    api.add_api_route("/cases/{case_id}", read_case, methods=["GET"], response_model=CaseRecord,
                      responses=_problems(404))  # fmt: skip
    api.add_api_route("/cases/{case_id}/steps/{step}/begin", begin, methods=["POST"],
                      response_model=StepDone, responses=_problems(404, 409))  # fmt: skip
    api.add_api_route("/cases/{case_id}/steps/{step}/complete", complete, methods=["POST"],
                      response_model=StepDone, responses=_problems(400, 404, 409, 422))  # fmt: skip
    from boflyt.web import api_drafts, api_processes, api_publish

    api.include_router(api_processes.router)
    api.include_router(api_publish.router)
    api.include_router(api_drafts.router)
    return api


# --------------------------------------------------------------------------- errors


def _problem(status: int, detail: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _invalid(field: str, message: str, kind: str = "value_error") -> JSONResponse:
    body = {"detail": [{"loc": ["body", field], "msg": message, "type": kind}]}
    return JSONResponse(body, status_code=422)


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    if exc.status == 422:
        return _invalid(exc.field or "body", exc.detail)
    return _problem(exc.status, exc.detail)


async def _bad_shape(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Pydantic's 422, without the input it refused (it may be a case reference)."""
    problems = [
        {"loc": [str(p) if not isinstance(p, int) else p for p in e["loc"]], "msg": e["msg"],
         "type": e["type"]}
        for e in exc.errors()
    ]  # fmt: skip
    return JSONResponse({"detail": problems}, status_code=422)


async def _boflyt_error(request: Request, exc: BoflytError) -> JSONResponse:
    """The store's refusals not mapped by a route: their natural status."""
    if isinstance(exc, NotFoundError):
        return _problem(404, str(exc))
    if isinstance(exc, AccessError):
        return _problem(403, str(exc))
    if isinstance(exc, ConflictError | CommandError):
        return _problem(409, str(exc))
    if isinstance(exc, StoreError):
        return _problem(503, "the case store is not available; try again")
    return _problem(500, type(exc).__name__)


# --------------------------------------------------------------------------- who calls


def _context(request: Request) -> WebContext:
    return request.app.state.boflyt  # type: ignore[no-any-return]


Context = Annotated["WebContext", Depends(_context)]


def _bearer(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> Account:
    """The active account whose token the request carries; 401 without a valid one."""
    if credentials is None:
        raise ApiError(401, "no API token; send 'Authorization: Bearer boflyt_…' "
                            "(boflyt user token USERNAME prints one)")  # fmt: skip
    account = accounts.account_for_token(context.engine, credentials.credentials)
    if account is None:
        raise ApiError(401, "unknown or revoked API token (or its account is disabled)")
    return account


Bearer = Annotated[Account, Depends(_bearer)]
"""Any active account with a valid token (routes check their own role: :func:`require`)."""


def require(account: Account, *roles: Role) -> Account:
    """``account`` if it has one of ``roles``; else 403 naming them."""
    if not any(account.may(role) for role in roles):
        needed = " or ".join(role.value for role in roles)
        raise ApiError(403, f"account '{account.username}' lacks the role {needed}")
    return account


def _caller(account: Bearer) -> Account:
    """The account whose token the request carries; 401 without a valid one, 403 without the
    caseworker role."""
    return require(account, Role.CASEWORKER)


Caller = Annotated[Account, Depends(_caller)]


def _address(request: Request) -> str:
    """The client's address, kept in the audit log (``unknown`` when the server was not told)."""
    return request.client.host if request.client else "unknown"


def _field(field: str, check: Any, *args: Any, **kw: Any) -> None:
    """Run the store's bound ``check``; a refusal is a 422 naming ``field``."""
    try:
        check(*args, **kw)
    except CommandError as exc:
        raise ApiError(422, str(exc), field=field) from None


# --------------------------------------------------------------------------- reading


def _utc(at: dt.datetime) -> dt.datetime:
    """A stored naive UTC time, marked as UTC."""
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


def _minutes(span: dt.timedelta) -> int:
    return max(int(span.total_seconds() // 60), 0)


def _flow(engine: Engine, library: Library, process: str, version: int) -> Flow:
    chosen = store.get_version(engine, process=process, version=version)
    return compile_flow(chosen, store.outside_lanes(chosen, library.lanes))


def _open_steps(
    flow: Flow, state: CaseState, orgs: Sequence[str], lang: Language
) -> list[OpenStep]:
    steps = []
    for item in open_items(state):
        step = flow.version.step(item.step)
        steps.append(OpenStep(
            step=item.step, name=step.name.get(lang), status=item.status, lanes=list(step.lanes),
            ready_since=_utc(item.ready_at),
            yours=bool(flow.steps[item.step].allowed & set(orgs)),
        ))  # fmt: skip
    return steps


def inbox(context: Context, account: Caller) -> Inbox:
    """The open work of the caller's organisations, oldest first; each step once, with the
    organisations of the caller that may act on it, when it is due and whether it is overdue
    (as the inbox page: :func:`boflyt.web.inbox.entry_due`)."""
    now = context.clock()
    flows: dict[tuple[str, int], Flow] = {}
    items = []
    for entry in store.inbox(context.engine, org=account.orgs, now=now):
        key = (entry.process, entry.version)
        flow = flows.get(key) or flows.setdefault(key, _flow(context.engine, context.library, *key))
        step = flow.version.step(entry.step)
        found = entry_due(context.engine, entry, flow.version, context.config.calendar, now)
        due = found.due
        items.append(InboxItem(
            case_id=entry.case_id, process=entry.process, version=entry.version, step=entry.step,
            step_name=step.name.get(context.config.lang), orgs=list(entry.orgs),
            status=entry.status, ready_since=_utc(entry.ready_at),
            started_at=_utc(entry.started_at) if entry.started_at else None,
            waited_minutes=_minutes(entry.waited), due=_utc(due) if due else None,
            overdue=found.overdue, basis=found.basis or None,
        ))  # fmt: skip
    return Inbox(items=items)


def _visible(context: WebContext, case_id: str, account: Account) -> VisibleCase:
    """The case if one of the account's organisations has or had work in it; else 404, the same
    for an unknown case (the id given is not repeated: it may be a reference)."""
    try:
        return visible_case(context.engine, case_id, account.orgs)
    except NotFoundError as exc:
        raise ApiError(404, str(exc)) from None


def read_case(case_id: str, request: Request, context: Context, account: Caller) -> CaseRecord:
    """A case's state, open steps and timeline (with every handoff's channel and wait); the
    read is kept in the audit log (action ``case_read``, detail ``api``)."""
    seen = _visible(context, case_id, account)
    state, events, flow = seen.state, seen.events, seen.flow
    now = context.clock()
    record = CaseRecord(
        case_id=state.case_id, process=state.process, version=state.version, status=state.status,
        started_at=_utc(state.started_at),
        finished_at=_utc(state.finished_at) if state.finished_at else None,
        open_steps=_open_steps(flow, state, account.orgs, context.config.lang),
        timeline=[_event(e, state, now) for e in events],
    )  # fmt: skip
    involved = seen.involved
    audit.record(context.engine, actor=account.username, action=AuditAction.CASE_READ, now=now,
                 org=next((o for o in account.orgs if o in involved), None),
                 case_id=state.case_id, detail="api", address=_address(request))  # fmt: skip
    return record


_NOTED = frozenset({EventKind.STEP_COMPLETED, EventKind.CASE_CANCELLED})
"""Events whose ``detail`` is a person's note (a completion's note, a cancellation's reason)."""


def _event(e: Event, state: CaseState, now: dt.datetime) -> TimelineEvent:
    return TimelineEvent(
        seq=e.seq, at=_utc(e.at), kind=e.kind, step=e.step, actor=e.actor, org=e.org,
        outcome=e.outcome, minutes=e.touch_minutes,
        note=e.detail if e.kind in _NOTED else None,
        handoff=_handoff(e, state, now) if e.kind is EventKind.HANDOFF else None,
    )  # fmt: skip


def _handoff(e: Event, state: CaseState, now: dt.datetime) -> Handoff:
    """The handoff and how long its work waited to be begun (the item it made ready)."""
    item = next((i for i in state.items if i.step == e.to_step and i.ready_at == e.at), None)
    waiting = item is not None and item.status is ItemStatus.READY
    until = (item.started_at or item.done_at or now) if item else None
    return Handoff(
        from_org=e.from_lane or "", to_org=e.to_lane or "", from_step=e.from_step or "",
        to_step=e.to_step or "", channel=e.channel,
        wait_minutes=_minutes(until - e.at) if until else None, waiting=waiting,
    )  # fmt: skip


# --------------------------------------------------------------------------- changing


def start(body: StartCase, request: Request, context: Context, account: Caller) -> CaseStarted:
    """Start a case as the caller, for its organisation that may start one on the version."""
    _field("process", bounds.check_text, body.process, what="process", limit=bounds.MAX_ID)
    _field("reference", bounds.check_reference, body.reference)
    try:
        chosen = context.library.get(body.process, body.version)
    except NotFoundError as exc:
        known = body.process in context.library.processes()
        raise ApiError(422, str(exc), field="version" if known else "process") from None
    except DefinitionError:
        raise ApiError(422, f"{body.process} v{body.version} does not load; see 'boflyt check'",
                       field="version") from None  # fmt: skip
    if chosen.status is not VersionStatus.PUBLISHED:
        raise ApiError(422, f"{chosen.key} is {chosen.status.value}; cases start only on "
                            "published versions", field="version")  # fmt: skip
    now = context.clock()
    try:
        state = case_start.start(context.engine, context.library, context.key, account=account,
                                 process=body.process, version=body.version,
                                 reference=body.reference, now=now,
                                 address=_address(request))  # fmt: skip
    except ConflictError:
        raise ApiError(409, f"a running {chosen.process} case already has this reference; "
                            "continue that case or cancel it first") from None  # fmt: skip
    flow = store.case_flow(context.engine, state)
    return CaseStarted(
        case_id=state.case_id, reference_pseudonym=context.key.pseudonym(body.reference)[:10],
        process=state.process, version=state.version, status=state.status,
        open_steps=_open_steps(flow, state, account.orgs, context.config.lang),
    )  # fmt: skip


def _prepare(context: WebContext, case_id: str, step: str, account: Account) -> tuple[Flow, str]:
    """The case's flow and the organisation to act for: 404 for an invisible case or an
    unknown step, 403 when none of the account's organisations may act on it."""
    flow = _visible(context, case_id, account).flow
    try:
        org = acting_org(flow, step, account.orgs)
    except NotFoundError as exc:
        raise ApiError(404, str(exc)) from None
    except AccessError as exc:
        raise ApiError(403, str(exc)) from None
    accounts.check_actor(context.engine, account.username, org)
    return flow, org


def _not_open(context: WebContext, case_id: str, step: str, exc: BoflytError) -> NoReturn:
    """409 for a step that is not open: who completed it if it was, else why."""
    done_by = completed_by(context.engine, case_id, step)
    if done_by is not None:
        raise ApiError(409, f"step '{step}' already completed by {done_by}") from None
    raise ApiError(409, str(exc)) from None


def _done(context: WebContext, state: CaseState, flow: Flow, account: Account) -> StepDone:
    steps = _open_steps(flow, state, account.orgs, context.config.lang)
    return StepDone(case_id=state.case_id, status=state.status, open_steps=steps)


def begin(case_id: str, step: str, request: Request, context: Context, account: Caller) -> StepDone:
    """Record that the caller has begun work on a ready step."""
    flow, org = _prepare(context, case_id, step, account)
    now = context.clock()
    try:
        state = store.begin_step(context.engine, case_id=case_id, step=step,
                                 actor=account.username, org=org, now=now,
                                 lanes=context.library.lanes, clock=lambda: now,
                                 address=_address(request))  # fmt: skip
    except AccessError:
        raise
    except (CommandError, ConflictError) as exc:
        _not_open(context, case_id, step, exc)
    return _done(context, state, flow, account)


def complete(
    case_id: str, step: str, request: Request, context: Context, account: Caller,
    body: CompleteStep | None = None,
) -> StepDone:  # fmt: skip
    """Complete an open step (begun or only ready) as the caller; a decision needs its outcome."""
    given = body or CompleteStep()
    flow, org = _prepare(context, case_id, step, account)
    _check_outcome(flow.steps[step], given.outcome)
    if given.note is not None:
        _field("note", bounds.check_text, given.note, what="note", limit=bounds.MAX_REASON)
    _field("minutes", bounds.check_minutes, given.minutes)
    now = context.clock()
    try:
        state = store.complete_step(context.engine, case_id=case_id, step=step,
                                    actor=account.username, org=org, outcome=given.outcome,
                                    touch_minutes=given.minutes, note=given.note, now=now,
                                    lanes=context.library.lanes, clock=lambda: now,
                                    address=_address(request))  # fmt: skip
    except AccessError:
        raise
    except (CommandError, ConflictError) as exc:
        _not_open(context, case_id, step, exc)
    return _done(context, state, flow, account)


def _check_outcome(step: FlowStep, outcome: str | None) -> None:
    """422 (field ``outcome``) for a decision without one of its outcomes, or an outcome given
    to a step that is no decision."""
    if step.kind is StepKind.DECISION and outcome not in step.outcomes:
        raise ApiError(422, f"step '{step.id}' is a decision; outcome must be one of: "
                            f"{', '.join(step.outcomes)}", field="outcome")  # fmt: skip
    if step.kind is not StepKind.DECISION and outcome is not None:
        raise ApiError(422, f"step '{step.id}' is a {step.kind.value}, not a decision; it takes "
                            "no outcome", field="outcome")  # fmt: skip
