"""The ``retention`` flow: remove the personal links of ended cases past their retention period.

Deployed on a daily schedule (``prefect.yaml``, Europe/Oslo). The periods are the worker's
workspace's (``[retention]`` in ``boflyt.toml``); with none set the flow removes nothing. The
store does the work (:func:`boflyt.engine.store.retention.remove_links`): batches of one write
transaction each, every removal an audit entry by ``system``. A retried or repeated run removes
nothing twice. The flow adds a Prefect event with the count (never a case id or reference).

The store is the worker's, never a parameter (:func:`boflyt.flows.store.flow_workspace`).
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, task
from prefect.events import emit_event

from boflyt.engine.store.retention import expired_cases, remove_links
from boflyt.flows.store import flow_workspace

__all__ = ["remove_expired_links", "retention"]

SYSTEM = "system"
"""The audit actor of scheduled removals (as of scheduled escalations)."""


@task(name="remove-expired-links", retries=3, retry_delay_seconds=5)
def remove_expired_links(now: str, dry_run: bool = False) -> int:
    """Remove (or with ``dry_run`` count) the links past their period at ``now`` (ISO, naive
    UTC); return how many cases."""
    workspace = flow_workspace()
    policy = workspace.retention_policy()
    if policy.empty:
        return 0
    moment = dt.datetime.fromisoformat(now)
    engine = workspace.open_store()
    try:
        if dry_run:
            return len(expired_cases(engine, policy, now=moment))
        present = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        done = remove_links(engine, policy, now=moment, actor=SYSTEM, audit_now=present)
        return len(done.removed)
    finally:
        engine.dispose()


@flow(name="retention")
async def retention(now: str | None = None, dry_run: bool = False) -> int:
    """Remove the personal links of ended cases past their process's retention period; return
    how many cases lost theirs (with ``dry_run``: how many would).

    ``now`` (ISO date-time, naive UTC) defaults to the current time. The periods and the store
    are the worker's (see the module's docstring).
    """
    at = now or dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    count = remove_expired_links(at, dry_run)
    emit_event(
        event="boflyt.retention.dry_run" if dry_run else "boflyt.retention.removed",
        resource={"prefect.resource.id": "boflyt.store"},
        payload={"cases": count, "at": at},
    )
    return count
