"""The ``escalate_overdue`` flow: mark work items that waited longer than their step allows.

Deployed on a daily schedule (``prefect.yaml``, Europe/Oslo). The store does the work in one
command transaction per case (each overdue item gets a ``step_escalated`` event in the case's
log); the flow adds a Prefect event with the count so an automation can notify someone.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, task
from prefect.events import emit_event

from boflyt.engine import store
from boflyt.engine.db import create_schema, make_engine
from boflyt.engine.load import load_library
from boflyt.flows import database_url_or_default, processes_or_default

__all__ = ["escalate", "escalate_overdue"]


@task(name="escalate-overdue-items", retries=3, retry_delay_seconds=5)
def escalate(now: str, database_url: str | None = None, processes_dir: str | None = None) -> int:
    """Escalate every overdue ready work item as of ``now`` (ISO, naive UTC); return the count."""
    engine = make_engine(database_url_or_default(database_url))
    try:
        create_schema(engine)
        library = load_library(processes_or_default(processes_dir))
        return store.escalate_overdue(engine, library=library, now=dt.datetime.fromisoformat(now))
    finally:
        engine.dispose()


@flow(name="escalate-overdue")
async def escalate_overdue(
    database_url: str | None = None, processes_dir: str | None = None, now: str | None = None
) -> int:
    """Escalate overdue work items of running live cases; return how many were escalated.

    ``now`` (ISO date-time, naive UTC) defaults to the current time.
    """
    at = now or dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    count = escalate(at, database_url=database_url, processes_dir=processes_dir)
    emit_event(
        event="boflyt.work.escalated",
        resource={"prefect.resource.id": "boflyt.store"},
        payload={"escalated": count, "at": at},
    )
    return count
