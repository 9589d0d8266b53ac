"""Log times against Python's own zoneinfo: every wall-clock time, every offset, every form."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boflyt.formats.log_times import ISO, column_times, text_times

ZONES = ["Europe/Oslo", "UTC", "America/New_York", "Australia/Lord_Howe"]  # Lord Howe: 30-min DST
TIMES = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2060, 12, 31))
ROUND = st.sampled_from(["us", "s", "min"])


def expected(wall: dt.datetime, zone: str) -> dt.datetime | None:
    """The naive UTC instant of a wall-clock time, computed with zoneinfo (None if it never is).

    zoneinfo gives fold=0 the earlier of two instants, and a skipped time an instant that does
    not come back to the same wall clock.
    """
    tz = zoneinfo.ZoneInfo(zone)
    wall = wall.replace(fold=0)  # hypothesis draws fold=1 too; text has no fold
    instant = wall.replace(tzinfo=tz).astimezone(dt.UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        return None
    return instant.replace(tzinfo=None)


def trimmed(wall: dt.datetime, unit: str) -> dt.datetime:
    """``wall`` to whole seconds (``s``) or minutes (``min``), or as it is (``us``)."""
    if unit == "us":
        return wall
    return wall.replace(microsecond=0) if unit == "s" else wall.replace(second=0, microsecond=0)


@settings(max_examples=200, deadline=None)
@given(walls=st.lists(TIMES, min_size=1, max_size=20), zone=st.sampled_from(ZONES), unit=ROUND)
def test_naive_iso_times_are_the_zones_wall_clock(
    walls: list[dt.datetime], zone: str, unit: str
) -> None:
    walls = [trimmed(wall, unit) for wall in walls]
    text = pl.Series([wall.isoformat(sep=" " if wall.day % 2 else "T") for wall in walls])
    assert text_times(text, pattern=ISO, zone=zone).to_list() == [
        expected(wall, zone) for wall in walls
    ]


@settings(max_examples=200, deadline=None)
@given(
    walls=st.lists(TIMES, min_size=1, max_size=20),
    minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
    zone=st.sampled_from(ZONES),
)
def test_a_time_with_an_offset_keeps_its_instant_in_any_zone(
    walls: list[dt.datetime], minutes: int, zone: str
) -> None:
    offset = dt.timezone(dt.timedelta(minutes=minutes))
    aware = [wall.replace(tzinfo=offset) for wall in walls]
    forms = [
        lambda t: t.isoformat(),  # 2024-03-01T08:00:00.123456+01:00
        lambda t: t.isoformat(sep=" ", timespec="seconds").replace("+00:00", "Z"),
        lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%f%z"),  # +0100
    ]
    text = pl.Series([forms[i % 3](t) for i, t in enumerate(aware)])
    got = text_times(text, pattern=ISO, zone=zone).to_list()
    want = [t.astimezone(dt.UTC).replace(tzinfo=None) for t in aware]
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == (w.replace(microsecond=0) if i % 3 == 1 else w)


@settings(max_examples=100, deadline=None)
@given(walls=st.lists(TIMES, min_size=1, max_size=20), zone=st.sampled_from(ZONES))
def test_a_pattern_reads_what_strftime_writes(walls: list[dt.datetime], zone: str) -> None:
    walls = [wall.replace(second=0, microsecond=0) for wall in walls]
    text = pl.Series([wall.strftime("%d.%m.%Y %H:%M") for wall in walls])
    assert text_times(text, pattern="%d.%m.%Y %H:%M", zone=zone).to_list() == [
        expected(wall, zone) for wall in walls
    ]


@pytest.mark.parametrize("zone", ZONES)
def test_timestamp_columns_agree_with_text(zone: str) -> None:
    walls = [dt.datetime(2024, 3, 31, 1, 30), dt.datetime(2024, 10, 27, 2, 30)]
    naive = pl.DataFrame({"t": walls}).select(
        column_times(pl.col("t"), pl.Datetime("us"), pattern=ISO, zone=zone)
    )
    text = text_times(pl.Series([w.isoformat() for w in walls]), pattern=ISO, zone=zone)
    assert naive.to_series().to_list() == text.to_list() == [expected(w, zone) for w in walls]


def test_text_that_is_not_a_time_is_null() -> None:
    text = pl.Series(["2024-02-30", "i går", "2024-01-01T25:00", "2024-01-01T08:00+25:00", None])
    assert text_times(text, pattern=ISO, zone="UTC").to_list() == [None] * 5
