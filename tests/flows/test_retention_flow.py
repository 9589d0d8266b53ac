"""The ``retention`` flow under the Prefect test harness (``PREFECT_HOME`` a temporary folder):
the worker's workspace sets the periods, the worker's store loses the expired links."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from boflyt.engine.store import audit
from boflyt.engine.store import commands as store
from boflyt.engine.store.db import make_engine, open_schema
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.flows.retention import retention
from boflyt.models.vocabulary import AuditAction
from tests.factories import linear_version

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]  # a Prefect server
ENDED = dt.datetime(2019, 3, 4, 9, 0)


@pytest.fixture
def worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The worker's workspace (``BOFLYT_HOME``, keeping links two years) and its SQLite store."""
    (tmp_path / "boflyt.toml").write_text('[retention]\ndefault = "2y"\n', encoding="utf-8")
    monkeypatch.delenv("BOFLYT_DATABASE_URL_SECRET", raising=False)
    monkeypatch.delenv("BOFLYT_DATABASE_URL", raising=False)
    monkeypatch.delenv("BOFLYT_DATA_DIR", raising=False)
    monkeypatch.setenv("BOFLYT_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _cancelled_case(root: Path) -> tuple[str, ReferenceKey]:
    (root / "data").mkdir(mode=0o700, exist_ok=True)
    engine = make_engine(f"sqlite:///{root / 'data' / 'boflyt.db'}")
    open_schema(engine)
    key = ReferenceKey.load_or_create(root / "data" / "reference.key")
    who = {"actor": "ann", "org": "housing_office"}
    state = store.start_case(engine, version=linear_version(), ref="R-1", key=key, now=ENDED,
                             **who)  # fmt: skip
    store.cancel_case(engine, case_id=state.case_id, now=ENDED + dt.timedelta(hours=1), **who)
    engine.dispose()
    return state.case_id, key


def test_the_flow_removes_expired_links_once_and_counts_a_dry_run(worker: Path) -> None:
    case_id, key = _cancelled_case(worker)
    assert asyncio.run(retention(now="2020-01-01T00:00:00")) == 0  # not yet two years
    assert asyncio.run(retention(now="2022-01-01T00:00:00", dry_run=True)) == 1
    assert asyncio.run(retention(now="2022-01-01T00:00:00")) == 1
    assert asyncio.run(retention(now="2022-01-01T00:00:00")) == 0  # nothing twice
    engine = make_engine(f"sqlite:///{worker / 'data' / 'boflyt.db'}")
    assert store.find_case_by_ref(engine, ref="R-1", key=key) == []
    entries = [e for e in audit.case_log(engine, case_id) if e.action is AuditAction.RETENTION]
    assert [e.actor for e in entries] == ["system"]
    assert audit.verify(engine).intact
    engine.dispose()
