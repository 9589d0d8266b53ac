"""The BPMN export of every seed version, read back by an independent BPMN parser (SpiffWorkflow)
and checked against the OMG's BPMN 2.0 schemas (shipped with SpiffWorkflow), the version it came
from, and the swimlane it is laid out like."""

from __future__ import annotations

import os
import re
import stat
import xml.etree.ElementTree as ET
from itertools import pairwise
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, BpmnValidator
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from boflyt.engine.definition.load import load_library
from boflyt.formats.bpmn import bpmn_xml, write_bpmn
from boflyt.models.definition import Version
from boflyt.models.vocabulary import StepKind
from boflyt.models.words import ENGLISH, Language, language
from boflyt.visualize.extraction import extract_swimlane
from tests.factories import branching_version, linear_version

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
LIBRARY = load_library(PROCESSES)
VERSIONS = [
    *(v for p in LIBRARY.processes() for v in LIBRARY.versions(p)),
    branching_version(),  # every routing feature at once: a three-way decision, parallel, wait
]
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
SPIFF_CLASS = {
    StepKind.START: "StartEvent",
    StepKind.END: "EndEvent",
    StepKind.TASK: "UserTask",
    StepKind.AUTO: "ServiceTask",
    StepKind.WAIT: "ReceiveTask",
    StepKind.DECISION: "ExclusiveGateway",
    StepKind.PARALLEL: "ParallelGateway",
    StepKind.JOIN: "ParallelGateway",
}
NB = language("nb")
NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")

Box = tuple[float, float, float, float]  # x, y, right, bottom


def by_key(version: Version) -> str:
    return version.key


def spec_of(version: Version, lang: Language) -> Any:
    """The workflow spec SpiffWorkflow parses from the export, after checking it against the
    BPMN 2.0 XSDs (its validator raises on any schema error)."""
    parser = BpmnParser(validator=BpmnValidator())
    parser.add_bpmn_str(bpmn_xml(version, LIBRARY.lanes, lang=lang))
    return parser.get_spec(f"Process_{version.process}_v{version.version}")


def document(version: Version, lang: Language = NB) -> ET.Element:
    return ET.fromstring(bpmn_xml(version, LIBRARY.lanes, lang=lang))


def bounds(element: ET.Element) -> Box:
    found = element.find("dc:Bounds", NS)
    assert found is not None
    x, y, w, h = (float(found.get(k, "nan")) for k in ("x", "y", "width", "height"))
    return x, y, x + w, y + h


def shapes(root: ET.Element) -> dict[str, Box]:
    return {s.get("bpmnElement", ""): bounds(s) for s in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}


def routes(root: ET.Element) -> dict[str, list[tuple[float, float]]]:
    return {
        e.get("bpmnElement", ""): [
            (float(w.get("x", "nan")), float(w.get("y", "nan")))
            for w in e.findall("di:waypoint", NS)
        ]
        for e in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")
    }


def flows(root: ET.Element) -> list[ET.Element]:
    return root.findall("bpmn:process/bpmn:sequenceFlow", NS)


def inside(inner: Box, outer: Box) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


def overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def on_border(point: tuple[float, float], box: Box) -> bool:
    x, y = point
    on_x = box[0] <= x <= box[2] and y in (box[1], box[3])
    on_y = box[1] <= y <= box[3] and x in (box[0], box[2])
    return on_x or on_y


@pytest.mark.parametrize("lang", [NB, ENGLISH])
@pytest.mark.parametrize("version", VERSIONS, ids=by_key)
def test_spiffworkflow_reads_every_step_with_its_name_kind_and_lane(
    version: Version, lang: Language
) -> None:
    spec = spec_of(version, lang)
    parsed = {t.bpmn_id: t for t in spec.task_specs.values() if t.bpmn_id is not None}
    assert sorted(parsed) == sorted(step.id for step in version.steps)
    for step in version.steps:
        task = parsed[step.id]
        lane = LIBRARY.lanes.get(step.lane)
        assert lane is not None
        assert (task.bpmn_name, task.lane) == (step.name.get(lang), lane.name.get(lang))
        assert type(task).__name__ == SPIFF_CLASS[step.kind]
    edges = {(t.source, t.target) for t in version.transitions}
    parsed_edges = {(s.bpmn_id, o.bpmn_id) for s in parsed.values() for o in s.outputs if o.bpmn_id}
    assert parsed_edges == edges


