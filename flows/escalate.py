"""The ``escalate_overdue`` flow: mark work items that waited longer than their step allows.

Deployed on a daily schedule (``prefect.yaml``, Europe/Oslo). The store does the work in one
command transaction per case (each overdue item gets a ``step_escalated`` event in the case's
log); the flow adds a Prefect event with the count so an automation can notify someone. Each
case's wait limits come from the version it is pinned to in the store, so the flow needs no
process library.

The store is the worker's, never a parameter (:func:`boflyt.flows.store.open_store`): the
Prefect Secret block named by ``BOFLYT_DATABASE_URL_SECRET``, else ``BOFLYT_DATABASE_URL``, else
the SQLite store of the worker's workspace.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, task
from prefect.events import emit_event

from boflyt.engine.store import commands as store
from boflyt.flows.store import open_store

__all__ = ["escalate", "escalate_overdue"]


@task(name="escalate-overdue-items", retries=3, retry_delay_seconds=5)
def escalate(now: str) -> int:
    """Escalate every overdue ready work item as of ``now`` (ISO, naive UTC); return the count."""
    engine = open_store()
    try:
        return store.escalate_overdue(engine, now=dt.datetime.fromisoformat(now))
    finally:
        engine.dispose()


@flow(name="escalate-overdue")
async def escalate_overdue(now: str | None = None) -> int:
    """Escalate overdue work items of running live cases; return how many were escalated.

    ``now`` (ISO date-time, naive UTC) defaults to the current time. The store is the worker's
    (see the module's docstring).
    """
    at = now or dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    count = escalate(at)
    emit_event(
        event="boflyt.work.escalated",
        resource={"prefect.resource.id": "boflyt.store"},
        payload={"escalated": count, "at": at},
    )
    return count
