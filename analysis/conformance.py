"""Conformance: does the version's graph allow the path each run took?

A run is the sequence of a case's completed steps in ``seq`` order, replayed against the pairs
of steps the version allows (:mod:`boflyt.analysis.step_pairs`): the second step follows the
first along one transition, possibly through steps the engine completes by itself (start, auto,
parallel, join) — which imported logs may leave out — or the two steps lie on different branches
of one parallel block (branches interleave). The first completed step must be the start step or
reachable from it the same way.

The replay keeps a *state*: the last step the run did that the version allowed (the beginning
at first). Each next step is one of, after the *moves* of an alignment in process mining:

* allowed from the state: it becomes the state;
* reachable from the state only through steps the run left out: each left-out step on the
  shortest way is one **model move** (a step the version requires that the run skipped), and
  the step becomes the state;
* neither, or a step the version does not have: a **log move** (done where the version does
  not allow it); the state stays where it was, so one stray step counts once.

A finished run whose state is not an end step, nor one pair before one, skipped the steps on the
shortest way to the nearest end step: model moves too. The first step that is not allowed as it
is, is the run's first deviation.

**Fitness** of a run = 1 − (log moves + model moves) ÷ (steps in the run + model moves), where
steps in the run leaves out the engine's own steps (start, auto, parallel, join, end) of the
version checked against, so logs with and without them compare. 1 is a run the version allows
as it is; 0 a run of nothing but deviations. It has the form of the move-based alignment
fitness (Adriansyah, van Dongen and van der Aalst, *Conformance checking using cost-based
fitness analysis*, EDOC 2011: every log move and model move costs 1), its moves found by a
greedy replay rather than an optimal alignment. The replay is one alignment of the run with the
version's pair relation, so its cost is never below an optimal alignment's, and it can be above:
a step done too early and then again in its place counts as a skip and a log move where an
optimal alignment needs one log move. The pair relation is
itself looser than the version: it does not see a parallel branch left out entirely, nor two
choices of one decision taken far apart in one run; those runs conform here. Token-based replay
(Rozinat and van der Aalst 2008) would see the missing branch but needs a Petri net, which a
version is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
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
    (skipped), predecessor (the step runs were at most often, their last allowed step, when
    they reached it not as the version allows) and predecessor_count."""

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
        kind = pl.col("kind").cast(pl.String)
        wanted = (EventKind.STEP_COMPLETED.value, EventKind.CASE_FINISHED.value)
        frame = _coded(frame.filter(kind.is_in(wanted)))  # the other rows never count
        if finished is None:
            finished = frame.filter(kind == EventKind.CASE_FINISHED.value).select("c")
        frame = completed_paths(frame)
    names = frame.select("c", "case_id") if case_ids is None else case_ids.lazy()
    if not every_run:
        mine = (pl.col("process") == version.process) & (pl.col("version") == version.version)
        frame = frame.filter(mine)
    graph = _Graph.of(version)
    runs, paths = _variants(frame)
    moves, states = _moves(paths, graph)
    stopped = None if finished is None or not ends else finished.lazy().select("c").unique()
    per_run = runs.lazy().join(_replayed(moves.lazy(), states.lazy()), on="v")
    cases = _cases(per_run, graph, stopped).collect().lazy()
    weights = runs.lazy().group_by("v").agg(pl.len().cast(pl.Int64).alias("w"))
    weighted = moves.lazy().join(weights, left_on="c", right_on="v")
    case_frame, steps = pl.collect_all(
        [_named(cases, names, graph), _by_step(weighted, cases, graph)]
    )
    failing = case_frame.filter(pl.col("move").is_not_null())
    deviations = failing.select("case_id", "position", "from_step", "to_step")
    total = case_frame.height
    return Conformance(
        version.process, version.version, total, total - failing.height, deviations,
        case_frame, steps,
    )  # fmt: skip


