"""Finding a Graphviz renderer and running it: SVG or PNG bytes from DOT source.

The default is the ``graphviz-pure`` wheel (a static binary installed with pip, fonts bundled);
the system ``dot`` is the alternative (PDF, real font metrics). ``choice`` comes from settings
(``renderer: auto | pure | dot``): ``auto`` takes graphviz-pure first, then ``dot``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from boflyt.models.errors import RenderError

__all__ = ["Format", "Renderer", "RendererChoice", "find_renderer", "format_of", "run_graphviz"]

Format = Literal["svg", "png"]
RendererChoice = Literal["auto", "pure", "dot"]

_PURE = "graphviz-pure"
_TIMEOUT_S = 120


@dataclass(frozen=True, slots=True)
class Renderer:
    """A Graphviz executable: ``pure`` (graphviz-pure) or ``dot`` (system Graphviz)."""

    name: Literal["pure", "dot"]
    path: Path


def _pure_candidates() -> list[Path]:
    """Where graphviz-pure may live: PATH, then the running interpreter's environment."""
    exe = _PURE + (".exe" if os.name == "nt" else "")
    found = [Path(p) for p in (shutil.which(_PURE),) if p]
    for folder in (Path(sys.prefix) / "bin", Path(sys.prefix) / "Scripts"):
        found.append(folder / exe)
    found.append(Path(sys.executable).parent / exe)
    return found


def _looked_for(choice: RendererChoice) -> str:
    places = [str(p) for p in _pure_candidates()] if choice != "dot" else []
    if choice != "pure":
        places.append("'dot' on PATH")
    return ", ".join(dict.fromkeys(places))


def find_renderer(choice: RendererChoice = "auto") -> Renderer:
    """The renderer to use.

    Raises:
        RenderError: when none is found, naming every place looked at and how to fix it.
    """
    if choice not in ("auto", "pure", "dot"):
        raise RenderError(f"renderer: unknown choice {choice!r}; allowed: auto, pure, dot")
    if choice in ("auto", "pure"):
        for candidate in _pure_candidates():
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return Renderer("pure", candidate)
    if choice in ("auto", "dot"):
        dot = shutil.which("dot")
        if dot:
            return Renderer("dot", Path(dot))
    raise RenderError(
        f"no Graphviz renderer found (renderer={choice}); looked for {_looked_for(choice)}. "
        "Install the wheel with `pip install graphviz-pure` or the system package "
        "(`apt-get install graphviz`), or set BOFLYT_RENDERER."
    )


def format_of(path: Path) -> Format:
    """``svg`` or ``png`` from a file name's suffix.

    >>> format_of(Path("flow.PNG"))
    'png'
    """
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "svg":
        return "svg"
    if suffix == "png":
        return "png"
    raise RenderError(f"{path}: unsupported output suffix {path.suffix!r}; allowed: .svg, .png")


def run_graphviz(source: str, fmt: Format, renderer: Renderer, *, pinned: bool = True) -> bytes:
    """Run the renderer on DOT ``source``.

    ``pinned`` uses neato with ``-n2``: every node keeps its ``pos`` and Graphviz only routes the
    edges (the pinned swimlane layout). Otherwise the ``dot`` layout engine runs.

    Raises:
        RenderError: when the renderer fails or times out, with its own message.
    """
    engine = ["-Kneato", "-n2"] if pinned else ["-Kdot"]
    command = [str(renderer.path), *engine, f"-T{fmt}"]
    try:
        done = subprocess.run(
            command, input=source.encode(), capture_output=True, timeout=_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"{renderer.path}: could not render {fmt}: {exc}") from exc
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        errors = [line for line in message if line.startswith("Error")] or message[-1:]
        detail = " ".join(errors[:2]) if errors else f"exit code {done.returncode}"
        raise RenderError(f"{renderer.name} renderer ({renderer.path}) failed on {fmt}: {detail}")
    return done.stdout
