"""Rendering swimlanes with the wheel renderer: structure of the SVG, lane order, errors."""

from __future__ import annotations

import re
import subprocess
from html import unescape
from pathlib import Path

import pytest

from boflyt.engine.definition.load import load_lanes
from boflyt.models.definition import LaneCatalog
from boflyt.models.errors import RenderError
from boflyt.visualize import render as render_module
from boflyt.visualize.diagram import Swimlane
from boflyt.visualize.extraction import extract_comparison, extract_swimlane
from boflyt.visualize.render import Renderer, find_renderer, format_of, run_graphviz
from boflyt.visualize.side_by_side import marked_steps, render_comparison, stack_svgs
from boflyt.visualize.swimlane import HANDOFF_RED, heat_colour, render_swimlane, swimlane_dot
from tests.factories import (
    GENERATED_LANES,
    branching_version,
    generated_version,
    linear_version,
    redesigned_branching_version,
)

LANES_FILE = Path(__file__).resolve().parents[2] / "processes" / "lanes.yaml"
_GROUP = re.compile(r'<g id="([^"]+)" class="([^"]+)">(.*?)</g>', re.S)


@pytest.fixture(scope="module")
def lanes() -> LaneCatalog:
    return load_lanes(LANES_FILE)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return find_renderer("pure")


def groups(svg: bytes) -> dict[str, tuple[str, str]]:
    """SVG group id → (class, body), entities decoded."""
    text = unescape(svg.decode())
    return {m.group(1): (m.group(2), m.group(3)) for m in _GROUP.finditer(text)}


def header_y(body: str) -> float:
    """The y of a lane header's label (SVG y grows downwards)."""
    match = re.search(r'<text[^>]* y="(-?[\d.]+)"', body)
    assert match is not None
    return float(match.group(1))


def test_the_wheel_renderer_is_found_first(renderer: Renderer) -> None:
    assert renderer.name == "pure"
    assert renderer.path.name.startswith("graphviz-pure")
    assert find_renderer("auto") == renderer


def test_a_missing_renderer_names_every_place_looked_at(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(render_module, "_pure_candidates", lambda: [tmp_path / "graphviz-pure"])
    with pytest.raises(RenderError) as caught:
        find_renderer("auto")
    message = str(caught.value)
    assert str(tmp_path / "graphviz-pure") in message and "'dot' on PATH" in message
    assert "pip install graphviz-pure" in message
    with pytest.raises(RenderError, match="renderer=dot"):
        find_renderer("dot")
    with pytest.raises(RenderError, match="unknown choice"):
        find_renderer("cairo")  # type: ignore[arg-type]


def test_format_comes_from_the_suffix() -> None:
    assert format_of(Path("a.svg")) == "svg" and format_of(Path("a.PNG")) == "png"
    with pytest.raises(RenderError, match=r"allowed: \.svg, \.png"):
        format_of(Path("a.pdf"))


def test_renderer_failure_is_a_render_error(renderer: Renderer) -> None:
    with pytest.raises(RenderError, match="failed on svg"):
        run_graphviz("digraph { a -> }", "svg", renderer)


def test_svg_marks_steps_handoffs_and_lanes(lanes: LaneCatalog, renderer: Renderer) -> None:
    diagram = extract_swimlane(branching_version(), lanes)
    found = groups(render_swimlane(diagram, "svg", renderer=renderer))
    for node in diagram.nodes:
        assert f"step-{node.id}" in found, node.id
    assert "kind-decision" in found["step-assess"][0]
    assert "external-wait" in found["step-contract"][0]
    assert "ekstern ventetid 6 d" in found["step-contract"][1]
    for number in range(1, 9):
        cls, body = found[f"handoff-{number}"]
        assert "handoff" in cls
        assert HANDOFF_RED.lower() in body.lower()
        assert f">{number}<" in body or f">{number} " in body
    assert "rework" in found["handoff-4"][0] and "stroke-dasharray" in found["handoff-4"][1]
    assert "outside" in found["lane-landlord"][0]


def test_lanes_come_out_in_order_even_at_200_steps(renderer: Renderer) -> None:
    diagram = extract_swimlane(generated_version(200))
    svg = render_swimlane(diagram, "svg", renderer=renderer)
    found = groups(svg)
    tops = [header_y(found[f"lane-{lane}"][1]) for lane in GENERATED_LANES]
    assert tops == sorted(tops)
    assert len({round(t) for t in tops}) == 6


def test_pinned_layout_keeps_orthogonal_routing(lanes: LaneCatalog, renderer: Renderer) -> None:
    """No node boxes touch, so Graphviz never falls back to straight edges."""
    for diagram in (
        extract_swimlane(branching_version(), lanes),
        extract_comparison(branching_version(), redesigned_branching_version(), lanes),
        extract_swimlane(generated_version(60), lanes),
    ):
        done = subprocess.run(
            [str(renderer.path), "-Kneato", "-n2", "-Tsvg"],
            input=swimlane_dot(diagram).encode(), capture_output=True, check=True,
        )  # fmt: skip
        assert b"falling back to straight line" not in done.stderr


def test_before_after_view_draws_marks_and_deltas(lanes: LaneCatalog, renderer: Renderer) -> None:
    diagram = extract_comparison(branching_version(), redesigned_branching_version(), lanes)
    assert marked_steps(diagram)[diagram.node("fix").mark] == ["fix"]
    svg = render_comparison(diagram, "svg", renderer=renderer)
    found = groups(svg)
    assert "mark-new" in found["step-digital_check"][0]
    assert "#1b7f3a" in found["step-digital_check"][1].lower()
    assert "mark-changed" in found["step-intake"][0]
    assert "mark-removed" in found["step-fix"][0]
    assert "FJERNET" in found["step-fix"][1]
    assert found["edge-assess-fix"][0] == "edge ghost"
    text = unescape(svg.decode())
    assert "Overleveringer" in text and "Gjennomløpstid" in text


def test_png_output_and_stacking(renderer: Renderer) -> None:
    diagram = extract_swimlane(linear_version())
    png = render_swimlane(diagram, "png", renderer=renderer)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    svg = render_swimlane(diagram, "svg", renderer=renderer)
    both = stack_svgs([svg, svg]).decode()
    assert both.count("<svg") == 3 and 'transform="translate(0 ' in both


def test_observed_overlay_colours_by_wait(renderer: Renderer) -> None:
    diagram: Swimlane = extract_swimlane(
        linear_version(),
        observed_step_waits={"a": 1.0, "b": 4.0},
        observed_handoff_waits={("housing_office", "nav"): 4.0},
    )
    found = groups(render_swimlane(diagram, "svg", renderer=renderer))
    assert heat_colour(4.0, 4.0).lower() in found["handoff-1"][1].lower()
    assert heat_colour(4.0, 4.0).lower() in found["step-b"][1].lower()
    assert "venter 4 d" in found["step-b"][1]


def test_heat_scale_runs_from_white_to_red() -> None:
    assert heat_colour(0, 5) == "#FFFFFF"
    assert heat_colour(5, 5) == "#BD0026"
    assert heat_colour(99, 5) == "#BD0026"
    assert heat_colour(1, 0) == "#FFFFFF"
