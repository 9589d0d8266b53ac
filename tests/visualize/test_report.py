"""The workshop report: every section present, numbers equal the analysis, self-contained."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest

from boflyt.analysis import compare as compare_module
from boflyt.analysis import design as design_module
from boflyt.analysis.compare import Comparison, compare
from boflyt.analysis.simulation.cohort import simulate
from boflyt.engine.definition.load import load_lanes
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.errors import CommandError
from boflyt.models.runset import RunSet, RunSetInfo
from boflyt.models.scenario import Scenario
from boflyt.visualize import extraction
from boflyt.visualize.report import ReportEntry, build_index, build_report
from tests.factories import branching_version, redesigned_branching_version

LANES_FILE = Path(__file__).resolve().parents[2] / "processes" / "lanes.yaml"
WHEN = dt.datetime(2026, 11, 24, 12, 0)
SECTIONS = (
    "summary",
    "swimlane-before",
    "swimlane-after",
    "before-after",
    "timeline",
    "design-metrics",
    "observed-metrics",
    "waste",
)


class Page(HTMLParser):
    """Collects section ids, table rows with their data-* cells, and summary sentences."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.tags: list[str] = []
        self.rows: dict[tuple[str, str], dict[str, str]] = {}
        self.waste: dict[str, list[str]] = {}
        self.svgs = 0
        self._table = ""
        self._row: dict[str, str] | None = None
        self._waste: str | None = None
        self._cell = False
        self._summary = False
        self.summary: list[str] = []
        self.text: list[str] = []
        self.headings: list[str] = []
        self._heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        if tag == "section":
            self.sections.append(a["id"])
        elif tag == "svg":
            self.svgs += 1
        elif tag == "table" and "data-table" in a:
            self._table = a["data-table"]
        elif tag == "tr" and "data-metric" in a:
            self._row = self.rows.setdefault((self._table, a["data-metric"]), {})
        elif tag == "tr" and "data-waste" in a:
            self._waste = a["data-waste"]
            self.waste[self._waste] = []
        elif tag == "td" and self._row is not None:
            self._row.update({k[5:]: v for k, v in a.items() if k.startswith("data-")})
        elif tag == "td" and self._waste is not None:
            self._cell = True
        elif tag == "div" and "data-summary" in a:
            self._summary = True
        if tag in ("h2", "h3"):
            self._heading = True
            self.headings.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "h3"):
            self._heading = False
        if tag == "tr":
            self._row, self._waste = None, None
        elif tag == "td":
            self._cell = False
        elif tag == "div":
            self._summary = False

    def handle_data(self, data: str) -> None:
        if self.tags and self.tags[-1] not in ("script", "style"):
            self.text.append(data)  # what a reader sees, SVG text included
        if self._heading:
            self.headings[-1] += data
        if self._cell and self._waste is not None:
            self.waste[self._waste].append(data.strip())
        elif self._summary and data.strip():
            self.summary.append(data.strip())


@pytest.fixture(scope="module")
def lanes() -> LaneCatalog:
    return load_lanes(LANES_FILE)


@pytest.fixture(scope="module")
def versions() -> tuple[Version, Version]:
    return branching_version(), redesigned_branching_version()


@pytest.fixture(scope="module")
def events(versions: tuple[Version, Version]) -> tuple[pl.DataFrame, pl.DataFrame]:
    scenario = Scenario(name="t", arrivals_per_week=5, start="2025-01-06", capacity={"nav": 1})
    before, after = versions
    return (
        simulate(before, scenario, cases=40, seed=3).events,
        simulate(after, scenario, cases=40, seed=4).events,
    )


Build = Callable[..., ReportEntry]


@pytest.fixture(scope="module")
def report(lanes: LaneCatalog, versions: tuple[Version, Version]) -> Build:
    """``report(path, **options)`` builds the fixture's v1 → v2 report on its lanes at ``path``."""
    before, after = versions
    return functools.partial(build_report, before, after, lanes=lanes)


def simulated(version: Version, number: int, seed: int) -> RunSetInfo:
    """The run-set description the store would give the fixture's simulated log."""
    return RunSetInfo(RunSet.simulation(f"sim-{number:04d}"), version.process, version.version,
                      40, number=number, seed=seed, scenario="t")  # fmt: skip


