"""Prefect flows: thin shells over the core for the long and the scheduled work.

* :func:`boflyt.flows.simulate.simulate_version` — simulate a version in chunks, store the cohort.
* :func:`boflyt.flows.analyse.compare_versions` — simulate two versions under one scenario, compare
  them, publish the comparison as Prefect artifacts.
* :func:`boflyt.flows.report.report_process` — write a process's before/after report.
* :func:`boflyt.flows.escalate.escalate_overdue` — mark overdue work items (daily deployment).
* :func:`boflyt.flows.deadlines.deadline_notices` — remind before steps' deadlines, escalate
  after them and send the e-mail outbox (:mod:`boflyt.flows.outbox`; working-day deployment).
* :func:`boflyt.flows.retention.retention` — remove the personal links of ended cases past
  their retention period (nightly deployment).
* :func:`boflyt.flows.imports.import_event_log` — read an event log, convert it, store the run
  set ``imported:<name>``.

Parameters are JSON-friendly (strings and numbers); every task wraps one core call and returns
something small (ids, paths, small dicts). Flows are ``async def``: a sync Prefect flow run waits
about 1 s for its heartbeat thread on exit, an async one does not (docs/guide/operator.md).

No flow takes the store as a parameter (it may hold a password, and Prefect stores parameters):
tasks find it with :func:`boflyt.flows.store.open_store`. ``processes_dir`` and ``work_dir`` are
parameters; ``None`` means the folders of the worker's workspace (:mod:`boflyt.workspace`).
"""

from __future__ import annotations

from pathlib import Path

from boflyt.workspace import Workspace

__all__ = ["processes_or_default", "work_dir_or_default"]


def processes_or_default(processes_dir: str | None) -> Path:
    """The process library folder to use: the given one, else the workspace's."""
    return Path(processes_dir) if processes_dir else Workspace.current().processes_dir


def work_dir_or_default(work_dir: str | None) -> Path:
    """Where simulation chunks are written between tasks (shared by all workers): the given
    folder, else the workspace's ``simulations`` folder."""
    return Path(work_dir) if work_dir else Workspace.current().simulations_dir
