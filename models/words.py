"""Every word people read, in every language: one catalogue, one data file per language.

The words live in ``models/languages/<code>.toml`` (``nb.toml`` = bokmål, ``en.toml`` =
English), one file per language and the same keys in each; a new language (nynorsk, say) is a
new file, never a code change. A key is ``group.name``: the group is a TOML table
(``[waste]``) and the name a key in it (``inventory = "lager"``). A counted word is a table of
its forms, ``cases = { one = "{n} sak", other = "{n} saker" }``, read with :func:`count`.

Why one typed table in TOML rather than gettext/Babel: the words are keyed by the same
identifiers the definition language and the code already use (``waste.inventory``,
``metric.lead_days``), which gettext's English-sentence msgids cannot express; TOML is read by
the standard library (no compile step, no ``.mo`` files to ship, no extra dependency); and a
test can check in one line that every language has every key, which is what makes a missing
word a failure instead of an English leak.

Numbers are written by :func:`format_number` only, with the decimal mark and the thousands
separator of the language file (bokmål: ``1 234,5`` with a narrow no-break space, English:
``1,234.5``). The enumerations of :mod:`boflyt.models.vocabulary` are read with :func:`term`
(``term(Waste.INVENTORY, "nb") == "lager"``): the group is the enum's name in snake case.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, NewType

__all__ = [
    "DEFAULT_LANGUAGE",
    "ENGLISH",
    "GLOSSARY_GROUPS",
    "Language",
    "count",
    "entries",
    "format_duration",
    "format_number",
    "glossary_markdown",
    "language",
    "languages",
    "term",
    "word",
]

Language = NewType("Language", str)
"""The code of a language that has a file in the catalogue (``nb``, ``en``, …).

