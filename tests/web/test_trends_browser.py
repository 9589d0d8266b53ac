"""The KPI trends page in a real browser (Debian's Chromium) at 1366, 1920 and 360 px.

The store is that of :mod:`tests.web.test_trends_page` (three months of registered cases, the
middle one suppressed, v2 published in March). The facilitator logs in with the keyboard, goes
from the menu to the trends, chooses the process, and sees four charts and the tables without
a Content-Security-Policy complaint; at 360 px nothing but the tables' own scroll regions is
wider than the window. Screenshots go to ``BOFLYT_SHOTS`` (default ``/tmp/boflyt-shots``) as
``13-trends-*.png``.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from boflyt.web.app import WebConfig, create_app
from tests.web.conftest import PASSWORD, Clock
from tests.web.test_trends_page import (  # noqa: F401  (fixtures)
    NOW,
    REF_PREFIX,
    key,
    shipped,
    trend_db,
    trend_library,
    trend_store,
)

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("BOFLYT_SHOTS", "/tmp/boflyt-shots"))


@pytest.fixture
def server(trend_store, trend_library, key) -> Iterator[str]:  # noqa: F811
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(trend_store, trend_library, WebConfig(secret=b"s" * 32), key=key,
                     clock=Clock(NOW))  # fmt: skip
    runner = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    runner.should_exit = True
    thread.join(timeout=10)


def _page(browser: Any, base: str, width: int, height: int) -> Any:
    """A page that may reach only the server, recording refused requests and CSP complaints."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.refused, page.complaints = [], []
    page.on("console", lambda m: page.complaints.append(m.text) if m.type == "error" else None)

    def guard(route: Any) -> None:
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:
            page.refused.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    return page


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"13-trends-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080), (360, 800)])
def test_a_facilitator_reads_the_monthly_trend(browser, server, tmp_path, width, height) -> None:
    page = _page(browser, server, width, height)
    page.goto(server + "/login")
    page.get_by_label("Brukernavn").fill("fay")
    page.get_by_label("Passord").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(server + "/processes")
    page.get_by_role("link", name="Trender").first.click()
    page.wait_for_url(server + "/trends")
    page.get_by_role("link", name="test_process").click()
    page.wait_for_url(server + "/trends/test_process")
    assert page.locator("svg.trend-chart").count() == 4
    assert page.get_by_role("img", name="Gjennomløpstid per sak (arbeidsdager)").is_visible()
    assert page.get_by_role("table", name="Nøkkeltall per måned").is_visible()
    assert page.get_by_text("– betyr færre enn 5 saker").is_visible()
    assert REF_PREFIX not in page.content()
    scroll = page.locator(".trend-scroll").first
    scroll.focus()
    assert page.evaluate("document.activeElement.classList.contains('trend-scroll')")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _shot(page, tmp_path, f"{width}")
    assert page.refused == [] and page.complaints == []
    page.close()
