"""Conformance: does the version's graph allow the path each run took?

A run is the sequence of a case's completed steps in ``seq`` order. Each consecutive pair of
them is checked against the pairs the version allows
(:func:`~boflyt.analysis.step_pairs.allowed_pairs`): the second step
follows the first along one transition, possibly through steps the engine completes by itself
(start, auto, parallel, join) — which imported logs may leave out — or the two steps lie on
different branches of one parallel block (branches interleave). The first completed step must
be the start step or reachable from it the same way.

A pair the version does not allow is a *deviation*, of one of two kinds, after the *moves* of
an alignment in process mining:

* a **log move**: the run completed a step the version does not allow there (the step is not
  reachable from the one before it, or the version has no such step at all);
* **model moves**: the step is reachable, but only through steps the run left out; each left-out
  step on the shortest such path is one model move (a step the version requires that the run
  skipped). A finished run whose last step is not an end step (nor one hop before one) skipped
  the steps on the shortest path to an end step the same way.

A step the version does not know is never the step before in a pair: the next step is checked
against the last known step before it, so one unexpected activity counts once.

**Fitness** of a run = 1 − (log moves + model moves) ÷ (steps in the run + model moves), where
steps in the run leaves out the engine's own steps (start, auto, parallel, join, end) of the
version checked against, so logs with and without them compare. 1 is a run the version allows
as it is; 0 a run of nothing but deviations. It has the form of the move-based alignment
fitness (Adriansyah, van Dongen and van der Aalst, *Conformance checking using cost-based
fitness analysis*, EDOC 2011: every log move and model move costs 1), but the moves are found
pair by pair, not by an optimal alignment, so the figure approximates alignment fitness against
the version's pair relation from either side: a step done too early then again in its place
counts as a skip and a log move where an alignment needs one log move; a run that jumps to
another branch is checked on from the step it jumped to, where an alignment may need more
moves. The pair relation itself is looser
than the version: it does not see a parallel branch left out entirely, or two choices of one
decision taken in one run far apart; those runs conform here. Token-based replay (Rozinat and
van der Aalst 2008) would see the missing branch but needs a Petri net, which a version is not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl

from boflyt.analysis.step_pairs import (
    BEGINNING,
    ENGINE_KINDS,
    allowed_pairs,
    end_skips,
    skipped_steps,
)
from boflyt.models.definition import Version
from boflyt.models.vocabulary import EventKind, StepKind

__all__ = ["LOG_MOVE", "MODEL_MOVE", "Conformance", "completed_paths", "conformance"]

_OWN = ENGINE_KINDS | {StepKind.END}
"""The steps a run's step count leaves out: the engine completes them by itself."""
_SEQ_SPAN = 1 << 32
_PAIR_SPAN = 1 << 32
LOG_MOVE, MODEL_MOVE = "log", "model"


@dataclass(frozen=True)
class Conformance:
    """How many runs the version's graph allows, their fitness, and where the others deviate."""

    process: str
    version: int
    runs: int
    conforming: int
    deviations: pl.DataFrame
    """case_id, position (1 = first completed step), from_step ("" at the beginning), to_step:
    the first disallowed pair of each non-conforming run (for a finished run that stopped short
    of an end step: position one past its last step, to_step the end step)."""
    cases: pl.DataFrame | None = None
    """One row per run: case_id, process and version (the run's own), steps, log_moves,
    model_moves, fitness, and its first deviation (position, from_step, to_step, move: "log"
    or "model"; null when it conforms)."""
    steps: pl.DataFrame | None = None
    """Deviations by step, in the version's step order then unknown steps: step, first (runs
    whose first deviation arrives at it), log_moves (completed where not allowed), model_moves
    (skipped), predecessor (the most common step before it in a disallowed pair) and
    predecessor_count."""

    @property
    def share(self) -> float | None:
        """Conforming runs ÷ runs, or None when there are no runs."""
        return self.conforming / self.runs if self.runs else None

    @property
    def mean_fitness(self) -> float | None:
        """The runs' mean fitness, or None when there are no runs."""
        if self.cases is None or self.cases.is_empty():
            return None
        mean = self.cases["fitness"].mean()
        return float(mean) if isinstance(mean, (int, float)) else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "process": self.process,
            "version": self.version,
            "runs": self.runs,
            "conforming": self.conforming,
            "share": self.share,
            "mean_fitness": self.mean_fitness,
            "deviations": self.deviations.to_dicts(),
            "by_step": [] if self.steps is None else self.steps.to_dicts(),
        }


