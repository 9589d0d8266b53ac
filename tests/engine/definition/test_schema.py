"""The JSON Schema: generated from the models, committed, and in agreement with the loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from boflyt.engine.definition.load import parse_version, parse_yaml
from boflyt.engine.definition.schema import (
    DRAFT,
    lanes_schema,
    schema_text,
    version_schema,
    write_schema,
)
from boflyt.models.errors import DefinitionError
from tests.engine.definition.snippets import BASE, LANES, edit

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")

PROCESSES = Path(__file__).resolve().parents[3] / "processes"
VERSION_FILES = sorted(PROCESSES.glob("*/v*.yaml"))


def validator() -> jsonschema.Draft202012Validator:
    schema = version_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_committed_schema_is_the_generated_one() -> None:
    committed = (PROCESSES / "schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(), "run `boflyt schema` (engine.schema.write_schema)"


def test_schema_describes_the_yaml_by_alias() -> None:
    schema = version_schema()
    assert schema["$schema"] == DRAFT
    assert schema["$id"] == "urn:boflyt:schema:version"
    assert schema["title"] == "Boflyt process version"
    transition = schema["$defs"]["Transition"]
    assert {"from", "to"} <= set(transition["properties"])
    assert "source" not in transition["properties"]
    assert schema["$defs"]["Waste"]["enum"][3] == "waiting"


def test_write_schema_writes_the_text(tmp_path: Path) -> None:
    path = write_schema(tmp_path / "schema.json")
    assert json.loads(path.read_text(encoding="utf-8")) == version_schema()


def test_base_snippet_satisfies_the_schema() -> None:
    data, _ = parse_yaml(BASE, file="x.yaml")
    assert list(validator().iter_errors(data)) == []


@pytest.mark.parametrize(
    "changes",
    [
        [("wastes: [waiting]", "wastes: [waitng]")],
        [("value: necessary", "value: needed")],
        [("kind: wait", "kind: pause")],
        [("channel: letter", "channel: fax")],
        [("    external_wait: true", "    external_wiat: true")],
        [("touch_minutes: 20", "touch_minutes: -20")],
        [("touch_minutes: [30, 60]", "touch_minutes: [30]")],
        [("external_wait: true", "external_wait: yes")],
        [("probability: 0.7", "probability: 1.7")],
        [("id: nav_part", "id: Nav-part")],
        [("{from: fix, to: check, rework: true}", "{to: check, rework: true}")],
    ],
)
def test_schema_and_models_reject_the_same_field_errors(changes: list[tuple[str, str]]) -> None:
    text = edit(*changes)
    data, _ = parse_yaml(text, file="x.yaml")
    assert list(validator().iter_errors(data)), "the JSON Schema accepted it"
    with pytest.raises(DefinitionError):
        parse_version(text, file="x.yaml", lanes=LANES)


@pytest.mark.parametrize(
    "path", VERSION_FILES, ids=[f"{p.parent.name}/{p.name}" for p in VERSION_FILES]
)
def test_library_file_satisfies_the_schema(path: Path) -> None:
    data, _ = parse_yaml(path.read_text(encoding="utf-8"), file=path.name)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(data)]
    assert errors == []


def test_lanes_file_satisfies_the_lanes_schema() -> None:
    schema = lanes_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    data, _ = parse_yaml((PROCESSES / "lanes.yaml").read_text(encoding="utf-8"), file="lanes.yaml")
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(data)) == []
