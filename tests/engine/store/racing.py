"""Processes started at once, and what each exit says: shared by the store's process tests and
``bench/store_processes.py`` (which imports it as ``tests.engine.store.racing``)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence

__all__ = ["classify", "run_at_once"]


def run_at_once(
    commands: Sequence[Sequence[str]], env: Mapping[str, str], *, timeout: float | None = None
) -> list[tuple[int, str]]:
    """Start every command before waiting for any; each one's exit code and standard error."""
    procs = [
        subprocess.Popen(c, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    results = []
    for proc in procs:
        _, err = proc.communicate(timeout=timeout)
        results.append((proc.returncode, err))
    return results


def classify(code: int, stderr: str) -> str:
    """``ok``, ``refused`` (one ``error:`` line), ``locked``, ``traceback`` or ``other``."""
    if "Traceback" in stderr:
        return "traceback"
    if "locked" in stderr:
        return "locked"
    if code == 0:
        return "ok"
    lines = [line for line in stderr.splitlines() if line.strip()]
    return "refused" if len(lines) == 1 and lines[0].startswith("error:") else "other"
