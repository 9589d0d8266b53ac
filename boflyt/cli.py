"""The ``boflyt`` command line: a thin typer shell over the core.

Each group of commands lives in a module of :mod:`boflyt.commands`, and the root group loads
it only when one of its commands runs (Click's "lazily loading subcommands" pattern): ``boflyt
validate`` never pays for importing Prefect, matplotlib or the report, and ``boflyt --help``
lists every command from :data:`COMMANDS` without importing any of them. A test keeps each
one-line summary there equal to its command's own help. Prefect's local-mode defaults are set
before any group imports Prefect.

Every error is one line on stderr and a non-zero exit, wherever a command raises it
(:class:`~boflyt.console.OneLineErrors`); ``--debug`` or ``BOFLYT_DEBUG=1`` shows the traceback
of an unexpected one instead. (``BOFLYT_DEBUG`` is read by the option itself, not by the
settings, so it works even when a setting is bad.)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer
from typer.core import TyperCommand
from typer.main import get_group

from boflyt.console import OneLineErrors
from boflyt.prefect_local import use_local_defaults

if TYPE_CHECKING:  # typer vendors click; its groups take the vendored Context and Command
    from typer._click.core import Command, Context
    from typer._click.formatting import HelpFormatter

__all__ = ["COMMANDS", "LazyCommand", "LazyCommands", "app", "load_command"]


class LazyCommand(NamedTuple):
    """Where a top-level command lives and the one line ``boflyt --help`` shows for it."""

    module: str
    """Its module in :mod:`boflyt.commands`, whose ``register(app)`` adds it."""
    summary: str
    """The first paragraph of its help, as the command itself says it."""


COMMANDS: dict[str, LazyCommand] = {
    "validate": LazyCommand("definitions", "Check process files and print every problem, one per "
                            "line: file:line place: message."),
    "show": LazyCommand("definitions", "Show a version readably: metadata, lanes, steps in flow "
                        "order and transitions."),
    "diff": LazyCommand("definitions", "Explain what changed from version A to version B: steps, "
                        "lanes, transitions, handoffs."),
    "versions": LazyCommand("definitions", "List processes and their versions: status, label, "
                            "what each is based on, content hash."),
    "version": LazyCommand("publishing", "Publish a draft version or retire a published one "
                           "(edits the version file in place)."),
    "schema": LazyCommand("definitions", "Print or write the JSON Schema of version files, for "
                          "editors (processes/schema.json)."),
    "case": LazyCommand("cases", "Run cases: start, begin and complete steps, show, list, "
                        "cancel."),
    "inbox": LazyCommand("cases", "Work waiting for an organisation, oldest first."),
    "analyse": LazyCommand("analysis", "Expected (and observed) LEAN metrics of one version."),
    "compare": LazyCommand("analysis", "Compare two versions: metrics before/after and what "
                           "changed."),
    "simulate": LazyCommand("simulation", "Simulate cases of PROCESS@VERSION under a scenario "
                            "and store them (through Prefect's local mode unless --no-prefect)."),
    "draw": LazyCommand("diagrams", "Draw a process version as a swimlane, a before/after view "
                        "or a value-stream timeline."),
    "report": LazyCommand("diagrams", "Write one self-contained HTML before/after report for a "
                          "facilitator's workshop."),
    "demo": LazyCommand("demo", "The main job: simulate every process before and after its LEAN "
                        "redesign, compare, and write reports/index.html."),
    "runs": LazyCommand("runs", "Run sets: live (registered), simulated:N (one simulation), "
                        "imported:NAME. List them; delete simulated and imported ones."),
    "import": LazyCommand("imports", "Import an event log (XES, CSV or Parquet) into the run set "
                          "imported:NAME."),
    "discover": LazyCommand("discovery", "Draft a version from an imported log: steps, lanes, "
                            "decisions, rework and durations."),
    "calibrate": LazyCommand("calibration", "Fit a simulation scenario (arrivals, staff, "
                             "durations, branches) from an imported log."),
    "conformance": LazyCommand("conformance", "Check a run set against a version: fitness, first "
                               "deviations, deviations by step."),
    "export": LazyCommand("exports", "Export a run set as XES, OCEL 2.0, CSV or Parquet "
                          "(pseudonyms only)."),
    "bpmn": LazyCommand("bpmn", "Write a version as BPMN 2.0 XML with one lane per organisation, "
                        "drawn."),
    "init": LazyCommand("workspace", "Make a workspace in DIR (default: here): a copy of the "
                        "process library to edit (processes/), the store (data/, owner-only) and "
                        "reports (reports/). Commands run in the workspace or below it use it."),
    "db": LazyCommand("store", "The store's schema revision: status, upgrade."),
    "user": LazyCommand("users", "Accounts: add, list and disable users of the store; make API "
                        "tokens."),
    "outbox": LazyCommand("outbox", "E-mail notices (reminders, escalations, handoffs): send, "
                          "list, requeue."),
    "deadlines": LazyCommand("outbox", "Remind before steps' deadlines, escalate after them and "
                             "send the outbox, once."),
    "audit": LazyCommand("audit", "Verify the audit log and the case event chains; show who read "
                         "and changed a case."),
    "retention": LazyCommand("retention", "Remove the link to the person (the reference "
                             "pseudonym) of cases ended longer ago than their process keeps "
                             "them; the anonymous events stay."),
    "glossary": LazyCommand("glossary", "Print the glossary (identifier, bokmål, English) "
                            "generated from the word catalogue."),
    "serve": LazyCommand("serve", "Start the web app (login, inbox) on the workspace's store, "
                         "at http://HOST:PORT/."),
}  # fmt: skip
"""Every top-level command, in the order ``boflyt --help`` lists them."""


def load_command(name: str) -> Command:
    """Import the module of the command ``name`` and return the command it registers.

    Raises:
        KeyError: ``name`` is not in :data:`COMMANDS`.
    """
    module = importlib.import_module(f"boflyt.commands.{COMMANDS[name].module}")
    group = typer.Typer()
    module.register(group)
    return get_group(group).commands[name]


class LazyCommands(OneLineErrors):
    """The root group: each command a placeholder with its summary until it is asked for.

    ``--help`` lists the placeholders; resolving a command name imports its module and keeps
    the real command. The placeholders also give typer's "did you mean" its names.
    """

    _LISTING = "boflyt.listing"
    """The ``ctx.meta`` key set while the root help is being written."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, entry in COMMANDS.items():
            self.commands.setdefault(name, _Summary(name=name, help=entry.summary))

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        """The real command ``cmd_name`` (imported now if need be), or its summary in help."""
        command = self.commands.get(cmd_name)
        if isinstance(command, _Summary) and not ctx.meta.get(self._LISTING):
            command = self.commands[cmd_name] = load_command(cmd_name)
        return command

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        """Write the root help from the summaries, importing no command."""
        ctx.meta[self._LISTING] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            del ctx.meta[self._LISTING]


class _Summary(TyperCommand):
    """A command not imported yet: only its name and summary, for the root help."""


use_local_defaults()

app = typer.Typer(
    name="boflyt",
    help="Boflyt: executable, measurable LEAN case routines for housing-social work.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=LazyCommands,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version  # only here: --help need not pay for it

        typer.echo(f"boflyt {version('boflyt')}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="BOFLYT_DEBUG",
            help="Show the full traceback of an unexpected error (default: write it to a file).",
        ),
    ] = False,
) -> None:
    """Boflyt: executable, measurable LEAN case routines for housing-social work."""
    # A callback keeps typer in group mode even when only one command is registered.


if __name__ == "__main__":  # pragma: no cover
    app()
