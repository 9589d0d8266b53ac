"""200 concurrent API completions of one step, against a real server: exactly one wins.

uvicorn serves the app on 127.0.0.1 at a free port in a thread; an asyncio client sends the 200
requests at once. On SQLite and on PostgreSQL: 1 × 200, 199 × 409 naming who completed the step,
and one ``step_completed`` event.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI

from boflyt.engine.store import accounts
from boflyt.engine.store import commands as store
from boflyt.engine.store.db import make_engine
from boflyt.models.vocabulary import EventKind, Role
from boflyt.web.app import WebConfig, create_app
from tests.factories import linear_version
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.slow

REQUESTS = 200


@pytest.fixture
def engine(any_engine):
    """The store under test; on PostgreSQL with a pool as large as the server's thread pool."""
    if any_engine.dialect.name != "postgresql":
        yield any_engine
        return
    url = any_engine.url.render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=40, max_overflow=10)
    yield engine
    engine.dispose()


def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1 at a free port in a thread; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", backlog=1024)
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not runner.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert runner.started, "uvicorn did not start within 20 s"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        runner.should_exit = True
        thread.join(timeout=20)


@pytest.fixture
def server(engine, library, key, monkeypatch) -> Iterator[tuple[str, str, str]]:
    """(base URL, ann's token, a case waiting on ann's step ``a``) with the app served."""
    monkeypatch.setattr(
        accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    now = store.wall_clock()
    accounts.add_account(engine, username="ann", password=PASSWORD, orgs=["housing_office"],
                         roles=[Role.CASEWORKER], now=now)  # fmt: skip
    token = accounts.new_token(engine, "ann", now=now)
    case = store.start_case(engine, version=linear_version(), ref="r-1", key=key, actor="ann",
                            org="housing_office", now=now - dt.timedelta(minutes=1),
                            lanes=library.lanes)  # fmt: skip
    app = create_app(engine, library, WebConfig(secret=b"s" * 32), key=key)
    for base in serve(app):
        yield base, token, case.case_id


async def _complete_all(base: str, token: str, case_id: str) -> list[httpx.Response]:
    url = f"{base}/api/v1/cases/{case_id}/steps/a/complete"
    limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        return await asyncio.gather(
            *(client.post(url, json={"minutes": 5}, headers=headers) for _ in range(REQUESTS))
        )


def test_200_concurrent_completions_of_one_step_give_one_200_and_199_409(engine, server):
    base, token, case_id = server
    started = time.monotonic()
    responses = asyncio.run(_complete_all(base, token, case_id))
    elapsed = time.monotonic() - started
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: REQUESTS - 1}, (statuses, elapsed)
    details = Counter(r.json()["detail"] for r in responses if r.status_code == 409)
    assert details == {"step 'a' already completed by ann": REQUESTS - 1}
    events = store.case_timeline(engine, case_id)
    done = [e for e in events if e.kind is EventKind.STEP_COMPLETED and e.step == "a"]
    assert len(done) == 1 and done[0].actor == "ann"
    print(f"{REQUESTS} concurrent completions on {engine.dialect.name}: {elapsed:.2f} s")
