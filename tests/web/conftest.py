"""The web app over a fresh SQLite store: two caseworkers (housing office, NAV) and two cases.

Case A waits on the housing office's step ``a``; case B, started earlier, waits on NAV's ``b``.
``clock`` is the app's clock, moved by tests (``clock.now += …``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from boflyt.engine.definition.load import Library, load_library
from boflyt.engine.store import accounts
from boflyt.engine.store import commands as store
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.vocabulary import Role
from boflyt.web.app import WebConfig, create_app
from boflyt.workspace import shipped_library
from tests.factories import linear_version

MONDAY = dt.datetime(2025, 1, 6, 9, 0)
PASSWORD = "correct horse battery"
REF_A = "01017012345"  # looks like a fødselsnummer: must never reach a page
REF_B = "02027012345"


@dataclass
class Clock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass(frozen=True)
class Cases:
    a: str  # waits on the housing office
    b: str  # waits on NAV


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library(shipped_library())


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY + dt.timedelta(days=2))


@pytest.fixture
def key(tmp_path: Path) -> ReferenceKey:
    return ReferenceKey.load_or_create(tmp_path / "keys" / "reference.key")


@pytest.fixture
def web_store(sqlite_engine: Engine, key: ReferenceKey, library: Library) -> tuple[Engine, Cases]:
    """Accounts ann (housing office), bo (NAV), cy (disabled) and the two cases."""
    engine = sqlite_engine
    for name, org in (("ann", "housing_office"), ("bo", "nav"), ("cy", "housing_office")):
        accounts.add_account(engine, username=name, password=PASSWORD, orgs=[org],
                             roles=[Role.CASEWORKER], now=MONDAY)  # fmt: skip
    accounts.disable_account(engine, "cy", now=MONDAY)
    given = {"key": key, "actor": "ann", "org": "housing_office", "lanes": library.lanes}
    b = store.start_case(engine, version=linear_version(), ref=REF_B, now=MONDAY, **given)
    store.complete_step(engine, case_id=b.case_id, step="a", actor="ann", org="housing_office",
                        now=MONDAY + dt.timedelta(hours=1))  # fmt: skip
    a = store.start_case(engine, version=linear_version(), ref=REF_A,
                         now=MONDAY + dt.timedelta(hours=2), **given)  # fmt: skip
    return engine, Cases(a=a.case_id, b=b.case_id)


@pytest.fixture
def config() -> WebConfig:
    return WebConfig(secret=b"s" * 32)


@pytest.fixture
def client(web_store, library, config, clock, key) -> Iterator[TestClient]:
    app = create_app(web_store[0], library, config, key=key, clock=clock)
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


def csrf_of(client: TestClient, path: str = "/login") -> str:
    """The CSRF token of the form on ``path`` (which also sets the CSRF cookie)."""
    html = client.get(path).text
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def log_in(client: TestClient, username: str, password: str = PASSWORD, **kw):
    data = {"username": username, "password": password, "csrf": csrf_of(client)}
    return client.post("/login", data=data, follow_redirects=False, **kw)
