"""The process library index: every version of every process, and the files that do not load.

Built by :func:`boflyt.engine.definition.load.load_library`; a frozen value, so one library is
shared by
every caller until a file changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.errors import DefinitionError, NotFoundError, Problem
from boflyt.models.vocabulary import VersionStatus

__all__ = ["VERSION_FILE_NAME", "BrokenFile", "Library"]

VERSION_FILE_NAME = re.compile(r"^v([1-9][0-9]*)\.yaml$")
"""The name of a version file: ``v<N>.yaml``, N from 1 without leading zeros."""


@dataclass(frozen=True)
class BrokenFile:
    """A file of the library that does not load, with every one of its problems.

    ``path`` is a ``<process>/*.yaml`` entry (a bad file, a misnamed file, a folder, a FIFO, an
    unreadable file) or a process folder that cannot be listed.
    """

    process: str
    path: Path
    problems: tuple[Problem, ...]

    @property
    def name(self) -> str:
        """The entry's name in its folder, e.g. ``v3.yaml``."""
        return self.path.name

    @property
    def number(self) -> int | None:
        """The version number its name claims (``v3.yaml`` → 3); ``None`` for a misnamed file."""
        match = VERSION_FILE_NAME.match(self.path.name)
        return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Library:
    """The process library: the lane catalogue and every version of every process.

    ``root`` is the ``processes/`` folder: ``lanes.yaml`` and ``<process>/v<N>.yaml``. A file that
    does not load harms only itself: it is kept in ``broken`` with its problems, and only a lookup
    of exactly that version fails.
    """

    root: Path
    lanes: LaneCatalog
    by_process: Mapping[str, tuple[Version, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    broken: Mapping[str, tuple[BrokenFile, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def processes(self) -> list[str]:
        """Ids of the processes with at least one version that loads, sorted."""
        return sorted(self.by_process)

    def versions(self, process: str) -> list[Version]:
        """Every loaded version of ``process``, by number.

        Raises:
            NotFoundError: ``process`` has no folder with version files.
        """
        if process not in self.by_process and process not in self.broken:
            known = ", ".join(self.processes()) or "none"
            raise NotFoundError(f"unknown process '{process}'; known processes: {known}")
        return list(self.by_process.get(process, ()))

    def entries(self, process: str) -> list[Version | BrokenFile]:
        """Every file of ``process``, loaded or broken, by version number (misnamed ones last)."""

        def order(entry: Version | BrokenFile) -> tuple[float, str]:
            if isinstance(entry, Version):
                return entry.version, ""
            return entry.number or float("inf"), entry.name

        return sorted([*self.versions(process), *self.broken.get(process, ())], key=order)

    def get(self, process: str, version: int | None = None) -> Version:
        """One version; ``None`` means the newest published one that loads.

        Raises:
            NotFoundError: unknown process, unknown version, or nothing published.
            DefinitionError: the problems of the file of exactly that version, which is broken.
        """
        versions = self.versions(process)
        if version is None:
            published = [v for v in versions if v.status is VersionStatus.PUBLISHED]
            if not published:
                listed = self._listed(process)
                raise NotFoundError(f"{process} has no published version; versions: {listed}")
            return published[-1]
        for candidate in versions:
            if candidate.version == version:
                return candidate
        for bad in self.broken.get(process, ()):
            if bad.number == version:
                raise DefinitionError(bad.problems)
        listed = self._listed(process)
        raise NotFoundError(f"{process} has no version {version}; versions: {listed}")

    def _listed(self, process: str) -> str:
        """``v1 (published), v2 (draft), v3.yaml (broken)`` for messages."""
        names = [
            f"v{e.version} ({e.status.value})" if isinstance(e, Version) else f"{e.name} (broken)"
            for e in self.entries(process)
        ]
        return ", ".join(names) or "none"

    def path(self, process: str, version: int) -> Path:
        """The file a version came from (also when it is broken)."""
        for bad in self.broken.get(process, ()):
            if bad.number == version:
                return bad.path
        self.get(process, version)
        return self.root / process / f"v{version}.yaml"

    def scenario_path(self, process: str, name: str = "default") -> Path:
        """``<process>/scenarios/<name>.yaml``; :class:`NotFoundError` when there is none."""
        self.versions(process)
        folder = self.root / process / "scenarios"
        path = folder / f"{name}.yaml"
        if _SCENARIO_NAME.match(name) and path.is_file():
            return path
        known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml"))) or "none"
        raise NotFoundError(f"{process} has no scenario '{name}'; scenarios: {known}")


_SCENARIO_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
