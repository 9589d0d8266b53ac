"""The step pairs a version allows: which completed step may follow which, and what a run
skipped when it jumps ahead.

A pair (first, second) of consecutive completed steps is allowed when the second follows the
first along one transition, possibly through steps the engine completes by itself (start, auto,
parallel, join: :data:`ENGINE_KINDS`), which imported logs may leave out, or when the two lie on
different branches of one parallel block (branches interleave). :data:`BEGINNING` (``""``) stands
before a run's first step. :func:`skipped_steps` walks the allowed pairs breadth first from every
step: a pair that is not allowed but reachable skipped the steps on one shortest path;
:func:`end_skips` does the same towards the nearest end step. Python walks only the version's
graph (a few dozen steps), once per check; :mod:`boflyt.analysis.conformance` applies the result
to a whole log column-wise.
"""

from __future__ import annotations

from collections import deque

from boflyt.analysis.chain import parallel_blocks
from boflyt.models.definition import Version
from boflyt.models.vocabulary import StepKind

__all__ = ["BEGINNING", "ENGINE_KINDS", "allowed_pairs", "end_skips", "skipped_steps"]

ENGINE_KINDS = frozenset({StepKind.START, StepKind.AUTO, StepKind.PARALLEL, StepKind.JOIN})
"""The kinds of step the engine completes by itself: a pair may pass through them."""
BEGINNING = ""
"""The step before a run's first completed step."""


def allowed_pairs(version: Version) -> set[tuple[str, str]]:
    """Every (step, next completed step) pair the graph allows; ``""`` marks the beginning.

    >>> from tests.factories import linear_version
    >>> sorted(allowed_pairs(linear_version()))  # doctest: +NORMALIZE_WHITESPACE
    [('', 'a'), ('', 'start'), ('a', 'b'), ('b', 'end'), ('start', 'a')]
    """
    successors: dict[str, list[str]] = {s.id: [] for s in version.steps}
    for t in version.transitions:
        successors.setdefault(t.source, []).append(t.target)
    kinds = {s.id: s.kind for s in version.steps}
    pairs: set[tuple[str, str]] = set()
    for step in version.steps:
        stack, seen = list(successors[step.id]), set()
        while stack:
            nxt = stack.pop()
            if nxt in seen:
                continue
            seen.add(nxt)
            pairs.add((step.id, nxt))
            if kinds.get(nxt) in ENGINE_KINDS:
                stack.extend(successors.get(nxt, []))
    start = next((s.id for s in version.steps if s.kind is StepKind.START), None)
    if start is not None:
        pairs.add((BEGINNING, start))
        pairs |= {(BEGINNING, b) for a, b in list(pairs) if a == start}
    for block in parallel_blocks(version):
        for i, one in enumerate(block.branches):
            for other in block.branches[i + 1 :]:
                pairs |= {(u, v) for u in one for v in other}
                pairs |= {(v, u) for u in one for v in other}
    return pairs


def skipped_steps(version: Version) -> dict[tuple[str, str], tuple[str, ...]]:
    """For every pair of steps the graph does not allow but whose second step is reachable
    from the first: the steps a run skipped, on one shortest path of allowed pairs.

    ``""`` as the first step is the beginning. A pair missing here (and from
    :func:`allowed_pairs`) is a log move.

    >>> from tests.factories import linear_version
    >>> skips = skipped_steps(linear_version())
    >>> skips[("start", "b")], skips[("", "end")]
    (('a',), ('a', 'b'))
    """
    following: dict[str, list[str]] = {}
    for a, b in sorted(allowed_pairs(version)):
        following.setdefault(a, []).append(b)
    kinds = {s.id: s.kind for s in version.steps}
    skipped: dict[tuple[str, str], tuple[str, ...]] = {}
    for source in (BEGINNING, *kinds):
        parent = _shortest_paths(source, following, kinds)
        for target in parent:
            path = _path(parent, target)
            if len(path) > 1:
                skipped[(source, target)] = path[:-1]
    return skipped


def _shortest_paths(
    source: str, following: dict[str, list[str]], kinds: dict[str, StepKind]
) -> dict[str, str | None]:
    """Breadth first from ``source`` over allowed pairs: each reached step's step before it
    (None: reached in one pair). Engine steps are reached but never passed through."""
    parent: dict[str, str | None] = {}
    queue: deque[tuple[str, str | None]] = deque((b, None) for b in following.get(source, []))
    while queue:
        step, before = queue.popleft()
        if step in parent or step == source:
            continue
        parent[step] = before
        if kinds.get(step) not in ENGINE_KINDS and kinds.get(step) is not StepKind.END:
            queue.extend((b, step) for b in following.get(step, []))
    return parent


def _path(parent: dict[str, str | None], target: str) -> tuple[str, ...]:
    """The steps from the source's first successor to ``target``, both included."""
    path = [target]
    while (before := parent[path[-1]]) is not None:
        path.append(before)
    return tuple(reversed(path))


def end_skips(version: Version) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """For each step not one pair from an end step: the nearest end step and the steps a
    finished run stopping there skipped on the way. End steps themselves are left out."""
    ends = {s.id for s in version.steps if s.kind is StepKind.END}
    allowed = allowed_pairs(version)
    near = {a for a, b in allowed if b in ends} | ends
    found: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    for (a, b), skipped in sorted(skipped_steps(version).items(), key=lambda kv: len(kv[1])):
        if a and b in ends and a not in near and a not in found:
            found[a] = (a, b, skipped)
    return found
