"""``boflyt serve``: the web app on the workspace's store, through uvicorn.

Each worker builds the app itself (:func:`boflyt.web.app.app_from_workspace`), so several
workers need a store several processes may write at once: PostgreSQL
(``BOFLYT_DATABASE_URL``). On SQLite, ``--workers`` above 1 is refused.
"""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from boflyt.console import console, friendly_errors
from boflyt.models.errors import CommandError
from boflyt.web.sessions import load_secret
from boflyt.workspace import Workspace

__all__ = ["register", "serve"]


def register(app: typer.Typer) -> None:
    """Add ``serve``."""
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Worker processes (above 1: PostgreSQL only).")
    ] = 1,
) -> None:
    """Start the web app (login, inbox) on the workspace's store, at http://HOST:PORT/.

    Several workers need PostgreSQL (BOFLYT_DATABASE_URL); set BOFLYT_WEB_SECURE_COOKIES=1 when
    it is reached over https.
    """
    with friendly_errors():
        workspace = Workspace.current()
        if workers > 1 and workspace.database_url.startswith("sqlite"):
            raise CommandError(
                f"--workers {workers} needs a PostgreSQL store; this workspace uses SQLite "
                "(one writer at a time); run one worker, or set BOFLYT_DATABASE_URL to "
                "postgresql+psycopg://…"
            )
        workspace.open_store().dispose()  # create or check the store once, before the workers
        load_secret(workspace.ensure_data_dir())  # and the web secret they all sign with
    console.print(f"Boflyt at http://{host}:{port}/ (Ctrl+C stops)", soft_wrap=True)
    uvicorn.run(
        "boflyt.web.app:app_from_workspace",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )
