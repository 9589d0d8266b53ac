"""CLI commands for process owners: ``validate``, ``show``, ``diff``, ``schema`` and ``versions``.

A thin shell over :mod:`boflyt.engine.definition.load`, :mod:`boflyt.engine.definition.diff` and
:mod:`boflyt.engine.definition.schema`; the rich
renderings live in :mod:`boflyt.commands.version_view` and
:mod:`boflyt.commands.diff_view`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from boflyt.commands.diff_view import diff_view
from boflyt.commands.language import LangOption, chosen
from boflyt.commands.version_view import version_view
from boflyt.console import console, err_console, fail, friendly_errors
from boflyt.engine.definition.diff import diff_versions
from boflyt.engine.definition.load import (
    BrokenFile,
    load_lanes,
    load_library,
    load_version,
    parse_ref,
    read_text,
    version_files,
)
from boflyt.engine.definition.scenario import load_scenario
from boflyt.engine.definition.schema import lanes_schema, schema_text, write_schema
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.errors import DefinitionError, NotFoundError, Problem, ScenarioError
from boflyt.models.words import Language, count, term, word
from boflyt.workspace import Workspace

__all__ = ["register"]


_VERSION_ARG = re.compile(r"^[vV]?([1-9][0-9]*)$")
_VERSION_COLUMNS = ("process", "version", "status", "label", "based_on", "hash")


def _root() -> Path:
    return Workspace.current().processes_dir


# --- loading -------------------------------------------------------------------------------


def _load(process: str, number: int | None) -> tuple[Version, LaneCatalog]:
    """One version (``None``: the newest published one) and the lane catalogue, by the library's
    one rule: a broken file raises its problems only when exactly its version is asked for."""
    library = load_library(_root())
    return library.get(process, number), library.lanes


@contextmanager
def _definition_errors() -> Iterator[None]:
    """Like :func:`friendly_errors`, but a bad file prints each of its problems on one line."""
    with friendly_errors():
        try:
            yield
        except DefinitionError as exc:
            for problem in exc.problems:
                err_console.print(Text(str(problem), style="red"), soft_wrap=True)
            count = len(exc.problems)
            fail(f"{count} problem{'s' if count != 1 else ''}; fix the file and try again")


def _version_number(text: str) -> int:
    match = _VERSION_ARG.match(text.strip())
    if match is None:
        fail(f"'{text}' is not a version; write a number such as 2 or v2")
    return int(match.group(1))


# --- validate ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    """The outcome of checking one file."""

    path: Path
    problems: tuple[Problem, ...]


def _expand(path: Path) -> list[Path]:
    """A file as is; a library folder (with lanes.yaml) or a process folder as its files.

    A folder, FIFO or other entry named like a YAML file is a file here, so its check says what
    it is; a process folder's version files are the library's (:func:`version_files`).
    """
    if not path.exists() and not path.is_symlink():
        raise NotFoundError(f"{path}: no such file or folder")
    if not path.is_dir() or path.suffix.lower() in (".yaml", ".yml"):
        return [path]
    try:
        if (path / "lanes.yaml").is_file():
            folders = sorted(p for p in path.iterdir() if p.is_dir() and p.name[0] not in "._")
            return [path / "lanes.yaml"] + [f for folder in folders for f in _expand(folder)]
        return version_files(path) + sorted((path / "scenarios").glob("*.y*ml"))
    except OSError as exc:
        raise NotFoundError(f"{path}: the folder cannot be listed: {exc.strerror}") from None


def _lanes_for(path: Path) -> Path:
    """The lanes.yaml of the library a file belongs to (else the configured library's)."""
    for folder in (path.parent, *path.parents[:3]):
        if (folder / "lanes.yaml").is_file():
            return folder / "lanes.yaml"
    return _root() / "lanes.yaml"


def _check(path: Path) -> _Checked:
    """All problems of one lanes, version or scenario file (none when it is valid)."""
    try:
        if path.name == "lanes.yaml":
            load_lanes(path)
        else:
            lanes = load_lanes(_lanes_for(path))
            if path.parent.name == "scenarios":
                read_text(path)  # a FIFO or folder is refused here, never opened
                load_scenario(path, lanes=lanes)
            else:
                load_version(path, lanes=lanes)
    except (DefinitionError, ScenarioError) as exc:
        return _Checked(path, exc.problems)
    except NotFoundError:  # a link to nothing, or removed since the folder was listed
        problem = Problem(f"{path.parent.name}/{path.name}", 0, "", "no such file")
        return _Checked(path, (problem,))
    return _Checked(path, ())


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _print_checked(checked: _Checked, lang: Language) -> None:
    if not checked.problems:
        console.print(Text.assemble(("✓ ", "green"), _shown(checked.path)))
        return
    found = count("word.problems", len(checked.problems), lang)
    console.print(Text.assemble(("✗ ", "bold red"), f"{_shown(checked.path)}: {found}"))
    for problem in checked.problems:
        console.print(Text(f"  {problem}"), soft_wrap=True)


def _validate_summary(results: list[_Checked], lang: Language) -> Text:
    files, bad = len(results), sum(1 for r in results if r.problems)
    problems = count("word.problems", sum(len(r.problems) for r in results), lang)
    text = word("validate.summary", lang, files=count("word.files", files, lang),
                valid=count("word.valid", files - bad, lang))  # fmt: skip
    text += word("validate.with_problems", lang, bad=bad, problems=problems) if bad else ""
    return Text(text, style="bold red" if bad else "bold green")


def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Version files, scenario files, lanes.yaml, or folders (a process folder or "
            "the whole library). Default: the process library from the settings.",
            show_default=False,
        ),
    ] = None,
    lang: LangOption = None,
) -> None:
    """Check process files and print every problem, one per line: file:line place: message."""
    with friendly_errors():
        files = [file for path in (paths or [_root()]) for file in _expand(path)]
        if not files:
            fail("no process files found in " + ", ".join(str(p) for p in paths or [_root()]))
        results = [_check(file) for file in files]
    for result in results:
        _print_checked(result, chosen(lang))
    console.print(_validate_summary(results, chosen(lang)))
    if any(result.problems for result in results):
        raise typer.Exit(1)


