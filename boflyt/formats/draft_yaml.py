"""A drafted version as YAML text: the version file, the lanes it adds, a first scenario.

:func:`version_text` writes a :class:`~boflyt.analysis.discovery.DraftVersion` as a version
file in the seed library's layout, with comments saying where it came from and what is left
for the facilitator (``value: null`` and ``wastes: []`` on every work step);
:func:`lanes_text` appends the lanes the library lacks to the text of ``lanes.yaml``;
:func:`scenario_text` writes a scenario for a process that has none. Every text is checked by
the loader before the command writes it. Strings are written as JSON strings, which YAML reads
as double-quoted scalars, so no value is ever taken for a number, a boolean or a date.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any

from boflyt.analysis.discovery import FACILITATOR, DraftVersion
from boflyt.models.definition import Lane

__all__ = ["lanes_text", "scenario_text", "version_text"]

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_WORDS = frozenset({"null", "true", "false", "yes", "no", "on", "off", "y", "n"})
"""Ids written plain, except words some YAML readers would type."""
_TOP = ("process", "version", "label", "based_on", "status", "owner", "date", "summary")
_STEP_KEYS = ("id", "kind", "lane", "name", "touch_minutes", "wait_days", "value", "wastes")
_LEFT = {
    "value": f"  # {FACILITATOR}: value_adding, necessary or waste",
    "wastes": f"  # {FACILITATOR}: transport, inventory, motion, waiting, overproduction, "
    "overprocessing, defects, unused_skills",
}


def _scalar(value: Any) -> str:
    """One YAML scalar or flow collection.

    >>> _scalar(None), _scalar(True), _scalar(0.25), _scalar("on"), _scalar(["a_1", 2.5])
    ('null', 'true', '0.25', '"on"', '[a_1, 2.5]')
    >>> _scalar({"nb": "Søk", "en": "Apply"})
    '{nb: "Søk", en: "Apply"}'
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in value.items()) + "}"
    text = str(value)
    plain = _ID.match(text) and text not in _WORDS
    return text if plain else json.dumps(text, ensure_ascii=False)


def _header(draft: DraftVersion, source: str) -> list[str]:
    left = f"{len(draft.left_out)} activities left out" if draft.left_out else "none left out"
    lines = [
        f"# Drafted by boflyt discover from {source}: {draft.cases} cases, {draft.events} "
        f"events; {left}.",
        "# A draft of the routine as the log shows it, to refine with the facilitator: what a log",
        "# cannot tell - each step's value class and wastes - is left as value: null and",
        f"# wastes: [] ({FACILITATOR}); channel, registers and %C&A keep their defaults.",
    ]
    if not draft.touch_known:
        lines.append("# The log has completions only: touch times are unknown (0 until set).")
    return lines


def version_text(draft: DraftVersion, *, source: str) -> str:
    """The draft as a version file's text (``source`` names the log in its first comment)."""
    data = draft.data
    lines = _header(draft, source)
    lines += [f"{key}: {_scalar(data[key])}" for key in _TOP if key in data]
    lines += [f"name: {_scalar(data['name'])}", f"lanes: {_scalar(data['lanes'])}", "", "steps:"]
    for step in data["steps"]:
        first = True
        for key in (*_STEP_KEYS, "note"):
            if key not in step:
                continue
            prefix = "  - " if first else "    "
            lines.append(f"{prefix}{key}: {_scalar(step[key])}{_LEFT.get(key, '')}")
            first = False
        lines.append("")
    lines.append("transitions:")
    lines += [f"  - {_scalar(edge)}" for edge in data["transitions"]]
    return "\n".join(lines) + "\n"


def lanes_text(text: str, lanes: Sequence[Lane], *, source: str) -> str:
    """``lanes.yaml``'s ``text`` with ``lanes`` appended to its list (a comment says why).

    The list must be the file's last top-level key (as in every library Boflyt makes); the
    caller loads the result before writing it.

    >>> from boflyt.models.definition import Text
    >>> print(lanes_text("lanes:\\n  - id: nav\\n    name: {nb: NAV, en: NAV}\\n",
    ...                  [Lane(id="group_1", name=Text(nb="Group 1", en="Group 1"))],
    ...                  source="imported:x"), end="")
    lanes:
      - id: nav
        name: {nb: NAV, en: NAV}
      # Added by boflyt discover from imported:x (organisations of the log):
      - id: group_1
        name: {nb: "Group 1", en: "Group 1"}
    """
    lines = [text.rstrip("\n"), f"  # Added by boflyt discover from {source} "
             "(organisations of the log):"]  # fmt: skip
    for lane in lanes:
        lines += [f"  - id: {lane.id}", f"    name: {_scalar(lane.name.model_dump())}"]
    return "\n".join(lines) + "\n"


def scenario_text(draft: DraftVersion, *, start: dt.date, source: str) -> str:
    """A first scenario for the draft's process: its arrivals from the log, staff unlimited
    (``boflyt calibrate`` fits the staff per lane)."""
    lines = [
        f"# Drafted by boflyt discover from {source}: arrivals from the log; staff per lane is",
        "# not known from a log alone (boflyt calibrate fits it): capacity is unlimited.",
        "name: default",
        f"description: {_scalar(f'Arrivals as in {source}; staff to be set.')}",
        f"arrivals_per_week: {max(draft.arrivals_per_week, 0.001)!r}",
        f'start: "{start.isoformat()}"',
        "capacity: {}",
    ]
    return "\n".join(lines) + "\n"
