"""The authorisation matrix: every page and API route × every principal, each with its status.

Principals: anonymous; a disabled account (its session cookie and API token taken while it was
active); a caseworker of the case's organisation (``own``, the housing office); a caseworker of
another organisation only (``other``, NAV); a facilitator, a process owner and an admin without
the caseworker role, each in the housing office. The API has one more: a bad token.

Cases: ``{a}`` is a fresh case waiting on the housing office's step ``a`` (NAV has had no work in
it, so NAV cannot see it); ``{b}`` a fresh case the housing office handed to NAV's step ``b`` (both
see it, only NAV acts). Every cell gets its own fresh case, so one cell's completion never changes
another's answer.

The rules the tables spell out, the same for pages and API: no session is the login page (API:
401); no caseworker role is 403; a case none of your organisations has or had work in is 404, like
an unknown one; a step of a case you see but may not act on is 403. Page forms carry a valid CSRF
token (anonymous ones too, from the login page); :data:`NO_CSRF` shows the same posts without it.

``test_every_route_has_its_rows`` walks the app's routes (and the mounted API's), so a new route
cannot be added without its row. docs/reference/permissions.md is this matrix in words.
"""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from starlette.routing import Mount

from boflyt.engine.definition.load import Library
from boflyt.engine.store import accounts
from boflyt.engine.store import commands as store
from boflyt.engine.store.db import make_engine, open_schema
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.vocabulary import Role
from boflyt.web.api import PREFIX
from boflyt.web.app import WebConfig, create_app
from tests.factories import linear_version
from tests.web.cells import (
    API_WHO,
    CASE,
    INBOX,
    LOGIN,
    PAGE_WHO,
    PROCS,
    STARTED,
    UNKNOWN,
    Call,
    Expected,
)
from tests.web.conftest import MONDAY, PASSWORD, Clock, csrf_of
from tests.web.test_api import auth

# --------------------------------------------------------------------------- the pages

STEPS = "/cases/{case_id}/steps/{step_id}/{action}"
PAGE_CALLS = {
    "home": Call("GET", "/", "/"),
    "login form": Call("GET", "/login", "/login"),
    "log in (own name and password)": Call("POST", "/login", "/login"),
    "log out": Call("POST", "/logout", "/logout"),
    "switch language": Call("GET", "/language/{code}", "/language/en?next=/inbox"),
    "inbox": Call("GET", "/inbox", "/inbox"),
    "inbox table (htmx)": Call("GET", "/inbox", "/inbox?status=ready", htmx=True),
    "start form": Call("GET", "/cases/new", "/cases/new"),
    "start private_lease": Call("POST", "/cases/new", "/cases/new", {"process": "private_lease"}),
    "start eviction_prevention": Call(
        "POST", "/cases/new", "/cases/new", {"process": "eviction_prevention"}
    ),
    "case {a}": Call("GET", "/cases/{case_id}", "/cases/{a}"),
    "unknown case": Call("GET", "/cases/{case_id}", f"/cases/{UNKNOWN}"),
    "begin {a} step a": Call("POST", STEPS, "/cases/{a}/steps/a/begin"),
    "complete {a} step a": Call("POST", STEPS, "/cases/{a}/steps/a/complete", {"minutes": "5"}),
    "begin {b} step b": Call("POST", STEPS, "/cases/{b}/steps/b/begin"),
    "complete {b} step b": Call("POST", STEPS, "/cases/{b}/steps/b/complete", {"minutes": "5"}),
    "complete {a} unknown step": Call("POST", STEPS, "/cases/{a}/steps/zzz/complete"),
    "unknown action on {a} step a": Call("POST", STEPS, "/cases/{a}/steps/a/undo"),
}

PAGES: dict[str, tuple[Expected, ...]] = {
    # row                          anonymous disabled own      other    facilit. proc.own admin
    "home":                          (LOGIN, LOGIN,   INBOX,   INBOX,   PROCS,   PROCS,   INBOX),
    "login form":                    (200,   200,     200,     200,     200,     200,     200),
    "log in (own name and password)": (401,  401,     INBOX,   INBOX,   PROCS,   PROCS,   INBOX),
    "log out":                       (LOGIN, LOGIN,   LOGIN,   LOGIN,   LOGIN,   LOGIN,   LOGIN),
    "switch language":               (INBOX, INBOX,   INBOX,   INBOX,   INBOX,   INBOX,   INBOX),
    "inbox":                         (LOGIN, LOGIN,   200,     200,     403,     403,     403),
    "inbox table (htmx)":            (LOGIN, LOGIN,   200,     200,     403,     403,     403),
    "start form":                    (LOGIN, LOGIN,   200,     200,     403,     403,     403),
    "start private_lease":           (LOGIN, LOGIN,   STARTED, STARTED, 403,     403,     403),
    "start eviction_prevention":     (LOGIN, LOGIN,   403,     STARTED, 403,     403,     403),
    "case {a}":                      (LOGIN, LOGIN,   200,     404,     403,     403,     403),
    "unknown case":                  (LOGIN, LOGIN,   404,     404,     403,     403,     403),
    "begin {a} step a":              (LOGIN, LOGIN,   CASE,    404,     403,     403,     403),
    "complete {a} step a":           (LOGIN, LOGIN,   CASE,    404,     403,     403,     403),
    "begin {b} step b":              (LOGIN, LOGIN,   403,     CASE,    403,     403,     403),
    "complete {b} step b":           (LOGIN, LOGIN,   403,     CASE,    403,     403,     403),
    "complete {a} unknown step":     (LOGIN, LOGIN,   404,     404,     403,     403,     403),
    "unknown action on {a} step a":  (LOGIN, LOGIN,   404,     404,     403,     403,     403),
}  # fmt: skip

