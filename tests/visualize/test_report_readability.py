"""Every diagram of a real report is readable in a browser 1400 px wide, and nothing is cut.

The reports are built once for this module as ``boflyt report --observed`` builds them, for all
three seed processes, on 10 simulated cases per version, so every section is there, the
measured-waits swimlanes included.
Headless Chromium measures what a reader sees: the rendered size of every text of every figure
(computed font size times the figure's current scale), each figure's box against its section and
the next section, what its frame clips, and the printed size on A4 landscape.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from boflyt.analysis.simulation.cohort import simulate
from boflyt.engine.definition.load import load_library
from boflyt.engine.definition.scenario import load_scenario
from boflyt.visualize.report import build_report

pytestmark = pytest.mark.browser

PROCESSES_DIR = Path(__file__).resolve().parents[2] / "processes"
PROCESSES = ("private_lease", "refugee_settlement", "eviction_prevention")
FIGURES = {
    "swimlane-before": 1,
    "swimlane-after": 1,
    "before-after": 1,
    "timeline": 1,
    "observed-metrics": 2,  # the lead-time distribution and the measured-waits swimlanes
}
WIDTH = 1400
MIN_TEXT_PX = 10.0
A4_LANDSCAPE_CONTENT = (1032, 703)  # 297 × 210 mm less 12 mm margins, in CSS px (96 per inch)
PRINT_MAX_HEIGHT = 160 * 96 / 25.4  # the print style's max-height: 160mm

MEASURE = r"""() => {
  const abs = (r) => ({top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left,
                       right: r.right, width: r.width, height: r.height});
  // Edge texts (outcomes, handoff chips) that a node painted after them covers: a card's box,
  // or a diamond's rhombus (|dx|/half-width + |dy|/half-height < 1).
  const underNodes = (svg) => {
    const nodes = [...svg.querySelectorAll("g.node")].map((node) => {
      const shapes = [...node.querySelectorAll("polygon, path, ellipse")];
      if (!shapes.length) { return null; }
      const r = shapes.map((s) => abs(s.getBoundingClientRect())).reduce((a, b) => ({
        left: Math.min(a.left, b.left), right: Math.max(a.right, b.right),
        top: Math.min(a.top, b.top), bottom: Math.max(a.bottom, b.bottom)}));
      const first = node.querySelector("polygon");
      const diamond = !!first && first.getAttribute("points").trim().split(/\s+/).length === 5;
      return {node, diamond, ...r};
    }).filter(Boolean);
    const covered = (x, y, n) => {
      const hw = (n.right - n.left) / 2, hh = (n.bottom - n.top) / 2;
      const dx = Math.abs(x - (n.left + hw)), dy = Math.abs(y - (n.top + hh));
      return n.diamond ? dx / hw + dy / hh < 0.95 : dx < hw - 1 && dy < hh - 1;
    };
    const found = [];
    for (const text of svg.querySelectorAll("g.edge text")) {
      const b = abs(text.getBoundingClientRect()), mid = (b.left + b.right) / 2;
      const points = [[b.left, b.top], [b.right, b.top], [b.left, b.bottom], [b.right, b.bottom],
                      [mid, b.top], [mid, b.bottom]];
      for (const n of nodes) {
        const later = text.compareDocumentPosition(n.node) & Node.DOCUMENT_POSITION_FOLLOWING;
        if (later && points.some(([x, y]) => covered(x, y, n))) {
          found.push(text.textContent.trim() + " under " + n.node.id);
        }
      }
    }
    return found;
  };
  const figure = (frame) => {
    const svg = frame.querySelector(":scope > svg");
    const style = getComputedStyle(frame);
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll("text")].filter((t) => t.textContent.trim());
    const sizes = texts.map((t) => {
      const m = t.getScreenCTM();
      return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    });
    const outside = texts.filter((t) => {
      const r = t.getBoundingClientRect();
      return r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1
                             || r.top < box.top - 1 || r.bottom > box.bottom + 1);
    }).map((t) => t.textContent.trim());
    const hidden = underNodes(svg);
    const parts = [...svg.querySelectorAll(":scope > g > svg")].map(
      (p) => abs(p.getBoundingClientRect()));
    const clippers = [];
    for (let el = frame.parentElement; el && el !== document.body; el = el.parentElement) {
      const s = getComputedStyle(el);
      if (s.overflowX !== "visible" || s.overflowY !== "visible") {
        clippers.push({tag: el.tagName, ...abs(el.getBoundingClientRect())});
      }
    }
    frame.scrollLeft = frame.scrollWidth;
    const atEnd = svg.getBoundingClientRect().right;
    const frameEnd = frame.getBoundingClientRect().right - parseFloat(style.borderRightWidth);
    frame.scrollLeft = 0;
    return {wide: frame.classList.contains("wide"), texts: sizes.length,
            minText: Math.min(...sizes), outside, hidden, parts, clippers,
            frame: abs(frame.getBoundingClientRect()), svg: abs(box),
            overflowX: style.overflowX, scrollW: frame.scrollWidth, clientW: frame.clientWidth,
            scrollH: frame.scrollHeight, clientH: frame.clientHeight, atEnd, frameEnd};
  };
  const sections = [...document.querySelectorAll("body > section")];
  return sections.map((section, i) => ({
    id: section.id, ...abs(section.getBoundingClientRect()),
    nextTop: i + 1 < sections.length ? abs(sections[i + 1].getBoundingClientRect()).top : null,
    figures: [...section.querySelectorAll(".figure")].map(figure),
  }));
}"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The --observed report of every seed process (newest version against the one it is
    based on), each version simulated with 10 cases under its default scenario."""
    folder = tmp_path_factory.mktemp("readable")
    library = load_library(PROCESSES_DIR)
    for process in PROCESSES:
        after = library.get(process)
        assert after.based_on is not None
        before = library.get(process, after.based_on)
        events = [
            simulate(
                version,
                load_scenario(
                    library.scenario_path(process, "default"), version=version, lanes=library.lanes
                ),
                cases=10,
                seed=seed,
                lanes=library.lanes,
            ).events
            for seed, version in enumerate((before, after), start=1)
        ]
        build_report(
            before, after, folder / f"{process}.html", lanes=library.lanes,
            before_events=events[0], after_events=events[1],
        )  # fmt: skip
    return folder


@pytest.fixture
def open_report(reports: Path, page_at: Callable[..., Any]) -> Callable[..., Any]:
    def open_(process: str, width: int = WIDTH, height: int = 1000) -> Any:
        page = page_at(width, height)
        page.goto((reports / f"{process}.html").as_uri())
        return page

    return open_


def measure(page: Any) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in page.evaluate(MEASURE)}


@pytest.mark.parametrize("process", PROCESSES)
def test_every_diagram_text_is_at_least_10_px_at_100_percent(
    open_report: Callable[..., Any], process: str
) -> None:
    sections = measure(open_report(process))
    found = {key: len(s["figures"]) for key, s in sections.items() if s["figures"]}
    assert found == FIGURES
    for key, section in sections.items():
        for index, figure in enumerate(section["figures"]):
            where = f"{process} #{key} figure {index + 1}"
            assert figure["texts"] > 5, where
            assert figure["minText"] >= MIN_TEXT_PX, f"{where}: text of {figure['minText']:.1f} px"


@pytest.mark.parametrize("process", PROCESSES)
def test_no_diagram_is_cut_or_covers_the_next_section(
    open_report: Callable[..., Any], process: str
) -> None:
    page = open_report(process)
    for key, section in measure(page).items():
        if section["nextTop"] is not None:
            assert section["bottom"] <= section["nextTop"] + 0.5, f"{process} #{key} overlaps"
        for index, fig in enumerate(section["figures"]):
            where = f"{process} #{key} figure {index + 1}"
            frame, svg = fig["frame"], fig["svg"]
            assert section["left"] - 0.5 <= frame["left"] < frame["right"] <= section["right"] + 0.5
            assert section["top"] <= frame["top"] < frame["bottom"] <= section["bottom"] + 0.5
            # Height: the whole drawing is inside its frame; nothing hidden below.
            assert frame["top"] <= svg["top"] and svg["bottom"] <= frame["bottom"], where
            assert fig["scrollH"] <= fig["clientH"] + 1, f"{where}: cut at the bottom"
            # Width: it fits, or the frame scrolls to its right edge.
            if fig["scrollW"] > fig["clientW"] + 1:
                assert fig["overflowX"] in ("auto", "scroll"), f"{where}: cut at the right"
                assert fig["atEnd"] <= fig["frameEnd"] + 1, f"{where}: right edge unreachable"
            assert fig["outside"] == [], f"{where}: text outside the drawing {fig['outside'][:5]}"
            assert fig["hidden"] == [], f"{where}: text under a node {fig['hidden'][:5]}"
            for clipper in fig["clippers"]:  # no ancestor clips the frame
                assert clipper["left"] <= frame["left"] and frame["right"] <= clipper["right"]
    assert page.refused == []


@pytest.mark.parametrize("process", PROCESSES)
def test_measured_wait_swimlanes_are_stacked_without_overlap(
    open_report: Callable[..., Any], process: str
) -> None:
    overlay = measure(open_report(process))["observed-metrics"]["figures"][1]
    upper, lower = overlay["parts"]
    assert upper["bottom"] < lower["top"], f"{process}: v2 covers v1's last lane"
    for part in (upper, lower):
        assert overlay["svg"]["top"] - 0.5 <= part["top"]
        assert part["bottom"] <= overlay["svg"]["bottom"] + 0.5, f"{process}: bottom lanes cut"
        assert part["right"] <= overlay["svg"]["right"] + 0.5, f"{process}: cut at the right"
    assert overlay["svg"]["bottom"] - lower["bottom"] < 1  # the stack ends with v2, no blank


@pytest.mark.parametrize("process", PROCESSES)
def test_print_fits_every_figure_on_an_a4_landscape_page(
    open_report: Callable[..., Any], process: str
) -> None:
    page = open_report(process, *A4_LANDSCAPE_CONTENT)
    page.emulate_media(media="print")
    sections = measure(page)
    assert page.locator(".zoombar").first.is_hidden()
    for key, section in sections.items():
        for index, fig in enumerate(section["figures"]):
            where = f"{process} #{key} figure {index + 1} printed"
            assert fig["svg"]["width"] <= A4_LANDSCAPE_CONTENT[0] + 0.5, where
            assert fig["svg"]["height"] <= PRINT_MAX_HEIGHT + 0.5, where
            assert fig["scrollW"] <= fig["clientW"] + 1, f"{where}: wider than the page"


def test_wide_diagrams_zoom_fit_and_pan_inside_the_page(open_report: Callable[..., Any]) -> None:
    page = open_report("refugee_settlement")
    frame = page.locator("#swimlane-before .figure")
    bar = page.locator("#swimlane-before .zoombar")
    svg = frame.locator(":scope > svg")
    natural = float(svg.get_attribute("width") or 0)
    assert natural > 2 * WIDTH and bar.locator("output").inner_text() == "100\u00a0%"

    bar.locator("button", has_text="\u2194").click()  # fit the width
    fitted = svg.bounding_box()
    assert fitted is not None and frame.evaluate("f => f.scrollWidth <= f.clientWidth + 1")
    assert fitted["width"] < WIDTH < natural

    bar.locator("button", has_text="1:1").click()
    assert float(svg.get_attribute("width") or 0) == pytest.approx(natural, abs=0.1)
    bar.locator("button", has_text="+").click()
    assert float(svg.get_attribute("width") or 0) == pytest.approx(natural * 1.25, abs=0.1)
    assert bar.locator("output").inner_text() == "125\u00a0%"

    box = frame.bounding_box()
    assert box is not None
    x, y = box["x"] + 600, box["y"] + 300
    page.mouse.move(x, y)
    page.keyboard.down("Control")
    page.mouse.wheel(0, 200)  # ctrl + wheel: zoom out at the pointer, not the page
    page.keyboard.up("Control")
    page.wait_for_function(
        "([svg, natural]) => parseFloat(svg.getAttribute('width')) < 1.2 * natural",
        arg=[svg.element_handle(), natural],
    )
    before = frame.evaluate("f => f.scrollLeft")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 300, y, steps=5)
    page.mouse.up()
    assert frame.evaluate("f => f.scrollLeft") == pytest.approx(before + 300, abs=2)
    assert page.refused == []
