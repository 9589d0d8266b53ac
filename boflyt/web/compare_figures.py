"""The before/after page's figures, computed once per pair of versions and run sets, and cached.

The web page is a thin shell over the same core calls as ``boflyt report``:
:func:`~boflyt.analysis.report_data.report_data` (design metrics, diff, plain-language story and,
with both run sets, the run-based rows with 95 % bootstrap intervals), the swimlane, ghost and
timeline renderers of :mod:`boflyt.visualize` (the design's timelines, and with both run sets their
measured ones, :mod:`~boflyt.visualize.measured_timeline`), and
:func:`~boflyt.visualize.report.render_report` for the downloadable report. Rendering is the slow
part (Graphviz, matplotlib), so every figure is kept in a bounded cache keyed by both versions'
content hashes, the page language and each side's run set as stored (its exact name and case count;
a live set's entry also ages out after :data:`LIVE_SECONDS`, as registrations change its waits
without changing its count).

A run set with fewer than :data:`MIN_CASES` cases of its version is not shown at all (the small
group rule): neither its overlay nor any run-based row of the comparison.
"""

from __future__ import annotations

import csv
import io
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TypeVar

import polars as pl
from sqlalchemy.engine import Engine

from boflyt.analysis.report_data import ReportData, report_data
from boflyt.engine.store.eventlog import run_set_log
from boflyt.engine.store.queries import describe_run_set
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.runset import RunSet, RunSetInfo
from boflyt.models.vocabulary import Mode
from boflyt.models.words import Language
from boflyt.visualize.extraction import extract_comparison, extract_swimlane, overlay_swimlane
from boflyt.visualize.measured_timeline import measured_timeline
from boflyt.visualize.render import Renderer, find_renderer
from boflyt.visualize.report import render_report
from boflyt.visualize.report_text import card, table_html
from boflyt.visualize.run_set_text import comparison_summary
from boflyt.visualize.swimlane import render_swimlane
from boflyt.visualize.timeline import render_timelines
from boflyt.visualize.value_stream import extract_timeline

__all__ = [
    "FIGURES",
    "LIVE_SECONDS",
    "MIN_CASES",
    "Figures",
    "Pair",
    "clear_cache",
    "comparison_csv",
    "content_hash",
    "figure_svg",
    "figures",
    "pair_of",
    "report_html",
]

MIN_CASES = 5
"""The smallest run set shown outside a case (fewer cases: suppressed, with a note)."""
LIVE_SECONDS = 300
"""How long a live run set's figures are kept (new events change them, not only new cases)."""
FIGURES = ("before", "after", "ghost", "timeline", "timeline-measured", "overlay-before",
           "overlay-after")  # fmt: skip
"""The SVG figures of a pair, by the name in their download address."""
_KEEP = 64
"""Cached pairs kept (design and run-based each), least recently used dropped first."""

T = TypeVar("T")


