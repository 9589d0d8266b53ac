"""The log-distance measures on tiny logs whose distances are worked out by hand.

Every instance below is instantaneous (start = end) unless a test says otherwise, so each
instance adds its hour twice to AED, CED and RED; the emd of two samples is the mean distance
each unit of one must move to become the other.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from boflyt.analysis.log_distance import (
    INSTANCE_SCHEMA,
    MEASURES,
    absolute_event_distance,
    activity_instances,
    case_arrival_distance,
    circadian_event_distance,
    cycle_time_distance,
    emd,
    log_distances,
    ngram_distance,
    relative_event_distance,
)

MONDAY = dt.datetime(2025, 1, 6, 9)
HOUR = dt.timedelta(hours=1)


def log(*instances: tuple[str, str, float] | tuple[str, str, float, float]) -> pl.DataFrame:
    """Instances as (case, activity, start hours after Monday 09:00[, end hours])."""
    rows = [
        {
            "case": c,
            "activity": a,
            "start": MONDAY + s * HOUR,
            "end": MONDAY + (rest or (s,))[0] * HOUR,
        }
        for c, a, s, *rest in instances
    ]
    return pl.DataFrame(rows, schema=INSTANCE_SCHEMA)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ([0, 1], [2, 3], 2.0),
        ([0, 4], [0, 4], 0.0),
        ([0], [0, 4], 2.0),
        ([5], [1], 4.0),
        ([0, 0, 0, 3], [1], 1.25),  # three units move 1, one moves 2: 5 / 4
    ],
)
def test_emd_is_the_mean_distance_moved(
    first: list[float], second: list[float], expected: float
) -> None:
    assert emd(np.array(first), np.array(second)) == pytest.approx(expected)
    assert emd(np.array(second), np.array(first)) == pytest.approx(expected)


def test_emd_refuses_an_empty_sample() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        emd(np.array([]), np.array([1.0]))


def test_cycle_time_distance_bins_durations_from_the_shortest() -> None:
    real = log(("a", "x", 0), ("a", "y", 1), ("b", "x", 0), ("b", "y", 3))  # 1 h and 3 h
    sim = log(("c", "x", 0), ("c", "y", 2), ("d", "x", 0), ("d", "y", 2))  # 2 h twice
    assert cycle_time_distance(real, sim) == pytest.approx(1.0)  # bins [0, 2] vs [1, 1]
    assert cycle_time_distance(real, sim, bin_hours=2) == pytest.approx(0.5)  # [0, 1] vs [0, 0]
    assert cycle_time_distance(real, real) == 0.0


def test_cycle_time_spans_first_start_to_last_end() -> None:
    real = log(("a", "x", 0, 4))  # one instance of four hours
    sim = log(("b", "x", 0, 1))
    assert cycle_time_distance(real, sim) == pytest.approx(3.0)


def test_absolute_event_distance_counts_hours_from_the_first_hour() -> None:
    real = log(("a", "x", 0), ("a", "y", 0.5))  # 09:00 and 09:30: hour 0
    sim = log(("b", "x", 2 + 1 / 6))  # 11:10: hour 2
    assert absolute_event_distance(real, sim) == pytest.approx(2.0)


def test_case_arrival_distance_uses_each_case_s_first_start() -> None:
    real = log(("a", "x", 0), ("a", "y", 8), ("b", "x", 1))
    sim = log(("c", "x", 0), ("d", "x", 3), ("d", "y", 4))
    assert case_arrival_distance(real, sim) == pytest.approx(1.0)  # [0, 1] vs [0, 3]


def test_circadian_distance_compares_hours_within_each_weekday() -> None:
    real = log(("a", "x", 0))  # Monday 09
    later = log(("b", "x", 2))  # Monday 11
    tuesday = log(("c", "x", 24))  # Tuesday 09
    assert circadian_event_distance(real, later) == pytest.approx(2 / 7)
    # Monday only in one log and Tuesday only in the other: 23 each, the rest 0
    assert circadian_event_distance(real, tuesday) == pytest.approx(46 / 7)


def test_circadian_distance_ignores_the_date() -> None:
    real = log(("a", "x", 0))
    next_week = log(("b", "x", 7 * 24))
    assert circadian_event_distance(real, next_week) == 0.0
    assert absolute_event_distance(real, next_week) == pytest.approx(168.0)


def test_relative_event_distance_counts_from_each_case_s_start() -> None:
    real = log(("a", "x", 0), ("a", "y", 5))  # [0, 0, 5, 5]
    sim = log(("b", "x", 30), ("b", "y", 32))  # [0, 0, 2, 2] whatever the absolute time
    assert relative_event_distance(real, sim) == pytest.approx(1.5)


def test_ngram_distance_of_two_traces_sharing_one_trigram() -> None:
    # padded [_ _ x y _ _] and [_ _ x z _ _]: four 3-grams each, (_ _ x) in both
    real = log(("a", "x", 0), ("a", "y", 1))
    sim = log(("b", "x", 0), ("b", "z", 1))
    assert ngram_distance(real, sim) == pytest.approx(6 / 8)
    assert ngram_distance(real, real) == 0.0
    assert ngram_distance(log(("a", "p", 0)), log(("b", "q", 0))) == 1.0


def test_ngram_order_follows_start_times_not_rows() -> None:
    rows_reversed = log(("a", "y", 1), ("a", "x", 0))
    assert ngram_distance(rows_reversed, log(("b", "x", 0), ("b", "y", 1))) == 0.0
    assert ngram_distance(rows_reversed, log(("b", "y", 0), ("b", "x", 1))) == 1.0


def test_ngram_counts_frequencies_not_sets() -> None:
    once = log(("a", "x", 0))
    twice = log(("a", "x", 0), ("b", "x", 0))
    # 3 grams (_ _ x), (_ x _), (x _ _) once against twice: |1 - 2| * 3 / (3 + 6)
    assert ngram_distance(once, twice) == pytest.approx(3 / 9)
    assert ngram_distance(once, twice, n=1) == pytest.approx(1 / 3)


def test_log_distances_are_zero_for_the_same_log_and_keyed_by_measure() -> None:
    real = log(("a", "x", 0), ("a", "y", 3, 5), ("b", "x", 26))
    distances = log_distances(real, real)
    assert tuple(distances) == MEASURES
    assert all(value == 0.0 for value in distances.values())


def test_a_measure_refuses_an_empty_log() -> None:
    empty = pl.DataFrame(schema=INSTANCE_SCHEMA)
    with pytest.raises(ValueError, match="at least one activity instance"):
        log_distances(empty, log(("a", "x", 0)))


def test_activity_instances_pairs_starts_and_keeps_only_named_activities() -> None:
    t = MONDAY
    events = pl.DataFrame(
        {
            "case_id": ["c"] * 5,
            "item": [None, 1, 1, 2, 3],
            "kind": ["case_started", "step_started", "step_completed", "step_completed",
                     "step_completed"],
            "step": [None, "a", "a", "b", "end"],
            "at": [t, t + HOUR, t + 2 * HOUR, t + 3 * HOUR, t + 3 * HOUR],
        }
    )  # fmt: skip
    instances = activity_instances(events, activities=["a", "b"])
    assert instances.rows() == [
        ("c", "a", t + HOUR, t + 2 * HOUR),
        ("c", "b", t + 3 * HOUR, t + 3 * HOUR),
    ]


@given(
    st.lists(st.integers(0, 500), min_size=1, max_size=40).flatmap(
        lambda a: st.tuples(
            st.just(a), st.lists(st.integers(0, 500), min_size=len(a), max_size=len(a))
        )
    )
)
def test_emd_of_equal_sized_samples_pairs_them_in_sorted_order(
    pair: tuple[list[int], list[int]],
) -> None:
    # with equal weights and sizes, the optimal transport matches the i-th smallest to the i-th
    first, second = (np.array(x, dtype=float) for x in pair)
    expected = np.mean(np.abs(np.sort(first) - np.sort(second)))
    assert emd(first, second) == pytest.approx(expected, abs=1e-9)
