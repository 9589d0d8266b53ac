"""Run sets in the store: numbered simulations, one set per figure, deletion, the demo's replace."""

from __future__ import annotations

import datetime as dt
import doctest
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boflyt.engine.case.decide import StartCase, decide
from boflyt.engine.store import commands as store
from boflyt.engine.store.db import read_scope
from boflyt.engine.store.eventlog import COUNTER, delete_run_sets, event_frame
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.engine.store.queries import describe_run_set, list_run_sets
from boflyt.models import runset as runset_module
from boflyt.models.definition import Version
from boflyt.models.errors import CommandError, NotFoundError
from boflyt.models.runset import RunSet, RunSetInfo
from boflyt.models.tables import SimulationRun
from boflyt.models.vocabulary import Mode
from tests.factories import linear_version

MONDAY = dt.datetime(2025, 1, 6, 9, 0)
V1 = linear_version()
V2 = linear_version().model_copy(update={"version": 2})


def cohort(
    engine: Engine,
    version: Version = V1,
    *,
    cases: int = 2,
    origin: str = "simulate",
    replace: bool = False,
    mode: Mode = Mode.SIMULATED,
    name: str | None = None,
) -> str:
    """Store ``cases`` just-started cases as one simulated (or imported) run set; its id."""
    set_id = name or str(uuid.uuid4())
    decisions = [
        decide(version, None, StartCase(f"{set_id[:8]}-{n}", "sim", "housing_office"),
               now=MONDAY + dt.timedelta(hours=n))
        for n in range(cases)
    ]  # fmt: skip
    run = SimulationRun(id=set_id, process=version.process, version=version.version,
                        scenario="default", seed=7, cases=cases, created_at=MONDAY,
                        content_hash=version.content_hash, origin=origin)  # fmt: skip
    store.append_simulated(
        engine, simulation=run, states=[d.state for d in decisions],
        events=[e for d in decisions for e in d.events], mode=mode, replace=replace,
    )  # fmt: skip
    return set_id


def count(engine: Engine, table: str) -> int:
    with read_scope(engine) as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def start_live(engine: Engine, tmp_path: Path, ref: str) -> None:
    key = ReferenceKey.load_or_create(tmp_path / "reference.key")
    store.start_case(engine, version=V1, ref=ref, key=key, actor="ann", org="housing_office",
                     now=MONDAY)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("live", RunSet(Mode.LIVE)),
        (" Simulated:12 ", RunSet(Mode.SIMULATED, "12")),
        ("simulated:c6ca66a6-4ce0", RunSet(Mode.SIMULATED, "c6ca66a6-4ce0")),
        ("imported:lisa_2024.v2", RunSet(Mode.IMPORTED, "lisa_2024.v2")),
    ],
)
def test_a_run_set_reads_and_writes_back_the_same(text: str, expected: RunSet) -> None:
    assert RunSet.parse(text) == expected
    assert RunSet.parse(str(expected)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("observed", "'observed' is not a run set; write live, simulated:N"),
        ("live:x", "the live run set has no name"),
        ("simulated:", "'simulated:' is not a run set"),
        ("simulated:c6c", "a simulation id prefix needs at least 6 characters"),
        ("imported:a b", "'imported:a b' is not a run set"),
        ("01017012345", "that run set is not a run set"),  # never echo what may be a reference
    ],
)
def test_a_bad_run_set_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        RunSet.parse(text)


def test_simulations_get_short_numbers_that_are_never_reused(any_engine: Engine) -> None:
    ids = [cohort(any_engine) for _ in range(3)]
    numbers = [describe_run_set(any_engine, RunSet.simulation(i), process=V1.process,
                                version=1).number for i in ids]  # fmt: skip
    assert numbers == [1, 2, 3]
    delete_run_sets(any_engine, [RunSet.parse("simulated:3")])
    fourth = cohort(any_engine)
    info = describe_run_set(any_engine, RunSet.parse(f"simulated:{fourth[:8]}"),
                            process=V1.process, version=1)  # fmt: skip
    assert (info.number, info.name, info.seed, info.cases) == (4, "simulated:4", 7, 2)
    with read_scope(any_engine) as conn:
        stored = conn.execute(sa.text(f"SELECT value FROM store_meta WHERE name = '{COUNTER}'"))
        assert stored.scalar_one() == "4"


def test_each_run_set_reads_only_its_own_events(any_engine: Engine, tmp_path: Path) -> None:
    first, second = cohort(any_engine, cases=2), cohort(any_engine, cases=3)
    cohort(any_engine, cases=4, mode=Mode.IMPORTED, name="lisa-2024")
    start_live(any_engine, tmp_path, "A-1")
    started = {
        str(runs): event_frame(any_engine, runs=runs).filter(kind="case_started").height
        for runs in (RunSet.parse("simulated:1"), RunSet.simulation(second), RunSet.live(),
                     RunSet.parse("imported:lisa-2024"))
    }  # fmt: skip
    assert started == {"simulated:1": 2, f"simulated:{second}": 3, "live": 1,
                       "imported:lisa-2024": 4}  # fmt: skip
    assert first != second
    assert count(any_engine, "simulation_run") == 2  # an import is no simulation


