"""Where a flow run finds its store: a Prefect Secret block, or the worker's environment.

The store URL may hold a password, so it is never a flow parameter: Prefect keeps parameters in
its own database and shows them in the UI. A flow run's tasks read it, in this order, from

1. the Prefect Secret block named by ``BOFLYT_DATABASE_URL_SECRET`` — looked up only when that
   variable is set, so no run pays for a lookup that would fail;
2. the worker's workspace and environment (:meth:`boflyt.workspace.Workspace.current`):
   ``BOFLYT_DATABASE_URL``, else the SQLite store in the workspace's ``data/`` folder.

The deployment then records only the block's *name*, never its value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import cast

from prefect.blocks.system import Secret
from sqlalchemy.engine import Engine

from boflyt.models.errors import SettingsError
from boflyt.settings import DATABASE_SCHEMES
from boflyt.workspace import Workspace

__all__ = ["SECRET_VARIABLE", "SecretLoader", "flow_workspace", "load_secret", "open_store"]

SECRET_VARIABLE = "BOFLYT_DATABASE_URL_SECRET"
"""The environment variable naming the Prefect Secret block that holds the store URL."""

SecretLoader = Callable[[str], object]
"""Reads the value of the Secret block of the given name."""


def load_secret(name: str) -> object:
    """The value of the Prefect Secret block ``name``.

    Raises:
        SettingsError: there is no Secret block of that name.
    """
    try:
        block = Secret.load(name, _sync=True)  # type: ignore[call-arg]  # sync in async flows too
    except ValueError:
        raise SettingsError(
            f"{SECRET_VARIABLE}={name!r}: no Prefect Secret block of that name; "
            f"allowed: the name of a Secret block (prefect block ls)"
        ) from None
    return cast(Secret[str], block).get()


def flow_workspace(*, load: SecretLoader = load_secret) -> Workspace:
    """The worker's workspace, its ``database_url`` taken from the Secret block if one is named.

    Raises:
        SettingsError: the block does not exist or does not hold a store URL.
    """
    workspace = Workspace.current()
    name = workspace.settings.database_url_secret
    if not name:
        return workspace
    url = load(name)
    if not isinstance(url, str) or not url.startswith(DATABASE_SCHEMES):
        raise SettingsError(
            f"{SECRET_VARIABLE}={name!r}: the Secret block does not hold a store URL; "
            f"allowed: a URL starting with {', '.join(DATABASE_SCHEMES)}"
        )
    return dataclasses.replace(workspace, database_url=url)


def open_store(*, load: SecretLoader = load_secret) -> Engine:
    """The flow run's store, its schema ready (see the module's docstring for where from)."""
    return flow_workspace(load=load).open_store()
