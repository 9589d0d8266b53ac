"""The import's conversion: a raw log frame made into Boflyt's event frame, column-wise.

:func:`convert_log` takes the raw frame every reader returns (:mod:`boflyt.formats.log_frame`)
and gives the events of the run set ``imported:<name>`` in the store's frame
(:data:`~boflyt.engine.store.frame.FRAME_SCHEMA`), with an :class:`ImportSummary` of what it
found. Every step below is a polars expression over the whole log; Python touches only the
distinct values (activities, organisations, cases, people), never an event. The rules, each
written once here and quoted in ``docs/guide/import.md``:

* **Pseudonyms.** A case's id is ``HMAC-SHA256(store key, import name, case id)`` (32 hex
  digits), so the same log imported under two names gives unrelated ids and the raw id is never
  stored; a resource (a person) becomes ``HMAC-SHA256(store key, resource)`` (16 hex digits), the
  same person under the same store key in every import. Organisations name units, not people,
  and are kept as lane names (cut to 64 characters with a digest of the whole when longer).
* **Steps.** An activity becomes a step id: with a version, the step whose id or bokmål/English
  name it equals (case and spaces ignored); otherwise its slug (lower-case ASCII letters, digits
  and ``_``, at most 64, made unique). The activity names behind the step ids are kept.
* **Case bounds.** A case starts at its first event and finishes at its last (any lifecycle
  transition): ``case_started`` and ``case_finished`` at those times.
* **Steps done.** A ``complete`` event (or one without a lifecycle) is a completed step. The
  n-th ``start`` of an activity in a case is paired with its n-th completion, unless it comes
  after it; a paired step has its touch time (working minutes from start to completion) and its
  waiting (from ready to start) apart. A start without a completion is left out and counted;
  other transitions (``schedule``, ``assign``, …) are counted, never made steps.
* **Ready.** A step becomes ready when the case's previous completed step completed (the case's
  start for the first), or at its own start if that is earlier (overlapping work).
* **Handoffs.** Consecutive completed steps of a case — ordered by time, ties kept in the log's
  order (``row``) — whose organisations differ make one handoff from the first step's lane to
  the second's, dated when the second became ready. A step without an organisation makes none.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from boflyt.analysis.observed import working_minutes
from boflyt.engine.calendar import DEFAULT_CALENDAR, WorkCalendar
from boflyt.engine.store.frame import FRAME_SCHEMA
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.formats.log_frame import RAW_SCHEMA, LogError
from boflyt.models.definition import Version
from boflyt.models.vocabulary import EventKind, Mode

__all__ = [
    "LOG_VERSION",
    "ConvertedLog",
    "ImportSummary",
    "case_pseudonym",
    "case_pseudonyms",
    "convert_log",
    "lane_names",
    "resource_pseudonym",
    "step_ids",
]

LOG_VERSION = 0
"""The version of a log imported without ``--process``: "the log as logged" (process = name)."""

_LIMIT = 64
"""The store's limit on step, lane and id columns (VARCHAR(64) on PostgreSQL)."""
_CASE_LABEL, _PERSON_LABEL = b"boflyt imported case", b"boflyt imported resource"
_START, _COMPLETE = "start", "complete"
_LAST = 1 << 29
"""Sort slot of ``case_finished``: after every item of its case (fewer items per case)."""


def case_pseudonym(key: ReferenceKey, name: str, case: str) -> str:
    """The stored id of case ``case`` of the import ``name``: a keyed digest, 32 hex digits."""
    return case_pseudonyms(key, name, [case])[0]


def case_pseudonyms(key: ReferenceKey, name: str, cases: Iterable[str]) -> list[str]:
    """:func:`case_pseudonym` of many cases: HMAC-SHA256 of ``label 0x1f name 0x1f case``, the
    keyed state of the common prefix made once and copied per case."""
    prefix = hmac.new(key.secret, b"\x1f".join((_CASE_LABEL, name.encode(), b"")), hashlib.sha256)

    def one(case: str) -> str:
        digest = prefix.copy()
        digest.update(case.encode())
        return digest.hexdigest()[:32]

    return [one(case) for case in cases]


