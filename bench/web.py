"""Load benchmark of the web app: concurrent caseworkers doing inbox → case page → complete.

``boflyt serve`` runs as a child process on 127.0.0.1 (SQLite with one worker; PostgreSQL with
two, on a scratch database made and dropped here). Each of the N users (default 20) logs in once
(not measured: one argon2 check, ~150 ms by design), then repeats the journey on its own cases:
``GET /inbox`` (the whole organisation's inbox), ``GET /cases/{id}`` (the timeline and forms, a
read that is audited), ``POST …/steps/{step}/complete`` (a command transaction). The run is
bounded by ``--seconds`` and by the cases prepared (``--journeys`` per user), so it sends at most
3 × users × journeys requests. Between two requests a user waits ``--think`` seconds (default 1:
a person reading the page; ``--think 0`` is a stress test in which 20 users keep 20 requests in
flight at all times). Printed: requests, errors (any status other than the expected
one, or a failed connection), throughput, and p50/p95/p99 latency per kind and overall.

``--journey facilitator`` (issue 13) has N facilitators each open a version page and the
before/after page (v1 against v2) of the library's processes in turn; goal p95 ≤ 100 ms on
PostgreSQL (renders are cached by the versions' content hashes).

Before the facilitators start, each page is opened once (printed as the cold render, not
counted in the load). Run: ``.venv/bin/python bench/web.py [--journey caseworker|facilitator]
[--users 20] [--journeys 15] [--seconds 60] [--think 1] [--store sqlite|postgres|both]``.
Goal (issue 12): p95 ≤ 50 ms, 0 errors.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from boflyt.engine.case import bounds  # noqa: E402
from boflyt.engine.case.decide import compile_flow, open_items  # noqa: E402
from boflyt.engine.definition.load import load_library  # noqa: E402
from boflyt.engine.store import accounts  # noqa: E402
from boflyt.engine.store import commands as store  # noqa: E402
from boflyt.models.vocabulary import Role, StepKind  # noqa: E402
from boflyt.workspace import Workspace, shipped_library  # noqa: E402
from tests.fixtures.store import fresh_pg_database  # noqa: E402

BIN = Path(sys.executable).parent
PASSWORD = "correct horse battery"
PROCESS = "private_lease"
HOST = "127.0.0.1"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Plan:
    """The users (name → their cases' ids) and the step each case waits on."""

    cases: dict[str, list[str]]
    step: str


@dataclass
class Tally:
    """Latencies in ms per request kind, and the errors seen (kind, what)."""

    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, ms: float, error: str | None) -> None:
        with self.lock:
            self.latency[kind].append(ms)
            if error:
                self.errors.append((kind, error))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def prepare(env: dict[str, str], users: int, journeys: int, journey: str = "caseworker") -> Plan:
    """Accounts and ``users`` × ``journeys`` running cases, each waiting on the same first step;
    for the facilitators' journey, facilitator accounts and the processes each one visits."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        workspace = Workspace.current()
        engine = workspace.open_store()
        if journey == "facilitator":
            names = sorted(load_library(workspace.processes_dir).processes())
            visits: dict[str, list[str]] = {}
            for n in range(users):
                accounts.add_account(engine, username=f"fac{n:02d}", password=PASSWORD,
                                     orgs=["housing_office"], roles=[Role.FACILITATOR],
                                     now=dt.datetime(2025, 1, 6))  # fmt: skip
                visits[f"fac{n:02d}"] = [names[(n + j) % len(names)] for j in range(journeys)]
            engine.dispose()
            return Plan(visits, "")
        key = workspace.reference_key(engine)
        library = load_library(workspace.processes_dir)
        version = library.get(PROCESS)
        outside = frozenset(lane.id for lane in library.lanes.lanes if lane.outside)
        flow = compile_flow(version, outside & frozenset(version.lanes))
        starter = sorted(bounds.start_orgs(flow))[0]
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=1)
        cases: dict[str, list[str]] = {}
        step = ""
        for n in range(users):
            name = f"user{n:02d}"
            cases[name] = []
            for j in range(journeys):
                state = store.start_case(engine, version=version, ref=f"LOAD-{n}-{j}", key=key,
                                         actor="setup", org=starter, now=now,
                                         lanes=library.lanes)  # fmt: skip
                item = open_items(state)[0]
                step = item.step
                cases[name].append(state.case_id)
            lane = version.step(step).lane
            if version.step(step).kind is StepKind.DECISION:
                raise SystemExit(f"{PROCESS}'s first open step {step} is a decision; pick another")
            orgs = sorted({lane, starter})
            accounts.add_account(engine, username=name, password=PASSWORD, orgs=orgs,
                                 roles=[Role.CASEWORKER], now=now)  # fmt: skip
        engine.dispose()
        return Plan(cases, step)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def server(env: dict[str, str], workers: int, folder: Path) -> Iterator[str]:
    """``boflyt serve`` on a free port of 127.0.0.1 until the block ends; its base URL."""
    port = _free_port()
    command = [str(BIN / "boflyt"), "serve", "--host", HOST, "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    log = (folder / "serve.log").open("w")
    process = subprocess.Popen(command, env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; see {folder / 'serve.log'}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _timed(tally: Tally, kind: str, expected: int, send: object) -> httpx.Response | None:
    start = time.perf_counter()
    try:
        response: httpx.Response = send()  # type: ignore[operator]
    except httpx.HTTPError as error:
        tally.add(kind, (time.perf_counter() - start) * 1000, f"{type(error).__name__}")
        return None
    ms = (time.perf_counter() - start) * 1000
    wrong = None if response.status_code == expected else f"status {response.status_code}"
    tally.add(kind, ms, wrong)
    return response if wrong is None else None


def user(
    base: str, name: str, case_ids: list[str], step: str, think: float, start: threading.Barrier,
    tally: Tally, seconds: float,
) -> None:  # fmt: skip
    """Log in, wait until every user has, then inbox → case → complete for each of ``case_ids``
    for at most ``seconds``, waiting ``think`` seconds (± 50 %, so users do not march in step)
    before each request."""
    pause = random.Random(name)

    def wait() -> None:
        if think:
            time.sleep(think * pause.uniform(0.5, 1.5))

    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as client:
        page = client.get("/login").text
        csrf = _CSRF.search(page)
        login = client.post("/login", data={"username": name, "password": PASSWORD,
                                            "csrf": csrf.group(1) if csrf else ""})  # fmt: skip
        if login.status_code != 303:
            tally.add("login", 0.0, f"login status {login.status_code}")
        start.wait()
        until = time.monotonic() + seconds
        for case_id in case_ids if login.status_code == 303 else []:
            if time.monotonic() > until:
                return
            wait()
            if _timed(tally, "inbox", 200, lambda: client.get("/inbox")) is None:
                continue
            wait()
            shown = _timed(tally, "case", 200, lambda case_id=case_id: client.get(
                f"/cases/{case_id}"))  # fmt: skip
            token = _CSRF.search(shown.text) if shown is not None else None
            if token is None:
                continue
            form = {"csrf": token.group(1), "minutes": "5"}
            wait()
            _timed(tally, "complete", 303, lambda case_id=case_id, form=form: client.post(
                f"/cases/{case_id}/steps/{step}/complete", data=form))  # fmt: skip


def facilitator(
    base: str, name: str, processes: list[str], step: str, think: float,
    start: threading.Barrier, tally: Tally, seconds: float,
) -> None:  # fmt: skip
    """Log in, wait until every user has, then a version page and the before/after page (v1
    against v2) of each process in ``processes`` in turn, for at most ``seconds``."""
    del step  # a facilitator changes nothing
    pause = random.Random(name)
    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as client:
        page = client.get("/login").text
        csrf = _CSRF.search(page)
        login = client.post("/login", data={"username": name, "password": PASSWORD,
                                            "csrf": csrf.group(1) if csrf else ""})  # fmt: skip
        if login.status_code != 303:
            tally.add("login", 0.0, f"login status {login.status_code}")
        start.wait()
        until = time.monotonic() + seconds
        for process in processes if login.status_code == 303 else []:
            for kind, url in (("version", f"/processes/{process}/versions/2"),
                              ("compare", f"/processes/{process}/compare?a=1&b=2")):  # fmt: skip
                if time.monotonic() > until:
                    return
                if think:
                    time.sleep(think * pause.uniform(0.5, 1.5))
                _timed(tally, kind, 200, lambda url=url: client.get(url))


def warm(base: str, plan: Plan, workers: int) -> None:
    """Open each facilitator page as the first facilitator, from ``3 × workers`` connections at
    once so that every worker process renders it (each worker caches its own renders); print
    the slowest of those cold renders per page. Not counted in the load."""
    name = next(iter(plan.cases))
    clients = [httpx.Client(base_url=base, timeout=300, follow_redirects=False)
               for _ in range(3 * workers)]  # fmt: skip
    try:
        for client in clients:
            csrf = _CSRF.search(client.get("/login").text)
            client.post("/login", data={"username": name, "password": PASSWORD,
                                        "csrf": csrf.group(1) if csrf else ""})  # fmt: skip
        for process in sorted({p for visits in plan.cases.values() for p in visits}):
            for url in (f"/processes/{process}/versions/2",
                        f"/processes/{process}/compare?a=1&b=2"):  # fmt: skip
                times: list[float] = []

                def get(client: httpx.Client, url: str = url, times: list[float] = times) -> None:
                    start = time.perf_counter()
                    client.get(url)
                    times.append((time.perf_counter() - start) * 1000)

                threads = [threading.Thread(target=get, args=(c,)) for c in clients]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                print(f"  cold {url}: slowest of {len(times)} at once {max(times):.0f} ms")
    finally:
        for client in clients:
            client.close()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(label: str, env: dict[str, str], workers: int, folder: Path, args: argparse.Namespace
        ) -> None:  # fmt: skip
    plan = prepare(env, args.users, args.journeys, args.journey)
    walk = facilitator if args.journey == "facilitator" else user
    tally = Tally()
    with server(env, workers, folder) as base:
        if args.journey == "facilitator":
            warm(base, plan, workers)
        logged_in = threading.Barrier(len(plan.cases) + 1)
        threads = [threading.Thread(target=walk, args=(base, name, ids, plan.step, args.think,
                                                       logged_in, tally, args.seconds))
                   for name, ids in plan.cases.items()]  # fmt: skip
        for thread in threads:
            thread.start()
        logged_in.wait()  # logins (argon2, ~150 ms each by design) are not part of the load
        start = time.monotonic()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - start
    every = [ms for values in tally.latency.values() for ms in values]
    rate = len(every) / wall
    print(f"\n{label}: {args.users} {args.journey}s (think {args.think:g} s), {workers} worker(s), "
          f"{len(every)} requests in {wall:.1f} s ({rate:.0f} requests/s), "
          f"errors: {len(tally.errors)}")  # fmt: skip
    kinds = ("inbox", "case", "complete", "version", "compare")
    rows = [(kind, tally.latency.get(kind, [])) for kind in kinds]
    for kind, values in [*rows, ("all", every)]:
        if values:
            p50, p95, p99 = (_percentile(values, share) for share in (0.5, 0.95, 0.99))
            print(f"  {kind:<9} n={len(values):>5}  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
                  f"p99 {p99:6.1f} ms")  # fmt: skip
    for kind, error in tally.errors[:5]:
        print(f"  error: {kind}: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--journeys", type=int, default=15, help="cases per user (journeys)")
    parser.add_argument("--seconds", type=float, default=60.0, help="time limit of the load")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between requests")
    parser.add_argument("--journey", choices=("caseworker", "facilitator"), default="caseworker",
                        help="caseworkers: inbox, case, complete; facilitators: a version page "
                        "and the before/after page (goal p95 <= 100 ms)")  # fmt: skip
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("BOFLYT_", "PREFECT_"))}
    if args.store in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            env = base_env | {"BOFLYT_DATA_DIR": str(folder / "data"),
                              "BOFLYT_PROCESSES_DIR": str(shipped_library()),
                              "PREFECT_HOME": str(folder / "prefect")}  # fmt: skip
            run("SQLite", env, 1, folder, args)
    if args.store in ("postgres", "both"):
        try:
            with fresh_pg_database() as url, tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                env = base_env | {"BOFLYT_DATA_DIR": str(folder / "data"),
                                  "BOFLYT_DATABASE_URL": url,
                                  "BOFLYT_PROCESSES_DIR": str(shipped_library()),
                                  "PREFECT_HOME": str(folder / "prefect")}  # fmt: skip
                run("PostgreSQL", env, 2, folder, args)
        except pytest.skip.Exception as skipped:
            print(f"\nPostgreSQL: skipped ({skipped.msg})")


if __name__ == "__main__":
    main()