# --- show, diff, versions, schema ----------------------------------------------------------


def show(
    ref: Annotated[
        str,
        typer.Argument(
            help="PROCESS or PROCESS@vN, e.g. private_lease@v2 (default: newest published).",
            metavar="PROCESS[@VERSION]",
        ),
    ],
    lang: LangOption = None,
) -> None:
    """Show a version readably: metadata, lanes, steps in flow order and transitions."""
    with _definition_errors():
        version, lanes = _load(*parse_ref(ref))
    console.print(version_view(version, lanes, chosen(lang), width=console.width))


def diff(
    process: Annotated[str, typer.Argument(help="The process, e.g. private_lease.")],
    before: Annotated[str, typer.Argument(help="The version before, e.g. 1 or v1.", metavar="A")],
    after: Annotated[str, typer.Argument(help="The version after, e.g. 2 or v2.", metavar="B")],
    lang: LangOption = None,
) -> None:
    """Explain what changed from version A to version B: steps, lanes, transitions, handoffs."""
    numbers = _version_number(before), _version_number(after)
    with _definition_errors():
        name, _ = parse_ref(process)  # refuses anything that is not a process id
        old, lanes = _load(name, numbers[0])
        new, _ = _load(name, numbers[1])
    console.print(diff_view(diff_versions(old, new), lanes, chosen(lang)))


def _first_problem(broken: BrokenFile, lang: Language) -> str:
    more = len(broken.problems) - 1
    first = str(broken.problems[0]) if broken.problems else ""
    return first if more <= 0 else word("validate.and_more", lang, first=first, more=more)


def _version_row(entry: Version | BrokenFile, lang: Language) -> list[str]:
    if isinstance(entry, BrokenFile):
        status = f"✗ {word('version_status.broken', lang)}"
        return [entry.name, status, _first_problem(entry, lang), "", ""]
    based = f"v{entry.based_on}" if entry.based_on else "—"
    status = term(entry.status, lang)
    return [f"v{entry.version}", status, entry.label, based, entry.content_hash[:12]]


def versions(
    process: Annotated[
        str | None,
        typer.Argument(help="Only this process (default: every process).", show_default=False),
    ] = None,
    lang: LangOption = None,
) -> None:
    """List processes and their versions: status, label, what each is based on, content hash.

    A file that does not load is listed as broken with its first problem (``validate`` lists
    them all).
    """
    language = chosen(lang)
    with _definition_errors():
        library = load_library(_root())
        names = sorted({*library.by_process, *library.broken})
        if process is not None:
            if process not in names:
                known = ", ".join(names) or "none"
                raise NotFoundError(f"unknown process '{process}'; known processes: {known}")
            names = [process]
    table = Table()
    for column in _VERSION_COLUMNS:
        table.add_column(word(f"field.{column}", language))
    for name in names:
        for number, entry in enumerate(library.entries(name)):
            table.add_row(name if number == 0 else "", *_version_row(entry, language))
    console.print(table)


def schema(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file (default: print).", show_default=False
        ),
    ] = None,
    lanes: Annotated[
        bool, typer.Option("--lanes", help="The schema of lanes.yaml instead of a version file.")
    ] = False,
) -> None:
    """Print or write the JSON Schema of version files, for editors (processes/schema.json)."""
    text = json.dumps(lanes_schema(), indent=2, ensure_ascii=False) + "\n" if lanes else None
    if output is None:
        typer.echo(text or schema_text(), nl=False)
        return
    try:
        if text is None:
            write_schema(output)
        else:
            output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    err_console.print(Text(f"wrote {output}"), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the process owner's commands to the root app."""
    for command in (validate, show, diff, versions, schema):
        app.command()(command)
