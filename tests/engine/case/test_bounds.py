"""Input bounds: the rules of engine/bounds.py, and the store refusing out-of-bounds commands on
SQLite and PostgreSQL with every table exactly as it was."""

from __future__ import annotations

import datetime as dt
import doctest
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boflyt.engine.case import bounds
from boflyt.engine.case.decide import compile_flow
from boflyt.engine.definition.load import load_library
from boflyt.engine.store import commands as store
from boflyt.engine.store.db import read_scope
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.definition import Lane, LaneCatalog, Text
from boflyt.models.errors import AccessError, CommandError
from boflyt.models.tables import metadata
from tests.factories import branching_version, linear_version

MONDAY = dt.datetime(2025, 1, 6, 9, 0)
PRESENT = dt.datetime(2025, 3, 3, 12, 0)
LANES = LaneCatalog(
    lanes=(
        Lane(id="housing_office", name=Text(nb="Boligkontoret", en="Housing office")),
        Lane(id="nav", name=Text(nb="NAV-kontoret", en="NAV office")),
        Lane(id="accounting", name=Text(nb="Regnskapskontoret", en="Accounting office")),
        Lane(id="landlord", name=Text(nb="Privat utleier", en="Landlord"), outside=True),
    )
)
LIBRARY = load_library(Path(__file__).resolve().parents[3] / "processes")


def clock() -> dt.datetime:
    return PRESENT


def test_the_doctests_hold() -> None:
    assert doctest.testmod(bounds).failed == 0


