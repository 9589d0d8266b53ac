"""One bad file harms only itself: every command keeps working on the rest of the library.

The library is copied and broken in every way at once (bad YAML, misnamed files, a folder and
a FIFO named like a version, an unreadable file), then the real ``boflyt`` script runs against
it in a subprocess with a timeout, so a command that blocked on the FIFO would fail, not hang.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # spawns processes: out of `make test-fast`

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
BOFLYT = Path(sys.executable).with_name("boflyt")

Run = Callable[..., subprocess.CompletedProcess[str]]
READ_ONLY = [  # commands that do not write the store, run side by side up front
    ("versions", "--lang", "en"),
    ("validate", "--lang", "en"),
    ("analyse", "private_lease", "--lang", "en"),
    ("analyse", "refugee_settlement@v1", "--lang", "en"),
    ("show", "private_lease@v3"),
    ("diff", "private_lease", "2", "3"),
    ("analyse", "private_lease@v3"),
]


def _reads_anything(tmp: Path) -> bool:
    """Whether this user reads a file of mode 000 (root does)."""
    probe = tmp / "probe"
    probe.write_text("x", encoding="utf-8")
    probe.chmod(0)
    return os.access(probe, os.R_OK)


def _bad_yaml(path: Path) -> None:
    path.write_text("process: [unclosed\n", encoding="utf-8")


def _copy_of_v2(path: Path) -> None:
    shutil.copyfile(path.parent / "v2.yaml", path)


def _unreadable(path: Path) -> None:
    _copy_of_v2(path)
    path.chmod(0)


# (file, how it is broken, what its problem says)
BREAKS: list[tuple[str, Callable[[Path], None], str]] = [
    ("eviction_prevention/v3.yaml", _bad_yaml, "malformed YAML"),
    ("eviction_prevention/v3-draft.yaml", _copy_of_v2, "must be named v<N>.yaml"),
    ("refugee_settlement/V3.yaml", _copy_of_v2, "must be named v<N>.yaml"),
    ("refugee_settlement/v3.yaml", Path.mkdir, "this is a folder"),
    ("private_lease/v3.yaml", os.mkfifo, "this is a named pipe (FIFO)"),
    ("private_lease/v4.yaml", _unreadable, "cannot be read: Permission denied"),
]
IDS = ["bad-yaml", "misnamed", "capitalised", "folder", "fifo", "unreadable"]


def _program(tmp: Path) -> Run:
    """The installed ``boflyt`` run in ``tmp`` on the library in ``tmp/processes``, with its own
    store and Prefect home there and no ``BOFLYT_`` or ``PREFECT_`` setting from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOFLYT_", "PREFECT_"))}
    env |= {
        "BOFLYT_PROCESSES_DIR": str(tmp / "processes"),
        "BOFLYT_DATA_DIR": str(tmp / "data"),
        "PREFECT_HOME": str(tmp / "prefect"),
        "COLUMNS": "250",
    }

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BOFLYT), *args], input=stdin, capture_output=True, text=True,
            env=env, cwd=tmp, timeout=120,
        )  # fmt: skip

    staff = ("user", "add", "kari", "--org", "housing_office", "--org", "nav",
             "--role", "caseworker")  # fmt: skip
    added = run(*staff, stdin="correct horse battery\n")
    assert added.returncode == 0, added.stderr
    return run


