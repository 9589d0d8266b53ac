"""The measured value-stream timeline on the pages: the version page's registered timeline and
the before/after page's timelines of the chosen run sets say "measured in N cases" and give
medians, never the design's "expected per case" words; a group under five cases is not drawn."""

from __future__ import annotations

from fastapi.testclient import TestClient

from boflyt.models.words import word
from tests.web.test_compare_page import PAGE as COMPARE
from tests.web.test_compare_page import _fresh_cache, fay, simulated
from tests.web.test_process_pages import PAGE, register, world

__all__ = ["_fresh_cache", "fay", "world"]  # fixtures used here by name

DESIGN_WORDS = ("Samlet %K&amp;N", "Forventet per sak")


def test_the_registered_timeline_is_worded_as_measured(world, key) -> None:
    client, engine, _ = world
    register(engine, key, 5)
    svg = client.get(PAGE + "/timeline.svg?runs=live").text
    assert "Målt i 5 saker" in svg and "Gjennomløpstid (median)" in svg
    for text in DESIGN_WORDS:
        assert text not in svg, text
    design = client.get(PAGE + "/timeline.svg").text
    assert all(text in design for text in DESIGN_WORDS)  # the design keeps its words


def test_the_registered_timeline_in_english(world, key) -> None:
    client, engine, _ = world
    register(engine, key, 6)
    client.get("/language/en?next=/")
    svg = client.get(PAGE + "/timeline.svg?runs=live").text
    assert "Measured in 6 cases" in svg and "Lead time (median)" in svg
    assert "Rolled %C&amp;A" not in svg and "Expected per case" not in svg


def test_four_registered_cases_draw_no_timeline(world, key) -> None:
    client, engine, _ = world
    register(engine, key, 4)
    assert client.get(PAGE + "/timeline.svg?runs=live").status_code == 404


def test_the_compare_page_draws_both_run_sets_measured(fay: TestClient, web_store, library):
    engine = web_store[0]
    ra = simulated(engine, library, "private_lease", 1, 30)
    rb = simulated(engine, library, "private_lease", 2, 30)
    query = {"a": "1", "b": "2", "ra": ra, "rb": rb}
    html = fay.get(COMPARE, params=query).text
    assert "timeline-measured.svg?" in html and "timeline.svg?" in html
    assert word("web_compare.timelines_measured", "nb") in html
    svg = fay.get(f"{COMPARE}/timeline-measured.svg", params=query).text
    assert svg.count("Målt i 30 saker") == 2  # one box per version
    for text in DESIGN_WORDS:
        assert text not in svg, text
    assert "Forventet per sak" in fay.get(f"{COMPARE}/timeline.svg", params=query).text


def test_the_compare_page_says_why_there_is_no_measured_timeline(
    fay: TestClient, web_store, library
) -> None:
    engine = web_store[0]
    ra = simulated(engine, library, "private_lease", 1, 4)
    rb = simulated(engine, library, "private_lease", 2, 30)
    query = {"a": "1", "b": "2", "ra": ra, "rb": rb}
    html = fay.get(COMPARE, params=query).text
    assert "timeline-measured.svg" not in html
    assert word("web_compare.timelines_no_measured", "nb", min_cases=5) in html
    assert fay.get(f"{COMPARE}/timeline-measured.svg", params=query).status_code == 404
