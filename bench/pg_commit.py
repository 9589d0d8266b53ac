"""Where a durable completion's time goes on PostgreSQL, and what would let commits share flushes.

Four parts, each on a scratch database that is created and dropped (127.0.0.1:5432):

* ``floor``: the server's commit settings (``SHOW``); ``SELECT 1`` (one round trip, no write),
  a one-row autocommit ``INSERT`` (one WAL flush per row) and the same ``INSERT`` in a one-trip
  ``BEGIN; SET LOCAL synchronous_commit TO off; …; COMMIT`` (no wait for the flush) on one
  connection; ``pg_test_fsync``'s 8 kB ``fdatasync`` rate when it is installed.
* ``store``: Boflyt's own command path (``store.complete_step`` with one writer), every
  statement timed in the client: the read (``PG_LOAD``), the write (``PG_AUDITED_COMMAND``),
  the pool's ping and the rest (the client's Python); then the same with the scratch database
  set to ``synchronous_commit = off``; then ``EXPLAIN (ANALYZE, BUFFERS, WAL)`` of both
  statements as the store builds them (the write inside a transaction that is rolled back).
  ``pg_stat_statements`` needs ``shared_preload_libraries`` and a restart of the server, so
  it is not used.
* ``concurrency``: N = 1, 2, 4, 8 processes, each with its own connection, doing one-row
  autocommit ``INSERT`` s for ``--seconds``; then each ``INSERT`` in a transaction that first
  takes one global ``pg_advisory_xact_lock`` (what the audit chain does), so the lock is held
  through the commit's flush. ``pg_stat_wal``'s WAL syncs per commit show whether flushes are
  shared (group commit); that view is the whole server's, so other work on it counts too.
* ``audit``: a command-sized transaction (compare-and-set of a case row, 4 events, an audit
  entry; one round trip each) in three designs, by 1, 4 and 8 processes: no audit entry; one
  global chain (the advisory lock, the head read after it, the entry hashed on the server: the
  best a lock-held-to-commit chain can do); and per-case chains anchored by a sealer process
  every ``--anchor-ms`` (each entry chains on its case's previous entry, which the case row
  holds, so no global lock; the sealer hashes, in transaction-id order, every entry whose
  transaction has ended since its last anchor into one global chain of anchors). The script
  then checks the prototype: every entry in exactly one anchor, anchors and case chains whole.

Run: ``.venv/bin/python bench/pg_commit.py [--part floor|store|concurrency|audit|all]
[--seconds S] [--cases N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
SETTINGS = ("wal_sync_method", "fsync", "synchronous_commit", "commit_delay", "commit_siblings",
            "full_page_writes", "wal_writer_delay", "wal_level", "shared_buffers")  # fmt: skip
LOCK = 0x626F666C7974_A0D1  # the store's AUDIT_LOCK
GENESIS = "0" * 64
ROUNDS = 4
"""Timed runs are cut in this many rounds, alternating what is compared."""
PROCESSES = (1, 2, 4, 8)
Rates = dict[str, Any]


# --------------------------------------------------------------------------- scaffolding


@contextlib.contextmanager
def scratch() -> Iterator[str]:
    """A scratch database's conninfo; dropped afterwards."""
    name = f"boflyt_pgcommit_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield SERVER.replace("dbname=postgres", f"dbname={name}")
    finally:
        with psycopg.connect(SERVER, autocommit=True) as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


def _timed(call: Callable[[], object], seconds: float) -> list[float]:
    """Call ``call`` until ``seconds`` have passed; each call's wall time."""
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while (now := time.perf_counter()) < deadline:
        call()
        times.append(time.perf_counter() - now)
    return times


def _summary(times: list[float]) -> str:
    """Rate, median and 95th percentile of one connection's calls."""
    if not times:
        return "no calls"
    p95 = sorted(times)[int(len(times) * 0.95)]
    return (f"{len(times) / sum(times):,.0f}/s, median {statistics.median(times) * 1e6:,.0f} µs, "
            f"p95 {p95 * 1e6:,.0f} µs ({len(times):,} calls)")  # fmt: skip