NO_CSRF: dict[str, tuple[Expected, Expected]] = {
    # the same posts without the CSRF token: anonymous  own caseworker
    "log in (own name and password)": (403, 403),
    "log out":                        (403, 403),
    "start private_lease":            (LOGIN, 403),  # the session is checked first
    "complete {a} step a":            (LOGIN, 403),
}  # fmt: skip

# --------------------------------------------------------------------------- the API

API_BEGIN = "/cases/{case_id}/steps/{step}/begin"
API_COMPLETE = "/cases/{case_id}/steps/{step}/complete"
LEASE, EVICTION = {"process": "private_lease"}, {"process": "eviction_prevention"}
FIVE = {"minutes": 5}
API_CALLS = {  # routes and URLs under PREFIX
    "inbox": Call("GET", "/inbox", "/inbox"),
    "start private_lease": Call("POST", "/cases", "/cases", LEASE),
    "start eviction_prevention": Call("POST", "/cases", "/cases", EVICTION),
    "case {a}": Call("GET", "/cases/{case_id}", "/cases/{a}"),
    "unknown case": Call("GET", "/cases/{case_id}", f"/cases/{UNKNOWN}"),
    "begin {a} step a": Call("POST", API_BEGIN, "/cases/{a}/steps/a/begin"),
    "complete {a} step a": Call("POST", API_COMPLETE, "/cases/{a}/steps/a/complete", FIVE),
    "begin {b} step b": Call("POST", API_BEGIN, "/cases/{b}/steps/b/begin"),
    "complete {b} step b": Call("POST", API_COMPLETE, "/cases/{b}/steps/b/complete", FIVE),
    "complete {a} unknown step": Call("POST", API_COMPLETE, "/cases/{a}/steps/zzz/complete"),
}  # fmt: skip

API: dict[str, tuple[int, ...]] = {
    # row                      anonymous bad_token disabled own other facilit. proc.own admin
    "inbox":                      (401, 401,      401,     200, 200,  403,     403,     403),
    "start private_lease":        (401, 401,      401,     201, 201,  403,     403,     403),
    "start eviction_prevention":  (401, 401,      401,     403, 201,  403,     403,     403),
    "case {a}":                   (401, 401,      401,     200, 404,  403,     403,     403),
    "unknown case":               (401, 401,      401,     404, 404,  403,     403,     403),
    "begin {a} step a":           (401, 401,      401,     200, 404,  403,     403,     403),
    "complete {a} step a":        (401, 401,      401,     200, 404,  403,     403,     403),
    "begin {b} step b":           (401, 401,      401,     403, 200,  403,     403,     403),
    "complete {b} step b":        (401, 401,      401,     403, 200,  403,     403,     403),
    "complete {a} unknown step":  (401, 401,      401,     404, 404,  403,     403,     403),
}  # fmt: skip


def _extend() -> None:
    """Take in the rows kept beside later pages' own tests: each ``tests/web/matrix_*.py``
    may define ``PAGE_CALLS``, ``PAGES``, ``API_CALLS`` and ``API`` in the form used here
    (importing :class:`Call` and the expected answers from this module)."""
    for path in sorted(Path(__file__).parent.glob("matrix_*.py")):
        module = importlib.import_module(f"tests.web.{path.stem}")
        for name, rows in (("PAGE_CALLS", PAGE_CALLS), ("PAGES", PAGES),
                           ("API_CALLS", API_CALLS), ("API", API)):  # fmt: skip
            rows.update(getattr(module, name, {}))


_extend()

NOT_IN_THE_MATRIX = {
    ("GET", "/static"),  # the stylesheet and htmx: public files
    ("GET", PREFIX + "/openapi.json"),  # the API's public description
}
"""Routes the coverage check lets pass without a row."""