@dataclass(frozen=True)
class Pair:
    """Two versions of one process (before, after) and each one's run set as stored."""

    before: Version
    after: Version
    runs: tuple[RunSetInfo, RunSetInfo]

    def shown(self, index: int) -> bool:
        """Side ``index``'s run set has at least :data:`MIN_CASES` cases of its version."""
        return self.runs[index].cases >= MIN_CASES

    @property
    def observed(self) -> bool:
        """Both run sets are shown, so the run-based rows and overlays are computed."""
        return self.shown(0) and self.shown(1)

    def key(self, lang: Language) -> tuple[object, ...]:
        """The cache key: content hashes, language and each run set as stored."""
        now = int(time.monotonic() // LIVE_SECONDS)
        runs = tuple(
            (str(i.runs), i.cases, now if i.runs.mode is Mode.LIVE else 0) for i in self.runs
        )
        return (content_hash(self.before), content_hash(self.after), lang, runs)


_HASHES: OrderedDict[int, tuple[Version, str]] = OrderedDict()
_HASHES_LOCK = threading.Lock()


def content_hash(version: Version) -> str:
    """``version.content_hash``, computed once per loaded version (it serialises the whole
    version, milliseconds a request would otherwise pay twice for every cache hit)."""
    with _HASHES_LOCK:
        found = _HASHES.get(id(version))
        if found is not None and found[0] is version:
            return found[1]
    digest = version.content_hash
    with _HASHES_LOCK:
        _HASHES[id(version)] = (version, digest)  # the reference keeps the id unique
        while len(_HASHES) > 4 * _KEEP:
            _HASHES.popitem(last=False)
    return digest


def pair_of(
    engine: Engine,
    before: Version,
    after: Version,
    runs: tuple[RunSet, RunSet],
    stored: Sequence[RunSetInfo] = (),
) -> Pair:
    """The two versions with each one's run set as stored (no event log is read here).

    ``stored`` is the process's run sets as already listed (``list_run_sets``): a set found
    there by its exact name or run number costs no query; any other is looked up.

    Raises:
        NotFoundError, CommandError: no such run set, or a simulation of another version.
    """
    infos = tuple(_info(engine, v, r, stored) for v, r in zip((before, after), runs, strict=True))
    return Pair(before, after, (infos[0], infos[1]))


def _info(
    engine: Engine, version: Version, runs: RunSet, stored: Sequence[RunSetInfo]
) -> RunSetInfo:
    """``runs`` of ``version`` from the listing when it is there, else from the store."""
    for info in stored:
        if (info.process, info.version) != (version.process, version.version):
            continue
        if info.runs == runs or (runs.number is not None and info.number == runs.number):
            return info
    if runs.mode is Mode.LIVE:
        return RunSetInfo(runs, version.process, version.version, 0)
    return describe_run_set(engine, runs, process=version.process, version=version.version)


@dataclass(frozen=True)
class Figures:
    """Everything the page shows for one pair, as HTML fragments and SVG documents."""

    data: ReportData
    svgs: dict[str, bytes]
    """Each of :data:`FIGURES` that exists for the pair (overlays only with both sets shown)."""
    cards: list[dict[str, str]]
    design_table: str
    observed_table: str
    summary: list[str]


class _Cache:
    """A small thread-safe LRU dict: the page is served from a thread pool. Requests for the
    same missing key wait for one computation instead of each rendering it."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[object, ...], object] = OrderedDict()
        self._lock = threading.Lock()
        self._making: dict[tuple[object, ...], threading.Lock] = {}

    def _found(self, key: tuple[object, ...]) -> tuple[bool, object]:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return True, self._items[key]
            return False, None

    def get(self, key: tuple[object, ...], make: Callable[[], T]) -> T:
        hit, value = self._found(key)
        if not hit:
            with self._lock:
                making = self._making.setdefault(key, threading.Lock())
            with making:
                hit, value = self._found(key)
                if not hit:
                    value = make()
                    with self._lock:
                        self._items[key] = value
                        self._making.pop(key, None)
                        while len(self._items) > _KEEP:
                            self._items.popitem(last=False)
        found: T = value  # type: ignore[assignment]
        return found

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_DESIGN = _Cache()
_PAIRS = _Cache()
_REPORTS = _Cache()


def clear_cache() -> None:
    """Forget every cached figure (tests; a changed library is keyed apart anyway)."""
    for cache_ in (_DESIGN, _PAIRS, _REPORTS):
        cache_.clear()


@cache
def _renderer() -> Renderer:
    return find_renderer()


def figures(engine: Engine, pair: Pair, lanes: LaneCatalog, lang: Language) -> Figures:
    """The pair's figures, from the cache when the same versions and run sets were shown
    (the event logs are read only on a miss, and only of run sets large enough to show)."""
    return _PAIRS.get(pair.key(lang), lambda: _figures(engine, pair, lanes, lang))


def _logs(engine: Engine, pair: Pair) -> list[pl.DataFrame | None]:
    """Both run sets' event logs when both are shown, else none (no run-based figure)."""
    if not pair.observed:
        return [None, None]
    return [
        run_set_log(engine, info.runs, process=v.process, version=v.version)[1]
        for v, info in zip((pair.before, pair.after), pair.runs, strict=True)
    ]


def _figures(engine: Engine, pair: Pair, lanes: LaneCatalog, lang: Language) -> Figures:
    logs = _logs(engine, pair)
    named = logs[0] is not None
    data = report_data(
        pair.before, pair.after, lanes=lanes, before_events=logs[0], after_events=logs[1],
        before_runs=pair.runs[0] if named else None, after_runs=pair.runs[1] if named else None,
    )  # fmt: skip
    svgs = dict(_design_svgs(data, lanes, lang))
    if data.runs is not None:
        svgs |= _overlays(data, lanes, lang)
        svgs |= _measured_timelines(data, logs, lanes, lang)
    rows = data.comparison.rows
    measured = [r for r in rows if r.source == "observed"]
    cases = (len(data.lead_days(0)), len(data.lead_days(1)))
    return Figures(
        data=data,
        svgs=svgs,
        cards=[card(data.comparison.row(k), lang) for k in _CARD_KEYS],
        design_table=table_html([r for r in rows if r.source == "design"], "design", lang),
        observed_table=table_html(measured, "observed", lang, cases=cases) if measured else "",
        summary=comparison_summary(data.comparison, data.runs if measured else None, lang),
    )


_CARD_KEYS = ("expected_handoffs", "expected_transactions", "lead_days", "activity_ratio")


def _design_svgs(data: ReportData, lanes: LaneCatalog, lang: Language) -> dict[str, bytes]:
    """Both swimlanes, the ghost view and the two timelines: the same for any run sets."""
    key = (content_hash(data.before), content_hash(data.after), lang)
    return _DESIGN.get(key, lambda: _render_design(data, lanes, lang))


def _render_design(data: ReportData, lanes: LaneCatalog, lang: Language) -> dict[str, bytes]:
    renderer = _renderer()
    sides = ((data.before, data.design[0]), (data.after, data.design[1]))
    lanes_of = [
        extract_swimlane(v, lanes, lang=lang, lead_time_days=m["lead_days"],
                         duplicates=m.duplicates)
        for v, m in sides
    ]  # fmt: skip
    ghost = extract_comparison(
        data.before, data.after, lanes, lang=lang,
        before_metrics=data.design[0], after_metrics=data.design[1], diff=data.diff,
    )  # fmt: skip
    timelines = [
        extract_timeline(v, lanes, lang=lang, metrics=m, diagram=d)
        for (v, m), d in zip(sides, lanes_of, strict=True)
    ]
    return {
        "before": render_swimlane(lanes_of[0], "svg", renderer=renderer),
        "after": render_swimlane(lanes_of[1], "svg", renderer=renderer),
        "ghost": render_swimlane(ghost, "svg", renderer=renderer),
        "timeline": render_timelines(timelines, "svg"),
    }


def _overlays(data: ReportData, lanes: LaneCatalog, lang: Language) -> dict[str, bytes]:
    """Each version's swimlane coloured by the waits of its run set."""
    assert data.runs is not None
    found: dict[str, bytes] = {}
    for name, version, observed, runs, metrics in zip(
        ("overlay-before", "overlay-after"), (data.before, data.after), data.observed,
        data.runs, data.design, strict=True,
    ):  # fmt: skip
        if observed is not None:
            diagram = overlay_swimlane(version, lanes, observed, runs, lang,
                                       duplicates=metrics.duplicates)  # fmt: skip
            found[name] = render_swimlane(diagram, "svg", renderer=_renderer())
    return found


def _measured_timelines(
    data: ReportData, logs: Sequence[pl.DataFrame | None], lanes: LaneCatalog, lang: Language
) -> dict[str, bytes]:
    """Both versions' measured value streams in their run sets, on one time axis (a side with
    fewer than :data:`MIN_CASES` finished cases left out; neither: no figure)."""
    assert data.runs is not None
    lines = [
        measured_timeline(version, frame, lanes, lang=lang, metrics=metrics,
                          title=f"v{version.version}: {version.label} · {runs.label(lang)}")
        for version, frame, metrics, runs in zip(
            (data.before, data.after), logs, data.design, data.runs, strict=True
        )
        if frame is not None
    ]  # fmt: skip
    drawn = [line for line in lines if line is not None]
    return {"timeline-measured": render_timelines(drawn, "svg")} if drawn else {}


def figure_svg(
    engine: Engine, pair: Pair, name: str, lanes: LaneCatalog, lang: Language
) -> bytes | None:
    """One of :data:`FIGURES` of the pair (None: an overlay of a set not shown)."""
    return figures(engine, pair, lanes, lang).svgs.get(name)


def comparison_csv(engine: Engine, pair: Pair, lanes: LaneCatalog, lang: Language) -> str:
    """The comparison table as CSV: one row per metric, design then run-based, with the run
    set, case counts and 95 % interval of each run-based row; numbers unformatted."""
    data = figures(engine, pair, lanes, lang).data
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["metric", "label", "source", "unit", "before", "after", "change",
                     "pct_change", "ci_low", "ci_high", "runs_before", "runs_after"])  # fmt: skip
    runs = ("", "")
    if data.runs is not None:
        runs = (data.runs[0].label(lang), data.runs[1].label(lang))
    for row in data.comparison.rows:
        observed = row.source == "observed"
        values = (row.before, row.after, row.change, row.pct_change, row.ci_low, row.ci_high)
        writer.writerow([row.key, row.label(lang), row.source, row.unit,
                         *("" if v is None else repr(float(v)) for v in values),
                         runs[0] if observed else "", runs[1] if observed else ""])  # fmt: skip
    return out.getvalue()


def report_html(engine: Engine, pair: Pair, lanes: LaneCatalog, lang: Language) -> bytes:
    """The workshop report of ``boflyt report`` for the pair (print-ready, A4 landscape)."""
    return _REPORTS.get(pair.key(lang), lambda: _report(engine, pair, lanes, lang))


def _report(engine: Engine, pair: Pair, lanes: LaneCatalog, lang: Language) -> bytes:
    data = figures(engine, pair, lanes, lang).data
    with tempfile.TemporaryDirectory(prefix="boflyt-report-") as folder:
        path = Path(folder) / "report.html"
        render_report(data, path, lanes=lanes, lang=lang, renderer=_renderer())
        return path.read_bytes()
