"""A headless-browser screenshot of a report: it renders, is not blank, and fetches nothing."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from boflyt.engine.definition.load import load_lanes
from boflyt.visualize.report import build_report
from tests.factories import branching_version, redesigned_branching_version

LANES_FILE = Path(__file__).resolve().parents[2] / "processes" / "lanes.yaml"
WIDTH, HEIGHT = 1400, 1000

pytestmark = pytest.mark.browser


def test_report_screenshot_is_a_real_page(tmp_path: Path, page_at: Callable[..., Any]) -> None:
    path = tmp_path / "report.html"
    build_report(
        branching_version(), redesigned_branching_version(), path,
        lanes=load_lanes(LANES_FILE), generated=dt.datetime(2026, 11, 24, 12, 0),
    )  # fmt: skip
    page = page_at(WIDTH, HEIGHT)
    page.goto(path.as_uri())
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    colours = image.getcolors(maxcolors=WIDTH * HEIGHT) or []
    assert len(colours) > 200, "a rendered report has text, figures and cards"
    white = sum(count for count, rgb in colours if min(rgb) >= 250)
    assert 0.05 < 1 - white / (WIDTH * HEIGHT) < 0.9, "neither blank nor a solid block"
    # The summary box's blue rule (#2f5f8f) is drawn: the CSS was applied.
    assert any(rgb == (0x2F, 0x5F, 0x8F) for _, rgb in colours)
    assert page.refused == [], "the report asked for something beyond its own file"