# --------------------------------------------------------------------------- the world


ACCOUNTS = {
    # principal: (user name, organisation, roles)
    "disabled": ("dee", "housing_office", [Role.CASEWORKER]),
    "own": ("ann", "housing_office", [Role.CASEWORKER]),
    "other": ("bo", "nav", [Role.CASEWORKER]),
    "facilitator": ("fay", "housing_office", [Role.FACILITATOR]),
    "process_owner": ("pia", "housing_office", [Role.PROCESS_OWNER]),
    "admin": ("ada", "housing_office", [Role.ADMIN]),
}


@dataclass
class World:
    """One store and app for the module: a logged-in client and an API token per principal."""

    engine: Engine
    library: Library
    key: ReferenceKey
    app: FastAPI
    clients: dict[str, TestClient]
    tokens: dict[str, str]

    def case(self, handed: bool) -> str:
        """A fresh case on the housing office's step a (``handed``: completed, now NAV's b)."""
        given = {"key": self.key, "actor": "ann", "org": "housing_office",
                 "lanes": self.library.lanes}  # fmt: skip
        ref = f"ref-{uuid.uuid4().hex[:12]}"
        case_id = store.start_case(self.engine, version=linear_version(), ref=ref, now=MONDAY,
                                   **given).case_id  # fmt: skip
        if handed:
            store.complete_step(self.engine, case_id=case_id, step="a", now=MONDAY, **given)
        return case_id

    def url(self, call: Call) -> tuple[str, str | None]:
        """The call's URL with its fresh case, and that case's id (None: no case in it)."""
        for slot, handed in (("{a}", False), ("{b}", True)):
            if slot in call.url:
                case_id = self.case(handed)
                return call.url.replace(slot, case_id), case_id
        return call.url, None

    def client(self, who: str) -> TestClient:
        """A new client logged in as ``who`` (a cell that ends its session gets its own)."""
        new = TestClient(self.app, base_url="http://testserver")
        if who not in ("anonymous", "disabled"):
            log_in(new, ACCOUNTS[who][0])
        return new


def log_in(client: TestClient, username: str) -> None:
    data = {"username": username, "password": PASSWORD, "csrf": csrf_of(client)}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, library: Library) -> Iterator[World]:
    """Logins with the cheapest argon2 parameters (this module is about who may do what, and
    the log-out cells log in afresh), each principal logged in once."""
    here: Path = tmp_path_factory.mktemp("matrix")
    with pytest.MonkeyPatch.context() as patch, ExitStack() as stack:
        cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        patch.setattr(accounts, "_HASHER", cheap)
        engine = make_engine(f"sqlite:///{here / 'boflyt.db'}")
        stack.callback(engine.dispose)
        open_schema(engine)
        key = ReferenceKey.load_or_create(here / "keys" / "reference.key")
        for name, org, roles in ACCOUNTS.values():
            accounts.add_account(engine, username=name, password=PASSWORD, orgs=[org],
                                 roles=roles, now=MONDAY)  # fmt: skip
        clock = Clock(MONDAY + dt.timedelta(days=2))
        app = create_app(engine, library, WebConfig(secret=b"m" * 32), key=key, clock=clock)
        world = World(engine, library, key, app, {}, {})
        for who in PAGE_WHO:
            world.clients[who] = stack.enter_context(TestClient(app, base_url="http://testserver"))
            if who != "anonymous":
                log_in(world.clients[who], ACCOUNTS[who][0])
                world.tokens[who] = accounts.new_token(engine, ACCOUNTS[who][0], now=MONDAY)
        world.tokens["bad_token"] = "boflyt_" + "x" * 40
        # disabled after its session and token were made: neither works any more
        accounts.disable_account(engine, "dee", now=MONDAY)
        yield world


# --------------------------------------------------------------------------- the checks


def _check(response: Any, expected: Expected, case_id: str | None, cell: str) -> None:
    status, where = expected if isinstance(expected, tuple) else (expected, None)
    assert response.status_code == status, f"{cell}: {response.status_code} {response.text[:300]}"
    if where is None:
        return
    location = response.headers["location"]
    if where.endswith("*"):
        assert location.startswith(where[:-1]) and location != where[:-1], cell
    else:
        assert location == where.replace("{case}", case_id or ""), cell


def _page_cells() -> list[tuple[str, str]]:
    return [(row, who) for row in PAGES for who in PAGE_WHO]