@pytest.fixture(scope="module")
def written(
    tmp_path_factory: pytest.TempPathFactory,
    lanes: LaneCatalog,
    versions: tuple[Version, Version],
    events: tuple[pl.DataFrame, pl.DataFrame],
) -> tuple[ReportEntry, str, Comparison]:
    before, after = versions
    path = tmp_path_factory.mktemp("report") / "branching.html"
    entry = build_report(
        before, after, path, lanes=lanes, before_events=events[0], after_events=events[1],
        before_runs=simulated(before, 3, 3), after_runs=simulated(after, 4, 4),
        generated=WHEN, seed=7,
    )  # fmt: skip
    comparison = compare(
        before, after, before_events=events[0], after_events=events[1], lanes=lanes, seed=7
    )
    return entry, path.read_text(encoding="utf-8"), comparison


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def number(text: str) -> float | None:
    return None if text == "" else float(text)


def test_every_section_is_there(written: tuple[ReportEntry, str, Comparison]) -> None:
    _, html, _ = written
    page = parse(html)
    assert page.sections == list(SECTIONS)
    assert page.svgs >= 6  # two swimlanes, before/after, timeline, distribution, overlays
    assert "Laget 2026-11-24 12:00 UTC" in html


def test_numbers_equal_the_comparison(written: tuple[ReportEntry, str, Comparison]) -> None:
    _, html, comparison = written
    page = parse(html)
    for row in comparison.rows:
        table = "design" if row.source == "design" else "observed"
        cells = page.rows[(table, row.key)]
        assert number(cells["before"]) == row.before, row.key
        assert number(cells["after"]) == row.after, row.key
        assert number(cells["change"]) == row.change, row.key
        assert number(cells["pct"]) == row.pct_change, row.key
        if row.source == "observed":
            assert cells["ci"] == f"{row.ci_low!r},{row.ci_high!r}"
    assert any(r.source == "observed" for r in comparison.rows)
    assert len(page.rows) == len(comparison.rows)


def test_summary_and_waste_come_from_the_figures(
    written: tuple[ReportEntry, str, Comparison],
) -> None:
    entry, html, comparison = written
    page = parse(html)
    design = [unescape(s) for s in comparison.summary("nb") if not s.startswith("Observert")]
    runs = [r for r in comparison.rows if r.source == "observed"]
    assert page.summary[: len(design)] == design
    assert len(page.summary) == len(design) + len(runs)
    lead = comparison.row("observed_lead_days")
    assert (
        "Gjennomløpstid (simulert): "
        + " → ".join(f"{v:.1f}".replace(".", ",") for v in (lead.before, lead.after))
        in page.summary[len(design) + [r.key for r in runs].index("observed_lead_days")]
    )
    for waste, (before, after) in comparison.wastes.items():
        assert page.waste[waste][1:] == [str(before), str(after), str(before - after)]
    assert entry.handoffs == (
        comparison.row("expected_handoffs").before,
        comparison.row("expected_handoffs").after,
    )


def test_the_page_is_self_contained_and_prints_on_a4_landscape(
    written: tuple[ReportEntry, str, Comparison],
) -> None:
    _, html, _ = written
    page = parse(html)
    assert not set(page.tags) & {"link", "img", "iframe", "object"}
    assert page.tags.count("script") == 1  # the inline pan/zoom script
    for forbidden in ("src=", "@import", "url(http", "url(//", "@font-face", "fetch("):
        assert forbidden not in html
    assert "@page { size: A4 landscape" in html
    assert "break-before: page" in html
    assert ".figure svg { max-width: 100%; height: auto !important; max-height: 160mm; }" in html
    assert 'width="' in html and 'pt"' not in html  # figures sized in CSS px, never pt


def visible(page: Page) -> str:
    return " ".join(" ".join(page.text).split())


