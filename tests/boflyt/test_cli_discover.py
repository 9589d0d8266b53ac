"""``boflyt discover`` end to end: a simulated run set, and the real receipt log imported.

The receipt draft is checked against an independent reading of the raw XES (``xml.etree`` and
polars): which activities are frequent enough to be steps, and every transition's probability
from the directly-follows counts of the filtered traces (ties in the file's order).
"""

from __future__ import annotations

import gzip
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from boflyt.cli import app
from boflyt.engine.definition.load import load_lanes, load_library
from boflyt.models.vocabulary import StepKind
from tests.boflyt.conftest import PROCESSES

runner = CliRunner()
RECEIPT = Path(__file__).resolve().parents[3] / "shared" / "data" / "event-logs" / "receipt.xes.gz"
XES = "{http://www.xes-standard.org/}"


@pytest.fixture(autouse=True)
def library(cli_folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the seed library to write drafts into (the shipped one is never written)."""
    folder = cli_folder / "processes"
    shutil.copytree(PROCESSES, folder)
    monkeypatch.setenv("BOFLYT_PROCESSES_DIR", str(folder))
    return folder


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, [*args, "--lang", "en"] if args[0] != "validate" else list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def test_a_simulated_run_set_gives_the_next_draft_of_its_process(library: Path) -> None:
    invoke("simulate", "private_lease@v1", "-n", "200", "--seed", "4", "--no-prefect")
    lanes_before = (library / "lanes.yaml").read_text(encoding="utf-8")
    out = invoke("discover", "simulated:1", "--process", "private_lease", "--owner", "kari")
    assert "v3.yaml" in out and "Left for the facilitator" in out
    draft, original = (load_library(library).get("private_lease", n) for n in (3, 1))
    assert draft.status.value == "draft" and draft.owner == "kari"
    assert {(s.id, s.lane) for s in draft.steps} == {(s.id, s.lane) for s in original.steps}
    assert (library / "lanes.yaml").read_text(encoding="utf-8") == lanes_before  # all known
    invoke("validate", str(library / "private_lease" / "v3.yaml"))


def test_output_writes_elsewhere_and_leaves_the_library_alone(
    library: Path, tmp_path: Path
) -> None:
    invoke("simulate", "private_lease@v2", "-n", "100", "--seed", "4", "--no-prefect")
    target = tmp_path / "draft.yaml"
    invoke("discover", "simulated:1", "--process", "new_routine", "-o", str(target))
    assert not (library / "new_routine").exists()
    assert target.read_text(encoding="utf-8").startswith("# Drafted by boflyt discover")


def test_an_unknown_run_set_is_refused_and_nothing_is_written(library: Path) -> None:
    out = invoke("discover", "imported:nothing", "--process", "receipt", code=1)
    assert "imported:nothing" in out
    assert not (library / "receipt").exists()
    invoke("discover", "live", "--process", "private_lease", "--threshold", "1.5", code=2)


# -- the receipt log --------------------------------------------------------------------------


def receipt_traces() -> pl.DataFrame:
    """The raw XES read independently: case, activity, group, time, file order."""
    with gzip.open(RECEIPT) as handle:
        root = ET.parse(handle).getroot()
    rows = []
    for trace in root.iter(f"{XES}trace"):
        case = next(a.get("value") for a in trace if a.get("key") == "concept:name")
        for event in trace.iter(f"{XES}event"):
            attrs = {a.get("key"): a.get("value") for a in event}
            if attrs.get("lifecycle:transition", "complete").lower() != "complete":
                continue
            rows.append({"case": case, "activity": attrs["concept:name"],
                         "at": attrs["time:timestamp"], "row": len(rows)})  # fmt: skip
    frame = pl.DataFrame(rows).with_columns(
        pl.col("at").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z").dt.convert_time_zone("UTC")
    )
    return frame.sort("case", "at", "row")


def expected_flow(threshold: float = 0.05) -> tuple[set[str], dict[tuple[str, str | None], float]]:
    """Frequent activities, and each kept directly-follows edge's share (None: the case ends)."""
    log = receipt_traces()
    cases = log["case"].n_unique()
    per = log.group_by("activity").agg(pl.col("case").n_unique().alias("n"))
    frequent = set(per.filter(pl.col("n") >= threshold * cases)["activity"])
    kept = log.filter(pl.col("activity").is_in(list(frequent)))
    pairs: Counter[tuple[str, str | None]] = Counter()
    for _, trace in kept.group_by("case"):
        steps = trace.sort("at", "row")["activity"].to_list()
        pairs.update(zip(steps, [*steps[1:], None], strict=True))
    out: Counter[str] = Counter()
    for (source, _), n in pairs.items():
        out[source] += n
    strong = {e: n for e, n in pairs.items() if n >= threshold * out[e[0]]}
    total: Counter[str] = Counter()
    for (source, _), n in strong.items():
        total[source] += n
    return frequent, {e: n / total[e[0]] for e, n in strong.items()}


@pytest.mark.slow
def test_the_receipt_log_drafts_validates_draws_simulates_and_compares(
    library: Path, cli_folder: Path
) -> None:
    invoke("import", str(RECEIPT), "--name", "receipt", "--no-prefect")
    out = invoke("discover", "imported:receipt", "--process", "receipt")
    assert "completions only" in out and "21 activities" in out
    version = load_library(library).get("receipt", 1)
    lanes = load_lanes(library / "lanes.yaml")
    assert {"group_1", "group_2", "group_3", "group_4"} <= set(lanes.ids) >= set(version.lanes)
    assert (library / "receipt" / "scenarios" / "default.yaml").is_file()
    frequent, shares = expected_flow()
    names = {s.id: s.name.en for s in version.steps}
    activities = {s.name.en for s in version.steps if s.id in names and s.note and
                  s.note.startswith("From the log")}  # fmt: skip
    assert activities == frequent and len(frequent) == 6
    start = next(s for s in version.steps if s.kind is StepKind.START)
    assert start.id == "start"  # added: an import's first activity is people's work, a step
    found: dict[tuple[str, str | None], float] = {}
    for t in version.transitions:
        if t.source != start.id:  # the activities' own directly-follows pairs
            found[names[t.source], None if t.target == "end" else names[t.target]] = t.p
    assert found.keys() == shares.keys()
    for edge, share in shares.items():
        assert found[edge] == pytest.approx(share, abs=1e-4), edge
    for step in version.steps:
        if step.kind is StepKind.DECISION or step.kind is StepKind.TASK:
            assert step.touch_minutes.mean == 0 and step.value is None
    invoke("validate", str(library / "receipt" / "v1.yaml"))
    invoke("draw", "receipt@v1", "-o", str(cli_folder / "receipt.svg"))
    assert "cluster_group_4" in (cli_folder / "receipt.svg").read_text(encoding="utf-8")
    invoke("simulate", "receipt@v1", "-n", "50", "--seed", "1", "--no-prefect")
    lean = (library / "receipt" / "v1.yaml").read_text(encoding="utf-8")
    lean = lean.replace("version: 1", "version: 2").replace("based_on: null", "based_on: 1")
    (library / "receipt" / "v2.yaml").write_text(lean.replace("wait_days: [0.0, 3.63]",
                                                              "wait_days: [0.0, 1.0]"))  # fmt: skip
    assert "v1 → v2" in invoke("compare", "receipt", "1", "2")