@pytest.mark.parametrize("version", VERSIONS, ids=by_key)
def test_one_pool_with_every_lane_of_the_version_in_its_order(version: Version) -> None:
    root = document(version, ENGLISH)
    [participant] = root.findall("bpmn:collaboration/bpmn:participant", NS)
    [process] = root.findall("bpmn:process", NS)
    assert participant.get("processRef") == process.get("id")
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    names = [lane.name.en for lane_id in version.lanes if (lane := LIBRARY.lanes.get(lane_id))]
    assert [lane.get("name") for lane in lanes] == names
    listed = {
        ref.text: lane.get("id") for lane in lanes for ref in lane.findall("bpmn:flowNodeRef", NS)
    }
    assert listed == {step.id: f"Lane_{step.lane}" for step in version.steps}
    drawn = shapes(root)
    pool = drawn[participant.get("id", "")]
    tops = [drawn[lane.get("id", "")] for lane in lanes]
    assert all(inside(box, pool) for box in tops)
    assert all(a[3] == b[1] for a, b in pairwise(tops))  # stacked top to bottom, no gaps
    horizontal = {
        s.get("bpmnElement"): s.get("isHorizontal")
        for s in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")
    }
    assert {horizontal[lane.get("id")] for lane in lanes} | {horizontal[participant.get("id")]} == {
        "true"
    }


@pytest.mark.parametrize("version", VERSIONS, ids=by_key)
def test_every_node_is_drawn_inside_its_lane_and_no_two_overlap(version: Version) -> None:
    root = document(version)
    drawn = shapes(root)
    process = root.find("bpmn:process", NS)
    assert process is not None
    lane_of = {
        ref.text: lane.get("id")
        for lane in process.findall("bpmn:laneSet/bpmn:lane", NS)
        for ref in lane.findall("bpmn:flowNodeRef", NS)
    }
    nodes = [step.id for step in version.steps]
    assert all(inside(drawn[node], drawn[str(lane_of[node])]) for node in nodes)
    assert [(a, b) for a in nodes for b in nodes if a < b and overlap(drawn[a], drawn[b])] == []


@pytest.mark.parametrize("version", VERSIONS, ids=by_key)
def test_every_flow_is_drawn_orthogonally_from_border_to_border_around_the_other_nodes(
    version: Version,
) -> None:
    root = document(version)
    drawn, lines = shapes(root), routes(root)
    for flow in flows(root):
        route = lines[flow.get("id", "")]
        source, target = flow.get("sourceRef", ""), flow.get("targetRef", "")
        assert len(route) >= 2
        assert all(a[0] == b[0] or a[1] == b[1] for a, b in pairwise(route))
        assert on_border(route[0], drawn[source]) and on_border(route[-1], drawn[target])
        others = [drawn[s.id] for s in version.steps if s.id not in (source, target)]
        crossing = [
            box
            for a, b in pairwise(route)
            for box in others
            if overlap((min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])), box)
        ]
        assert crossing == [], flow.get("id")


@pytest.mark.parametrize("version", VERSIONS, ids=by_key)
def test_the_nodes_stand_where_the_swimlane_puts_them(version: Version) -> None:
    """Columns by flow depth, rows by lane and sub-row: the swimlane's own layout."""
    drawn = shapes(document(version))
    centre = {k: ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for k, b in drawn.items()}
    nodes = extract_swimlane(version, LIBRARY.lanes).nodes
    for a in nodes:
        for b in nodes:
            assert (a.depth < b.depth) == (centre[a.id][0] < centre[b.id][0])
            if a.lane == b.lane:
                assert (a.sub_row < b.sub_row) == (centre[a.id][1] < centre[b.id][1])


@pytest.mark.parametrize("version", VERSIONS, ids=by_key)
def test_labels_overlap_no_node_and_no_other_label(version: Version) -> None:
    root = document(version)
    labels = [bounds(label) for label in root.iter(f"{{{NS['bpmndi']}}}BPMNLabel")]
    nodes = [
        box for key, box in shapes(root).items() if not key.startswith(("Lane_", "Participant_"))
    ]
    assert [a for a in labels for b in nodes if overlap(a, b)] == []
    assert [(a, b) for i, a in enumerate(labels) for b in labels[i + 1 :] if overlap(a, b)] == []


@pytest.mark.parametrize("version", VERSIONS, ids=by_key)
def test_decision_branches_carry_their_outcome_as_name_and_condition(version: Version) -> None:
    root = document(version, ENGLISH)
    decisions = {s.id for s in version.steps if s.kind is StepKind.DECISION}
    out = {(f.get("sourceRef"), f.get("targetRef")): f for f in flows(root)}
    branches = [t for t in version.transitions if t.source in decisions]
    assert branches
    for t in branches:
        flow = out[t.source, t.target]
        condition = flow.find("bpmn:conditionExpression", NS)
        assert condition is not None and condition.text == f"{t.source} == '{t.outcome}'"
        assert flow.get("name") == (t.label.en if t.label else t.outcome)
        if t.probability is not None:
            doc = flow.find("bpmn:documentation", NS)
            assert doc is not None and "Probability" in (doc.text or "")
    others = [f for f in flows(root) if f.get("sourceRef") not in decisions]
    assert all(f.find("bpmn:conditionExpression", NS) is None for f in others)


