"""Conformance: does the version's graph allow the path each run took?

A run conforms when every consecutive pair of its completed steps (in ``seq`` order) is
allowed: the second step follows the first along one transition, possibly through steps the
engine completes by itself (start, auto, parallel, join) — which imported logs may leave out —
or the two steps lie on different branches of one parallel block (branches interleave). The
first completed step must be the start step or reachable from it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from boflyt.analysis.chain import parallel_blocks
from boflyt.models.definition import Version
from boflyt.models.vocabulary import EventKind, StepKind

__all__ = ["Conformance", "allowed_pairs", "completed_paths", "conformance"]

_ENGINE = frozenset({StepKind.START, StepKind.AUTO, StepKind.PARALLEL, StepKind.JOIN})
_SEQ_SPAN = 1 << 32
_PAIR_SPAN = 1 << 32
_BEGINNING = ""
"""The ``from_step`` of a run's first completed step."""


@dataclass(frozen=True)
class Conformance:
    """How many runs of one version its graph allows, and where the others first deviate."""

    process: str
    version: int
    runs: int
    conforming: int
    deviations: pl.DataFrame
    """case_id, position (1 = first completed step), from_step ("" at the beginning), to_step:
    the first disallowed pair of each non-conforming run."""

    @property
    def share(self) -> float | None:
        """Conforming runs ÷ runs, or None when there are no runs."""
        return self.conforming / self.runs if self.runs else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "process": self.process,
            "version": self.version,
            "runs": self.runs,
            "conforming": self.conforming,
            "share": self.share,
            "deviations": self.deviations.to_dicts(),
        }


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
            if kinds.get(nxt) in _ENGINE:
                stack.extend(successors.get(nxt, []))
    start = next((s.id for s in version.steps if s.kind is StepKind.START), None)
    if start is not None:
        pairs.add((_BEGINNING, start))
        pairs |= {(_BEGINNING, b) for a, b in list(pairs) if a == start}
    for block in parallel_blocks(version):
        for i, one in enumerate(block.branches):
            for other in block.branches[i + 1 :]:
                pairs |= {(u, v) for u in one for v in other}
                pairs |= {(v, u) for u in one for v in other}
    return pairs


def completed_paths(events: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """The step_completed rows of a log, sorted by case and ``seq``.

    Columns: c (an integer case code; taken from the log when it has one), case_id, seq, step,
    process, version, and touch_minutes, transactions and org when the log has them.
    """
    frame = events.lazy()
    names = frame.collect_schema().names()
    if "c" not in names:
        code = pl.col("case_id").cast(pl.String).cast(pl.Categorical).to_physical()
        frame = frame.with_columns(code.cast(pl.Int64).alias("c"))
    extra = [
        pl.col(name).cast(dtype)
        for name, dtype in (("touch_minutes", pl.Float64), ("transactions", pl.Int64),
                            ("org", pl.String))
        if name in names
    ]  # fmt: skip
    order = pl.col("c") * _SEQ_SPAN + pl.col("seq").cast(pl.Int64)
    return (
        frame.filter(pl.col("kind") == EventKind.STEP_COMPLETED.value)
        .select(
            "c", pl.col("case_id").cast(pl.String), pl.col("seq").cast(pl.Int64),
            pl.col("step").cast(pl.String).fill_null("?"), pl.col("process").cast(pl.String),
            pl.col("version").cast(pl.Int64), *extra,
        )
        .sort(order)
    )  # fmt: skip


def conformance(
    events: pl.DataFrame | pl.LazyFrame,
    version: Version,
    *,
    case_ids: pl.DataFrame | pl.LazyFrame | None = None,
) -> Conformance:
    """Check every run of ``version`` in an event log against the version's graph.

    Only the log's rows with this process and version number are checked; a run is a case
    with at least one completed step. The log may also be :func:`completed_paths` of a log,
    in which case ``case_ids`` (columns c, case_id) may name the cases instead of a
    ``case_id`` column.

    Raises:
        polars.exceptions.ColumnNotFoundError: when the log lacks case_id, seq, kind, step,
            process or version.

    >>> from tests.factories import linear_version
    >>> log = pl.DataFrame({"case_id": ["c1"] * 3 + ["c2"] * 2, "seq": [1, 2, 3, 1, 2],
    ...     "kind": ["step_completed"] * 5, "step": ["start", "a", "b", "start", "b"],
    ...     "process": "test_process", "version": 1})
    >>> result = conformance(log, linear_version())
    >>> result.share, result.deviations.row(0)
    (0.5, ('c2', 2, 'start', 'b'))
    """
    frame = events.lazy()
    if "kind" in frame.collect_schema().names():
        frame = completed_paths(frame)
    names = frame.select("c", "case_id") if case_ids is None else case_ids.lazy()
    runs = frame.filter(
        (pl.col("process") == version.process) & (pl.col("version") == version.version)
    ).select("c", pl.col("step").cast(pl.Categorical).alias("to_step"))
    count, found = pl.collect_all(
        [runs.select(pl.col("c").n_unique()), _deviations(runs, _allowed(version), names)]
    )
    total = int(count.item())
    return Conformance(version.process, version.version, total, total - found.height, found)


def _code(column: str | pl.Expr) -> pl.Expr:
    """A categorical column's 32-bit code, widened for packing into a 64-bit pair."""
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.to_physical().cast(pl.UInt64)


def _allowed(version: Version) -> pl.LazyFrame:
    """The allowed (step, next step) pairs as packed categorical codes, column ``pair``."""
    pairs = sorted(allowed_pairs(version))
    frame = pl.LazyFrame({"a": [a for a, _ in pairs], "b": [b for _, b in pairs]})
    text = pl.col("a", "b").cast(pl.Categorical)
    return frame.with_columns(text).select((_code("a") * _PAIR_SPAN + _code("b")).alias("pair"))


def _deviations(runs: pl.LazyFrame, allowed: pl.LazyFrame, names: pl.LazyFrame) -> pl.LazyFrame:
    """case_id, position, from_step, to_step of each run's first disallowed pair.

    ``runs`` holds c and to_step (categorical) in case and ``seq`` order; pairs are compared
    as packed codes (an anti-join on one 64-bit key), and only the few deviating rows are
    turned back into text.
    """
    case = pl.col("c")
    first_row = (case != case.shift(1)) | pl.int_range(pl.len()).eq(0)
    previous = (
        pl.when(first_row)
        .then(pl.lit(_BEGINNING, pl.Categorical))
        .otherwise(pl.col("to_step").shift(1))
        .alias("from_step")
    )
    rows = runs.with_row_index("i").with_columns(previous)
    starts = rows.filter(first_row).select("c", pl.col("i").alias("i0"))
    return (
        rows.with_columns((_code("from_step") * _PAIR_SPAN + _code("to_step")).alias("pair"))
        .join(allowed, on="pair", how="anti")
        .group_by("c")
        .agg(pl.all().sort_by("i").first())
        .join(starts, on="c")
        .join(names.unique("c", keep="first"), on="c", how="left")
        .select(
            pl.col("case_id").cast(pl.String),
            (pl.col("i") - pl.col("i0") + 1).cast(pl.Int64).alias("position"),
            pl.col("from_step", "to_step").cast(pl.String),
        )
        .sort("case_id")
    )
