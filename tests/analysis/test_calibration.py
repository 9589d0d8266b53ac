"""Calibration: hand-made logs with figures worked out by hand, and a simulated log whose
true scenario and probabilities the fit must recover."""

from __future__ import annotations

import datetime as dt
import gzip
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from boflyt.analysis.calibration import (
    Note,
    calibrate,
    cut_of,
    fit_duration,
    split_log,
    with_branches,
    work_items,
)
from boflyt.analysis.discovery import discover_before
from boflyt.analysis.simulation import simulate
from boflyt.engine.calendar import WorkCalendar
from boflyt.engine.definition import validate
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.formats.log_frame import RAW_SCHEMA
from boflyt.formats.log_import import convert_log
from boflyt.models.definition import Lane, LaneCatalog, Text
from boflyt.models.scenario import WEEKDAYS, Scenario
from tests.factories import chain, decision_version, make_version

LANES = LaneCatalog(
    lanes=tuple(Lane(id=x, name=Text(nb=x, en=x)) for x in ("housing_office", "nav", "tenant"))
)
MONDAY = dt.datetime(2025, 1, 6, 8)
H = dt.timedelta(hours=1)
COLUMNS = {"case_id": pl.String, "seq": pl.Int64, "kind": pl.String, "at": pl.Datetime("us"),
           "step": pl.String, "item": pl.Int64, "lane": pl.String, "actor": pl.String}  # fmt: skip


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """An event frame with the columns calibration reads; ``seq`` in row order per case."""
    numbered = []
    for i, row in enumerate(rows):
        numbered.append({"seq": i + 1, "item": None, "lane": None, "actor": None, **row})
    return pl.DataFrame(numbered, schema=COLUMNS)


def done(case: str, step: str, at: dt.datetime, item: int, **more: Any) -> dict[str, Any]:
    return {"case_id": case, "kind": "step_completed", "step": step, "at": at, "item": item,
            **more}  # fmt: skip


def test_work_items_measure_wait_and_touch_in_working_minutes() -> None:
    log = frame(
        [
            {"case_id": "a", "kind": "case_started", "at": MONDAY},
            {"case_id": "a", "kind": "step_ready", "step": "x", "item": 1, "at": MONDAY},
            {"case_id": "a", "kind": "step_started", "step": "x", "item": 1, "at": MONDAY + H},
            done("a", "x", MONDAY + 2 * H, 1),
            # no ready and no start: ready at the previous completion, touch unknown
            done("a", "y", MONDAY + 24 * H, 2),
        ]
    )
    items = work_items(log, WorkCalendar())  # 08:00-15:30 on weekdays
    assert items.select("step", "wait", "touch").rows() == [
        ("x", 60.0, 60.0),
        ("y", 330.0, None),  # Monday 10:00 to Tuesday 08:00: 5.5 working hours
    ]


def test_the_first_item_of_a_case_is_ready_at_the_case_s_start() -> None:
    log = frame(
        [
            {"case_id": "a", "kind": "case_started", "at": MONDAY},
            done("a", "x", MONDAY + 3 * H, 1),
        ]
    )
    assert work_items(log, WorkCalendar())["wait"].to_list() == [180.0]


@pytest.mark.parametrize(
    "samples",
    [
        [1.0, 2.0, 3.0, 10.0],  # right tail
        [0.0] * 90 + [1.0, 5.0, 20.0] * 3 + [400.0],  # mostly nil, as the receipt log's waits
        [0.0, 0.0, 0.5, 1.0, 4.0, 4.5],
        list(range(100)),  # no tail: the 5th to the 95th percentile
        [0.0, 9.0, 9.5, 10.0, 10.0, 10.0],  # left tail
    ],
)
def test_fitted_duration_keeps_the_mean(samples: list[float]) -> None:
    fitted = fit_duration(np.array(samples))
    assert fitted is not None and fitted.dist == "triangular"
    assert fitted.mean == pytest.approx(np.mean(samples), abs=2e-3)
    assert fitted.low >= np.quantile(samples, 0.05) - 1e-3


def test_a_fitted_duration_without_tails_spans_the_5th_to_95th_percentile() -> None:
    fitted = fit_duration(np.arange(100.0))
    assert fitted is not None
    assert (fitted.low, fitted.high) == (4.95, 94.05)


def test_no_samples_fit_no_duration() -> None:
    assert fit_duration(np.array([])) is None


def test_cut_by_share_or_date_and_split() -> None:
    log = frame([done(c, "x", MONDAY + d * 24 * H, 1) for d, c in enumerate("abcde")])
    cut = cut_of(log, train=0.6)
    assert cut == MONDAY + 3 * 24 * H  # d, the fourth case, is the first held out
    early, late = split_log(log, cut)
    assert early["case_id"].to_list() == ["a", "b", "c"]
    assert late["case_id"].to_list() == ["d", "e"]
    assert cut_of(log, until=MONDAY + H) == MONDAY + H


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "either a training share or a date"),
        ({"train": 0.5, "until": MONDAY}, "either a training share or a date"),
        ({"train": 1.0}, "between 0 and 1"),
        ({"until": MONDAY}, "cases on both sides"),
        ({"until": MONDAY + 999 * H}, "cases on both sides"),
    ],
)
def test_a_cut_that_leaves_a_side_empty_is_refused(options: dict[str, Any], message: str) -> None:
    log = frame([done(c, "x", MONDAY + d * 24 * H, 1) for d, c in enumerate("ab")])
    with pytest.raises(ValueError, match=message):
        cut_of(log, **options)


