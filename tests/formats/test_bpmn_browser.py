"""The BPMN export opened by bpmn-js, the renderer of bpmn.io and Camunda Modeler, in headless
Chromium: imported without a warning, every lane, node and flow drawn where the file says.

bpmn-js is vendored for the tests only (``tests/fixtures/bpmn_js``); the page may load nothing
but ``file:`` URLs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from boflyt.engine.definition.load import load_library
from boflyt.formats.bpmn import bpmn_xml, flow_ids
from boflyt.models.definition import Version

pytestmark = pytest.mark.browser

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
VIEWER = (
    Path(__file__).resolve().parents[1] / "fixtures" / "bpmn_js" / "bpmn-viewer.production.min.js"
)
LIBRARY = load_library(PROCESSES)
VERSIONS = [v for p in LIBRARY.processes() for v in LIBRARY.versions(p)]

OPEN = """async (xml) => {
  const viewer = new BpmnJS({container: '#canvas'});
  const result = await viewer.importXML(xml);
  const drawn = viewer.get('elementRegistry').getAll()
    .filter((e) => e.businessObject && e.businessObject.id && e.type !== 'label')
    .map((e) => ({id: e.businessObject.id, type: e.type, x: e.x, y: e.y,
                  waypoints: e.waypoints ? e.waypoints.length : 0}));
  return {warnings: result.warnings.map((w) => w.message), drawn: drawn,
          svg: document.querySelectorAll('#canvas .djs-element').length};
}"""


def opened(page_at: Callable[..., Any], tmp_path: Path, version: Version) -> dict[str, Any]:
    page_file = tmp_path / "viewer.html"
    page_file.write_text(
        f'<!doctype html><meta charset="utf-8"><script src="{VIEWER.as_uri()}"></script>'
        '<div id="canvas" style="width:1600px;height:900px"></div>',
        encoding="utf-8",
    )
    page = page_at(1600, 900)
    page.goto(page_file.as_uri())
    found: dict[str, Any] = page.evaluate(OPEN, bpmn_xml(version, LIBRARY.lanes).decode())
    assert page.refused == []
    return found


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.key)
def test_bpmn_js_draws_every_lane_node_and_flow_without_a_warning(
    page_at: Callable[..., Any], tmp_path: Path, version: Version
) -> None:
    found = opened(page_at, tmp_path, version)
    assert found["warnings"] == []
    drawn = {item["id"]: item for item in found["drawn"]}
    flows = flow_ids(version)
    expected = {
        f"Collaboration_{version.process}",  # the root: the canvas itself
        f"Participant_{version.process}",
        *(f"Lane_{lane}" for lane in version.lanes),
        *(step.id for step in version.steps),
        *flows,
    }
    assert set(drawn) == expected
    assert all(drawn[flow]["type"] == "bpmn:SequenceFlow" for flow in flows)
    assert all(drawn[flow]["waypoints"] >= 2 for flow in flows)
    assert {drawn[f"Lane_{lane}"]["type"] for lane in version.lanes} == {"bpmn:Lane"}
    assert found["svg"] >= len(expected) - 1  # every element but the root has its SVG group