@pytest.mark.parametrize(
    ("value", "limit", "message"),
    [
        ("", 10, "is empty"),
        (" \t ", 10, "is empty"),
        ("x" * 11, 10, "is 11 characters long; at most 10 are allowed"),
        ("a\nb", 10, "control character (U+000A LINE FEED at position 2)"),
        ("a\tb", 10, "U+0009"),
        ("\x1b[31m", 10, "U+001B"),
        ("a\x00", 10, "U+0000"),
        ("a\u2028b", 10, "U+2028 LINE SEPARATOR"),
        ("a\u202eb", 10, "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("a\u200bb", 10, "U+200B ZERO WIDTH SPACE"),
        ("a\ud800b", 10, "U+D800"),
        ("a\x85b", 10, "U+0085"),
    ],
)
def test_bad_text_is_refused_without_being_repeated(value: str, limit: int, message: str) -> None:
    with pytest.raises(CommandError) as raised:
        bounds.check_text(value, what="actor name", limit=limit)
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert str(raised.value).startswith("actor name ")


@pytest.mark.parametrize("value", ["Åse Ødegård", "[/]", "kari\\", "O'Brien (NAV)", "李", "x" * 20])
def test_good_text_passes_unchanged(value: str) -> None:
    assert bounds.check_text(value, what="actor name", limit=20) == value


@pytest.mark.parametrize("minutes", [0, 0.5, 10_000, None])
def test_minutes_within_bounds_pass(minutes: float | None) -> None:
    assert bounds.check_minutes(minutes) == minutes


@pytest.mark.parametrize("minutes", [-0.1, 10_000.01, float("inf"), float("-inf"), float("nan")])
def test_minutes_out_of_bounds_are_refused(minutes: float) -> None:
    with pytest.raises(CommandError, match="touch minutes must be a number from 0 to 10,000"):
        bounds.check_minutes(minutes)


def test_time_is_monotonic_per_case_and_not_in_the_future() -> None:
    last = dt.datetime(2025, 3, 3, 9, 0)
    bounds.check_time(last, last=last, present=PRESENT)  # the same instant is fine
    bounds.check_time(PRESENT + bounds.FUTURE_SLACK, last=last, present=PRESENT)
    with pytest.raises(CommandError, match=r"before the case's last event \(2025-03-03 09:00"):
        bounds.check_time(last - dt.timedelta(seconds=1), last=last, present=PRESENT)
    with pytest.raises(CommandError, match="is 6 minutes in the future"):
        bounds.check_time(PRESENT + dt.timedelta(minutes=6), last=None, present=PRESENT)
    with pytest.raises(CommandError, match="is 3 hours in the future"):
        bounds.check_time(PRESENT + dt.timedelta(hours=3), last=None, present=PRESENT)


@pytest.mark.parametrize(
    ("org", "message"),
    [
        ("nav2", "unknown organisation 'nav2'; did you mean 'nav'? known: accounting, "),
        ("NAV", "did you mean 'nav'?"),
        ("housingoffice", "did you mean 'housing_office'?"),
        ("narnia", "unknown organisation 'narnia'; known: accounting, housing_office, "),
        ("nav\nx", "organisation contains a control character"),
        ("n" * 65, "organisation is 65 characters long; at most 64"),
    ],
)
def test_an_unknown_organisation_gets_a_suggestion(org: str, message: str) -> None:
    with pytest.raises(CommandError) as raised:
        bounds.check_known_org(org, LANES.ids)
    assert message in str(raised.value)


def test_visible_escapes_only_what_is_refused() -> None:
    assert bounds.visible("Åse [/] \\ ok") == "Åse [/] \\ ok"
    assert bounds.visible("a\nb\tc\x1b\u202e") == "a\\nb\\tc\\x1b\\u202e"
    assert bounds.visible("x" * 50, limit=40) == "x" * 40 + "…"


def test_who_may_start_and_cancel_in_the_seed_library() -> None:
    outside = frozenset(lane.id for lane in LIBRARY.lanes.lanes if lane.outside)
    for process in LIBRARY.processes():
        for version in LIBRARY.versions(process):
            flow = compile_flow(version, outside & frozenset(version.lanes))
            start = flow.steps[flow.start]
            assert start.allowed <= bounds.start_orgs(flow) <= frozenset(version.lanes)
            assert bounds.cancel_orgs(flow) == frozenset(version.lanes) - outside
    lease = compile_flow(LIBRARY.get("private_lease", 1), outside)
    assert {"tenant", "nav", "housing_office"} <= bounds.start_orgs(lease)  # tenant's own start


def test_a_start_step_inside_the_municipality_is_started_by_its_lane() -> None:
    flow = compile_flow(linear_version())  # start in housing_office, then a (housing_office)
    assert bounds.start_orgs(flow) == {"housing_office"}
    with pytest.raises(AccessError, match="nav may not start x; allowed organisations: housing"):
        bounds.check_org_may("nav", bounds.start_orgs(flow), verb="start", case="x")


# --------------------------------------------------------------------------- the store


@pytest.fixture
def key(tmp_path: Path) -> ReferenceKey:
    return ReferenceKey.load_or_create(tmp_path / "keys" / "reference.key")


def _dump(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, sorted by its text."""
    with read_scope(engine) as conn:
        return {
            table.name: sorted((tuple(row) for row in conn.execute(sa.select(table))), key=repr)
            for table in metadata.sorted_tables
        }


def _started(engine: Engine, key: ReferenceKey) -> str:
    state = store.start_case(engine, version=branching_version(), ref="A-1", key=key,
                             actor="ann", org="housing_office", now=MONDAY, lanes=LANES,
                             clock=clock)  # fmt: skip
    store.complete_step(engine, case_id=state.case_id, step="intake", actor="ann",
                        org="housing_office", now=MONDAY + dt.timedelta(hours=1),
                        lanes=LANES, clock=clock)  # fmt: skip
    return state.case_id


LATER = MONDAY + dt.timedelta(hours=2)
BAD_COMMANDS = [
    ("begin", {"step": "assess", "org": "nav2"}, "did you mean 'nav'?"),
    ("begin", {"step": "assess", "org": "accounting"}, "accounting may not begin"),
    ("begin", {"step": "assess", "now": MONDAY}, "before the case's last event"),
    ("begin", {"step": "assess", "now": PRESENT + dt.timedelta(minutes=6)}, "in the future"),
    ("begin", {"step": "assess", "actor": "a" * 101}, "101 characters long"),
    ("begin", {"step": "assess\n"}, "step contains a control character"),
    ("complete", {"step": "assess", "outcome": "approve", "touch_minutes": float("nan")},
     "not nan"),
    ("complete", {"step": "assess", "outcome": "approve", "touch_minutes": 1e6}, "not 1e+06"),
    ("complete", {"step": "assess", "outcome": "approve\x1b"}, "outcome contains"),
    ("complete", {"step": "assess", "outcome": "approve", "actor": "x\ny"}, "U+000A"),
    ("cancel", {"org": "landlord"}, "landlord may not cancel"),
    ("cancel", {"reason": "r" * 501}, "reason is 501 characters"),
    ("cancel", {"reason": "a\tb"}, "U+0009"),
    ("cancel", {"now": MONDAY}, "before the case's last event"),
]  # fmt: skip


@pytest.mark.parametrize(("command", "changes", "message"), BAD_COMMANDS)
def test_the_store_refuses_bad_commands_and_changes_nothing(
    any_engine: Engine, key: ReferenceKey, command: str, changes: dict, message: str
) -> None:
    case_id = _started(any_engine, key)
    kwargs = {"case_id": case_id, "actor": "bo", "org": "nav", "now": LATER, "lanes": LANES,
              "clock": clock, **changes}  # fmt: skip
    act = {"begin": store.begin_step, "complete": store.complete_step,
           "cancel": store.cancel_case}[command]  # fmt: skip
    before = _dump(any_engine)
    with pytest.raises(CommandError, match=re.escape(message)):
        act(any_engine, **kwargs)
    assert _dump(any_engine) == before


def test_without_a_lane_catalogue_the_versions_lanes_are_the_known_ones(any_engine, key):
    case_id = _started(any_engine, key)
    before = _dump(any_engine)
    with pytest.raises(CommandError, match="unknown organisation 'accounting'; known: housing"):
        store.begin_step(any_engine, case_id=case_id, step="assess", actor="bo",
                         org="accounting", now=LATER, clock=clock)  # fmt: skip
    assert _dump(any_engine) == before
    store.begin_step(any_engine, case_id=case_id, step="assess", actor="bo", org="nav",
                     now=LATER, clock=clock)  # fmt: skip


def test_a_refused_start_does_not_even_publish_the_version(any_engine, key):
    before = _dump(any_engine)
    refused = [
        ({"actor": "a\nb"}, "U+000A"),
        ({"org": "navv"}, "did you mean 'nav'?"),
        ({"org": "nav"}, "nav may not start a case on test_process@v1"),
        ({"now": PRESENT + dt.timedelta(days=2)}, "2 days in the future"),
        ({"ref": "A\x00-1"}, "the case reference contains a control character"),
    ]
    for changes, message in refused:
        kwargs = {"version": linear_version(), "ref": "A-1", "key": key, "actor": "ann",
                  "org": "housing_office", "now": MONDAY, "lanes": LANES, "clock": clock,
                  **changes}  # fmt: skip
        with pytest.raises(CommandError, match=re.escape(message)):
            store.start_case(any_engine, **kwargs)
        assert _dump(any_engine) == before, changes
    assert not before["published_version"]


def test_the_inbox_of_an_unknown_organisation_is_an_error(any_engine, key):
    _started(any_engine, key)
    with pytest.raises(CommandError, match="did you mean 'housing_office'"):
        store.inbox(any_engine, org="housingoffice", now=LATER, lanes=LANES)
    assert [e.step for e in store.inbox(any_engine, org="nav", now=LATER, lanes=LANES)] == [
        "assess"
    ]


def test_escalation_refuses_a_future_now_and_skips_a_case_with_later_events(any_engine, key):
    case_id = _started(any_engine, key)
    with pytest.raises(CommandError, match="in the future"):
        store.escalate_overdue(any_engine, now=PRESENT + dt.timedelta(hours=1), clock=clock)
    store.complete_step(any_engine, case_id=case_id, step="assess", actor="bo", org="nav",
                        now=LATER, outcome="approve", lanes=LANES, clock=clock)  # fmt: skip
    store.complete_step(any_engine, case_id=case_id, step="pay", actor="bo", org="nav",
                        now=dt.datetime(2025, 2, 10, 9), lanes=LANES, clock=clock)  # fmt: skip
    # the landlord's contract (10 working days) is overdue on 02-05, but the case has an event
    # on 02-10: escalating it then would date an event before it; the next run does it
    assert store.escalate_overdue(any_engine, now=dt.datetime(2025, 2, 5), clock=clock) == 0
    assert store.escalate_overdue(any_engine, now=dt.datetime(2025, 2, 11), clock=clock) == 1
