"""Shared test set-up. Prefect state goes to a temporary PREFECT_HOME, never ~/.prefect, and
the folder made for it is removed when the session ends."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_made_home = (
    None if "PREFECT_HOME" in os.environ else tempfile.mkdtemp(prefix="boflyt-prefect-home-")
)
if _made_home is not None:
    os.environ["PREFECT_HOME"] = _made_home
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")

pytest_plugins = [
    "tests.fixtures.store",
    "tests.fixtures.prefect",
    "tests.fixtures.browser",
    "tests.fixtures.smtp",
]


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the PREFECT_HOME this session made (the temporary API's database, its logs)."""
    if _made_home is not None:
        shutil.rmtree(_made_home, ignore_errors=True)
