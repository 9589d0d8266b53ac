"""Shared set-up of the command-line tests: the real process library and a new, empty store."""

from __future__ import annotations

from pathlib import Path

import pytest

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
"""The process library shipped with Boflyt."""


@pytest.fixture
def cli_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A folder (returned) for a command-line test on the real process library.

    A wide terminal; the store in its ``data/`` (SQLite, empty until a command writes), reports in
    its ``reports/``; no store URL, workspace home or language from the environment.
    """
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("BOFLYT_PROCESSES_DIR", str(PROCESSES))
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BOFLYT_REPORTS_DIR", str(tmp_path / "reports"))
    for name in ("DATABASE_URL", "HOME", "LANG"):
        monkeypatch.delenv(f"BOFLYT_{name}", raising=False)
    return tmp_path
