"""The one exception tree of Boflyt.

    BoflytError
    ├── DefinitionError(ValueError)     a process file is malformed or breaks a graph rule
    ├── ScenarioError(ValueError)       a simulation scenario file is malformed
    ├── NotFoundError(LookupError)      an unknown process, version, case or step
    ├── CommandError(ValueError)        a case command the engine refuses (wrong state, outcome)
    │   └── AccessError(PermissionError) the organisation may not act on this step
    ├── ConflictError(RuntimeError)     a concurrent or stale command lost; nothing was changed
    ├── StoreError(RuntimeError)        the database could not be reached or is inconsistent
    └── RenderError(RuntimeError)       no diagram renderer could be found or it failed

Each error subclasses the built-in that fits, so callers that know only the built-ins still work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "AccessError",
    "BoflytError",
    "CommandError",
    "ConflictError",
    "DefinitionError",
    "NotFoundError",
    "Problem",
    "RenderError",
    "ScenarioError",
    "SettingsError",
    "StoreError",
]


class BoflytError(Exception):
    """Root of every error Boflyt raises on purpose."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in a file: where it is, which field, and what was found versus allowed.

    Sorted by file, line, then location, so a report reads top to bottom.
    """

    file: str
    line: int
    where: str = ""
    message: str = field(default="", compare=True)

    def __str__(self) -> str:
        loc = f"{self.file}:{self.line}" if self.line else self.file
        return f"{loc} {self.where}: {self.message}" if self.where else f"{loc}: {self.message}"


class _ProblemsError(BoflytError):
    """An error carrying every problem found in one file, sorted."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class DefinitionError(_ProblemsError, ValueError):
    """A process definition file is malformed or breaks a graph rule."""


class ScenarioError(_ProblemsError, ValueError):
    """A simulation scenario file is malformed."""


class NotFoundError(BoflytError, LookupError):
    """An unknown process, version, case, step or work item."""


class CommandError(BoflytError, ValueError):
    """The case engine refuses a command (wrong state, unknown outcome, finished case)."""


class AccessError(CommandError, PermissionError):
    """The acting organisation may not act on this step."""


class ConflictError(BoflytError, RuntimeError):
    """A concurrent or stale command lost the race; nothing was changed."""


class StoreError(BoflytError, RuntimeError):
    """The store could not be reached or holds something inconsistent."""


class RenderError(BoflytError, RuntimeError):
    """No diagram renderer could be found, or rendering failed."""


class SettingsError(BoflytError, ValueError):
    """A setting (environment variable or workspace file) holds a value that is not allowed."""
