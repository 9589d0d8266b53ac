"""BPMN 2.0 XML of a process version: one pool, a lane per organisation, drawn like the swimlane.

The document holds a collaboration with one participant (the pool) whose process has a lane set,
one lane per organisation of the version in its drawing order, each lane listing its nodes
(``flowNodeRef``). Steps map onto BPMN by kind (:data:`ELEMENTS`):

* ``start`` and ``end`` → ``startEvent`` and ``endEvent``;
* ``task`` → ``userTask`` (people's work), ``auto`` → ``serviceTask`` (a system's work);
* ``wait`` → ``receiveTask`` with a ``message`` of its own: the case waits for an outside
  party (the tenant's documents, the landlord's account number) to send something;
* ``decision`` → ``exclusiveGateway``; each outgoing ``sequenceFlow`` is named by its outcome
  and carries the ``conditionExpression`` ``<decision> == '<outcome>'`` (the decision step's
  id holds its outcome: a Python expression a BPMN engine such as SpiffWorkflow evaluates);
* ``parallel`` and ``join`` → diverging and converging ``parallelGateway``.

Names are in the chosen language; ``documentation`` carries what BPMN has no attribute for
(touch and waiting time, the lanes of a joint step, a branch's probability, rework, the step's
note). Element ids are the step ids (lower-case snake case, so valid NCNames); the others are
prefixed (``Lane_``, ``Flow_``, ``Message_``, ``…_di``). Diagram interchange (BPMN DI) places
every lane, node and flow where the swimlane places them
(:mod:`boflyt.formats.bpmn_diagram`), so Camunda Modeler and bpmn.io open the file drawn.
"""

from __future__ import annotations

import os
import secrets
import xml.etree.ElementTree as ET
from collections import Counter
from importlib.metadata import version as package_version
from pathlib import Path

from boflyt.formats.bpmn_diagram import DiagramGeometry, diagram_geometry
from boflyt.formats.bpmn_routes import Box, Point
from boflyt.models.definition import Duration, LaneCatalog, Step, Transition, Version
from boflyt.models.vocabulary import StepKind
from boflyt.models.words import DEFAULT_LANGUAGE, Language, format_number, word
from boflyt.visualize.extraction import extract_swimlane

__all__ = ["ELEMENTS", "NAMESPACES", "bpmn_document", "bpmn_xml", "flow_ids", "write_bpmn"]

NAMESPACES = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
"""The XML namespaces of a BPMN 2.0 document with diagram interchange, by their usual prefix."""

ELEMENTS = {
    StepKind.START: "startEvent",
    StepKind.END: "endEvent",
    StepKind.TASK: "userTask",
    StepKind.AUTO: "serviceTask",
    StepKind.WAIT: "receiveTask",
    StepKind.DECISION: "exclusiveGateway",
    StepKind.PARALLEL: "parallelGateway",
    StepKind.JOIN: "parallelGateway",
}
"""The BPMN element of each step kind."""

TARGET_NAMESPACE = "https://boflyt.no/bpmn"

for _prefix, _uri in NAMESPACES.items():
    ET.register_namespace(_prefix, _uri)


def _q(name: str) -> str:
    """``bpmn:task`` → the qualified name ElementTree writes with that prefix."""
    prefix, local = name.split(":")
    return f"{{{NAMESPACES[prefix]}}}{local}"


