"""Benchmark: how far one report build wanders through the package.

Run: ``.venv/bin/python bench/report_trace.py``. Builds the private_lease v1 -> v2 report once
(design only, and with 200 simulated cases per version) under :func:`sys.setprofile` and prints:

- files: the distinct package source files (``models/``, ``engine/``, ``analysis/``,
  ``visualize/``, ``flows/``, ``boflyt/``) whose Python functions were called;
- calls: the number of Python calls into package code;
- back up: how many times the rendering layer (visualize) calls down into a computation of
  the layers below (a module-level function of analysis or engine, e.g. ``design_metrics``,
  ``diff_versions``, ``duplicate_registrations``; methods and properties of their results are
  reading, not computing), and which: each call after the first is a climb back up the layers
  to compute again. Computing once and rendering after makes it one (``compare``).

A warm-up build runs first so imports and caches are not counted.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.diagrams import report_builds  # noqa: E402

LAYERS = ("flows", "visualize", "analysis", "engine", "models")
"""Top (1) to bottom; ``boflyt/`` itself (settings, cli) counts above flows (0)."""
_VISUALIZE = LAYERS.index("visualize") + 1
_COMPUTING = (LAYERS.index("analysis") + 1, LAYERS.index("engine") + 1)


def _package_file(filename: str) -> str | None:
    """The file's path inside the package, or None for the standard library and third parties."""
    path = Path(filename)
    try:
        relative = path.relative_to(ROOT)
    except ValueError:
        return None
    if relative.parts[0] in (".venv", "tests", "bench"):
        return None
    return relative.as_posix()


def _layer(relative: str) -> int:
    parts = relative.split("/")
    top = parts[1] if parts[0] == "boflyt" and len(parts) > 2 else parts[0]
    return LAYERS.index(top) + 1 if top in LAYERS else 0


def trace(build: Callable[[], Any]) -> tuple[set[str], int, Counter[str]]:
    """The files, the calls and the computations entered from visualize of one ``build``."""
    files: set[str] = set()
    descents: Counter[str] = Counter()
    calls = 0

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        nonlocal calls
        if event != "call":
            return
        relative = _package_file(frame.f_code.co_filename)
        if relative is None:
            return
        calls += 1
        files.add(relative)
        caller = frame.f_back
        name = frame.f_code.co_qualname
        if (
            _layer(relative) in _COMPUTING
            and caller is not None
            and _layer(_package_file(caller.f_code.co_filename) or "") == _VISUALIZE
            and not name.startswith(("_", "<"))
            and "." not in name
        ):
            descents[f"{Path(relative).stem}.{name}"] += 1

    sys.setprofile(profile)
    try:
        build()
    finally:
        sys.setprofile(None)
    return files, calls, descents


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        builds = report_builds(Path(tmp) / "report.html")
        if builds is None:
            print("no private_lease v2 in processes/: nothing to trace")
            return
        for name, build in builds.items():
            build()  # warm-up: imports, template compilation
            files, calls, descents = trace(build)
            print(
                f"report {name}: {len(files)} package files, {calls} calls; visualize calls "
                f"analysis/engine {descents.total()} times ({descents.total() - 1} back up): "
                + ", ".join(f"{what} ×{n}" for what, n in sorted(descents.items()))
            )
            if "-v" in sys.argv:
                print("  " + "\n  ".join(sorted(files)))


if __name__ == "__main__":
    main()