def completed_paths(events: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """The step_completed rows of a log, sorted by case and ``seq``.

    Columns: c (an integer case code; taken from the log when it has one), case_id, seq, step,
    process, version, and touch_minutes, transactions and org when the log has them.
    """
    frame = _coded(events.lazy())
    names = frame.collect_schema().names()
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


def _coded(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The log with its integer case code ``c`` (taken from the log when it has one)."""
    if "c" in frame.collect_schema().names():
        return frame
    code = pl.col("case_id").cast(pl.String).cast(pl.Categorical).to_physical()
    return frame.with_columns(code.cast(pl.Int64).alias("c"))


def conformance(
    events: pl.DataFrame | pl.LazyFrame,
    version: Version,
    *,
    case_ids: pl.DataFrame | pl.LazyFrame | None = None,
    finished: pl.DataFrame | pl.LazyFrame | None = None,
    every_run: bool = False,
    ends: bool = True,
) -> Conformance:
    """Check the runs of an event log against ``version``'s graph: which conform, each run's
    fitness and first deviation, and the deviations by step.

    Only the log's runs of this process and version number are checked, unless ``every_run``:
    then every run in the log is, whatever version it ran on (a log against a redesign). A run
    is a case with at least one completed step. The log may also be :func:`completed_paths` of
    a log, in which case ``case_ids`` (columns c, case_id) may name the cases instead of a
    ``case_id`` column, and ``finished`` (column c) names the finished cases; a log with a
    ``kind`` column tells them by its case_finished events. A finished run must have reached
    an end step (see the module's text); without either, or with ``ends`` false (a log cut at
    a date, or of one phase of a longer process), runs are not checked at their end.

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
    >>> result.cases.select("case_id", "steps", "model_moves", "fitness").rows()
    [('c1', 2, 0, 1.0), ('c2', 1, 1, 0.5)]
    """
    frame = events.lazy()
    if "kind" in frame.collect_schema().names():
        frame = _coded(frame)
        if finished is None:
            done = pl.col("kind").cast(pl.String) == EventKind.CASE_FINISHED.value
            finished = frame.filter(done).select("c")
        frame = completed_paths(frame)
    names = frame.select("c", "case_id") if case_ids is None else case_ids.lazy()
    if not every_run:
        mine = (pl.col("process") == version.process) & (pl.col("version") == version.version)
        frame = frame.filter(mine)
    runs = frame.select(
        "c", pl.col("step").cast(pl.Categorical).alias("to_step"),
        pl.col("process").cast(pl.String), pl.col("version").cast(pl.Int64),
    )  # fmt: skip
    moves = _moves(runs, version).collect().lazy()
    stopped = None if finished is None or not ends else finished.lazy().select("c").unique()
    cases = _cases(moves, version, stopped).collect().lazy()
    case_frame, steps = pl.collect_all([_named(cases, names), _by_step(moves, cases, version)])
    failing = case_frame.filter(pl.col("move").is_not_null())
    deviations = failing.select("case_id", "position", "from_step", "to_step")
    total = case_frame.height
    return Conformance(
        version.process, version.version, total, total - failing.height, deviations,
        case_frame, steps,
    )  # fmt: skip


def _code(column: str | pl.Expr) -> pl.Expr:
    """A categorical column's 32-bit code, widened for packing into a 64-bit pair."""
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.to_physical().cast(pl.UInt64)


def _pair(a: str | pl.Expr, b: str | pl.Expr) -> pl.Expr:
    return _code(a) * _PAIR_SPAN + _code(b)


def _verdicts(version: Version) -> pl.LazyFrame:
    """pair (packed codes) → model_moves: 0 for an allowed pair, else the steps skipped."""
    allowed = [(a, b, 0) for a, b in sorted(allowed_pairs(version))]
    skips = [(a, b, len(s)) for (a, b), s in sorted(skipped_steps(version).items())]
    rows = allowed + skips
    frame = pl.LazyFrame(
        {"a": [r[0] for r in rows], "b": [r[1] for r in rows], "model_moves": [r[2] for r in rows]},
        schema={"a": pl.Categorical, "b": pl.Categorical, "model_moves": pl.Int64},
    )
    return frame.select(_pair("a", "b").alias("pair"), "model_moves")


def _moves(runs: pl.LazyFrame, version: Version) -> pl.LazyFrame:
    """Each completed step of the runs as a move: c, i (row), to_step, from_step (the last
    step before it the version knows; "" at the beginning), counted (not an engine step of the
    version), known, log (a log move) and model_moves (steps skipped to get there)."""
    case = pl.col("c")
    first_row = (case != case.shift(1)) | pl.int_range(pl.len()).eq(0)
    known = pl.col("to_step").is_in([s.id for s in version.steps])
    own = pl.col("to_step").is_in([s.id for s in version.steps if s.kind in _OWN])
    before = pl.when(known).then(pl.col("to_step")).shift(1)
    previous = pl.when(first_row).then(pl.lit(BEGINNING, pl.Categorical)).otherwise(before)
    verdict = pl.col("model_moves")
    return (
        runs.with_row_index("i")
        .with_columns(
            previous.forward_fill().alias("from_step"), known.alias("known"),
            (~own).alias("counted"), first_row.alias("first"),
        )
        .with_columns(_pair("from_step", "to_step").alias("pair"))
        .join(_verdicts(version), on="pair", how="left", maintain_order="left")
        .with_columns(verdict.is_null().alias("log"), verdict.fill_null(0))
        .drop("pair")
    )  # fmt: skip


def _cases(moves: pl.LazyFrame, version: Version, ends: pl.LazyFrame | None) -> pl.LazyFrame:
    """One row per run (code c): its counts, fitness and first deviation (text categorical)."""
    dev = pl.col("log") | (pl.col("model_moves") > 0)
    per = moves.group_by("c", maintain_order=True).agg(
        pl.col("process", "version").first(), pl.col("counted").sum().alias("steps"),
        pl.col("log").sum().cast(pl.Int64).alias("log_moves"), pl.col("model_moves").sum(),
        pl.len().alias("n"), pl.col("i").first().alias("i0"),
        pl.col("i").filter(dev).first().alias("at"), pl.col("log").filter(dev).first(),
        pl.col("from_step", "to_step").filter(dev).first(),
        pl.col("to_step").filter(pl.col("known")).last().alias("last"),
    )  # fmt: skip
    if ends is None:
        per = per.with_columns(pl.lit(None, pl.Categorical).alias("end"), end_moves=pl.lit(0))
    else:
        done = ends.with_columns(pl.lit(True).alias("finished"))
        per = per.join(done, on="c", how="left").join(_end_table(version), on="last", how="left")
        stop = pl.col("finished").fill_null(False) & pl.col("end_moves").is_not_null()
        per = per.with_columns(
            pl.when(stop).then("end"), pl.when(stop).then("end_moves").otherwise(0)
        )
    paired, stopped = pl.col("at").is_not_null(), pl.col("end_moves") > 0
    model = pl.col("model_moves") + pl.col("end_moves")
    steps = pl.col("steps").cast(pl.Int64)
    moved = (pl.col("log_moves") + model).cast(pl.Float64)
    fitness = pl.when(steps + model > 0).then(1 - moved / (steps + model)).otherwise(1.0)
    kind = pl.when(pl.col("log")).then(pl.lit(LOG_MOVE)).otherwise(pl.lit(MODEL_MOVE))
    return per.select(
        "c", "process", "version", steps.alias("steps"), "log_moves", model.alias("model_moves"),
        fitness.clip(0.0, 1.0).alias("fitness"),
        pl.when(paired).then(pl.col("at") - pl.col("i0") + 1).when(stopped).then(pl.col("n") + 1)
        .cast(pl.Int64).alias("position"),
        pl.when(paired).then(pl.col("from_step")).when(stopped).then(pl.col("last"))
        .alias("from_step"),
        pl.when(paired).then(pl.col("to_step")).when(stopped).then(pl.col("end"))
        .alias("to_step"),
        pl.when(paired).then(kind).when(stopped).then(pl.lit(MODEL_MOVE)).alias("move"),
        "last", "end", "end_moves",
    )  # fmt: skip


def _end_table(version: Version) -> pl.LazyFrame:
    """last (a step) → end (the nearest end step) and end_moves (steps skipped to reach it)."""
    paths = end_skips(version).values()
    return pl.LazyFrame(
        {"last": [p[0] for p in paths], "end": [p[1] for p in paths],
         "end_moves": [len(p[2]) for p in paths]},
        schema={"last": pl.Categorical, "end": pl.Categorical, "end_moves": pl.Int64},
    )  # fmt: skip


def _named(cases: pl.LazyFrame, names: pl.LazyFrame) -> pl.LazyFrame:
    """The per-run table as :attr:`Conformance.cases` has it: named, text, by case id."""
    return (
        cases.join(names.unique("c", keep="first"), on="c", how="left")
        .select(
            pl.col("case_id").cast(pl.String), "process", "version", "steps", "log_moves",
            "model_moves", "fitness", "position",
            pl.col("from_step", "to_step").cast(pl.String), "move",
        )
        .sort("case_id")
    )  # fmt: skip


def _skip_lists(pairs: Iterable[tuple[str, str, tuple[str, ...]]]) -> pl.LazyFrame:
    rows = list(pairs)
    return pl.LazyFrame(
        {"a": [r[0] for r in rows], "b": [r[1] for r in rows],
         "skipped": [list(r[2]) for r in rows]},
        schema={"a": pl.Categorical, "b": pl.Categorical, "skipped": pl.List(pl.String)},
    )  # fmt: skip


def _by_step(moves: pl.LazyFrame, cases: pl.LazyFrame, version: Version) -> pl.LazyFrame:
    """The deviations by step (see :attr:`Conformance.steps`)."""
    to = pl.col("to_step").cast(pl.String).alias("step")
    one = pl.lit(1, pl.Int64)
    skip = _skip_lists((a, b, s) for (a, b), s in skipped_steps(version).items())
    ends = _skip_lists(end_skips(version).values())
    model = moves.filter(~pl.col("log") & (pl.col("model_moves") > 0))
    pair = _pair("from_step", "to_step").alias("pair")
    skipped = pl.concat([
        model.with_columns(pair).join(skip.select(_pair("a", "b").alias("pair"), "skipped"),
                                      on="pair").select("skipped"),
        cases.filter(pl.col("end_moves") > 0).join(ends, left_on=["last", "end"],
                                                   right_on=["a", "b"]).select("skipped"),
    ]).explode("skipped").select(pl.col("skipped").alias("step"), model_moves=one)  # fmt: skip
    counts = pl.concat(
        [
            moves.filter("log").select(to, log_moves=one),
            skipped,
            cases.filter(pl.col("move").is_not_null()).select(to, first=one),
        ],
        how="diagonal",
    )
    wrong = pl.concat([
        moves.filter(pl.col("log") | (pl.col("model_moves") > 0)).select("to_step", "from_step"),
        cases.filter(pl.col("end_moves") > 0).select(pl.col("end").alias("to_step"),
                                                     pl.col("last").alias("from_step")),
    ]).select(to, pl.col("from_step").cast(pl.String).alias("predecessor"))  # fmt: skip
    before = (
        wrong.group_by("step", "predecessor")
        .agg(pl.len().cast(pl.Int64).alias("predecessor_count"))
        .sort(["step", "predecessor_count", "predecessor"], descending=[False, True, False])
        .group_by("step", maintain_order=True).first()
    )  # fmt: skip
    order = pl.LazyFrame({"step": [s.id for s in version.steps],
                          "order": range(len(version.steps))})  # fmt: skip
    tallies = ("first", "log_moves", "model_moves")
    return (
        counts.group_by("step").agg(pl.col(*tallies).sum().cast(pl.Int64))
        .join(before, on="step", how="left")
        .join(order, on="step", how="left")
        .sort(pl.col("order").fill_null(len(version.steps)), "step")
        .select("step", *tallies, "predecessor", "predecessor_count")
    )  # fmt: skip
