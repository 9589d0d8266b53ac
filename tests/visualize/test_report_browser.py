"""A headless-browser screenshot of a report: the page renders and is not blank."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from boflyt.engine.load import load_lanes
from boflyt.visualize.report import build_report
from tests.factories import branching_version, redesigned_branching_version

LANES_FILE = Path(__file__).resolve().parents[2] / "processes" / "lanes.yaml"
BROWSER = next(
    (b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
)
WIDTH, HEIGHT = 1400, 1000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        BROWSER is None,
        reason="headless Chromium is not installed (apt-get install chromium; .ci/run does this)",
    ),
]


def screenshot(page: Path, out: Path, profile: Path) -> Image.Image:
    assert BROWSER is not None
    subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={profile}", f"--screenshot={out}",
         f"--window-size={WIDTH},{HEIGHT}", page.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    return Image.open(out).convert("RGB")


def test_report_screenshot_is_a_real_page(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    build_report(
        branching_version(), redesigned_branching_version(), page,
        lanes=load_lanes(LANES_FILE), generated=dt.datetime(2026, 11, 24, 12, 0),
    )  # fmt: skip
    image = screenshot(page, tmp_path / "shot.png", tmp_path / "profile")
    assert image.size == (WIDTH, HEIGHT)
    colours = image.getcolors(maxcolors=WIDTH * HEIGHT) or []
    assert len(colours) > 200, "a rendered report has text, figures and cards"
    white = sum(count for count, rgb in colours if min(rgb) >= 250)
    assert 0.05 < 1 - white / (WIDTH * HEIGHT) < 0.9, "neither blank nor a solid block"
    # The summary box's blue rule (#2f5f8f) is drawn: the CSS was applied.
    assert any(rgb == (0x2F, 0x5F, 0x8F) for _, rgb in colours)
