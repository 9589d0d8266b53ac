"""``boflyt discover``: draft the as-is flow of a run set as a new draft version of a process.

The core is :func:`boflyt.analysis.discovery.discover` (the rules are in its module docs); the
text is :mod:`boflyt.formats.draft_yaml`. The draft is written as the next ``v<N>.yaml`` of the
process (a new process gets ``v1`` and a first scenario) by
:func:`boflyt.engine.definition.authoring.upload_draft`, so it is checked like any upload; the
organisations of the log the library does not know are appended to its ``lanes.yaml`` first
(checked by the loader before it is written). ``-o FILE`` writes the draft there instead and
changes nothing in the library. What a log cannot tell is left for the facilitator.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import tempfile
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.text import Text as RichText

from boflyt.analysis.discovery import DraftVersion, discover
from boflyt.commands.language import LangOption, Words, chosen
from boflyt.console import console, fail, friendly_errors
from boflyt.engine.definition.authoring import check_text, next_number, upload_draft
from boflyt.engine.definition.load import load_lanes, load_library
from boflyt.engine.store.eventlog import event_frame
from boflyt.engine.store.imports import get_import
from boflyt.formats.draft_yaml import lanes_text, scenario_text, version_text
from boflyt.models.definition import Lane, LaneCatalog, Text
from boflyt.models.errors import BoflytError, DefinitionError
from boflyt.models.runset import RunSet
from boflyt.models.vocabulary import Mode, StepKind
from boflyt.workspace import Workspace

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``discover``."""
    app.command("discover")(discover_flow)


def discover_flow(
    runs: Annotated[
        str, typer.Argument(help="The run set to draft from: imported:NAME (or live, simulated:N).")
    ],
    process: Annotated[
        str,
        typer.Option(
            "--process", "-p", help="The process id: its next version, or a new process as v1."
        ),
    ],
    threshold: Annotated[
        float,
        typer.Option(
            help="Leave out activities done in fewer than this share of the cases "
            "(0..1); they are listed.",
            min=0.0,
            max=1.0,
        ),
    ] = 0.05,
    edge_threshold: Annotated[
        float,
        typer.Option(
            help="Drop a transition carrying less than this share of what leaves its "
            "step (0..1), unless a step needs it to be reached or to end.",
            min=0.0,
            max=1.0,
        ),
    ] = 0.05,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the draft to this file instead; the library is left unchanged.",
        ),
    ] = None,
    owner: Annotated[
        str | None, typer.Option(help="The draft's owner (default: your login name).")
    ] = None,
    lang: LangOption = None,
) -> None:
    """Draft a version from an imported log: steps, lanes, decisions, rework and durations."""
    words = Words("discover", chosen(lang))
    with friendly_errors():
        workspace = Workspace.current()
        run_set = RunSet.parse(runs)
        events, names = _read(workspace, run_set, process)
        if events.is_empty():
            fail(words["no_events"].format(runs=run_set))
        root = workspace.processes_dir
        known = load_lanes(root / "lanes.yaml")
        exists = (root / process).is_dir()
        number = next_number(root, process) if exists else 1
        try:
            draft = discover(events, process=process, number=number, threshold=threshold,
                             edge_threshold=edge_threshold, names=names,
                             title=_title(root, process) if exists else None,
                             owner=owner or getpass.getuser(), date=dt.date.today(),
                             source=str(run_set))  # fmt: skip
        except ValueError as error:
            fail(str(error))
        text = version_text(draft, source=str(run_set))
        _check(text, draft, known)
        added = [lane for lane in draft.lanes if known.get(lane.id) is None]
        if output is not None:
            output.write_text(text, encoding="utf-8")
            path = output
        else:
            path = _write(root, draft, text, added, events, str(run_set), exists=exists)
    _report(draft, path, [lane.id for lane in added], words, written=output is None)


def _read(workspace: Workspace, runs: RunSet, process: str) -> tuple[pl.DataFrame, dict[str, str]]:
    """The run set's events (of ``process`` only, for the live set: it holds every process's
    cases) and, for an import, its step ids' activity names."""
    engine = workspace.open_store()
    try:
        live = runs.mode is Mode.LIVE
        events = event_frame(engine, runs=runs, process=process if live else None)
        names: dict[str, str] = {}
        if runs.mode is Mode.IMPORTED:
            names = json.loads(get_import(engine, runs.key).activities)
    finally:
        engine.dispose()
    return events, names


def _title(root: Path, process: str) -> Text | None:
    """The name of the process's newest loadable version (None if none loads)."""
    try:
        library = load_library(root)
        return library.get(process).name
    except BoflytError:
        return None


def _check(text: str, draft: DraftVersion, known: LaneCatalog) -> None:
    """Refuse a draft text the loader would refuse (never expected: a bug if it happens)."""
    _, problems = check_text(text, process=draft.process, number=draft.number,
                             lanes=draft.lane_catalog(known))  # fmt: skip
    if problems:
        raise DefinitionError(problems)


def _atomic(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write(
    root: Path,
    draft: DraftVersion,
    text: str,
    added: list[Lane],
    events: pl.DataFrame,
    source: str,
    *,
    exists: bool,
) -> Path:
    """Add the lanes, make the process's folder (and first scenario), upload the draft."""
    if added:
        catalogue = root / "lanes.yaml"
        extended = lanes_text(catalogue.read_text(encoding="utf-8"), added, source=source)
        with tempfile.TemporaryDirectory() as folder:  # the loader checks the text first
            trial = Path(folder) / "lanes.yaml"
            trial.write_text(extended, encoding="utf-8")
            load_lanes(trial)
        _atomic(catalogue, extended)
    if not exists:
        (root / draft.process / "scenarios").mkdir(parents=True, exist_ok=True)
        first = events["at"].dt.date().min()
        start = first if isinstance(first, dt.date) else dt.date.today()
        _atomic(root / draft.process / "scenarios" / "default.yaml",
                scenario_text(draft, start=start, source=source))  # fmt: skip
    owner = str(draft.data["owner"])
    return upload_draft(root, draft.process, text, owner, dt.datetime.now(dt.UTC)).path


def _report(
    draft: DraftVersion, path: Path, added: list[str], words: Words, *, written: bool
) -> None:
    steps = draft.version().steps
    work = [s for s in steps if s.kind not in (StepKind.START, StepKind.END)]
    console.print(RichText(words["wrote"].format(path=path)))
    console.print(RichText(words["counts"].format(
        steps=len(work), decisions=sum(s.kind is StepKind.DECISION for s in steps),
        transitions=len(draft.data["transitions"]),
        rework=sum(bool(t.get("rework")) for t in draft.data["transitions"]),
        cases=draft.cases,
    )))  # fmt: skip
    if added:
        console.print(RichText(words["lanes_added"].format(lanes=", ".join(added))))
    if draft.left_out:
        shown = ", ".join(f"{o.activity} ({o.cases})" for o in draft.left_out)
        console.print(RichText(words["left_out"].format(n=len(draft.left_out), steps=shown)))
    if not draft.touch_known:
        console.print(RichText(words["touch_unknown"]))
    console.print(RichText(words["facilitator"]))
    if written:
        console.print(RichText(words["next"].format(key=f"{draft.process}@v{draft.number}")))
