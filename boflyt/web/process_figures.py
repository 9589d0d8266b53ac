"""The figures and pictures of the process pages, computed once per version and run set.

A version's design figures, its swimlane and value-stream pictures depend only on its content
(:attr:`~boflyt.models.definition.Version.content_hash`) and the page language; a simulation's
figures only on that simulation (stored once, never changed); the registered figures on the
version's live event log, keyed by its number of events (live events are only ever appended).
Each is kept in a small in-process cache (:class:`_Cache`), so a page that is read again costs
a dictionary look-up, not a Graphviz or matplotlib run.

Registered (measured) figures are personal data about few people when the group is small: a
figure of fewer than :data:`MIN_CASES` cases is never shown (``suppressed``), on any page.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from html import escape
from typing import TypeVar

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boflyt.analysis.design import DesignMetrics, design_metrics
from boflyt.analysis.observed import observed_metrics
from boflyt.engine.store.db import read_scope
from boflyt.engine.store.eventlog import run_set_log
from boflyt.engine.store.queries import list_run_sets
from boflyt.engine.store.statements import EVENT_TABLE
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.runset import RunSet, RunSetInfo
from boflyt.models.vocabulary import Mode
from boflyt.models.words import Language
from boflyt.visualize.extraction import extract_swimlane
from boflyt.visualize.measured_timeline import measured_timeline, step_measures
from boflyt.visualize.render import Format
from boflyt.visualize.svg import inline_svg
from boflyt.visualize.swimlane import render_swimlane
from boflyt.visualize.timeline import render_timelines
from boflyt.visualize.value_stream import MIN_GROUP, extract_timeline

__all__ = [
    "MIN_CASES",
    "Figures",
    "StepStats",
    "designed",
    "designed_figures",
    "latest_simulations",
    "live_event_counts",
    "registered_figures",
    "registered_steps",
    "registered_timeline_svg",
    "simulated_figures",
    "swimlane_file",
    "swimlane_inline",
    "timeline_svg",
]

MIN_CASES = MIN_GROUP
"""The smallest group of registered cases a figure is shown for (a smaller one is "–")."""

T = TypeVar("T")


class _Cache:
    """A bounded, thread-safe map from a key to a computed value (least recently used out)."""

    def __init__(self, size: int = 256) -> None:
        self._size, self._lock = size, threading.Lock()
        self._items: OrderedDict[Hashable, object] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value for ``key``, made by ``make`` the first time (two racing makers: one wins)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[return-value]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


_CACHE = _Cache()

STORE_SECONDS = 2.0
"""How long the store's look-ups (registered event counts, newest simulations) are reused: a
new registration or simulation shows within this many seconds."""

_HASHES: dict[int, tuple[object, str]] = {}


def _digest(thing: Version | LaneCatalog) -> str:
    """The content hash of a version (or of the lane catalogue), computed once per loaded
    object: the library's objects live as long as the app, and each is kept with its hash, so
    a reused id cannot lie."""
    found = _HASHES.get(id(thing))
    if found is not None and found[0] is thing:
        return found[1]
    if len(_HASHES) > 1024:
        _HASHES.clear()
    text = thing.canonical() if isinstance(thing, Version) else thing.model_dump_json()
    digest = hashlib.sha256(text.encode()).hexdigest()
    _HASHES[id(thing)] = (thing, digest)
    return digest


def _hash(version: Version) -> str:
    return _digest(version)


def _store_key(engine: Engine) -> str:
    """Which store a cached figure came from (tests and benchmarks run several)."""
    return engine.url.render_as_string(hide_password=True)


def _fresh(key: Hashable, make: Callable[[], T]) -> T:
    """``make()``, reused for :data:`STORE_SECONDS`."""
    slot = int(time.monotonic() // STORE_SECONDS) if STORE_SECONDS > 0 else time.monotonic_ns()
    return _CACHE.get((key, slot), make)


@dataclass(frozen=True, slots=True)
class Figures:
    """The headline figures of one version from one source (designed, simulated, registered).

    Run-based figures are means per finished case; ``cases`` is how many they stand on (None for
    the design). ``suppressed``: registered, but fewer than :data:`MIN_CASES` finished cases, so
    no figure is shown.
    """

    handoffs: float | None
    transactions: float | None
    lead_days: float | None
    cases: int | None = None
    suppressed: bool = False
    run_set: str = ""


@dataclass(frozen=True, slots=True)
class StepStats:
    """Registered waits and touch times of one step: medians and the 90th percentile, in working
    days (waits) and minutes (touch); ``cases`` is the number of cases with the step."""

    cases: int
    median_wait_days: float | None
    p90_wait_days: float | None
    median_touch_minutes: float | None

    @property
    def suppressed(self) -> bool:
        return self.cases < MIN_CASES


def designed(version: Version, lanes: LaneCatalog) -> DesignMetrics:
    """The version's design metrics (cached by its content hash)."""
    return _CACHE.get(("design", _hash(version), _digest(lanes)),
                      lambda: design_metrics(version, lanes=lanes))  # fmt: skip