def resource_pseudonym(key: ReferenceKey, resource: str) -> str:
    """The stored name of a resource (a person): a keyed digest, 16 hex digits."""
    message = b"\x1f".join((_PERSON_LABEL, resource.encode()))
    return hmac.new(key.secret, message, hashlib.sha256).hexdigest()[:16]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "Ae", "Ø": "O", "Å": "A",
                          "ß": "ss", "đ": "d", "Đ": "D", "ŋ": "n", "Ŋ": "N"})  # fmt: skip
"""Letters without an ASCII decomposition, as Norwegian (and Sámi) ids write them."""


def _slug(text: str) -> str:
    """Lower-case ASCII letters, digits and ``_``; at most 64 (a digest of the whole kept).

    >>> _slug("Søknad mottatt / Æ på Ålesund")
    'soknad_mottatt_ae_pa_alesund'
    """
    plain = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    ascii_text = plain.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_") or "activity"
    return slug if len(slug) <= _LIMIT else f"{slug[: _LIMIT - 9]}_{_digest(text)}"


def _plain(text: str) -> str:
    return " ".join(text.split()).casefold()


def step_ids(activities: Iterable[str], version: Version | None = None) -> dict[str, str]:
    """Activity name → step id: the version's step it names (by id, or bokmål or English name,
    case and spaces ignored), else a unique slug of at most 64 characters.

    >>> step_ids(["Confirmation of receipt", "T02 Check confirmation of receipt"])
    {'Confirmation of receipt': 'confirmation_of_receipt', 'T02 Check confirmation of receipt': 't02_check_confirmation_of_receipt'}
    >>> step_ids(["A b", "a-b"])
    {'A b': 'a_b', 'a-b': 'a_b_2'}
    """  # noqa: E501
    known: dict[str, str] = {}
    for step in version.steps if version is not None else ():
        for label in (step.id, step.name.nb, step.name.en):
            known.setdefault(_plain(label), step.id)
    ids: dict[str, str] = {}
    taken = set(known.values())
    for activity in sorted(set(activities)):
        matched = known.get(_plain(activity))
        if matched is not None:
            ids[activity] = matched
            continue
        slug, n = _slug(activity), 1
        while slug in taken:
            n += 1
            suffix = f"_{n}"
            slug = _slug(activity)[: _LIMIT - len(suffix)] + suffix
        taken.add(slug)
        ids[activity] = slug
    return ids


def lane_names(orgs: Iterable[str]) -> dict[str, str]:
    """Organisation → lane name: itself, or cut to 64 characters with a digest of the whole.

    >>> lane_names(["Group 1", "x" * 70])["Group 1"], len(lane_names(["x" * 70])["x" * 70])
    ('Group 1', 64)
    """
    return {org: org if len(org) <= _LIMIT else f"{org[: _LIMIT - 9]}~{_digest(org)}"
            for org in set(orgs)}  # fmt: skip


@dataclass(frozen=True)
class ImportSummary:
    """What the import found in the log, beside its events (JSON-friendly by :meth:`as_dict`)."""

    process: str
    version: int
    events: int
    """Events of the source log, every lifecycle transition."""
    cases: int
    steps: int
    """Completed steps (``complete`` events, or events without a lifecycle)."""
    paired: int
    """Completed steps with a paired start: touch time measured."""
    unpaired_starts: int
    other_transitions: dict[str, int]
    activities: dict[str, str]
    """Step id → the activity's name in the log."""
    unmatched: tuple[str, ...] = ()
    """Activities a given version has no step for (kept as their slug)."""
    shortened_lanes: dict[str, str] = field(default_factory=dict)
    """Lane name → the organisation's full name, for names over 64 characters."""
    handoffs: int = 0
    without_org: int = 0
    """Completed steps without an organisation."""

    @property
    def start_share(self) -> float:
        """Share of completed steps with a paired start (0.0 when the log has none)."""
        return self.paired / self.steps if self.steps else 0.0

    @property
    def touch_time(self) -> str:
        """``measured`` (every step has a start), ``partly`` or ``unknown`` (completions only)."""
        if self.paired == 0:
            return "unknown"
        return "measured" if self.paired == self.steps else "partly"

    def as_dict(self) -> dict[str, Any]:
        return {
            "process": self.process, "version": self.version, "events": self.events,
            "cases": self.cases, "steps": self.steps, "paired_starts": self.paired,
            "start_share": self.start_share, "touch_time": self.touch_time,
            "unpaired_starts": self.unpaired_starts,
            "other_transitions": self.other_transitions, "activities": self.activities,
            "unmatched_activities": list(self.unmatched),
            "shortened_lanes": self.shortened_lanes, "handoffs": self.handoffs,
            "steps_without_organisation": self.without_org,
        }  # fmt: skip


