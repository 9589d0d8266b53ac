"""The report's outcome-metrics section: designed before → after, and each log by source and n."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from boflyt.analysis.outcomes import designed_outcomes, logged_outcomes
from boflyt.analysis.simulation.cohort import simulate
from boflyt.engine.definition.load import load_library
from boflyt.engine.definition.scenario import load_scenario
from boflyt.visualize.report import build_report
from boflyt.visualize.report_text import outcome_table_html
from tests.factories import branching_version, redesigned_branching_version

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
LIBRARY = load_library(PROCESSES)
BEFORE, AFTER = (LIBRARY.get("eviction_prevention", n) for n in (1, 2))


def cells(html: str) -> dict[tuple[str, str], tuple[float | None, str]]:
    """(metric, column) → (raw value, shown text) of the outcome table."""
    found = {}
    for row in re.finditer(r'<tr data-metric="([a-z_]+)">(.*?)</tr>', html):
        for cell in re.finditer(
            r'data-column="([^"]+)" data-value="([^"]*)"[^>]*>([^<]*)<', row[2]
        ):
            value = float(cell[2]) if cell[2] else None
            found[(row[1], cell[1])] = (value, unescape(cell[3]))
    return found


def test_the_table_shows_designed_figures_and_their_change() -> None:
    html = outcome_table_html(BEFORE, AFTER, ([], []), "nb")
    shown = cells(html)
    for version, column in ((BEFORE, "v1:designed"), (AFTER, "v2:designed")):
        for figure in designed_outcomes(version):
            assert shown[(figure.metric, column)][0] == pytest.approx(figure.value)
    assert shown[("evicted", "v1:designed")][1] == "9,9 %"
    assert shown[("first_nav_contact", "v2:designed")][1] == "8,6 d (i 20,0 % av sakene)"
    assert 'data-change="-8.38' in html and "−8,4 pp" in html
    assert "<th>Resultatmål</th>" in html and "eviction_prevention@v1: forventet" in html


def test_a_version_pair_without_outcome_metrics_has_no_table() -> None:
    assert (
        outcome_table_html(branching_version(), redesigned_branching_version(), ([], []), "nb")
        == ""
    )


def test_the_report_has_the_section_with_each_log_by_source_and_n(tmp_path: Path) -> None:
    logs = []
    for version in (BEFORE, AFTER):
        path = LIBRARY.scenario_path(version.process)
        scenario = load_scenario(path, version=version, lanes=LIBRARY.lanes)
        logs.append(simulate(version, scenario, cases=80, seed=2, lanes=LIBRARY.lanes).events)
    page = tmp_path / "eviction.html"
    build_report(BEFORE, AFTER, page, lanes=LIBRARY.lanes, before_events=logs[0],
                 after_events=logs[1], lang="en")  # fmt: skip
    html = page.read_text(encoding="utf-8")
    assert '<a href="#outcome-metrics">Outcome metrics (expected and from case runs)</a>' in html
    section = html[html.index('<section id="outcome-metrics">') :]
    section = section[: section.index("</section>")]
    assert "eviction_prevention@v1: simulated (n=80)" in section
    assert "measured" not in section.lower() and "observed" not in section.lower()
    shown = cells(section)
    for version, log, column in (
        (BEFORE, logs[0], "v1:simulated"),
        (AFTER, logs[1], "v2:simulated"),
    ):
        for figure in logged_outcomes(log, version):
            assert shown[(figure.metric, column)][0] == pytest.approx(figure.value)
