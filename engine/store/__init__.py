"""The store wing: cases, work items and the event log in SQLite or PostgreSQL.

* :mod:`~boflyt.engine.store.db` — the one engine factory, the schema's revision check and
  migrations (:mod:`~boflyt.engine.store.migrations`), the read and write transaction scopes;
* :mod:`~boflyt.engine.store.commands` — one write transaction per case command, optimistic
  locking, escalation; :mod:`~boflyt.engine.store.versions` — the published versions cases are
  pinned to;
* :mod:`~boflyt.engine.store.statements` — the SQL, written once as SQLAlchemy Core statements
  (SQLite's fast path compiles each once and hands it to the driver);
* :mod:`~boflyt.engine.store.queries` — the reads: cases, timelines, inboxes, run sets;
* :mod:`~boflyt.engine.store.eventlog` — the log in bulk: cohorts in, run sets out, frames read;
  :mod:`~boflyt.engine.store.frame` — the one event-frame schema and the rows derived from it;
  :mod:`~boflyt.engine.store.imports` — imported event logs (``imported:<name>``) stored in one
  transaction with their ``imported_log`` row;
* :mod:`~boflyt.engine.store.pseudonym` and :mod:`~boflyt.engine.store.key` — case references
  stored only as keyed pseudonyms, one key per store;
* :mod:`~boflyt.engine.store.accounts` — the people who use the store: organisations, roles,
  argon2 password hashes and API tokens (only their SHA-256 kept);
* :mod:`~boflyt.engine.store.outbox` — e-mail notices written with the event that caused them,
  claimed and marked by the sender so none is sent twice; :mod:`~boflyt.engine.store.reminders`
  — reminders before and escalations after steps' deadlines, each with its notice;
* :mod:`~boflyt.engine.store.retention` — retention: the reference pseudonyms of ended cases
  removed after their process's period, the anonymous events kept;
* :mod:`~boflyt.engine.store.audit` — the tamper-evident record: the hash-chained audit log of
  who changed or read what, the hash chain of each live case's events, and their verification.

The case wing decides (:mod:`boflyt.engine.case`); this wing only loads, checks and writes.
The names below are loaded on first use, so importing one module of the wing (``db`` to open a
store) does not import the others (and polars with them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from boflyt.engine.store.accounts import (
        Account,
        account_for_token,
        add_account,
        authenticate,
        check_actor,
        disable_account,
        get_account,
        list_accounts,
        new_token,
    )
    from boflyt.engine.store.audit import (
        AuditRecord,
        Problem,
        Verification,
        case_log,
        record,
        record_in,
        verify,
    )
    from boflyt.engine.store.commands import (
        CommandInput,
        begin_step,
        cancel_case,
        case_flow,
        complete_step,
        escalate_overdue,
        inbox,
        start_case,
        wall_clock,
    )
    from boflyt.engine.store.db import (
        HEAD,
        StoreRevision,
        make_engine,
        migrate,
        open_schema,
        read_scope,
        shown_url,
        store_revision,
        upgrade_schema,
        write_scope,
    )
    from boflyt.engine.store.eventlog import (
        DeletedRuns,
        append_frame,
        append_simulated,
        delete_run_sets,
        event_frame,
        run_set_log,
        run_set_where,
    )
    from boflyt.engine.store.frame import FRAME_SCHEMA, case_frame, empty_frame, item_frame
    from boflyt.engine.store.key import open_store_key, store_fingerprint
    from boflyt.engine.store.pseudonym import KEY_FILE, ReferenceKey, normalise_reference
    from boflyt.engine.store.queries import (
        CaseSummary,
        InboxEntry,
        case_timeline,
        describe_run_set,
        find_case_by_ref,
        find_simulation,
        get_case,
        list_cases,
        list_run_sets,
        resolve_case_id,
    )
    from boflyt.engine.store.versions import get_version, outside_lanes, publish_version

__all__ = [
    "FRAME_SCHEMA",
    "HEAD",
    "KEY_FILE",
    "Account",
    "AuditRecord",
    "CaseSummary",
    "CommandInput",
    "DeletedRuns",
    "InboxEntry",
    "Problem",
    "ReferenceKey",
    "StoreRevision",
    "Verification",
    "account_for_token",
    "add_account",
    "append_frame",
    "append_simulated",
    "authenticate",
    "begin_step",
    "cancel_case",
    "case_flow",
    "case_frame",
    "case_log",
    "case_timeline",
    "check_actor",
    "complete_step",
    "delete_run_sets",
    "describe_run_set",
    "disable_account",
    "empty_frame",
    "escalate_overdue",
    "event_frame",
    "find_case_by_ref",
    "find_simulation",
    "get_account",
    "get_case",
    "get_version",
    "inbox",
    "item_frame",
    "list_accounts",
    "list_cases",
    "list_run_sets",
    "make_engine",
    "migrate",
    "new_token",
    "normalise_reference",
    "open_schema",
    "open_store_key",
    "outside_lanes",
    "publish_version",
    "read_scope",
    "record",
    "record_in",
    "resolve_case_id",
    "run_set_log",
    "run_set_where",
    "shown_url",
    "start_case",
    "store_fingerprint",
    "store_revision",
    "upgrade_schema",
    "verify",
    "wall_clock",
    "write_scope",
]

_HOMES = (
    "commands", "versions", "queries", "eventlog", "frame", "db", "key", "pseudonym", "accounts",
    "audit",
)  # fmt: skip
"""The modules holding the names of ``__all__``, searched in this order."""


def __getattr__(name: str) -> object:
    """A public name of the wing, imported from its module on first use."""
    if name in __all__:
        for home in _HOMES:
            module = importlib.import_module(f"{__name__}.{home}")
            if name in getattr(module, "__all__", ()):
                value: object = getattr(module, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