def _sub(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    return ET.SubElement(parent, _q(tag), attributes)


def flow_ids(version: Version) -> list[str]:
    """The id of each transition's sequence flow, in the version's order.

    ``Flow_<from>_<to>``; a second transition between the same two steps gets ``_2``.

    >>> from tests.factories import linear_version
    >>> flow_ids(linear_version())
    ['Flow_start_a', 'Flow_a_b', 'Flow_b_end']
    """
    seen: Counter[str] = Counter()
    found = []
    for transition in version.transitions:
        base = f"Flow_{transition.source}_{transition.target}"
        seen[base] += 1
        found.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return found


def _span(duration: Duration, lang: Language) -> str:
    low, high = (format_number(v, lang, None) for v in (duration.low, duration.high))
    return low if low == high else f"{low}–{high}"


def _step_notes(step: Step, lanes: dict[str, str], lang: Language) -> list[str]:
    notes = []
    if step.touch_minutes.high > 0:
        notes.append(word("bpmn.touch", lang, minutes=_span(step.touch_minutes, lang)))
    if step.wait_days.high > 0:
        external = word("bpmn.external", lang) if step.external_wait else ""
        wait = word("bpmn.wait", lang, days=_span(step.wait_days, lang))
        notes.append(f"{wait} {external}".strip())
    if step.joint_with:
        joint = ", ".join(lanes.get(lane, lane) for lane in step.joint_with)
        notes.append(word("bpmn.joint", lang, lanes=joint))
    if step.note:
        notes.append(step.note)
    return notes


def _flow_notes(transition: Transition, lang: Language) -> list[str]:
    notes = []
    if transition.probability is not None:
        percent = format_number(transition.probability * 100, lang, None)
        notes.append(word("bpmn.probability", lang, percent=percent))
    if transition.rework:
        notes.append(word("bpmn.rework", lang))
    return notes


def _document(element: ET.Element, notes: list[str]) -> None:
    """A ``documentation`` child (BPMN wants it first) holding ``notes``, one a line."""
    if notes:
        doc = ET.Element(_q("bpmn:documentation"))
        doc.text = "\n".join(notes)
        element.insert(0, doc)


def _lane_set(process: ET.Element, version: Version, lanes: dict[str, str]) -> None:
    """One lane per organisation, in the version's order, listing the steps it owns."""
    lane_set = _sub(process, "bpmn:laneSet", id=f"LaneSet_{version.process}")
    for lane_id in version.lanes:
        lane = _sub(lane_set, "bpmn:lane", id=f"Lane_{lane_id}", name=lanes[lane_id])
        for step in version.steps:
            if step.lane == lane_id:
                _sub(lane, "bpmn:flowNodeRef").text = step.id


def _flow_node(
    process: ET.Element, step: Step, lanes: dict[str, str], lang: Language
) -> ET.Element:
    node = _sub(process, f"bpmn:{ELEMENTS[step.kind]}", id=step.id, name=step.name.get(lang))
    if step.kind is StepKind.WAIT:
        node.set("messageRef", f"Message_{step.id}")
    if step.kind in (StepKind.PARALLEL, StepKind.JOIN):
        direction = "Diverging" if step.kind is StepKind.PARALLEL else "Converging"
        node.set("gatewayDirection", direction)
    _document(node, _step_notes(step, lanes, lang))
    return node


def _sequence_flow(
    process: ET.Element, flow_id: str, transition: Transition, decision: bool, lang: Language
) -> None:
    """The flow of one transition; a decision's branch is named by and conditioned on its
    outcome."""
    flow = _sub(
        process, "bpmn:sequenceFlow", id=flow_id,
        sourceRef=transition.source, targetRef=transition.target,
    )  # fmt: skip
    name = transition.label.get(lang) if transition.label else transition.outcome
    if name:
        flow.set("name", name)
    _document(flow, _flow_notes(transition, lang))
    if decision and transition.outcome:
        condition = _sub(flow, "bpmn:conditionExpression")
        condition.set(_q("xsi:type"), "bpmn:tFormalExpression")
        condition.text = f"{transition.source} == '{transition.outcome}'"


def _process(version: Version, lanes: dict[str, str], lang: Language) -> ET.Element:
    process = ET.Element(
        _q("bpmn:process"), id=f"Process_{version.process}_v{version.version}", isExecutable="true"
    )
    process.set("name", version.name.get(lang))
    _document(process, [version.summary.strip()] if version.summary.strip() else [])
    _lane_set(process, version, lanes)
    nodes = {step.id: _flow_node(process, step, lanes, lang) for step in version.steps}
    ids = flow_ids(version)
    for end, side in (("incoming", "target"), ("outgoing", "source")):  # BPMN's order
        for flow_id, transition in zip(ids, version.transitions, strict=True):
            _sub(nodes[getattr(transition, side)], f"bpmn:{end}").text = flow_id
    decisions = {s.id for s in version.steps if s.kind is StepKind.DECISION}
    for flow_id, transition in zip(ids, version.transitions, strict=True):
        _sequence_flow(process, flow_id, transition, transition.source in decisions, lang)
    return process


def _bounds(parent: ET.Element, box: Box) -> None:
    _sub(parent, "dc:Bounds", x=_n(box.x), y=_n(box.y), width=_n(box.w), height=_n(box.h))


def _n(value: float) -> str:
    return f"{value:g}"


def _shape(plane: ET.Element, element: str, box: Box, label: Box | None = None) -> ET.Element:
    shape = _sub(plane, "bpmndi:BPMNShape", id=f"{element}_di", bpmnElement=element)
    _bounds(shape, box)
    if label is not None:
        _bounds(_sub(shape, "bpmndi:BPMNLabel"), label)
    return shape


def _edge(plane: ET.Element, element: str, route: tuple[Point, ...], label: Box | None) -> None:
    edge = _sub(plane, "bpmndi:BPMNEdge", id=f"{element}_di", bpmnElement=element)
    for x, y in route:
        _sub(edge, "di:waypoint", x=_n(x), y=_n(y))
    if label is not None:
        _bounds(_sub(edge, "bpmndi:BPMNLabel"), label)


def _diagram(
    version: Version, collaboration: str, participant: str, geometry: DiagramGeometry
) -> ET.Element:
    diagram = ET.Element(_q("bpmndi:BPMNDiagram"), id=f"Diagram_{version.process}")
    plane = _sub(
        diagram, "bpmndi:BPMNPlane", id=f"Plane_{version.process}", bpmnElement=collaboration
    )
    _shape(plane, participant, geometry.pool).set("isHorizontal", "true")
    for lane_id, box in geometry.lanes.items():
        _shape(plane, f"Lane_{lane_id}", box).set("isHorizontal", "true")
    for step in version.steps:
        shape = _shape(plane, step.id, geometry.nodes[step.id], geometry.node_labels.get(step.id))
        if step.kind is StepKind.DECISION:
            shape.set("isMarkerVisible", "true")
    for flow_id, route, label in zip(
        flow_ids(version), geometry.edges, geometry.edge_labels, strict=True
    ):
        _edge(plane, flow_id, route, label)
    return diagram


def bpmn_document(
    version: Version, lanes: LaneCatalog | None = None, *, lang: Language = DEFAULT_LANGUAGE
) -> ET.Element:
    """The ``bpmn:definitions`` element of ``version``: its process, its pool and its diagram.

    ``lanes`` names the organisations (their ids when it is not given).

    >>> from tests.factories import linear_version
    >>> root = bpmn_document(linear_version())
    >>> [child.tag.split("}")[1] for child in root]
    ['collaboration', 'process', 'BPMNDiagram']
    """
    swimlane = extract_swimlane(version, lanes, lang=lang)
    names = {lane.id: lane.label for lane in swimlane.lanes}
    root = ET.Element(
        _q("bpmn:definitions"),
        id=f"Definitions_{version.process}_v{version.version}",
        targetNamespace=TARGET_NAMESPACE,
        exporter="Boflyt",
        exporterVersion=package_version("boflyt"),
    )
    for step in version.steps:
        if step.kind is StepKind.WAIT:
            _sub(root, "bpmn:message", id=f"Message_{step.id}", name=step.name.get(lang))
    collaboration = _sub(root, "bpmn:collaboration", id=f"Collaboration_{version.process}")
    participant = f"Participant_{version.process}"
    process = _process(version, names, lang)
    pool = _sub(collaboration, "bpmn:participant", id=participant, processRef=process.get("id", ""))
    pool.set("name", f"{version.name.get(lang)} · v{version.version}: {version.label}")
    root.append(process)
    geometry = diagram_geometry(swimlane)
    root.append(_diagram(version, collaboration.get("id", ""), participant, geometry))
    return root


def bpmn_xml(
    version: Version, lanes: LaneCatalog | None = None, *, lang: Language = DEFAULT_LANGUAGE
) -> bytes:
    """``version`` as a BPMN 2.0 XML document (UTF-8, indented).

    >>> from tests.factories import linear_version
    >>> bpmn_xml(linear_version()).splitlines()[0]
    b'<?xml version="1.0" encoding="UTF-8"?>'
    """
    root = bpmn_document(version, lanes, lang=lang)
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{text}\n'.encode()


def write_bpmn(
    version: Version,
    path: Path,
    lanes: LaneCatalog | None = None,
    *,
    lang: Language = DEFAULT_LANGUAGE,
) -> None:
    """Write :func:`bpmn_xml` to ``path`` through a temporary file beside it, then rename.

    Nothing is left at ``path`` (nor beside it) when writing fails. The file gets the usual
    permissions of a new file (the umask's), as it is meant for other tools and people.

    Raises:
        OSError: when the folder cannot be written to.
    """
    data = bpmn_xml(version, lanes, lang=lang)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with temporary.open("xb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
