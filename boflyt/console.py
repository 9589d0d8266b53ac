"""Shared console output for the command line: one rich console, one way to fail.

Every error is one line on stderr and a non-zero exit, wherever it is raised:

* a :class:`~boflyt.models.errors.BoflytError` (including a bad setting) prints
  ``error: <message>`` and exits 1 — inside :func:`friendly_errors` or, via
  :class:`OneLineErrors`, anywhere else in a command;
* anything unexpected prints ``error: <type>: <message>`` and where its full traceback was
  written (an owner-only file in the user's cache folder, else the temporary folder), and
  exits 1; with ``--debug`` (or ``BOFLYT_DEBUG=1``) the traceback is shown instead.

Messages are printed as plain text, never as rich markup, so user input such as ``[/]`` cannot
break the error printer; control characters other than the line breaks between a file's problems
are shown escaped (:func:`boflyt.engine.case.bounds.visible`), so no input can add a line or drive
the terminal. This module is imported by ``boflyt --help``, so it imports nothing heavy up front.
"""

from __future__ import annotations

import os
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import platformdirs
import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from boflyt.models.errors import BoflytError

if TYPE_CHECKING:  # typer vendors click; TyperGroup.invoke takes the vendored Context
    from rich.progress import Progress
    from typer._click.core import Context

__all__ = [
    "OneLineErrors",
    "console",
    "err_console",
    "fail",
    "friendly_errors",
    "progress",
    "report_crash",
]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

_PASS_THROUGH = (typer.Exit, typer.Abort, typer.TyperException, EOFError)
"""What typer and click themselves turn into an exit code or a usage message."""


def fail(message: str, *, code: int = 1) -> NoReturn:
    """Print one clear error line to stderr (the message as plain text) and exit non-zero.

    A message of several problems keeps its line breaks; any other control character is shown
    escaped.
    """
    # Imported here, not above: the case bounds load the definition models (pydantic), and
    # ``boflyt --help`` imports this module but must start in well under 0.3 s.
    from boflyt.engine.case.bounds import visible

    shown = "\n".join(visible(line) for line in message.split("\n"))
    err_console.print(Text.assemble(("error:", "bold red"), " ", shown), soft_wrap=True)
    raise typer.Exit(code)


def progress() -> Progress:
    """The progress bar of a long command: what it does, the bar, done/total, time so far.

    Transient: it disappears when done, leaving the command's own output. rich's progress
    module is imported here, so ``--help`` does not pay for it.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn any :class:`BoflytError` into a clear message and exit code 1 — never a traceback."""
    try:
        yield
    except BoflytError as exc:
        fail(str(exc))


def report_crash(exc: BaseException) -> NoReturn:
    """Write ``exc``'s traceback to an owner-only file and fail with one line naming it."""
    text = "".join(traceback.format_exception(exc))
    lines = str(exc).strip().splitlines()
    summary = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    try:
        where = f"full traceback written to {_write_traceback(text)}"
    except OSError as error:
        where = f"no traceback file could be written ({error.strerror}); rerun with --debug"
    fail(f"{summary}; {where}")


def _write_traceback(text: str) -> Path:
    """A new file (mode 0600) holding ``text``, in the user's cache folder or else in /tmp."""
    try:
        folder = Path(platformdirs.user_cache_dir("boflyt", appauthor=False)) / "errors"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, name = tempfile.mkstemp(prefix="error-", suffix=".txt", dir=folder)
    except OSError:
        fd, name = tempfile.mkstemp(prefix="boflyt-error-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return Path(name)


class OneLineErrors(TyperGroup):
    """The root command group: whatever a command raises ends as one line on stderr.

    The group's ``debug`` parameter (``--debug`` / ``BOFLYT_DEBUG``) lets an unexpected
    exception through with its traceback instead.
    """

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except _PASS_THROUGH:
            raise
        except BoflytError as exc:
            fail(str(exc))
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            report_crash(exc)