def test_simulated_figures_say_simulated_and_which_run_never_measured(
    written: tuple[ReportEntry, str, Comparison],
) -> None:
    _, html, _ = written
    page = parse(html)
    text = visible(page)
    assert "målt" not in text.lower() and "observert" not in text.lower()
    sets = ("simulert: kjøring 3, frø 3, 40 saker", "simulert: kjøring 4, frø 4, 40 saker")
    runs_line = f"Før (branching@v1): {sets[0]} · Etter (branching@v2): {sets[1]}"
    assert runs_line in text  # under the section heading, above the table
    assert "Simulerte verdier per avsluttet sak" in page.headings
    assert "Fordeling av simulert gjennomløpstid" in page.headings
    assert "Simulert ventetid i svømmebanen" in page.headings
    assert f"v1, {sets[0]} (n=" in text  # the chart's legend
    assert f"ventetid (arbeidsdager), {sets[1]}:" in text  # the overlay's colour scale
    assert "før (n=" in text and "etter (n=" in text  # the table's columns


def test_live_logs_are_called_registered_and_measured(
    tmp_path: Path, report: Build, events: tuple[pl.DataFrame, pl.DataFrame]
) -> None:
    live = [frame.with_columns(mode=pl.lit("live")) for frame in events]
    report(tmp_path / "live.html", before_events=live[0], after_events=live[1], lang="en",
           generated=WHEN)  # fmt: skip
    page = parse((tmp_path / "live.html").read_text(encoding="utf-8"))
    text = visible(page)
    assert "Observed per finished case" in page.headings
    assert (
        "Before (branching@v1): registered (n=40) · After (branching@v2): registered (n=40)" in text
    )
    assert "simulated" not in text.lower()
    assert any(s.startswith("Lead time (registered): ") for s in page.summary)


def test_a_log_that_pools_run_sets_is_refused(
    tmp_path: Path, report: Build, events: tuple[pl.DataFrame, pl.DataFrame]
) -> None:
    pooled = pl.concat([events[0], events[0].with_columns(mode=pl.lit("live"))])
    with pytest.raises(CommandError, match="holds runs of live, simulated; a figure stands on"):
        report(tmp_path / "x.html", before_events=pooled, after_events=events[1])
    assert not (tmp_path / "x.html").exists()


def test_english_on_request(
    tmp_path: Path, lanes: LaneCatalog, versions: tuple[Version, Version]
) -> None:
    before, after = versions
    path = tmp_path / "en.html"
    build_report(before, after, path, lanes=lanes, lang="en", generated=WHEN)
    html = path.read_text(encoding="utf-8")
    page = parse(html)
    assert '<html lang="en">' in html
    assert "Design metrics (expected per case)" in html and "Designmål" not in html
    assert "observed-metrics" not in page.sections  # no runs given: no observed section
    assert page.summary == compare(before, after, lanes=lanes).summary("en")


def test_index_links_each_report(
    tmp_path: Path, written: tuple[ReportEntry, str, Comparison]
) -> None:
    entry, _, _ = written
    local = dataclasses.replace(entry, path=tmp_path / "branching.html")
    index = build_index([local], tmp_path / "index.html", generated=WHEN)
    html = index.read_text(encoding="utf-8")
    assert 'href="branching.html"' in html
    assert "branching@v1 → branching@v2" in html
    handoffs = [f"{value:.1f}".replace(".", ",") for value in entry.handoffs]  # bokmål
    assert f"{handoffs[0]} → {handoffs[1]}" in html


def test_a_report_computes_each_figure_once(
    tmp_path: Path,
    report: Build,
    events: tuple[pl.DataFrame, pl.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Compute once, render after: design metrics, diff, duplicate registrations and observed
    metrics are computed by the analysis once per version, never again by the renderers."""
    calls: Counter[str] = Counter()

    def counted(module: ModuleType, name: str) -> None:
        real = getattr(module, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[f"{module.__name__.rsplit('.', 1)[-1]}.{name}"] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    for name in ("design_metrics", "diff_versions", "observed_metrics", "per_case"):
        counted(compare_module, name)
    for name in ("design_metrics", "diff_versions", "duplicate_registrations"):
        counted(extraction, name)
    counted(design_module, "duplicate_registrations")
    report(tmp_path / "once.html", before_events=events[0], after_events=events[1],
           generated=WHEN)  # fmt: skip
    assert calls == {
        "compare.design_metrics": 2,
        "compare.observed_metrics": 2,
        "compare.diff_versions": 1,
        "design.duplicate_registrations": 2,
    }
