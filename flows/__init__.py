"""Prefect flows: thin shells over the core for the long and the scheduled work.

* :func:`boflyt.flows.simulate.simulate_version` — simulate a version in chunks, store the cohort.
* :func:`boflyt.flows.analyse.compare_versions` — simulate two versions under one scenario, compare
  them, publish the comparison as Prefect artifacts.
* :func:`boflyt.flows.escalate.escalate_overdue` — mark overdue work items (daily deployment).

Parameters are JSON-friendly (strings and numbers); every task wraps one core call and returns
something small (ids, paths, small dicts). Flows are ``async def``: a sync Prefect flow run waits
about 1 s for its heartbeat thread on exit, an async one does not (see the README). Settings are
read by the caller (the CLI or the deployment's parameters); ``None`` means the repository's own
``processes/`` folder and the SQLite store in its ``data/`` folder, the same defaults as
:mod:`boflyt.settings`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["REPOSITORY", "database_url_or_default", "processes_or_default", "work_dir_or_default"]

REPOSITORY = Path(__file__).resolve().parent.parent
"""The checkout the flows run from (deployments set it as the working directory)."""


def processes_or_default(processes_dir: str | None) -> Path:
    """The process library folder to use."""
    return Path(processes_dir) if processes_dir else REPOSITORY / "processes"


def database_url_or_default(database_url: str | None) -> str:
    """The store URL to use (SQLite in ``data/`` when none is given)."""
    return database_url or f"sqlite:///{REPOSITORY / 'data' / 'boflyt.db'}"


def work_dir_or_default(work_dir: str | None) -> Path:
    """Where simulation chunks are written between tasks (shared by all workers)."""
    return Path(work_dir) if work_dir else REPOSITORY / "data" / "simulations"
