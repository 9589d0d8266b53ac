"""Helpers that put catalogue words on the command line: vocabulary values, lanes, plain cells.

The words themselves live in one catalogue (:mod:`boflyt.models.words`); the closed
vocabularies (step kinds, value classes, wastes, channels, statuses) are English identifiers in
the definition language, and people read them in bokmål by default.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from rich.text import Text

from boflyt.engine.definition.diff_text import format_value
from boflyt.models.definition import LaneCatalog
from boflyt.models.words import Language, term

__all__ = ["cells", "lane_text", "plain", "value_text"]


def value_text(value: Any, lang: Language) -> str:
    """A field value for people: vocabulary values translated, durations as ``30–60``."""
    if isinstance(value, Enum):
        return term(value, lang)
    if isinstance(value, tuple | frozenset) and value:
        return ", ".join(value_text(item, lang) for item in value)
    return format_value(value, lang)


def lane_text(lane_id: str, catalog: LaneCatalog, lang: Language) -> str:
    """The label of a lane from the catalogue; its id when the catalogue lacks it."""
    lane = catalog.get(lane_id)
    return lane.name.get(lang) if lane is not None else lane_id


def plain(text: str, style: str = "") -> Text:
    """Text that is never read as rich markup (messages may hold ``[low, high]``)."""
    return Text(text, style=style)


def cells(*values: str) -> list[Text]:
    """Table cells that are never read as rich markup (``[outcome]`` stays as written)."""
    return [Text(value) for value in values]