@dataclass(frozen=True)
class ConvertedLog:
    """An import's events in the store's frame (:data:`FRAME_SCHEMA`) and its summary."""

    events: pl.DataFrame
    summary: ImportSummary


def _check(raw: pl.DataFrame, source: str) -> pl.DataFrame:
    """The raw frame with its columns typed; :class:`LogError` at the first row lacking a case,
    an activity or a time, or when the log is empty."""
    missing = [c for c in RAW_SCHEMA if c not in raw.columns]
    if missing:
        raise LogError(source, "", ", ".join(missing), "the raw log frame lacks these columns")
    if raw.is_empty():
        raise LogError(source, "", None, "the log has no events; nothing to import")
    typed = raw.select(pl.col(c).cast(t) for c, t in RAW_SCHEMA.items())
    for column in ("case", "activity", "at"):
        empty = typed.filter(pl.col(column).is_null() | (pl.col(column).cast(pl.String) == ""))
        if empty.height:
            raise LogError(
                source, f"row {empty['row'][0]}", column, "missing; every event needs one"
            )
    return typed


def _mapped(column: str, mapping: Mapping[str, str]) -> pl.Expr:
    """The column's values mapped, as a categorical: 4 bytes a row while the events are built
    (text again only in the store's frame)."""
    mapped = pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.String)
    return mapped.cast(pl.Categorical)


