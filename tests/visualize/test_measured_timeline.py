"""The measured value stream: a hand-made run set's per-step medians, its wording, and the
suppression of groups of fewer than five cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl
import pytest

from boflyt.analysis.observed import complete_columns
from boflyt.models.words import Language
from boflyt.visualize.measured_timeline import measured_timeline, step_measures
from boflyt.visualize.timeline import render_timelines
from boflyt.visualize.value_stream import extract_timeline
from tests.factories import linear_version

MON = dt.datetime(2025, 1, 6, 8, 0)  # a Monday, 08:00: every case runs within that working day


def _case(
    case: str, wait_a: int, touch_a: int, wait_b: int | None, touch_b: int
) -> list[dict[str, Any]]:
    """One case of ``linear_version``: ``a`` waits ``wait_a`` minutes and takes ``touch_a``;
    then ``b`` (left out when ``wait_b`` is None) likewise; all on Monday."""
    t = MON
    rows: list[dict[str, Any]] = [{"case_id": case, "kind": "case_started", "at": t}]

    def step(name: str, item: int, wait: int, touch: int) -> None:
        nonlocal t
        rows.append({"case_id": case, "kind": "step_ready", "at": t, "step": name, "item": item})
        t += dt.timedelta(minutes=wait)
        rows.append({"case_id": case, "kind": "step_started", "at": t, "step": name, "item": item})
        t += dt.timedelta(minutes=touch)
        rows.append({"case_id": case, "kind": "step_completed", "at": t, "step": name,
                     "item": item, "touch_minutes": float(touch)})  # fmt: skip

    step("a", 1, wait_a, touch_a)
    if wait_b is not None:
        step("b", 2, wait_b, touch_b)
    rows.append({"case_id": case, "kind": "case_finished", "at": t})
    return rows


def run_set(cases: Sequence[tuple[int, int, int | None, int]]) -> pl.DataFrame:
    """An imported-style event frame of ``linear_version`` v1, one case per tuple."""
    rows = [r for n, c in enumerate(cases) for r in _case(f"c{n}", *c)]
    seq: dict[str, int] = {}
    for row in rows:
        seq[row["case_id"]] = seq.get(row["case_id"], 0) + 1
        row["seq"] = seq[row["case_id"]]
    frame = complete_columns(pl.DataFrame(rows, infer_schema_length=None))
    return frame.with_columns(process=pl.lit("test_process"), version=pl.lit(1),
                              mode=pl.lit("imported"))  # fmt: skip


FIVE = [(0, 10, 90, 60), (45, 20, 0, 20), (90, 30, 45, 40), (45, 40, 90, 50), (90, 50, 45, 30)]
"""wait a (min), touch a, wait b, touch b: medians 45, 30, 45, 40 minutes."""


def test_the_figures_are_the_medians_in_working_time() -> None:
    line = measured_timeline(linear_version(), run_set(FIVE))
    assert line is not None
    rows = [(s.id, s.wait_days, s.touch_minutes) for s in line.steps]
    assert rows == [
        ("a", pytest.approx(45 / 450), 30.0),
        ("b", pytest.approx(45 / 450), 40.0),
    ]
    # Per case: lead = the sum of its four durations; medians over the five cases.
    leads = sorted(sum(c) for c in FIVE)
    assert line.lead_days == pytest.approx(leads[2] / 450)
    assert line.touch_minutes == pytest.approx(70.0)  # touch per case: 70, 40, 70, 90, 80
    assert line.cases == 5 and line.hidden == 0 and line.rolled_ca is None
    assert line.activity_ratio == pytest.approx(100 * 70.0 / leads[2])


def test_fewer_than_five_finished_cases_give_no_timeline() -> None:
    assert measured_timeline(linear_version(), run_set(FIVE[:4])) is None
    assert measured_timeline(linear_version(), run_set(FIVE).head(0)) is None


def test_a_step_of_fewer_than_five_cases_is_left_out_and_counted() -> None:
    cases = [*FIVE[:4], (0, 10, None, 0), (0, 10, None, 0)]  # six cases, b in only four
    assert step_measures(run_set(cases))["b"].cases == 4
    line = measured_timeline(linear_version(), run_set(cases))
    assert line is not None and [s.id for s in line.steps] == ["a"] and line.hidden == 1


def test_another_version_in_the_frame_is_not_counted() -> None:
    frame = run_set(FIVE).with_columns(version=pl.lit(2))
    assert measured_timeline(linear_version(), frame) is None


@pytest.mark.parametrize(
    ("lang", "said", "unsaid"),
    [
        ("nb", ["Målt i 5 saker", "Gjennomløpstid (median)", "Målt: median ventetid",
                "vises ikke"], ["Samlet %K&amp;N", "Forventet per sak"]),
        ("en", ["Measured in 5 cases", "Lead time (median)", "Measured: median wait",
                "is not shown"], ["Rolled %C&amp;A", "Expected per case"]),
    ],
)  # fmt: skip
def test_the_drawing_words_it_as_measured(
    lang: Language, said: list[str], unsaid: list[str]
) -> None:
    line = measured_timeline(linear_version(), run_set(FIVE), lang=lang)
    assert line is not None
    svg = render_timelines([line]).decode()
    for text in said:
        assert text in svg, text
    for text in unsaid:
        assert text not in svg, text
    design = render_timelines([extract_timeline(linear_version(), lang=lang)]).decode()
    assert unsaid[0] in design and unsaid[1] in design  # the design keeps its own words


def test_the_note_counts_the_hidden_steps() -> None:
    line = measured_timeline(
        linear_version(), run_set([*FIVE[:4], (0, 10, None, 0), (0, 10, None, 0)])
    )
    assert line is not None
    assert "1 steg med færre enn 5 saker er utelatt" in render_timelines([line]).decode()
