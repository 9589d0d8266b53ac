"""OCEL 2.0 JSON export (:mod:`boflyt.formats.ocel`): schema-valid, referentially whole, and the
object mapping the guide documents (cases, households, dwellings, leases, organisations)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import polars as pl
import pytest

from boflyt.analysis.simulation.cohort import simulate
from boflyt.engine.definition.library import Library
from boflyt.engine.definition.load import load_library
from boflyt.engine.definition.scenario import load_scenario
from boflyt.engine.store.frame import empty_frame
from boflyt.formats.ocel import step_objects, write_ocel

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


def _array(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


def _object(required: list[str], **properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


_TEXT: dict[str, Any] = {"type": "string"}
_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
_TYPED = _array(_object(["name", "type"], name=_TEXT, type=_TEXT))
_RELATION = _array(_object(["objectId", "qualifier"], objectId=_TEXT, qualifier=_TEXT))
OCEL_20_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    **_object(
        ["eventTypes", "objectTypes", "events", "objects"],
        eventTypes=_array(_object(["name", "attributes"], name=_TEXT, attributes=_TYPED)),
        objectTypes=_array(_object(["name", "attributes"], name=_TEXT, attributes=_TYPED)),
        events=_array(_object(
            ["id", "type", "time"], id=_TEXT, type=_TEXT, time=_TIME,
            attributes=_array(_object(["name", "value"], name=_TEXT, value=_TEXT)),
            relationships=_RELATION,
        )),
        objects=_array(_object(
            ["id", "type"], id=_TEXT, type=_TEXT, relationships=_RELATION,
            attributes=_array(_object(["name", "value", "time"], name=_TEXT, value=_TEXT,
                                      time=_TIME)),
        )),
    ),
}  # fmt: skip
"""The OCEL 2.0 JSON schema's rules (specification §8.2, www.ocel-standard.org/2.0/
ocel20-schema-json.json), written out here: the four top-level arrays, the required fields of
each entry, every attribute value a string, times in RFC 3339."""
_VALUE_TYPES = {"string", "time", "integer", "float", "boolean"}


def assert_valid_ocel(log: dict[str, Any]) -> None:
    """The schema, then what it cannot say: unique ids and names, declared types and attribute
    names, typed values that parse, relationships to existing objects."""
    jsonschema.validate(log, OCEL_20_SCHEMA, format_checker=jsonschema.FormatChecker())
    for kind in ("eventTypes", "objectTypes"):
        names = [t["name"] for t in log[kind]]
        assert len(names) == len(set(names)), kind
        assert {a["type"] for t in log[kind] for a in t["attributes"]} <= _VALUE_TYPES
    for kind in ("events", "objects"):
        assert len({e["id"] for e in log[kind]}) == len(log[kind]), f"{kind}: duplicate ids"
    declared = {
        kind: {t["name"]: {a["name"]: a["type"] for a in t["attributes"]} for t in log[kind]}
        for kind in ("eventTypes", "objectTypes")
    }
    objects = {o["id"] for o in log["objects"]}
    for kind, types in (("events", declared["eventTypes"]), ("objects", declared["objectTypes"])):
        for entry in log[kind]:
            assert entry["type"] in types, entry
            for attribute in entry.get("attributes", []):
                _check_value(types[entry["type"]][attribute["name"]], attribute["value"])
            for relation in entry.get("relationships", []):
                assert relation["objectId"] in objects, relation


def _check_value(kind: str, value: str) -> None:
    if kind == "integer":
        int(value)
    elif kind == "float":
        float(value)
    elif kind == "time":
        assert value.endswith("Z")
        dt.datetime.fromisoformat(value)


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(PROCESSES)


def simulated(library: Library, process: str, version: int, cases: int = 30) -> pl.DataFrame:
    chosen = library.get(process, version)
    world = load_scenario(PROCESSES / process / "scenarios" / "default.yaml", version=chosen,
                          lanes=library.lanes)  # fmt: skip
    return simulate(chosen, world, cases=cases, seed=4, lanes=library.lanes).events


def written(events: pl.DataFrame, path: Path, objects: pl.DataFrame | None) -> dict[str, Any]:
    count = write_ocel(events, path, objects=objects)
    log: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert count == len(log["events"])
    return log


@pytest.fixture(scope="module")
def lease(library: Library, tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, Any]:
    """A simulated private_lease v1 cohort and its OCEL export."""
    events = simulated(library, "private_lease", 1)
    path = tmp_path_factory.mktemp("ocel") / "lease.json"
    return events, written(events, path, step_objects([library.get("private_lease", 1)]))


def test_every_process_exports_a_valid_log(library: Library, tmp_path: Path) -> None:
    for process, versions in library.by_process.items():
        for version in versions:
            events = simulated(library, process, version.version, cases=8)
            log = written(events, tmp_path / "log.json", step_objects([version]))
            assert_valid_ocel(log)
            assert {"case", "household", "organisation"} <= {t["name"] for t in log["objectTypes"]}


def test_events_are_completions_case_events_and_handoffs(lease: tuple[pl.DataFrame, Any]) -> None:
    events, log = lease
    kinds = Counter(events["kind"].to_list())
    types = Counter(e["type"] for e in log["events"])
    assert types["case started"] == kinds["case_started"] == 30
    assert (
        types["case finished"] + types["case cancelled"]
        == kinds["case_finished"] + kinds["case_cancelled"]
    )
    assert types["organisation handoff"] == kinds["handoff"] > 0
    done = events.filter(pl.col("kind") == "step_completed")
    assert Counter(done["step"].to_list()) == {
        t: n for t, n in types.items() if t not in {"case started", "case finished",
                                                    "case cancelled", "organisation handoff"}
    }  # fmt: skip
    assert len(log["events"]) == done.height + kinds["case_started"] + kinds["handoff"] + sum(
        kinds[k] for k in ("case_finished", "case_cancelled", "step_escalated")
    )
    times = [e["time"] for e in log["events"]]
    assert times == sorted(times)


def test_a_completion_carries_its_wait_and_touch(lease: tuple[pl.DataFrame, Any]) -> None:
    events, log = lease
    first = events.filter(pl.col("step") == "nav_register_assess").sort("case_id", "seq")
    case, item = first["case_id"][0], first["item"][0]
    rows = {k: first.filter((pl.col("case_id") == case) & (pl.col("item") == item) &
                            (pl.col("kind") == k)).row(0, named=True)
            for k in ("step_ready", "step_started", "step_completed")}  # fmt: skip
    done = rows["step_completed"]
    event = next(e for e in log["events"] if e["id"] == f"{case}:{done['seq']}")
    values = {a["name"]: a["value"] for a in event["attributes"]}
    iso = "%Y-%m-%dT%H:%M:%S.%fZ"
    assert values["ready_at"] == rows["step_ready"]["at"].strftime(iso)
    assert values["started_at"] == rows["step_started"]["at"].strftime(iso)
    assert event["time"] == done["at"].strftime(iso)
    assert float(values["touch_minutes"]) == pytest.approx(done["touch_minutes"])
    assert values["outcome"] == done["outcome"] and values["lane"] == "nav"
    assert {(r["objectId"], r["qualifier"]) for r in event["relationships"]} == {
        (f"case:{case}", "part of"), (f"organisation:{done['org']}", "performed by"),
        (f"household:{case}", "registers"),
    }  # fmt: skip


def test_steps_relate_to_the_objects_they_register_or_name(
    lease: tuple[pl.DataFrame, Any],
) -> None:
    _, log = lease
    relations = {
        (e["type"], r["objectId"].split(":")[0], r["qualifier"])
        for e in log["events"] for r in e["relationships"]
    }  # fmt: skip
    assert ("negotiate_lease_terms", "lease", "registers") in relations
    assert ("negotiate_lease_terms", "landlord", "registers") in relations
    assert ("search_dwelling", "dwelling", "concerns") in relations
    assert ("view_dwelling", "dwelling", "registers") in relations
    assert ("organisation handoff", "organisation", "from") in relations
    assert not any(kind == "lease" for kind, _, _ in relations if kind == "search_dwelling")


def test_objects_per_case_and_their_relations(lease: tuple[pl.DataFrame, Any]) -> None:
    events, log = lease
    case = events["case_id"][0]
    objects = {o["id"]: o for o in log["objects"]}
    mine = objects[f"case:{case}"]
    related = {r["objectId"]: r["qualifier"] for r in mine["relationships"]}
    assert related[f"household:{case}"] == "for"
    assert related[f"lease:{case}"] == "concerns" and f"dwelling:{case}" in related
    lease_links = {
        (r["objectId"], r["qualifier"]) for r in objects[f"lease:{case}"]["relationships"]
    }
    assert (f"dwelling:{case}", "of") in lease_links
    assert (f"household:{case}", "let to") in lease_links
    status = [(a["value"], a["time"]) for a in mine["attributes"] if a["name"] == "status"]
    started = events.filter((pl.col("case_id") == case) & (pl.col("kind") == "case_started"))
    assert status[0] == ("running", started["at"][0].strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    assert {"process": "private_lease", "version": "1"}.items() <= {
        a["name"]: a["value"] for a in mine["attributes"]
    }.items()
    organisations = {o["id"] for o in log["objects"] if o["type"] == "organisation"}
    assert organisations == {f"organisation:{lane}" for lane in
                             events["lane"].drop_nulls().unique().to_list()}  # fmt: skip


def test_without_a_version_only_cases_and_organisations(
    lease: tuple[pl.DataFrame, Any], tmp_path: Path
) -> None:
    events, _ = lease
    log = written(events, tmp_path / "plain.json", None)
    assert_valid_ocel(log)
    assert [t["name"] for t in log["objectTypes"]] == ["case", "organisation"]


def test_detail_is_never_written_and_text_is_escaped(
    library: Library, lease: tuple[pl.DataFrame, Any], tmp_path: Path
) -> None:
    events, _ = lease
    odd = 'Front "desk" \\ 1\n'  # an imported log's names may hold anything
    lanes = [pl.col(c).str.replace("^nav$", odd) for c in ("lane", "org", "from_lane", "to_lane")]
    noted = events.with_columns(
        pl.lit("Ring Kari Nordmann, 99 88 77 66").alias("detail"),
        pl.when(pl.col("actor").is_not_null()).then(pl.lit(odd)).alias("actor"),
        pl.concat_str(pl.col("case_id"), pl.lit('"é')).alias("case_id"),
        *lanes,
    )
    path = tmp_path / "noted.json"
    log = written(noted, path, step_objects([library.get("private_lease", 1)]))
    assert_valid_ocel(log)
    assert b"Kari Nordmann" not in path.read_bytes()
    resources = {
        a["value"] for e in log["events"] for a in e["attributes"] if a["name"] == "resource"
    }
    assert resources == {odd}
    ids = {o["id"] for o in log["objects"]}
    assert f"organisation:{odd}" in ids
    case = noted["case_id"][0]
    assert {f"case:{case}", f"household:{case}", f"lease:{case}"} <= ids
    assert f"{case}:1" in {e["id"] for e in log["events"]}


def test_the_validator_refuses_a_broken_log(lease: tuple[pl.DataFrame, Any]) -> None:
    _, log = lease
    broken = json.loads(json.dumps(log))
    broken["events"][0]["relationships"].append({"objectId": "case:nobody", "qualifier": "x"})
    with pytest.raises(AssertionError):
        assert_valid_ocel(broken)
    numeric = json.loads(json.dumps(log))
    numeric["events"][0]["attributes"] = [{"name": "resource", "value": 1}]
    with pytest.raises(jsonschema.ValidationError):
        assert_valid_ocel(numeric)


def test_an_empty_frame_is_an_empty_valid_log(tmp_path: Path) -> None:
    log = written(empty_frame(), tmp_path / "empty.json", None)
    assert_valid_ocel(log)
    assert log["events"] == [] and log["objects"] == [] and log["eventTypes"] == []