def convert_log(
    raw: pl.DataFrame,
    *,
    name: str,
    key: ReferenceKey,
    version: Version | None = None,
    source: str = "log",
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> ConvertedLog:
    """The events of the run set ``imported:<name>`` from a raw log frame (rules: module docs).

    Without ``version`` the run set is process ``name``, version :data:`LOG_VERSION`.

    Raises:
        LogError: the log is empty, or an event has no case, activity or time.
    """
    raw = _check(raw, source)
    process, number = (version.process, version.version) if version else (name, LOG_VERSION)
    steps = step_ids(raw["activity"].unique().to_list(), version)
    lanes = lane_names(raw["org"].drop_nulls().unique().to_list())
    cases = _case_codes(raw["case"], key, name)
    people = {
        r: resource_pseudonym(key, r) for r in raw["resource"].drop_nulls().unique().to_list()
    }
    lifecycle = pl.col("lifecycle").str.strip_chars().str.to_lowercase().fill_null(_COMPLETE)
    log = (
        raw.join(cases.select("case", "c"), on="case", how="left", maintain_order="left")
        .select(
            "c",
            _mapped("activity", steps).alias("step"),
            "at",
            lifecycle.alias("lc"),
            _mapped("resource", people).alias("actor"),
            _mapped("org", lanes).alias("lane"),
            "row",
        )
        .sort("c", "at", "row", maintain_order=True)  # ties: the log's order, also on one line
    )
    items, unpaired = _items(log, calendar)
    events = _in_store_shape(_events(log, items), cases, process, number)
    transitions = log.filter(~pl.col("lc").is_in([_START, _COMPLETE]))["lc"].value_counts()
    summary = ImportSummary(
        process=process, version=number, events=raw.height, cases=cases.height,
        steps=items.height, paired=int(items["start_at"].is_not_null().sum()),
        unpaired_starts=unpaired, other_transitions=dict(sorted(transitions.iter_rows())),
        activities={step: activity for activity, step in sorted(steps.items())},
        unmatched=_unmatched(steps, version),
        shortened_lanes={lane: org for org, lane in lanes.items() if lane != org},
        handoffs=int(items["handoff"].sum()), without_org=int(items["lane"].is_null().sum()),
    )  # fmt: skip
    return ConvertedLog(events, summary)


def _unmatched(steps: Mapping[str, str], version: Version | None) -> tuple[str, ...]:
    """The activities ``version`` has no step for (none without a version)."""
    if version is None:
        return ()
    known = {step.id for step in version.steps}
    return tuple(activity for activity, step in sorted(steps.items()) if step not in known)


def _in_store_shape(
    events: pl.DataFrame, cases: pl.DataFrame, process: str, version: int
) -> pl.DataFrame:
    """The events with their case ids (pseudonyms), process, version and mode, in the columns
    and dtypes of :data:`FRAME_SCHEMA`."""
    events = events.with_columns(
        cases["case_id"].gather(events["c"]).alias("case_id"),
        pl.lit(process).alias("process"),
        pl.lit(version, pl.Int64).alias("version"),
        pl.lit(Mode.IMPORTED.value).alias("mode"),
    )
    return events.select(
        (pl.col(c) if c in events.columns else pl.lit(None)).cast(t).alias(c)
        for c, t in FRAME_SCHEMA.items()
    )


def _case_codes(case: pl.Series, key: ReferenceKey, name: str) -> pl.DataFrame:
    """Per distinct case: its ``case_id`` (pseudonym) and ``c``, an integer code in pseudonym
    order (so events sorted by code come out in the store's case order)."""
    distinct = case.unique().to_list()
    return (
        pl.DataFrame({"case": distinct, "case_id": case_pseudonyms(key, name, distinct)})
        .sort("case_id")
        .with_row_index("c")
    )


_NEW_CASE = (pl.col("c") != pl.col("c").shift(1)).fill_null(True)
"""True on the first row of each case in a frame sorted by case code."""


def _before(column: str) -> pl.Expr:
    """The column's value on the case's previous row (null on its first): a frame sorted by
    case, with no window."""
    return pl.when(_NEW_CASE).then(None).otherwise(pl.col(column).shift(1))


def _number() -> pl.Expr:
    """1, 2, … within each case of a frame sorted by case code."""
    index = pl.int_range(pl.len(), dtype=pl.Int64)
    return index - pl.when(_NEW_CASE).then(index).forward_fill() + 1


def _nth(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (sorted by case and time) with ``n`` = 0, 1, … per case and step, in its order.

    A stable sort by one integer key (case × 2³² + step code) and a change flag: several times
    faster than a window over two columns.
    """
    step = pl.col("step").cast(pl.Categorical).to_physical().cast(pl.UInt64)
    key = pl.col("c").cast(pl.UInt64) * (1 << 32) + step
    grouped = frame.with_row_index("_r").with_columns(key.alias("_k"))
    grouped = grouped.sort("_k", maintain_order=True)
    index = pl.int_range(pl.len(), dtype=pl.Int64)
    new = (pl.col("_k") != pl.col("_k").shift(1)).fill_null(True)
    numbered = grouped.with_columns((index - pl.when(new).then(index).forward_fill()).alias("n"))
    return numbered.sort("_r").drop("_r", "_k")


def _items(log: pl.DataFrame, calendar: WorkCalendar) -> tuple[pl.DataFrame, int]:
    """One row per completed step, in case and completion order, with its paired start, ready
    time, touch minutes and whether a handoff leads into it; and the count of unpaired starts.
    """
    first = log.filter(_NEW_CASE).select("c", pl.col("at").alias("first"))
    starts = _nth(log.filter(pl.col("lc") == _START)).select(
        "c", "step", "n", pl.col("at").alias("start_at"),
        pl.col("actor").alias("start_actor"), pl.col("lane").alias("start_lane"),
    )  # fmt: skip
    done = _nth(log.filter(pl.col("lc") == _COMPLETE))
    paired = done.join(starts, on=["c", "step", "n"], how="left", maintain_order="left")
    late = pl.col("start_at") > pl.col("at")
    paired = paired.with_columns(
        pl.when(late).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("start_at", "start_actor", "start_lane")
    ).join(first, on="c", how="left", maintain_order="left")
    began = paired.select(pl.col("start_at").fill_null(pl.col("at"))).to_series()
    touch = working_minutes(paired["at"], calendar) - working_minutes(began, calendar)
    before = _before("lane")
    items = paired.with_columns(touch.alias("touch")).with_columns(
        _number().alias("item"),
        pl.min_horizontal(pl.coalesce(_before("at"), "first"), "start_at").alias("ready"),
        pl.when(pl.col("start_at").is_not_null()).then("touch").alias("touch"),
        _before("step").alias("from_step"),
        before.alias("from_lane"),
        (before.is_not_null() & pl.col("lane").is_not_null() & (before != pl.col("lane")))
        .fill_null(False)
        .alias("handoff"),
    )
    return items, starts.height - int(items["start_at"].is_not_null().sum())


_COLUMNS = ("step", "item", "lane", "actor", "org", "touch_minutes", "from_step", "to_step",
            "from_lane", "to_lane")  # fmt: skip
"""The event columns an import fills (besides case, kind, time and seq)."""


def _slot(kind: EventKind, at: str, item: pl.Expr | int, sub: int) -> list[pl.Expr]:
    """Kind, time and sort slot (item, then ready < started < completed) of one event kind."""
    order = pl.lit(item) if isinstance(item, int) else item
    return [
        pl.lit(kind.value).alias("kind"),
        pl.col(at).alias("at"),
        order.cast(pl.Int64).alias("_i"),
        pl.lit(sub).alias("_sub"),
    ]


def _filled(part: pl.DataFrame) -> pl.DataFrame:
    """``part`` with every column of :data:`_COLUMNS` (nulls where it has none), in order."""
    blank = [
        pl.lit(None, pl.Float64 if c == "touch_minutes" else pl.Categorical).alias(c)
        for c in _COLUMNS
        if c not in part.columns
    ]
    return (
        part.with_columns(blank)
        .with_columns(pl.col("item").cast(pl.Int64))
        .select("c", "kind", "at", "_i", "_sub", *_COLUMNS)
    )


def _events(log: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """Every event of every case, sorted by time (ties: item order, then handoff, ready,
    started, completed), numbered ``seq`` from 1 per case.

    Without overlapping work (no step starts before the previous completes) every item's
    events lie between its predecessor's and its successor's, so the items' order is the time
    order and one integer key sorts them; otherwise the frame is sorted by time.
    """
    bounds = log.group_by("c").agg(
        pl.col("at").min().alias("first"), pl.col("at").max().alias("last")
    )
    item, lane = pl.col("item"), pl.col("lane")
    step_columns = ("step", "item", "lane")
    started = items.filter(pl.col("start_at").is_not_null())
    parts = [
        bounds.select("c", *_slot(EventKind.CASE_STARTED, "first", 0, 0)),
        bounds.select("c", *_slot(EventKind.CASE_FINISHED, "last", _LAST, 0)),
        items.filter("handoff").select(
            "c",
            *_slot(EventKind.HANDOFF, "ready", item, 0),
            "from_step",
            pl.col("step").alias("to_step"),
            "from_lane",
            lane.alias("to_lane"),
        ),
        items.select("c", *_slot(EventKind.STEP_READY, "ready", item, 1), *step_columns),
        started.select(
            "c",
            *_slot(EventKind.STEP_STARTED, "start_at", item, 2),
            *step_columns,
            pl.col("start_actor").alias("actor"),
            pl.col("start_lane").alias("org"),
        ),
        items.select(
            "c",
            *_slot(EventKind.STEP_COMPLETED, "at", item, 3),
            *step_columns,
            "actor",
            lane.alias("org"),
            pl.col("touch").alias("touch_minutes"),
        ),
    ]
    events = pl.concat([_filled(part) for part in parts])
    overlap = items.select((pl.col("start_at") < _before("at")).any()).item()
    if overlap:  # a step began before the previous one completed: order by time
        events = events.sort("c", "at", "_i", "_sub")
    else:  # the items' own order is the time order (ties as above): one integer key
        slot = pl.col("_i").cast(pl.UInt64) * 4 + pl.col("_sub").cast(pl.UInt64)
        events = events.sort(pl.col("c").cast(pl.UInt64) * (1 << 32) + slot)
    return events.with_columns(_number().alias("seq")).drop("_i", "_sub")
