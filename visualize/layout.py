"""Flow positions of steps: a depth (column) and a sub-row inside the step's lane.

Computed in Python so that any renderer can pin nodes exactly; lane order then never depends on
a layout engine's crossing minimisation.

* ``depth`` = length of the longest path from a source, ignoring rework edges (and any other edge
  that would close a cycle).
* ``sub_row`` = 0 for the main row of a lane. A step reached only by a less likely outcome, a
  second parallel branch, or a removed ghost drops one row below its predecessor; a step whose
  slot is taken moves down to the next free row. Branches keep their row until they rejoin.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx

__all__ = ["acyclic_view", "flow_positions"]


def acyclic_view(graph: nx.DiGraph) -> nx.DiGraph:
    """``graph`` without rework edges and without the back edges of any remaining cycle.

    >>> g = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "b")])
    >>> sorted(acyclic_view(g).edges)
    [('a', 'b'), ('b', 'c')]
    """
    dag = nx.DiGraph()
    dag.add_nodes_from(graph.nodes(data=True))
    dag.add_edges_from(
        (u, v, d) for u, v, d in graph.edges(data=True) if not d.get("rework", False)
    )
    roots = [n for n in dag if dag.in_degree(n) == 0] or list(dag)[:1]
    while not nx.is_directed_acyclic_graph(dag):
        back = _back_edges(dag, roots)
        if not back:  # a cycle unreachable from the roots: cut any edge of it
            back = [nx.find_cycle(dag)[0][:2]]
        dag.remove_edges_from(back)
    return dag


def _back_edges(dag: nx.DiGraph, roots: Sequence[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for u, v, direction in nx.dfs_labeled_edges(dag, source=None if not roots else roots[0]):
        if direction == "nontree" and v in nx.ancestors(dag, u) | {u}:
            found.append((u, v))
    return found


def _main_edges(dag: nx.DiGraph) -> set[tuple[str, str]]:
    """Per node, its most likely outgoing edge (the first declared on a tie)."""
    main: set[tuple[str, str]] = set()
    for node in dag:
        out = [(v, d) for _, v, d in dag.out_edges(node, data=True) if not d.get("ghost")]
        if out:
            best = max(out, key=lambda vd: vd[1].get("probability") or 0.0)
            main.add((node, best[0]))
    return main


def flow_positions(graph: nx.DiGraph, lane_order: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Step id → (depth, sub_row). Nodes need a ``lane`` attribute; ``ghost`` is optional.

    >>> g = nx.DiGraph()
    >>> g.add_nodes_from([("s", {"lane": "a"}), ("d", {"lane": "a"}),
    ...                   ("y", {"lane": "a"}), ("n", {"lane": "a"})])
    >>> g.add_edge("s", "d"); g.add_edge("d", "y", probability=0.8)
    >>> g.add_edge("d", "n", probability=0.2)
    >>> flow_positions(g, ["a"])
    {'s': (0, 0), 'd': (1, 0), 'y': (2, 0), 'n': (2, 1)}
    """
    dag = acyclic_view(graph)
    order = list(nx.topological_sort(dag))
    depth: dict[str, int] = {}
    for node in order:
        depth[node] = max((depth[p] + 1 for p in dag.predecessors(node)), default=0)
    main = _main_edges(dag)
    index = {node: i for i, node in enumerate(graph.nodes)}
    rows: dict[str, int] = {}
    taken: set[tuple[str, int, int]] = set()
    for level in sorted(set(depth.values())):
        wanted = {n: _wanted_row(dag, n, rows, main) for n in order if depth[n] == level}
        minor = {n: not any((p, n) in main for p in dag.predecessors(n)) for n in wanted}
        for node in sorted(wanted, key=lambda n: (wanted[n], minor[n] and level > 0, index[n])):
            lane, row = dag.nodes[node].get("lane", ""), wanted[node]
            while (lane, level, row) in taken:
                row += 1
            taken.add((lane, level, row))
            rows[node] = row
    return {node: (depth[node], rows[node]) for node in graph.nodes}


def _wanted_row(
    dag: nx.DiGraph, node: str, rows: dict[str, int], main: set[tuple[str, str]]
) -> int:
    """The row a node would like: its same-lane predecessor's row, one lower off the main edge."""
    lane = dag.nodes[node].get("lane")
    ghost = bool(dag.nodes[node].get("ghost"))
    options = [
        rows[p] + (0 if (p, node) in main and not ghost else 1)
        for p in dag.predecessors(node)
        if dag.nodes[p].get("lane") == lane
    ]
    wanted = min(options, default=0)
    return max(wanted, 1) if ghost else wanted
