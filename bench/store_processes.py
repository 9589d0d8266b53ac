"""Benchmark the store under many processes; print counts and times.

* SQLite race: one case with one ready step, then N ``boflyt case complete`` processes started
  at once on it (default 200). Expected: exactly 1 success, N-1 refusals (one error line each),
  0 "database is locked", 0 tracebacks.
* PostgreSQL first start: M processes (default 20) open an empty database at once (the open
  path of every command: read the revision, migrate under ``pg_advisory_xact_lock``). Expected:
  all succeed, no traceback, the store at head. Skipped when no server answers at 127.0.0.1.

Run: ``.venv/bin/python bench/store_processes.py [--complete N] [--first-start M] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from boflyt.engine.case.decide import open_items  # noqa: E402
from boflyt.engine.definition.load import load_library  # noqa: E402
from boflyt.engine.store import accounts  # noqa: E402
from boflyt.engine.store import commands as store  # noqa: E402
from boflyt.engine.store.db import HEAD, make_engine, store_revision  # noqa: E402
from boflyt.models.vocabulary import Role  # noqa: E402
from boflyt.workspace import Workspace  # noqa: E402
from tests.engine.store.racing import classify, run_at_once  # noqa: E402
from tests.fixtures.store import fresh_pg_database  # noqa: E402

BIN = Path(sys.executable).parent
OPEN = "from boflyt.workspace import Workspace; Workspace.current().open_store(); print('ok')"


def _env(**extra: str) -> dict[str, str]:
    home = tempfile.mkdtemp(prefix="boflyt-bench-prefect-")
    atexit.register(shutil.rmtree, home, ignore_errors=True)  # gone when the bench ends
    return os.environ | {"PREFECT_HOME": home, "COLUMNS": "200", **extra}


def _race(commands: list[list[str]], env: dict[str, str]) -> tuple[Counter[str], float, str]:
    """Start ``commands`` at once; count each exit's kind (:func:`classify`), time the lot and
    keep one line of the first exit that is neither ok nor refused."""
    start = time.perf_counter()
    results = run_at_once(commands, env)
    kinds = [classify(code, err) for code, err in results]
    odd = [(code, err) for (code, err), kind in zip(results, kinds, strict=True)
           if kind not in ("ok", "refused")]  # fmt: skip
    sample = ""
    if odd:
        code, err = odd[0]
        sample = err.strip().splitlines()[-1] if err.strip() else f"exit {code}"
    return Counter(kinds), time.perf_counter() - start, sample


def sqlite_race(processes: int) -> tuple[Counter[str], float, str]:
    """N ``boflyt case complete`` processes on one ready step of a fresh SQLite store."""
    with tempfile.TemporaryDirectory() as folder:
        env = _env(BOFLYT_DATA_DIR=folder)
        os.environ["BOFLYT_DATA_DIR"] = folder
        try:
            workspace = Workspace.current()
            engine = workspace.open_store()
            library = load_library(workspace.processes_dir)
            version = library.get("private_lease", None)
            state = store.start_case(
                engine, version=version, ref=f"BENCH-{uuid.uuid4().hex[:8]}",
                key=workspace.reference_key(engine), actor="bench", org="housing_office",
                now=dt.datetime(2025, 1, 6, 9), lanes=library.lanes,
            )  # fmt: skip
            lane = version.step(open_items(state)[0].step).lane
            accounts.add_account(
                engine,
                username="racer",
                password="correct horse battery",
                orgs=[lane],
                roles=[Role.CASEWORKER],
                now=dt.datetime(2025, 1, 6),
            )
            engine.dispose()
        finally:
            del os.environ["BOFLYT_DATA_DIR"]
        item = open_items(state)[0]
        lane = version.step(item.step).lane
        command = [str(BIN / "boflyt"), "case", "complete", state.case_id, item.step,
                   "--as", "racer", "--org", lane]  # fmt: skip
        return _race([command] * processes, env)


def pg_first_start(processes: int) -> tuple[Counter[str], float, str] | None:
    """M processes opening one empty PostgreSQL database at once; None without a server."""
    try:
        with fresh_pg_database() as url:
            env = _env(BOFLYT_DATABASE_URL=url)
            result = _race([[sys.executable, "-c", OPEN]] * processes, env)
            engine = make_engine(url)
            assert store_revision(engine).revision == HEAD, "the store is not at head"
            engine.dispose()
            return result
    except pytest.skip.Exception as skipped:
        print(f"({skipped.msg}; skipped)")
        return None


def _show(label: str, result: tuple[Counter[str], float, str] | None) -> None:
    if result is None:
        return
    counts, seconds, sample = result
    listed = ", ".join(
        f"{k} {counts[k]}" for k in ("ok", "refused", "locked", "traceback", "other")
    )
    print(f"{label:<42} {listed}  {seconds:6.1f} s" + (f"  e.g. {sample!r}" if sample else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complete", type=int, default=200, help="SQLite racing processes")
    parser.add_argument("--first-start", type=int, default=20, help="PostgreSQL first starts")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}")
    for _ in range(args.repeat):
        _show(f"SQLite: {args.complete} x 'case complete', 1 step", sqlite_race(args.complete))
        _show(f"PostgreSQL: {args.first_start} x first start", pg_first_start(args.first_start))


if __name__ == "__main__":
    main()