def _wal(conn: psycopg.Connection[Any]) -> tuple[int, int, int]:
    """The server's WAL records, bytes and syncs so far (``pg_stat_wal``, all databases), this
    connection's own counts included (a backend reports them at most once a second)."""
    conn.execute("SELECT pg_stat_force_next_flush()")  # done once this statement has ended
    row = conn.execute("SELECT wal_records, wal_bytes, wal_sync FROM pg_stat_wal").fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


# --------------------------------------------------------------------------- 1. the floor


def part_floor(seconds: float) -> None:
    """One connection: a round trip, a durable one-row commit, and one that does not wait."""
    with scratch() as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        shown = {name: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
                 for name in SETTINGS}  # fmt: skip
        print("settings: " + ", ".join(f"{k} = {v[0] if v else '?'}" for k, v in shown.items()))
        conn.execute("CREATE TABLE t (id bigserial PRIMARY KEY, payload text)")
        payload = "x" * 200
        rows: dict[str, Callable[[], object]] = {
            "SELECT 1 (a round trip)": lambda: conn.execute("SELECT 1", prepare=True),
            "INSERT, autocommit (synchronous_commit on)": lambda: conn.execute(
                "INSERT INTO t (payload) VALUES (%s)", (payload,), prepare=True
            ),
            "BEGIN; INSERT; COMMIT in one trip (on)": lambda: conn.execute(
                f"BEGIN; INSERT INTO t (payload) VALUES ('{payload}'); COMMIT"
            ),
            "BEGIN; SET LOCAL synchronous_commit TO off; INSERT; COMMIT": lambda: conn.execute(
                "BEGIN; SET LOCAL synchronous_commit TO off; "
                f"INSERT INTO t (payload) VALUES ('{payload}'); COMMIT"
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in rows}
        syncs = dict.fromkeys(rows, 0)
        for _ in range(ROUNDS):  # interleaved, so a change in the machine's load hits each alike
            for name, call in rows.items():
                call()  # prepared on the first round
                before = _wal(conn)
                times[name] += _timed(call, seconds / ROUNDS)
                syncs[name] += _wal(conn)[2] - before[2]
        for name in rows:
            print(f"  {name:<60} {_summary(times[name])}; "
                  f"{syncs[name] / len(times[name]):.2f} WAL syncs per call")  # fmt: skip
    _pg_test_fsync()


def _pg_test_fsync() -> None:
    """``pg_test_fsync``'s one-8-kB-write rates, when the server's tools are installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_test_fsync"))
    tool = shutil.which("pg_test_fsync") or (str(found[-1]) if found else None)
    if tool is None:
        print("  pg_test_fsync: not installed")
        return
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run([tool, "-s", "1", "-f", f"{folder}/fsync.test"], check=False,
                             capture_output=True, text=True, timeout=120).stdout  # fmt: skip
    section = out.split("using two 8kB writes")[0].split("using one 8kB write")[-1]
    lines = [" ".join(line.split()) for line in section.splitlines() if "ops/sec" in line]
    print(f"  pg_test_fsync ({tool}), one 8 kB write then sync: " + "; ".join(lines))


# --------------------------------------------------------------------------- 2. the store


class StatementClock:
    """Times the store's statements in this process (a wrapper around psycopg's execute); the
    pool's pings count from the first read on (the cases' starts before it ping too).

    ``explain``: run the next reads and writes once more under ``EXPLAIN (ANALYZE, BUFFERS)``
    first (the write in a transaction rolled back), keeping each plan and where its WAL lies.
    """

    def __init__(self, statements: dict[str, str]) -> None:
        self.names = {text: name for name, text in statements.items()}
        self.times: dict[str, list[float]] = {name: [] for name in (*statements, "ping")}
        self.started = False
        self.explain = 0
        self.plans: dict[str, list[Any]] = {name: [] for name in statements}
        self.wal: list[tuple[str, str, str]] = []
        self._original = psycopg.Connection.execute

    def __enter__(self) -> StatementClock:
        clock = self

        def execute(conn: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
            name = clock.names.get(query) if isinstance(query, str) else None
            if name is None:
                return clock._original(conn, query, params, **kwargs)
            clock.started = True
            if clock.explain:
                clock._explain(conn, name, query, params)
            started = time.perf_counter()
            try:
                return clock._original(conn, query, params, **kwargs)
            finally:
                clock.times[name].append(time.perf_counter() - started)

        psycopg.Connection.execute = execute  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        psycopg.Connection.execute = self._original  # type: ignore[method-assign]

    def _explain(self, conn: Any, name: str, query: str, params: Any) -> None:
        self.explain -= name == "write"
        run: Any = self._original
        run(conn, "BEGIN")
        try:
            lsn = run(conn, "SELECT pg_current_wal_insert_lsn()::text").fetchone()[0]
            text = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query
            self.plans[name].append(run(conn, text, params).fetchone()[0][0])
            xid, end = run(conn, "SELECT pg_current_xact_id_if_assigned()::text, "
                                 "pg_current_wal_insert_lsn()::text").fetchone()  # fmt: skip
            if xid is not None:
                self.wal.append((lsn, end, xid))
        finally:
            run(conn, "ROLLBACK")

    def ping(self, do_ping: Callable[[Any], bool]) -> Callable[[Any], bool]:
        """``do_ping`` timed as ``ping``."""

        def timed(connection: Any) -> bool:
            started = time.perf_counter()
            try:
                return do_ping(connection)
            finally:
                if self.started:
                    self.times["ping"].append(time.perf_counter() - started)

        return timed


STORE_VARIANTS: dict[str, dict[str, str]] = {
    "as configured": {},
    "synchronous_commit = off": {"synchronous_commit": "off"},
    "plan_cache_mode = force_generic_plan": {"plan_cache_mode": "force_generic_plan"},
}
"""The scratch database's settings of each store run (``ALTER DATABASE … SET``)."""


