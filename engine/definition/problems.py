"""Pydantic's validation errors as problems: where, what was found, and what is allowed.

``unknown waste 'waitng'; allowed: transport, inventory, …`` rather than pydantic's own wording,
placed at the deepest field written in the file. :func:`repair` lets the graph rules still run
when only some step fields were bad, so one pass reports every problem of a file.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from boflyt.engine.definition.safe_yaml import LineMap, PathKey, Tags, location
from boflyt.models.errors import Problem

__all__ = ["did_you_mean", "model_problems", "repair"]

# -- pydantic errors --------------------------------------------------------------------------

_NOUNS = {
    "kind": "step kind",
    "value": "value class",
    "wastes": "waste",
    "channel": "channel",
    "status": "status",
    "dist": "distribution",
}
_EXPECTED = {
    "bool_type": "true or false",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "string_type": "text",
    "tuple_type": "a list",
    "list_type": "a list",
    "model_type": "a mapping",
    "dict_type": "a mapping",
    "date_type": "a date YYYY-MM-DD",
}
_DURATIONS = ("touch_minutes", "wait_days")


def _show(value: Any) -> str:
    text = f"'{value}'" if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else _show(value)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``tuple[Step, ...]`` or ``Text | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model whose fields ``loc`` points into (``Step`` for ``("steps", 3)``)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or isinstance(part, int):
            continue
        fields = {info.alias or name: info for name, info in current.model_fields.items()}
        info = fields.get(part)
        current = _model_in(info.annotation) if info else None
    return current


def _allowed_fields(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def did_you_mean(word: str, options: Sequence[str]) -> str:
    """`` (did you mean 'nav'?)`` when ``word`` is close to one of ``options``, else ``""``."""
    match = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _model_message(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    """One pydantic error as 'what was found; what is allowed'."""
    kind, loc, found = error["type"], error["loc"], error.get("input")
    field = next((part for part in reversed(loc) if isinstance(part, str)), "")
    ctx = error.get("ctx") or {}
    duration = any(part in _DURATIONS for part in loc)
    if kind == "missing":
        return f"required field '{field}' is missing"
    if kind == "extra_forbidden":
        allowed = _allowed_fields(_model_at(model, loc[:-1]))
        hint = did_you_mean(str(field), allowed)
        if found is None and " " in str(field):
            hint = " (an unquoted comma inside a value? quote the text)"
        return f"unknown field '{field}'{hint}; allowed: {', '.join(allowed)}"
    if kind in ("enum", "literal_error"):
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        noun = _NOUNS.get(str(field), str(field))
        return f"unknown {noun} {_show(found)}; allowed: {', '.join(allowed)}"
    if kind == "model_type" and duration and field in _DURATIONS:
        expected = "a number, [low, high] or {dist, low, high, mode}"
        return f"expected a duration: {expected}; found {_show(found)}"
    if kind in _EXPECTED:
        extra = " (quote text, write booleans as true/false)" if kind == "bool_type" else ""
        return f"expected {_EXPECTED[kind]}, found {_show(found)}{extra}"
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        sign = "≥" if kind == "greater_than_equal" else ">"
        negative = duration and isinstance(found, int | float) and found < 0
        what = "negative duration" if negative else "too small:"
        return f"{what} {_number(found)}; must be {sign} {_number(bound)}"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        sign = "≤" if kind == "less_than_equal" else "<"
        return f"too large: {_number(found)}; must be {sign} {_number(bound)}"
    if kind == "string_pattern_mismatch":
        return (
            f"{_show(found)} is not a valid id; use lower-case letters, digits and _, "
            "starting with a letter"
        )
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"too long ({len(str(found))} characters); at most {ctx.get('max_length')}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "value_error" and duration:
        return f"invalid duration {_show(found)}: {message}"
    if kind == "value_error" and field == "date":
        return f"invalid date {_show(found)}: {message}; write YYYY-MM-DD"
    return f"{message[:1].lower()}{message[1:]}; found {_show(found)}"


def model_problems(
    exc: ValidationError,
    *,
    model: type[BaseModel],
    file: str,
    lines: LineMap | None,
    tags: Tags,
) -> list[Problem]:
    """Every error of a pydantic validation of ``model`` as a :class:`Problem`, sorted.

    The place named is the deepest one written in the file (a ``[-5, 10]`` duration is reported
    at ``touch_minutes``, not at the ``low`` pydantic sees); identical problems are merged.
    """
    problems = set()
    for error in exc.errors():
        loc = tuple(error["loc"])
        line = lines.line(loc) if lines is not None else 0
        if lines is not None and error["type"] != "extra_forbidden":
            loc = lines.known(loc)  # name what the file says: "touch_minutes", not ".low"
        problems.add(Problem(file, line, location(loc, tags), _model_message(error, model)))
    return sorted(problems)


_TOP_STAND_INS: dict[str, Any] = {
    "process": "process",
    "version": 1,
    "label": "?",
    "owner": "?",
    "date": "2000-01-01",
    "name": {"nb": "?", "en": "?"},
}
"""Valid stand-ins for bad required version fields; the graph rules never look at them."""
_TOP_OPTIONAL = ("based_on", "status", "summary")
_STEP_REQUIRED = ("id", "kind", "lane", "name")


def _patch_top(data: dict[str, Any], field: str, kind: str) -> bool:
    """Drop or stand in for a bad version-level field; False for lanes, steps, transitions."""
    if field in _TOP_OPTIONAL or kind == "extra_forbidden":
        data.pop(field, None)
    elif field in _TOP_STAND_INS:
        data[field] = _TOP_STAND_INS[field]
        if field == "version":
            data.pop("based_on", None)
    else:
        return False
    return True


def _patch(data: dict[str, Any], loc: PathKey, kind: str) -> bool:
    """Make the field at ``loc`` valid in place (drop it or stand in); False when it cannot be."""
    if len(loc) == 1:
        return _patch_top(data, str(loc[0]), kind)
    if len(loc) < 3 or loc[0] not in ("steps", "transitions") or not isinstance(loc[1], int):
        return False
    items = data[str(loc[0])]
    item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
    field = str(loc[2])
    if not isinstance(item, dict):
        return False
    if loc[0] == "transitions":  # only harmless fields: the graph depends on the others
        if kind != "extra_forbidden" and field != "label":
            return False
        item.pop(field, None)
    elif field == "lane" and isinstance(data.get("lanes"), list) and data["lanes"]:
        item["lane"] = data["lanes"][0]
    elif field == "name":
        item["name"] = {"nb": "?", "en": "?"}
    elif field in _STEP_REQUIRED:
        return False
    else:
        item.pop(field, None)
    return True


def repair(data: Any, exc: ValidationError) -> tuple[dict[str, Any], list[PathKey]] | None:
    """A copy of ``data`` with each bad field dropped or stood in for, so the graph rules can
    still run; ``None`` when a bad field matters to the graph (an id, a kind, a transition's
    ends, outcome or probability). Also returns the paths repaired: graph problems there would
    only repeat the model's."""
    if not isinstance(data, dict):
        return None
    copy: dict[str, Any] = dict(data)
    for section in ("steps", "transitions"):
        items = copy.get(section)
        if isinstance(items, list):
            copy[section] = [dict(item) if isinstance(item, dict) else item for item in items]
    repaired: list[PathKey] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if not loc or not _patch(copy, loc, error["type"]):
            return None
        repaired.append(loc[:3])
    return copy, repaired