def test_a_run_set_is_described_for_one_version_only(any_engine: Engine, tmp_path: Path) -> None:
    cohort(any_engine, V1)
    start_live(any_engine, tmp_path, "A-1")
    start_live(any_engine, tmp_path, "A-2")
    live = describe_run_set(any_engine, RunSet.live(), process=V1.process, version=1)
    assert (live.cases, live.label("nb"), live.label("en")) == (
        2, "registrert (n=2)", "registered (n=2)")  # fmt: skip
    assert describe_run_set(any_engine, RunSet.live(), process=V1.process, version=2).cases == 0
    with pytest.raises(CommandError, match="simulated:1 is a simulation of test_process@v1, not"):
        describe_run_set(any_engine, RunSet.parse("simulated:1"), process=V1.process, version=2)
    with pytest.raises(NotFoundError, match="no simulation 'simulated:9'"):
        describe_run_set(any_engine, RunSet.parse("simulated:9"), process=V1.process, version=1)
    with pytest.raises(NotFoundError, match="no imported run set 'imported:nope'"):
        describe_run_set(any_engine, RunSet.parse("imported:nope"), process=V1.process, version=1)


def test_an_id_prefix_that_fits_two_simulations_is_refused(any_engine: Engine) -> None:
    cohort(any_engine, name="abcdef-1")
    cohort(any_engine, name="abcdef-2")
    with pytest.raises(CommandError, match=r"fits several simulations \(simulated:1, simulated:2"):
        event_frame(any_engine, runs=RunSet.parse("simulated:abcdef"))
    frame = event_frame(any_engine, runs=RunSet.parse("simulated:abcdef-2"))
    assert set(frame["case_id"]) == {"abcdef-2-0", "abcdef-2-1"}


def test_the_list_shows_every_set_once_per_version(any_engine: Engine, tmp_path: Path) -> None:
    cohort(any_engine, V2, cases=3, origin="demo")
    cohort(any_engine, V1, cases=2)
    cohort(any_engine, V1, cases=5, mode=Mode.IMPORTED, name="lisa")
    start_live(any_engine, tmp_path, "A-1")
    listed = [(i.name, i.version, i.cases, i.origin) for i in list_run_sets(any_engine)]
    assert listed == [("live", 1, 1, None), ("imported:lisa", 1, 5, None),
                      ("simulated:2", 1, 2, "simulate"), ("simulated:1", 2, 3, "demo")]  # fmt: skip
    assert list_run_sets(any_engine, process="other") == []
    only = list_run_sets(any_engine, runs=RunSet.parse("simulated:1"))
    assert [i.name for i in only] == ["simulated:1"]


def test_deleting_a_set_removes_its_runs_and_nothing_else(any_engine: Engine, tmp_path) -> None:
    keep, drop = cohort(any_engine, cases=2), cohort(any_engine, cases=3)
    cohort(any_engine, cases=4, mode=Mode.IMPORTED, name="lisa")
    start_live(any_engine, tmp_path, "A-1")
    before = {t: count(any_engine, t) for t in ("case_run", "work_item", "event")}
    deleted = delete_run_sets(any_engine, [RunSet.simulation(drop), RunSet.parse("imported:lisa")])
    assert (deleted.sets, deleted.cases) == (2, 7)
    after = {t: count(any_engine, t) for t in ("case_run", "work_item", "event")}
    assert after["case_run"] == before["case_run"] - 7 == 3
    assert before["event"] - after["event"] == deleted.events > 0
    assert after["work_item"] < before["work_item"]
    assert [i.name for i in list_run_sets(any_engine)] == ["live", "simulated:1"]
    assert event_frame(any_engine, runs=RunSet.simulation(keep)).height > 0


def test_live_runs_are_never_deleted_and_a_failed_delete_changes_nothing(
    any_engine: Engine, tmp_path: Path
) -> None:
    cohort(any_engine)
    start_live(any_engine, tmp_path, "A-1")
    with pytest.raises(CommandError, match="live cases are never deleted"):
        delete_run_sets(any_engine, [RunSet.parse("simulated:1"), RunSet.live()])
    with pytest.raises(NotFoundError, match="no imported run set 'imported:nope'"):
        delete_run_sets(any_engine, [RunSet.parse("simulated:1"), RunSet.parse("imported:nope")])
    assert count(any_engine, "case_run") == 3 and count(any_engine, "simulation_run") == 1


def test_replace_keeps_one_set_per_version_and_origin(any_engine: Engine) -> None:
    mine = cohort(any_engine, V1, origin="simulate")
    for _ in range(2):
        cohort(any_engine, V1, origin="demo", replace=True)
        cohort(any_engine, V2, origin="demo", replace=True)
    sets = list_run_sets(any_engine)
    assert [(i.name, i.version, i.origin) for i in sets] == [
        ("simulated:1", 1, "simulate"), ("simulated:4", 1, "demo"), ("simulated:5", 2, "demo"),
    ]  # fmt: skip
    assert count(any_engine, "case_run") == 6 and mine == sets[0].runs.key


def test_labels_say_which_set_and_how_many() -> None:
    info = RunSetInfo(RunSet.parse("imported:lisa"), "p", 1, 40)
    assert info.label("nb") == "importert: lisa (n=40)"
    assert info.label("en") == "imported: lisa (n=40)"
    simulated = RunSetInfo(RunSet.simulation("c6ca66a6"), "p", 2, 2000, number=3, seed=7)
    assert simulated.label("nb") == "simulert: kjøring 3, frø 7, 2\u202f000 saker"
    assert not simulated.measured and info.measured


def test_the_run_set_docstring_examples_hold() -> None:
    result = doctest.testmod(runset_module)
    assert result.attempted > 0 and result.failed == 0
