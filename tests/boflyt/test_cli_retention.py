"""``boflyt retention run``, end to end through typer's CliRunner, on a workspace whose
``boflyt.toml`` sets the periods."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boflyt.cli import app

FNR = "01017012345"  # synthetic
OTHER = "02027054321"  # synthetic
runner = CliRunner()
TOML = '[retention]\ndefault = "5y"\neviction_prevention = "never"\n'


@pytest.fixture
def workspace(cli_folder: Path, staff: object, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``cli_folder`` made a workspace (``BOFLYT_HOME``) whose ``boflyt.toml`` keeps five years."""
    (cli_folder / "boflyt.toml").write_text(TOML, encoding="utf-8")
    monkeypatch.setenv("BOFLYT_HOME", str(cli_folder))
    return cli_folder


def _run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    assert FNR not in result.output and OTHER not in result.output
    return result.exit_code, result.output


def _case(ref: str, *, at: str, cancel: bool = True) -> str:
    """A private lease case started at ``at`` (and cancelled an hour later)."""
    code, output = _run("case", "start", "private_lease", "--as", "kari", "--org", "nav",
                        "--at", at, stdin=ref + "\n")  # fmt: skip
    assert code == 0, output
    case_id = re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", output).group(0)  # type: ignore[union-attr]
    if cancel:
        later = at.replace("T08", "T09")
        code, output = _run("case", "cancel", case_id, "--as", "kari", "--org", "nav", "--at",
                            later, "--reason", "moved")  # fmt: skip
        assert code == 0, output
    return case_id


def _live_cases() -> int:
    code, output = _run("runs", "list", "--json")
    assert code == 0, output
    return sum(s["cases"] for s in json.loads(output) if s["run_set"] == "live")


def test_dry_run_lists_then_run_removes_and_the_reference_no_longer_finds_the_case(workspace):
    old = _case(FNR, at="2019-03-04T08:30")
    running = _case(OTHER, at="2019-03-04T08:30", cancel=False)
    code, output = _run("case", "show", "--ref", stdin=FNR + "\n")
    assert code == 0 and old in output

    code, output = _run("retention", "run", "--dry-run", "--now", "2025-01-01", "--lang", "en")
    assert code == 0, output
    assert old in output and running not in output
    assert re.search(r"private_lease@v\d\s+│\s+cancelled\s+│\s+2019-03-04\s+│\s+5y\s+│\s+"
                     r"2024-03-04", output)  # fmt: skip
    assert "1 cases would have the link to the person removed" in output
    assert _run("case", "show", "--ref", stdin=FNR + "\n")[0] == 0  # the dry run changed nothing

    code, output = _run("retention", "run", "--now", "2025-01-01")
    assert code == 0, output
    assert "Fjernet koblingen mellom sak og person for 1 saker (1 omganger)" in output
    code, output = _run("case", "show", "--ref", "--lang", "en", stdin=FNR + "\n")
    assert code != 0 and "no case has that reference" in output
    assert _run("case", "show", "--ref", stdin=OTHER + "\n")[0] == 0  # running: untouched
    assert _live_cases() == 2  # the statistics still count it
    code, output = _run("case", "show", old[:8])
    assert code == 0, output  # the anonymous case and its timeline remain


def test_the_removal_is_audited_verify_stays_intact_and_a_second_run_does_nothing(workspace):
    old = _case(FNR, at="2019-03-04T08:30")
    assert _run("retention", "run", "--now", "2025-01-01")[0] == 0
    code, output = _run("audit", "show", "--case", old, "--json")
    assert code == 0, output
    [entry] = [e for e in json.loads(output) if e["action"] == "retention"]
    assert entry["actor"] == "operator"
    assert re.fullmatch(r"ref_key removed; private_lease@v\d+ cancelled 2019-03-04T09:30:00; "
                        r"retention 5y", entry["detail"])  # fmt: skip
    code, verified = _run("audit", "verify", "--lang", "en")
    assert code == 0 and verified.startswith("intact:"), verified
    code, output = _run("retention", "run", "--now", "2025-01-01", "--lang", "en")
    assert code == 0 and "No ended case is past its retention period" in output
    assert _run("audit", "verify", "--lang", "en") == (0, verified)  # no new entry


def test_without_a_retention_table_nothing_is_removed(cli_folder, staff, monkeypatch):
    (cli_folder / "boflyt.toml").write_text("# no retention\n", encoding="utf-8")
    monkeypatch.setenv("BOFLYT_HOME", str(cli_folder))
    _case(FNR, at="2019-03-04T08:30")
    code, output = _run("retention", "run", "--now", "2090-01-01", "--lang", "en")
    assert code == 0 and "No retention period is set ([retention] in boflyt.toml)" in output
    assert _run("case", "show", "--ref", stdin=FNR + "\n")[0] == 0


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[retention]\ndefault = "5 years"\n',
         r"boflyt.toml: \[retention\].default: found '5 years'; allowed: a whole number and y, "
         r"m or d \(5y, 18m, 90d\), or 'never'"),
        ('[retention]\nprivate_lease = 18\n', r"\[retention\].private_lease: found 18; allowed"),
        ("retention = 5\n", r"boflyt.toml: \[retention\] must be a table of process = period"),
        ("[retention\n", r"boflyt.toml: cannot read it as TOML"),
    ],
)  # fmt: skip
def test_a_bad_period_is_one_line_naming_the_file_and_key(cli_folder, monkeypatch, toml, message):
    (cli_folder / "boflyt.toml").write_text(toml, encoding="utf-8")
    monkeypatch.setenv("BOFLYT_HOME", str(cli_folder))
    code, output = _run("retention", "run", "--dry-run")
    assert code != 0
    assert re.search(message, output), output
    assert "Traceback" not in output