@pytest.fixture(scope="module")
def boflyt(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``boflyt(*args, stdin=…)`` on a broken copy of the library (results are reused)."""
    tmp = tmp_path_factory.mktemp("broken")
    root = tmp / "processes"
    shutil.copytree(PROCESSES, root)
    for file, breaking, _ in BREAKS:
        breaking(root / file)
    program = _program(tmp)
    done: dict[tuple[tuple[str, ...], str], subprocess.CompletedProcess[str]] = {}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        if (args, stdin) not in done:
            done[args, stdin] = program(*args, stdin=stdin)
        result = done[args, stdin]
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        return result

    with ThreadPoolExecutor(max_workers=len(READ_ONLY)) as pool:
        list(pool.map(lambda args: run(*args), READ_ONLY))
    return run


@pytest.fixture(params=BREAKS, ids=IDS)
def broken(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """Each broken file in turn, with what its problem says (the unreadable one is skipped for a
    user who reads files whatever their mode)."""
    file, _, problem = request.param
    if file.endswith("v4.yaml") and _reads_anything(tmp_path):
        pytest.skip("this user reads files whatever their mode (root): v4.yaml loads")
    return file, problem


def test_versions_lists_each_broken_file_with_its_problem(
    boflyt: Run, broken: tuple[str, str]
) -> None:
    file, problem = broken
    result = boflyt("versions", "--lang", "en")
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if f" {file}:" in line)
    assert f" {Path(file).name} " in row and "✗ broken" in row and problem in row


def test_versions_still_lists_every_good_version(boflyt: Run) -> None:
    out = boflyt("versions", "--lang", "en").stdout
    for process in ("eviction_prevention", "private_lease", "refugee_settlement"):
        assert process in out
    assert out.count("published") == 6


def test_validate_reports_each_broken_file_and_checks_the_rest(
    boflyt: Run, broken: tuple[str, str]
) -> None:
    file, problem = broken
    result = boflyt("validate", "--lang", "en")
    assert result.returncode == 1
    assert f"✗ processes/{file}: " in result.stdout
    assert f"  {file}" in result.stdout and problem in result.stdout
    assert "✓ processes/private_lease/v2.yaml" in result.stdout
    assert "with problems" in result.stdout.splitlines()[-1]


def test_case_commands_work_on_the_rest_of_the_library(boflyt: Run) -> None:
    start = ("case", "start", "refugee_settlement", "--as", "kari", "--org", "housing_office")
    started = boflyt(*start, "--lang", "en", stdin="REF-1\n")
    assert started.returncode == 0, started.stderr
    listed = boflyt("case", "list")
    assert listed.returncode == 0, listed.stderr
    assert "refugee_settlement" in listed.stdout
    for lane in ("housing_office", "nav"):
        inbox = boflyt("inbox", lane, "--lang", "en")
        assert inbox.returncode == 0, inbox.stderr


@pytest.mark.parametrize("process", ["private_lease", "refugee_settlement@v1"])
def test_analyse_works_beside_a_broken_file(boflyt: Run, process: str) -> None:
    result = boflyt("analyse", process, "--lang", "en")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("show", "private_lease@v3"),
        ("diff", "private_lease", "2", "3"),
        ("analyse", "private_lease@v3"),
        ("case", "start", "private_lease", "--version", "3", "--as", "kari", "--org", "nav"),
    ],
    ids=["show", "diff", "analyse", "case-start"],
)
def test_a_command_that_needs_exactly_the_broken_version_prints_its_problem(
    boflyt: Run, args: tuple[str, ...]
) -> None:
    result = boflyt(*args, stdin="REF-2\n")
    assert result.returncode == 1
    assert "private_lease/v3.yaml: this is a named pipe (FIFO)" in result.stderr


# --- drafts --------------------------------------------------------------------------------


@pytest.fixture
def with_draft(tmp_path: Path) -> Run:
    """A library whose private_lease/v3.yaml is a valid draft."""
    root = tmp_path / "processes"
    shutil.copytree(PROCESSES, root)
    text = (root / "private_lease" / "v2.yaml").read_text(encoding="utf-8")
    text = text.replace("version: 2\n", "version: 3\n", 1)
    (root / "private_lease" / "v3.yaml").write_text(
        text.replace("status: published", "status: draft", 1), encoding="utf-8"
    )
    return _program(tmp_path)


def test_a_case_does_not_start_on_a_draft(with_draft: Run) -> None:
    start = ("case", "start", "private_lease", "--version", "3", "--as", "kari", "--org", "nav")
    result = with_draft(*start, stdin="REF-1\n")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: private_lease@v3 is a draft; cases start only on published versions "
        "(publish it first)"
    )


def test_a_draft_can_be_shown_analysed_and_simulated(with_draft: Run) -> None:
    commands = [
        ("show", "private_lease@v3", "--lang", "en"),
        ("diff", "private_lease", "2", "3", "--lang", "en"),
        ("analyse", "private_lease@v3", "--lang", "en"),
        ("simulate", "private_lease@v3", "--cases", "20", "--no-prefect", "--lang", "en"),
    ]
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        results = list(pool.map(lambda args: with_draft(*args), commands))
    for args, result in zip(commands, results, strict=True):
        assert result.returncode == 0, (args, result.stderr)
