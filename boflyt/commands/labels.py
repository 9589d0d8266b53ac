"""Bokmål and English labels for the command line: vocabulary values, field names, headings.

The closed vocabularies (step kinds, value classes, wastes, channels, statuses) are English
identifiers in the definition language; people read them in bokmål by default.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from rich.text import Text

from boflyt.engine.diff import format_value
from boflyt.models.definition import LaneCatalog

__all__ = ["LABELS", "cells", "label", "lane_text", "plain", "value_text"]

LABELS: dict[str, dict[str, str]] = {
    # step kinds
    "start": {"nb": "start", "en": "start"},
    "task": {"nb": "oppgave", "en": "task"},
    "auto": {"nb": "automatisk", "en": "automatic"},
    "decision": {"nb": "beslutning", "en": "decision"},
    "parallel": {"nb": "parallell", "en": "parallel"},
    "join": {"nb": "samling", "en": "join"},
    "wait": {"nb": "venting", "en": "wait"},
    "end": {"nb": "slutt", "en": "end"},
    # value classes
    "value_adding": {"nb": "verdiskapende", "en": "value-adding"},
    "necessary": {"nb": "nødvendig", "en": "necessary"},
    "waste": {"nb": "sløsing", "en": "waste"},
    # wastes
    "transport": {"nb": "transport", "en": "transport"},
    "inventory": {"nb": "lager", "en": "inventory"},
    "motion": {"nb": "bevegelse", "en": "motion"},
    "waiting": {"nb": "venting", "en": "waiting"},
    "overproduction": {"nb": "overproduksjon", "en": "overproduction"},
    "overprocessing": {"nb": "overprosessering", "en": "overprocessing"},
    "defects": {"nb": "feil", "en": "defects"},
    "unused_skills": {"nb": "ubrukt kompetanse", "en": "unused skills"},
    # channels
    "system": {"nb": "fagsystem", "en": "system"},
    "email": {"nb": "e-post", "en": "e-mail"},
    "letter": {"nb": "brev", "en": "letter"},
    "phone": {"nb": "telefon", "en": "phone"},
    "meeting": {"nb": "møte", "en": "meeting"},
    # statuses
    "draft": {"nb": "utkast", "en": "draft"},
    "published": {"nb": "publisert", "en": "published"},
    "retired": {"nb": "utgått", "en": "retired"},
    "broken": {"nb": "ødelagt", "en": "broken"},
    # fields (diff)
    "name": {"nb": "navn", "en": "name"},
    "kind": {"nb": "type", "en": "kind"},
    "lane": {"nb": "organisasjon", "en": "lane"},
    "joint_with": {"nb": "sammen med", "en": "joint with"},
    "touch_minutes": {"nb": "berøringstid (min)", "en": "touch time (min)"},
    "wait_days": {"nb": "ventetid (arb.dager)", "en": "wait (working days)"},
    "external_wait": {"nb": "venter på ekstern", "en": "external wait"},
    "value": {"nb": "verdi", "en": "value"},
    "wastes": {"nb": "sløsing", "en": "wastes"},
    "registers": {"nb": "registrerer", "en": "registers"},
    "channel": {"nb": "kanal", "en": "channel"},
    "complete_accurate": {"nb": "%K&N", "en": "%C&A"},
    "extra_transactions": {"nb": "ekstra transaksjoner", "en": "extra transactions"},
    "probability": {"nb": "sannsynlighet", "en": "probability"},
    "rework": {"nb": "omarbeid", "en": "rework"},
    "label": {"nb": "etikett", "en": "label"},
    "based_on": {"nb": "bygger på", "en": "based on"},
    "owner": {"nb": "eier", "en": "owner"},
    "date": {"nb": "dato", "en": "date"},
    "status": {"nb": "status", "en": "status"},
    # headings and words
    "step": {"nb": "steg", "en": "step"},
    "steps": {"nb": "Steg i flytrekkefølge", "en": "Steps in flow order"},
    "transitions": {"nb": "Overganger", "en": "Transitions"},
    "lanes": {"nb": "Organisasjoner", "en": "Lanes"},
    "outside": {"nb": "ekstern", "en": "outside"},
    "touch_short": {"nb": "min", "en": "min"},
    "wait_short": {"nb": "dager", "en": "days"},
    "legend": {
        "nb": "VA = verdiskapende · BNVA = nødvendig, ikke verdiskapende · NVA = sløsing · "
        "min = berøringstid i minutter · dager = ventetid før steget i arbeidsdager (7,5 t), "
        "* = venter på ekstern part · "
        "%K&N = andel komplett og nøyaktig",
        "en": "VA = value-adding · BNVA = business-necessary, non-value-adding · NVA = waste · "
        "min = touch time in minutes · days = wait before the step in working days (7.5 h), "
        "* = waiting on an outside party · "
        "%C&A = percent complete and accurate",
    },
    "hash": {"nb": "innholdshash", "en": "content hash"},
    "process": {"nb": "prosess", "en": "process"},
    "version": {"nb": "versjon", "en": "version"},
    "from_to": {"nb": "fra → til", "en": "from → to"},
    "outcome": {"nb": "utfall", "en": "outcome"},
    "handoff": {"nb": "overlevering", "en": "handoff"},
    "count_line": {
        "nb": "{steps} steg · {transitions} overganger · {handoffs} overleveringer (↪)",
        "en": "{steps} steps · {transitions} transitions · {handoffs} handoffs (↪)",
    },
    "steps_removed": {"nb": "Fjernede steg", "en": "Steps removed"},
    "steps_added": {"nb": "Nye steg", "en": "Steps added"},
    "steps_changed": {"nb": "Endrede steg", "en": "Steps changed"},
    "transitions_changed": {"nb": "Endrede overganger", "en": "Transitions changed"},
    "handoffs": {"nb": "Overleveringer", "en": "Handoffs"},
    "change": {"nb": "endring", "en": "change"},
    "before": {"nb": "før", "en": "before"},
    "after": {"nb": "etter", "en": "after"},
    "lanes_changed": {"nb": "Organisasjoner: {text}", "en": "Lanes: {text}"},
    "metadata": {"nb": "Versjonsdata", "en": "Version data"},
    "no_change": {"nb": "Ingen endring i flyten.", "en": "No change to the flow."},
}
"""Bokmål and English labels, by vocabulary value, field name or heading key."""


def label(key: str, lang: str) -> str:
    """The label of ``key`` in ``lang`` (bokmål unless ``en``); the key itself when unknown."""
    entry = LABELS.get(key)
    if entry is None:
        return key
    return entry["en" if lang == "en" else "nb"]


def value_text(value: Any, lang: str) -> str:
    """A field value for people: vocabulary values translated, durations as ``30–60``."""
    if isinstance(value, Enum):
        return label(str(value.value), lang)
    if isinstance(value, tuple | frozenset) and value:
        return ", ".join(value_text(item, lang) for item in value)
    return format_value(value, lang)


def lane_text(lane_id: str, catalog: LaneCatalog, lang: str) -> str:
    """The label of a lane from the catalogue; its id when the catalogue lacks it."""
    lane = catalog.get(lane_id)
    return lane.name.get(lang) if lane is not None else lane_id


def plain(text: str, style: str = "") -> Text:
    """Text that is never read as rich markup (messages may hold ``[low, high]``)."""
    return Text(text, style=style)


def cells(*values: str) -> list[Text]:
    """Table cells that are never read as rich markup (``[outcome]`` stays as written)."""
    return [Text(value) for value in values]