def designed_figures(version: Version, lanes: LaneCatalog) -> Figures:
    """Expected handoffs, transactions and lead time per case."""
    m = designed(version, lanes)
    return Figures(m["expected_handoffs"], m["expected_transactions"], m["lead_days"])


def live_event_counts(engine: Engine, process: str | None = None) -> dict[tuple[str, int], int]:
    """Registered (live) events per process version (of ``process`` only, when given): the
    registered figures' cache key (live events are only ever added); read again after
    :data:`STORE_SECONDS`."""
    t = EVENT_TABLE.c
    query = (
        sa.select(t.process, t.version, sa.func.count())
        .where(t.mode == Mode.LIVE.value)
        .group_by(t.process, t.version)
    )
    if process is not None:
        query = query.where(t.process == process)

    def make() -> dict[tuple[str, int], int]:
        with read_scope(engine) as conn:
            return {(p, int(v)): int(n) for p, v, n in conn.execute(query)}

    return _fresh(("counts", _store_key(engine), process), make)


def latest_simulations(
    engine: Engine, process: str | None = None
) -> dict[tuple[str, int], RunSetInfo]:
    """The newest simulation of each process version (of ``process`` only, when given); read
    again after :data:`STORE_SECONDS`."""

    def make() -> dict[tuple[str, int], RunSetInfo]:
        found: dict[tuple[str, int], RunSetInfo] = {}
        for info in list_run_sets(engine, process=process):
            if info.runs.mode is Mode.SIMULATED:
                found[(info.process, info.version)] = info  # by run number: the last wins
        return found

    return _fresh(("simulations", _store_key(engine), process), make)


def _summary_figures(frame: pl.DataFrame, version: Version, name: str, measured: bool) -> Figures:
    if frame.is_empty():
        return Figures(None, None, None, 0, measured, name)
    observed = observed_metrics(frame)
    rows = observed.summary.filter(pl.col("version") == version.version)
    cases = int(rows["cases"][0]) if not rows.is_empty() else 0
    if cases == 0 or (measured and cases < MIN_CASES):
        return Figures(None, None, None, cases, measured, name)
    mean = {
        metric: float(value) for metric, value in zip(rows["metric"], rows["mean"], strict=True)
    }
    return Figures(mean["handoffs"], mean["transactions"], mean["lead_days"], cases, False, name)


def simulated_figures(engine: Engine, version: Version, info: RunSetInfo) -> Figures:
    """Mean handoffs, transactions and lead time over a simulation's finished cases."""

    def make() -> Figures:
        _, frame = run_set_log(engine, info.runs, process=version.process,
                               version=version.version)  # fmt: skip
        return _summary_figures(frame, version, info.name, measured=False)

    return _CACHE.get(("simulated", _store_key(engine), _hash(version), str(info.runs)), make)


def _live_log(engine: Engine, version: Version, events: int) -> pl.DataFrame:
    """The version's registered event log (cached while no event is added)."""

    def make() -> pl.DataFrame:
        return run_set_log(engine, RunSet.live(), process=version.process,
                           version=version.version)[1]  # fmt: skip

    return _CACHE.get(("live-log", _store_key(engine), version.key, _hash(version), events), make)


