"""The directly-follows graph of a log: its edges filtered by share and mended, its loops found.

Plain data in, plain data out: an edge is ``(source, target)`` with a count (:data:`Edges`).
:func:`filtered` keeps the edges that carry enough of what leaves their source and brings back
the fewest, most frequent ones a step needs to be reached or to end; :func:`back_edges` finds
the edges that close loops, as a depth-first walk meets them, so that the graph without them
has no cycle. :mod:`boflyt.analysis.discovery` builds the graph from a log's traces.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable

__all__ = ["Edges", "back_edges", "filtered", "reached"]

Edges = dict[tuple[str, str], int]
"""Directly-follows counts: (source step, target step) → how often."""


def reached(
    edges: Iterable[tuple[str, str]], roots: Collection[str], *, back: bool = False
) -> set[str]:
    """The steps reached from ``roots`` along ``edges`` (against them when ``back``).

    >>> sorted(reached({("a", "b"), ("b", "c"), ("x", "c")}, {"a"}))
    ['a', 'b', 'c']
    >>> sorted(reached({("a", "b"), ("b", "c"), ("x", "c")}, {"c"}, back=True))
    ['a', 'b', 'c', 'x']
    """
    step: defaultdict[str, list[str]] = defaultdict(list)
    for source, target in edges:
        step[target if back else source].append(source if back else target)
    seen, todo = set(roots), list(roots)
    while todo:
        for other in step[todo.pop()]:
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def _mend(
    edges: Edges, kept: Edges, roots: Collection[str], steps: set[str], *, back: bool
) -> None:
    """Add to ``kept`` the most frequent edge of ``edges`` that reaches (or, ``back``, leads to)
    a step ``roots`` miss, until none is missed: a step the full graph reaches is always
    reached again, since the first edge on its way out of the reached steps is one of them."""
    while True:
        found = reached(kept, roots, back=back)
        if found >= steps:
            return
        missing = [(-n, (s, t)) for (s, t), n in edges.items() if (s, t) not in kept
                   and ((t in found and s not in found) if back
                        else (s in found and t not in found))]  # fmt: skip
        if not missing:
            return
        count, edge = min(missing)
        kept[edge] = -count


def filtered(
    edges: Edges, *, start: str, ends: Collection[str], share: float
) -> tuple[Edges, tuple[tuple[str, str, int], ...]]:
    """The edges carrying at least ``share`` of what leaves their source, mended so that every
    step of ``edges`` is reached from ``start`` and reaches one of ``ends`` as it did in the
    full graph; and the edges dropped (source, target, count).

    >>> edges = {("s", "a"): 9, ("s", "b"): 2, ("a", "e"): 9, ("b", "e"): 1, ("a", "b"): 1}
    >>> kept, dropped = filtered(edges, start="s", ends={"e"}, share=0.2)
    >>> sorted(kept), dropped  # b is rare, but only s -> b reaches it: the most frequent way in
    ([('a', 'e'), ('b', 'e'), ('s', 'a'), ('s', 'b')], (('a', 'b', 1),))
    """
    out: Counter[str] = Counter()
    for (source, _), n in edges.items():
        out[source] += n
    kept = {e: n for e, n in edges.items() if n >= share * out[e[0]]}
    steps = {step for edge in edges for step in edge} | {start}
    _mend(edges, kept, {start}, steps, back=False)
    _mend(edges, kept, set(ends), steps, back=True)
    dropped = tuple((s, t, n) for (s, t), n in edges.items() if (s, t) not in kept)
    return dict(sorted(kept.items())), dropped


def back_edges(edges: Edges, start: str) -> set[tuple[str, str]]:
    """The edges a depth-first walk from ``start`` (most frequent edge first, then by name)
    finds going back to a step on its current path: loops and repeats. Without them the graph
    has no cycle, and each goes back to a step on the way from ``start`` to its source.

    >>> sorted(back_edges({("s", "a"): 5, ("a", "b"): 5, ("b", "a"): 2, ("b", "b"): 1}, "s"))
    [('b', 'a'), ('b', 'b')]
    """
    out: defaultdict[str, list[tuple[int, str]]] = defaultdict(list)
    for (source, target), n in edges.items():
        out[source].append((-n, target))
    walk = {source: iter(sorted(targets)) for source, targets in out.items()}
    on_path, done, back = {start}, set(), set()
    path = [start]
    while path:
        node = path[-1]
        following = next(walk.get(node, iter(())), None)
        if following is None:
            on_path.discard(node)
            done.add(node)
            path.pop()
            continue
        target = following[1]
        if target in on_path:
            back.add((node, target))
        elif target not in done:
            on_path.add(target)
            path.append(target)
    return back
