"""The store under real processes: first starts at once, racing completes, file modes, and
one-line errors (never a traceback) for stores that cannot be used.

Every subprocess gets its own PREFECT_HOME in a temporary folder.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from boflyt.engine.case.decide import open_items
from boflyt.engine.definition.load import load_library
from boflyt.engine.store import accounts, db
from boflyt.engine.store import commands as store
from boflyt.engine.store.db import HEAD, make_engine, open_schema, store_revision, write_scope
from boflyt.models.errors import StoreError
from boflyt.models.vocabulary import Role
from boflyt.workspace import Workspace
from tests.engine.store.racing import classify, run_at_once

pytestmark = pytest.mark.slow  # spawns processes: out of `make test-fast`

BIN = Path(sys.executable).parent
OPEN = "from boflyt.workspace import Workspace; Workspace.current().open_store(); print('ok')"
RACERS = 24
"""Processes racing one step (bench/store_processes.py runs 200)."""


def _env(tmp_path: Path, **settings: str) -> dict[str, str]:
    home = tmp_path / "prefect-home"
    home.mkdir(exist_ok=True)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BOFLYT_")}
    return clean | {"PREFECT_HOME": str(home), "COLUMNS": "200", **settings}


# --------------------------------------------------------------------------- many processes


@pytest.mark.timeout(300)
def test_twenty_first_starts_at_once_all_succeed(empty_store_url, tmp_path):
    settings = {"BOFLYT_DATABASE_URL": empty_store_url, "BOFLYT_DATA_DIR": str(tmp_path)}
    results = run_at_once(
        [[sys.executable, "-c", OPEN]] * 20, _env(tmp_path, **settings), timeout=300
    )
    assert [(code, "Traceback" in err) for code, err in results] == [(0, False)] * 20, results
    engine = make_engine(empty_store_url)
    assert store_revision(engine).revision == HEAD
    engine.dispose()


@pytest.mark.timeout(600)
def test_racing_completes_of_one_step_on_sqlite_give_one_success_and_no_lock_errors(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(tmp_path))
    workspace = Workspace.current()
    engine = workspace.open_store()
    library = load_library(workspace.processes_dir)
    version = library.get("private_lease", None)
    state = store.start_case(engine, version=version, ref="RACE-1",
                             key=workspace.reference_key(engine), actor="ann",
                             org="housing_office", now=dt.datetime(2025, 1, 6, 9),
                             lanes=library.lanes)  # fmt: skip
    item = open_items(state)[0]
    lane = version.step(item.step).lane
    accounts.add_account(
        engine,
        username="racer",
        password="correct horse battery",
        orgs=[lane],
        roles=[Role.CASEWORKER],
        now=dt.datetime(2025, 1, 6),
    )
    commands = [
        [str(BIN / "boflyt"), "case", "complete", state.case_id, item.step, "--as", "racer",
         "--org", lane]
    ] * RACERS  # fmt: skip
    results = run_at_once(commands, _env(tmp_path, BOFLYT_DATA_DIR=str(tmp_path)), timeout=300)
    kinds = Counter(classify(code, err) for code, err in results)
    assert kinds == {"ok": 1, "refused": RACERS - 1}, results
    completions = [
        e for e in store.case_timeline(engine, state.case_id)
        if e.kind.value == "step_completed" and e.step == item.step
    ]  # fmt: skip
    assert len(completions) == 1
    engine.dispose()


# --------------------------------------------------------------------------- files


def test_the_store_file_and_its_wal_and_shm_are_owner_only(tmp_path):
    path = tmp_path / "boflyt.db"
    engine = make_engine(f"sqlite:///{path}")
    open_schema(engine)
    with write_scope(engine) as conn:
        conn.exec_driver_sql("INSERT INTO store_meta (name, value) VALUES ('probe', 'x')")
        for suffix in ("", "-wal", "-shm"):
            mode = stat.S_IMODE(os.stat(f"{path}{suffix}").st_mode)
            assert mode == 0o600, f"{path.name}{suffix}: {mode:o}"
    engine.dispose()


def test_loose_store_files_left_by_an_older_release_are_made_owner_only(tmp_path):
    path = tmp_path / "boflyt.db"
    first = make_engine(f"sqlite:///{path}")
    open_schema(first)
    # Closed now, not whenever the collector gets to it: the last connection to close removes
    # the -wal and -shm files, which would race with the files this test puts there.
    first.dispose()
    files = [path, tmp_path / "boflyt.db-wal", tmp_path / "boflyt.db-shm"]
    for each in files:
        each.touch()
        each.chmod(0o644)
    make_engine(f"sqlite:///{path}").dispose()
    assert [stat.S_IMODE(each.stat().st_mode) for each in files] == [0o600] * 3


# --------------------------------------------------------------------------- bad stores


def _text_file(path: Path) -> None:
    path.write_text("these are my notes, not a database\n" * 50)


def _random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(1).randbytes(64 * 1024))


def _overwritten_pages(path: Path) -> None:
    """A real store with pages in the middle overwritten (the header page intact)."""
    engine = make_engine(f"sqlite:///{path}")
    open_schema(engine)
    with write_scope(engine) as conn:
        conn.execute(
            sa.text(
                "INSERT INTO simulation_run (id, process, version, scenario, seed, cases, "
                "created_at, content_hash, number, origin) "
                "VALUES (:id, 'p', 1, :s, 1, 1, '2025-01-06', 'h', :n, 'simulate')"
            ),
            [{"id": f"run-{n:05d}", "s": "x" * 150, "n": n + 1} for n in range(2000)],
        )
    engine.dispose()  # the last connection checkpoints the WAL into the file
    page = 4096
    assert path.stat().st_size > 40 * page
    with path.open("r+b") as file:
        file.seek(20 * page)
        file.write(random.Random(2).randbytes(4 * page))


def _foreign_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")


BAD_FILES = {
    "text file": (_text_file, "not a readable Boflyt store"),
    "random bytes": (_random_bytes, "not a readable Boflyt store"),
    "overwritten pages": (_overwritten_pages, "damaged"),
    "another application's database": (_foreign_sqlite, "another application's tables"),
}


def _one_line_failure(tmp_path: Path, settings: dict[str, str]) -> str:
    result = subprocess.run(
        [str(BIN / "boflyt"), "case", "list"], env=_env(tmp_path, **settings),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert "case(s)" not in result.stdout  # never read as an empty store
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("bad", BAD_FILES, ids=list(BAD_FILES))
def test_a_file_that_is_not_a_usable_store_is_one_line_on_the_cli(tmp_path, bad):
    make, expected = BAD_FILES[bad]
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    make(data / "boflyt.db")
    line = _one_line_failure(tmp_path, {"BOFLYT_DATA_DIR": str(data)})
    assert expected in line
    assert str(data / "boflyt.db") in line


def test_an_unreachable_postgresql_server_is_one_line_with_the_password_masked(tmp_path):
    url = "postgresql://clerk:hunter2secret@127.0.0.1:1/boflyt"
    line = _one_line_failure(tmp_path, {"BOFLYT_DATABASE_URL": url})
    assert "clerk:***@127.0.0.1:1/boflyt" in line
    assert "hunter2secret" not in line


@pytest.mark.skipif(os.getuid() == 0, reason="root writes read-only files; see the next test")
def test_a_read_only_store_folder_is_one_line_on_the_cli(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    open_schema(make_engine(f"sqlite:///{data / 'boflyt.db'}"))
    (data / "boflyt.db").chmod(0o400)
    data.chmod(0o500)
    try:
        line = _one_line_failure(tmp_path, {"BOFLYT_DATA_DIR": str(data)})
    finally:
        data.chmod(0o700)
    assert "read-only" in line or "not writable" in line


def test_a_read_only_store_is_refused_before_sqlite_tries_to_write(tmp_path, monkeypatch):
    path = tmp_path / "boflyt.db"
    open_schema(make_engine(f"sqlite:///{path}"))
    monkeypatch.setattr(db.os, "access", lambda *args, **kwargs: False)
    with pytest.raises(StoreError, match=r"is read-only \(file or folder not writable\)"):
        open_schema(make_engine(f"sqlite:///{path}"))
