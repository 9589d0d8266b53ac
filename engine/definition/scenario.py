"""Load a simulation scenario file into a :class:`~boflyt.models.scenario.Scenario`, line-aware.

Like definitions, a scenario is validated once, at load, and every problem of the file is
reported together with file, line and field: ``default.yaml:7 capacity.navv: unknown lane
'navv'; known lanes: housing_office, nav, …``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from boflyt.engine.definition.load import parse_yaml, read_text
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.errors import DefinitionError, Problem, ScenarioError
from boflyt.models.scenario import Override, Scenario

__all__ = ["load_scenario", "parse_scenario"]

_Lines = Callable[[Iterable[str | int]], int]
"""The line of a field path in the file."""


def load_scenario(
    path: str | Path, *, version: Version | None = None, lanes: LaneCatalog | None = None
) -> Scenario:
    """Read and validate the scenario file at ``path``.

    Capacity lanes are checked against ``lanes`` (the library's catalog) when given, else
    against ``version``'s lanes; an outside party in ``capacity`` is refused (it uses no staff).

    Raises:
        ScenarioError: with every problem of the file, sorted by line; also when it is not a
            regular file (a FIFO is never opened), unreadable, too large or not UTF-8.
        NotFoundError: there is no file at ``path``.
    """
    path = Path(path)
    parts = path.parts[-3:] if path.parent.name == "scenarios" else path.parts[-1:]
    try:
        text = read_text(path)
    except DefinitionError as exc:
        raise ScenarioError(exc.problems) from None
    return parse_scenario(text, file="/".join(parts), version=version, lanes=lanes)


def parse_scenario(
    text: str, *, file: str, version: Version | None = None, lanes: LaneCatalog | None = None
) -> Scenario:
    """Validate scenario YAML ``text``; ``file`` names it in error messages."""
    try:
        data, line_map = parse_yaml(text, file=file)
    except DefinitionError as exc:  # the safe loader's own refusals (syntax, duplicate keys, …)
        raise ScenarioError(list(exc.problems)) from None
    if not isinstance(data, Mapping):
        raise ScenarioError([Problem(file=file, line=1, message="expected a mapping of fields")])

    def line(loc: Iterable[str | int]) -> int:
        return line_map.line(tuple(loc))

    scenario = _validate(data, file=file, line=line)
    problems = _lane_problems(scenario, file=file, line=line, version=version, lanes=lanes)
    if problems:
        raise ScenarioError(problems)
    return scenario


def _validate(data: Mapping[str, Any], *, file: str, line: _Lines) -> Scenario:
    """The scenario, or :class:`ScenarioError` with every field problem and its line."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if not _is_union_tag(part))
            where = ".".join(str(part) for part in loc)
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = f"unknown field; allowed: {', '.join(_allowed(loc))}"
            problems.append(Problem(file=file, line=line(loc), where=where, message=message))
        raise ScenarioError(problems) from None


def _is_union_tag(part: str | int) -> bool:
    """Pydantic puts union member names ('Duration', 'float') into locations; drop them."""
    return isinstance(part, str) and (part[:1].isupper() or part in {"float", "int", "list"})


def _allowed(loc: tuple[str | int, ...]) -> list[str]:
    """The field names allowed where an unknown key was found."""
    if loc[:1] == ("overrides",) and len(loc) >= 4:
        return ["dist", "high", "low", "mode"]
    model = Override if loc[:1] == ("overrides",) else Scenario
    return sorted(model.model_fields)


def _lane_problems(
    scenario: Scenario,
    *,
    file: str,
    line: _Lines,
    version: Version | None,
    lanes: LaneCatalog | None,
) -> list[Problem]:
    if lanes is not None:
        known = lanes.ids
        outside = {lane.id for lane in lanes.lanes if lane.outside}
    elif version is not None:
        known, outside = version.lanes, set()
    else:
        return []
    problems = []
    for lane in scenario.capacity:
        where = f"capacity.{lane}"
        if lane not in known:
            message = f"unknown lane '{lane}'; known lanes: {', '.join(known)}"
        elif lane in outside:
            message = f"'{lane}' is an outside party; it uses no staff, so it has no capacity"
        else:
            continue
        problems.append(
            Problem(file=file, line=line(("capacity", lane)), where=where, message=message)
        )
    return problems
