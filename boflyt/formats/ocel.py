"""OCEL 2.0 JSON: a Boflyt event frame as an object-centric event log.

:func:`write_ocel` writes the official OCEL 2.0 JSON format (https://www.ocel-standard.org,
specification §8: top-level ``objectTypes``, ``eventTypes``, ``objects`` and ``events``), built
column-wise with polars and encoded slice by slice, so a million events take seconds.

**Events.** Each completed step is one event whose type is the step id; the step instance's
ready and start times ride along as ``time`` attributes (``ready_at``, ``started_at``), so
waiting and touch time survive without a second event per step. Besides steps: ``case
started``, ``case finished``, ``case cancelled``, ``step escalated`` and ``organisation
handoff`` (one per handoff between lanes). Step-ready and step-started events are not events of
their own. Event ids are ``<case id>:<seq>``.

**Objects and event-to-object relations** (qualifier in quotes):

* ``case`` — one per case, id ``case:<case id>``, attributes ``process``, ``version`` and
  ``status`` (running from the start, then finished or cancelled at the closing time). Every
  event is ``"part of"`` its case.
* ``organisation`` — one per lane, id ``organisation:<lane>``. A step, a case start, a
  cancellation and an escalation are ``"performed by"`` the organisation that acted (its lane
  when none is recorded); a handoff relates ``"from"`` and ``"to"`` organisations.
* domain objects, one of each type per case, id ``<type>:<case id>`` — derived from what the
  version's steps register (:data:`OBJECT_FIELDS`): a step that registers a field of ``lease``
  ``"registers"`` the case's lease; a step whose id names the object (``search_dwelling``,
  ``sign_sublease``, :data:`OBJECT_WORDS`) ``"concerns"`` it. A registered field of no object
  type (a journal entry) is registered on the case itself.

**Object-to-object relations** within a case: the case to its household ``"for"`` and to every
other domain object ``"concerns"``; then :data:`OBJECT_LINKS` (the lease ``"of"`` the dwelling,
``"with"`` the landlord, ``"let to"`` the household, …).

**Values.** The OCEL 2.0 JSON schema types every attribute value as a string, so numbers are
written as text and their declared type (``integer``, ``float``, ``time``) says how to read them;
times are UTC with ``Z``. Only what the frame holds is written: the caller passes pseudonymised
actors (``resource``), and the free-text ``detail`` column is never read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

import polars as pl

from boflyt.models.definition import Version
from boflyt.models.vocabulary import EventKind

__all__ = [
    "OBJECT_FIELDS",
    "OBJECT_LINKS",
    "OBJECT_WORDS",
    "STEP_OBJECTS_SCHEMA",
    "step_objects",
    "write_ocel",
]

OBJECT_FIELDS: dict[str, tuple[str, ...]] = {
    "household": (
        "household", "income", "applicant_identity", "tenant_identity", "refugee_identity",
        "needs_assessment", "housing_need", "housing_plan", "consent", "integration_plan",
        "arrival_date",
    ),
    "dwelling": (
        "condition_report", "dwelling_allocation", "key_receipt", "move_in_protocol",
        "furniture_order",
    ),
    "lease": (
        "lease_terms", "rent_amount", "sublease_terms", "deposit_guarantee", "rent_payment",
        "rent_deduction_agreement", "resident_account", "arrears_amount", "payment_plan",
        "deduction_agreement", "payment_confirmation",
    ),
    "landlord": ("landlord_identity", "landlord_bank_account", "supplier_account"),
    "nav_case": (
        "nav_case", "aid_application", "aid_decision", "housing_allowance_application",
        "startup_grant", "temporary_accommodation_decision",
    ),
    "eviction_case": ("petition", "enforcement_case", "eviction_protocol"),
    "settlement": ("settlement_answer", "settlement_decision", "settlement_date"),
}  # fmt: skip
"""Domain object types and the registered data fields (a step's ``registers``) that belong to
each. A field of none of them is registered on the case."""

OBJECT_WORDS: dict[str, str] = {
    "household": "household", "dwelling": "dwelling", "lease": "lease", "sublease": "lease",
    "landlord": "landlord", "supplier": "landlord", "petition": "eviction_case",
    "eviction": "eviction_case", "settlement": "settlement",
}  # fmt: skip
"""A word of a step id (split at ``_``) that names an object type: the step concerns it."""

OBJECT_LINKS: tuple[tuple[str, str, str], ...] = (
    ("lease", "dwelling", "of"),
    ("lease", "landlord", "with"),
    ("lease", "household", "let to"),
    ("nav_case", "household", "for"),
    ("eviction_case", "lease", "about"),
    ("settlement", "household", "of"),
)
"""Object-to-object relations between a case's domain objects: (from type, to type, qualifier)."""

CASE = "case"
ORGANISATION = "organisation"
STEP_OBJECTS_SCHEMA: dict[str, pl.DataType] = {
    "process": pl.String(),
    "version": pl.Int64(),
    "step": pl.String(),
    "object_type": pl.String(),
    "qualifier": pl.String(),
}
"""The columns of :func:`step_objects`: which object (type) a step relates to, and how."""

_DONE = EventKind.STEP_COMPLETED.value
_READY, _STARTED = EventKind.STEP_READY.value, EventKind.STEP_STARTED.value
_HANDOFF, _ESCALATED = EventKind.HANDOFF.value, EventKind.STEP_ESCALATED.value
_OPENED = EventKind.CASE_STARTED.value
_CLOSED = {EventKind.CASE_FINISHED.value: "finished", EventKind.CASE_CANCELLED.value: "cancelled"}
_TYPES = {
    _OPENED: "case started",
    EventKind.CASE_FINISHED.value: "case finished",
    EventKind.CASE_CANCELLED.value: "case cancelled",
    _ESCALATED: "step escalated",
    _HANDOFF: "organisation handoff",
}
"""The event type of each exported kind but a completed step (whose type is its step id)."""
_ACTING = (_DONE, _OPENED, EventKind.CASE_CANCELLED.value, _ESCALATED)
"""The kinds related to the organisation that acted ("performed by")."""
_TIME = "%Y-%m-%dT%H:%M:%S%.6fZ"
_SLICE = 100_000
"""Rows JSON-encoded at a time."""

Progress = Callable[[int, int | None], None]
"""Told (events written, total events) as the writer works."""


def step_objects(versions: Iterable[Version]) -> pl.DataFrame:
    """Each step's relations to domain object types (:data:`STEP_OBJECTS_SCHEMA`).

    A step ``registers`` the types of its registered fields (:data:`OBJECT_FIELDS`; a field of
    none of them: the ``case``), and ``concerns`` a type its id names (:data:`OBJECT_WORDS`)
    that it does not register.

    >>> from boflyt.engine.definition.load import load_library
    >>> from pathlib import Path
    >>> library = load_library(Path("boflyt/processes"))
    >>> rows = step_objects([library.get("private_lease", 2)])
    >>> rows.filter(pl.col("step") == "sign_head_lease").rows()
    [('private_lease', 2, 'sign_head_lease', 'lease', 'registers')]
    >>> rows.filter(pl.col("step") == "search_dwelling").rows()
    [('private_lease', 2, 'search_dwelling', 'dwelling', 'concerns')]
    """
    owner = {field: kind for kind, fields in OBJECT_FIELDS.items() for field in fields}
    rows: list[tuple[str, int, str, str, str]] = []
    for version in versions:
        for step in version.steps:
            found: dict[str, str] = {}
            for field in step.registers:
                found.setdefault(owner.get(field, CASE), "registers")
            for word in step.id.split("_"):
                if word in OBJECT_WORDS:
                    found.setdefault(OBJECT_WORDS[word], "concerns")
            rows += [(version.process, version.version, step.id, kind, how)
                     for kind, how in found.items()]  # fmt: skip
    return pl.DataFrame(rows, schema=STEP_OBJECTS_SCHEMA, orient="row")


def write_ocel(
    events: pl.DataFrame,
    path: Path,
    *,
    objects: pl.DataFrame | None = None,
    progress: Progress | None = None,
) -> int:
    """Write a Boflyt event frame as OCEL 2.0 JSON; return the number of OCEL events written.

    ``events`` has the event frame's columns (:data:`~boflyt.engine.store.frame.FRAME_SCHEMA`;
    ``detail`` is never read); ``objects`` is :func:`step_objects` of the versions the events
    run on (none: cases and organisations only). ``progress`` is told (events written, total).

    Raises:
        OSError: ``path`` cannot be written.
    """
    relations = objects if objects is not None else pl.DataFrame(schema=STEP_OBJECTS_SCHEMA)
    log = _exported(events)
    links = _event_links(log, relations)
    written = _event_rows(log, links)
    domain = (
        links.filter(~pl.col("object_type").is_in([CASE, ORGANISATION]))
        .select("case_id", "object_type")
        .unique()
    )
    objects_out = _objects(log, domain, links)
    header = {
        "objectTypes": _object_types(domain),
        "eventTypes": _event_types(log),
    }
    with path.open("w", encoding="utf-8") as out:
        text = json.dumps(header, ensure_ascii=False)
        out.write(text[:-1] + ',\n"objects": [\n')
        _write_rows(out, objects_out)
        out.write('],\n"events": [\n')
        _write_rows(out, written, progress)
        out.write("]}\n")
    return written.height


# --- events ---------------------------------------------------------------------------------


def _exported(events: pl.DataFrame) -> pl.DataFrame:
    """The exported events (completions with their item's ready and start times, case events,
    escalations, handoffs), ordered by time, then case and ``seq``, with their id and type."""
    items = (
        events.filter(pl.col("kind").is_in([_READY, _STARTED]) & pl.col("item").is_not_null())
        .group_by("case_id", "item")
        .agg(
            pl.col("at").filter(pl.col("kind") == _READY).last().alias("ready_at"),
            pl.col("at").filter(pl.col("kind") == _STARTED).last().alias("started_at"),
        )
    )
    kinds = [_DONE, *_TYPES]
    log = events.filter(pl.col("kind").is_in(kinds)).select(
        "case_id", "seq", "kind", "at", "step", "item", "lane", "actor", "org", "outcome",
        "touch_minutes", "transactions", "from_step", "to_step", "from_lane", "to_lane",
        "channel", "process", "version",
    )  # fmt: skip
    log = log.join(items, on=["case_id", "item"], how="left").sort("at", "case_id", "seq")
    kind = pl.col("kind")
    return log.with_columns(
        pl.concat_str(pl.col("case_id"), pl.col("seq").cast(pl.String), separator=":").alias("id"),
        pl.when(kind == _DONE).then(pl.col("step"))
        .otherwise(kind.replace_strict(_TYPES, default=None)).alias("type"),
    ).with_row_index("n")  # fmt: skip


_ATTRIBUTES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("resource", "string", "actor", (_DONE, _OPENED, EventKind.CASE_CANCELLED.value, _ESCALATED)),
    ("lane", "string", "lane", (_DONE,)),
    ("outcome", "string", "outcome", (_DONE,)),
    ("touch_minutes", "float", "touch_minutes", (_DONE,)),
    ("transactions", "integer", "transactions", (_DONE,)),
    ("ready_at", "time", "ready_at", (_DONE,)),
    ("started_at", "time", "started_at", (_DONE,)),
    ("step", "string", "step", (_ESCALATED,)),
    ("from_step", "string", "from_step", (_HANDOFF,)),
    ("to_step", "string", "to_step", (_HANDOFF,)),
    ("channel", "string", "channel", (_HANDOFF,)),
)
"""The event attributes: (name, OCEL type, frame column, the kinds that carry it)."""


