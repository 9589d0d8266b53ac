"""Validation of a process version: every problem at once, each with its line and place.

:func:`validate` checks the graph rules of the definition language on a model that pydantic has
already accepted (lanes, ids, starts and ends, branching, probabilities, joins, reachability,
cycles and rework). :func:`model_problems` turns pydantic's errors into the same
:class:`~models.errors.Problem` shape, naming what was found and what is allowed. Pure: no I/O.
"""

from __future__ import annotations

import difflib
import math
import re
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx
from pydantic import BaseModel, ValidationError

from engine.graph import to_graph
from models.definition import LaneCatalog, Step, Transition, Version
from models.errors import Problem
from models.vocabulary import StepKind

if TYPE_CHECKING:
    from engine.load import LineMap

__all__ = ["location", "model_problems", "repair", "tags_of", "validate"]

PathKey = tuple[str | int, ...]
Tags = Mapping[tuple[str, int], str]
PROBABILITY_TOLERANCE = 1e-6


# -- places -----------------------------------------------------------------------------------


def tags_of(data: Any) -> dict[tuple[str, int], str]:
    """Readable tags for list items of raw data: a step's id, a transition's ``from->to``."""
    tags: dict[tuple[str, int], str] = {}
    if not isinstance(data, dict):
        return tags
    for section, keys in (("steps", ("id",)), ("transitions", ("from", "to")), ("lanes", ("id",))):
        items = data.get(section)
        for index, item in enumerate(items if isinstance(items, list) else []):
            values = [item.get(key) for key in keys] if isinstance(item, dict) else []
            if values and all(isinstance(value, str) for value in values):
                tags[(section, index)] = "->".join(values)
    return tags


def location(path: Sequence[str | int], tags: Tags) -> str:
    """``("steps", 3, "touch_minutes")`` → ``steps[3](nav_assess).touch_minutes``."""
    text = ""
    for depth, part in enumerate(path):
        if isinstance(part, int):
            text += f"[{part}]"
            tag = tags.get((str(path[0]), part)) if depth == 1 else None
            text += f"({tag})" if tag else ""
        else:
            text += f".{part}" if text else str(part)
    return text


# -- pydantic errors --------------------------------------------------------------------------

_NOUNS = {
    "kind": "step kind",
    "value": "value class",
    "wastes": "waste",
    "channel": "channel",
    "status": "status",
    "dist": "distribution",
}
_EXPECTED = {
    "bool_type": "true or false",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "string_type": "text",
    "tuple_type": "a list",
    "list_type": "a list",
    "model_type": "a mapping",
    "dict_type": "a mapping",
    "date_type": "a date YYYY-MM-DD",
}
_DURATIONS = ("touch_minutes", "wait_days")


def _show(value: Any) -> str:
    text = f"'{value}'" if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``tuple[Step, ...]`` or ``Text | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model whose fields ``loc`` points into (``Step`` for ``("steps", 3)``)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or isinstance(part, int):
            continue
        fields = {info.alias or name: info for name, info in current.model_fields.items()}
        info = fields.get(part)
        current = _model_in(info.annotation) if info else None
    return current