def _variants(frame: pl.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The runs' distinct step sequences, each replayed once for all the runs that took it.

    Runs: c, v (its sequence's number), process and version (of its first step). Paths: c (the
    sequence's number, ``v``), to_step (text): each sequence's steps in order.
    """
    runs = (
        frame.group_by("c", maintain_order=True)
        .agg("step", pl.col("process").cast(pl.String).first(), pl.col("version").first())
        .collect()
    )
    distinct = runs.lazy().group_by("step").agg("c").with_row_index("v")
    numbered, paths = pl.collect_all([
        distinct.select(pl.col("v").cast(pl.Int64), "c").explode("c"),
        distinct.select(pl.col("v").cast(pl.Int64).alias("c"), pl.col("step").alias("to_step"))
        .explode("to_step").with_columns(pl.col("to_step").cast(pl.String)),
    ])  # fmt: skip
    runs = runs.select("c", pl.col("process"), pl.col("version").cast(pl.Int64)).join(
        numbered, on="c", how="left", maintain_order="left"
    )
    return runs, paths


@dataclass(frozen=True)
class _Graph:
    """A version's steps as integer codes (``BEGINNING`` after them), and what a run may do
    from each: ``moves[state, step]`` is the number of steps skipped to do ``step`` next (0:
    allowed as it is), or -1 for a log move; the last column is any step the version lacks."""

    ids: tuple[str, ...]
    moves: np.ndarray[Any, np.dtype[np.int64]]
    own: tuple[str, ...]
    skipped: pl.DataFrame
    """a, b (codes) → skipped: the steps a run skipped doing b after a."""
    ends: pl.DataFrame
    """state (code) → end (the nearest end step), end_moves and skipped (on the way there)."""

    @property
    def beginning(self) -> int:
        return len(self.ids)

    @property
    def names(self) -> dict[int, str]:
        """code → step id, ``BEGINNING`` included."""
        return {**dict(enumerate(self.ids)), self.beginning: BEGINNING}

    @classmethod
    def of(cls, version: Version) -> _Graph:
        ids = tuple(s.id for s in version.steps)
        code = {step: i for i, step in enumerate(ids)} | {BEGINNING: len(ids)}
        moves = np.full((len(ids) + 1, len(ids) + 1), -1, dtype=np.int64)
        for a, b in allowed_pairs(version):
            moves[code[a], code[b]] = 0
        skips = skipped_steps(version)
        for (a, b), steps in skips.items():
            moves[code[a], code[b]] = len(steps)
        skipped = pl.DataFrame(
            {"a": [code[a] for a, _ in skips], "b": [code[b] for _, b in skips],
             "skipped": [list(steps) for steps in skips.values()]},
            schema={"a": pl.Int64, "b": pl.Int64, "skipped": pl.List(pl.String)},
        )  # fmt: skip
        paths = end_skips(version)
        ends = pl.DataFrame(
            {"state": [code[a] for a in paths], "end": [e for _, e, _ in paths.values()],
             "end_moves": [len(p) for _, _, p in paths.values()],
             "end_skipped": [list(p) for _, _, p in paths.values()]},
            schema={"state": pl.Int64, "end": pl.String, "end_moves": pl.Int64,
                    "end_skipped": pl.List(pl.String)},
        )  # fmt: skip
        own = tuple(s.id for s in version.steps if s.kind in _OWN)
        return cls(ids, moves, own, skipped, ends)


def _moves(runs: pl.DataFrame, graph: _Graph) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each completed step of the runs as a move, and each run's state after its last step.

    The runs are replayed greedily, all at once: at each position, every run still that long
    takes its next step from its state (the last step that was no log move; the beginning at
    first) by one lookup in :attr:`_Graph.moves`. A log move leaves the state where it was, as
    in an alignment; any other move makes the step the state. Python loops over positions only
    (the longest run's length), never over events or runs.

    Moves: c, i (row), to_step, to_code (the version's lack: one past its codes), from_code,
    log, model_moves (steps skipped to get there), counted (no engine step of the version),
    first (the run's first step). States: c, state.
    """
    size = len(graph.ids)
    code = {step: i for i, step in enumerate(graph.ids)}
    to = runs["to_step"].replace_strict(code, default=size, return_dtype=pl.Int64).to_numpy()
    case = runs["c"].to_numpy()
    first = np.ones(len(case), dtype=bool)
    first[1:] = case[1:] != case[:-1]
    starts = np.flatnonzero(first)
    lengths = np.diff(np.append(starts, len(case)))
    order = np.argsort(-lengths, kind="stable")
    starts, lengths = starts[order], lengths[order]
    state = np.full(len(starts), graph.beginning, dtype=np.int64)
    before = np.empty(len(case), dtype=np.int64)
    verdict = np.empty(len(case), dtype=np.int64)
    alive = len(starts)
    for position in range(int(lengths[0]) if alive else 0):
        while lengths[alive - 1] <= position:
            alive -= 1
        rows = starts[:alive] + position
        now, step = state[:alive], to[rows]
        found = graph.moves[now, np.minimum(step, size)]
        before[rows], verdict[rows] = now, found
        state[:alive] = np.where(found >= 0, step, now)
    moves = runs.with_row_index("i").with_columns(
        pl.Series("to_code", to), pl.Series("from_code", before),
        pl.Series("log", verdict < 0), pl.Series("model_moves", np.maximum(verdict, 0)),
        (~pl.col("to_step").is_in(graph.own)).alias("counted"), pl.Series("first", first),
    )  # fmt: skip
    states = pl.DataFrame({"c": case[starts], "state": state})
    return moves, states


def _replayed(moves: pl.LazyFrame, states: pl.LazyFrame) -> pl.LazyFrame:
    """One row per replayed sequence (v): its counts and its first deviation (row, move,
    codes and text), and the state it ended in."""
    dev = pl.col("log") | (pl.col("model_moves") > 0)
    return (
        moves.group_by("c")
        .agg(
            pl.col("counted").sum().alias("steps"),
            pl.col("log").sum().cast(pl.Int64).alias("log_moves"), pl.col("model_moves").sum(),
            pl.len().alias("n"), pl.col("i").first().alias("i0"),
            pl.col("i").filter(dev).first().alias("at"), pl.col("log").filter(dev).first(),
            pl.col("from_code", "to_step").filter(dev).first(),
        )
        .join(states, on="c")
        .rename({"c": "v"})
    )  # fmt: skip


def _cases(per: pl.LazyFrame, graph: _Graph, ends: pl.LazyFrame | None) -> pl.LazyFrame:
    """One row per run (code c): its counts, fitness and first deviation (codes and text)."""
    if ends is None:
        per = per.with_columns(
            pl.lit(None, pl.String).alias("end"), pl.lit(0, pl.Int64).alias("end_moves"),
            pl.lit(None, pl.List(pl.String)).alias("end_skipped"),
        )  # fmt: skip
    else:
        done = ends.with_columns(pl.lit(True).alias("finished"))
        per = per.join(done, on="c", how="left").join(graph.ends.lazy(), on="state", how="left")
        stop = pl.col("finished").fill_null(False) & pl.col("end_moves").is_not_null()
        per = per.with_columns(
            pl.when(stop).then("end"), pl.when(stop).then("end_moves").otherwise(0),
            pl.when(stop).then("end_skipped"),
        )  # fmt: skip
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
        pl.when(paired).then(pl.col("from_code")).when(stopped).then(pl.col("state"))
        .alias("from_code"),
        pl.when(paired).then(pl.col("to_step")).when(stopped).then(pl.col("end"))
        .alias("to_step"),
        pl.when(paired).then(kind).when(stopped).then(pl.lit(MODEL_MOVE)).alias("move"),
        "state", "end", "end_moves", "end_skipped",
    )  # fmt: skip


def _text(codes: str, graph: _Graph) -> pl.Expr:
    """A column of step codes as step ids ("" for the beginning)."""
    return pl.col(codes).replace_strict(graph.names, default=None, return_dtype=pl.String)


def _named(cases: pl.LazyFrame, names: pl.LazyFrame, graph: _Graph) -> pl.LazyFrame:
    """The per-run table as :attr:`Conformance.cases` has it: named, text, by case id."""
    return (
        cases.join(names.unique("c", keep="first"), on="c", how="left")
        .select(
            pl.col("case_id").cast(pl.String), "process", "version", "steps", "log_moves",
            "model_moves", "fitness", "position", _text("from_code", graph).alias("from_step"),
            "to_step", "move",
        )
        .sort("case_id")
    )  # fmt: skip


def _by_step(moves: pl.LazyFrame, cases: pl.LazyFrame, graph: _Graph) -> pl.LazyFrame:
    """The deviations by step (see :attr:`Conformance.steps`); ``moves`` are the replayed
    sequences' moves, each weighted (``w``) by the number of runs that took its sequence."""
    to = pl.col("to_step").alias("step")
    one, w = pl.lit(1, pl.Int64), pl.col("w")
    skips = moves.filter(~pl.col("log") & (pl.col("model_moves") > 0)).join(
        graph.skipped.lazy(), left_on=["from_code", "to_code"], right_on=["a", "b"]
    )
    skipped = pl.concat([
        skips.select("skipped", "w"),
        cases.filter(pl.col("end_moves") > 0).select(pl.col("end_skipped").alias("skipped"),
                                                     w=one),
    ]).explode("skipped").select(pl.col("skipped").alias("step"), model_moves=w)  # fmt: skip
    counts = pl.concat(
        [
            moves.filter("log").select(to, log_moves=w),
            skipped,
            cases.filter(pl.col("move").is_not_null()).select(to, first=one),
        ],
        how="diagonal",
    )
    wrong = pl.concat([
        moves.filter(pl.col("log") | (pl.col("model_moves") > 0)).select(to, "from_code", "w"),
        cases.filter(pl.col("end_moves") > 0).select(pl.col("end").alias("step"),
                                                     pl.col("state").alias("from_code"), w=one),
    ])  # fmt: skip
    before = (
        wrong.group_by("step", "from_code")
        .agg(w.sum().cast(pl.Int64).alias("predecessor_count"))
        .with_columns(_text("from_code", graph).alias("predecessor"))
        .sort(["step", "predecessor_count", "predecessor"], descending=[False, True, False])
        .group_by("step", maintain_order=True).first()
    )  # fmt: skip
    order = pl.LazyFrame({"step": list(graph.ids), "order": range(len(graph.ids))})
    tallies = ("first", "log_moves", "model_moves")
    return (
        counts.group_by("step").agg(pl.col(*tallies).sum().cast(pl.Int64))
        .join(before, on="step", how="left")
        .join(order, on="step", how="left")
        .sort(pl.col("order").fill_null(len(graph.ids)), "step")
        .select("step", *tallies, "predecessor", "predecessor_count")
    )  # fmt: skip
