"""The definition wing: process versions read from YAML, validated once, compared.

A version file is parsed safely with line numbers (:mod:`~boflyt.engine.definition.safe_yaml`),
turned into a frozen :class:`~boflyt.models.definition.Version` and checked by every rule at once
(:func:`validate`; problems name file, line, field and what is allowed). :func:`load_library`
reads a whole process library, keeping broken files aside (:class:`BrokenFile`) so the rest
stays usable. :mod:`~boflyt.engine.definition.graph` derives the flow graph and handoffs,
:func:`diff_versions` compares two versions (its wording is
:mod:`~boflyt.engine.definition.diff_text`), :mod:`~boflyt.engine.definition.schema` writes the
JSON Schema editors use, :func:`load_scenario` reads simulation scenarios.

Reads files, never a database: it imports neither the case nor the store wing (import-linter).
"""

from boflyt.engine.definition.diff import (
    FieldChange,
    HandoffChange,
    StepChange,
    TransitionChange,
    VersionDiff,
    diff_versions,
)
from boflyt.engine.definition.graph import (
    Handoff,
    end_steps,
    flow_order,
    handoffs,
    is_handoff,
    start_steps,
    to_graph,
)
from boflyt.engine.definition.library import BrokenFile, Library
from boflyt.engine.definition.load import (
    load_lanes,
    load_library,
    load_version,
    parse_ref,
    parse_version,
)
from boflyt.engine.definition.scenario import load_scenario, parse_scenario
from boflyt.engine.definition.schema import lanes_schema, schema_text, version_schema, write_schema
from boflyt.engine.definition.validate import validate

__all__ = [
    "BrokenFile",
    "FieldChange",
    "Handoff",
    "HandoffChange",
    "Library",
    "StepChange",
    "TransitionChange",
    "VersionDiff",
    "diff_versions",
    "end_steps",
    "flow_order",
    "handoffs",
    "is_handoff",
    "lanes_schema",
    "load_lanes",
    "load_library",
    "load_scenario",
    "load_version",
    "parse_ref",
    "parse_scenario",
    "parse_version",
    "schema_text",
    "start_steps",
    "to_graph",
    "validate",
    "version_schema",
    "write_schema",
]
