"""Shared test set-up. Prefect state goes to a temporary PREFECT_HOME, never ~/.prefect."""

from __future__ import annotations

import os
import tempfile

_prefect_home = tempfile.mkdtemp(prefix="boflyt-prefect-home-")
os.environ.setdefault("PREFECT_HOME", _prefect_home)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")

pytest_plugins = [
    "tests.fixtures.store",
    "tests.fixtures.prefect",
    "tests.fixtures.browser",
    "tests.fixtures.smtp",
]
