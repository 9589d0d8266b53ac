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
  ``eviction_warning``, :data:`OBJECT_WORDS`) ``"concerns"`` it. A registered field of no object
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
from typing import Any, BinaryIO

import polars as pl
import polars.selectors as cs

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
    log = _exported(events, relations)
    domain = _domain(log)
    header = {"objectTypes": _object_types(domain), "eventTypes": _event_types(log)}
    total = log.height
    with path.open("wb") as out:
        out.write(json.dumps(header, ensure_ascii=False)[:-1].encode() + b',\n"objects": [\n')
        _write_lines(out, _objects(log, domain, _organisations(log)), first=True)
        out.write(b'],\n"events": [\n')
        for start in range(0, total, _SLICE):
            _write_lines(out, _events(log.slice(start, _SLICE)), first=start == 0)
            if progress is not None:
                progress(min(start + _SLICE, total), total)
        out.write(b"]}\n")
    return total


# --- JSON text, built column-wise -----------------------------------------------------------


def _plain(text: str) -> pl.Expr:
    """A literal piece of JSON text."""
    return pl.lit(text, pl.String)


def _id(prefix: str, quoted: str | pl.Expr) -> pl.Expr:
    """The JSON string ``"<prefix>:<value>"`` from the quoted JSON string of the value."""
    value = pl.col(quoted) if isinstance(quoted, str) else quoted
    return pl.concat_str(_plain(f'"{prefix}:'), value.str.slice(1))


def _joined(frame: pl.DataFrame, key: str, piece: str) -> pl.DataFrame:
    """``piece`` of each ``key`` joined with commas (the frame's order kept). Gathered as a
    list and joined after: far faster in polars than ``str.join`` inside the aggregation."""
    grouped = frame.group_by(key, maintain_order=True).agg(pl.col(piece))
    return grouped.with_columns(pl.col(piece).list.join(","))


def _time(column: str) -> pl.Expr:
    """A time as JSON text: ``"2025-01-07T13:54:46.306187Z"``."""
    return pl.concat_str(_plain('"'), pl.col(column).dt.strftime(_TIME), _plain('"'))


# --- events ---------------------------------------------------------------------------------


def _exported(events: pl.DataFrame, relations: pl.DataFrame) -> pl.DataFrame:
    """The exported events (completions, case events, escalations, handoffs) in time order
    (ties in the frame's order), with what their JSON needs and nothing more: a case number
    (``key``), the texts as JSON string literals (``q…``: case id, type, attributes, the acting
    organisation, a handoff's organisations, the process), a completion's ready and start
    times, and the domain objects its step relates to (``object_0``…, ``qualifier_0``…)."""
    lanes = pl.concat([events[c] for c in ("org", "lane", "from_lane", "to_lane")])
    quoted = {name: _literals(events[name]) for name in _TEXTS} | {"lane": _literals(lanes)}
    types = {kind: json.dumps(name) for kind, name in _TYPES.items()}

    def text(name: str, column: str | None = None) -> pl.Expr:
        literal = quoted["lane" if name in _LANES else name]
        return pl.col(column or name).replace_strict(literal, default=None, return_dtype=pl.String)

    keyed = events.lazy().with_columns(
        pl.col("case_id").cast(pl.Categorical).to_physical().alias("key")
    )
    item = pl.col("item").is_not_null()
    ready, started = (
        keyed.filter((pl.col("kind") == kind) & item)
        .select("key", "item", pl.col("at").alias(name))
        .unique(["key", "item"], keep="last")
        for kind, name in ((_READY, "ready_at"), (_STARTED, "started_at"))
    )
    kind = pl.col("kind")
    exported = keyed.filter(kind.is_in([_DONE, *_TYPES])).with_row_index("row")
    common: list[str | pl.Expr] = ["row", "key", "seq", "kind", "at", "version"]
    common += [text(name).alias(f"q{name}") for name in ("case_id", "process", "actor")]
    acting = pl.coalesce(text("org"), text("lane")).alias("qacting")
    done = (
        exported.filter(kind == _DONE)
        .join(ready, on=["key", "item"], how="left")
        .join(started, on=["key", "item"], how="left")
        .join(_slots(relations).lazy(), on=["process", "version", "step"], how="left")
        .select(
            *common,
            "ready_at",
            "started_at",
            "touch_minutes",
            "transactions",
            cs.starts_with("object_", "qualifier_"),
            text("lane").alias("qlane"),
            text("outcome").alias("qoutcome"),
            acting,
            text("step").alias("qtype"),
        )
    )
    handoffs = exported.filter(kind == _HANDOFF).select(
        *common,
        *(
            text(name).alias(f"q{name}")
            for name in ("from_step", "to_step", "channel", "from_lane", "to_lane")
        ),
        pl.lit(types[_HANDOFF]).alias("qtype"),
    )
    others = exported.filter(~kind.is_in([_DONE, _HANDOFF])).select(
        *common,
        text("step").alias("qstep"),
        acting,
        kind.replace_strict(types, default=None).alias("qtype"),
    )
    return pl.concat([done, handoffs, others], how="diagonal").sort("at", "row").collect()


