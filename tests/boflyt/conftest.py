"""Shared set-up of the command-line tests: the real process library and a new, empty store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from boflyt.engine.definition.load import load_library
from boflyt.engine.store import accounts
from boflyt.models.vocabulary import Role
from boflyt.workspace import Workspace

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
"""The process library shipped with Boflyt."""


@pytest.fixture
def cli_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A folder (returned) for a command-line test on the real process library.

    A wide terminal; the store in its ``data/`` (SQLite, empty until a command writes), reports in
    its ``reports/``; no store URL, workspace home or language from the environment.
    """
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("BOFLYT_PROCESSES_DIR", str(PROCESSES))
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BOFLYT_REPORTS_DIR", str(tmp_path / "reports"))
    for name in ("DATABASE_URL", "HOME", "LANG"):
        monkeypatch.delenv(f"BOFLYT_{name}", raising=False)
    return tmp_path


STAFF = ("kari", "ole", "staff", "ann")
"""The caseworker accounts :func:`staff` adds, each acting for every organisation."""
PASSWORD = "correct horse battery"


def add_staff(*names: str, orgs: tuple[str, ...] | None = None) -> None:
    """Add active caseworker accounts ``names`` to the current workspace's store, acting for
    ``orgs`` (default: every organisation of the library), as ``boflyt user add`` would."""
    workspace = Workspace.current()
    engine = workspace.open_store()
    lanes = orgs or tuple(lane.id for lane in load_library(workspace.processes_dir).lanes.lanes)
    for name in names:
        if accounts.get_account(engine, name) is not None:  # a shared PostgreSQL test store
            continue
        accounts.add_account(engine, username=name, password=PASSWORD, orgs=lanes,
                             roles=[Role.CASEWORKER], now=dt.datetime(2025, 1, 1))  # fmt: skip
    engine.dispose()


@pytest.fixture
def staff(cli_folder: Path) -> Callable[..., None]:
    """The store of ``cli_folder`` with the :data:`STAFF` accounts; call it to add more."""
    add_staff(*STAFF)
    return add_staff
