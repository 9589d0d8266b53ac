"""Bad input through the real command line: one line on stderr, exit code 1, the store unchanged.

Every case runs on a copy of one prepared store: a private_lease v1 case started by nav at
2025-01-06 08:30, its first step completed at 09:00, so nav_register_assess (nav's decision) is
ready and the case's last event is at 09:00.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from boflyt.cli import app
from boflyt.engine.case import bounds
from boflyt.engine.case.decide import compile_flow
from boflyt.engine.definition.load import load_library
from tests.boflyt.conftest import PROCESSES, STAFF, add_staff

FNR = "01017012345"  # synthetic
ROOT = Path(__file__).resolve().parents[2]
LIBRARY = load_library(ROOT / "processes")
runner = CliRunner()
LAST = "2025-01-06T09:00"
"""The prepared case's last event."""
SOON = "<in 10 minutes>"
"""Replaced by the present plus ten minutes when the test runs."""


def _outside() -> frozenset[str]:
    return frozenset(lane.id for lane in LIBRARY.lanes.lanes if lane.outside)


def _not_a_starter(process: str) -> str:
    """An internal organisation of the library that may not start a case on ``process``."""
    version = LIBRARY.get(process)
    flow = compile_flow(version, _outside() & frozenset(version.lanes))
    internal = [lane for lane in LIBRARY.lanes.ids if lane not in _outside()]
    return next(lane for lane in internal if lane not in bounds.start_orgs(flow))


