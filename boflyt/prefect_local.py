"""Prefect's embedded local mode for the command line.

Imported by :mod:`boflyt.cli` before anything imports Prefect, so these defaults reach Prefect's
settings and logging set-up: a patient first start of the temporary local server (it creates
its database), no telemetry (the machine may have no network), and only warnings from Prefect's
loggers in the terminal (progress bars and summaries say the rest). An explicit environment
variable or Prefect profile still wins.
"""

from __future__ import annotations

import os

__all__ = ["LOCAL_DEFAULTS", "use_local_defaults"]

LOCAL_DEFAULTS: dict[str, str] = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def use_local_defaults() -> None:
    """Set the defaults above where the environment does not set them already."""
    for name, value in LOCAL_DEFAULTS.items():
        os.environ.setdefault(name, value)