def _text(column: str, kind: str) -> pl.Expr:
    if kind == "time":
        return pl.col(column).dt.strftime(_TIME)
    return pl.col(column).cast(pl.String)


def _event_types(log: pl.DataFrame) -> list[dict[str, Any]]:
    """Every event type in the log with the attributes its kind carries, in name order."""
    types = log.select("type", "kind").unique().sort("type")
    return [
        {"name": name, "attributes": [{"name": a, "type": t} for a, t, _, kinds in _ATTRIBUTES
                                      if kind in kinds]}
        for name, kind in types.iter_rows()
    ]  # fmt: skip


def _event_links(log: pl.DataFrame, relations: pl.DataFrame) -> pl.DataFrame:
    """Every event-to-object relation: (n, case_id, object_type, objectId, qualifier)."""
    case = pl.concat_str(pl.lit(f"{CASE}:"), pl.col("case_id"))

    def org(column: str | pl.Expr) -> pl.Expr:
        return pl.concat_str(pl.lit(f"{ORGANISATION}:"), column)

    def part(frame: pl.DataFrame, kind: str, object_id: pl.Expr, qualifier: str) -> pl.DataFrame:
        return frame.select(
            "n", "case_id", pl.lit(kind).alias("object_type"), object_id.alias("objectId"),
            pl.lit(qualifier).alias("qualifier"),
        ).filter(pl.col("objectId").is_not_null())  # fmt: skip

    acting = log.filter(pl.col("kind").is_in(_ACTING))
    handoffs = log.filter(pl.col("kind") == _HANDOFF)
    done = log.filter(pl.col("kind") == _DONE).select("n", "case_id", "process", "version", "step")
    domain = done.join(relations, on=["process", "version", "step"], how="inner").select(
        "n", "case_id", "object_type",
        pl.concat_str(pl.col("object_type"), pl.lit(":"), pl.col("case_id")).alias("objectId"),
        "qualifier",
    )  # fmt: skip
    return pl.concat([
        part(log, CASE, case, "part of"),
        part(acting, ORGANISATION, org(pl.coalesce("org", "lane")), "performed by"),
        part(handoffs, ORGANISATION, org("from_lane"), "from"),
        part(handoffs, ORGANISATION, org("to_lane"), "to"),
        domain,
    ])  # fmt: skip