The one type of every ``lang`` parameter. A language is a file, never a code change, so this is
not an enum: a plain string becomes a :data:`Language` only through :func:`language`, which
checks that its file exists (settings, ``--lang`` and the web's switch all pass through it).
"""

DEFAULT_LANGUAGE = Language("nb")
"""Bokmål, the language of every screen unless ``--lang`` or ``BOFLYT_LANG`` says otherwise."""

ENGLISH = Language("en")
"""English: the second language of every screen, and of messages meant for logs."""
FOLDER = Path(__file__).with_name("languages")
"""Where the language files are (shipped as package data)."""

GLOSSARY_GROUPS = (
    "term",
    "metric",
    "unit",
    "step_kind",
    "value_class",
    "waste",
    "channel",
    "version_status",
    "run_status",
    "item_status",
    "event_kind",
    "mode",
)
"""The groups of the docs' glossary, in its order: the domain's words, not screen texts."""


def languages() -> tuple[Language, ...]:
    """The codes of the languages that have a file, sorted (``('en', 'nb')``)."""
    return tuple(sorted(Language(path.stem) for path in FOLDER.glob("*.toml")))


def language(code: str) -> Language:
    """``code`` as a :data:`Language`, if the catalogue has a file for it.

    Raises:
        ValueError: no such language file; the message names the known languages.

    >>> language("en")
    'en'
    """
    if code not in languages():
        raise ValueError(f"unknown language {code!r}; known languages: {', '.join(languages())}")
    return Language(code)


@cache
def _load(lang: Language) -> dict[str, Any]:
    path = FOLDER / f"{lang}.toml"
    if not re.fullmatch(r"[a-z]{2,3}", lang) or not path.is_file():
        known = ", ".join(languages())
        raise ValueError(f"unknown language {lang!r}; known languages: {known}")
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    flat: dict[str, Any] = {}
    for group, names in data.items():
        for name, value in names.items():
            flat[f"{group}.{name}"] = value
    return flat


def entries(lang: Language) -> Mapping[str, str | Mapping[str, str]]:
    """Every key of ``lang`` with its word (a counted word: its forms by ``one``/``other``).

    Raises:
        ValueError: ``lang`` has no language file.
    """
    return _load(lang)


def _lookup(key: str, lang: Language) -> Any:
    found = _load(lang).get(key)
    if found is None:
        raise KeyError(f"{key!r} is not in the {lang} word catalogue ({FOLDER / lang}.toml)")
    return found


def word(key: str, lang: Language, **fields: object) -> str:
    """The word for ``key`` (``group.name``) in ``lang``, with any ``{field}`` filled in.

    Raises:
        KeyError: the catalogue has no such key (a test keeps every language complete).
        ValueError: ``lang`` has no language file.

    >>> word("waste.inventory", "nb"), word("waste.inventory", "en")
    ('lager', 'inventory')
    """
    found = _lookup(key, lang)
    if not isinstance(found, str):
        raise KeyError(f"{key!r} is a counted word; read it with count()")
    return found.format(**fields) if fields else found


def count(key: str, n: float, lang: Language, **fields: object) -> str:
    """A counted word with its number: ``count("word.cases", 1, "nb") == "1 sak"``.

    The number is written by :func:`format_number` (whole numbers without decimals).

    >>> count("word.cases", 1, "nb"), count("word.cases", 1200, "en")
    ('1 sak', '1,200 cases')
    """
    forms = _lookup(key, lang)
    if not isinstance(forms, dict):
        raise KeyError(f"{key!r} is not a counted word; read it with word()")
    digits = 0 if float(n).is_integer() else 1
    form = forms["one" if n == 1 else "other"]
    return str(form).format(n=format_number(n, lang, digits), **fields)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def term(value: Enum, lang: Language) -> str:
    """The word for a member of a closed vocabulary, e.g. ``term(StepKind.TASK, "nb")``.

    >>> from boflyt.models.vocabulary import RunStatus
    >>> term(RunStatus.RUNNING, "nb"), term(RunStatus.RUNNING, "en")
    ('pågår', 'running')
    """
    return word(f"{_snake(type(value).__name__)}.{value.value}", lang)


def format_number(value: float, lang: Language, digits: int | None = 1) -> str:
    """``value`` rounded to ``digits`` decimals, written the way ``lang`` writes numbers.

    Bokmål: decimal comma and a narrow no-break space (U+202F) between thousands, so a number
    never breaks across lines; English: ``1,234.5``. Negative numbers take a minus sign (U+2212),
    not a hyphen. ``digits=None`` writes as many decimals as the value needs (at most six), the
    way a definition file states it: ``0.25`` → ``0,25``, ``90.0`` → ``90``.

    >>> format_number(-1234.56, "nb"), format_number(-1234.56, "en"), format_number(7, "nb", 0)
    ('−1\\u202f234,6', '−1,234.6', '7')
    >>> format_number(0.25, "nb", None), format_number(90.0, "en", None)
    ('0,25', '90')
    """
    marks = _load(lang)
    decimal, group = marks["format.decimal"], marks["format.group"]
    text = f"{value:,.{6 if digits is None else digits}f}"
    if digits is None and "." in text:
        text = text.rstrip("0").rstrip(".")
    if text.startswith("-") and not text.strip("-0,."):
        text = text[1:]  # −0,0 reads as a change that is not there
    return text.replace(",", "\0").replace(".", decimal).replace("\0", group).replace("-", "−")


def format_duration(delta: dt.timedelta, lang: Language) -> str:
    """A waiting time in whole days, hours and minutes, e.g. ``2 d 3 t`` (``2 d 3 h`` in English).

    The one wording of a wait, for the command line's inbox and timeline and the web's inbox; a
    negative time (a clock set back) reads as no wait.

    >>> format_duration(dt.timedelta(days=2, hours=3), ENGLISH)
    '2 d 3 h'
    >>> format_duration(dt.timedelta(minutes=5), DEFAULT_LANGUAGE)
    '5 min'
    """
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{format_number(days, lang, 0)} {word('unit.day_short', lang)}"] if days else []
    parts += [f"{hours} {word('unit.hour_short', lang)}"] if hours else []
    parts += [f"{mins} {word('unit.min', lang)}"] if mins or not parts else []
    return " ".join(parts)


def glossary_markdown(
    langs: tuple[Language, Language] = (DEFAULT_LANGUAGE, ENGLISH),
) -> str:
    """The docs' glossary: one table per group of :data:`GLOSSARY_GROUPS`, generated here.

    Each row is the identifier and its word in both languages (a counted word by its plural).
    """
    first, second = langs
    lines: list[str] = []
    for group in GLOSSARY_GROUPS:
        title = f"{word(f'glossary.{group}', first)} / {word(f'glossary.{group}', second)}"
        lines += [f"**{title}**", "", f"| identifier | {first} | {second} |", "|---|---|---|"]
        names = [key.split(".", 1)[1] for key in _load(first) if key.startswith(f"{group}.")]
        for name in names:
            a, b = (_shown(_lookup(f"{group}.{name}", lang)) for lang in langs)
            lines.append(f"| `{name}` | {a} | {b} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _shown(value: str | Mapping[str, str]) -> str:
    text = value if isinstance(value, str) else str(value["other"]).replace("{n} ", "")
    return text.replace("|", "\\|")
