"""Where a flow run finds its store: never a parameter; a named Secret block, else the worker's."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest
from prefect import Flow

from boflyt.flows.store import flow_workspace
from boflyt.models.errors import SettingsError

FLOW_MODULES = ["simulate", "analyse", "report", "escalate"]
SECRET_LIKE = re.compile(r"database|url|dsn|password|secret|credential", re.IGNORECASE)


def _flows() -> list[Flow]:  # type: ignore[type-arg]
    modules = [importlib.import_module(f"boflyt.flows.{name}") for name in FLOW_MODULES]
    return [obj for module in modules for obj in vars(module).values() if isinstance(obj, Flow)]


def test_every_flow_module_has_a_flow() -> None:
    assert {flow.name for flow in _flows()} >= {
        "simulate-version",
        "compare-versions",
        "report-process",
        "escalate-overdue",
    }


@pytest.mark.parametrize("flow", _flows(), ids=lambda flow: flow.name)
def test_no_flow_takes_the_store_or_a_secret_as_a_parameter(flow) -> None:
    names = set(inspect.signature(flow.fn).parameters)
    assert not {name for name in names if SECRET_LIKE.search(name)}


@pytest.fixture
def outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder outside any workspace, with no BOFLYT_* store settings."""
    for name in ("BOFLYT_HOME", "BOFLYT_DATABASE_URL", "BOFLYT_DATABASE_URL_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _never(name: str) -> object:
    raise AssertionError(f"looked up the Secret block {name!r}")


def test_without_a_secret_name_the_workers_url_is_used_and_no_block_is_read(
    outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert flow_workspace(load=_never).database_url == f"sqlite:///{outside / 'data/boflyt.db'}"
    monkeypatch.setenv("BOFLYT_DATABASE_URL", "postgresql+psycopg://boflyt@db/boflyt")
    assert flow_workspace(load=_never).database_url == "postgresql+psycopg://boflyt@db/boflyt"


def test_a_named_secret_block_wins_over_the_environment(
    outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOFLYT_DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("BOFLYT_DATABASE_URL_SECRET", "boflyt-database-url")
    secrets = {"boflyt-database-url": "postgresql+psycopg://boflyt:hemmelig@db/boflyt"}
    workspace = flow_workspace(load=secrets.__getitem__)
    assert workspace.database_url == "postgresql+psycopg://boflyt:hemmelig@db/boflyt"
    assert workspace.data_dir == outside / "data"


def test_a_secret_that_is_no_store_url_is_refused_without_showing_it(
    outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOFLYT_DATABASE_URL_SECRET", "boflyt-database-url")
    with pytest.raises(SettingsError) as caught:
        flow_workspace(load=lambda name: "mysql://root:hemmelig@db/x")
    assert "'boflyt-database-url'" in str(caught.value)
    assert "sqlite:///" in str(caught.value)
    assert "hemmelig" not in str(caught.value)