def unrecorded_decision_version() -> Any:
    """start -> a -> d (decision) -> b -> end | end: the log records only a and b."""
    return make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "a", "kind": "task"},
            {"id": "d", "kind": "decision"},
            {"id": "b", "kind": "task", "lane": "nav"},
            {"id": "end", "kind": "end"},
        ],
        [
            *chain("start", "a", "d"),
            {"from": "d", "to": "b", "outcome": "more", "probability": 0.5},
            {"from": "d", "to": "end", "outcome": "done", "probability": 0.5},
            *chain("b", "end"),
        ],
    )


def staffed_log() -> pl.DataFrame:
    """Four cases a day apart; a then (in the first two) b. People p1, p2, p3 complete a in
    the first week; two a's are touched at once on Monday."""
    rows: list[dict[str, Any]] = []
    for n, (case, person) in enumerate(zip("wxyz", ["p1", "p2", "p3", "p1"], strict=True)):
        t = MONDAY + n * 24 * H
        rows.append({"case_id": case, "kind": "case_started", "at": t})
        start = MONDAY + H if n < 2 else t + H  # w and x are touched 09:00-10:00 Monday
        rows.append({"case_id": case, "kind": "step_started", "step": "a", "item": 1,
                     "at": start, "lane": "housing_office", "actor": person})  # fmt: skip
        rows.append(done(case, "a", max(start, t) + H, 1, lane="housing_office", actor=person))
        if n < 2:
            rows.append(done(case, "b", t + 5 * H, 2, lane="nav", actor="q1"))
    return frame(rows)


def test_calibrate_a_hand_made_log() -> None:
    log = staffed_log()
    cut = MONDAY + 3 * 24 * H  # z is held out
    fit = calibrate(log, unrecorded_decision_version(), cut=cut, name="fitted")
    assert (fit.training_cases, fit.held_out_cases) == (3, 1)
    assert fit.branches == {"d": {"b": 0.667, "end": 0.333}}  # a -> b twice, a -> end once
    assert fit.people == {"housing_office": 3.0, "nav": 1.0}
    assert fit.busy == {"housing_office": 2}  # nav: no start in the log
    assert fit.scenario.capacity == {"housing_office": 3, "nav": 1}
    assert fit.scenario.arrivals_per_week == pytest.approx(3 / (3 / 7), rel=1e-3)
    assert fit.scenario.start == cut.date()
    assert fit.touch_known == {"a": True, "b": False}
    assert fit.scenario.overrides["b"].touch_minutes.high == 0.0  # type: ignore[union-attr]
    assert Note("touch_unknown", (("n", "1"), ("of", "2"))) in fit.notes


def test_a_recent_window_fits_only_the_cases_started_in_it() -> None:
    log = staffed_log()
    # w starts Monday 08:00, before the window; x (its first event Monday 09:00) and y in it
    cut, since = MONDAY + 3 * 24 * H, MONDAY + H / 2
    fit = calibrate(log, unrecorded_decision_version(), cut=cut, since=since)
    assert (fit.training_cases, fit.held_out_cases) == (2, 1)
    assert fit.scenario.arrivals_per_week == pytest.approx(2 / ((3 * 24 - 0.5) / 168), rel=1e-3)
    assert fit.branches == {"d": {"b": 0.5, "end": 0.5}}  # x goes on to b, y ends
    with pytest.raises(ValueError, match="0 cases to fit on"):
        calibrate(log, unrecorded_decision_version(), cut=cut, since=cut)


def test_with_branches_gives_a_valid_version_with_the_fitted_shares() -> None:
    version = with_branches(unrecorded_decision_version(), {"d": {"b": 0.25, "end": 0.75}})
    shares = {t.target: t.probability for t in version.transitions if t.source == "d"}
    assert shares == {"b": 0.25, "end": 0.75}
    assert validate(version, lanes=LANES) == []


