"""The ``boflyt`` command line: a thin typer shell over the core.

Each group of commands lives in :mod:`boflyt.commands` and registers itself here. Prefect's
local-mode defaults are set before any command module imports Prefect.
"""

from __future__ import annotations

import typer

from boflyt.prefect_local import use_local_defaults

use_local_defaults()

from boflyt.commands import (  # noqa: E402  (after the Prefect defaults, on purpose)
    analysis,
    cases,
    definitions,
    demo,
    diagrams,
    simulation,
)

__all__ = ["app"]

app = typer.Typer(
    name="boflyt",
    help="Boflyt: executable, measurable LEAN case routines for housing-social work.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (definitions, cases, analysis, simulation, diagrams, demo):
    _module.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
