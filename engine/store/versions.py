"""Published versions: every version a case ran on, kept in the store as canonical JSON.

A case is pinned to the version it started on: :func:`publish_version` stores the version
(idempotent for identical content, refused for changed content under the same number) and later
commands rebuild it from the store (:func:`~boflyt.engine.store.statements.published_flow`),
whatever the YAML says now. Re-exported from :mod:`boflyt.engine.store.commands`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine

from boflyt.engine.case.decide import compile_flow
from boflyt.engine.store.db import read_scope, write_scope
from boflyt.engine.store.statements import (
    VERSION_TABLE,
    published_flow,
    published_hash,
    translate_errors,
    utc,
)
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.errors import ConflictError, NotFoundError

__all__ = ["get_version", "outside_lanes", "publish_version"]


def publish_version(
    engine: Engine,
    version: Version,
    *,
    lanes: LaneCatalog | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Store ``version`` so cases can be pinned to it; idempotent for identical content.

    Raises :class:`ConflictError` when ``process@vN`` is already stored with other content.
    """
    outside = sorted(outside_lanes(version, lanes))
    content_hash = compile_flow(version).content_hash  # cached: hashing means serialising
    at = utc(now or dt.datetime.now(dt.UTC))

    def run() -> None:
        with write_scope(engine) as conn:
            stored = published_hash(conn, version.process, version.version)
            if stored is None:
                conn.execute(
                    VERSION_TABLE.insert().values(
                        process=version.process, version=version.version,
                        content_hash=content_hash, canonical=version.canonical(),
                        outside_lanes=",".join(outside), published_at=at,
                    )
                )  # fmt: skip
            elif stored != content_hash:
                raise ConflictError(
                    f"{version.key} is already published with content hash {stored[:12]}; this "
                    f"one has {content_hash[:12]}; publish changed content as a new version number"
                )

    translate_errors(run)


def outside_lanes(version: Version, lanes: LaneCatalog | None) -> frozenset[str]:
    """The lanes of ``version`` that the catalogue ``lanes`` marks as outside parties."""
    if lanes is None:
        return frozenset()
    return frozenset(lane.id for lane in lanes.lanes if lane.outside and lane.id in version.lanes)


def get_version(engine: Engine, *, process: str, version: int) -> Version:
    """The published version ``process@v{version}`` as stored; :class:`NotFoundError` if none."""
    with read_scope(engine) as conn:
        content_hash = published_hash(conn, process, version)
        if content_hash is None:
            raise NotFoundError(f"{process}@v{version} is not published in this store")
        return published_flow(conn, process, version, content_hash).version