_TEXTS = ("case_id", "actor", "outcome", "step", "from_step", "to_step", "channel", "process",
          "org", "lane", "from_lane", "to_lane")  # fmt: skip
"""The frame's text columns written into the JSON."""
_LANES = ("org", "lane", "from_lane", "to_lane")
"""Those naming organisations (one mapping of lane ids to JSON text)."""


def _literals(values: pl.Series) -> dict[str, str]:
    """Each distinct string and its JSON string literal (each encoded once by :mod:`json`).

    >>> _literals(pl.Series(["a", 'say "hi"', None, "a"]))
    {'a': '"a"', 'say "hi"': '"say \\\\"hi\\\\""'}
    """
    distinct = values.drop_nulls().unique(maintain_order=True).to_list()
    return {value: json.dumps(value, ensure_ascii=False) for value in distinct}


_SLOTS = 6
"""The most domain objects one step relates to (the catalogue has at most four)."""


def _slots(relations: pl.DataFrame) -> pl.DataFrame:
    """Each step's related object types and qualifiers as columns ``object_1``… (a step relates
    to at most :data:`_SLOTS`), so an event's relationships need no grouping."""
    numbered = relations.with_columns(
        pl.int_range(pl.len()).over("process", "version", "step").alias("slot")
    ).filter(pl.col("slot") < _SLOTS)
    wide = numbered.select("process", "version", "step").unique()
    for slot in range(_SLOTS):
        mine = numbered.filter(pl.col("slot") == slot).select(
            "process", "version", "step", pl.col("object_type").alias(f"object_{slot}"),
            pl.col("qualifier").alias(f"qualifier_{slot}"),
        )  # fmt: skip
        wide = wide.join(mine, on=["process", "version", "step"], how="left")
    return wide


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


def _event_types(log: pl.DataFrame) -> list[dict[str, Any]]:
    """Every event type in the log with the attributes its kind carries, in name order."""
    types = {(json.loads(q), kind) for q, kind in log.select("qtype", "kind").unique().iter_rows()}
    return [
        {"name": name, "attributes": [{"name": a, "type": t} for a, t, _, kinds in _ATTRIBUTES
                                      if kind in kinds]}
        for name, kind in sorted(types)
    ]  # fmt: skip


def _attribute(name: str, ocel_type: str, column: str, kinds: tuple[str, ...]) -> pl.Expr:
    """The attribute's JSON object, or null where the event has no such value (``kinds`` is
    for the caller: which kinds carry it)."""
    if ocel_type == "string":
        value = pl.col(f"q{column}")
    elif ocel_type == "time":
        value = _time(column)
    else:
        value = pl.concat_str(_plain('"'), pl.col(column).cast(pl.String), _plain('"'))
    return pl.concat_str(_plain(f'{{"name":"{name}","value":'), value, _plain("}"))


def _relation(object_id: pl.Expr, qualifier: str | pl.Expr) -> pl.Expr:
    """An event-to-object relationship's JSON object (null when the object id is)."""
    text = _plain(qualifier) if isinstance(qualifier, str) else qualifier
    return pl.concat_str(_plain('{"objectId":'), object_id, _plain(',"qualifier":"'), text,
                         _plain('"}'))  # fmt: skip


def _events(log: pl.DataFrame) -> pl.DataFrame:
    """The ``events`` array's objects as JSON text (column ``json``) of a slice of the log.

    Every event relates to its case ("part of"); the acting organisation ("performed by"); a
    handoff's organisations ("from", "to"); a completion's domain objects (its step's slots).
    Each kind is built with only its own attributes and relations, then the slice's order is
    restored.
    """
    kind = pl.col("kind")
    part = log.with_row_index("i")
    built = [
        _kind_json(part.filter(kind == _DONE), _DONE),
        _kind_json(part.filter(kind == _HANDOFF), _HANDOFF),
        *(_kind_json(part.filter(kind == other), other)
          for other in (_OPENED, *_CLOSED, _ESCALATED)),
    ]  # fmt: skip
    return pl.concat(built).sort("i").select("json")