def _allowed_fields(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _closest(word: str, options: Sequence[str]) -> str:
    match = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _model_message(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    """One pydantic error as 'what was found; what is allowed'."""
    kind, loc, found = error["type"], error["loc"], error.get("input")
    field = next((part for part in reversed(loc) if isinstance(part, str)), "")
    ctx = error.get("ctx") or {}
    duration = any(part in _DURATIONS for part in loc)
    if kind == "missing":
        return f"required field '{field}' is missing"
    if kind == "extra_forbidden":
        allowed = _allowed_fields(_model_at(model, loc[:-1]))
        hint = _closest(str(field), allowed)
        if found is None and " " in str(field):
            hint = " (an unquoted comma inside a value? quote the text)"
        return f"unknown field '{field}'{hint}; allowed: {', '.join(allowed)}"
    if kind in ("enum", "literal_error"):
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        noun = _NOUNS.get(str(field), str(field))
        return f"unknown {noun} {_show(found)}; allowed: {', '.join(allowed)}"
    if kind in _EXPECTED:
        extra = " (quote text, write booleans as true/false)" if kind == "bool_type" else ""
        return f"expected {_EXPECTED[kind]}, found {_show(found)}{extra}"
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        sign = "≥" if kind == "greater_than_equal" else ">"
        what = "negative duration" if duration and float(found) < 0 else "too small:"
        return f"{what} {found:g}; must be {sign} {bound:g}"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        sign = "≤" if kind == "less_than_equal" else "<"
        return f"too large: {found:g}; must be {sign} {bound:g}"
    if kind == "string_pattern_mismatch":
        return (
            f"{_show(found)} is not a valid id; use lower-case letters, digits and _, "
            "starting with a letter"
        )
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"too long ({len(str(found))} characters); at most {ctx.get('max_length')}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "value_error" and duration:
        return f"invalid duration {_show(found)}: {message}"
    if kind == "value_error" and field == "date":
        return f"invalid date {_show(found)}: {message}; write YYYY-MM-DD"
    return f"{message[:1].lower()}{message[1:]}; found {_show(found)}"


def model_problems(
    exc: ValidationError,
    *,
    model: type[BaseModel],
    file: str,
    lines: LineMap | None,
    tags: Tags,
) -> list[Problem]:
    """Every error of a pydantic validation of ``model`` as a :class:`Problem`, sorted.

    The place named is the deepest one written in the file (a ``[-5, 10]`` duration is reported
    at ``touch_minutes``, not at the ``low`` pydantic sees); identical problems are merged.
    """
    problems = set()
    for error in exc.errors():
        loc = tuple(error["loc"])
        line = lines.line(loc) if lines is not None else 0
        if lines is not None and error["type"] != "extra_forbidden":
            loc = lines.known(loc)  # name what the file says: "touch_minutes", not ".low"
        problems.add(Problem(file, line, location(loc, tags), _model_message(error, model)))
    return sorted(problems)


_REQUIRED_STAND_INS = {"lane", "name"}


def repair(data: Any, exc: ValidationError) -> tuple[dict[str, Any], list[PathKey]] | None:
    """A copy of ``data`` with bad step fields dropped (or stood in for), so the graph rules can
    still run; ``None`` when an error lies outside a step's plain fields. Also returns the paths
    that were repaired (their graph problems would only repeat the model's)."""
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        return None
    steps = [dict(step) if isinstance(step, dict) else step for step in data["steps"]]
    lanes = data.get("lanes")
    repaired: list[PathKey] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if len(loc) < 3 or loc[0] != "steps" or loc[2] in ("id", "kind"):
            return None
        step = steps[int(loc[1])]
        if not isinstance(step, dict):
            return None
        if loc[2] == "lane" and isinstance(lanes, list) and lanes:
            step["lane"] = lanes[0]
        elif loc[2] == "name":
            step["name"] = {"nb": "?", "en": "?"}
        elif loc[2] not in _REQUIRED_STAND_INS:
            step.pop(str(loc[2]), None)
        else:
            return None
        repaired.append(loc[:3])
    return {**data, "steps": steps}, repaired


# -- graph rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Check:
    """What every rule needs: the version, its graph and how to place a problem."""

    version: Version
    lanes: LaneCatalog
    file: str
    lines: LineMap | None
    tags: Tags
    index: Mapping[str, int]
    graph: nx.DiGraph

    def at(self, path: PathKey, message: str) -> Problem:
        line = self.lines.line(path) if self.lines is not None else 0
        return Problem(self.file, line, location(path, self.tags), message)

    def step_at(self, step_id: str, message: str) -> Problem:
        return self.at(("steps", self.index[step_id]), message)

    def edges(self) -> Iterator[tuple[int, Transition]]:
        """Transitions between known steps (duplicates once), with their position in the file."""
        seen: set[tuple[str, str]] = set()
        for number, transition in enumerate(self.version.transitions):
            pair = (transition.source, transition.target)
            if pair[0] in self.index and pair[1] in self.index and pair not in seen:
                seen.add(pair)
                yield number, transition

    def outgoing(self, step_id: str) -> list[tuple[int, Transition]]:
        return [(n, t) for n, t in self.edges() if t.source == step_id]


def _known(catalog: LaneCatalog) -> str:
    return ", ".join(sorted(catalog.ids))


def _lane_problems(check: _Check) -> Iterator[Problem]:
    listed, catalog = check.version.lanes, check.lanes
    for number, lane in enumerate(listed):
        if catalog.get(lane) is None:
            hint = _closest(lane, catalog.ids)
            yield check.at(
                ("lanes", number), f"unknown lane '{lane}'{hint}; known lanes: {_known(catalog)}"
            )
        elif lane in listed[:number]:
            yield check.at(("lanes", number), f"lane '{lane}' is listed twice")
    for number, step in enumerate(check.version.steps):
        places: list[PathKey] = [("steps", number, "lane")]
        places += [("steps", number, "joint_with", j) for j in range(len(step.joint_with))]
        for path, lane in zip(places, step.lanes, strict=True):
            if catalog.get(lane) is None:
                hint = _closest(lane, catalog.ids)
                yield check.at(path, f"unknown lane '{lane}'{hint}; known lanes: {_known(catalog)}")
            elif lane not in listed:
                yield check.at(
                    path, f"lane '{lane}' is not in this version's lanes: {', '.join(listed)}"
                )
        if step.lane in step.joint_with:
            yield check.at(
                ("steps", number, "joint_with"), f"repeats the step's own lane '{step.lane}'"
            )


def _step_problems(check: _Check) -> Iterator[Problem]:
    for number, step in enumerate(check.version.steps):
        first = check.index[step.id]
        if first != number:
            first_line = check.lines.line(("steps", first)) if check.lines is not None else 0
            yield check.at(
                ("steps", number, "id"),
                f"duplicate step id '{step.id}'; first defined on line {first_line}",
            )
    starts = [s.id for s in check.version.steps if s.kind is StepKind.START]
    if not starts:
        yield check.at(("steps",), "no start step; exactly one step must have kind: start")
    elif len(starts) > 1:
        yield check.step_at(
            starts[1], f"several start steps ({', '.join(starts)}); exactly one is allowed"
        )
    if not any(s.kind is StepKind.END for s in check.version.steps):
        yield check.at(("steps",), "no end step; at least one step must have kind: end")
    version = check.version
    if version.based_on is not None and version.based_on >= version.version:
        yield check.at(
            ("based_on",),
            f"based_on {version.based_on} must name an earlier version than {version.version}",
        )


def _transition_problems(check: _Check) -> Iterator[Problem]:
    known = sorted(check.index)
    seen: dict[tuple[str, str], int] = {}
    for number, transition in enumerate(check.version.transitions):
        for end, step_id in (("from", transition.source), ("to", transition.target)):
            if step_id not in check.index:
                hint = _closest(step_id, known)
                listed = hint or f"; known steps: {', '.join(known)}"
                yield check.at(("transitions", number, end), f"unknown step '{step_id}'{listed}")
        pair = (transition.source, transition.target)
        first = seen.setdefault(pair, number)
        if first != number:
            line = check.lines.line(("transitions", first)) if check.lines is not None else 0
            yield check.at(
                ("transitions", number),
                f"duplicate transition {pair[0]} -> {pair[1]}; first on line {line}",
            )
    for number, transition in check.edges():
        source, target = (
            check.version.step(transition.source),
            check.version.step(transition.target),
        )
        if target.kind is StepKind.START:
            yield check.at(
                ("transitions", number, "to"),
                f"transition into start step '{target.id}'; a start step has no incoming transitions",
            )
        if source.kind is StepKind.END:
            yield check.at(
                ("transitions", number, "from"),
                f"transition out of end step '{source.id}'; an end step has no outgoing transitions",
            )


def _decision_problems(
    check: _Check, step: Step, out: list[tuple[int, Transition]]
) -> Iterator[Problem]:
    if len(out) < 2:
        yield check.step_at(
            step.id,
            f"decision '{step.id}' has {len(out)} outcome(s); a decision needs at least two",
        )
    outcomes: dict[str, int] = {}
    for number, transition in out:
        arrow = f"{transition.source} -> {transition.target}"
        if transition.outcome is None:
            yield check.at(
                ("transitions", number),
                f"transition {arrow} out of decision '{step.id}' has no outcome",
            )
        elif outcomes.setdefault(transition.outcome, number) != number:
            yield check.at(
                ("transitions", number, "outcome"),
                f"outcome '{transition.outcome}' is used twice by decision '{step.id}'",
            )
        if transition.probability is None:
            yield check.at(
                ("transitions", number),
                f"transition {arrow} out of decision '{step.id}' has no probability",
            )
    given = [t for _, t in out if t.probability is not None]
    total = math.fsum(t.p for t in given)
    if out and len(given) == len(out) and abs(total - 1.0) > PROBABILITY_TOLERANCE:
        parts = ", ".join(f"{t.outcome or '?'} {t.p:g} -> {t.target}" for t in given)
        yield check.step_at(
            step.id,
            f"probabilities of decision '{step.id}' sum to {round(total, 9):g}, not 1: {parts}",
        )


def _branching_problems(check: _Check) -> Iterator[Problem]:
    for number in check.index.values():
        step = check.version.steps[number]
        out = check.outgoing(step.id)
        if step.kind is StepKind.DECISION:
            yield from _decision_problems(check, step, out)
            continue
        if step.kind is StepKind.PARALLEL:
            if len(out) < 2:
                yield check.step_at(
                    step.id,
                    f"parallel '{step.id}' has {len(out)} branch(es); a parallel split needs at least two",
                )
        elif len(out) > 1 and step.kind is not StepKind.END:
            targets = ", ".join(t.target for _, t in out)
            yield check.step_at(
                step.id,
                f"{step.kind.value} step '{step.id}' has {len(out)} outgoing transitions (to {targets}); only decision and parallel steps may branch",
            )
        for number, transition in out:
            if transition.probability is not None:
                rule = (
                    "all branches of a parallel split are taken"
                    if step.kind is StepKind.PARALLEL
                    else "only transitions out of a decision carry one"
                )
                yield check.at(
                    ("transitions", number, "probability"),
                    f"probability on a transition out of {step.kind.value} step '{step.id}'; {rule}",
                )


def _forward(check: _Check) -> nx.DiGraph:
    """The graph without rework edges: what must be acyclic, and where dominance is judged."""
    forward = nx.DiGraph(check.graph)
    forward.remove_edges_from([(t.source, t.target) for _, t in check.edges() if t.rework])
    return forward


def _dominated_by_parallel(check: _Check, forward: nx.DiGraph, start: str, join: str) -> bool:
    dominators = nx.immediate_dominators(forward, start)
    node = join
    while node in dominators and dominators[node] != node:
        node = dominators[node]
        if check.version.step(node).kind is StepKind.PARALLEL:
            return True
    return False


def _join_problems(check: _Check, forward: nx.DiGraph) -> Iterator[Problem]:
    starts = [s.id for s in check.version.steps if s.kind is StepKind.START]
    for step in check.version.steps:
        if step.kind is not StepKind.JOIN:
            continue
        incoming = {t.source for _, t in check.edges() if t.target == step.id and not t.rework}
        if len(incoming) < 2:
            yield check.step_at(
                step.id,
                f"join '{step.id}' has {len(incoming)} incoming branch(es); a join needs at least two",
            )
        if len(starts) != 1 or not nx.has_path(forward, starts[0], step.id):
            continue
        if not _dominated_by_parallel(check, forward, starts[0], step.id):
            yield check.step_at(
                step.id,
                f"join '{step.id}' has no matching parallel split: no parallel step lies on every path from start to it",
            )


def _reach_problems(check: _Check) -> Iterator[Problem]:
    graph = check.graph
    starts = [s.id for s in check.version.steps if s.kind is StepKind.START]
    ends = [s.id for s in check.version.steps if s.kind is StepKind.END]
    reached = set(starts).union(*(nx.descendants(graph, s) for s in starts))
    finishing = set(ends).union(*(nx.ancestors(graph, e) for e in ends))
    for step_id in check.index:
        if starts and step_id not in reached:
            yield check.step_at(
                step_id, f"step '{step_id}' cannot be reached from the start step '{starts[0]}'"
            )
        if ends and step_id not in finishing:
            yield check.step_at(step_id, f"step '{step_id}' cannot reach an end step")


def _cycle_problems(check: _Check, forward: nx.DiGraph) -> Iterator[Problem]:
    graph = check.graph
    for number, transition in check.edges():
        if not transition.rework:
            continue
        pair = (transition.source, transition.target)
        without = nx.subgraph_view(graph, filter_edge=lambda a, b, pair=pair: (a, b) != pair)
        if pair[0] != pair[1] and not nx.has_path(without, pair[1], pair[0]):
            yield check.at(
                ("transitions", number, "rework"),
                f"rework transition {pair[0]} -> {pair[1]} does not loop back: '{pair[1]}' never leads back to '{pair[0]}'",
            )
    order = {pair: n for n, t in check.edges() for pair in [(t.source, t.target)]}
    for component in nx.strongly_connected_components(forward):
        looped = forward.subgraph(component)
        if len(component) == 1 and not nx.number_of_selfloops(looped):
            continue
        first = min(component, key=check.index.__getitem__)
        cycle = [edge[:2] for edge in nx.find_cycle(looped, source=first)]
        path = " -> ".join([cycle[0][0], *(target for _, target in cycle)])
        closing = max(order[edge] for edge in cycle)
        yield check.at(
            ("transitions", closing),
            f"cycle {path} has no rework transition; mark the transition that loops back with rework: true",
        )


def validate(
    version: Version,
    *,
    lanes: LaneCatalog,
    file: str = "",
    lines: LineMap | None = None,
) -> list[Problem]:
    """Every graph-rule problem of ``version``, sorted by line (an empty list when it is valid).

    ``file`` and ``lines`` (from :func:`engine.load.parse_yaml`) only place the problems.

    >>> from tests.factories import linear_version
    >>> from models.definition import Lane, LaneCatalog, Text
    >>> lanes = LaneCatalog(lanes=tuple(Lane(id=i, name=Text(nb=i, en=i)) for i in ("housing_office", "nav")))
    >>> validate(linear_version(), lanes=lanes)
    []
    """
    index: dict[str, int] = {}
    for number, step in enumerate(version.steps):
        index.setdefault(step.id, number)
    tags = {("steps", n): s.id for n, s in enumerate(version.steps)}
    tags |= {
        ("transitions", n): f"{t.source}->{t.target}" for n, t in enumerate(version.transitions)
    }
    check = _Check(version, lanes, file, lines, tags, index, to_graph(version))
    forward = _forward(check)
    problems = [
        *_lane_problems(check),
        *_step_problems(check),
        *_transition_problems(check),
        *_branching_problems(check),
        *_join_problems(check, forward),
        *_reach_problems(check),
        *_cycle_problems(check, forward),
    ]
    return sorted(problems)
