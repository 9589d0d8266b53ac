"""JSON Schema of the definition language, generated from the pydantic models.

Editors use ``processes/schema.json`` (the version schema) to complete and check version files,
e.g. with a ``# yaml-language-server: $schema=../schema.json`` first line. A test keeps the
committed file equal to :func:`version_schema`, so the two never drift apart.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from boflyt.models.definition import LaneCatalog, Version

__all__ = ["DRAFT", "lanes_schema", "schema_text", "version_schema", "write_schema"]

DRAFT = "https://json-schema.org/draft/2020-12/schema"

_DURATION_SHORTHANDS: list[dict[str, Any]] = [
    {"type": "number", "minimum": 0, "description": "A fixed duration."},
    {
        "type": "array",
        "items": {"type": "number", "minimum": 0},
        "minItems": 2,
        "maxItems": 2,
        "description": "[low, high]: uniformly distributed.",
    },
]


def _with_shorthands(schema: dict[str, Any]) -> dict[str, Any]:
    """Let a ``Duration`` also be a number or ``[low, high]``, as the YAML allows."""
    definitions = schema.get("$defs", {})
    duration = definitions.get("Duration")
    if duration is not None:
        explicit = copy.deepcopy(duration)
        title, description = explicit.pop("title", "Duration"), explicit.pop("description", "")
        definitions["Duration"] = {
            "title": title,
            "description": description,
            "anyOf": [*_DURATION_SHORTHANDS, explicit],
        }
    return schema


def _document(schema: dict[str, Any], *, name: str, title: str) -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "$id": f"urn:boflyt:schema:{name}",
        **schema,
        "title": title,
    }


def version_schema() -> dict[str, Any]:
    """The JSON Schema of a version file (``processes/<process>/v<N>.yaml``), by alias.

    >>> schema = version_schema()
    >>> sorted(schema["$defs"]["Transition"]["required"])
    ['from', 'to']
    """
    schema = _with_shorthands(Version.model_json_schema(by_alias=True))
    return _document(schema, name="version", title="Boflyt process version")


def lanes_schema() -> dict[str, Any]:
    """The JSON Schema of ``processes/lanes.yaml``."""
    schema = LaneCatalog.model_json_schema(by_alias=True)
    return _document(schema, name="lanes", title="Boflyt lane catalogue")


def schema_text() -> str:
    """:func:`version_schema` as the exact text of ``processes/schema.json``."""
    return json.dumps(version_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema(path: Path) -> Path:
    """Write the version schema to ``path`` (``processes/schema.json``) and return it."""
    path.write_text(schema_text(), encoding="utf-8")
    return path