def _kind_json(rows: pl.DataFrame, kind: str) -> pl.DataFrame:
    """The events of one kind as JSON text (columns ``i``, ``json``)."""
    tail = pl.col("qcase_id").str.slice(1)
    relations = [_relation(_id(CASE, "qcase_id"), "part of")]
    if kind in _ACTING:
        relations.append(_relation(_id(ORGANISATION, "qacting"), "performed by"))
    if kind == _HANDOFF:
        relations += [_relation(_id(ORGANISATION, "qfrom_lane"), "from"),
                      _relation(_id(ORGANISATION, "qto_lane"), "to")]  # fmt: skip
    if kind == _DONE:
        relations += [
            _relation(pl.concat_str(_plain('"'), pl.col(f"object_{slot}"), _plain(":"), tail),
                      pl.col(f"qualifier_{slot}"))
            for slot in range(_SLOTS)
        ]  # fmt: skip
    attributes = [_attribute(*a) for a in _ATTRIBUTES if kind in a[3]]
    return rows.select("i", pl.concat_str(
        _plain('{"id":'), pl.col("qcase_id").str.head(-1), _plain(":"),
        pl.col("seq").cast(pl.String), _plain('","type":'), pl.col("qtype"), _plain(',"time":'),
        _time("at"), _plain(',"attributes":['),
        pl.concat_str(attributes, separator=",", ignore_nulls=True) if attributes else _plain(""),
        _plain('],"relationships":['),
        pl.concat_str(relations, separator=",", ignore_nulls=True), _plain("]}"),
    ).alias("json"))  # fmt: skip


def _domain(log: pl.DataFrame) -> pl.DataFrame:
    """Each case's domain objects: key, qcase_id (the case id's JSON text), object_type."""
    done = log.select("kind", "key", "qcase_id", *(f"object_{slot}" for slot in range(_SLOTS)))
    done = done.filter(pl.col("kind") == _DONE)
    found = pl.concat(
        done.select("key", "qcase_id", pl.col(f"object_{slot}").alias("object_type"))
        for slot in range(_SLOTS)
    )
    kind = pl.col("object_type")
    return found.filter(kind.is_not_null() & (kind != CASE)).unique(["key", "object_type"])


def _organisations(log: pl.DataFrame) -> pl.Series:
    """The organisation objects' ids as JSON text, sorted."""
    texts = log.select("kind", "qacting", "qfrom_lane", "qto_lane")
    acting = texts.filter(pl.col("kind").is_in(_ACTING))["qacting"]
    handoffs = texts.filter(pl.col("kind") == _HANDOFF)
    found = pl.concat([acting, handoffs["qfrom_lane"], handoffs["qto_lane"]]).drop_nulls()
    ids = pl.DataFrame({"q": found.unique()}).select(_id(ORGANISATION, "q").alias("qid"))
    return ids["qid"].sort()


# --- objects --------------------------------------------------------------------------------


def _object_types(domain: pl.DataFrame) -> list[dict[str, Any]]:
    case = {"name": CASE, "attributes": [{"name": "process", "type": "string"},
                                          {"name": "version", "type": "integer"},
                                          {"name": "status", "type": "string"}]}  # fmt: skip
    others = sorted({ORGANISATION, *domain["object_type"].to_list()})
    return [case, *({"name": name, "attributes": []} for name in others)]


def _object(qid: pl.Expr, kind: str, attributes: pl.Expr, relations: pl.Expr) -> pl.Expr:
    return pl.concat_str(
        _plain('{"id":'),
        qid,
        _plain(f',"type":{json.dumps(kind)},"attributes":['),
        attributes.fill_null(""),
        _plain('],"relationships":['),
        relations.fill_null(""),
        _plain("]}"),
    ).alias("json")


