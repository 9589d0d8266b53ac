"""The value-stream model and its ladder chart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from boflyt.analysis.design import design_metrics
from boflyt.engine.definition.load import load_lanes
from boflyt.visualize.charts import lead_time_distribution
from boflyt.visualize.timeline import render_timelines, shared_x_max
from boflyt.visualize.value_stream import extract_timeline
from tests.factories import decision_version, linear_version

LANES_FILE = Path(__file__).resolve().parents[2] / "processes" / "lanes.yaml"


def test_steps_are_in_flow_order_with_expected_times() -> None:
    version = decision_version(p_complete=0.8, rework=True)
    timeline = extract_timeline(version)
    rows = [(s.id, s.number, s.wait_days, s.touch_minutes) for s in timeline.steps]
    # check is visited 1 / 0.8 = 1.25 times; fix_docs 0.25 times; approve once.
    assert rows == [
        ("check", 1, 0.0, pytest.approx(37.5)),
        ("approve", 2, 0.0, pytest.approx(15.0)),
        ("fix_docs", 3, pytest.approx(1.25), 0.0),
    ]
    assert not timeline.steps[2].external  # without the catalogue, tenant is not known as outside
    with_catalogue = extract_timeline(version, load_lanes(LANES_FILE))
    assert with_catalogue.steps[2].external  # the catalogue marks the tenant lane as outside
    m = design_metrics(version)
    assert timeline.lead_days == m["lead_days"]
    assert timeline.activity_ratio == m["activity_ratio"]
    assert timeline.rolled_ca == m["rolled_ca"]


def test_summed_days_add_waits_and_touch_time() -> None:
    timeline = extract_timeline(linear_version())
    assert timeline.summed_days == pytest.approx(1 + 30 / 450 + 2 + 60 / 450)


def test_before_and_after_share_one_scale() -> None:
    before = extract_timeline(decision_version(p_complete=0.5, rework=True), lang="en")
    after = extract_timeline(linear_version(), lang="en")
    x_max = shared_x_max([before, after])
    assert x_max == pytest.approx(
        1.05 * max(before.summed_days, after.summed_days, before.lead_days)
    )
    svg = render_timelines([before, after], "svg").decode()
    assert svg.count('id="axes_') == 2
    assert f"Lead time: {before.lead_days:.1f} d" in svg
    assert f"Lead time: {after.lead_days:.1f} d" in svg
    assert "Activity ratio" in svg and "Rolled %C&amp;A" in svg
    ticks = re.findall(r">(\d+)</text>", svg)
    half = len(ticks) // 2
    assert ticks[:half] == ticks[half:], "both ladders carry the same x ticks"


def test_bokmal_is_the_default_and_png_works() -> None:
    timeline = extract_timeline(linear_version())
    assert "Gjennomløpstid" in render_timelines([timeline]).decode()
    assert render_timelines([timeline], "png").startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="no timeline"):
        render_timelines([])


def test_lead_time_distribution_chart() -> None:
    svg = lead_time_distribution([10.0, 12.0, 15.0], [4.0, 5.0], labels=("v1", "v2")).decode()
    assert "v1 (n=3, median 12.0)" in svg and "v2 (n=2, median 4.5)" in svg