def registered_figures(engine: Engine, version: Version, events: int) -> Figures | None:
    """Mean handoffs, transactions and lead time over the registered finished cases;
    suppressed below :data:`MIN_CASES`; None without registered cases (``events``: the
    version's live event count)."""
    if events == 0:
        return None
    return _CACHE.get(
        ("registered", _store_key(engine), version.key, _hash(version), events),
        lambda: _summary_figures(_live_log(engine, version, events), version, "live", True),
    )


def step_stats(events: pl.DataFrame) -> dict[str, StepStats]:
    """Per step of an event log: cases, median and p90 wait (working days), median touch
    (:func:`~boflyt.visualize.measured_timeline.step_measures`, with the page's suppression)."""
    return {
        step: StepStats(m.cases, m.median_wait_days, m.p90_wait_days, m.median_touch_minutes)
        for step, m in step_measures(events).items()
    }


def registered_steps(engine: Engine, version: Version, events: int) -> dict[str, StepStats]:
    """:func:`step_stats` of the version's registered cases (cached while no event is added)."""
    if events == 0:
        return {}
    return _CACHE.get(("steps", _store_key(engine), version.key, _hash(version), events),
                      lambda: step_stats(_live_log(engine, version, events)))  # fmt: skip


_STEP_GROUP = re.compile(r'<g id="step&#45;([a-z][a-z0-9_]*)" class="([^"]*)"')


def swimlane_inline(version: Version, lanes: LaneCatalog, lang: Language) -> str:
    """The swimlane as an element for the page: each step a focusable button (``data-step``,
    its name as label) for :file:`static/zoom.js` to open its details."""

    def make() -> str:
        svg = inline_svg(swimlane_file(version, lanes, lang, "svg"))
        names = {s.id: s.name.get(lang) for s in version.steps}

        def button(match: re.Match[str]) -> str:
            step = match.group(1)
            label = escape(names.get(step, step), quote=True)
            return (f'{match.group(0)} tabindex="0" role="button" data-step="{step}" '
                    f'aria-label="{label}"')  # fmt: skip

        return _STEP_GROUP.sub(button, svg)

    return _CACHE.get(("inline", _hash(version), _digest(lanes), lang), make)


def swimlane_file(version: Version, lanes: LaneCatalog, lang: Language, fmt: Format) -> bytes:
    """The swimlane as an SVG or PNG file (cached by content hash, language and format)."""

    def make() -> bytes:
        m = designed(version, lanes)
        diagram = extract_swimlane(version, lanes, lang=lang, duplicates=m.duplicates)
        return render_swimlane(diagram, fmt)

    return _CACHE.get(("swimlane", _hash(version), _digest(lanes), lang, fmt), make)


def timeline_svg(version: Version, lanes: LaneCatalog, lang: Language) -> bytes:
    """The design's value-stream ladder as an SVG file."""

    def make() -> bytes:
        line = extract_timeline(version, lanes, lang=lang, metrics=designed(version, lanes))
        return render_timelines([line], "svg")

    return _CACHE.get(("timeline", _hash(version), _digest(lanes), lang), make)


def registered_timeline_svg(
    engine: Engine, version: Version, lanes: LaneCatalog, lang: Language, events: int, title: str
) -> bytes | None:
    """The registered cases' measured value stream
    (:func:`~boflyt.visualize.measured_timeline.measured_timeline`: medians, worded as measured)
    as an SVG file; None without registered cases or with fewer than :data:`MIN_CASES` finished
    (``events``: the version's live event count, the cache key)."""

    def make() -> bytes | None:
        line = measured_timeline(version, _live_log(engine, version, events), lanes, lang=lang,
                                 title=title, metrics=designed(version, lanes))  # fmt: skip
        return None if line is None else render_timelines([line], "svg")

    if events == 0:
        return None
    key = ("registered-timeline", _store_key(engine), version.key, _hash(version),
           _digest(lanes), lang, events, title)  # fmt: skip
    return _CACHE.get(key, make)
