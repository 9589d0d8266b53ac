"""Times in event logs: text, dates and timestamps as naive UTC, column at a time.

A time with an offset keeps its instant. A time without one is a wall-clock time in the log's
time zone: one that happens twice (the autumn DST change) is taken as the earlier instant, one
that never happens (the spring change) is null, like text that is not a time, so the caller can
say which row is wrong. ``pattern`` is ``iso`` (ISO 8601, the offset optional) or a strftime
pattern (polars/chrono directives).

>>> text = pl.Series(["2024-10-27T02:30:00", "2024-10-27 03:30+01:00", "2024-03-31T02:30"])
>>> text_times(text, pattern="iso", zone="Europe/Oslo").to_list()
[datetime.datetime(2024, 10, 27, 0, 30), datetime.datetime(2024, 10, 27, 2, 30), None]
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

__all__ = ["ISO", "column_times", "text_times", "utc_of_local"]

ISO = "iso"
"""The pattern of ISO 8601 times, with or without an offset."""

_OFFSET = ("%z", "%:z", "%#z")
_CANONICAL = "%Y-%m-%dT%H:%M:%S%.f"
_FORMS = ((_CANONICAL + "%:z", True), (_CANONICAL, False), ("%Y-%m-%d %H:%M:%S%.f", False))
"""The ISO forms most systems write (format, has an offset), tried before the general one."""
_GENERAL = (
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[Tt ](?P<hm>\d{2}:\d{2})(?::(?P<s>\d{2}(?:[.,]\d{1,9})?))?)?"
    r"\s*(?P<zone>[Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)
_MICROS = pl.Datetime("us")


def utc_of_local(naive: pl.Expr, zone: str) -> pl.Expr:
    """Naive wall-clock times of ``zone`` as naive UTC (the earlier of two; null if none)."""
    return (
        naive.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .dt.replace_time_zone(None)
    )


def column_times(column: pl.Expr, dtype: pl.DataType, *, pattern: str, zone: str) -> pl.Expr:
    """A column of ``dtype`` (text, date or datetime) as naive UTC microseconds.

    A datetime with a time zone keeps its instant; one without, and a date (its midnight), is
    read in ``zone``; text is read with ``pattern`` (the general ISO form; :func:`text_times`
    is faster on many rows). Null where text is not a time or a local time never happens.
    """
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return column.dt.convert_time_zone("UTC").dt.replace_time_zone(None).cast(_MICROS)
    if isinstance(dtype, pl.Datetime) or dtype == pl.Date:
        return utc_of_local(column.cast(_MICROS), zone)
    if pattern == ISO:
        return _general_iso(column, zone)
    if any(code in pattern for code in _OFFSET):
        aware = column.str.to_datetime(pattern, time_unit="us", time_zone="UTC", strict=False)
        return aware.dt.replace_time_zone(None)
    naive = column.str.to_datetime(pattern, time_unit="us", strict=False)
    return naive if "%s" in pattern else utc_of_local(naive, zone)  # %s: seconds since 1970, UTC


def text_times(text: pl.Series, *, pattern: str, zone: str) -> pl.Series:
    """Text times as naive UTC, null where not a time; the series keeps its name.

    ISO times are tried in the forms Boflyt and most systems write first, each form on the rows
    still unread, so only unusual values pay for the general pattern.
    """
    if pattern != ISO:
        return _over(text, lambda column: column_times(column, pl.String(), pattern=pattern,
                                                       zone=zone))  # fmt: skip
    times = pl.Series(text.name, [], _MICROS).extend_constant(None, len(text))
    for form, aware in (*_FORMS, ("", False)):
        rows = (times.is_null() & text.is_not_null()).arg_true()
        if rows.is_empty():
            break
        part = text.gather(rows)
        if aware:
            read = part.str.to_datetime(form, time_unit="us", time_zone="UTC", strict=False)
            read = read.dt.replace_time_zone(None)
        elif form:
            naive = part.str.to_datetime(form, time_unit="us", strict=False)
            read = _over(naive, lambda column: utc_of_local(column, zone))
        else:
            read = _over(part, lambda column: _general_iso(column, zone))
        times = times.scatter(rows, read)
    return times


def _over(values: pl.Series, expression: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    """``expression`` of a column evaluated over ``values``, under their name."""
    frame = pl.DataFrame({"value": values})
    return frame.select(expression(pl.col("value"))).to_series().alias(values.name)


def _general_iso(text: pl.Expr, zone: str) -> pl.Expr:
    """ISO 8601 text: ``T`` or a space, seconds and fraction optional, offset optional."""
    parts = text.str.extract_groups(_GENERAL)
    wall = pl.concat_str(
        parts.struct.field("date"), pl.lit("T"),
        parts.struct.field("hm").fill_null("00:00"), pl.lit(":"),
        parts.struct.field("s").str.replace(",", ".", literal=True).fill_null("00"),
    )  # fmt: skip
    offset = (
        parts.struct.field("zone")
        .str.replace(r"^[Zz]$", "+00:00")
        .str.replace(r"^([+-]\d{2}):?(\d{2})$", "$1:$2")
        .str.replace(r"^([+-]\d{2})$", "$1:00")
    )
    aware = pl.concat_str(wall, offset).str.to_datetime(
        _CANONICAL + "%:z", time_unit="us", time_zone="UTC", strict=False
    )
    naive = wall.str.to_datetime(_CANONICAL, time_unit="us", strict=False)
    return (
        pl.when(offset.is_null())
        .then(utc_of_local(naive, zone))
        .otherwise(aware.dt.replace_time_zone(None))
    )