def _event_rows(log: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """The ``events`` array's rows: id, type, time, attributes, relationships."""
    kind = pl.col("kind")
    attributes = pl.concat_list([
        pl.struct(pl.lit(name).alias("name"),
                  pl.when(kind.is_in(kinds)).then(_text(column, ocel_type)).alias("value"))
        for name, ocel_type, column, kinds in _ATTRIBUTES
    ]).list.eval(pl.element().filter(pl.element().struct.field("value").is_not_null()))  # fmt: skip
    related = links.group_by("n").agg(pl.struct("objectId", "qualifier").alias("relationships"))
    return (
        log.join(related, on="n", how="left")
        .sort("n")
        .select(
            "id", "type", pl.col("at").dt.strftime(_TIME).alias("time"),
            attributes.alias("attributes"), "relationships",
        )
    )  # fmt: skip


# --- objects --------------------------------------------------------------------------------


def _object_types(domain: pl.DataFrame) -> list[dict[str, Any]]:
    case = {"name": CASE, "attributes": [{"name": "process", "type": "string"},
                                          {"name": "version", "type": "integer"},
                                          {"name": "status", "type": "string"}]}  # fmt: skip
    others = sorted({ORGANISATION, *domain["object_type"].to_list()})
    return [case, *({"name": name, "attributes": []} for name in others)]


def _objects(log: pl.DataFrame, domain: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """The ``objects`` array's rows: id, type, attributes, relationships."""
    cases = _case_objects(log, domain)
    own = pl.concat_str(pl.col("object_type"), pl.lit(":"), pl.col("case_id"))
    linked = (
        domain.join(domain, on="case_id", suffix="_to")
        .join(pl.DataFrame(OBJECT_LINKS, schema=["object_type", "object_type_to", "qualifier"],
                           orient="row"), on=["object_type", "object_type_to"])
        .select(own.alias("id"), pl.struct(
            pl.concat_str(pl.col("object_type_to"), pl.lit(":"), pl.col("case_id"))
            .alias("objectId"), "qualifier").alias("relation"))
        .group_by("id").agg(pl.col("relation").alias("relationships"))
    )  # fmt: skip
    no_attributes = pl.lit([], pl.List(pl.Struct(_OBJECT_ATTRIBUTE)))
    no_relations = pl.lit([], pl.List(pl.Struct(_RELATION)))
    objects = (
        domain.sort("object_type", "case_id")
        .select(own.alias("id"), pl.col("object_type").alias("type"))
        .join(linked, on="id", how="left")
        .select("id", "type", no_attributes.alias("attributes"),
                pl.col("relationships").fill_null(no_relations))
    )  # fmt: skip
    names = links.filter(pl.col("object_type") == ORGANISATION)["objectId"].unique().sort()
    organisations = pl.DataFrame({"id": names}).select(
        "id",
        pl.lit(ORGANISATION).alias("type"),
        no_attributes.alias("attributes"),
        no_relations.alias("relationships"),
    )
    return pl.concat([cases, objects, organisations])


_OBJECT_ATTRIBUTE = {"name": pl.String(), "value": pl.String(), "time": pl.String()}
_RELATION = {"objectId": pl.String(), "qualifier": pl.String()}


def _case_objects(log: pl.DataFrame, domain: pl.DataFrame) -> pl.DataFrame:
    """One ``case`` object per case: process and version from its start, its status over time,
    and its relations to its domain objects (the household "for", the others "concerns")."""
    first = log.group_by("case_id").agg(
        pl.col("process").first(), pl.col("version").first(),
        pl.col("at").min().dt.strftime(_TIME).alias("time"),
    )  # fmt: skip
    closed = log.filter(pl.col("kind").is_in(list(_CLOSED))).select(
        "case_id", pl.col("kind").replace_strict(_CLOSED).alias("value"),
        pl.col("at").dt.strftime(_TIME).alias("time"),
    )  # fmt: skip
    values = pl.concat([
        first.select("case_id", pl.lit("process").alias("name"), pl.col("process").alias("value"),
                     "time"),
        first.select("case_id", pl.lit("version").alias("name"),
                     pl.col("version").cast(pl.String).alias("value"), "time"),
        first.select("case_id", pl.lit("status").alias("name"), pl.lit("running").alias("value"),
                     "time"),
        closed.select("case_id", pl.lit("status").alias("name"), "value", "time"),
    ]).group_by("case_id", maintain_order=True).agg(
        pl.struct("name", "value", "time").alias("attributes")
    )  # fmt: skip
    household = pl.col("object_type") == "household"
    relations = domain.sort("object_type").group_by("case_id").agg(
        pl.struct(
            pl.concat_str(pl.col("object_type"), pl.lit(":"), pl.col("case_id")).alias("objectId"),
            pl.when(household).then(pl.lit("for")).otherwise(pl.lit("concerns")).alias("qualifier"),
        ).alias("relationships")
    )  # fmt: skip
    no_relations = pl.lit([], pl.List(pl.Struct(_RELATION)))
    return (
        first.sort("case_id")
        .join(values, on="case_id", how="left")
        .join(relations, on="case_id", how="left")
        .select(
            pl.concat_str(pl.lit(f"{CASE}:"), pl.col("case_id")).alias("id"),
            pl.lit(CASE).alias("type"), "attributes",
            pl.col("relationships").fill_null(no_relations),
        )
    )  # fmt: skip


# --- writing --------------------------------------------------------------------------------


def _write_rows(out: IO[str], rows: pl.DataFrame, progress: Progress | None = None) -> None:
    """``rows`` as JSON objects separated by commas, a slice at a time."""
    done = 0
    for part in rows.iter_slices(_SLICE):
        encoded = part.select(pl.struct(pl.all()).struct.json_encode()).to_series()
        if done:
            out.write(",\n")
        out.write(encoded.str.join(",\n").item())
        done += part.height
        if progress is not None:
            progress(done, rows.height)
    out.write("\n")