@pytest.mark.parametrize("version", VERSIONS, ids=by_key)
def test_ids_are_unique_ncnames(version: Version) -> None:
    ids = [e.get("id") for e in document(version).iter() if e.get("id") is not None]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not NCNAME.match(str(i))] == []


def finished_end(version: Version, end: str) -> list[str]:
    """Run the export in SpiffWorkflow along one path from the start to ``end``: each decision on
    it takes the outcome the path takes (the data names it), people's tasks are done, a wait
    step's message arrives, a system's work finishes; returns the end events reached."""
    graph = nx.DiGraph([(t.source, t.target) for t in version.transitions])
    start = next(s.id for s in version.steps if s.kind is StepKind.START)
    path = nx.shortest_path(graph, start, end)
    data = {
        t.source: t.outcome
        for t in version.transitions
        if t.outcome and (t.source, t.target) in set(pairwise(path))
    }
    parser = BpmnParser()
    parser.add_bpmn_str(bpmn_xml(version, LIBRARY.lanes))
    workflow = BpmnWorkflow(parser.get_spec(f"Process_{version.process}_v{version.version}"))
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    for _ in range(4 * len(version.steps)):
        workflow.do_engine_steps()
        if workflow.is_completed():
            break
        for task in workflow.get_tasks(state=TaskState.WAITING):  # a wait step's message arrives
            workflow.send_event(BpmnEvent(task.task_spec.event_definition, {}))
        for task in workflow.get_tasks(state=TaskState.READY):
            task.run()
        for task in workflow.get_tasks(state=TaskState.STARTED):  # a system's work is done
            task.complete()
    assert workflow.is_completed()
    done = workflow.get_tasks(state=TaskState.COMPLETED)
    return [t.task_spec.bpmn_id for t in done if type(t.task_spec).__name__ == "EndEvent"]


@pytest.mark.parametrize(
    ("version", "end"),
    [(v, s.id) for v in VERSIONS for s in v.steps if s.kind is StepKind.END],
    ids=lambda item: item.key if isinstance(item, Version) else item,
)
def test_the_conditions_route_a_bpmn_engine_to_the_end_the_outcomes_lead_to(
    version: Version, end: str
) -> None:
    assert finished_end(version, end) == [end]


def test_names_and_documentation_follow_the_language() -> None:
    version = LIBRARY.get("refugee_settlement", 2)
    nb, en = document(version, NB), document(version, ENGLISH)
    step = version.step("settlement_team_match")

    def node(root: ET.Element) -> ET.Element:
        found = root.find(f"bpmn:process/*[@id='{step.id}']", NS)
        assert found is not None
        return found

    assert node(nb).get("name") == step.name.nb and node(en).get("name") == step.name.en
    doc_nb, doc_en = (node(r).findtext("bpmn:documentation", "", NS) for r in (nb, en))
    assert "Berøringstid 20–35 min" in doc_nb and "Touch time 20–35 min" in doc_en
    assert "Sammen med Boligkontoret" in doc_nb and "Together with" in doc_en
    assert step.note is not None and step.note.split(";")[0] in doc_en


def test_a_wait_step_is_a_receive_task_waiting_for_its_own_message() -> None:
    version = LIBRARY.get("eviction_prevention", 1)
    root = document(version, ENGLISH)
    [receive] = root.findall("bpmn:process/bpmn:receiveTask", NS)
    [message] = root.findall("bpmn:message", NS)
    step = version.step("tenant_sends_documents")
    assert (receive.get("id"), receive.get("messageRef")) == (step.id, message.get("id"))
    assert message.get("name") == step.name.en
    assert "Wait before the step 3–10 working days (waiting on an outside party)" in (
        receive.findtext("bpmn:documentation", "", NS)
    )


def test_write_replaces_the_file_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    out = tmp_path / "v.bpmn"
    out.write_text("old", encoding="utf-8")
    write_bpmn(linear_version(), out)
    assert out.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert [p.name for p in tmp_path.iterdir()] == ["v.bpmn"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask  # readable as any new file


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "a_folder.bpmn"
    target.mkdir()
    with pytest.raises(OSError):
        write_bpmn(linear_version(), target)
    assert [p.name for p in tmp_path.iterdir()] == ["a_folder.bpmn"]
    assert list(target.iterdir()) == []