def test_calibration_recovers_a_simulated_scenario() -> None:
    truth = decision_version(p_complete=0.7, rework=True)
    scenario = Scenario(name="truth", arrivals_per_week=10, start="2025-01-06",
                        holidays="none", capacity={"housing_office": 2, "nav": 1})  # fmt: skip
    log = simulate(truth, scenario, cases=300, seed=3).events
    cut = cut_of(log, train=0.7)
    fit = calibrate(log, truth, cut=cut)
    s = fit.scenario
    assert s.working_days == ("mon", "tue", "wed", "thu", "fri")
    assert s.hours_per_day == 7.5
    assert s.arrivals_per_week == pytest.approx(10, rel=0.15)
    assert fit.branches["check"]["approve"] == pytest.approx(0.7, abs=0.07)
    check = s.overrides["check"].touch_minutes
    assert check is not None and check.mean == pytest.approx(30, abs=3)  # uniform 20..40
    fix = s.overrides["fix_docs"].wait_days
    assert fix is not None and fix.mean == pytest.approx(5, abs=0.7)  # uniform 2..8 days
    assert s.capacity["housing_office"] == 2  # two people every week
    assert s.capacity["nav"] == 1
    # the fitted scenario simulates
    again = simulate(with_branches(truth, fit.branches), s, cases=20, seed=1)
    assert again.summary()["cases"] == 20


# --------------------------------------------------------------------------- the receipt log

RECEIPT = Path(__file__).resolve().parents[3] / "shared" / "data" / "event-logs" / "receipt.xes.gz"


def receipt_raw() -> pl.DataFrame:
    """The receipt log's events read with xml.etree, independently of Boflyt's XES reader."""
    rows: list[dict[str, Any]] = []
    with gzip.open(RECEIPT, "rb") as handle:
        for _, trace in ET.iterparse(handle):
            if not trace.tag.endswith("trace"):
                continue
            case = next(a.get("value") for a in trace if a.get("key") == "concept:name")
            for event in (e for e in trace if e.tag.endswith("event")):
                attrs = {a.get("key"): a.get("value") for a in event}
                at = dt.datetime.fromisoformat(str(attrs["time:timestamp"]))
                rows.append({"case": case, "activity": attrs["concept:name"],
                             "at": at.astimezone(dt.UTC).replace(tzinfo=None),
                             "lifecycle": attrs.get("lifecycle:transition"),
                             "resource": attrs.get("org:resource"), "org": attrs.get("org:group"),
                             "row": len(rows) + 1})  # fmt: skip
            trace.clear()
    return pl.DataFrame(rows, schema=RAW_SCHEMA)


@pytest.mark.skipif(not RECEIPT.is_file(), reason="the shared receipt log is not here")
def test_calibration_of_the_receipt_log_agrees_with_a_plain_polars_count() -> None:
    raw = receipt_raw()
    assert raw["lifecycle"].unique().to_list() == ["complete"]  # every event a completion
    converted = convert_log(raw, name="receipt", key=ReferenceKey(b"k" * 32))
    events = converted.events
    cut = cut_of(events, train=0.7)
    names = converted.summary.activities
    draft = discover_before(events, cut, process="receipt", names=names).version()
    fit = calibrate(events, draft, cut=cut)
    # independently: case starts are each trace's first event, the cut the 1004th start
    starts = raw.group_by("case").agg(pl.col("at").min()).sort("at")["at"]
    assert cut == starts[1003]
    assert (fit.training_cases, fit.held_out_cases) == (1003, 431)
    weeks = (cut - starts[0]).total_seconds() / (7 * 86400)
    assert fit.scenario.arrivals_per_week == pytest.approx(1003 / weeks, abs=1e-3)
    training = raw.join(
        raw.group_by("case").agg(pl.col("at").min().alias("first")), on="case"
    ).filter(pl.col("first") < cut)
    days = training["at"].dt.weekday().value_counts(normalize=True)
    working = days.filter(pl.col("proportion") >= 0.02)["at"].sort().to_list()
    assert [WEEKDAYS[d - 1] for d in working] == list(fit.scenario.working_days)
    # a decision's shares: the next activity of the draft after each completion, in time order
    slug = {s.name.en: s.id for s in draft.steps}
    traces = (
        training.filter(pl.col("activity").is_in(list(slug)))
        .sort("case", "at", "row")
        .with_columns(pl.col("activity").shift(-1).over("case").alias("next"))
    )
    check = "T02 Check confirmation of receipt"
    after = traces.filter(pl.col("activity") == check)["next"].value_counts()
    counts = {slug[name]: n for name, n in after.iter_rows() if name in slug}
    targets = fit.branches[slug[check]]
    total = sum(counts[t] for t in targets)
    for target, share in targets.items():
        assert share == pytest.approx(counts[target] / total, abs=1.5e-3)
    # staff: the median weekly people completing each lane's task and decision steps
    lane_of = {s.name.en: s.lane for s in draft.steps if s.kind.value in ("task", "decision")}
    weekly = (
        training.filter(pl.col("activity").is_in(list(lane_of)) & pl.col("resource").is_not_null())
        .with_columns(pl.col("activity").replace_strict(lane_of).alias("lane"))
        .group_by("lane", pl.col("at").dt.truncate("1w"))
        .agg(pl.col("resource").n_unique())
        .group_by("lane")
        .agg(pl.col("resource").median())
    )
    assert fit.people == dict(weekly.iter_rows())
    assert all(fit.scenario.capacity[lane] == math.ceil(n) for lane, n in fit.people.items())