@pytest.mark.parametrize("row, who", _page_cells())
def test_page(world: World, row: str, who: str) -> None:
    call = PAGE_CALLS[row]
    expected = PAGES[row][PAGE_WHO.index(who)]
    client = world.client(who) if row == "log out" else world.clients[who]
    url, case_id = world.url(call)
    before = store.case_timeline(world.engine, case_id) if case_id else []
    if call.method == "GET":
        headers = {"HX-Request": "true"} if call.htmx else {}
        response = client.get(url, headers=headers, follow_redirects=False)
    else:
        data = {**call.body, "csrf": csrf_of(client)}
        if row.startswith("log in"):
            user = ACCOUNTS[who][0] if who in ACCOUNTS else "nobody"
            data |= {"username": user, "password": PASSWORD}
        if row.startswith("start"):
            data["reference"] = f"ref-{uuid.uuid4().hex[:12]}"
        response = client.post(url, data=data, follow_redirects=False)
    _check(response, expected, case_id, f"{who} {call.method} {url}")
    if expected != CASE:  # a refused post (and any read) leaves the case's events as they were
        assert not _changed(world, case_id, before)
    if call.htmx and response.status_code == 200:
        assert "<html" not in response.text  # only the table
    if row == "log out" and who not in ("anonymous", "disabled"):
        assert client.get("/inbox", follow_redirects=False).headers["location"] == "/login"


def _changed(world: World, case_id: str | None, before: list[Any]) -> bool:
    return case_id is not None and store.case_timeline(world.engine, case_id) != before


@pytest.mark.parametrize("row", NO_CSRF)
@pytest.mark.parametrize("who", ["anonymous", "own"])
def test_a_page_post_without_the_csrf_token(world: World, row: str, who: str) -> None:
    call = PAGE_CALLS[row]
    client = world.client(who) if row == "log out" else world.clients[who]
    url, case_id = world.url(call)
    before = store.case_timeline(world.engine, case_id) if case_id else []
    data = {**call.body, "username": "ann", "password": PASSWORD, "reference": "r-no-csrf"}
    response = client.post(url, data=data, follow_redirects=False)
    _check(response, NO_CSRF[row][0 if who == "anonymous" else 1], case_id, f"{who} {url}")
    assert not _changed(world, case_id, before)


@pytest.mark.parametrize("row, who", [(row, who) for row in API for who in API_WHO])
def test_api(world: World, row: str, who: str) -> None:
    call = API_CALLS[row]
    expected = API[row][API_WHO.index(who)]
    url, case_id = world.url(call)
    url = PREFIX + url
    headers = auth(world.tokens[who]) if who in world.tokens else {}
    body = dict(call.body)
    if row.startswith("start"):
        body["reference"] = f"ref-{uuid.uuid4().hex[:12]}"
    before = store.case_timeline(world.engine, case_id) if case_id else []
    response = world.clients["anonymous"].request(call.method, url, headers=headers,
                                                  json=body or None)  # fmt: skip
    _check(response, expected, case_id, f"{who} {call.method} {url}")
    if expected >= 400:
        assert not _changed(world, case_id, before)


def test_pages_and_api_give_the_same_answer() -> None:
    """Rows the pages and the API share answer alike: a page's login redirect is the API's
    401, a page's redirect after a change the API's 200 or 201; 403 and 404 are the same."""
    as_api = {LOGIN: 401, CASE: 200, STARTED: 201}
    for row in API_CALLS.keys() & PAGE_CALLS.keys():
        pages = {who: PAGES[row][i] for i, who in enumerate(PAGE_WHO)}
        api = {who: API[row][API_WHO.index(who)] for who in PAGE_WHO}
        translated = {w: as_api.get(e, e) if isinstance(e, tuple) else e for w, e in pages.items()}
        assert translated == api, row


def _routes(app: FastAPI, prefix: str = "") -> set[tuple[str, str]]:
    """Every (method, path) ``app`` serves, included routers and mounted apps walked (HEAD, which
    comes with GET, left out); a mount of anything but an app (static files) is its path."""
    found = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            inner = route.original_route.app
            if isinstance(inner, FastAPI):
                found |= _routes(inner, prefix + route.original_route.path)
            else:
                found.add(("GET", prefix + route.original_route.path))
            continue
        methods = route.methods or set()
        found |= {(m, f"{prefix}{route.path}") for m in methods if m != "HEAD"}
    return found


def test_every_route_has_its_rows(world: World) -> None:
    """A route of the app without a row in :data:`PAGES` or :data:`API` fails here."""
    covered = {(c.method, c.route) for c in PAGE_CALLS.values()}
    covered |= {(c.method, PREFIX + c.route) for c in API_CALLS.values()}
    served = _routes(world.app)
    assert served - covered - NOT_IN_THE_MATRIX == set()
    assert covered - served == set()  # no row for a route that is gone
    assert served >= NOT_IN_THE_MATRIX
    assert PAGES.keys() == PAGE_CALLS.keys() and API.keys() == API_CALLS.keys()