def part_store(cases: int) -> None:
    """Boflyt's completions with one writer: where each one's wall time goes."""
    from bench.engine import Durable, bench_durable
    from boflyt.engine.definition.load import load_library
    from boflyt.engine.store.db import create_schema, make_engine
    from boflyt.engine.store.statements import PG_AUDITED_COMMAND, PG_LOAD

    library = load_library(ROOT / "processes")
    version = library.get("refugee_settlement", 1)
    statements = {"read": PG_LOAD, "write": PG_AUDITED_COMMAND}
    with scratch() as dsn:
        database = dsn.split("dbname=")[1].split()[0]
        engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
                             pool_size=2)  # fmt: skip
        create_schema(engine)
        do_ping = engine.dialect.do_ping
        clocks = {name: StatementClock(statements) for name in STORE_VARIANTS}
        runs: dict[str, list[Durable]] = {name: [] for name in STORE_VARIANTS}
        for _ in range(ROUNDS):  # interleaved, so a change in the machine's load hits each alike
            for name, settings in STORE_VARIANTS.items():
                _database_settings(dsn, database, settings)
                engine.dispose()  # new connections take the database's settings
                clock = clocks[name]
                clock.started = False
                engine.dialect.do_ping = clock.ping(do_ping)  # type: ignore[method-assign,assignment]
                with clock:
                    runs[name].append(bench_durable(engine, version, library.lanes,
                                                    max(1, cases // ROUNDS), 1))  # fmt: skip
        engine.dialect.do_ping = do_ping  # type: ignore[method-assign]
        for name in STORE_VARIANTS:
            _print_split(name, runs[name], clocks[name])
        _database_settings(dsn, database, {})
        engine.dispose()
        clock = StatementClock(statements)
        clock.explain = 6
        with clock:
            bench_durable(engine, version, library.lanes, 3, 1)
        engine.dispose()
        _print_plans(clock, dsn)


def _database_settings(dsn: str, database: str, settings: dict[str, str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as admin:
        name = sql.Identifier(database)
        admin.execute(sql.SQL("ALTER DATABASE {} RESET ALL").format(name))
        for key, value in settings.items():
            alter = sql.SQL("ALTER DATABASE {} SET {} = {}")
            admin.execute(alter.format(name, sql.Identifier(key), sql.Literal(value)))


def _print_split(name: str, runs: list[Any], clock: StatementClock) -> None:
    done = sum(run.completions for run in runs)
    seconds = sum(run.seconds for run in runs)
    per = seconds / done * 1e6
    cpu = sum(run.cpu for run in runs) / done * 1e6
    print(
        f"store, 1 writer, {name}: {done / seconds:,.0f} completions/s, {per:,.0f} µs each "
        f"({done:,} completions in {len(runs)} rounds; {cpu:,.0f} µs CPU in this process)"
    )
    accounted = 0.0
    for statement, times in clock.times.items():
        if not times:
            print(f"  {statement:<6} not run")
            continue
        mean = sum(times) / done * 1e6
        accounted += mean
        p95 = sorted(times)[int(len(times) * 0.95)] * 1e6
        median = statistics.median(times) * 1e6
        print(f"  {statement:<6} {mean:>6,.0f} µs per completion (median {median:,.0f} µs, "
              f"p95 {p95:,.0f} µs, {len(times):,} calls)")  # fmt: skip
    print(f"  rest   {per - accounted:>6,.0f} µs per completion (the client: decide, hashing, "
          "JSON, SQLAlchemy's pool)")  # fmt: skip


def _print_plans(clock: StatementClock, dsn: str) -> None:
    for name, plans in clock.plans.items():
        if not plans:
            continue
        plan = plans[-1]  # warm: the last sample
        executed = statistics.median(p["Execution Time"] for p in plans) * 1e3
        planned = statistics.median(p["Planning Time"] for p in plans) * 1e3
        triggers = plan.get("Triggers", ())
        fired = ", ".join(f"{t['Relation']} {t['Time'] * 1e3:,.0f} µs" for t in triggers)
        print(f"  EXPLAIN ANALYZE {name}: execution {executed:,.0f} µs, planning {planned:,.0f} µs"
              f" (medians of {len(plans)}); foreign-key triggers: {fired or 'none'}")  # fmt: skip
    if not clock.wal:
        return
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        sizes = []
        for start, end, xid in clock.wal:
            row = conn.execute(
                "SELECT count(*), sum(record_length), sum(fpi_length) FROM "
                "pg_get_wal_records_info(%s::pg_lsn, %s::pg_lsn) WHERE xid = %s::text::xid",
                (start, end, str(int(xid) % 2**32)),
            ).fetchone()
            assert row is not None
            sizes.append(row)
    records, size, fpi = sizes[-1]
    print(f"  WAL of one write (pg_walinspect, its transaction's records): {records} records, "
          f"{size:,} bytes, of them {fpi:,} bytes of full-page images; over {len(sizes)} "
          f"samples {min(s[1] for s in sizes):,}-{max(s[1] for s in sizes):,} bytes")  # fmt: skip


# --------------------------------------------------------------------------- 3. concurrency

_INSERT = "INSERT INTO t (payload) VALUES (%s)"
_PLAIN_TX = "BEGIN; INSERT INTO t (payload) VALUES ('{}'); COMMIT"
_LOCKED = f"BEGIN; SELECT pg_advisory_xact_lock({LOCK}); " + _PLAIN_TX.removeprefix("BEGIN; ")


def _insert_worker(dsn: str, mode: str, seconds: float, start: Any, out: Any) -> None:
    """One process of :func:`part_concurrency`: its own connection, one-row commits."""
    payload = "x" * 200
    with psycopg.connect(dsn, autocommit=True) as conn:
        if mode == "autocommit INSERT":
            call: Callable[[], object] = lambda: conn.execute(_INSERT, (payload,), prepare=True)  # noqa: E731
        else:
            text = (_LOCKED if mode.endswith("lock") else _PLAIN_TX).format(payload)
            call = lambda: conn.execute(text)  # noqa: E731
        call()
        start.wait()
        out.put(_timed(call, seconds))


def _fan_out(target: Callable[..., None], processes: int, *args: Any) -> list[Any]:
    """Run ``target(*args, start, out)`` in ``processes`` processes started together."""
    context = multiprocessing.get_context("fork")
    start, out = context.Barrier(processes), context.Queue()
    workers = [context.Process(target=target, args=(*args, start, out)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    results = [out.get() for _ in workers]
    for worker in workers:
        worker.join()
    return results


def part_concurrency(seconds: float) -> None:
    """One-row commits from 1-8 processes, with and without one global lock held to commit."""
    modes = ("autocommit INSERT", "BEGIN; INSERT; COMMIT", "BEGIN; INSERT; COMMIT + lock")
    counts = {(mode, n): [0.0, 0.0, 0.0] for mode in modes for n in PROCESSES}
    with scratch() as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id bigserial PRIMARY KEY, payload text)")
        print("concurrency: one-row commits by N processes, each with its own connection, "
              f"{seconds:.0f} s each in {ROUNDS} rounds (WAL syncs: pg_stat_wal, all the "
              "server's)")  # fmt: skip
        for _ in range(ROUNDS):
            for processes in PROCESSES:
                for mode in modes:
                    with psycopg.connect(dsn, autocommit=True) as conn:
                        before = _wal(conn)[2]
                        runs = _fan_out(_insert_worker, processes, dsn, mode, seconds / ROUNDS)
                        time.sleep(0.1)  # the workers report their WAL counts as they end
                        syncs = _wal(conn)[2] - before
                    count = counts[(mode, processes)]
                    count[0] += sum(len(r) for r in runs)
                    count[1] += syncs
                    count[2] += statistics.median(t for r in runs for t in r) / ROUNDS
        for (mode, processes), (commits, synced, median) in counts.items():
            print(f"  {mode:<30} N={processes}: {commits / seconds:>7,.0f} commits/s, "
                  f"median {median * 1e6:,.0f} µs, {synced / commits:.2f} WAL syncs per "
                  "commit")  # fmt: skip


# --------------------------------------------------------------------------- 4. audit designs

_SCHEMA = """
CREATE TABLE p_case (id int PRIMARY KEY, row_version int NOT NULL, last_seq int NOT NULL,
  audit_seq int NOT NULL DEFAULT 0, audit_hash text NOT NULL DEFAULT repeat('0', 64));
CREATE TABLE p_event (case_id int REFERENCES p_case, seq int, at timestamp, kind text,
  step text, actor text, org text, detail text, entry_hash text, PRIMARY KEY (case_id, seq));
CREATE INDEX ON p_event (at);
CREATE TABLE p_audit (seq int PRIMARY KEY, at timestamp, actor text, action text, case_id int,
  detail text, prev_hash text, entry_hash text);
INSERT INTO p_audit VALUES (0, now(), 'genesis', 'genesis', NULL, NULL, '', repeat('0', 64));
CREATE TABLE p_case_audit (id bigserial PRIMARY KEY, xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  case_id int NOT NULL, case_seq int NOT NULL, at timestamp, actor text, action text,
  detail text, prev_hash text NOT NULL, entry_hash text NOT NULL, UNIQUE (case_id, case_seq));
CREATE INDEX ON p_case_audit (xid);
CREATE TABLE p_anchor (seq int PRIMARY KEY, upto xid8 NOT NULL, open xid8[] NOT NULL,
  entries int NOT NULL, prev_hash text NOT NULL, anchor_hash text NOT NULL);
"""
DESIGNS = ("no audit entry", "global chain (lock to commit)", "per-case chains + anchors")
_CASES_PER_WORKER = 200


def _digest(prev: str, values: list[Any]) -> str:
    text = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev}\n{text}".encode()).hexdigest()


def _command(design: str, case: int, state: dict[str, Any], n: int) -> str:
    """One command's transaction as one simple query (one round trip), values inlined."""
    at = f"2026-12-03 12:00:{n % 60:02d}"
    seq, version = state["seq"], state["version"]
    events = ", ".join(
        f"({case}, {seq + k}, '{at}', 'step_completed', 'step_{k}', 'bench', 'nav', NULL, "
        f"'{hashlib.sha256(f'{case}:{seq + k}'.encode()).hexdigest()}')"
        for k in range(1, 5)
    )
    parts = [
        "BEGIN",
        f"UPDATE p_case SET row_version = {version + 1}, last_seq = {seq + 4}{{audit}} "
        f"WHERE id = {case} AND row_version = {version}",
        f"INSERT INTO p_event VALUES {events}",
    ]
    audit = ""
    if design == DESIGNS[1]:
        fields = f"'{at}' || 'bench' || 'step_completed' || '{case}' || 'step'"
        parts += [
            f"SELECT pg_advisory_xact_lock({LOCK})",
            "INSERT INTO p_audit SELECT h.seq + 1, "
            f"'{at}', 'bench', 'step_completed', {case}, 'step', h.entry_hash, "
            f"encode(sha256(convert_to(h.entry_hash || E'\\n' || {fields}, 'UTF8')), 'hex') "
            "FROM (SELECT seq, entry_hash FROM p_audit ORDER BY seq DESC LIMIT 1) h",
        ]
    elif design == DESIGNS[2]:
        number, prev = state["audit_seq"] + 1, state["audit_hash"]
        entry = _digest(prev, [case, number, at, "bench", "step_completed", "step"])
        audit = f", audit_seq = {number}, audit_hash = '{entry}'"
        parts.append(
            "INSERT INTO p_case_audit (case_id, case_seq, at, actor, action, detail, prev_hash,"
            f" entry_hash) VALUES ({case}, {number}, '{at}', 'bench', 'step_completed', 'step',"
            f" '{prev}', '{entry}')"
        )
        state["audit_seq"], state["audit_hash"] = number, entry
    state["seq"], state["version"] = seq + 4, version + 1
    parts.append("COMMIT")
    return "; ".join(parts).replace("{audit}", audit)


def _command_worker(
    dsn: str, design: str, seconds: float, first: int, start: Any, out: Any
) -> None:
    """One writer process of :func:`part_audit`: commands on its own cases."""
    cases = range(first, first + _CASES_PER_WORKER)
    states = {c: {"seq": 0, "version": 1, "audit_seq": 0, "audit_hash": GENESIS} for c in cases}
    with psycopg.connect(dsn, autocommit=True) as conn:
        last = first + _CASES_PER_WORKER - 1
        conn.execute("INSERT INTO p_case (id, row_version, last_seq) SELECT g, 1, 0 "
                     f"FROM generate_series({first}, {last}) g")  # fmt: skip
        n = 0

        def one() -> None:
            nonlocal n
            case = first + n % _CASES_PER_WORKER
            conn.execute(_command(design, case, states[case], n))
            n += 1

        start.wait()
        out.put(_timed(one, seconds))


_WINDOW = """SELECT entry_hash FROM p_case_audit
WHERE (xid >= %(since)s::xid8 OR xid = ANY(%(was_open)s::xid8[]))
  AND xid < %(upto)s::xid8 AND NOT xid = ANY(%(open)s::xid8[])
ORDER BY xid, id"""
"""An anchor's entries: those of transactions that had ended when it was taken (below its
snapshot's ``xmax``, not among its open ones) and had not when the anchor before it was (at or
above that one's ``xmax``, or among its open ones). Never held back by a long transaction
elsewhere, as a window up to the snapshot's ``xmin`` would be."""


def anchor(conn: psycopg.Connection[Any]) -> int:
    """Anchor every per-case audit entry whose transaction ended since the last anchor: one
    entry of the global anchor chain, hashing theirs in transaction-id order; the entries."""
    with conn.transaction():  # REPEATABLE READ: one snapshot for the window and its entries
        last = conn.execute("SELECT seq, upto::text, open::text[], anchor_hash FROM p_anchor "
                            "ORDER BY seq DESC LIMIT 1").fetchone()  # fmt: skip
        seq, since, was_open, prev = last if last else (0, "0", [], GENESIS)
        snapshot = conn.execute(
            "SELECT pg_snapshot_xmax(s)::text, array(SELECT x::text FROM pg_snapshot_xip(s) x) "
            "FROM pg_current_snapshot() s"
        ).fetchone()
        assert snapshot is not None
        window = {"since": since, "was_open": was_open, "upto": snapshot[0], "open": snapshot[1]}
        hashes = [r[0] for r in conn.execute(_WINDOW, window)]
        if not hashes and set(was_open) == set(snapshot[1]):
            return 0
        digest = hashlib.sha256("\n".join((prev, *hashes)).encode()).hexdigest()
        conn.execute("INSERT INTO p_anchor VALUES (%s, %s::xid8, %s::xid8[], %s, %s, %s)",
                     (seq + 1, *snapshot, len(hashes), prev, digest))  # fmt: skip
    return len(hashes)


def _sealer(dsn: str, every: float, stop: Any, out: Any) -> None:
    """The anchoring process: one anchor every ``every`` seconds until ``stop`` is set."""
    times: list[float] = []
    with psycopg.connect(dsn) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        while not stop.wait(every):
            started = time.perf_counter()
            anchor(conn)
            times.append(time.perf_counter() - started)
    out.put(times)


def verify_anchored(conn: psycopg.Connection[Any]) -> tuple[int, int, list[str]]:
    """Check the prototype's records: (entries, anchors, problems). Each case's chain follows
    its entries' hashes; the anchors chain, their windows of transaction ids follow each other
    and each anchor's hash is that of the entries in its window; every entry is in one."""
    problems: list[str] = []
    rows = conn.execute("SELECT case_id, case_seq, at, actor, action, detail, prev_hash, "
                        "entry_hash FROM p_case_audit "
                        "ORDER BY case_id, case_seq").fetchall()  # fmt: skip
    case, prev, number = None, GENESIS, 0
    for case_id, case_seq, at, actor, action, detail, prev_hash, entry_hash in rows:
        if case_id != case:
            case, prev, number = case_id, GENESIS, 0
        number += 1
        text = at.isoformat(" ")
        expected = _digest(prev, [case_id, case_seq, text, actor, action, detail])
        if case_seq != number or prev_hash != prev or entry_hash != expected:
            problems.append(f"case {case_id} entry {case_seq}: broken")
        prev = entry_hash
    covered, prev, since, was_open = 0, GENESIS, "0", list[str]()
    anchors = conn.execute("SELECT seq, upto::text, open::text[], entries, prev_hash, "
                           "anchor_hash FROM p_anchor ORDER BY seq").fetchall()  # fmt: skip
    for seq, upto, still_open, entries, prev_hash, anchor_hash in anchors:
        window = {"since": since, "was_open": was_open, "upto": upto, "open": still_open}
        hashes = [r[0] for r in conn.execute(_WINDOW, window)]
        digest = hashlib.sha256("\n".join((prev, *hashes)).encode()).hexdigest()
        if prev_hash != prev or digest != anchor_hash or len(hashes) != entries:
            problems.append(f"anchor {seq}: broken")
        covered, prev, since, was_open = covered + len(hashes), anchor_hash, upto, still_open
    if covered != len(rows):
        problems.append(f"{len(rows) - covered} entries in no anchor")
    return len(rows), len(anchors), problems


def part_audit(seconds: float, anchor_ms: float) -> None:
    """The three audit designs by 1, 4 and 8 writer processes, interleaved in rounds."""
    print(f"audit designs: a command-sized transaction (case compare-and-set, 4 events, the entry),"
          f" one round trip each, {seconds:.0f} s per run in {ROUNDS} rounds; anchors every "
          f"{anchor_ms:.0f} ms")  # fmt: skip
    found: dict[tuple[str, int], list[Any]] = {(d, n): [] for n in (1, 4, 8) for d in DESIGNS}
    with scratch() as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(_SCHEMA)
        for _ in range(ROUNDS):
            for design, processes in found:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute("TRUNCATE p_case, p_event, p_audit, p_case_audit, p_anchor; "
                                 "INSERT INTO p_audit VALUES (0, now(), 'genesis', 'genesis', "
                                 "NULL, NULL, '', repeat('0', 64))")  # fmt: skip
                sealer = _start_sealer(dsn, anchor_ms / 1e3) if design == DESIGNS[2] else None
                runs = _fan_out(_audit_fan, processes, dsn, design, seconds / ROUNDS)
                commits = sum(len(r) for r in runs)
                extra = _stop_sealer(dsn, sealer, commits) if sealer is not None else ""
                found[(design, processes)].append((commits, [t for r in runs for t in r], extra))
    for (design, processes), results in found.items():
        commits = sum(r[0] for r in results)
        median = statistics.median(t for r in results for t in r[1])
        print(f"  {design:<30} N={processes}: {commits / seconds:>7,.0f} commands/s, "
              f"median {median * 1e6:,.0f} µs{results[-1][2]}")  # fmt: skip


_FIRST = multiprocessing.get_context("fork").Value("i", 0)


def _audit_fan(dsn: str, design: str, seconds: float, start: Any, out: Any) -> None:
    with _FIRST.get_lock():
        first = _FIRST.value
        _FIRST.value += _CASES_PER_WORKER
    _command_worker(dsn, design, seconds, first + 1, start, out)


def _start_sealer(dsn: str, every: float) -> tuple[Any, Any, Any]:
    context = multiprocessing.get_context("fork")
    stop, out = context.Event(), context.Queue()
    process = context.Process(target=_sealer, args=(dsn, every, stop, out))
    process.start()
    return process, stop, out


def _stop_sealer(dsn: str, sealer: tuple[Any, Any, Any], commits: int) -> str:
    process, stop, out = sealer
    stop.set()
    times = out.get()
    process.join()
    with psycopg.connect(dsn) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        anchor(conn)  # the last entries, now that every writer has ended
        entries, anchors, problems = verify_anchored(conn)
        assert entries == commits, (entries, commits)
        verdict = "whole" if not problems else f"BROKEN: {problems[:3]}"
        # and it must catch an edit, and a deletion, of an anchored entry
        caught = []
        for change in ("UPDATE p_case_audit SET detail = 'edited'", "DELETE FROM p_case_audit"):
            conn.execute(f"{change} WHERE id = (SELECT max(id) FROM p_case_audit)")
            caught.append(bool(verify_anchored(conn)[2]))
            conn.rollback()
    verdict += "; an edit and a deletion are caught" if all(caught) else f"; NOT CAUGHT: {caught}"
    mean = statistics.mean(times) * 1e3 if times else 0.0
    return (f"; last round {anchors} anchors ({mean:.1f} ms each) over {entries:,} entries, "
            f"verify: {verdict}")  # fmt: skip


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("floor", "store", "concurrency", "audit", "all"),
                        default="all")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each timed run")
    parser.add_argument("--cases", type=int, default=150, help="cases of the store part")
    parser.add_argument("--anchor-ms", type=float, default=100.0, help="the sealer's interval")
    args = parser.parse_args()
    try:
        psycopg.connect(SERVER).close()
    except psycopg.OperationalError as exc:
        print(f"bench/pg_commit.py: PostgreSQL not reachable ({exc}); nothing measured")
        return
    print(f"bench/pg_commit.py · {os.cpu_count()} CPUs, load average {_load()} at the start")
    parts: dict[str, Callable[[], None]] = {
        "floor": lambda: part_floor(args.seconds),
        "store": lambda: part_store(args.cases),
        "concurrency": lambda: part_concurrency(args.seconds),
        "audit": lambda: part_audit(args.seconds, args.anchor_ms),
    }
    for name, run in parts.items():
        if args.part in (name, "all"):
            run()
            print(f"  (load average {_load()})")


if __name__ == "__main__":
    main()
