"""Observed metrics on hand-built event logs whose figures are worked out by hand.

The version is ``linear_version()``: start (housing_office) → a (housing_office) → b (nav) →
end (nav). One working day is 08:00–15:30 (450 minutes), Monday to Friday.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest

from boflyt.analysis.observed import (
    compact_log,
    complete_columns,
    observed_metrics,
    per_case,
    working_minutes,
)
from boflyt.engine.calendar import DEFAULT_CALENDAR
from boflyt.engine.case.decide import BeginStep, CompleteStep, StartCase, decide
from boflyt.models.vocabulary import EventKind
from tests.factories import linear_version

MON = dt.datetime(2025, 1, 6, 8, 0)  # a Monday, 08:00


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """January 2025: ``at(6, 8)`` is Monday the 6th at 08:00."""
    return dt.datetime(2025, 1, day, hour, minute)


def log(rows: list[dict[str, Any]], *, version: int = 1) -> pl.DataFrame:
    """A log frame from (case, kind, at, …) rows; seq numbered per case in row order."""
    seqs: dict[str, int] = {}
    full = []
    for row in rows:
        seqs[row["case_id"]] = seqs.get(row["case_id"], 0) + 1
        full.append({"seq": seqs[row["case_id"]], **row})
    frame = pl.DataFrame(full, infer_schema_length=None)
    return complete_columns(frame).with_columns(
        process=pl.lit("test_process"), version=pl.lit(version), mode=pl.lit("imported")
    )


def e(case: str, kind: str, when: dt.datetime, **fields: Any) -> dict[str, Any]:
    return {"case_id": case, "kind": kind, "at": when, **fields}


def done(case: str, step: str, item: int, when: dt.datetime, **fields: Any) -> dict[str, Any]:
    lane = "nav" if step in ("b", "end") else "housing_office"
    return e(case, "step_completed", when, step=step, item=item, org=lane, lane=lane, **fields)


def handoff(case: str, when: dt.datetime) -> dict[str, Any]:
    return e(case, "handoff", when, from_step="a", to_step="b", from_lane="housing_office",
             to_lane="nav")  # fmt: skip


def hand_log() -> pl.DataFrame:
    return log([
        # c1: Mon 08:00 → Thu 09:30. a waits 1 wd, b waits 2 wd.
        e("c1", "case_started", at(6, 8)),
        done("c1", "start", 1, at(6, 8), transactions=0),
        e("c1", "step_ready", at(6, 8), step="a", item=2),
        e("c1", "step_started", at(7, 8), step="a", item=2),
        done("c1", "a", 2, at(7, 8, 30), touch_minutes=30.0, transactions=1),
        handoff("c1", at(7, 8, 30)),
        e("c1", "step_ready", at(7, 8, 30), step="b", item=3),
        e("c1", "step_started", at(9, 8, 30), step="b", item=3),
        done("c1", "b", 3, at(9, 9, 30), touch_minutes=60.0, transactions=2),
        done("c1", "end", 4, at(9, 9, 30), transactions=0),
        e("c1", "case_finished", at(9, 9, 30)),
        # c2: Fri 14:00 → Tue 11:00 over a weekend; a done twice; first a has no start event.
        e("c2", "case_started", at(10, 14)),
        done("c2", "start", 1, at(10, 14)),
        e("c2", "step_ready", at(10, 14), step="a", item=2),
        done("c2", "a", 2, at(13, 8, 30), touch_minutes=30.0, transactions=1),
        e("c2", "step_ready", at(13, 8, 30), step="a", item=3),
        e("c2", "step_started", at(13, 9), step="a", item=3),
        done("c2", "a", 3, at(13, 10), touch_minutes=60.0, transactions=1),
        handoff("c2", at(13, 10)),
        e("c2", "step_ready", at(13, 10), step="b", item=4),
        e("c2", "step_started", at(14, 10), step="b", item=4),
        done("c2", "b", 4, at(14, 11), touch_minutes=60.0, transactions=2),
        done("c2", "end", 5, at(14, 11)),
        e("c2", "case_finished", at(14, 11)),
        # c3: still running; c4: cancelled before anything was done
        e("c3", "case_started", at(8, 8)),
        done("c3", "start", 1, at(8, 8)),
        e("c3", "step_ready", at(8, 8), step="a", item=2),
        e("c4", "case_started", at(8, 8)),
        e("c4", "case_cancelled", at(8, 12)),
    ])  # fmt: skip


def test_per_case_figures_match_the_hand_computation() -> None:
    cases = {row["case_id"]: row for row in per_case(hand_log()).iter_rows(named=True)}
    c1, c2 = cases["c1"], cases["c2"]
    # c1: Mon 08:00 → Thu 09:30 = 3 × 450 + 90 = 1440 min = 3.2 wd
    assert c1["lead_days"] == pytest.approx(3.2)
    assert c1["waiting_days"] == pytest.approx(3.0)  # a 450 + b 900 = 1350 min
    assert (c1["touch_minutes"], c1["handoffs"], c1["transactions"]) == (90.0, 1, 4)
    assert (c1["rework"], c1["variant"], c1["status"]) == (0, "start→a→b→end", "finished")
    # c2: Fri 14:00→15:30 (90) + Mon (450) + Tue 08:00→11:00 (180) = 720 min = 1.6 wd
    assert c2["lead_days"] == pytest.approx(1.6)
    # first a: ready→completed = 90 + 30 = 120 min, minus 30 touch = 90; second a: 30;
    # b: Mon 10:00 → Tue 10:00 = 450. Σ = 570 min = 1.2667 wd
    assert c2["waiting_days"] == pytest.approx(570 / 450)
    assert (c2["touch_minutes"], c2["transactions"]) == (150.0, 5)
    assert (c2["rework"], c2["variant"]) == (1, "start→a→a→b→end")
    assert cases["c3"]["status"] == "running"
    assert cases["c4"]["status"] == "cancelled"
    assert cases["c4"]["lead_days"] == pytest.approx(240 / 450)


def test_summary_covers_finished_cases_only() -> None:
    summary = observed_metrics(hand_log()).summary
    lead = summary.filter(pl.col("metric") == "lead_days").row(0, named=True)
    # finished: c1 3.2 and c2 1.6 → mean 2.4, median 2.4, p90 = 1.6 + 0.9 × 1.6 = 3.04
    assert lead["cases"] == 2
    assert lead["mean"] == pytest.approx(2.4)
    assert lead["median"] == pytest.approx(2.4)
    assert lead["p90"] == pytest.approx(3.04)
    assert summary["metric"].to_list()[:3] == ["lead_days", "touch_minutes", "waiting_days"]


def test_handoff_waits_bottlenecks_variants_and_workload() -> None:
    result = observed_metrics(hand_log())
    pair = result.handoff_waits.row(0, named=True)
    # housing_office → nav: c1 Tue 08:30 → Thu 08:30 = 2 wd; c2 Mon 10:00 → Tue 10:00 = 1 wd
    assert (pair["from_lane"], pair["to_lane"], pair["handoffs"]) == ("housing_office", "nav", 2)
    assert pair["mean_days"] == pytest.approx(1.5)
    top = result.bottlenecks.row(0, named=True)
    assert top["step"] == "b" and top["mean_wait_days"] == pytest.approx(1.5)
    a = result.bottlenecks.filter(pl.col("step") == "a").row(0, named=True)
    # a: c1 450, c2 90 and 30 minutes (c3's a never started) → mean 190 min
    assert a["items"] == 3 and a["mean_wait_days"] == pytest.approx(190 / 450)
    assert sorted(result.variants["share"].to_list()) == [0.5, 0.5]
    load = dict(result.workload.select("org", "touch_minutes_per_case").iter_rows())
    # housing_office 30 + 30 + 60 = 120 over 2 finished cases; nav 60 + 60
    assert load == {"housing_office": pytest.approx(60.0), "nav": pytest.approx(60.0)}


def test_conformance_gives_the_first_deviation_of_each_run() -> None:
    checked = observed_metrics(hand_log(), version=linear_version()).conformance
    assert checked is not None
    # runs with a completed step: c1, c2, c3; c2 does a twice (a → a is no edge)
    assert (checked.runs, checked.conforming) == (3, 2)
    assert checked.share == pytest.approx(2 / 3)
    assert checked.deviations.rows() == [("c2", 3, "a", "a")]
    assert checked.as_dict()["deviations"] == [
        {"case_id": "c2", "position": 3, "from_step": "a", "to_step": "a"}
    ]


def test_versions_are_summarised_separately() -> None:
    other = hand_log().with_columns(pl.lit(2).alias("version"), pl.col("case_id") + "_v2")
    both = pl.concat([hand_log(), other])
    summary = observed_metrics(both).summary.filter(pl.col("metric") == "handoffs")
    assert summary["version"].to_list() == [1, 2]
    assert summary["cases"].to_list() == [2, 2]


def test_a_log_from_the_engine_gives_the_same_figures() -> None:
    version = linear_version()
    state, events = None, []
    commands = [
        (StartCase("e1", "ann", "housing_office"), at(6, 8)),
        (BeginStep("a", "ann", "housing_office"), at(7, 8)),
        (CompleteStep("a", "ann", "housing_office", touch_minutes=30), at(7, 8, 30)),
        (CompleteStep("b", "nils", "nav", touch_minutes=60), at(9, 9, 30)),
    ]
    for command, now in commands:
        decision = decide(version, state, command, now=now)
        state, events = decision.state, [*events, *decision.events]
    frame = pl.DataFrame([ev._asdict() for ev in events], infer_schema_length=None)
    frame = frame.with_columns(
        pl.col("kind").cast(pl.String), process=pl.lit("test_process"), version=pl.lit(1),
        mode=pl.lit("live"),
    )  # fmt: skip
    assert frame["kind"].to_list().count(EventKind.HANDOFF.value) == 1
    row = per_case(frame).row(0, named=True)
    assert row["lead_days"] == pytest.approx(3.2)
    # a: ready Mon 08:00 → begun Tue 08:00 = 450; b was completed without a begin, so its
    # implied start does not count: Tue 08:30 → Thu 09:30 = 960 min − 60 touch = 900
    assert row["waiting_days"] == pytest.approx((450 + 900) / 450)
    assert (row["handoffs"], row["variant"]) == (1, "start→a→b→end")


def test_working_minutes_agree_with_the_calendar_expression() -> None:
    rng = np.random.default_rng(3)
    base = np.datetime64("2024-12-20T00:00")  # across Christmas, New Year and weekends
    stamps = base + rng.integers(0, 40 * 24 * 60, 500).astype("timedelta64[m]")
    series = pl.Series("at", stamps.astype("datetime64[us]"))
    expected = pl.DataFrame({"at": series}).select(DEFAULT_CALENDAR.minutes_expr("at"))
    assert working_minutes(series).to_list() == pytest.approx(expected.to_series().to_list())


def test_a_log_without_a_schema_column_is_refused() -> None:
    with pytest.raises(ValueError, match="lacks column"):
        per_case(hand_log().drop("seq"))


def _tables(result: Any) -> dict[str, pl.DataFrame]:
    names = ("cases", "summary", "handoff_waits", "bottlenecks", "variants", "workload")
    return {name: getattr(result, name) for name in names}


def test_a_lazy_scan_and_a_compact_log_give_the_frames_figures(tmp_path: Any) -> None:
    path = tmp_path / "log.parquet"
    hand_log().write_parquet(path)
    expected = observed_metrics(hand_log(), version=linear_version())
    compact = compact_log(pl.scan_parquet(path))
    assert "lane" not in compact.columns  # only the columns the analysis reads
    assert compact.schema["org"] == pl.Categorical
    for source in (pl.scan_parquet(path), compact):
        got = observed_metrics(source, version=linear_version())
        for name, table in _tables(got).items():
            assert table.equals(_tables(expected)[name]), name
        assert got.conformance is not None and expected.conformance is not None
        assert got.conformance.cases.equals(expected.conformance.cases)


def test_a_case_whose_events_are_apart_is_still_one_case() -> None:
    # c2's events split by c1's: the case codes cannot be run numbers, the figures are the same
    frame = hand_log()
    apart = pl.concat([frame.filter(pl.col("case_id") == "c2").head(4), frame.filter(
        pl.col("case_id") != "c2"), frame.filter(pl.col("case_id") == "c2").slice(4)])  # fmt: skip
    assert per_case(apart).equals(per_case(frame))
    assert per_case(apart).height == 4


def test_a_log_lacking_only_unread_columns_is_analysed() -> None:
    figures = per_case(hand_log().drop("lane", "actor", "outcome", "channel", "from_step"))
    assert figures.equals(per_case(hand_log()))
