"""The raw log frame: any event log as read, before Boflyt makes events of it.

Every reader (XES, CSV, Parquet) returns one polars frame with the columns of
:data:`RAW_SCHEMA`, one row per event of the source, in the source's order:

* ``case`` — the case id as written in the log (pseudonymised on import, never stored);
* ``activity`` — the activity's name (``concept:name``);
* ``at`` — when, as naive UTC (offsets and the mapping's time zone already applied);
* ``lifecycle`` — the lifecycle transition in lower case (``start``, ``complete``, …); null
  when the log has none, which counts as ``complete``;
* ``resource`` — who did it (a person: pseudonymised on import), or null;
* ``org`` — the organisation (lane) attribute the mapping chose, or null;
* ``row`` — where the event stands in the source (XES: the line of its ``<event>``;
  CSV: the row number, header = row 1; Parquet: the row index + 1), for messages and to keep
  the log's order among events with equal times.

A reader that meets bad input raises :class:`LogError` naming the place and the field; nothing
is stored from a log that fails.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from boflyt.models.errors import CommandError

__all__ = ["RAW_SCHEMA", "LogError", "Progress", "empty_raw_frame"]

RAW_SCHEMA: dict[str, pl.DataType] = {
    "case": pl.String(),
    "activity": pl.String(),
    "at": pl.Datetime("us"),
    "lifecycle": pl.String(),
    "resource": pl.String(),
    "org": pl.String(),
    "row": pl.Int64(),
}
"""The raw log frame's columns and dtypes, in order."""

Progress = Callable[[int, int | None], None]
"""Told (done, total) as a reader works, in bytes of the source; total None when unknown."""


class LogError(CommandError):
    """An event log the import cannot read: where (file, line or row), which field, what.

    >>> str(LogError("log.csv", "row 7", "timestamp", "'32.13.2024' is not a date (%d.%m.%Y)"))
    "log.csv, row 7, timestamp: '32.13.2024' is not a date (%d.%m.%Y)"
    """

    def __init__(self, source: str, where: str, field: str | None, message: str) -> None:
        self.source, self.where, self.field = source, where, field
        place = ", ".join(part for part in (source, where, field) if part)
        super().__init__(f"{place}: {message}")


def empty_raw_frame() -> pl.DataFrame:
    """A raw log frame with no rows."""
    return pl.DataFrame(schema=RAW_SCHEMA)