def _objects(log: pl.DataFrame, domain: pl.DataFrame, organisations: pl.Series) -> pl.DataFrame:
    """The ``objects`` array (column ``json``): cases, then domain objects by type, then
    organisations."""
    rules = pl.DataFrame(OBJECT_LINKS, schema=["object_type", "object_type_to", "qualifier"],
                         orient="row")  # fmt: skip
    own = pl.concat_str(_plain('"'), pl.col("object_type"), _plain(":"),
                        pl.col("qcase_id").str.slice(1))  # fmt: skip
    linked = domain.join(domain, on=["key", "qcase_id"], suffix="_to").join(
        rules, on=["object_type", "object_type_to"]
    ).select(
        own.alias("qid"),
        pl.concat_str(
            _plain('{"objectId":"'), pl.col("object_type_to"), _plain(":"),
            pl.col("qcase_id").str.slice(1), _plain(',"qualifier":"'), pl.col("qualifier"),
            _plain('"}'),
        ).alias("piece"),
    )  # fmt: skip
    linked = _joined(linked.sort("qid", "piece"), "qid", "piece")
    parts = [_case_objects(log, domain)]
    for kind in sorted(set(domain["object_type"].to_list())):
        mine = domain.filter(pl.col("object_type") == kind).sort("qcase_id")
        parts.append(
            mine.select(own.alias("qid")).join(linked, on="qid", how="left")
            .select(_object(pl.col("qid"), kind, pl.lit(None, pl.String), pl.col("piece")))
        )  # fmt: skip
    none = pl.lit(None, pl.String)
    parts.append(pl.DataFrame({"qid": organisations}).select(
        _object(pl.col("qid"), ORGANISATION, none, none)))  # fmt: skip
    return pl.concat(parts)


def _case_objects(log: pl.DataFrame, domain: pl.DataFrame) -> pl.DataFrame:
    """One ``case`` object per case: process and version from its start, its status over time,
    and its relations to its domain objects (the household "for", the others "concerns")."""
    cases = log.select("key", "qcase_id", "qprocess", "version", "kind", "at")
    first = cases.group_by("key").agg(
        pl.col("qcase_id").first(), pl.col("qprocess").first(), pl.col("version").first(),
        pl.col("at").min(),
    )  # fmt: skip
    closed = cases.filter(pl.col("kind").is_in(list(_CLOSED))).select(
        "key", pl.col("kind").replace_strict(_CLOSED).alias("status"), "at"
    )

    def value(name: str, text: pl.Expr, at: str, order: int) -> list[pl.Expr]:
        return [
            pl.col("key"), pl.lit(order).alias("order"),
            pl.concat_str(_plain(f'{{"name":"{name}","value":'), text, _plain(',"time":"'),
                          pl.col(at).dt.strftime(_TIME), _plain('"}')).alias("piece"),
        ]  # fmt: skip

    version = pl.concat_str(_plain('"'), pl.col("version").cast(pl.String), _plain('"'))
    status = pl.concat_str(_plain('"'), pl.col("status"), _plain('"'))
    attributes = _joined(pl.concat([
        first.select(value("process", pl.col("qprocess"), "at", 0)),
        first.select(value("version", version, "at", 1)),
        first.select(value("status", _plain('"running"'), "at", 2)),
        closed.select(value("status", status, "at", 3)),
    ]).sort("key", "order"), "key", "piece")  # fmt: skip
    qualifier = pl.when(pl.col("object_type") == "household").then(_plain("for"))
    relations = _joined(domain.sort("key", "object_type").select(
        "key",
        pl.concat_str(_plain('{"objectId":"'), pl.col("object_type"), _plain(":"),
                      pl.col("qcase_id").str.slice(1), _plain(',"qualifier":"'),
                      qualifier.otherwise(_plain("concerns")), _plain('"}')).alias("piece"),
    ), "key", "piece")  # fmt: skip
    return (
        first.sort("qcase_id")
        .join(attributes.rename({"piece": "attributes"}), on="key", how="left")
        .join(relations.rename({"piece": "relations"}), on="key", how="left")
        .select(_object(_id(CASE, "qcase_id"), CASE, pl.col("attributes"), pl.col("relations")))
    )


# --- writing --------------------------------------------------------------------------------


def _write_lines(out: BinaryIO, rows: pl.DataFrame, *, first: bool) -> None:
    """The ``json`` column's objects, one a line, each but the array's first after a comma.

    >>> import io
    >>> out = io.BytesIO()
    >>> _write_lines(out, pl.DataFrame({"json": ["{}", "[]"]}), first=True)
    >>> _write_lines(out, pl.DataFrame({"json": ["1"]}), first=False)
    >>> out.getvalue()
    b'{}\\n,[]\\n,1\\n'
    """
    lead = (
        pl.when(pl.int_range(pl.len()) > 0)
        .then(_plain(","))
        .otherwise(_plain("" if first else ","))
    )
    lines = rows.select(pl.concat_str(lead, pl.col("json")))
    lines.write_csv(out, include_header=False, quote_style="never")