def _set_env(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(data))
    monkeypatch.delenv("BOFLYT_DATABASE_URL", raising=False)
    monkeypatch.delenv("BOFLYT_HOME", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def _ok(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A data folder holding the prepared case, and the case id."""
    data = tmp_path_factory.mktemp("prepared") / "data"
    with pytest.MonkeyPatch.context() as monkeypatch:
        _set_env(monkeypatch, data)
        monkeypatch.setenv("BOFLYT_PROCESSES_DIR", str(PROCESSES))
        add_staff(*STAFF, "k" * 64)
        add_staff("hilde", orgs=("housing_office",))
        output = _ok("case", "start", "private_lease", "--version", "1", "--as", "kari",
                     "--org", "nav", "--at", "2025-01-06T08:30", stdin=FNR)  # fmt: skip
        case_id = re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", output).group(0)
        _ok("case", "complete", case_id, "apply_on_paper", "--as", "kari", "--org", "nav",
            "--at", LAST)  # fmt: skip
    return data, case_id


@pytest.fixture
def case(prepared: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A copy of the prepared store for this test; the case id."""
    data = tmp_path / "data"
    shutil.copytree(prepared[0], data)
    _set_env(monkeypatch, data)
    return prepared[1]


def _db() -> Path:
    return Path(os.environ["BOFLYT_DATA_DIR"]) / "boflyt.db"


def _dump() -> dict[str, list[str]]:
    """Every row of every table of the store in the data folder, sorted."""
    with sqlite3.connect(_db()) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: sorted(map(repr, conn.execute(f'SELECT * FROM "{n}"'))) for n in names}


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert result.stdout == ""
    return lines[0]


HUGE = "x" * 100_000
FORGED = "kari\n2025-01-06 09:00  sak avsluttet"
CASE = "<case>"


def _who(actor: str, org: str, at: str | None) -> list[str]:
    return ["--as", actor, "--org", org, *(["--at", at] if at else [])]


def _start(*, org: str = "nav", actor: str = "kari", process: str = "private_lease",
           at: str | None = None) -> list[str]:  # fmt: skip
    return ["case", "start", process, *_who(actor, org, at)]


def _begin(*, org: str = "nav", actor: str = "kari", step: str = "nav_register_assess",
           at: str | None = None) -> list[str]:  # fmt: skip
    return ["case", "begin", CASE, step, *_who(actor, org, at)]


def _complete(*, org: str = "nav", actor: str = "kari", outcome: str = "in_target_group",
              minutes: str | None = None, at: str | None = None) -> list[str]:  # fmt: skip
    extra = ["--minutes", minutes] if minutes else []
    return ["case", "complete", CASE, "nav_register_assess", "--outcome", outcome, *extra,
            *_who(actor, org, at)]  # fmt: skip


def _cancel(*, org: str = "nav", actor: str = "kari", reason: str | None = None,
            at: str | None = None) -> list[str]:  # fmt: skip
    return ["case", "cancel", CASE, *(["--reason", reason] if reason else []),
            *_who(actor, org, at)]  # fmt: skip


MINUTES = [("inf", "inf"), ("nan", "nan"), ("-1", "-1"), ("10000.5", "10000.5"),
           ("1e309", "inf"), ("-inf", "-inf")]  # fmt: skip
STARTER = _not_a_starter("eviction_prevention")

BAD = [
    ("start: organisation not allowed to start",
     _start(process="eviction_prevention", org=STARTER), f"{STARTER} may not start a case on"),
    ("start: unknown organisation", _start(org="nav2"),
     "unknown organisation 'nav2'; did you mean 'nav'? known: accounting, "),
    ("start: far future", _start(at="2100-01-01T00:00"), "days in the future"),
    ("start: ten minutes ahead", _start(at=SOON), "minutes in the future"),
    ("start: 100,000-character actor", _start(actor=HUGE),
     "actor name is 100,000 characters long; at most 100"),
    ("start: actor with a newline", _start(actor=FORGED),
     "actor name contains a control character (U+000A"),
    ("start: actor with an escape", _start(actor="\x1b[31mkari"), "U+001B"),
    ("start: bidi override in actor", _start(actor="kari\u202e"), "U+202E"),
    ("start: newline in the process", _start(process="private\nlease"),
     "process contains a control character"),
    ("begin: organisation not allowed on the step", _begin(org="accounting"),
     "accounting may not begin"),
    ("begin: unknown organisation", _begin(org="housingoffice"),
     "did you mean 'housing_office'?"),
    ("begin: before the last event", _begin(at="2025-01-06T08:59"),
     "before the case's last event"),
    ("begin: years before the case", _begin(at="1900-01-01T00:00"),
     "before the case's last event"),
    ("begin: far future", _begin(at="2100-01-01T00:00"), "in the future"),
    ("begin: 100,000-character actor", _begin(actor=HUGE), "100,000 characters"),
    ("begin: actor with a newline", _begin(actor=FORGED), "U+000A"),
    ("begin: no such account", _begin(actor="nobody"),
     "'nobody' is not an account of this store; case work is done as an account: "
     "'boflyt user add nobody --org nav --role caseworker' adds one"),
    ("begin: an account of another organisation", _begin(actor="hilde"),
     "account 'hilde' acts for housing_office, not for 'nav'"),
    ("complete: a note of 501 characters", [*_complete(), "--note", "n" * 501],
     "note is 501 characters long; at most 500"),
    ("begin: tab in the step", _begin(step="nav\tregister"),
     "step contains a control character (U+0009"),
    *[(f"complete: minutes {m}", _complete(minutes=m),
       f"touch minutes must be a number from 0 to 10,000, not {shown}") for m, shown in MINUTES],
    ("complete: organisation not allowed", _complete(org="housing_office"),
     "housing_office may not complete"),
    ("complete: unknown organisation", _complete(org="NAV"), "did you mean 'nav'?"),
    ("complete: markup as organisation", _complete(org="[/]"),
     "unknown organisation '[/]'; known: "),
    ("complete: before the last event", _complete(at="2025-01-05T09:00"),
     "before the case's last event (2025-01-06 09:00 UTC)"),
    ("complete: ten minutes ahead", _complete(at=SOON), "in the future"),
    ("complete: actor forging a timeline line", _complete(actor=FORGED), "U+000A"),
    ("complete: outcome with a newline", _complete(outcome="in_target\ngroup"),
     "outcome contains"),
    ("complete: 100,000-character outcome", _complete(outcome=HUGE),
     "outcome is 100,000 characters"),
    ("cancel: an outside party", _cancel(org="tenant"), "tenant may not cancel case"),
    ("cancel: an organisation not in the version", _cancel(org="refugee_service"),
     "refugee_service may not cancel"),
    ("cancel: unknown organisation (narnia)", _cancel(org="narnia"),
     "unknown organisation 'narnia'; known: "),
    ("cancel: before the last event", _cancel(at="2025-01-06T08:45"),
     "before the case's last event"),
    ("cancel: far future", _cancel(at="2031-01-01T00:00"), "in the future"),
    ("cancel: reason with markup and an escape", _cancel(reason="moved [/] \x1b[2J away"),
     "reason contains a control"),
    ("cancel: reason with a newline", _cancel(reason="moved\n2025-01-06 09:00  sak avsluttet"),
     "reason contains a control"),
    ("cancel: reason of 501 characters", _cancel(reason="r" * 501),
     "reason is 501 characters long; at most 500"),
    ("cancel: 100,000-character actor", _cancel(actor=HUGE), "100,000 characters"),
    ("cancel: blank actor", _cancel(actor="  "), "actor name is empty"),
    ("inbox: unknown organisation", ["inbox", "housingoffice"],
     "unknown organisation 'housingoffice'; did you mean 'housing_office'?"),
    ("inbox: organisation with a newline", ["inbox", "nav\nsak avsluttet"],
     "organisation contains a control character"),
    ("inbox: 100,000-character organisation", ["inbox", HUGE], "organisation is 100,000"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_exit_1_and_the_store_is_unchanged(
    case: str, args: list[str], expected: str
) -> None:
    soon = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=10)
    args = [case if a == CASE else f"{soon:%Y-%m-%dT%H:%M:%S}" if a == SOON else a for a in args]
    before = _dump()
    line = _one_line_error(runner.invoke(app, args, input=FNR + "\n"))
    assert expected in line
    assert HUGE not in line and FNR not in line and len(line) < 400
    assert _dump() == before


BAD_REFERENCES = [
    ("0101\x0770 12345", "the case reference contains a control character (U+0007"),
    ("1" * 65, "the case reference is 65 characters long; at most 64"),
    ("010170\u200b12345", "U+200B"),
]


@pytest.mark.parametrize(("ref", "expected"), BAD_REFERENCES)
def test_a_bad_case_reference_is_refused_without_repeating_it(
    case: str, ref: str, expected: str
) -> None:
    before = _dump()
    line = _one_line_error(runner.invoke(app, ["case", "start", "private_lease", "--as", "kari",
                                               "--org", "nav"], input=ref + "\n"))  # fmt: skip
    assert expected in line and ref not in line and "12345" not in line
    assert _dump() == before


def test_values_on_the_bounds_are_accepted(case: str) -> None:
    """Exactly at each limit: same time as the last event, 0 and 10,000 minutes, 100 and 500
    characters, and a time a minute or two ahead of the clock."""
    _ok("case", "begin", case, "nav_register_assess", "--as", "k" * 64, "--org", "nav",
        "--at", LAST)  # fmt: skip
    _ok("case", "complete", case, "nav_register_assess", "--as", "ole", "--org", "nav",
        "--outcome", "in_target_group", "--minutes", "10000", "--note", "n" * 500,
        "--at", LAST)  # fmt: skip
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    _ok("case", "cancel", case, "--as", "kari", "--org", "housing_office", "--reason", "r" * 500,
        "--at", ahead.isoformat(timespec="seconds"))  # fmt: skip
    again = _ok("case", "start", "private_lease", "--as", "kari", "--org", "tenant",
                stdin=FNR)  # fmt: skip
    case_id = re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", again).group(0)
    flow = compile_flow(LIBRARY.get("private_lease"))
    (application,) = flow.targets[(flow.start, None)]  # the tenant's application
    _ok("case", "complete", case_id, application, "--as", "kari", "--org", "nav", "--minutes", "0")


def test_markup_in_names_prints_literally_and_case_show_keeps_working(case: str) -> None:
    for name in ("[/]", "[bold]ole[/bold] \\"):  # no account has such a name: refused, literally
        refused = runner.invoke(app, ["case", "begin", case, "nav_register_assess", "--as", name,
                                      "--org", "nav", "--at", "2025-01-07T09:00"])  # fmt: skip
        assert f"error: '{name}' is not an account of this store" in _one_line_error(refused)
    _ok("case", "begin", case, "nav_register_assess", "--as", "ole", "--org", "nav",
        "--at", "2025-01-07T09:00")  # fmt: skip
    _ok("case", "complete", case, "nav_register_assess", "--as", "ole", "--org", "nav",
        "--outcome", "in_target_group", "--note", "[b]ring[/b] back", "--at",
        "2025-01-07T10:00")  # fmt: skip
    _ok("case", "cancel", case, "--as", "kari", "--reason", "[red]moved[/] away [/]",
        "--org", "nav", "--at", "2025-01-08T10:00")  # fmt: skip
    for lang in ("nb", "en"):
        shown = _ok("case", "show", case, "--lang", lang)
        assert "påbegynt" in shown or "step started" in shown
        assert "· ole NAV" in shown
        assert "· kari NAV" in shown
        assert "[red]moved[/] away [/]" in shown
        assert "· [b]ring[/b] back" in shown  # the completion's note
    listed = _ok("case", "list")
    assert case[:8] in listed


def test_a_stored_newline_cannot_forge_a_timeline_line(case: str) -> None:
    """A name stored before the bounds existed prints escaped, on its own line."""
    with sqlite3.connect(_db()) as conn:
        conn.execute("UPDATE event SET actor = ?, detail = ? WHERE case_id = ? AND seq = 1",
                     (FORGED, "\x1b[2J", case))  # fmt: skip
    shown = _ok("case", "show", case)
    assert "kari\\n2025-01-06 09:00  sak avsluttet" in shown
    assert "\x1b" not in shown
    event_lines = [line for line in shown.splitlines() if re.match(r"\d{4}-\d\d-\d\d ", line)]
    assert not any("  sak avsluttet" in line[:30] for line in event_lines), shown


@pytest.mark.slow
def test_an_unknown_inbox_is_an_error_in_a_real_process(case: str) -> None:
    boflyt = Path(sys.executable).with_name("boflyt")
    result = subprocess.run([str(boflyt), "inbox", "housingoffice"], capture_output=True,
                            text=True, timeout=120, env=dict(os.environ))  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: unknown organisation 'housingoffice'; did you mean 'housing_office'? known: "
        + ", ".join(sorted(LIBRARY.lanes.ids))
    ]
    assert result.stdout == ""
