"""The log mapping: which columns of a CSV/Parquet log hold the case, activity and times.

A municipality's case system exports its log as a table with its own column names, time format
and (often) local times without an offset. A small mapping file, TOML or YAML, says how to read
it; every key is optional::

    case = "Saksnummer"
    activity = "Aktivitet"
    timestamp = "Ferdig"
    start_timestamp = "Startet"      # a row with both gives a start and a complete event
    resource = "Saksbehandler"
    organisation = "Enhet"
    timestamp_format = "%d.%m.%Y %H:%M"
    time_zone = "Europe/Oslo"
    separator = ";"
    encoding = "windows-1252"

Without a file, :class:`LogMapping` ``()`` reads what Boflyt's own CSV/Parquet export writes
(:mod:`boflyt.formats.table_log`). For XES logs only ``organisation`` applies: the event
attribute that is the lane (unset: ``org:group``, else ``org:resource``).

>>> LogMapping(timestamp_format="%d.%m.%Y").time_zone
'Europe/Oslo'
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from boflyt.engine.definition.load import read_text
from boflyt.engine.definition.problems import did_you_mean
from boflyt.engine.definition.safe_yaml import LineMap, parse_yaml
from boflyt.formats.log_frame import LogError
from boflyt.formats.log_times import ISO
from boflyt.models.errors import DefinitionError, NotFoundError

__all__ = ["DEFAULT_TIME_ZONE", "ISO", "LogMapping", "load_mapping", "parse_mapping"]

DEFAULT_TIME_ZONE = "Europe/Oslo"
"""The time zone of timestamps written without an offset, unless the mapping names another."""

_DIRECTIVE = re.compile(r"%(?:\.?[369]?f|:z|#z|[a-zA-Z%])?")
"""A directive, or a lone ``%`` (which is unknown)."""
_ALLOWED = "%Y %y %m %b %B %d %e %j %a %A %H %k %I %l %p %P %M %S %f %.f %z %:z %F %D %T %R %s %%"
_KNOWN = frozenset(_ALLOWED.split()) | {"%.3f", "%.6f", "%.9f", "%3f", "%6f", "%9f", "%#z", "%h"}
_DAY = (("%F",), ("%D",), ("%s",), ("%Y", "%m", "%d"), ("%Y", "%b", "%d"), ("%Y", "%B", "%d"),
        ("%y", "%m", "%d"), ("%Y", "%m", "%e"), ("%Y", "%j"))  # fmt: skip
_SAMPLE = dt.datetime(2024, 10, 27, 13, 45, 30, 123456, tzinfo=dt.UTC)
_SUFFIXES = (".toml", ".yaml", ".yml")


class LogMapping(BaseModel):
    """How to read one CSV/Parquet log (and which XES attribute is the organisation).

    Column fields name a column of the table. ``resource``, ``organisation`` and ``lifecycle``
    left unset read the columns ``resource``, ``organisation`` and ``lifecycle`` when the file
    has them (what Boflyt's export writes); a column the mapping names must be there.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    case: str = "case"
    """The case id column."""
    activity: str = "activity"
    """The activity (step) name column."""
    timestamp: str = "timestamp"
    """When the activity completed (or, with ``lifecycle``, when the transition happened)."""
    start_timestamp: str | None = None
    """When it started; a row with both times gives a start and a complete event."""
    resource: str | None = None
    """Who did it (a person; pseudonymised on import)."""
    organisation: str | None = None
    """The organisation (lane): a column of a table, or the event attribute of an XES log."""
    lifecycle: str | None = None
    """The lifecycle transition (``start``, ``complete``, …); not with ``start_timestamp``."""
    timestamp_format: str = ISO
    """``iso`` (ISO 8601, offset optional) or a strftime pattern such as ``%d.%m.%Y %H:%M``."""
    time_zone: str = DEFAULT_TIME_ZONE
    """IANA time zone of timestamps written without an offset."""
    separator: str = ","
    """The CSV field separator (one character; ``;`` for many spreadsheet exports)."""
    encoding: str = "utf-8"
    """The CSV file's text encoding (``windows-1252`` for older Windows spreadsheet exports)."""

    @field_validator("case", "activity", "timestamp", "start_timestamp", "resource",
                     "organisation", "lifecycle")  # fmt: skip
    @classmethod
    def _named(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("found an empty column name; allowed: the name of a column")
        return value

    @field_validator("timestamp_format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value != ISO:
            _check_format(value)
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
            pl.Series([_SAMPLE]).dt.convert_time_zone(value)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError, pl.exceptions.PolarsError):
            hint = did_you_mean(value, sorted(zoneinfo.available_timezones()))
            raise ValueError(
                f"unknown time zone '{value}'{hint}; allowed: an IANA name such as "
                "Europe/Oslo or UTC"
            ) from None
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        try:
            text = codecs.lookup(value)._is_text_encoding  # not rot13, zlib, base64, …
        except LookupError:
            text = False
        if not text:
            raise ValueError(
                f"unknown encoding '{value}'; allowed: utf-8, windows-1252, iso-8859-1, "
                "iso-8859-15 or another text encoding Python knows"
            )
        return value

    @field_validator("separator")
    @classmethod
    def _separator(cls, value: str) -> str:
        if len(value.encode()) != 1 or value in '"\r\n':
            raise ValueError(
                f"found {value!r}; allowed: one character other than a quote or a line break, "
                "such as ',', ';' or '\\t'"
            )
        return value

    @field_validator("lifecycle")
    @classmethod
    def _one_start(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("start_timestamp") is not None:
            raise ValueError(
                "found both start_timestamp and lifecycle; allowed: one of them (a row with a "
                "start time gives its own start and complete events)"
            )
        return value


def _check_format(pattern: str) -> None:
    """Refuse a strftime pattern that does not name a day or that cannot read its own output."""
    used = _DIRECTIVE.findall(pattern)
    unknown = [part for part in used if part not in _KNOWN]
    if unknown:
        raise ValueError(
            f"'{pattern}' has an unknown directive {unknown[0]}; allowed: iso or {_ALLOWED}"
        )
    if not any(all(part in used for part in day) for day in _DAY):
        raise ValueError(
            f"'{pattern}' names no date; allowed: iso, or a pattern with a year, month and day "
            "such as '%d.%m.%Y %H:%M'"
        )
    sample = pl.Series([_SAMPLE])
    try:
        text = sample.dt.to_string(pattern)
        back = text.str.to_datetime(pattern, time_unit="us", strict=False)
    except pl.exceptions.PolarsError:
        back = pl.Series([None])
    if back.null_count():
        raise ValueError(f"'{pattern}' cannot read the times it writes ({text[0]!r})")


def load_mapping(path: Path) -> LogMapping:
    """Read and validate the mapping file at ``path`` (``.toml``, ``.yaml`` or ``.yml``).

    Raises:
        LogError: naming the file, the key (and the line, for YAML), what was found and what is
            allowed; also for a missing, unreadable, too large or non-UTF-8 file.
    """
    if path.suffix.lower() not in _SUFFIXES:
        raise LogError(
            path.name, "", None, f"a mapping file is .toml, .yaml or .yml, not '{path.suffix}'"
        )
    try:
        text = read_text(path)
    except DefinitionError as exc:
        raise LogError(path.name, "", None, exc.problems[0].message) from None
    except NotFoundError:
        raise LogError(path.name, "", None, "no such mapping file") from None
    return parse_mapping(text, file=path.name)


def parse_mapping(text: str, *, file: str) -> LogMapping:
    """Validate mapping ``text``; TOML unless ``file`` ends in ``.yaml``/``.yml``.

    >>> parse_mapping('case = "Saksnummer"', file="map.toml").case
    'Saksnummer'
    >>> parse_mapping("case: Saksnummer\\nsak: x", file="map.yaml")
    Traceback (most recent call last):
    ...
    boflyt.formats.log_frame.LogError: map.yaml, line 2, sak: unknown key; allowed: case, \
activity, timestamp, start_timestamp, resource, organisation, lifecycle, timestamp_format, \
time_zone, separator, encoding

    Raises:
        LogError: every problem of the file (the first one's key and line as its place).
    """
    data, lines = _parse(text, file)
    try:
        return LogMapping.model_validate(data)
    except ValidationError as exc:
        problems = sorted(_problem(error, lines) for error in exc.errors())
        (line, key, message), rest = problems[0], problems[1:]
        others = "".join(f"; line {n}, {k}: {m}" if n else f"; {k}: {m}" for n, k, m in rest)
        raise LogError(file, f"line {line}" if line else "", key, message + others) from None


def _parse(text: str, file: str) -> tuple[Mapping[str, Any], LineMap | None]:
    """The document as a mapping, and the line of each key (YAML only)."""
    if file.lower().endswith((".yaml", ".yml")):
        try:
            data, lines = parse_yaml(text, file=file)
        except DefinitionError as exc:
            problem = exc.problems[0]
            raise LogError(file, f"line {problem.line}", None, problem.message) from None
        if data is None:
            data = {}
    else:
        try:
            data, lines = tomllib.loads(text), None
        except tomllib.TOMLDecodeError as exc:
            raise LogError(file, "", None, f"not valid TOML: {exc}") from None
    if not isinstance(data, Mapping):
        raise LogError(file, "", None, "expected keys and values such as case: Saksnummer")
    return data, lines


def _problem(error: Mapping[str, Any], lines: LineMap | None) -> tuple[int, str, str]:
    """(line or 0, key, message) of one pydantic error, worded as found / allowed."""
    loc = tuple(error["loc"])
    key = ".".join(str(part) for part in loc) or "mapping"
    line = lines.line(loc) if lines is not None and loc else 0
    found = error.get("input")
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(LogMapping.model_fields)
        hint = did_you_mean(str(loc[-1]), list(LogMapping.model_fields))
        return line, key, f"unknown key{hint}; allowed: {allowed}"
    if error["type"] == "string_type" and found is None:
        return line, key, "found nothing; allowed: text (leave the key out for its default)"
    if error["type"] == "string_type":
        return line, key, f'found {found!r}; allowed: text (quote it: "{found}")'
    return line, key, str(error["msg"]).removeprefix("Value error, ")
